"""Transfers over HTTP: plans, trips and their day of departure, manifests; who may do what,
every error in one shape, nothing written when a request fails."""

from __future__ import annotations

import csv
import io
from datetime import time, timedelta
from typing import Any

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from jobmatch.models import AccessLog
from matching.models import Match, Seat, TransferPlan, Trip, TripEvent
from matching.services.trips import trip_lock
from tests.factories import EmployerAccountFactory
from tests.factories_extra import iso
from tests.matching.conftest import (
    CHANGAN,
    DAY,
    FUYONG,
    GUANLAN,
    JINGXI_SEAT,
    PINGGUO_SEAT,
    day,
)
from workers.models import Laborer

pytestmark = pytest.mark.django_db

PLANS = "/api/v1/transfers/plans/"
TRIPS = "/api/v1/transfers/trips/"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def plan_body(**overrides: Any) -> dict[str, Any]:
    return {"from_date": DAY.isoformat(), "to_date": day(9).isoformat(), **overrides}


def seat_of(match: Match) -> Seat:
    return Seat.objects.get(match=match)


@pytest.fixture
def season(accepted, plan_run) -> dict[str, Any]:
    """Three trips: 平果 -> 福永 and 平果 -> 长安 (东莞), and 靖西 -> 观澜 (the caseworker's
    county), from one plan."""
    pingguo = accepted(2, start=day(5))
    dongguan = accepted(1, destination=CHANGAN, start=day(5))
    jingxi = accepted(1, township=JINGXI_SEAT, destination=GUANLAN, start=day(7))
    plan = plan_run()
    return {
        "plan": plan,
        "pingguo": pingguo,
        "dongguan": dongguan,
        "jingxi": jingxi,
        "trip": seat_of(pingguo[0]).trip,
        "dongguan_trip": seat_of(dongguan[0]).trip,
        "jingxi_trip": seat_of(jingxi[0]).trip,
    }


# -- plans -----------------------------------------------------------------------------------


def test_coordinator_plans_and_reads_the_result(
    client_for,
    coordinator,
    supervisor,
    accepted,
    eager_celery,
    django_capture_on_commit_callbacks,
):
    seated = accepted(2)
    late = accepted(1, available=day(20))[0]
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client_for(coordinator).post(
            PLANS, plan_body(min_gap_minutes=30, departure_window_start="07:00"), format="json"
        )
    assert response.status_code == 202
    plan = TransferPlan.objects.get()
    assert response.json() == {"id": plan.pk, "status": "queued"}
    assert len(callbacks) == 1
    plan.refresh_from_db()
    trip = Trip.objects.get()
    body = client_for(supervisor).get(f"{PLANS}{plan.pk}/").json()
    assert body == {
        "id": plan.pk,
        "status": "done",
        "from_date": "2031-03-03",
        "to_date": "2031-03-12",
        "parameters": {
            "max_pickup_stops": 3,
            "max_dropoff_stops": 3,
            "max_departures_per_pickup_per_day": 4,
            "min_gap_minutes": 30,
            "departure_window_start": "07:00",
            "departure_window_end": "10:00",
            "coach_types": ["large45", "large53", "medium35"],
        },
        "riders": 3,
        "seated": 2,
        "unseated": [
            {
                "match": late.pk,
                "laborer": late.laborer_id,
                "reason": "no departure date inside the window: available from 2031-03-23, "
                "the plan ends 2031-03-12",
            }
        ],
        "trips": 1,
        "lower_bound_trips": 1,
        "seat_utilization": round(2 / 35, 4),
        "seconds": plan.seconds,
        "stats": plan.stats,
        "error": "",
        "created_at": iso(plan.created_at),
        "started_at": iso(plan.started_at),
        "finished_at": iso(plan.finished_at),
    }
    assert timezone.localtime(trip.departure).time() >= time(7)
    assert {seat_of(m).trip_id for m in seated} == {trip.pk}
    listed = client_for(coordinator).get(PLANS).json()
    assert [p["id"] for p in listed["results"]] == [plan.pk]


