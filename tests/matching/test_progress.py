"""Progress against the year's targets: counting, scope by role, targets, validation."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine

from jobmatch.models import Role
from matching.models import CountyReport, ProgressTarget
from tests.factories import LaborerFactory, UserFactory
from workers.models import StatusEvent

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
TODAY = datetime(2026, 6, 30, 12, 0, tzinfo=SHANGHAI)
INDICATORS = [
    ("registered", "登记返乡劳动力"),
    ("hired", "录用(接受岗位)"),
    ("transferred", "点对点输送"),
    ("employed", "到岗就业"),
    ("poverty_alleviated_hired", "脱贫劳动力录用"),
    ("hard_to_employ_hired", "就业困难人员录用"),
    ("rural_labour_out", "农村劳动力转移就业(外出务工)"),
    ("urban_new_jobs", "城镇新增就业"),
    ("unemployed_reemployed", "失业人员再就业"),
    ("hard_to_employ_reemployed", "就业困难人员再就业"),
]
WEEK = [f"2026-06-{d:02d}" for d in range(24, 31)]
COUNTY_NAMES = {
    "451002": "右江区",
    "451003": "田阳区",
    "451022": "田东县",
    "451024": "德保县",
    "451026": "那坡县",
    "451027": "凌云县",
    "451028": "乐业县",
    "451029": "田林县",
    "451030": "西林县",
    "451031": "隆林各族自治县",
    "451081": "靖西市",
    "451082": "平果市",
}


@pytest.fixture(autouse=True)
def _today() -> Any:
    with time_machine.travel(TODAY, tick=False):
        yield


def event(laborer: Any, from_status: str, to_status: str, at: datetime) -> None:
    row = StatusEvent.objects.create(laborer=laborer, from_status=from_status, to_status=to_status)
    StatusEvent.objects.filter(pk=row.pk).update(at=at)  # auto_now_add: set it afterwards


def local(month: int, day: int, hour: int = 9, minute: int = 0, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


@pytest.fixture
def history() -> None:
    """Two counties' laborers with their steps at known local times."""
    jingxi = [LaborerFactory() for _ in range(3)]  # 451081
    youjiang = LaborerFactory(county_id="451002", township_id="451002001", poverty_alleviated=True)
    for laborer in [*jingxi, youjiang]:
        event(laborer, "", "registered", local(3, 1))
    event(LaborerFactory(), "", "registered", local(12, 30, year=2025))  # last year
    # Hired, hired again after a withdrawal (counts once), departed late on the 30th.
    event(jingxi[0], "registered", "matched", local(6, 24))
    event(jingxi[0], "matched", "registered", local(6, 25))
    event(jingxi[0], "registered", "matched", local(6, 26))
    event(jingxi[0], "matched", "departed", local(6, 30, 23, 30))
    event(jingxi[1], "registered", "matched", local(7, 1, 0, 30))  # after the date
    event(youjiang, "registered", "matched", local(6, 30, 0, 10))
    event(youjiang, "matched", "departed", local(5, 2))
    event(youjiang, "departed", "employed", local(5, 4))


def figures(**changes: dict[str, Any]) -> dict[str, dict[str, Any]]:
    empty = {"done": 0, "target": None, "share": None}
    return {key: {**empty, **changes.get(key, {})} for key, _ in INDICATORS}


def county_rows(rows: dict[str, dict[str, Any]], codes: list[str]) -> list[dict[str, Any]]:
    return [
        {"county": code, "name": COUNTY_NAMES[code], "indicators": rows.get(code, figures())}
        for code in codes
    ]


def week(**counts: int) -> list[dict[str, Any]]:
    return [{"date": day, "count": counts.get(f"d{day[-2:]}", 0)} for day in WEEK]


def indicator(key: str, **fields: Any) -> dict[str, Any]:
    base = {
        "key": key,
        "name": dict(INDICATORS)[key],
        "done": 0,
        "target": None,
        "share": None,
        "on_track": None,
        "on_date": 0,
        "last_7_days": week(),
    }
    return {**base, **fields}


