"""Accounts: create or update an account with its role and what it answers for."""

from __future__ import annotations

from collections.abc import Sequence

from django.apps import apps
from django.db import transaction
from django.utils.translation import gettext as _

from jobmatch.api.errors import ApplicationError
from jobmatch.models import County, Role, User


def account_upsert(
    *,
    username: str,
    role: str,
    password: str | None,
    counties: Sequence[str] = (),
    employer_uscc: str | None = None,
) -> tuple[User, bool]:
    """Create or update an account; returns (user, created).

    A caseworker answers for at least one county; an employer account acts for exactly one
    employer (looked up by credit code). Admins get the Django admin site.
    """
    if role not in Role.values:
        raise ApplicationError(
            _("Unknown role %(role)r: use one of %(roles)s.")
            % {"role": role, "roles": ", ".join(Role.values)}
        )
    if role == Role.CASEWORKER and not counties:
        raise ApplicationError(_("A caseworker answers for at least one county."))
    if role != Role.CASEWORKER and counties:
        raise ApplicationError(_("Only caseworkers answer for counties."))
    if role == Role.EMPLOYER and not employer_uscc:
        raise ApplicationError(
            _("An employer account belongs to an employer: give its credit code.")
        )
    if role != Role.EMPLOYER and employer_uscc:
        raise ApplicationError(_("Only employer accounts belong to an employer."))
    known = set(County.objects.filter(code__in=counties).values_list("code", flat=True))
    unknown = [c for c in counties if c not in known]
    if unknown:
        raise ApplicationError(_("Unknown county code %(code)r.") % {"code": unknown[0]})
    # `employers` depends on `jobmatch`, never the reverse: look the models up by name.
    Employer = apps.get_model("employers", "Employer")
    EmployerAccount = apps.get_model("employers", "EmployerAccount")
    employer = None
    if employer_uscc:
        employer = Employer.objects.filter(uscc=employer_uscc.strip().upper()).first()
        if employer is None:
            raise ApplicationError(
                _("No employer has the credit code %(uscc)r.") % {"uscc": employer_uscc}
            )
    with transaction.atomic():
        user, created = User.objects.get_or_create(username=username)
        if created and not password:
            raise ApplicationError(_("A new account needs a password."))
        user.role = role
        user.is_staff = role == Role.ADMIN
        user.is_superuser = role == Role.ADMIN
        if password:
            user.set_password(password)
        user.save()
        user.counties.set(counties)
        EmployerAccount.objects.filter(user=user).delete()
        if employer is not None:
            EmployerAccount.objects.create(user=user, employer=employer)
    return user, created