def test_second_plan_refused_while_one_is_queued(client_for, coordinator, admin_user):
    first = client_for(coordinator).post(PLANS, plan_body(), format="json")
    assert first.status_code == 202
    second = client_for(admin_user).post(
        PLANS, plan_body(to_date=day(2).isoformat()), format="json"
    )
    assert second.status_code == 409
    assert second.json() == {
        "message": "A transfer plan is already queued or running.",
        "extra": {"active_plan": first.json()["id"]},
    }
    assert TransferPlan.objects.count() == 1


@pytest.mark.parametrize(
    ("body", "message", "extra"),
    [
        (
            plan_body(to_date="2031-03-02"),
            "to_date: to_date must not be before from_date.",
            {"to_date": ["to_date must not be before from_date."]},
        ),
        (
            plan_body(coach_types=["large53", "bus99"]),
            "coach_types: Unknown coach type 'bus99'.",
            {"coach_types": ["Unknown coach type 'bus99'."]},
        ),
        (
            plan_body(to_date="2031-05-03"),
            "to_date: A plan covers at most 60 days.",
            {"to_date": ["A plan covers at most 60 days."]},
        ),
        (
            plan_body(departure_window_start="09:00", departure_window_end="08:00"),
            "departure_window_end: The departure window must end after it starts.",
            {"departure_window_end": ["The departure window must end after it starts."]},
        ),
        (
            plan_body(colour="red"),
            "colour: Unknown field.",
            {"colour": ["Unknown field."]},
        ),
        (
            {},
            "from_date: This field is required. to_date: This field is required.",
            {"from_date": ["This field is required."], "to_date": ["This field is required."]},
        ),
        (
            plan_body(from_date="3 March"),
            "from_date: Date has wrong format. Use one of these formats instead: YYYY-MM-DD.",
            {"from_date": ["Date has wrong format. Use one of these formats instead: YYYY-MM-DD."]},
        ),
        (
            plan_body(max_pickup_stops=0),
            "max_pickup_stops: Ensure this value is greater than or equal to 1.",
            {"max_pickup_stops": ["Ensure this value is greater than or equal to 1."]},
        ),
        (
            plan_body(coach_types=[]),
            "coach_types: Ensure this field has at least 1 elements.",
            {"coach_types": ["Ensure this field has at least 1 elements."]},
        ),
    ],
)
def test_invalid_plan_requests_are_refused_and_write_nothing(
    client_for, coordinator, body, message, extra
):
    response = client_for(coordinator).post(PLANS, body, format="json")
    assert response.status_code == 400
    assert response.json() == {"message": message, "extra": extra}
    assert TransferPlan.objects.count() == 0


def test_plan_body_that_is_not_json(client_for, coordinator):
    response = client_for(coordinator).post(PLANS, b"{from_date", content_type="application/json")
    assert response.status_code == 400
    assert set(response.json()) == {"message", "extra"}
    assert TransferPlan.objects.count() == 0


# -- roles -----------------------------------------------------------------------------------


ROLES = ["coordinator", "admin", "supervisor", "caseworker", "employer"]


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("coordinator", 202),
        ("admin", 202),
        ("supervisor", 403),
        ("caseworker", 403),
        ("employer", 403),
    ],
)
def test_who_may_start_a_plan(client_for, roles_users, role, status):
    response = client_for(roles_users[role]).post(PLANS, plan_body(), format="json")
    assert response.status_code == status
    assert TransferPlan.objects.count() == (1 if status == 202 else 0)
    if status == 403:
        assert response.json() == {"message": "Your role may not do this.", "extra": {}}


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("coordinator", 200),
        ("admin", 200),
        ("supervisor", 200),
        ("caseworker", 403),
        ("employer", 403),
    ],
)
def test_who_may_read_plans(client_for, roles_users, season, role, status):
    client = client_for(roles_users[role])
    assert client.get(PLANS).status_code == status
    assert client.get(f"{PLANS}{season['plan'].pk}/").status_code == status


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("coordinator", 200),
        ("admin", 200),
        ("supervisor", 200),
        ("caseworker", 200),
        ("employer", 403),
    ],
)
def test_who_may_read_trips(client_for, roles_users, season, role, status):
    client = client_for(roles_users[role])
    assert client.get(TRIPS).status_code == status
    assert client.get(f"{TRIPS}{season['jingxi_trip'].pk}/").status_code == status


