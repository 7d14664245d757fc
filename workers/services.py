"""Writes of laborers and households.

Every write checks who is acting (a caseworker writes only laborers of the counties they
answer for), keeps one laborer per resident ID, and records status changes as events.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import ProtectedError
from django.utils.translation import gettext as _

from jobmatch import vocabulary
from jobmatch.api.errors import ApplicationError, Conflict
from jobmatch.api.permissions import county_scope
from jobmatch.identifiers import ResidentId
from jobmatch.models import User
from workers.models import Household, Laborer, LaborerSkill, LaborerStatus, StatusEvent

# Hooks run on commit after laborers are saved, with their ids (matching registers its
# suggestions task); kept as a list so that `workers` does not import `matching`. A sheet
# import calls them once for all its rows.
laborer_saved_hooks: list[Callable[[list[int]], None]] = []

SCALAR_FIELDS = (
    "name",
    "phone",
    "village",
    "min_monthly_wage",
    "available_from",
    "poverty_alleviated",
    "monitored_household",
    "employment_difficulty",
    "consent_to_share",
)


@dataclass(frozen=True)
class LaborerState:
    """The fields of a laborer as they would be saved (the comparison key of imports)."""

    values: dict[str, Any]
    skills: tuple[tuple[str, int], ...]
    preferred: tuple[str, ...]


def laborer_rule_errors(*, actor: User, data: dict[str, Any]) -> dict[str, list[str]]:
    """Rules between fields and the actor's counties, on the merged data to be saved."""
    errors: dict[str, list[str]] = {}
    county, township = data.get("county"), data.get("township")
    scope = county_scope(actor)
    if county and scope is not None and county not in scope:
        errors["county"] = [
            _("County %(county)s is not one of the counties you answer for.") % {"county": county}
        ]
    if county and township and vocabulary.get().townships.get(township) != county:
        errors["township"] = [
            _("Township %(township)s is not in county %(county)s.")
            % {"township": township, "county": county}
        ]
    return errors


def state_of(data: dict[str, Any]) -> LaborerState:
    identity: ResidentId = data["id_number"]
    values = {field: data.get(field) for field in SCALAR_FIELDS}
    values.update(
        {
            "id_number": identity.number,
            "gender": identity.gender,
            "birth_date": identity.birth_date,
            "from_outside_baise": identity.from_outside_baise,
            "county_id": data["county"],
            "township_id": data["township"],
        }
    )
    values["village"] = values["village"] or ""
    skills = tuple(sorted((s["occupation"], s.get("years", 0)) for s in data.get("skills", [])))
    return LaborerState(
        values=values,
        skills=skills,
        preferred=tuple(sorted(data.get("preferred_destinations", []))),
    )


def state_of_laborer(laborer: Laborer) -> LaborerState:
    values = {field: getattr(laborer, field) for field in SCALAR_FIELDS}
    values.update(
        {
            "id_number": laborer.id_number,
            "gender": laborer.gender,
            "birth_date": laborer.birth_date,
            "from_outside_baise": laborer.from_outside_baise,
            "county_id": laborer.county_id,
            "township_id": laborer.township_id,
        }
    )
    skills = tuple(sorted((s.occupation_id, s.years) for s in laborer.skills.all()))
    preferred = tuple(sorted(d.code for d in laborer.preferred_destinations.all()))
    return LaborerState(values=values, skills=skills, preferred=preferred)


def duplicate_error(*, actor: User, existing: Laborer) -> Conflict:
    scope = county_scope(actor)
    if scope is None or existing.county_id in scope:
        return Conflict(
            _("A laborer with this resident ID number is already registered."),
            {"existing_id": existing.pk},
        )
    return Conflict(
        _("A laborer with this resident ID number is already registered by another county office.")
    )


def _enqueue_saved(laborer_id: int) -> None:
    for hook in laborer_saved_hooks:
        transaction.on_commit(lambda hook=hook: hook([laborer_id]))


def _write_relations(laborer: Laborer, state: LaborerState) -> None:
    LaborerSkill.objects.filter(laborer=laborer).delete()
    LaborerSkill.objects.bulk_create(
        [
            LaborerSkill(laborer=laborer, occupation_id=occ, years=years)
            for occ, years in state.skills
        ]
    )
    laborer.preferred_destinations.set(state.preferred)


def laborer_create(*, actor: User, data: dict[str, Any]) -> Laborer:
    errors = laborer_rule_errors(actor=actor, data=data)
    if errors:
        raise ApplicationError(_summary(errors), errors)
    state = state_of(data)
    existing = Laborer.objects.filter(id_number=state.values["id_number"]).first()
    if existing is not None:
        raise duplicate_error(actor=actor, existing=existing)
    try:
        with transaction.atomic():
            laborer = Laborer.objects.create(**state.values, created_by=actor)
            _write_relations(laborer, state)
            StatusEvent.objects.create(
                laborer=laborer, from_status="", to_status=LaborerStatus.REGISTERED, actor=actor
            )
    except IntegrityError:
        # A concurrent registration of the same ID won the race.
        existing = Laborer.objects.filter(id_number=state.values["id_number"]).first()
        if existing is None:
            raise
        raise duplicate_error(actor=actor, existing=existing) from None
    _enqueue_saved(laborer.pk)
    return laborer


