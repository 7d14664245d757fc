"""Reads of laborers and households, always scoped to what the caller may see."""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Prefetch, QuerySet

from jobmatch.api.permissions import county_scope, role_of
from jobmatch.models import Destination, Role, User
from workers.models import Household, Laborer, LaborerSkill


def laborer_list(*, user: User) -> QuerySet[Laborer]:
    """Laborers the account may see: a caseworker only their counties', employers none."""
    qs = Laborer.objects.all()
    # Anonymous users (no role) see nothing: the schema generator asks with one.
    if role_of(user) in {None, Role.EMPLOYER}:
        return qs.none()
    scope = county_scope(user) if user.role == Role.CASEWORKER else None
    if scope is not None:
        qs = qs.filter(county_id__in=scope)
    return qs.prefetch_related(
        Prefetch("skills", queryset=LaborerSkill.objects.order_by("occupation_id")),
        Prefetch("preferred_destinations", queryset=Destination.objects.only("code")),
    ).order_by("id")


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
