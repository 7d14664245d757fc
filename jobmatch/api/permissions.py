"""Who may do what: role checks and the county scope of an account."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from jobmatch.models import Role, User

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def role_of(user: Any) -> str | None:
    return getattr(user, "role", None) if getattr(user, "is_authenticated", False) else None


def county_scope(user: User) -> set[str] | None:
    """Counties whose laborers the account may see in full; None means every county."""
    if user.role in {Role.SUPERVISOR, Role.ADMIN}:
        return None
    if user.role == Role.CASEWORKER:
        cached = getattr(user, "_county_scope", None)
        if cached is None:
            cached = set(user.counties.values_list("code", flat=True))
            user._county_scope = cached
        return cached
    return set()


def sees_personal_data(user: User, county_code: str) -> bool:
    scope = county_scope(user)
    return scope is None or county_code in scope


class RolePermission(BasePermission):
    """Roles allowed to read (safe methods) and to write (the others)."""

    read_roles: frozenset[str] = frozenset()
    write_roles: frozenset[str] = frozenset()
    message = _("Your role may not do this.")

    def has_permission(self, request: Request, view: Any) -> bool:
        role = role_of(request.user)
        if role is None:
            return False
        allowed = self.read_roles if request.method in READ_METHODS else self.write_roles
        return role in allowed


def roles(read: Iterable[str] = (), write: Iterable[str] = ()) -> type[RolePermission]:
    """A permission class: `permission_classes = [roles(read=ALL, write={Role.CASEWORKER})]`."""
    return type(
        "RolePermission",
        (RolePermission,),
        {"read_roles": frozenset(read), "write_roles": frozenset(write)},
    )


ALL_ROLES = frozenset(Role.values)
STAFF_ROLES = frozenset({Role.CASEWORKER, Role.COORDINATOR, Role.SUPERVISOR, Role.ADMIN})