@pytest.mark.parametrize("action", ["lock", "unlock", "board", "depart", "arrive", "cancel"])
@pytest.mark.parametrize("role", ["supervisor", "caseworker", "employer"])
def test_only_coordinators_and_admins_run_trips(client_for, roles_users, season, role, action):
    trip = season["jingxi_trip"]
    body = {"laborers": [season["jingxi"][0].laborer_id]} if action == "board" else None
    response = client_for(roles_users[role]).post(
        f"{TRIPS}{trip.pk}/{action}/", body, format="json"
    )
    assert response.status_code == 403
    assert response.json() == {"message": "Your role may not do this.", "extra": {}}
    assert Trip.objects.get(pk=trip.pk).state == "planned"
    assert TripEvent.objects.count() == 0


@pytest.mark.parametrize("role", ["coordinator", "admin"])
def test_coordinator_and_admin_lock_and_unlock(client_for, roles_users, season, role):
    trip = season["trip"]
    client = client_for(roles_users[role])
    locked = client.post(f"{TRIPS}{trip.pk}/lock/")
    assert (locked.status_code, locked.json()["state"]) == (200, "locked")
    unlocked = client.post(f"{TRIPS}{trip.pk}/unlock/")
    assert (unlocked.status_code, unlocked.json()["state"]) == (200, "planned")
    events = TripEvent.objects.filter(trip=trip).values_list("from_state", "to_state", "actor")
    assert list(events) == [
        ("planned", "locked", roles_users[role].pk),
        ("locked", "planned", roles_users[role].pk),
    ]


def test_anonymous_is_refused_everywhere(client_for, season):
    client = client_for(None)
    trip = season["trip"]
    for method, url in [
        ("get", PLANS),
        ("post", PLANS),
        ("get", TRIPS),
        ("post", f"{TRIPS}{trip.pk}/lock/"),
        ("get", f"{TRIPS}{trip.pk}/manifest/"),
    ]:
        response = getattr(client, method)(url)
        assert response.status_code in (401, 403), url
        assert set(response.json()) == {"message", "extra"}


# -- trips -----------------------------------------------------------------------------------


def test_trip_detail(client_for, coordinator, season):
    trip = season["trip"]
    stops = list(trip.stops.all())
    body = client_for(coordinator).get(f"{TRIPS}{trip.pk}/").json()
    assert body == {
        "id": trip.pk,
        "plan": season["plan"].pk,
        "state": "planned",
        "coach_type": "medium35",
        "seats": 35,
        "riders": 2,
        "boarded": 0,
        "county": "451082",
        "city": "440300",
        "departure": iso(trip.departure),
        "arrival": iso(trip.arrival),
        "night_stop": [],
        "stops": [
            {
                "order": 1,
                "kind": "pickup",
                "point": PINGGUO_SEAT,
                "name": "马头镇",
                "eta": iso(stops[0].eta),
                "riders": 2,
            },
            {
                "order": 2,
                "kind": "dropoff",
                "point": FUYONG,
                "name": "福永街道",
                "eta": iso(stops[1].eta),
                "riders": 2,
            },
        ],
        "created_at": iso(trip.created_at),
        "updated_at": iso(trip.updated_at),
    }
    assert AccessLog.objects.count() == 0  # no personal data in a trip


def ids(response) -> list[int]:
    assert response.status_code == 200, response.json()
    return [t["id"] for t in response.json()["results"]]


