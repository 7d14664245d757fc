"""Personal data: masking for those who may not see it, a log row for every full read."""

from __future__ import annotations

from collections.abc import Iterable

from rest_framework.request import Request

from jobmatch.models import AccessLog, User


def log_full_read(
    *, user: User, method: str, endpoint: str, laborer_ids: Iterable[int]
) -> AccessLog | None:
    """Record that `user` was shown full ID numbers or phones of these laborers.

    `endpoint` is a path without query string: searches can carry ID numbers.
    """
    ids = sorted(set(laborer_ids))
    if not ids:
        return None
    return AccessLog.objects.create(
        user=user, method=method, endpoint=endpoint[:200], laborer_ids=ids, laborer_count=len(ids)
    )


def log_request_full_read(request: Request, laborer_ids: Iterable[int]) -> AccessLog | None:
    return log_full_read(
        user=request.user, method=request.method, endpoint=request.path, laborer_ids=laborer_ids
    )
