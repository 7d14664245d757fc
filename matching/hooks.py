"""What matching does when laborers or vacancies are saved (called on commit with ids)."""

from __future__ import annotations

import logging

from kombu.exceptions import OperationalError as KombuOperationalError

logger = logging.getLogger(__name__)

# One task per this many ids: a 10,000-row sheet sends 20 messages, not 10,000.
IDS_PER_TASK = 500


def _chunks(ids: list[int]) -> list[list[int]]:
    unique = sorted(set(ids))
    return [unique[i : i + IDS_PER_TASK] for i in range(0, len(unique), IDS_PER_TASK)]


def on_laborers_saved(laborer_ids: list[int]) -> None:
    from matching.tasks import laborer_suggestions

    for chunk in _chunks(laborer_ids):
        try:
            laborer_suggestions.delay(chunk)
        except (KombuOperationalError, ConnectionError, TimeoutError):
            # Suggestions are a convenience: the save stands; the next save catches up.
            logger.exception("could not queue suggestions for %s laborers", len(chunk))
            return


def on_vacancies_saved(vacancy_ids: list[int]) -> None:
    from matching.tasks import vacancy_candidates

    for chunk in _chunks(vacancy_ids):
        try:
            vacancy_candidates.delay(chunk)
        except (KombuOperationalError, ConnectionError, TimeoutError):
            logger.exception("could not queue candidates for %s vacancies", len(chunk))
            return