def test_trip_list_filters(client_for, coordinator, season):
    client = client_for(coordinator)
    trip, dongguan, jingxi = season["trip"], season["dongguan_trip"], season["jingxi_trip"]
    trip_lock(actor=coordinator, trip=dongguan)
    everything = client.get(TRIPS).json()
    assert everything["count"] == 3
    assert ids(client.get(TRIPS, {"county": "451081"})) == [jingxi.pk]
    assert sorted(ids(client.get(TRIPS, {"county": "451082"}))) == sorted([trip.pk, dongguan.pk])
    assert ids(client.get(TRIPS, {"destination": "441900"})) == [dongguan.pk]  # a city
    assert ids(client.get(TRIPS, {"destination": FUYONG})) == [trip.pk]  # a street
    assert ids(client.get(TRIPS, {"destination": "440306"})) == [trip.pk]  # its district
    assert sorted(ids(client.get(TRIPS, {"destination": "440300"}))) == sorted([trip.pk, jingxi.pk])
    assert ids(client.get(TRIPS, {"state": "locked"})) == [dongguan.pk]
    assert ids(client.get(TRIPS, {"state": "cancelled"})) == []
    date = timezone.localtime(jingxi.departure).date()
    on_day = ids(client.get(TRIPS, {"date": date.isoformat()}))
    assert jingxi.pk in on_day
    assert all(
        timezone.localtime(t.departure).date() == date for t in Trip.objects.filter(pk__in=on_day)
    )
    assert ids(client.get(TRIPS, {"date": (DAY - timedelta(days=1)).isoformat()})) == []
    assert ids(client.get(TRIPS, {"plan": season["plan"].pk, "county": "451081"})) == [jingxi.pk]


@pytest.mark.parametrize(
    ("params", "message", "extra"),
    [
        (
            {"state": "bogus"},
            "state: Select a valid choice. bogus is not one of the available choices.",
            {"state": ["Select a valid choice. bogus is not one of the available choices."]},
        ),
        ({"date": "tomorrow"}, "date: Enter a valid date.", {"date": ["Enter a valid date."]}),
        (
            {"county": "4510811"},
            "county: Ensure this value has at most 6 characters (it has 7).",
            {"county": ["Ensure this value has at most 6 characters (it has 7)."]},
        ),
        ({"plan": "x"}, "plan: Enter a number.", {"plan": ["Enter a number."]}),
        (
            {"county": "45\x00"},
            "county: Null characters are not allowed.",
            {"county": ["Null characters are not allowed."]},
        ),
    ],
)
def test_trip_list_refuses_bad_filters(client_for, coordinator, season, params, message, extra):
    response = client_for(coordinator).get(TRIPS, params)
    assert response.status_code == 400
    assert response.json() == {"message": message, "extra": extra}


def test_caseworker_reads_trips_of_own_counties_only(client_for, caseworker, season):
    client = client_for(caseworker)
    assert ids(client.get(TRIPS)) == [season["jingxi_trip"].pk]
    assert ids(client.get(TRIPS, {"county": "451082"})) == []
    response = client.get(f"{TRIPS}{season['trip'].pk}/")
    assert response.status_code == 404
    assert response.json() == {"message": "Not found.", "extra": {}}


@pytest.mark.parametrize(
    ("url", "status", "message"),
    [
        (f"{TRIPS}abc/", 404, "Not found."),
        (f"{TRIPS}99999999999999999999999/", 404, "Not found."),
        (f"{TRIPS}0/lock/", 404, "Not found."),
        (f"{TRIPS}0/manifest/", 404, "Not found."),
        (f"{PLANS}abc/", 404, "Not found."),
        (f"{PLANS}-1/", 404, "Not found."),
        (f"{TRIPS}?plan=1e400", 400, "plan: Ensure this value is less than or equal to 1e+50."),
        (f"{TRIPS}?date=2031-02-30", 400, "date: Enter a valid date."),
    ],
)
def test_odd_urls_answer_in_the_error_shape(client_for, coordinator, url, status, message):
    client = client_for(coordinator)
    response = client.post(url) if url.endswith("lock/") else client.get(url)
    assert response.status_code == status
    assert response.json()["message"] == message
    assert set(response.json()) == {"message", "extra"}


