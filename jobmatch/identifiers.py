"""Chinese identifiers: resident ID (GB 11643), credit code (GB 32100), mobile numbers.

Each `parse_*` function normalises what people type (full-width digits, surrounding
spaces, a lowercase x) and either returns the clean value or raises `IdentifierError`
with a message fit to show to the caseworker. python-stdnum's `cn.ric` and `cn.uscc`
are not used: the first rejects valid numbers whose region code did not exist in the
birth year and accepts future birth dates, the second rejects legal codes starting with
letters (see STACK-NOTES). Their building blocks (ISO 7064 MOD 11-2, the region table)
are sound and used here.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from functools import cache

import phonenumbers
from django.utils.translation import gettext as _
from stdnum import numdb
from stdnum.iso7064 import mod_11_2

MIN_AGE = 16
# Registration is for work: older ages are typing mistakes far more often than laborers.
MAX_AGE = 70
BAISE_PREFIXES = ("4510", "4526")  # 4526xx: 百色地区 codes until 2002, still on old IDs
# Residence-permit prefixes of Hong Kong, Macao and Taiwan residents (not in GB/T 2260).
PERMIT_REGIONS = {"810000", "820000", "830000"}


class IdentifierError(ValueError):
    pass


def normalize(value: str) -> str:
    """Full-width to half-width, spaces removed at both ends, upper case."""
    return unicodedata.normalize("NFKC", value).strip().upper()


@dataclass(frozen=True)
class ResidentId:
    number: str
    region: str
    birth_date: date
    gender: str  # "male" or "female"
    from_outside_baise: bool


# ASCII digits only: `\d` would also take Arabic-Indic and other Unicode digits, which NFKC
# leaves alone, and one person could then be registered twice under two spellings.
_RESIDENT_ID_RE = re.compile(r"^[0-9]{17}[0-9X]$")


@cache
def region_is_known(code: str) -> bool:
    """A county-level code that exists or existed in GB/T 2260 (any year)."""
    if code in PERMIT_REGIONS:
        return True
    if code.endswith("00"):
        return False  # province and prefecture codes: an ID carries a county-level code
    parts = numdb.get("cn/loc").info(code)
    return any("county" in props for _, props in parts)


def age_on(birth_date: date, on: date) -> int:
    return on.year - birth_date.year - ((on.month, on.day) < (birth_date.month, birth_date.day))


def parse_resident_id(value: str, *, today: date) -> ResidentId:
    number = normalize(value)
    if not _RESIDENT_ID_RE.match(number):
        raise IdentifierError(
            _("A resident ID number has 18 characters: 17 digits and a final digit or X.")
        )
    try:
        birth = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise IdentifierError(
            _("The birth date %(date)s in the resident ID number does not exist.")
            % {"date": number[6:14]}
        ) from None
    if mod_11_2.calc_check_digit(number[:17]) != number[17]:
        raise IdentifierError(_("The check character of the resident ID number is wrong."))
    region = number[:6]
    if not region_is_known(region):
        raise IdentifierError(
            _("The region code %(region)s of the resident ID number is unknown.")
            % {"region": region}
        )
    if birth > today:
        raise IdentifierError(_("The birth date in the resident ID number is in the future."))
    if age_on(birth, today) < MIN_AGE:
        raise IdentifierError(
            _("The laborer must be at least %(age)s years old.") % {"age": MIN_AGE}
        )
    if age_on(birth, today) > MAX_AGE:
        raise IdentifierError(
            _("The birth date %(date)s gives an age over %(age)s: check the number.")
            % {"date": birth.isoformat(), "age": MAX_AGE}
        )
    return ResidentId(
        number=number,
        region=region,
        birth_date=birth,
        gender="male" if int(number[16]) % 2 == 1 else "female",
        from_outside_baise=not region.startswith(BAISE_PREFIXES),
    )


def mask_resident_id(number: str) -> str:
    """451081********1239: region kept, birth date and sequence hidden."""
    if len(number) != 18:
        return "*" * len(number)
    return number[:6] + "*" * 8 + number[14:]


# GB 32100-2015: 18 characters over an alphabet without I, O, S, V, Z.
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_USCC_RE = re.compile(rf"^[{USCC_ALPHABET}]{{18}}$")


def uscc_check_character(first17: str) -> str:
    total = sum(USCC_ALPHABET.index(ch) * w for ch, w in zip(first17, _USCC_WEIGHTS, strict=True))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def parse_uscc(value: str) -> str:
    code = normalize(value)
    if not _USCC_RE.match(code):
        raise IdentifierError(
            _(
                "A unified social credit code has 18 characters: digits and capital letters "
                "except I, O, S, V and Z."
            )
        )
    if uscc_check_character(code[:17]) != code[17]:
        raise IdentifierError(_("The check character of the unified social credit code is wrong."))
    return code


def parse_mobile(value: str) -> str:
    """A mainland mobile number as 11 digits (+86 / 0086 prefixes and separators allowed)."""
    raw = re.sub(r"[\s\-()]", "", normalize(value))
    if raw.startswith("0086"):
        raw = "+86" + raw[4:]
    try:
        parsed = phonenumbers.parse(raw, "CN")
    except phonenumbers.NumberParseException:
        raise IdentifierError(_("Enter an 11-digit mainland mobile number.")) from None
    national = str(parsed.national_number)
    if (
        parsed.country_code != 86
        or len(national) != 11
        or not phonenumbers.is_valid_number(parsed)
        or phonenumbers.number_type(parsed) != phonenumbers.PhoneNumberType.MOBILE
    ):
        raise IdentifierError(_("Enter an 11-digit mainland mobile number."))
    return national


def mask_phone(phone: str) -> str:
    """138****1234."""
    if len(phone) != 11:
        return "*" * len(phone)
    return phone[:3] + "****" + phone[7:]


def resident_id_check_character(first17: str) -> str:
    """The GB 11643 check character for the first 17 digits (generators and tests)."""
    return mod_11_2.calc_check_digit(first17)
