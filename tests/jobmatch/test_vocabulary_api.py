"""Read-only vocabulary: counties with townships, destinations with minimum wages, occupations."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.test import APIClient

from jobmatch.models import User
from seeds.reference import read
from tests.factories_extra import _fast_password_hashing  # noqa: F401

# Every test here touches the database: marked statically so pytest-django runs them
# before the transactional tests that flush it (fixtures asked for by name are invisible).
pytestmark = pytest.mark.django_db

ClientFor = Callable[[User | None], APIClient]

SHENZHEN_WAGES = [
    {"effective_from": "2018-07-01", "monthly": 2200},
    {"effective_from": "2022-07-01", "monthly": 2360},
    {"effective_from": "2025-03-01", "monthly": 2520},
]


@pytest.fixture
def client(caseworker: User, client_for: ClientFor) -> APIClient:
    return client_for(caseworker)


def expected_counties() -> list[dict[str, Any]]:
    """The counties as the reference data describes them (townships without their own
    coordinates take the county seat's)."""
    out = []
    for c in sorted(read("regions")["counties"], key=lambda c: c["code"]):
        townships = []
        for t in sorted(c["townships"], key=lambda t: t["code"]):
            own = t["lat"] is not None and t["lng"] is not None
            townships.append(
                {
                    "code": t["code"],
                    "name": t["name"],
                    "pinyin": t["pinyin"],
                    "lat": t["lat"] if own else c["lat"],
                    "lng": t["lng"] if own else c["lng"],
                    "coords_from_seat": not own,
                    "is_seat": t["is_seat"],
                }
            )
        out.append(
            {
                "code": c["code"],
                "name": c["name"],
                "pinyin": c["pinyin"],
                "kind": c["kind"],
                "seat": c["seat"],
                "lat": c["lat"],
                "lng": c["lng"],
                "est_road_km_to_shenzhen": c["est_road_km_to_shenzhen"],
                "est_coach_hours_to_shenzhen": c["est_coach_hours_to_shenzhen"],
                "legacy_codes": sorted(code["code"] for code in c["legacy_codes"]),
                "townships": townships,
            }
        )
    return out


def test_counties(client: APIClient) -> None:
    body = client.get("/api/v1/counties/").json()

    assert body["count"] == 12
    assert body["results"] == expected_counties()
    assert sum(len(c["townships"]) for c in body["results"]) == 137
    assert [c["name"] for c in body["results"]] == [
        "右江区", "田阳区", "田东县", "德保县", "那坡县", "凌云县",
        "乐业县", "田林县", "西林县", "隆林各族自治县", "靖西市", "平果市",
    ]  # fmt: skip


def test_one_county(client: APIClient) -> None:
    body = client.get("/api/v1/counties/451081/").json()

    assert {k: v for k, v in body.items() if k != "townships"} == {
        "code": "451081",
        "name": "靖西市",
        "pinyin": "Jìngxī Shì",
        "kind": "县级市 (border; city since 2015)",
        "seat": "新靖镇",
        "lat": 23.134117,
        "lng": 106.417805,
        "est_road_km_to_shenzhen": 960,
        "est_coach_hours_to_shenzhen": 14.6,
        "legacy_codes": ["451025", "452626"],
    }
    assert len(body["townships"]) == 19
    assert body["townships"][:2] == [
        {
            "code": "451081100",
            "name": "新靖镇",
            "pinyin": "Xīnjìng Zhèn",
            "lat": 23.134117,
            "lng": 106.417805,
            "coords_from_seat": False,
            "is_seat": True,
        },
        {
            "code": "451081101",
            "name": "化峒镇",
            "pinyin": "Huàdòng Zhèn",
            "lat": 23.134117,
            "lng": 106.417805,
            "coords_from_seat": True,
            "is_seat": False,
        },
    ]


def test_destinations(client: APIClient) -> None:
    body = client.get("/api/v1/destinations/").json()

    assert body["count"] == 33
    codes = [d["code"] for d in body["results"]]
    assert codes == sorted(codes)
    by_code = {d["code"]: d for d in body["results"]}
    assert by_code["440300"]["parent"] is None
    assert by_code["440300"]["city"] == "440300"
    assert {d["city"] for d in body["results"]} == {
        "440300", "441900", "440100", "440600", "441300", "442000",
    }  # fmt: skip


def test_a_destination_shows_its_citys_minimum_wages(client: APIClient) -> None:
    assert client.get("/api/v1/destinations/440306020/").json() == {
        "code": "440306020",
        "name": "福永街道",
        "pinyin": "",
        "kind": "street",
        "parent": "440306",
        "city": "440300",
        "lat": 22.67,
        "lng": 113.82,
        "minimum_wages": SHENZHEN_WAGES,
    }
    dongguan_town = client.get("/api/v1/destinations/441900119/").json()
    assert (dongguan_town["name"], dongguan_town["city"]) == ("长安镇", "441900")
    assert dongguan_town["minimum_wages"] == [
        {"effective_from": "2021-12-01", "monthly": 1900},
        {"effective_from": "2025-03-01", "monthly": 2080},
    ]


def test_occupations(client: APIClient) -> None:
    body = client.get("/api/v1/occupations/").json()

    assert body["count"] == 19
    assert [o["key"] for o in body["results"]] == sorted(
        o["key"] for o in read("occupations")["occupations"]
    )
    assert client.get("/api/v1/occupations/electronics_operator/").json() == {
        "key": "electronics_operator",
        "name_zh": "电子厂普工/装配",
        "name_en": "electronics assembly operator",
        "classification_code": "6-25-04",
        "code_confidence": "likely",
        "wage_low": 4500,
        "wage_high": 6500,
        "related": ["garment_sewer", "warehouse_picker"],
    }


def test_related_occupations_are_symmetric(client: APIClient) -> None:
    body = client.get("/api/v1/occupations/").json()
    related = {o["key"]: set(o["related"]) for o in body["results"]}

    for key, others in related.items():
        for other in others:
            assert key in related[other]


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/counties/999999/",
        "/api/v1/counties/45108/",
        "/api/v1/destinations/440306999/",
        "/api/v1/occupations/astronaut/",
    ],
)
def test_unknown_codes_are_404(path: str, client: APIClient) -> None:
    response = client.get(path)

    assert response.status_code == 404
    assert response.json() == {"message": "Not found.", "extra": {}}


@pytest.mark.parametrize(
    "path", ["/api/v1/counties/", "/api/v1/destinations/", "/api/v1/occupations/"]
)
@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_the_vocabulary_is_read_only(method: str, path: str, client: APIClient) -> None:
    detail = {
        "/api/v1/counties/": "451081/",
        "/api/v1/destinations/": "440300/",
        "/api/v1/occupations/": "cook/",
    }[path]
    url = path if method == "post" else path + detail

    response = getattr(client, method)(url, {"name": "x"}, format="json")

    assert response.status_code == 405
    assert response.json() == {
        "message": f'Method "{method.upper()}" not allowed.',
        "extra": {},
    }


@pytest.mark.parametrize(
    "path", ["/api/v1/counties/", "/api/v1/destinations/", "/api/v1/occupations/"]
)
def test_the_vocabulary_needs_an_account(path: str, db: None, client_for: ClientFor) -> None:
    response = client_for(None).get(path)

    assert response.status_code == 401
    assert response.json() == {
        "message": "Authentication credentials were not provided.",
        "extra": {},
    }
