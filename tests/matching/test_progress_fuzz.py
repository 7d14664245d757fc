"""Hostile input against the progress endpoints, as every role: never a 500, every refusal
in the one error shape, nothing written on a refusal, no county's figures to another."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from rest_framework.test import APIClient

from jobmatch.models import Role, User
from matching.models import CountyReport, ProgressTarget
from tests.factories import EmployerAccountFactory, UserFactory
from workers.models import Laborer, StatusEvent

pytestmark = pytest.mark.django_db

TODAY = datetime(2026, 6, 30, 12, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
PROGRESS = "/api/v1/progress/"
TARGETS = "/api/v1/progress/targets/"
REPORTS = "/api/v1/progress/reports/"
ROLES = ["anonymous", "caseworker", "employer", "coordinator", "supervisor", "admin"]
LONG = "靖" * 5000
HUGE = 10**30
ERROR_KEYS = {"message", "extra"}


@pytest.fixture(autouse=True)
def _today() -> Any:
    with time_machine.travel(TODAY, tick=False):
        yield


MAKERS = {
    "anonymous": lambda: None,
    "caseworker": lambda: UserFactory(role=Role.CASEWORKER, counties=["451081"]),
    "employer": lambda: EmployerAccountFactory().user,
    "coordinator": lambda: UserFactory(role=Role.COORDINATOR),
    "supervisor": lambda: UserFactory(role=Role.SUPERVISOR),
    "admin": lambda: UserFactory(role=Role.ADMIN, is_staff=True, is_superuser=True),
}


class Actors(dict):
    """One account per role, made on first use (fast tests make only what they need)."""

    def __missing__(self, role: str) -> User | None:
        self[role] = MAKERS[role]()
        return self[role]


@pytest.fixture
def actors(db: None) -> Actors:
    return Actors()


@pytest.fixture
def seeded(db: None) -> None:
    """A target and a report that a refused request must leave as they are."""
    ProgressTarget.objects.create(year=2026, indicator="hired", county_id="451081", target=30)
    ProgressTarget.objects.create(year=2026, indicator="hired", county=None, target=300)
    CountyReport.objects.create(
        county_id="451081", date=date(2026, 6, 29), indicator="urban_new_jobs", count=4
    )
    CountyReport.objects.create(
        county_id="451002", date=date(2026, 6, 29), indicator="urban_new_jobs", count=9
    )


def client_as(user: User | None) -> APIClient:
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    if user is not None:
        client.force_authenticate(user=user)
    return client


def state() -> tuple[Any, ...]:
    """Everything these endpoints could write, values included."""
    return (
        sorted(
            ProgressTarget.objects.values_list(
                "year", "indicator", "county_id", "target", "note", "updated_by_id"
            ),
            key=repr,
        ),
        sorted(
            CountyReport.objects.values_list(
                "county_id", "date", "indicator", "count", "reported_by_id"
            ),
            key=repr,
        ),
        Laborer.objects.count(),
        StatusEvent.objects.count(),
    )


def assert_error(response: Any, *statuses: int) -> dict[str, Any]:
    assert 400 <= response.status_code < 500, (response.status_code, response.content[:500])
    if statuses:
        assert response.status_code in statuses, (response.status_code, response.content[:500])
    body = response.json()
    assert set(body) == ERROR_KEYS, body
    assert isinstance(body["message"], str) and body["message"], body
    assert isinstance(body["extra"], dict), body
    return body


def refusals(send: Any, cases: list[Any], *statuses: int) -> list[tuple[Any, Any]]:
    """Send every case; the cases not refused in the error shape, or that wrote something."""
    failures = []
    for case in cases:
        before = state()
        response = send(case)
        try:
            assert_error(response, *statuses)
            assert state() == before, "written"
        except (AssertionError, ValueError) as exc:
            failures.append((case if len(repr(case)) < 200 else repr(case)[:200], str(exc)[:300]))
    return failures


# --- who may do what --------------------------------------------------------------------

READ = {"caseworker", "coordinator", "supervisor", "admin"}
WRITE = {TARGETS: {"supervisor", "admin"}, REPORTS: {"caseworker", "supervisor", "admin"}}


@pytest.mark.parametrize("path", [PROGRESS, TARGETS, REPORTS])
def test_reading_is_for_staff_only(actors, seeded, path) -> None:
    before = state()
    for role in ROLES:
        response = client_as(actors[role]).get(path)
        if role == "anonymous":
            assert_error(response, 401)
        elif role == "employer":
            assert_error(response, 403)
        else:
            assert response.status_code == 200, role
            assert client_as(actors[role]).head(path).status_code == 200, role
    assert state() == before


@pytest.mark.parametrize("path", [PROGRESS, TARGETS, REPORTS])
def test_bad_methods_and_roles_write_nothing(actors, seeded, path) -> None:
    body = {"year": 2026, "targets": [{"indicator": "hired", "target": 1}]}
    if path == REPORTS:
        body = {"county": "451081", "date": "2026-06-30", "figures": {"urban_new_jobs": 1}}
    for role in ROLES:
        for method in ("post", "patch", "delete", "put"):
            if method == "put" and role in WRITE.get(path, ()):
                continue  # the one allowed write
            if role == "anonymous":
                expected = 401
            elif role in WRITE.get(path, ()):
                expected = 405
            else:
                expected = 403  # the progress report has no writers at all
            send = getattr(client_as(actors[role]), method)
            failures = refusals(lambda b, s=send: s(path, b, format="json"), [body], expected)
            assert failures == [], (role, method)


@pytest.mark.parametrize("path", [PROGRESS, TARGETS])
def test_options_are_harmless(actors, seeded, path) -> None:
    before = state()
    for role in READ:
        assert client_as(actors[role]).options(path).status_code == 200, role
    assert state() == before


@pytest.mark.parametrize("role", ["caseworker", "supervisor", "admin"])
def test_options_on_reports_are_harmless(actors, seeded, role) -> None:
    before = state()
    client = client_as(actors[role])
    client.raise_request_exception = False  # see the 500 the way a browser does
    response = client.options(REPORTS)
    assert response.status_code == 200, response.content[:300]
    assert state() == before


def test_options_on_reports_for_a_reader(actors, seeded) -> None:
    assert client_as(actors["coordinator"]).options(REPORTS).status_code == 200


# --- GET /progress/ ---------------------------------------------------------------------

BAD_PROGRESS_QUERIES = [
    "date=2026-02-30",
    "date=2026-13-01",
    "date=0000-01-01",
    "date=0001-01-01",
    "date=1969-12-31",
    "date=2019-12-31",
    "date=9999-12-31",
    "date=10000-01-01",
    "date=2026-07-01",
    "date=-2026-06-01",
    "date=2026-06-30T00:00:00",
    "date=null",
    "date=%00",
    "date=2026-06-3%00",
    "date=" + "9" * 5000,
    "date[]=2026-06-01",
    "county=999999",
    "county=4510811",
    "county=" + "4" * 5000,
    "county=45108%00",
    "county=null",
    "county=%E9%9D%96%E8%A5%BF",  # 靖西
    "county=%20",
    "county[]=451081",
    "counties=451081",
    "year=2026",
    "format=json",
    "limit=10",
    "DATE=2026-06-01",
    "%00=1",
    LONG + "=1",
    "date=2026-06-01&date=2026-07-01",  # the last one counts: in the future
    "county=451081&county=999999",
]


@pytest.mark.parametrize("role", ["supervisor", "coordinator", "caseworker"])
def test_progress_query_refused(actors, seeded, role) -> None:
    client = client_as(actors[role])
    failures = refusals(lambda q: client.get(f"{PROGRESS}?{q}"), BAD_PROGRESS_QUERIES, 400)
    assert failures == []


@pytest.mark.parametrize(
    "query",
    [
        "",
        "date=2026-06-30",
        "date=20260630",  # ISO 8601's basic format
        "county=",  # a blank optional value is left out
        "date=2020-01-01",
        "date=2024-02-29",
        "date=2026-6-1",
        "county=451081",
        "county=%20451081%20",
        "date=&county=",  # blank optional values are left out
        "date=2026-07-01&date=2026-06-01",  # repeated: the last one counts
    ],
)
def test_progress_query_accepted(actors, query) -> None:
    response = client_as(actors["supervisor"]).get(f"{PROGRESS}?{query}")
    assert response.status_code == 200, response.content[:500]
    body = response.json()
    assert {"date", "year", "indicators", "by_county"} <= set(body)


@pytest.mark.parametrize(
    "query",
    [
        "county=451002",
        "county=451081&county=451002",
        "county=451002&date=2026-06-01",
        "date=2026-06-01&county=451002",
    ],
)
def test_a_caseworker_gets_no_other_countys_progress(actors, seeded, query) -> None:
    body = assert_error(client_as(actors["caseworker"]).get(f"{PROGRESS}?{query}"), 403)
    assert "451002" not in json.dumps(body)


@pytest.mark.parametrize("query", ["", "county=451081", "county=451002&county=451081"])
def test_a_caseworker_sees_only_their_county(actors, seeded, query) -> None:
    body = client_as(actors["caseworker"]).get(f"{PROGRESS}?{query}").json()
    assert body["counties"] == ["451081"]
    assert [row["county"] for row in body["by_county"]] == ["451081"]
    urban = next(i for i in body["indicators"] if i["key"] == "urban_new_jobs")
    assert urban["done"] == 4  # 451002's 9 is not in it


def test_a_caseworker_without_counties_sees_nothing(db: None) -> None:
    lonely = UserFactory(role=Role.CASEWORKER)
    client = client_as(lonely)
    body = client.get(PROGRESS).json()
    assert body["counties"] == [] and body["by_county"] == []
    assert_error(client.get(f"{PROGRESS}?county=451081"), 403)
    assert client.get(REPORTS).json()["results"] == []


# --- GET /progress/targets/ -------------------------------------------------------------


BAD_TARGET_QUERIES = [
    "year=2019",
    "year=2101",
    "year=0",
    "year=-2026",
    "year=1e3",
    "year=2026.5",
    "year=two",
    f"year={HUGE}",
    "year=" + "9" * 5000,
    "year=%00",
    "year=true",
    "year=null",
    "year[]=2026",
    "year=2026&year=abc",
    "county=451081",
    "indicator=hired",
    LONG + "=1",
]


@pytest.mark.parametrize("role", ["coordinator", "caseworker", "admin"])
def test_targets_query_refused(actors, seeded, role) -> None:
    client = client_as(actors[role])
    assert refusals(lambda q: client.get(f"{TARGETS}?{q}"), BAD_TARGET_QUERIES, 400) == []


@pytest.mark.parametrize(
    ("query", "count"),
    [("", 2), ("year=2026", 2), ("year=2026.0", 2), ("year=%202027", 0), ("year=", 2)],
)
def test_targets_query_accepted(actors, seeded, query, count) -> None:
    response = client_as(actors["coordinator"]).get(f"{TARGETS}?{query}")
    assert response.status_code == 200
    assert len(response.json()) == count


# --- GET /progress/reports/ -------------------------------------------------------------


BAD_REPORT_QUERIES = [
    "county=999999",
    "county=" + "4" * 100,
    "county=%00",
    "date_from=2026-02-30",
    "date_to=0000-01-01",
    "date_from=yesterday",
    "date_to=" + "9" * 5000,
    "date=2026-06-29",
    "page=2",
    "ordering=-count",
    "search=%E9%9D%96",
    LONG + "=1",
]


@pytest.mark.parametrize("role", ["coordinator", "caseworker", "supervisor"])
def test_reports_query_refused(actors, seeded, role) -> None:
    client = client_as(actors[role])
    assert refusals(lambda q: client.get(f"{REPORTS}?{q}"), BAD_REPORT_QUERIES, 400) == []


HARMLESS_REPORT_QUERIES = [
    "date_from=0001-01-01&date_to=9999-12-31",
    "date_from=2026-06-30&date_to=2026-06-01",  # inverted: nothing, not an error
    "limit=abc&offset=-5",
    "limit=0",
    "limit=-1",
    f"limit={HUGE}&offset={HUGE}",
    "offset=" + "9" * 5000,
    "limit=%00",
    "limit=10&limit=abc",
    "county=",
]


@pytest.mark.parametrize("role", ["coordinator", "caseworker", "supervisor"])
def test_reports_odd_but_harmless_queries(actors, seeded, role) -> None:
    client = client_as(actors[role])
    for query in HARMLESS_REPORT_QUERIES:
        response = client.get(f"{REPORTS}?{query}")
        assert response.status_code == 200, (query, response.content[:500])
        assert set(response.json()) == {"count", "next", "previous", "results"}


@pytest.mark.parametrize("query", ["county=451002", "county=451081&county=451002"])
def test_a_caseworker_reads_no_other_countys_reports(actors, seeded, query) -> None:
    body = assert_error(client_as(actors["caseworker"]).get(f"{REPORTS}?{query}"), 403)
    assert "urban_new_jobs" not in json.dumps(body)


def test_a_caseworker_lists_only_their_reports(actors, seeded) -> None:
    for query in ("", "county=451002&county=451081", "date_from=0001-01-01&limit=500"):
        rows = client_as(actors["caseworker"]).get(f"{REPORTS}?{query}").json()["results"]
        assert [(r["county"], r["count"]) for r in rows] == [("451081", 4)]


# --- PUT /progress/targets/ -------------------------------------------------------------


def target(**changes: Any) -> dict[str, Any]:
    return {"indicator": "hired", "county": "451081", "target": 40, **changes}


def targets_body(*items: Any, **changes: Any) -> dict[str, Any]:
    return {"year": 2026, "targets": list(items) or [target()], **changes}


BAD_TARGET_BODIES = [
    None,
    {},
    [],
    [targets_body()],
    "year=2026",
    2026,
    True,
    {"year": 2026},
    {"targets": [target()]},
    targets_body(year=None),
    targets_body(year="2026x"),
    targets_body(year=2019),
    targets_body(year=2101),
    targets_body(year=-1),
    targets_body(year=HUGE),
    targets_body(year=2026.5),
    targets_body(year=True),
    targets_body(year=[2026]),
    targets_body(year={"value": 2026}),
    targets_body(year=LONG),
    targets_body(targets=None),
    targets_body(targets=[]),
    targets_body(targets={}),
    targets_body(targets=target()),
    targets_body(targets="hired"),
    targets_body(targets=[None]),
    targets_body(targets=[[target()]]),
    targets_body(targets=["hired"]),
    targets_body(targets=[1]),
    targets_body(targets=[target()] * 201),
    targets_body(target(), target()),  # the same indicator and county twice
    targets_body(target(county=None), {"indicator": "hired", "target": 5}),
    targets_body(target(indicator="Hired")),
    targets_body(target(indicator="")),
    targets_body(target(indicator=None)),
    targets_body(target(indicator=["hired"])),
    targets_body(target(indicator={"key": "hired"})),
    targets_body(target(indicator=LONG)),
    targets_body(target(indicator="hired\x00")),
    targets_body(target(county="451002x")),
    targets_body(target(county="999999")),
    targets_body(target(county="")),
    targets_body(target(county=["451081"])),
    targets_body(target(county={"code": "451081"})),
    targets_body(target(county=LONG)),
    targets_body(target(county="4510\x0081")),
    targets_body(target(target=-1)),
    targets_body(target(target=10_000_001)),
    targets_body(target(target=HUGE)),
    targets_body(target(target=-HUGE)),
    targets_body(target(target=1.5)),
    targets_body(target(target="40x")),
    targets_body(target(target=None)),
    targets_body(target(target=True)),
    targets_body(target(target=[40])),
    targets_body(target(target={"n": 40})),
    targets_body(target(target="9" * 5000)),
    targets_body(target(target="")),
    targets_body(target(note=LONG)),
    targets_body(target(note=None)),
    targets_body(target(note=["x"])),
    targets_body(target(note={"x": 1})),
    targets_body(target(note="bad\x00note")),
    targets_body(target(updated_by="admin")),
    targets_body(target(year=2027)),
    targets_body(target(), {"indicator": "hired", "county": "451002", "target": "lots"}),
    targets_body(extra=1),
    targets_body(**{"year ": 2026}),
    {"year": 2026, "targets": [{}]},
    {"year": 2026, "targets": [{"target": 5}]},
]


@pytest.mark.parametrize("role", ["supervisor", "admin"])
def test_bad_targets_are_refused_and_write_nothing(actors, seeded, role) -> None:
    client = client_as(actors[role])
    failures = refusals(lambda b: client.put(TARGETS, b, format="json"), BAD_TARGET_BODIES, 400)
    assert failures == []


UNREADABLE_TARGET_BODIES = [
    (b"", "application/json"),
    (b"{", "application/json"),
    (b"not json", "application/json"),
    (b"\xff\xfe\x00", "application/json"),
    (b'{"year": NaN, "targets": []}', "application/json"),
    (b'{"year": Infinity, "targets": []}', "application/json"),
    (b'{"year": 1e400, "targets": [{"indicator": "hired", "target": 1}]}', "application/json"),
    (b'{"year": ' + b"9" * 5000 + b', "targets": []}', "application/json"),
    (b"[" * 100_000 + b"]" * 100_000, "application/json"),
    (b'{"year": 2026, "year": "x", "targets": []}', "application/json"),
    (b"year=2026&targets=hired", "application/x-www-form-urlencoded"),
    (
        b"year=2026&targets[0]indicator=hired&targets[0]target=5",
        "application/x-www-form-urlencoded",
    ),
    (b"year=2026&targets[0]=hired", "application/x-www-form-urlencoded"),
    (b"year=2026", "application/x-www-form-urlencoded"),
    (b"", "application/x-www-form-urlencoded"),
    (b"<targets year='2026'/>", "application/xml"),
    (b"year: 2026", "text/plain"),
    (b"--x\r\n", "multipart/form-data; boundary=x"),
    (b"--x\r\n", "multipart/form-data"),
]


def test_unreadable_target_bodies_write_nothing(actors, seeded) -> None:
    client = client_as(actors["supervisor"])
    send = lambda case: client.generic("PUT", TARGETS, *case)  # noqa: E731
    assert refusals(send, UNREADABLE_TARGET_BODIES, 400, 415) == []


def test_a_refused_change_rolls_back_the_earlier_ones(actors, seeded) -> None:
    """All or nothing: a valid first change is not kept when the second is refused."""
    before = state()
    body = targets_body(target(target=41), target(county="451002", target=-3))
    assert_error(client_as(actors["supervisor"]).put(TARGETS, body, format="json"), 400)
    assert state() == before


@pytest.mark.parametrize(
    "changes",
    [
        [target(note="说明" * 100)],  # 200 characters: the most a note holds
        [target(target=10_000_000)],
        [target(target="12")],
        [target(target=12.0)],
        [target(county=" 451081 ")],
        [target(county=451081)],  # DRF's CharField takes a number
        [target(target=0, county="451002")],  # removing a target that is not there
        [{"indicator": i, "target": 1} for i in ("hired", "employed", "registered")],
    ],
)
def test_odd_but_valid_targets_are_taken(actors, seeded, changes) -> None:
    response = client_as(actors["admin"]).put(TARGETS, targets_body(*changes), format="json")
    assert response.status_code == 200, response.content[:500]


# --- PUT /progress/reports/ -------------------------------------------------------------


def report(**changes: Any) -> dict[str, Any]:
    return {"county": "451081", "date": "2026-06-30", "figures": {"urban_new_jobs": 3}, **changes}


BAD_REPORT_BODIES = [
    None,
    {},
    [],
    [report()],
    "county=451081",
    7,
    report(county=None),
    report(county=""),
    report(county="999999"),
    report(county=["451081"]),
    report(county={"code": "451081"}),
    report(county=LONG),
    report(county="45108\x00"),
    report(date=None),
    report(date=""),
    report(date="2026-02-30"),
    report(date="0000-01-01"),
    report(date="9999-12-31"),
    report(date="2026-07-01"),
    report(date="30/06/2026"),
    report(date=20260630),
    report(date=["2026-06-30"]),
    report(date={"y": 2026}),
    report(date="2026-06-30T23:59:59+08:00"),
    report(date=LONG),
    report(figures=None),
    report(figures={}),
    report(figures=[]),
    report(figures=[["urban_new_jobs", 3]]),
    report(figures="urban_new_jobs=3"),
    report(figures=3),
    report(figures={"registered": 3}),  # counted here, not reported
    report(figures={"URBAN_NEW_JOBS": 3}),
    report(figures={"": 3}),
    report(figures={"urban_new_jobs\x00": 3}),
    report(figures={LONG: 3}),
    report(figures={"urban_new_jobs": -1}),
    report(figures={"urban_new_jobs": 1_000_001}),
    report(figures={"urban_new_jobs": HUGE}),
    report(figures={"urban_new_jobs": 1.5}),
    report(figures={"urban_new_jobs": "3x"}),
    report(figures={"urban_new_jobs": None}),
    report(figures={"urban_new_jobs": True}),
    report(figures={"urban_new_jobs": [3]}),
    report(figures={"urban_new_jobs": {"count": 3}}),
    report(figures={"urban_new_jobs": "9" * 5000}),
    report(figures={"urban_new_jobs": 3, "rural_labour_out": -3}),
    report(figures={"urban_new_jobs": 3, "hired": 3}),
    report(indicator="urban_new_jobs"),
    report(count=3),
    report(reported_by="someone"),
]


@pytest.mark.parametrize("role", ["caseworker", "supervisor"])
def test_bad_reports_are_refused_and_write_nothing(actors, seeded, role) -> None:
    client = client_as(actors[role])
    failures = refusals(lambda b: client.put(REPORTS, b, format="json"), BAD_REPORT_BODIES, 400)
    assert failures == []


UNREADABLE_REPORT_BODIES = [
    (b"", "application/json"),
    (b"null", "application/json"),
    (b"{'county': '451081'}", "application/json"),
    (b'{"county": "451081", "date": "2026-06-30", "figures": {"urban_new_jobs": NaN}}', None),
    (b'{"county": "451081", "date": "2026-06-30", "figures": {"urban_new_jobs": 1e999}}', None),
    (b'{"figures": ' * 50_000 + b"1" + b"}" * 50_000, None),
    (b"county=451081&date=2026-06-30&figures=3", "application/x-www-form-urlencoded"),
    (
        b"county=451081&date=2026-06-30&figures.urban_new_jobs=3",
        "application/x-www-form-urlencoded",
    ),
    (b"county=451081&date=2026-06-30", "application/x-www-form-urlencoded"),
    (b"\x00\x01\x02", "application/octet-stream"),
]


def test_unreadable_report_bodies_write_nothing(actors, seeded) -> None:
    client = client_as(actors["caseworker"])
    send = lambda case: client.generic("PUT", REPORTS, case[0], case[1] or "application/json")  # noqa: E731
    assert refusals(send, UNREADABLE_REPORT_BODIES, 400, 415) == []


@pytest.mark.parametrize(
    "body",
    [
        report(county="451002"),
        report(county="451002", figures={"urban_new_jobs": 1, "rural_labour_out": 2}),
        report(county="451002", date="2026-06-29", figures={"urban_new_jobs": 0}),
    ],
)
def test_a_caseworker_reports_for_no_other_county(actors, seeded, body) -> None:
    before = state()
    body_out = assert_error(client_as(actors["caseworker"]).put(REPORTS, body, format="json"), 403)
    assert "urban_new_jobs" not in json.dumps(body_out)
    assert state() == before


@pytest.mark.parametrize("day", ["0001-01-01", "1900-01-01", "2019-12-31"])
def test_reports_before_the_cooperation_are_refused(actors, seeded, day) -> None:
    before = state()
    response = client_as(actors["supervisor"]).put(REPORTS, report(date=day), format="json")
    assert_error(response, 400)
    assert state() == before


@pytest.mark.parametrize(
    "body",
    [
        report(),
        report(county=" 451081 "),
        report(county=451081),
        report(date="2026-6-30"),
        report(figures={"urban_new_jobs": "3"}),
        report(figures={"urban_new_jobs": 3.0}),
        report(figures={"urban_new_jobs": 0, "rural_labour_out": 1_000_000}),
        report(date="2020-01-01"),
    ],
)
def test_odd_but_valid_reports_are_taken(actors, seeded, body) -> None:
    response = client_as(actors["caseworker"]).put(REPORTS, body, format="json")
    assert response.status_code == 200, response.content[:500]
    assert {row["county"] for row in response.json()} == {"451081"}
