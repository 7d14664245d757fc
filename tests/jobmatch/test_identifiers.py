from datetime import date

import pytest

from jobmatch.identifiers import (
    IdentifierError,
    mask_phone,
    mask_resident_id,
    parse_mobile,
    parse_resident_id,
    parse_uscc,
    resident_id_check_character,
    uscc_check_character,
)

TODAY = date(2026, 11, 25)


USCC_SHAPE = (
    "A unified social credit code has 18 characters: digits and capital letters "
    "except I, O, S, V and Z."
)


def with_check(first17: str) -> str:
    return first17 + resident_id_check_character(first17)


@pytest.mark.parametrize(
    ("number", "gender", "birth", "outside"),
    [
        ("451081199003151239", "male", date(1990, 3, 15), False),
        ("451022198507220045", "female", date(1985, 7, 22), False),
        ("451021197601010078", "male", date(1976, 1, 1), False),  # legacy 田阳县 code
        ("440306199208080052", "male", date(1992, 8, 8), True),
    ],
)
def test_valid_resident_ids(number: str, gender: str, birth: date, outside: bool) -> None:
    parsed = parse_resident_id(number, today=TODAY)
    assert (parsed.number, parsed.gender, parsed.birth_date, parsed.from_outside_baise) == (
        number,
        gender,
        birth,
        outside,
    )


def test_resident_id_normalises_full_width_spaces_and_lowercase_x() -> None:
    assert (
        parse_resident_id(" ４５１０８１１９９００３１５１２３９ ", today=TODAY).number
        == "451081199003151239"
    )
    # 452626: 靖西县 under the old 百色地区, printed on IDs issued before 2002.
    assert (
        parse_resident_id(with_check("45262619800101001"), today=TODAY).from_outside_baise is False
    )
    x_number = "11010519491231002x"
    assert parse_resident_id(x_number, today=date(2000, 1, 1)).number == "11010519491231002X"


@pytest.mark.parametrize(
    ("number", "message"),
    [
        (
            "45108119900315123",
            "A resident ID number has 18 characters: 17 digits and a final digit or X.",
        ),
        (
            "45108119900315123A",
            "A resident ID number has 18 characters: 17 digits and a final digit or X.",
        ),
        (
            # Arabic-Indic digits are digits to `\d` and `int()`, but not an ID number.
            "451081" + "١٩٩٠٠٣١٥٠١٤" + "8",
            "A resident ID number has 18 characters: 17 digits and a final digit or X.",
        ),
        ("451081199003151230", "The check character of the resident ID number is wrong."),
        ("451081199002301234", "The birth date 19900230 in the resident ID number does not exist."),
        (
            with_check("99999919900315123"),
            "The region code 999999 of the resident ID number is unknown.",
        ),
        (
            with_check("45109919900315123"),
            "The region code 451099 of the resident ID number is unknown.",
        ),
        (
            with_check("45108120270101001"),
            "The birth date in the resident ID number is in the future.",
        ),
        (with_check("45108120150101001"), "The laborer must be at least 16 years old."),
        (
            with_check("45108119500101001"),
            "The birth date 1950-01-01 gives an age over 70: check the number.",
        ),
    ],
)
def test_invalid_resident_ids(number: str, message: str) -> None:
    with pytest.raises(IdentifierError) as excinfo:
        parse_resident_id(number, today=TODAY)
    assert str(excinfo.value) == message


def test_age_boundary_is_the_birthday() -> None:
    number = with_check("45108120101126001")
    with pytest.raises(IdentifierError):
        parse_resident_id(number, today=date(2026, 11, 25))
    assert parse_resident_id(number, today=date(2026, 11, 26)).birth_date == date(2010, 11, 26)


@pytest.mark.parametrize(
    "code",
    ["91350100M000100Y43", "91440306MA5F0Q1A97", "91441900MA5G12BX1T", "91451002MA5N00015P"],
)
def test_valid_uscc(code: str) -> None:
    assert parse_uscc(code.lower()) == code


def test_uscc_starting_with_letters_is_legal() -> None:
    for prefix in ("N2451081", "Y1440300"):
        first17 = prefix + "MA5N0001"[:9].ljust(9, "0")
        code = first17 + uscc_check_character(first17)
        assert parse_uscc(code) == code


@pytest.mark.parametrize(
    ("code", "message"),
    [
        (
            "91350100M000100Y4",
            USCC_SHAPE,
        ),
        (
            "91350100M000100I43",
            USCC_SHAPE,
        ),
        ("91350100M000100Y44", "The check character of the unified social credit code is wrong."),
    ],
)
def test_invalid_uscc(code: str, message: str) -> None:
    with pytest.raises(IdentifierError) as excinfo:
        parse_uscc(code)
    assert str(excinfo.value) == message


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("13812341234", "13812341234"),
        ("+86 138-1234-1234", "13812341234"),
        ("008613812341234", "13812341234"),
        ("１６２１２３４５６７８", "16212345678"),
        ("19312345678", "19312345678"),
    ],
)
def test_valid_mobiles(raw: str, clean: str) -> None:
    assert parse_mobile(raw) == clean


@pytest.mark.parametrize(
    "raw", ["1381234123", "12012345678", "075512345678", "+1 415 555 0100", "abc", ""]
)
def test_invalid_mobiles(raw: str) -> None:
    with pytest.raises(IdentifierError) as excinfo:
        parse_mobile(raw)
    assert str(excinfo.value) == "Enter an 11-digit mainland mobile number."


def test_masks() -> None:
    assert mask_resident_id("451081199003151239") == "451081********1239"
    assert mask_phone("13812341234") == "138****1234"