def test_supervisor_sees_every_county_against_targets(client_for, history) -> None:
    supervisor = UserFactory(role=Role.SUPERVISOR)
    ProgressTarget.objects.create(year=2026, indicator="hired", county=None, target=4)
    ProgressTarget.objects.create(year=2026, indicator="hired", county_id="451081", target=2)
    ProgressTarget.objects.create(year=2026, indicator="transferred", county_id="451081", target=4)
    ProgressTarget.objects.create(year=2026, indicator="transferred", county_id="451002", target=4)
    ProgressTarget.objects.create(year=2025, indicator="registered", county=None, target=9)
    ProgressTarget.objects.create(year=2026, indicator="rural_labour_out", target=1000)
    for day, count in [(date(2026, 5, 1), 100), (date(2026, 6, 24), 50), (date(2026, 6, 30), 30)]:
        CountyReport.objects.create(
            county_id="451081", date=day, indicator="rural_labour_out", count=count
        )
    CountyReport.objects.create(
        county_id="451081", date=date(2026, 1, 5), indicator="urban_new_jobs", count=2
    )
    CountyReport.objects.create(  # last year
        county_id="451081", date=date(2025, 12, 31), indicator="urban_new_jobs", count=9
    )

    response = client_for(supervisor).get("/api/v1/progress/")

    assert response.status_code == 200
    elapsed = round(181 / 365, 4)  # 1 January to 30 June, inclusive
    assert response.json() == {
        "date": "2026-06-30",
        "year": 2026,
        "year_elapsed": elapsed,
        "counties": None,
        "indicators": [
            indicator("registered", done=4),
            indicator(
                "hired",
                done=2,
                target=4,  # the Baise-wide row, not the sum of counties
                share=0.5,
                on_track=True,
                on_date=1,
                last_7_days=week(d24=1, d26=1, d30=1),
            ),
            indicator(
                "transferred",
                done=2,
                target=8,  # no Baise-wide row: the counties' sum
                share=0.25,
                on_track=False,
                on_date=1,
                last_7_days=week(d30=1),
            ),
            indicator("employed", done=1),
            indicator("poverty_alleviated_hired", done=1, on_date=1, last_7_days=week(d30=1)),
            indicator("hard_to_employ_hired"),
            indicator(
                "rural_labour_out",
                done=180,
                target=1000,
                share=0.18,
                on_track=False,
                on_date=30,
                last_7_days=week(d24=50, d30=30),
            ),
            indicator("urban_new_jobs", done=2),
            indicator("unemployed_reemployed"),
            indicator("hard_to_employ_reemployed"),
        ],
        "by_county": county_rows(
            {
                "451002": figures(
                    registered={"done": 1},
                    hired={"done": 1},
                    transferred={"done": 1, "target": 4, "share": 0.25},
                    employed={"done": 1},
                    poverty_alleviated_hired={"done": 1},
                ),
                "451081": figures(
                    registered={"done": 3},
                    hired={"done": 1, "target": 2, "share": 0.5},
                    transferred={"done": 1, "target": 4, "share": 0.25},
                    rural_labour_out={"done": 180},
                    urban_new_jobs={"done": 2},
                ),
            },
            sorted(COUNTY_NAMES),
        ),
    }


def test_report_on_an_earlier_date(client_for, history) -> None:
    coordinator = UserFactory(role=Role.COORDINATOR)
    response = client_for(coordinator).get("/api/v1/progress/?date=2026-06-25&county=451081")
    assert response.status_code == 200
    body = response.json()
    assert body["counties"] == ["451081"]
    assert [(i["key"], i["done"], i["on_date"]) for i in body["indicators"]] == [
        ("registered", 3, 0),
        ("hired", 1, 0),
        ("transferred", 0, 0),
        ("employed", 0, 0),
        ("poverty_alleviated_hired", 0, 0),
        ("hard_to_employ_hired", 0, 0),
        ("rural_labour_out", 0, 0),
        ("urban_new_jobs", 0, 0),
        ("unemployed_reemployed", 0, 0),
        ("hard_to_employ_reemployed", 0, 0),
    ]
    assert body["indicators"][1]["last_7_days"][0] == {"date": "2026-06-19", "count": 0}
    assert body["indicators"][1]["last_7_days"][5] == {"date": "2026-06-24", "count": 1}
    assert [row["county"] for row in body["by_county"]] == ["451081"]


def test_the_week_does_not_reach_into_last_year(client_for) -> None:
    with time_machine.travel(datetime(2026, 1, 2, 9, tzinfo=SHANGHAI), tick=False):
        response = client_for(UserFactory(role=Role.SUPERVISOR)).get("/api/v1/progress/")
    assert response.status_code == 200
    assert response.json()["indicators"][0]["last_7_days"] == [
        {"date": "2026-01-01", "count": 0},
        {"date": "2026-01-02", "count": 0},
    ]


def test_caseworker_follows_only_their_counties(client_for, caseworker, history) -> None:
    client = client_for(caseworker)  # answers for 451081
    body = client.get("/api/v1/progress/").json()
    assert body["counties"] == ["451081"]
    assert [row["county"] for row in body["by_county"]] == ["451081"]
    assert body["indicators"][0]["done"] == 3

    response = client.get("/api/v1/progress/?county=451002")
    assert response.status_code == 403
    assert response.json() == {
        "message": "You may follow only the progress of your own counties.",
        "extra": {},
    }


