"""Shared life of the long jobs (matching rounds, transfer plans): queued -> running ->
done | failed, one active at a time (a partial unique index on `active`), claimed with a
conditional UPDATE so that a re-delivered task neither runs a finished job again nor
loops for ever."""

from __future__ import annotations

import logging
from typing import Any, TypeVar

from django.db import models, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from kombu.exceptions import OperationalError as KombuOperationalError

logger = logging.getLogger(__name__)

MAX_DELIVERIES = 3
Job = TypeVar("Job", bound=models.Model)


def enqueue_on_commit(model: type[models.Model], pk: int, task: Any) -> None:
    def send() -> None:
        try:
            task.delay(pk)
        except (KombuOperationalError, ConnectionError, TimeoutError) as exc:
            # The broker is unreachable: say so on the job and free the one-job slot.
            logger.exception("could not queue %s %s", model.__name__, pk)
            job_fail(model, pk, _("Could not queue the job: %(error)s") % {"error": exc})

    transaction.on_commit(send)


def job_claim(model: type[Job], pk: int) -> Job | None:
    """Mark the job running and return it, or None if it is finished or gave up."""
    claimed = model.objects.filter(pk=pk, status__in=["queued", "running"]).update(
        status="running", started_at=timezone.now(), deliveries=F("deliveries") + 1, error=""
    )
    if not claimed:
        return None
    job = model.objects.get(pk=pk)
    if job.deliveries > MAX_DELIVERIES:  # type: ignore[attr-defined]
        job_fail(
            model,
            pk,
            _("Gave up after %(count)s deliveries (the worker was lost each time).")
            % {"count": MAX_DELIVERIES},
        )
        return None
    return job


def job_progress(model: type[models.Model], pk: int, progress: float) -> None:
    model.objects.filter(pk=pk, status="running").update(
        progress=round(max(0.0, min(1.0, progress)), 4)
    )


def job_done(model: type[models.Model], pk: int, **fields: Any) -> None:
    model.objects.filter(pk=pk).update(
        status="done", active=False, finished_at=timezone.now(), **fields
    )


def job_fail(model: type[models.Model], pk: int, error: str) -> None:
    model.objects.filter(pk=pk).exclude(status="done").update(
        status="failed", active=False, error=error[:4000], finished_at=timezone.now()
    )
