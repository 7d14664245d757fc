"""Reads of matching data, scoped to what the caller may see."""

from __future__ import annotations

from django.db.models import QuerySet

from employers.selectors import employer_id_of
from jobmatch.api.permissions import county_scope, role_of
from jobmatch.models import Role, User
from matching.models import Match, MatchingRun


def match_list(*, user: User) -> QuerySet[Match]:
    qs = Match.objects.select_related("laborer", "vacancy").prefetch_related("laborer__skills")
    if role_of(user) is None:  # the schema generator asks as an anonymous user
        return qs.none()
    if user.role == Role.EMPLOYER:
        qs = qs.filter(vacancy__employer_id=employer_id_of(user) or 0)
    elif user.role == Role.CASEWORKER:
        qs = qs.filter(laborer__county_id__in=county_scope(user) or set())
    return qs.order_by("id")


def run_list() -> QuerySet[MatchingRun]:
    return MatchingRun.objects.select_related("policy").order_by("-id")