@pytest.mark.parametrize(("role", "status"), [("employer", 403), (None, 401)])
def test_employers_and_strangers_see_no_progress(client_for, role, status) -> None:
    user = UserFactory(role=role) if role else None
    assert client_for(user).get("/api/v1/progress/").status_code == status
    assert client_for(user).get("/api/v1/progress/targets/").status_code == status


@pytest.mark.parametrize(
    ("query", "extra"),
    [
        ("date=2026-07-01", {"date": ["The date cannot be in the future."]}),
        ("date=2019-12-31", {"date": ["Give a date from 2020 on."]}),
        (
            "date=yesterday",
            {"date": ["Date has wrong format. Use one of these formats instead: YYYY-MM-DD."]},
        ),
        ("county=999999", {"county": ["Unknown county code '999999'."]}),
        ("counties=451081", {"counties": ["Unknown field."]}),
    ],
)
def test_report_query_is_validated(client_for, query, extra) -> None:
    response = client_for(UserFactory(role=Role.SUPERVISOR)).get(f"/api/v1/progress/?{query}")
    assert response.status_code == 400
    assert response.json()["extra"] == extra


def test_supervisor_sets_and_removes_targets(client_for) -> None:
    supervisor = UserFactory(username="chief", role=Role.SUPERVISOR)
    ProgressTarget.objects.create(year=2026, indicator="employed", county=None, target=7)
    ProgressTarget.objects.create(year=2026, indicator="registered", county=None, target=5)
    client = client_for(supervisor)

    response = client.put(
        "/api/v1/progress/targets/",
        {
            "year": 2026,
            "targets": [
                {"indicator": "hired", "county": "451081", "target": 300, "note": "县长责任制"},
                {"indicator": "hired", "target": 1000},
                {"indicator": "registered", "county": None, "target": 0},
            ],
        },
        format="json",
    )

    assert response.status_code == 200
    updated_at = "2026-06-30T12:00:00+08:00"
    assert response.json() == [
        {
            "year": 2026,
            "indicator": "employed",
            "county": None,
            "target": 7,
            "note": "",
            "updated_by": None,
            "updated_at": updated_at,
        },
        {
            "year": 2026,
            "indicator": "hired",
            "county": None,
            "target": 1000,
            "note": "",
            "updated_by": "chief",
            "updated_at": updated_at,
        },
        {
            "year": 2026,
            "indicator": "hired",
            "county": "451081",
            "target": 300,
            "note": "县长责任制",
            "updated_by": "chief",
            "updated_at": updated_at,
        },
    ]
    assert client.get("/api/v1/progress/targets/?year=2026").json() == response.json()
    assert client.get("/api/v1/progress/targets/").json() == response.json()  # this year
    assert client.get("/api/v1/progress/targets/?year=2027").json() == []


def stored_targets() -> list[tuple[Any, ...]]:
    return list(ProgressTarget.objects.values_list("year", "indicator", "county_id", "target"))


@pytest.mark.parametrize(
    ("body", "extra"),
    [
        (
            {
                "year": 2026,
                "targets": [
                    {"indicator": "hired", "target": 10},
                    {"indicator": "hired", "county": None, "target": 20},
                ],
            },
            {"targets": ["Indicator 'hired' for all of Baise is given twice."]},
        ),
        (
            {"year": 2026, "targets": [{"indicator": "hired", "county": "999999", "target": 1}]},
            {"targets[0].county": ["Unknown county code '999999'."]},
        ),
        (
            {"year": 2026, "targets": [{"indicator": "smiles", "target": 1}]},
            {"targets[0].indicator": ['"smiles" is not a valid choice.']},
        ),
        (
            {"year": 2026, "targets": [{"indicator": "hired", "target": -1}]},
            {"targets[0].target": ["Ensure this value is greater than or equal to 0."]},
        ),
        (
            {"year": 1999, "targets": []},
            {
                "year": ["Ensure this value is greater than or equal to 2020."],
                "targets.non_field_errors": ["This list may not be empty."],
            },
        ),
    ],
)
def test_bad_targets_write_nothing(client_for, body, extra) -> None:
    ProgressTarget.objects.create(year=2026, indicator="hired", county=None, target=5)
    before = stored_targets()
    response = client_for(UserFactory(role=Role.SUPERVISOR)).put(
        "/api/v1/progress/targets/", body, format="json"
    )
    assert response.status_code == 400
    assert response.json()["extra"] == extra
    assert stored_targets() == before


