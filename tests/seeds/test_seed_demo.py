"""seed_demo: valid identifiers, consistent places, legal wages, accounts, determinism,
--if-empty, the bulk-load path, and the embedded default (SQLite) end to end."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from collections import Counter, defaultdict
from datetime import date, timedelta
from io import StringIO
from pathlib import Path

import numpy as np
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.utils import timezone

from employers.models import Employer, EmployerAccount, Vacancy
from jobmatch.identifiers import (
    age_on,
    parse_mobile,
    parse_resident_id,
    parse_uscc,
)
from jobmatch.models import LegacyCountyCode, Role, Township, User
from jobmatch.selectors import minimum_wage_on
from seeds import demo, names
from workers.models import Household, Laborer, LaborerSkill, StatusEvent

# Every test here touches the database: marked statically so pytest-django runs them
# before the transactional tests that flush it (fixtures asked for by name are invisible).
pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
PreferredDestination = Laborer.preferred_destinations.through


@pytest.fixture(autouse=True)
def _fast_passwords(settings: object) -> None:
    # Five demo accounts with PBKDF2 would take seconds per run; the hash is not under test.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # type: ignore[attr-defined]


def seed(*args: str) -> str:
    out = StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def seeded(db: None) -> str:
    return seed("--laborers", "300", "--vacancies", "20", "--seed", "7")


def digest() -> str:
    """Everything generated except ids and the employers' creation times."""
    h = hashlib.sha256()

    def add(rows: object) -> None:
        for row in rows:  # type: ignore[attr-defined]
            h.update(repr(row).encode())

    add(
        Laborer.objects.order_by("id").values_list(
            "name", "id_number", "gender", "birth_date", "from_outside_baise", "phone",
            "county_id", "township_id", "village", "min_monthly_wage", "available_from",
            "poverty_alleviated", "monitored_household", "employment_difficulty",
            "consent_to_share", "status", "created_at",
        )
    )  # fmt: skip
    add(
        LaborerSkill.objects.order_by("laborer_id", "occupation_id").values_list(
            "laborer__id_number", "occupation_id", "years"
        )
    )
    add(
        PreferredDestination.objects.order_by("laborer_id", "destination_id").values_list(
            "laborer__id_number", "destination_id"
        )
    )
    add(StatusEvent.objects.order_by("id").values_list("laborer__id_number", "to_status", "at"))
    members: dict[int, list[str]] = defaultdict(list)
    for household, number in Laborer.objects.filter(household__isnull=False).values_list(
        "household_id", "id_number"
    ):
        members[household].append(number)
    add(
        sorted(
            (sorted(members[h.pk]), h.keep_together, h.created_at) for h in Household.objects.all()
        )
    )
    add(
        Employer.objects.order_by("id").values_list(
            "name", "uscc", "destination_id", "address", "contact_name", "contact_phone"
        )
    )
    add(
        Vacancy.objects.order_by("id").values_list(
            "employer__uscc", "title", "occupation_id", "openings", "openings_left",
            "wage_min", "wage_max", "destination_id", "age_min", "age_max", "start_date",
            "end_date", "accommodation", "meals", "status",
        )
    )  # fmt: skip
    return h.hexdigest()


def delete_seeded() -> None:
    Vacancy.objects.all().delete()
    Employer.objects.all().delete()
    Laborer.objects.all().delete()
    Household.objects.all().delete()


def test_counts_and_summary(seeded: str) -> None:
    assert Laborer.objects.count() == 300
    assert StatusEvent.objects.filter(from_status="", to_status="registered").count() == 300
    assert Vacancy.objects.count() == 20
    assert Employer.objects.count() == 7  # a third of the vacancies, rounded up
    # 27.22 openings a vacancy: the cooperation's 544,400 over the benchmark's 20,000.
    assert sum(Vacancy.objects.values_list("openings", flat=True)) == 544
    assert "300 laborers" in seeded
    assert "20 vacancies with 544 openings" in seeded
    assert "PostgreSQL COPY" in seeded


