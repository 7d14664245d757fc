"""Interactive suggestions: a laborer's best open vacancies and a vacancy's best laborers,
computed by Celery tasks when either is saved."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from employers.models import Vacancy, VacancyStatus
from matching.core import scoring
from matching.models import Candidate, Suggestion
from matching.services.loading import (
    fitting_occupations,
    load_laborers,
    load_vacancies,
    reason_labels,
    vocabulary_arrays,
    with_exclusions,
)
from matching.services.policy import policy_core, policy_current

SUGGESTIONS_PER_LABORER = 10
CANDIDATES_PER_VACANCY = 50


def laborer_suggestions_compute(*, laborer_ids: list[int]) -> int:
    """Store each laborer's best open vacancies (open vacancies loaded once); returns the
    number of suggestions stored."""
    policy = policy_core(policy_current())
    vocab, axes = vocabulary_arrays()
    labels = reason_labels()
    lab, _ = load_laborers(axes, laborer_ids=laborer_ids, eligible_only=False)
    vac = load_vacancies(axes)
    lab = with_exclusions(lab, vac)
    rows = []
    for i in range(len(lab)):
        ranking = scoring.top_vacancies_for_laborer(
            lab, vac, vocab, policy, n=SUGGESTIONS_PER_LABORER, i=i
        )
        rows += [
            Suggestion(
                laborer_id=int(lab.id[i]),
                vacancy_id=int(vac.id[j]),
                rank=rank,
                score=int(score),
                explanation=scoring.explain(lab, vac, vocab, policy, i, int(j), labels),
            )
            for rank, (j, score) in enumerate(
                zip(ranking.index, ranking.score, strict=True), start=1
            )
        ]
    with transaction.atomic():
        # Laborers deleted since the save have no row in `lab`: their suggestions go too.
        Suggestion.objects.filter(laborer_id__in=laborer_ids).delete()
        Suggestion.objects.bulk_create(rows)
    return len(rows)


def vacancy_candidates_compute(*, vacancy_id: int) -> int:
    """Store the vacancy's best laborers among those a round could place; returns how many."""
    vacancy = Vacancy.objects.filter(pk=vacancy_id).first()
    if vacancy is None:
        return 0
    rows: list[Candidate] = []
    today = timezone.localdate()
    if (
        vacancy.status == VacancyStatus.OPEN
        and vacancy.openings_left > 0
        and vacancy.start_date >= today
    ):
        policy = policy_core(policy_current())
        vocab, axes = vocabulary_arrays()
        labels = reason_labels()
        vac = load_vacancies(axes, vacancy_ids=[vacancy_id], today=today)
        if len(vac):
            # Only laborers with a fitting skill can pass the occupation rule: filter in SQL.
            lab, _ = load_laborers(
                axes,
                skills=fitting_occupations([vacancy.occupation_id]),
                available_by=vacancy.start_date - timedelta(days=1),
            )
            lab = with_exclusions(lab, vac)
            ranking = scoring.top_laborers_for_vacancy(
                lab, vac, vocab, policy, 0, n=CANDIDATES_PER_VACANCY
            )
            rows = [
                Candidate(
                    vacancy_id=vacancy_id,
                    laborer_id=int(lab.id[i]),
                    rank=rank,
                    score=int(score),
                    explanation=scoring.explain(lab, vac, vocab, policy, int(i), 0, labels),
                )
                for rank, (i, score) in enumerate(
                    zip(ranking.index, ranking.score, strict=True), start=1
                )
            ]
    with transaction.atomic():
        Candidate.objects.filter(vacancy_id=vacancy_id).delete()
        Candidate.objects.bulk_create(rows)
    return len(rows)
