"""Writes of employers and vacancies, with the legal rules a vacancy must meet."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import ProtectedError
from django.utils import timezone
from django.utils.translation import gettext as _

from employers.models import Employer, Vacancy, VacancyStatus
from employers.selectors import employer_id_of
from jobmatch import vocabulary
from jobmatch.api.errors import ApplicationError, Conflict
from jobmatch.models import Destination, Role, User
from jobmatch.selectors import minimum_wage_on

# Run on commit after a vacancy is saved (matching registers its candidates task).
vacancy_saved_hooks: list[Callable[[list[int]], None]] = []

VERIFY_ROLES = {Role.COORDINATOR, Role.ADMIN}


def _raise(errors: dict[str, list[str]]) -> None:
    if errors:
        message = " ".join(f"{field}: {msgs[0]}" for field, msgs in errors.items())
        raise ApplicationError(message, errors)


def _duplicate_uscc(uscc: str, *, actor: User, exclude: int | None = None) -> Conflict | None:
    qs = Employer.objects.filter(uscc=uscc)
    if exclude is not None:
        qs = qs.exclude(pk=exclude)
    existing = qs.values_list("pk", flat=True).first()
    if existing is None:
        return None
    # An employer account sees no other employer, so it is not told the other one's id.
    return Conflict(
        _("An employer with this unified social credit code is already registered."),
        {} if actor.role == Role.EMPLOYER else {"existing_id": existing},
    )


def employer_create(*, actor: User, data: dict[str, Any]) -> Employer:
    conflict = _duplicate_uscc(data["uscc"], actor=actor)
    if conflict:
        raise conflict
    fields = {k: v for k, v in data.items() if k != "destination"}
    fields["destination_id"] = data["destination"]
    try:
        with transaction.atomic():
            return Employer.objects.create(**fields)
    except IntegrityError:
        conflict = _duplicate_uscc(data["uscc"], actor=actor)
        if conflict:
            raise conflict from None
        raise


def employer_update(*, actor: User, employer: Employer, data: dict[str, Any]) -> Employer:
    if (
        "verified" in data
        and data["verified"] != employer.verified
        and actor.role not in VERIFY_ROLES
    ):
        _raise({"verified": [_("Only coordinators and admins may set verified.")]})
    if "uscc" in data:
        conflict = _duplicate_uscc(data["uscc"], actor=actor, exclude=employer.pk)
        if conflict:
            raise conflict
    for field, value in data.items():
        setattr(employer, "destination_id" if field == "destination" else field, value)
    try:
        with transaction.atomic():
            employer.save()
    except IntegrityError:
        conflict = _duplicate_uscc(employer.uscc, actor=actor, exclude=employer.pk)
        if conflict:
            raise conflict from None
        raise
    return employer


def employer_delete(*, actor: User, employer: Employer) -> None:
    try:
        with transaction.atomic():
            employer.delete()
    except ProtectedError:
        raise Conflict(
            _("This employer has vacancies and cannot be deleted; close them instead.")
        ) from None


def vacancy_rule_errors(
    *, merged: dict[str, Any], check_start: bool, check_wage: bool
) -> dict[str, list[str]]:
    """The legal and consistency rules of a vacancy, on the values to be saved."""
    errors: dict[str, list[str]] = {}
    if merged["wage_max"] < merged["wage_min"]:
        errors["wage_max"] = [_("wage_max must be at least wage_min.")]
    if merged["age_max"] < merged["age_min"]:
        errors["age_max"] = [_("age_max must be at least age_min.")]
    start = merged["start_date"]
    if check_start and start < timezone.localdate():
        errors["start_date"] = [_("start_date is in the past.")]
    if merged.get("end_date") is not None and merged["end_date"] < start:
        errors["end_date"] = [_("end_date must not be before start_date.")]
    if check_wage:
        city_code = vocabulary.get().destinations[merged["destination"]]
        minimum = minimum_wage_on(city=city_code, on=start)
        if minimum is not None and merged["wage_min"] < minimum.monthly:
            city = Destination.objects.get(pk=city_code)
            errors.setdefault("wage_min", []).append(
                _(
                    "%(wage)s yuan is below the legal minimum wage of %(city)s on "
                    "%(date)s (%(minimum)s yuan a month)."
                )
                % {
                    "wage": merged["wage_min"],
                    "city": city.name,
                    "date": start.isoformat(),
                    "minimum": minimum.monthly,
                }
            )
    return errors


def _resolve_employer(*, actor: User, requested: int | None, current: int | None) -> int:
    if actor.role == Role.EMPLOYER:
        own = employer_id_of(actor)
        if own is None:
            raise ApplicationError(_("This account is not linked to an employer."), status=403)
        if requested is not None and requested != own:
            _raise({"employer": [_("You may post vacancies only for your own employer.")]})
        return own
    employer_id = requested if requested is not None else current
    if employer_id is None:
        _raise({"employer": [_("This field is required.")]})
    if requested is not None and not Employer.objects.filter(pk=requested).exists():
        _raise({"employer": [_("Unknown employer %(id)s.") % {"id": requested}]})
    return employer_id  # type: ignore[return-value]


def vacancy_create(*, actor: User, data: dict[str, Any]) -> Vacancy:
    employer_id = _resolve_employer(actor=actor, requested=data.get("employer"), current=None)
    merged = dict(data)
    _raise(vacancy_rule_errors(merged=merged, check_start=True, check_wage=True))
    vacancy = Vacancy.objects.create(
        employer_id=employer_id,
        title=data["title"],
        occupation_id=data["occupation"],
        openings=data["openings"],
        openings_left=data["openings"],
        wage_min=data["wage_min"],
        wage_max=data["wage_max"],
        destination_id=data["destination"],
        age_min=data["age_min"],
        age_max=data["age_max"],
        start_date=data["start_date"],
        end_date=data["end_date"],
        accommodation=data["accommodation"],
        meals=data["meals"],
        status=data["status"],
        created_by=actor,
    )
    _enqueue_saved(vacancy.pk)
    return vacancy


def vacancy_update(*, actor: User, vacancy: Vacancy, data: dict[str, Any]) -> Vacancy:
    current = {
        "employer": vacancy.employer_id,
        "title": vacancy.title,
        "occupation": vacancy.occupation_id,
        "openings": vacancy.openings,
        "wage_min": vacancy.wage_min,
        "wage_max": vacancy.wage_max,
        "destination": vacancy.destination_id,
        "age_min": vacancy.age_min,
        "age_max": vacancy.age_max,
        "start_date": vacancy.start_date,
        "end_date": vacancy.end_date,
        "accommodation": vacancy.accommodation,
        "meals": vacancy.meals,
        "status": vacancy.status,
    }
    employer_id = _resolve_employer(
        actor=actor, requested=data.get("employer"), current=vacancy.employer_id
    )
    merged = {**current, **data, "employer": employer_id}
    changed = {k for k in merged if merged[k] != current[k]}
    errors = vacancy_rule_errors(
        merged=merged,
        check_start="start_date" in changed,
        check_wage=bool(changed & {"wage_min", "destination", "start_date"}),
    )
    _raise(errors)
    if not changed:
        return vacancy
    with transaction.atomic():
        # The row lock serialises this with accepting a match, which consumes openings.
        # No key lock: a round may insert proposals naming the vacancy meanwhile.
        locked = Vacancy.objects.select_for_update(no_key=True).get(pk=vacancy.pk)
        taken = locked.openings - locked.openings_left
        if merged["openings"] < taken:
            _raise(
                {
                    "openings": [
                        _("openings cannot be fewer than the %(taken)s already accepted.")
                        % {"taken": taken}
                    ]
                }
            )
        status = merged["status"]
        openings_left = merged["openings"] - taken
        if status == VacancyStatus.FILLED and openings_left > 0:
            status = VacancyStatus.OPEN
        if status == VacancyStatus.OPEN and openings_left == 0:
            status = VacancyStatus.FILLED
        locked.employer_id = employer_id
        locked.title = merged["title"]
        locked.occupation_id = merged["occupation"]
        locked.openings = merged["openings"]
        locked.openings_left = openings_left
        locked.wage_min = merged["wage_min"]
        locked.wage_max = merged["wage_max"]
        locked.destination_id = merged["destination"]
        locked.age_min = merged["age_min"]
        locked.age_max = merged["age_max"]
        locked.start_date = merged["start_date"]
        locked.end_date = merged["end_date"]
        locked.accommodation = merged["accommodation"]
        locked.meals = merged["meals"]
        locked.status = status
        locked.save()
    _enqueue_saved(locked.pk)
    return locked


def vacancy_delete(*, actor: User, vacancy: Vacancy) -> None:
    try:
        with transaction.atomic():
            vacancy.delete()
    except ProtectedError:
        raise Conflict(
            _("This vacancy has matches and cannot be deleted; close it instead.")
        ) from None


def _enqueue_saved(vacancy_id: int) -> None:
    for hook in vacancy_saved_hooks:
        transaction.on_commit(lambda hook=hook: hook([vacancy_id]))
