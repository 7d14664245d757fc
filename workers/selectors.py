"""Reads of laborers and households, always scoped to what the caller may see."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.db.models import Exists, OuterRef, Prefetch, QuerySet

from jobmatch.api.permissions import county_scope, role_of
from jobmatch.models import Destination, Role, User
from workers.models import Household, Laborer, LaborerSkill


def laborer_list(*, user: User, prefetch: bool = True) -> QuerySet[Laborer]:
    """Laborers the account may see: a caseworker only their counties', employers none.

    `prefetch=False` leaves skills and destinations out: a page of the API fetches them as
    plain values with `laborer_relations` (model instances cost most of a list request).
    """
    qs = Laborer.objects.all()
    # Anonymous users (no role) see nothing: the schema generator asks with one.
    if role_of(user) in {None, Role.EMPLOYER}:
        return qs.none()
    scope = county_scope(user) if user.role == Role.CASEWORKER else None
    if scope is not None:
        qs = qs.filter(county_id__in=scope)
    if not prefetch:
        return qs.order_by("id")
    return qs.prefetch_related(
        Prefetch("skills", queryset=LaborerSkill.objects.order_by("occupation_id")),
        Prefetch("preferred_destinations", queryset=Destination.objects.only("code")),
    ).order_by("id")


def laborer_relations(laborer_ids: list[int]) -> dict[int, tuple[list[dict[str, Any]], list[str]]]:
    """Skills and preferred destination codes of these laborers, as plain values."""
    skills: dict[int, list[dict[str, Any]]] = defaultdict(list)
    rows = LaborerSkill.objects.filter(laborer_id__in=laborer_ids).order_by(
        "laborer_id", "occupation_id"
    )
    for laborer_id, occupation, years in rows.values_list("laborer_id", "occupation_id", "years"):
        skills[laborer_id].append({"occupation": occupation, "years": years})
    preferred: dict[int, list[str]] = defaultdict(list)
    through = Laborer.preferred_destinations.through.objects.filter(laborer_id__in=laborer_ids)
    for laborer_id, code in through.order_by("laborer_id", "destination_id").values_list(
        "laborer_id", "destination_id"
    ):
        preferred[laborer_id].append(code)
    return {pk: (skills.get(pk, []), preferred.get(pk, [])) for pk in laborer_ids}


def laborers_with_occupation(qs: QuerySet[Laborer], occupation: str) -> QuerySet[Laborer]:
    return qs.filter(
        Exists(LaborerSkill.objects.filter(laborer=OuterRef("pk"), occupation_id=occupation))
    )


def household_list(*, user: User) -> QuerySet[Household]:
    qs = Household.objects.all()
    if role_of(user) in {None, Role.EMPLOYER}:
        return qs.none()
    if user.role == Role.CASEWORKER:
        scope = county_scope(user) or set()
        qs = qs.filter(
            Exists(Laborer.objects.filter(household=OuterRef("pk"), county_id__in=scope))
        )
    return qs.prefetch_related(
        Prefetch("members", queryset=Laborer.objects.only("id", "household_id"))
    ).order_by("id")