@pytest.mark.parametrize("role", ["caseworker", "coordinator"])
def test_only_supervisors_and_admins_set_targets(client_for, role) -> None:
    client = client_for(UserFactory(role=role))
    assert client.get("/api/v1/progress/targets/").status_code == 200
    response = client.put(
        "/api/v1/progress/targets/",
        {"year": 2026, "targets": [{"indicator": "hired", "target": 1}]},
        format="json",
    )
    assert response.status_code == 403
    assert not ProgressTarget.objects.exists()


def test_caseworker_reports_the_day_and_a_second_report_replaces_it(client_for, caseworker):
    client = client_for(caseworker)
    first = client.put(
        "/api/v1/progress/reports/",
        {"county": "451081", "date": "2026-06-29", "figures": {"rural_labour_out": 40}},
        format="json",
    )
    assert first.status_code == 200
    response = client.put(
        "/api/v1/progress/reports/",
        {
            "county": "451081",
            "date": "2026-06-29",
            "figures": {"rural_labour_out": 42, "urban_new_jobs": 3},
        },
        format="json",
    )
    assert response.status_code == 200
    row = {
        "county": "451081",
        "date": "2026-06-29",
        "reported_by": "caseworker",
        "updated_at": "2026-06-30T12:00:00+08:00",
    }
    assert response.json() == [
        {**row, "indicator": "rural_labour_out", "count": 42},
        {**row, "indicator": "urban_new_jobs", "count": 3},
    ]
    listed = client.get("/api/v1/progress/reports/?date_from=2026-06-01").json()
    assert listed["count"] == 2
    assert listed["results"] == response.json()
    progress = client.get("/api/v1/progress/").json()
    assert progress["indicators"][6]["done"] == 42


def stored_reports() -> list[tuple[Any, ...]]:
    return list(CountyReport.objects.values_list("county_id", "date", "indicator", "count"))


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        (
            {"county": "451002", "date": "2026-06-29", "figures": {"urban_new_jobs": 1}},
            403,
            "You may follow only the progress of your own counties.",
        ),
        (
            {"county": "451081", "date": "2026-07-01", "figures": {"urban_new_jobs": 1}},
            400,
            "date: The date cannot be in the future.",
        ),
        (
            {"county": "451081", "date": "2026-06-29", "figures": {"hired": 1}},
            400,
            "figures: Unknown indicator 'hired'; counties report hard_to_employ_reemployed, "
            "rural_labour_out, unemployed_reemployed, urban_new_jobs.",
        ),
        (
            {"county": "451081", "date": "2026-06-29", "figures": {}},
            400,
            "figures: This dictionary may not be empty.",
        ),
        (
            {"county": "451081", "date": "2026-06-29", "figures": {"urban_new_jobs": -3}},
            400,
            "figures.urban_new_jobs: Ensure this value is greater than or equal to 0.",
        ),
    ],
)
def test_bad_reports_write_nothing(client_for, caseworker, body, status, message) -> None:
    CountyReport.objects.create(
        county_id="451081", date=date(2026, 6, 29), indicator="urban_new_jobs", count=5
    )
    before = stored_reports()
    response = client_for(caseworker).put("/api/v1/progress/reports/", body, format="json")
    assert response.status_code == status
    assert response.json()["message"] == message
    assert stored_reports() == before


def test_caseworkers_read_only_their_counties_reports(client_for, caseworker) -> None:
    for county in ("451081", "451002"):
        CountyReport.objects.create(
            county_id=county, date=date(2026, 6, 29), indicator="urban_new_jobs", count=5
        )
    listed = client_for(caseworker).get("/api/v1/progress/reports/").json()
    assert [row["county"] for row in listed["results"]] == ["451081"]
    other = client_for(caseworker).get("/api/v1/progress/reports/?county=451002")
    assert other.status_code == 403
    everyone = client_for(UserFactory(role=Role.SUPERVISOR)).get("/api/v1/progress/reports/")
    assert [row["county"] for row in everyone.json()["results"]] == ["451002", "451081"]


@pytest.mark.parametrize(("role", "status"), [("coordinator", 403), ("employer", 403)])
def test_coordinators_and_employers_do_not_report(client_for, role, status) -> None:
    response = client_for(UserFactory(role=role)).put(
        "/api/v1/progress/reports/",
        {"county": "451081", "date": "2026-06-29", "figures": {"urban_new_jobs": 1}},
        format="json",
    )
    assert response.status_code == status
    assert not CountyReport.objects.exists()
