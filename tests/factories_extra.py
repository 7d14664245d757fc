"""Request payloads and small helpers shared by the registry API tests."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.fields import DateTimeField

from jobmatch.identifiers import resident_id_check_character, uscc_check_character

# A resident ID of 靖西市 (451081) that no factory generates (factories use 1990-03-15).
ID_NUMBER = "451081198806010021"  # female, born 1988-06-01
assert ID_NUMBER[17] == resident_id_check_character(ID_NUMBER[:17])
PHONE = "13912345678"


def with_check(first17: str) -> str:
    return first17 + resident_id_check_character(first17)


def with_uscc_check(first17: str) -> str:
    return first17 + uscc_check_character(first17)


# A credit code that no factory generates (factories use 91440306...).
USCC = with_uscc_check("91441900MA4W00001")


def iso(value: datetime) -> str:
    """A datetime as the API renders it (local time zone, ISO 8601)."""
    return DateTimeField().to_representation(value)


def in_days(days: int) -> date:
    return timezone.localdate() + timedelta(days=days)


def laborer_payload(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": "黄秀英",
        "id_number": ID_NUMBER,
        "phone": PHONE,
        "county": "451081",
        "township": "451081101",
        "village": "大道村",
        "skills": [{"occupation": "garment_sewer", "years": 3}],
        "preferred_destinations": ["440306020", "441900119"],
        "min_monthly_wage": 4200,
        "available_from": in_days(10).isoformat(),
        "poverty_alleviated": True,
        "monitored_household": False,
        "employment_difficulty": False,
        "consent_to_share": True,
    }
    data.update(overrides)
    return data


def employer_payload(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": "东莞市长安精密五金有限公司",
        "uscc": USCC,
        "destination": "441900119",
        "address": "长安镇霄边社区",
        "contact_name": "李主管",
        "contact_phone": "13712345678",
    }
    data.update(overrides)
    return data


def vacancy_payload(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "title": "SMT 操作工",
        "occupation": "electronics_operator",
        "openings": 20,
        "wage_min": 4800,
        "wage_max": 6800,
        "destination": "440306020",
        "age_min": 18,
        "age_max": 45,
        "start_date": in_days(30).isoformat(),
        "end_date": None,
        "accommodation": True,
        "meals": False,
        "status": "open",
    }
    data.update(overrides)
    return data


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: Any) -> None:
    """Every user fixture hashes a password: PBKDF2 costs half a second a time here.

    Import it into a test module to make it autouse there.
    """
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
