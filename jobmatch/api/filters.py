from typing import Any

from rest_framework import filters
from rest_framework.request import Request

from jobmatch.api.permissions import county_scope


class SearchFilter(filters.SearchFilter):
    """Search that never reveals masked digits.

    A view lists its personal-data search fields in `personal_search_fields` (e.g. ID
    number, phone). Callers who see every listed record in full (a caseworker sees only
    their counties' laborers, supervisors and admins see all) may search them; for others
    a prefix search would confirm the hidden digits one request at a time, so they search
    the other fields only.
    """

    def get_search_fields(self, view: Any, request: Request) -> Any:
        fields = super().get_search_fields(view, request)
        personal = set(getattr(view, "personal_search_fields", ()))
        if not personal or not fields:
            return fields
        user = request.user
        sees_all_listed = getattr(user, "role", None) == "caseworker" or county_scope(user) is None
        if sees_all_listed:
            return fields
        return [f for f in fields if f not in personal]