def test_demo_rankings_are_stored_as_the_save_hooks_would(seeded: str) -> None:
    from matching.models import Candidate, Suggestion
    from matching.services.suggestions import (
        laborer_suggestions_compute,
        vacancy_candidates_compute,
    )

    def rows() -> tuple[list[tuple], list[tuple]]:
        return (
            sorted(Suggestion.objects.values_list("laborer_id", "vacancy_id", "rank", "score")),
            sorted(Candidate.objects.values_list("vacancy_id", "laborer_id", "rank", "score")),
        )

    suggestions, candidates = rows()
    assert suggestions and candidates
    assert f"Stored {len(suggestions):,} suggestions and {len(candidates):,} candidates" in seeded
    Suggestion.objects.all().delete()
    Candidate.objects.all().delete()
    laborer_suggestions_compute(laborer_ids=list(Laborer.objects.values_list("pk", flat=True)))
    for pk in Vacancy.objects.values_list("pk", flat=True):
        vacancy_candidates_compute(vacancy_id=pk)
    assert rows() == (suggestions, candidates)


def test_demo_has_illustrative_county_targets(seeded: str) -> None:
    from django.db.models import Count
    from django.utils import timezone

    from matching.models import ProgressTarget

    year = timezone.localdate().year
    per_county = dict(Laborer.objects.values_list("county_id").annotate(n=Count("pk")).order_by())
    hired = dict(
        ProgressTarget.objects.filter(year=year, indicator="hired").values_list(
            "county_id", "target"
        )
    )
    assert hired == {county: max(1, round(n * 0.6)) for county, n in per_county.items()}
    assert ProgressTarget.objects.filter(county__isnull=False).count() == 4 * len(per_county)
    assert set(
        ProgressTarget.objects.filter(county__isnull=False).values_list("note", flat=True)
    ) == {"演示数据,示例目标"}
    assert dict(
        ProgressTarget.objects.filter(county__isnull=True).values_list("indicator", "target")
    ) == {
        "rural_labour_out": 1_481_600,
        "urban_new_jobs": 16_000,
        "unemployed_reemployed": 3_500,
        "hard_to_employ_reemployed": 1_500,
    }
    assert f"Stored {4 * len(per_county) + 4} targets for this year." in seeded


def test_rankings_can_be_left_out(db: None) -> None:
    from matching.models import Candidate, Suggestion

    out = seed("--laborers", "50", "--vacancies", "5", "--rankings", "no")
    assert "suggestions" not in out
    assert not Suggestion.objects.exists()
    assert not Candidate.objects.exists()


def test_laborer_identifiers_are_valid_and_unique(seeded: str) -> None:
    today = timezone.localdate()
    laborers = list(Laborer.objects.all())
    assert len({lab.id_number for lab in laborers}) == len(laborers)
    legacy_to = dict(LegacyCountyCode.objects.values_list("code", "valid_to"))
    regions: Counter[str] = Counter()
    for lab in laborers:
        parsed = parse_resident_id(lab.id_number, today=today)
        assert (parsed.gender, parsed.birth_date, parsed.from_outside_baise) == (
            lab.gender,
            lab.birth_date,
            lab.from_outside_baise,
        )
        assert 16 <= age_on(lab.birth_date, today) <= 65
        assert parse_mobile(lab.phone) == lab.phone
        region = lab.id_number[:6]
        regions.update(
            [
                "outside"
                if lab.from_outside_baise
                else "legacy"
                if region in legacy_to
                else "current"
            ]
        )
        if legacy_to.get(region):
            # A legacy code was issued before it went out of use: never to the younger.
            assert lab.birth_date.year <= legacy_to[region]
        if not lab.from_outside_baise and region not in legacy_to:
            assert region == lab.county_id
    assert regions["legacy"] and regions["current"] and regions["outside"]


def test_employer_identifiers_are_valid(seeded: str) -> None:
    for employer in Employer.objects.all():
        assert parse_uscc(employer.uscc) == employer.uscc
        assert employer.uscc.startswith("9144")  # enterprises registered in Guangdong
        assert parse_mobile(employer.contact_phone) == employer.contact_phone
        assert employer.verified
        assert employer.name.endswith("公司")


def test_places_are_consistent(seeded: str) -> None:
    county_of = dict(Township.objects.values_list("code", "county_id"))
    for county, township in Laborer.objects.values_list("county_id", "township_id"):
        assert county_of[township] == county
    households: dict[int, list[Laborer]] = defaultdict(list)
    for lab in Laborer.objects.filter(household__isnull=False):
        households[lab.household_id].append(lab)
    assert households
    assert sorted(households) == sorted(Household.objects.values_list("id", flat=True))
    for members in households.values():
        assert 2 <= len(members) <= 4
        assert len({(m.township_id, m.village) for m in members}) == 1
        # The first two are a couple.
        assert {members[0].gender, members[1].gender} == {"male", "female"}
    share = sum(len(m) for m in households.values()) / Laborer.objects.count()
    assert 0.05 <= share <= 0.15