def laborer_update(*, actor: User, laborer: Laborer, data: dict[str, Any]) -> Laborer:
    """Apply `data` (a full or partial set of validated fields) to `laborer`."""
    current = state_of_laborer(laborer)
    merged: dict[str, Any] = {field: current.values[field] for field in SCALAR_FIELDS}
    merged.update(
        {
            "county": laborer.county_id,
            "township": laborer.township_id,
            "skills": [{"occupation": o, "years": y} for o, y in current.skills],
            "preferred_destinations": list(current.preferred),
        }
    )
    merged.update(data)
    if "id_number" not in data:
        merged["id_number"] = ResidentId(
            number=laborer.id_number,
            region=laborer.id_number[:6],
            birth_date=laborer.birth_date,
            gender=laborer.gender,
            from_outside_baise=laborer.from_outside_baise,
        )
    errors = laborer_rule_errors(actor=actor, data=merged)
    if errors:
        raise ApplicationError(_summary(errors), errors)
    state = state_of(merged)
    if state == current:
        return laborer
    other = (
        Laborer.objects.filter(id_number=state.values["id_number"]).exclude(pk=laborer.pk).first()
    )
    if other is not None:
        raise duplicate_error(actor=actor, existing=other)
    try:
        with transaction.atomic():
            for field, value in state.values.items():
                setattr(laborer, field, value)
            laborer.save()
            if state.skills != current.skills or state.preferred != current.preferred:
                _write_relations(laborer, state)
    except IntegrityError:
        other = (
            Laborer.objects.filter(id_number=state.values["id_number"])
            .exclude(pk=laborer.pk)
            .first()
        )
        if other is None:
            raise
        raise duplicate_error(actor=actor, existing=other) from None
    _enqueue_saved(laborer.pk)
    return laborer


def laborer_delete(*, actor: User, laborer: Laborer) -> None:
    if laborer.status != LaborerStatus.REGISTERED:
        raise Conflict(
            _("This laborer is %(status)s: only laborers still registered can be deleted.")
            % {"status": laborer.status}
        )
    try:
        with transaction.atomic():
            household = laborer.household
            laborer.delete()
            if household is not None and household.members.count() < 2:
                household.delete()
    except ProtectedError:
        raise Conflict(_("This laborer has matches or seats and cannot be deleted.")) from None


def laborer_set_status(
    *, laborer: Laborer, to_status: str, actor: User | None, note: str = ""
) -> StatusEvent | None:
    """Move a laborer to a new status and record the event (no event if unchanged)."""
    if laborer.status == to_status:
        return None
    event = StatusEvent.objects.create(
        laborer=laborer,
        from_status=laborer.status,
        to_status=to_status,
        actor=actor,
        note=note[:200],
    )
    Laborer.objects.filter(pk=laborer.pk).update(status=to_status)
    laborer.status = to_status
    return event


def _summary(errors: dict[str, list[str]]) -> str:
    return " ".join(f"{field}: {messages[0]}" for field, messages in errors.items())


def _household_members(
    *, actor: User, member_ids: list[int], household: Household | None
) -> list[Laborer]:
    scope = county_scope(actor)
    laborers = {
        lab.pk: lab for lab in Laborer.objects.filter(pk__in=member_ids).select_related("household")
    }
    errors: list[str] = []
    for pk in member_ids:
        lab = laborers.get(pk)
        if lab is None or (scope is not None and lab.county_id not in scope):
            errors.append(
                _("Laborer %(id)s is not one of the laborers of your counties.") % {"id": pk}
            )
        elif lab.household_id is not None and (
            household is None or lab.household_id != household.pk
        ):
            errors.append(
                _("Laborer %(id)s is already in household %(household)s.")
                % {"id": pk, "household": lab.household_id}
            )
    if errors:
        raise ApplicationError(f"members: {errors[0]}", {"members": errors})
    return [laborers[pk] for pk in member_ids]


def _check_household_in_scope(*, actor: User, household: Household) -> None:
    """A caseworker changes a household only if every member is a laborer of their counties:
    removing another county's laborer from it would write a record they may not see."""
    scope = county_scope(actor)
    if scope is not None and household.members.exclude(county_id__in=scope).exists():
        raise ApplicationError(
            _("This household has members in counties you do not answer for."), status=403
        )


def household_create(*, actor: User, member_ids: list[int], keep_together: str) -> Household:
    with transaction.atomic():
        members = _household_members(actor=actor, member_ids=member_ids, household=None)
        household = Household.objects.create(keep_together=keep_together, created_by=actor)
        # The filter on household NULL makes a concurrent assignment lose cleanly.
        updated = Laborer.objects.filter(
            pk__in=[m.pk for m in members], household__isnull=True
        ).update(household=household)
        if updated != len(members):
            raise Conflict(_("A member joined another household at the same time; try again."))
    return household


def household_update(
    *, actor: User, household: Household, member_ids: list[int] | None, keep_together: str | None
) -> Household:
    with transaction.atomic():
        household = Household.objects.select_for_update().get(pk=household.pk)
        _check_household_in_scope(actor=actor, household=household)
        if member_ids is not None:
            members = _household_members(actor=actor, member_ids=member_ids, household=household)
            Laborer.objects.filter(household=household).exclude(pk__in=member_ids).update(
                household=None
            )
            updated = (
                Laborer.objects.filter(pk__in=[m.pk for m in members])
                .filter(household__isnull=True)
                .update(household=household)
            )
            already = sum(1 for m in members if m.household_id == household.pk)
            if updated + already != len(members):
                raise Conflict(_("A member joined another household at the same time; try again."))
        if keep_together is not None:
            household.keep_together = keep_together
        household.save()
    return household


def household_delete(*, actor: User, household: Household) -> None:
    _check_household_in_scope(actor=actor, household=household)
    with transaction.atomic():
        Laborer.objects.filter(household=household).update(household=None)
        household.delete()
