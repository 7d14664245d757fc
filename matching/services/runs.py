"""Starting a matching round: one at a time, executed by a Celery task."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from jobmatch.api.errors import Conflict
from jobmatch.models import User
from matching.models import MatchingRun
from matching.services.jobs import enqueue_on_commit
from matching.services.policy import policy_current


def run_create(*, actor: User, counties: list[str], occupations: list[str]) -> MatchingRun:
    """Queue a round (409 while another one is queued or running)."""
    from matching.tasks import run_round  # tasks import services: import the task lazily

    policy = policy_current()
    try:
        with transaction.atomic():
            run = MatchingRun.objects.create(
                counties=counties, occupations=occupations, policy=policy, requested_by=actor
            )
    except IntegrityError:
        active = MatchingRun.objects.filter(active=True).values_list("pk", flat=True).first()
        raise Conflict(
            _("A matching round is already queued or running."), {"active_run": active}
        ) from None
    enqueue_on_commit(MatchingRun, run.pk, run_round)
    return run
