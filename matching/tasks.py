"""Celery tasks: thin wrappers taking ids, each calling one service.

Rounds and plans are idempotent (claimed with a conditional UPDATE, deterministic, written
in one transaction), so they run with acks_late and reject_on_worker_lost: a Celery worker
lost mid-round hands the round to another one; `job_claim` caps the deliveries.
"""

from __future__ import annotations

from typing import Any

from celery import Task, shared_task
from django.db import OperationalError as DatabaseOperationalError

from matching.models import MatchingRun, TransferPlan
from matching.services.jobs import job_fail


class JobTask(Task):
    """Marks the job failed, with the reason, when the task fails for good."""

    job_model: Any = None

    def on_failure(
        self, exc: BaseException, task_id: str, args: Any, kwargs: Any, einfo: Any
    ) -> None:
        if self.job_model is not None and args:
            job_fail(self.job_model, int(args[0]), f"{type(exc).__name__}: {exc}")


@shared_task(
    name="matching.run_round",
    base=JobTask,
    job_model=MatchingRun,
    acks_late=True,
    reject_on_worker_lost=True,
    ignore_result=True,
)
def run_round(run_id: int) -> None:
    from matching.services.rounds import round_execute

    round_execute(run_id=run_id)


@shared_task(
    name="matching.score_block",
    acks_late=True,
    reject_on_worker_lost=True,
    ignore_result=False,  # the chord collects the blocks' results
)
def score_block(run_id: int, occupations: list[int]) -> str:
    from matching.services.rounds import round_score_block

    return round_score_block(run_id=run_id, occupations=occupations)


@shared_task(
    name="matching.finish_round",
    base=JobTask,
    job_model=MatchingRun,
    acks_late=True,
    reject_on_worker_lost=True,
    ignore_result=True,
)
def finish_round(candidate_paths: list[str], run_id: int) -> None:
    from matching.services.rounds import round_finish

    round_finish(run_id=run_id, candidate_paths=candidate_paths)


@shared_task(
    name="matching.plan_transfers",
    base=JobTask,
    job_model=TransferPlan,
    acks_late=True,
    reject_on_worker_lost=True,
    ignore_result=True,
)
def plan_transfers(plan_id: int) -> None:
    from matching.services.transfers import plan_execute

    plan_execute(plan_id=plan_id)


@shared_task(
    name="matching.laborer_suggestions",
    autoretry_for=(DatabaseOperationalError,),
    retry_backoff=2,
    max_retries=3,
    ignore_result=True,
)
def laborer_suggestions(laborer_ids: list[int]) -> int:
    from matching.services.suggestions import laborer_suggestions_compute

    return laborer_suggestions_compute(laborer_ids=laborer_ids)


@shared_task(
    name="matching.vacancy_candidates",
    autoretry_for=(DatabaseOperationalError,),
    retry_backoff=2,
    max_retries=3,
    ignore_result=True,
)
def vacancy_candidates(vacancy_ids: list[int]) -> int:
    from matching.services.suggestions import vacancy_candidates_compute

    return sum(vacancy_candidates_compute(vacancy_id=vacancy_id) for vacancy_id in vacancy_ids)
