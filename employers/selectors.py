from __future__ import annotations

from django.db.models import QuerySet

from employers.models import Employer, EmployerAccount, Vacancy
from jobmatch.api.permissions import role_of
from jobmatch.models import Role, User


def employer_id_of(user: User) -> int | None:
    """The employer an account of role `employer` acts for (None if not linked)."""
    if user.role != Role.EMPLOYER:
        return None
    cached = getattr(user, "_employer_id", "unset")
    if cached == "unset":
        cached = (
            EmployerAccount.objects.filter(user=user).values_list("employer_id", flat=True).first()
        )
        user._employer_id = cached
    return cached


def employer_list(*, user: User) -> QuerySet[Employer]:
    qs = Employer.objects.order_by("id")
    # Anonymous users (no role) see nothing: the schema generator asks with one.
    if role_of(user) is None:
        return qs.none()
    if user.role == Role.EMPLOYER:
        return qs.filter(pk=employer_id_of(user) or 0)
    return qs


def vacancy_list(*, user: User) -> QuerySet[Vacancy]:
    qs = Vacancy.objects.order_by("id")
    if role_of(user) is None:
        return qs.none()
    if user.role == Role.EMPLOYER:
        return qs.filter(employer_id=employer_id_of(user) or 0)
    return qs
