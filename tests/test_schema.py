"""The migrated database holds every constraint and index the models declare."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction

from tests.factories import LaborerFactory, MatchFactory, VacancyFactory

pytestmark = pytest.mark.django_db

PROJECT_APPS = ("jobmatch", "workers", "employers", "matching")


def test_every_declared_constraint_and_index_exists_in_the_database() -> None:
    # Migrations that alter a field can drop an index Django matches by its columns (a
    # partial unique index on the same column included): check the outcome, by name.
    missing = []
    with connection.cursor() as cursor:
        for model in apps.get_models():
            if model._meta.app_label not in PROJECT_APPS or not model._meta.managed:
                continue
            table = model._meta.db_table
            present = set(connection.introspection.get_constraints(cursor, table))
            for item in [*model._meta.constraints, *model._meta.indexes]:
                if item.name not in present:
                    missing.append(f"{table}.{item.name}")
    assert missing == []


def test_the_migrations_match_the_models() -> None:
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)


def test_the_database_refuses_a_second_accepted_match_for_a_laborer() -> None:
    laborer = LaborerFactory()
    MatchFactory(laborer=laborer, vacancy=VacancyFactory(), status="accepted")
    with pytest.raises(IntegrityError), transaction.atomic():
        MatchFactory(laborer=laborer, vacancy=VacancyFactory(), status="accepted")
    assert laborer.matches.filter(status="accepted").count() == 1
