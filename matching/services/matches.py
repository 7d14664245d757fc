"""The life of a match: offer, reject (employer); accept, decline (the laborer, through
their caseworker). Accepting consumes an opening under row locks.

Lock order, everywhere a transition takes more than one lock: laborer, then vacancy, then
matches. With one order no two transactions can wait on each other in a cycle.

Laborers and vacancies are locked `FOR NO KEY UPDATE` (`no_key=True`): their keys never
change, and a lock that does not conflict with the key-share locks of foreign-key checks
lets a matching round insert proposals naming them meanwhile (its write holds those
locks for up to a minute at Baise scale, `rounds.EarlyWrite`). A row lock waits at most
LOCK_WAIT_MS (`atomic_waiting_briefly`); the round's write also holds the proposals it
replaces, so an offer of such a proposal answers 409 at once instead of hanging.
"""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext as _

from employers.models import Vacancy, VacancyStatus
from employers.selectors import employer_id_of
from jobmatch.api.errors import ApplicationError, Conflict
from jobmatch.api.permissions import county_scope
from jobmatch.locks import atomic_waiting_briefly
from jobmatch.models import Role, User
from matching.models import OPEN_MATCH_STATUSES, Match, MatchEvent, MatchStatus
from workers.models import Laborer, LaborerStatus
from workers.services import laborer_set_status

# How long a transition waits for a row lock before answering 409 (milliseconds).
LOCK_WAIT_MS = 3000


def _busy_proposal() -> str:
    return _("A matching round is replacing this proposal; try again once it is done.")


def _busy() -> str:
    return _("Another change to this match, its laborer or its vacancy is in progress; try again.")


def _gone() -> ApplicationError:
    return ApplicationError(
        _("This match no longer exists (a newer matching round may have replaced it)."), status=404
    )


def _lock_match(pk: int) -> Match:
    locked = Match.objects.select_for_update().filter(pk=pk).first()
    if locked is None:  # deleted while this request waited for it
        raise _gone()
    return locked


def _event(match: Match, to_status: str, actor: User | None, note: str = "") -> MatchEvent:
    event = MatchEvent.objects.create(
        match=match, from_status=match.status, to_status=to_status, actor=actor, note=note[:200]
    )
    match.status = to_status
    match.save(update_fields=["status", "updated_at"])
    return event


def _close_many(matches: list[Match], to_status: str, actor: User | None, note: str) -> None:
    for other in matches:
        _event(other, to_status, actor, note)


def _require_employer_of(actor: User, match: Match) -> None:
    if actor.role != Role.EMPLOYER or employer_id_of(actor) != match.vacancy.employer_id:
        raise ApplicationError(_("Only the vacancy's employer may do this."), status=403)


def _require_caseworker_of(actor: User, match: Match) -> None:
    scope = county_scope(actor)
    if actor.role != Role.CASEWORKER or scope is None or match.laborer.county_id not in scope:
        raise ApplicationError(_("Only the laborer's caseworker may do this."), status=403)


def match_offer(*, actor: User, match: Match) -> Match:
    _require_employer_of(actor, match)
    with atomic_waiting_briefly(LOCK_WAIT_MS, _busy_proposal()):
        locked = _lock_match(match.pk)
        if locked.status != MatchStatus.PROPOSED:
            raise Conflict(
                _("Only a proposed match can be offered; this one is %(status)s.")
                % {"status": locked.status}
            )
        vacancy = Vacancy.objects.get(pk=locked.vacancy_id)
        if vacancy.status != VacancyStatus.OPEN or vacancy.openings_left <= 0:
            raise Conflict(_("The vacancy is full or closed."))
        _event(locked, MatchStatus.OFFERED, actor)
    return locked


def match_reject(*, actor: User, match: Match) -> Match:
    _require_employer_of(actor, match)
    with atomic_waiting_briefly(LOCK_WAIT_MS, _busy_proposal()):
        locked = _lock_match(match.pk)
        if locked.status not in OPEN_MATCH_STATUSES:
            raise Conflict(
                _("Only a proposed or offered match can be rejected; this one is %(status)s.")
                % {"status": locked.status}
            )
        _event(locked, MatchStatus.REJECTED, actor)
    return locked