def test_day_of_departure_over_the_api(
    client_for, coordinator, accepted, plan_run, employer_of_riders
):
    on_board, no_show = accepted(2)
    plan_run()
    trip = seat_of(on_board).trip
    client = client_for(coordinator)
    url = f"{TRIPS}{trip.pk}/"

    refused = client.post(f"{url}board/", {"laborers": [on_board.laborer_id]}, format="json")
    assert refused.status_code == 409
    assert refused.json() == {
        "message": "Cannot board a trip that is planned: it must be boarding or locked.",
        "extra": {},
    }
    assert client.post(f"{url}lock/").json()["state"] == "locked"
    boarded = client.post(f"{url}board/", {"laborers": [on_board.laborer_id]}, format="json")
    assert boarded.status_code == 200
    assert (boarded.json()["state"], boarded.json()["riders"], boarded.json()["boarded"]) == (
        "boarding",
        2,
        1,
    )
    departed = client.post(f"{url}depart/")
    assert (departed.json()["state"], departed.json()["riders"]) == ("departed", 1)
    assert Laborer.objects.get(pk=on_board.laborer_id).status == "departed"
    assert Laborer.objects.get(pk=no_show.laborer_id).status == "matched"
    assert client.post(f"{url}arrive/").json()["state"] == "arrived"
    assert Laborer.objects.get(pk=on_board.laborer_id).status == "arrived"
    late = client.post(f"{url}cancel/")
    assert late.status_code == 409
    assert late.json()["message"] == (
        "Cannot cancel a trip that is arrived: it must be boarding or locked or planned."
    )
    # The employer confirms the laborer started work.
    employer = EmployerAccountFactory(employer=employer_of_riders).user
    employed = client_for(employer).post(f"/api/v1/matches/{on_board.pk}/employed/")
    assert employed.status_code == 200
    assert Laborer.objects.get(pk=on_board.laborer_id).status == "employed"
    assert list(TripEvent.objects.filter(trip=trip).values_list("to_state", flat=True)) == [
        "locked",
        "boarding",
        "departed",
        "arrived",
    ]


def test_cancel_over_the_api_returns_riders_to_the_pool(client_for, admin_user, season):
    trip = season["trip"]
    response = client_for(admin_user).post(f"{TRIPS}{trip.pk}/cancel/")
    assert response.status_code == 200
    assert (response.json()["state"], response.json()["riders"]) == ("cancelled", 0)
    laborers = [m.laborer_id for m in season["pingguo"]]
    assert not Seat.objects.filter(laborer_id__in=laborers).exists()
    assert set(Laborer.objects.filter(pk__in=laborers).values_list("status", flat=True)) == {
        "matched"
    }


@pytest.mark.parametrize(
    ("body", "message", "extra"),
    [
        ({"laborers": []}, "laborers: Ensure this field has at least 1 elements.", None),
        ({"laborers": ["x"]}, "laborers[0]: A valid integer is required.", None),
        ({}, "laborers: This field is required.", None),
        ({"laborers": "12"}, 'laborers: Expected a list of items but got type "str".', None),
        ({"laborers": [1], "seat": 3}, "seat: Unknown field.", {"seat": ["Unknown field."]}),
        (
            {"laborers": [2**63]},
            "laborers[0]: Ensure this value is less than or equal to 4611686018427387904.",
            None,
        ),
    ],
)
def test_board_refuses_malformed_input(client_for, coordinator, season, body, message, extra):
    trip = season["trip"]
    trip_lock(actor=coordinator, trip=trip)
    response = client_for(coordinator).post(f"{TRIPS}{trip.pk}/board/", body, format="json")
    assert response.status_code == 400
    assert response.json()["message"] == message
    if extra is not None:
        assert response.json()["extra"] == extra
    assert Trip.objects.get(pk=trip.pk).state == "locked"
    assert TripEvent.objects.filter(trip=trip).count() == 1