def test_vacancies_are_legal(seeded: str) -> None:
    today = timezone.localdate()
    for vacancy in Vacancy.objects.select_related("destination"):
        minimum = minimum_wage_on(city=vacancy.destination.city_id, on=vacancy.start_date)
        assert minimum is not None
        assert vacancy.wage_min >= minimum.monthly
        assert vacancy.wage_max >= vacancy.wage_min
        assert 16 <= vacancy.age_min <= vacancy.age_max <= 65
        assert today < vacancy.start_date <= today + timedelta(days=demo.START_DAYS[1])
        assert vacancy.end_date is None or vacancy.end_date >= vacancy.start_date
        assert vacancy.openings_left == vacancy.openings >= 1
        assert vacancy.status == "open"
        assert vacancy.destination_id == vacancy.employer.destination_id


def test_demo_accounts(seeded: str) -> None:
    users = {u.username: u for u in User.objects.all()}
    assert {name: users[name].role for name in demo.DEMO_USERNAMES} == {
        "caseworker": Role.CASEWORKER,
        "employer": Role.EMPLOYER,
        "coordinator": Role.COORDINATOR,
        "supervisor": Role.SUPERVISOR,
        "admin": Role.ADMIN,
    }
    assert all(users[name].check_password(demo.DEMO_PASSWORD) for name in demo.DEMO_USERNAMES)
    assert set(users["caseworker"].counties.values_list("code", flat=True)) == {
        "451002",
        "451081",
    }
    assert users["admin"].is_staff and users["admin"].is_superuser
    link = EmployerAccount.objects.get(user=users["employer"])
    assert link.employer == Employer.objects.order_by("id").first()
    assert link.employer.vacancies.count() >= 2
    assert link.employer.destination_id == names.DEMO_EMPLOYER_PLACE
    for name in demo.DEMO_USERNAMES:
        assert f"{name} " in seeded
    assert demo.DEMO_PASSWORD in seeded


def test_same_seed_same_rows(seeded: str) -> None:
    first = digest()
    delete_seeded()
    seed("--laborers", "300", "--vacancies", "20", "--seed", "7")
    assert digest() == first
    delete_seeded()
    seed("--laborers", "300", "--vacancies", "20", "--seed", "8")
    assert digest() != first


def test_if_empty_does_nothing_the_second_time(seeded: str) -> None:
    before = digest(), Laborer.objects.count(), Vacancy.objects.count(), User.objects.count()
    out = seed("--if-empty", "--laborers", "50")
    assert (digest(), Laborer.objects.count(), Vacancy.objects.count(), User.objects.count()) == (
        before
    )
    assert "nothing seeded" in out
    for name in demo.DEMO_USERNAMES:
        assert f"{name} " in out


def test_if_empty_seeds_an_empty_database(db: None) -> None:
    out = seed("--if-empty", "--laborers", "40", "--vacancies", "3")
    assert Laborer.objects.count() == 40
    assert "40 laborers" in out


def test_too_few_openings_is_refused(db: None) -> None:
    with pytest.raises(CommandError, match="20 vacancies need at least 20 openings"):
        seed("--laborers", "0", "--vacancies", "20", "--openings", "19")
    assert not Employer.objects.exists()


def test_explicit_openings_are_all_allocated(db: None) -> None:
    summary = demo.generate(laborers=0, vacancies=30, openings=1_000, seed=3)
    assert summary.openings == 1_000
    assert sum(Vacancy.objects.values_list("openings", flat=True)) == 1_000


def schema(tables: list[str]) -> list[tuple[str, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid) FROM pg_index "
            "WHERE indrelid::regclass::text = ANY(%s) "
            "UNION ALL SELECT conname, pg_get_constraintdef(oid) || convalidated::text "
            "FROM pg_constraint WHERE conrelid::regclass::text = ANY(%s) ORDER BY 1, 2",
            [tables, tables],
        )
        return cursor.fetchall()


