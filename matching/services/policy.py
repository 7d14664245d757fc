"""The matching policy: score weights that supervisors edit, one version per edit."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils.translation import gettext as _

from jobmatch.api.errors import ApplicationError
from jobmatch.models import User
from matching.core.types import Policy
from matching.models import MatchingPolicy


def policy_current() -> MatchingPolicy:
    """The newest version; the first call creates version 1 from the core's defaults."""
    current = MatchingPolicy.objects.order_by("-version").first()
    if current is not None:
        return current
    try:
        with transaction.atomic():
            return MatchingPolicy.objects.create(
                version=1, weights=Policy().to_dict(), note="defaults"
            )
    except IntegrityError:  # created concurrently
        return MatchingPolicy.objects.get(version=1)


def policy_core(policy: MatchingPolicy) -> Policy:
    return Policy.from_dict(policy.weights)


def policy_update(*, actor: User, weights: dict[str, Any], note: str = "") -> MatchingPolicy:
    """Save a new version; values not given keep those of the current version."""
    current = policy_current()
    merged = {**current.weights, **weights}
    try:
        policy = Policy.from_dict(merged)
    except (TypeError, ValueError) as exc:
        raise ApplicationError(f"weights: {exc}", {"weights": [str(exc)]}) from None
    for _attempt in range(3):
        version = (MatchingPolicy.objects.aggregate(v=Max("version"))["v"] or 0) + 1
        try:
            with transaction.atomic():
                return MatchingPolicy.objects.create(
                    version=version, weights=policy.to_dict(), note=note, created_by=actor
                )
        except IntegrityError:
            continue
    raise ApplicationError(_("The policy was edited at the same time; try again."), status=409)