def test_board_only_this_trips_riders_over_the_api(client_for, coordinator, season):
    trip = season["trip"]
    trip_lock(actor=coordinator, trip=trip)
    mine = season["pingguo"][0].laborer_id
    stranger = season["jingxi"][0].laborer_id
    response = client_for(coordinator).post(
        f"{TRIPS}{trip.pk}/board/", {"laborers": [mine, stranger, 987654321]}, format="json"
    )
    assert response.status_code == 400
    assert response.json() == {
        "message": f"laborers: Laborer {stranger} has no seat on this trip.",
        "extra": {
            "laborers": [
                f"Laborer {stranger} has no seat on this trip.",
                "Laborer 987654321 has no seat on this trip.",
            ]
        },
    }
    assert Seat.objects.filter(boarded_at__isnull=False).count() == 0
    assert Trip.objects.get(pk=trip.pk).state == "locked"
    assert TripEvent.objects.filter(trip=trip).count() == 1


# -- manifests -------------------------------------------------------------------------------


def manifest_rows(trip: Trip) -> list[list[str]]:
    rows = []
    for seat in Seat.objects.filter(trip=trip).select_related("laborer").order_by("number"):
        rows.append(
            [
                str(seat.number),
                seat.laborer.name,
                seat.laborer.id_number,
                seat.laborer.phone,
                "马头镇",
                "福永街道",
                "深圳市百色劳务协作电子有限公司",
            ]
        )
    return rows


HEADER = ["座位号", "姓名", "身份证号", "手机号", "上车点", "下车点", "用人单位"]


def test_manifest_csv(client_for, coordinator, season):
    trip = season["trip"]
    response = client_for(coordinator).get(f"{TRIPS}{trip.pk}/manifest/", {"format": "csv"})
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == (
        f'attachment; filename="manifest-trip-{trip.pk}.csv"'
    )
    assert response.content.startswith(b"\xef\xbb\xbf" + "座位号,姓名".encode())
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows == [HEADER, *manifest_rows(trip)]
    assert len(rows) == 3
    log = AccessLog.objects.get()
    assert (log.user, log.method, log.endpoint, log.laborer_ids, log.laborer_count) == (
        coordinator,
        "GET",
        f"{TRIPS}{trip.pk}/manifest/",
        sorted(m.laborer_id for m in season["pingguo"]),
        2,
    )


def test_manifest_xlsx_is_the_default(client_for, admin_user, season):
    trip = season["trip"]
    response = client_for(admin_user).get(f"{TRIPS}{trip.pk}/manifest/")
    assert response.status_code == 200
    assert response["Content-Type"] == XLSX
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet.title == "乘客名单"
    values = [list(row) for row in sheet.iter_rows(values_only=True)]
    departure = timezone.localtime(trip.departure)
    assert values[0][0] == (
        f"点对点专车实名乘客名单 车次{trip.pk} {departure:%Y-%m-%d %H:%M} 中型客车 35座"
    )
    assert values[1] == HEADER
    assert values[2:] == manifest_rows(trip)
    log = AccessLog.objects.get()
    assert (log.user, log.laborer_count) == (admin_user, 2)


@pytest.mark.parametrize("role", ["supervisor", "caseworker", "employer"])
def test_manifest_only_for_coordinators_and_admins(client_for, roles_users, season, role):
    trip = season["jingxi_trip"]
    for kind in ("csv", "xlsx"):
        response = client_for(roles_users[role]).get(
            f"{TRIPS}{trip.pk}/manifest/", {"format": kind}
        )
        assert response.status_code == 403
        assert response.json() == {"message": "Your role may not do this.", "extra": {}}
    assert AccessLog.objects.count() == 0


def test_manifest_unknown_format(client_for, coordinator, season):
    trip = season["trip"]
    response = client_for(coordinator).get(f"{TRIPS}{trip.pk}/manifest/", {"format": "pdf"})
    assert response.status_code == 400
    assert response.json() == {
        "message": "format: Use csv or xlsx.",
        "extra": {"format": ["Use csv or xlsx."]},
    }
    assert AccessLog.objects.count() == 0


def test_every_manifest_download_is_logged(client_for, coordinator, season):
    trip = season["trip"]
    client = client_for(coordinator)
    for kind in ("csv", "xlsx", "csv"):
        assert client.get(f"{TRIPS}{trip.pk}/manifest/", {"format": kind}).status_code == 200
    assert AccessLog.objects.count() == 3