def test_bulk_load_restores_indexes_and_constraints(db: None) -> None:
    tables = [m._meta.db_table for m in (Laborer, LaborerSkill, PreferredDestination, StatusEvent)]
    before = schema(tables)
    assert len(before) > 30
    # Three chunks: ID numbers stay unique across chunks, households within one.
    summary = demo.generate(laborers=250, vacancies=0, seed=5, rebuild_indexes=True, chunk_size=100)
    assert summary.laborers == Laborer.objects.count() == 250
    assert Laborer.objects.values("id_number").distinct().count() == 250
    assert schema(tables) == before
    # The laborers of a bulk load are those of a normal one.
    bulk = digest()
    delete_seeded()
    demo.generate(laborers=250, vacancies=0, seed=5, rebuild_indexes=False, chunk_size=100)
    assert digest() == bulk


def test_second_run_adds_new_id_numbers(db: None) -> None:
    demo.generate(laborers=200, vacancies=3, seed=1)
    demo.generate(laborers=200, vacancies=3, seed=1)  # same draws: every ID is redrawn
    assert Laborer.objects.values("id_number").distinct().count() == 400
    assert Employer.objects.values("uscc").distinct().count() == Employer.objects.count() == 2


def test_fixed_base_date_on_a_leap_day(db: None) -> None:
    today = date(2028, 2, 29)
    demo.generate(laborers=300, vacancies=10, seed=11, today=today)
    for number, birth in Laborer.objects.values_list("id_number", "birth_date"):
        assert parse_resident_id(number, today=today).birth_date == birth
        assert 16 <= age_on(birth, today) <= 65
    assert not Laborer.objects.filter(available_from__lt=today).exists()
    assert not Vacancy.objects.filter(start_date__lte=today).exists()


def test_every_mobile_prefix_is_a_valid_range() -> None:
    for prefix, _ in names.MOBILE_PREFIXES:
        for suffix in ("00000000", "12345678", "99999999"):
            assert parse_mobile(prefix + suffix) == prefix + suffix


def test_allocate_openings_gives_each_at_least_one() -> None:
    weights = np.array([100.0, 1.0, 0.001, 5.0, 5.0])
    openings = demo.allocate_openings(weights, 23)
    assert openings.sum() == 23
    assert openings.min() >= 1
    assert openings[0] == openings.max()
    assert demo.allocate_openings(weights, 5).tolist() == [1, 1, 1, 1, 1]


def test_embedded_default_end_to_end(tmp_path: Path) -> None:
    """`make run`'s set-up on a SQLite file, then the API as the demo accounts."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "CELERY_BROKER_URL", "REDIS_URL", "JOBMATCH_ENV"}
    }
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'demo.sqlite3'}"

    def manage(*args: str) -> str:
        done = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr[-3000:]
        return done.stdout

    manage("migrate", "--noinput", "-v0")
    out = manage("seed_demo", "--laborers", "200", "--vacancies", "10")
    assert "batched INSERT" in out
    assert "200 laborers" in out
    script = """
import json
from rest_framework.test import APIClient
from workers.models import Laborer
result = {}
for username in ("caseworker", "employer"):
    client = APIClient()
    response = client.post(
        "/api/v1/auth/token/", {"username": username, "password": "jobmatch-demo"}, format="json"
    )
    result[username + "_token"] = response.status_code
    client.credentials(HTTP_AUTHORIZATION="Token " + response.json()["token"])
    laborers = client.get("/api/v1/laborers/")
    vacancies = client.get("/api/v1/vacancies/")
    result[username] = [laborers.status_code, vacancies.status_code, vacancies.json()["count"]]
    if laborers.status_code == 200:
        result[username].append(laborers.json()["count"])
result["expected"] = Laborer.objects.filter(county_id__in=["451002", "451081"]).count()
print("RESULT " + json.dumps(result))
"""
    line = next(
        line for line in manage("shell", "-c", script).splitlines() if line.startswith("RESULT ")
    )
    result = json.loads(line.removeprefix("RESULT "))
    assert result["caseworker_token"] == result["employer_token"] == 200
    assert 0 < result["expected"] < 200
    assert result["caseworker"] == [200, 200, 10, result["expected"]]
    # Employers never see laborers and see only their own vacancies (the demo one has some).
    status, vacancies_status, own = result["employer"]
    assert (status, vacancies_status) == (403, 200)
    assert 2 <= own < 10