def match_decline(*, actor: User, match: Match) -> Match:
    _require_caseworker_of(actor, match)
    with atomic_waiting_briefly(LOCK_WAIT_MS, _busy_proposal()):
        locked = _lock_match(match.pk)
        if locked.status not in OPEN_MATCH_STATUSES:
            raise Conflict(
                _("Only a proposed or offered match can be declined; this one is %(status)s.")
                % {"status": locked.status}
            )
        _event(locked, MatchStatus.DECLINED, actor)
    return locked


def match_accept(*, actor: User, match: Match) -> Match:
    """The laborer takes the offered job: one opening is consumed, never more than there are.

    Declines the laborer's other open matches, sets the laborer `matched`, and marks the
    vacancy `filled` (withdrawing its other open matches) when no opening is left.
    """
    _require_caseworker_of(actor, match)
    with atomic_waiting_briefly(LOCK_WAIT_MS, _busy()):
        laborer = Laborer.objects.select_for_update(no_key=True).filter(pk=match.laborer_id).first()
        vacancy = Vacancy.objects.select_for_update(no_key=True).filter(pk=match.vacancy_id).first()
        if laborer is None or vacancy is None:
            raise _gone()
        locked = _lock_match(match.pk)
        if locked.status != MatchStatus.OFFERED:
            raise Conflict(
                _("Only an offered match can be accepted; this one is %(status)s.")
                % {"status": locked.status}
            )
        if Match.objects.filter(laborer=laborer, status=MatchStatus.ACCEPTED).exists():
            raise Conflict(_("This laborer has already accepted another job."))
        if vacancy.status != VacancyStatus.OPEN or vacancy.openings_left <= 0:
            raise Conflict(_("The vacancy is full."))
        vacancy.openings_left -= 1
        if vacancy.openings_left == 0:
            vacancy.status = VacancyStatus.FILLED
        vacancy.save(update_fields=["openings_left", "status", "updated_at"])
        _event(locked, MatchStatus.ACCEPTED, actor)
        laborer_set_status(
            laborer=laborer, to_status=LaborerStatus.MATCHED, actor=actor, note=f"match {locked.pk}"
        )
        others = list(
            Match.objects.select_for_update()
            .filter(laborer=laborer, status__in=OPEN_MATCH_STATUSES)
            .exclude(pk=locked.pk)
            .order_by("id")
        )
        _close_many(others, MatchStatus.DECLINED, actor, f"accepted match {locked.pk}")
        if vacancy.status == VacancyStatus.FILLED:
            full = list(
                Match.objects.select_for_update()
                .filter(vacancy=vacancy, status__in=OPEN_MATCH_STATUSES)
                .order_by("id")
            )
            _close_many(full, MatchStatus.WITHDRAWN, None, "vacancy filled")
    return locked


def match_confirm_employed(*, actor: User, match: Match) -> Match:
    """The employer confirms an accepted laborer started work."""
    _require_employer_of(actor, match)
    with atomic_waiting_briefly(LOCK_WAIT_MS, _busy()):
        laborer = Laborer.objects.select_for_update(no_key=True).filter(pk=match.laborer_id).first()
        if laborer is None:
            raise _gone()
        locked = _lock_match(match.pk)
        if locked.status != MatchStatus.ACCEPTED:
            raise Conflict(
                _("Only an accepted match can be confirmed; this one is %(status)s.")
                % {"status": locked.status}
            )
        if locked.employed_at is not None:
            return locked
        if laborer.status not in {LaborerStatus.MATCHED, LaborerStatus.ARRIVED}:
            raise Conflict(
                _(
                    "The laborer is %(status)s: confirm work after arrival (or for a laborer "
                    "who travelled on their own)."
                )
                % {"status": laborer.status}
            )
        locked.employed_at = timezone.now()
        locked.save(update_fields=["employed_at", "updated_at"])
        MatchEvent.objects.create(
            match=locked,
            from_status=locked.status,
            to_status=locked.status,
            actor=actor,
            note="employed",
        )
        laborer_set_status(
            laborer=laborer,
            to_status=LaborerStatus.EMPLOYED,
            actor=actor,
            note=f"match {locked.pk}",
        )
    return locked
