"""The matching policy: score weights that supervisors edit, one version per edit."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from jobmatch.api.errors import ApplicationError
from jobmatch.models import User
from matching.core.types import Policy, PolicyError
from matching.models import MatchingPolicy

# The core's policy rules (`PolicyError.rule`) in the user's language; the English is the
# core's own message.
_RULES = {
    "integer": gettext_lazy("weight %(name)s must be an integer"),
    "negative": gettext_lazy("weight %(name)s must be >= 0"),
    "sum": gettext_lazy("weights must sum to 100, got %(total)s"),
    "unit": gettext_lazy("%(name)s must be within [0, 1]"),
    "years_full": gettext_lazy("years_full must be >= 1"),
    "wage_margin": gettext_lazy("wage_margin must be > 0"),
    "start_days": gettext_lazy("need 0 <= start_full_days < start_zero_days"),
    "k": gettext_lazy("k must be >= 1"),
    "unknown": gettext_lazy("unknown policy keys: %(keys)s"),
}


def _policy_message(exc: PolicyError) -> str:
    rule = _RULES.get(exc.rule)
    return str(exc) if rule is None else str(rule) % exc.values


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
    except PolicyError as exc:
        message = _policy_message(exc)
        raise ApplicationError(f"weights: {message}", {"weights": [message]}) from None
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
