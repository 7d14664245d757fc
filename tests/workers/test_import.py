"""/api/v1/laborers/import/, its template and /api/v1/laborers/export/ (village sheets)."""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Callable, Iterator
from datetime import date, datetime
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook, load_workbook
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.test import APIClient

from jobmatch.models import AccessLog, User
from tests.factories import LaborerFactory, mobile, resident_id
from workers import imports, services
from workers.models import Laborer, LaborerSkill, LaborerStatus, StatusEvent

# Every test here touches the database: marked statically so pytest-django runs them
# before the transactional tests that flush it (fixtures asked for by name are invisible).
pytestmark = pytest.mark.django_db

URL = "/api/v1/laborers/import/"
TEMPLATE_URL = "/api/v1/laborers/import/template/"
EXPORT_URL = "/api/v1/laborers/export/"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

KEYS = [
    "name",
    "id_number",
    "phone",
    "county",
    "township",
    "village",
    "skills",
    "preferred_destinations",
    "min_monthly_wage",
    "available_from",
    "poverty_alleviated",
    "monitored_household",
    "employment_difficulty",
    "consent_to_share",
]
CHINESE = [
    "姓名",
    "身份证号",
    "手机号",
    "县(市、区)",
    "乡镇(街道)",
    "村(社区)",
    "技能",
    "意向务工地",
    "期望最低月薪",
    "可出发日期",
    "脱贫户",
    "监测户",
    "就业困难人员",
    "同意共享信息",
]
COMBINED = [f"{zh} {key}" for zh, key in zip(CHINESE, KEYS, strict=True)]
REQUIRED = {"name", "id_number", "phone", "county", "township", "available_from"}
FULL_WIDTH = str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")
ROLE_REFUSED = {"message": "Your role may not do this.", "extra": {}}

ClientFor = Callable[[User | None], APIClient]


def person(n: int, **changes: Any) -> dict[str, Any]:
    """One sheet row as a village types it: names for codes, 是/否, lists with 、 and ;."""
    row = {
        "name": f"黄{n}",
        "id_number": resident_id(n),
        "phone": mobile(n),
        "county": "靖西市",
        "township": "新靖镇",
        "village": "新靖村",
        "skills": "电子厂普工/装配:3; 焊工:2",
        "preferred_destinations": "宝安区、东莞市",
        "min_monthly_wage": 4500,
        "available_from": "2026-12-01",
        "poverty_alleviated": "是",
        "monitored_household": "否",
        "employment_difficulty": "",
        "consent_to_share": "是",
    }
    row.update(changes)
    return row


def stored(n: int, *, by: User, **changes: Any) -> dict[str, Any]:
    """The laborer that `person(n, ...)` registers, as `saved()` reads it back."""
    record = {
        "name": f"黄{n}",
        "id_number": resident_id(n),
        "gender": "male",
        "birth_date": date(1990, 3, 15),
        "from_outside_baise": False,
        "phone": mobile(n),
        "county_id": "451081",
        "township_id": "451081100",
        "village": "新靖村",
        "min_monthly_wage": 4500,
        "available_from": date(2026, 12, 1),
        "poverty_alleviated": True,
        "monitored_household": False,
        "employment_difficulty": False,
        "consent_to_share": True,
        "status": LaborerStatus.REGISTERED,
        "created_by_id": by.pk,
        "household_id": None,
        "skills": [("electronics_operator", 3), ("welder", 2)],
        "preferred_destinations": ["440306", "441900"],
    }
    record.update(changes)
    return record


def saved() -> list[dict[str, Any]]:
    """Every laborer with skills and destinations, by ID number (no ids or timestamps)."""
    fields = [
        "name",
        "id_number",
        "gender",
        "birth_date",
        "from_outside_baise",
        "phone",
        "county_id",
        "township_id",
        "village",
        "min_monthly_wage",
        "available_from",
        "poverty_alleviated",
        "monitored_household",
        "employment_difficulty",
        "consent_to_share",
        "status",
        "created_by_id",
        "household_id",
    ]
    records = []
    for laborer in Laborer.objects.order_by("id_number"):
        record = {name: getattr(laborer, name) for name in fields}
        record["skills"] = list(
            laborer.skills.order_by("occupation_id").values_list("occupation_id", "years")
        )
        record["preferred_destinations"] = sorted(
            laborer.preferred_destinations.values_list("code", flat=True)
        )
        records.append(record)
    return records


def database() -> dict[str, list[dict[str, Any]]]:
    """Every row an import may write, ids and timestamps included."""
    through = Laborer.preferred_destinations.through
    return {
        "laborers": list(Laborer.objects.order_by("id").values()),
        "skills": list(LaborerSkill.objects.order_by("id").values()),
        "destinations": list(through.objects.order_by("id").values()),
        "events": list(StatusEvent.objects.order_by("id").values()),
    }


def xlsx(rows: list[dict[str, Any]], header: list[str] = COMBINED) -> bytes:
    """A workbook whose first sheet has `header` (in the order of KEYS) and the rows."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(header)
    for row in rows:
        sheet.append([row.get(key) for key in KEYS])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def csv_bytes(
    rows: list[dict[str, Any]], *, encoding: str, header: list[str] = CHINESE, delimiter: str = ","
) -> bytes:
    text = io.StringIO()
    writer = csv.writer(text, delimiter=delimiter)
    writer.writerow(header)
    for row in rows:
        writer.writerow(["" if row[key] is None else row[key] for key in KEYS])
    return text.getvalue().encode(encoding)


def upload(
    client: APIClient, content: bytes, *, name: str = "村表.xlsx", dry_run: str | None = None
) -> Response:
    data: dict[str, Any] = {"file": SimpleUploadedFile(name, content)}
    if dry_run is not None:
        data["dry_run"] = dry_run
    return client.post(URL, data, format="multipart")


def result(
    rows: int,
    *,
    created: int = 0,
    updated: int = 0,
    unchanged: int = 0,
    rejected: list[dict[str, Any]] | None = None,
    dry_run: bool = False,
) -> dict[str, Any]:
    return {
        "dry_run": dry_run,
        "rows": rows,
        "created": created,
        "updated": updated,
        "unchanged": unchanged,
        "rejected": rejected or [],
    }


def file_error(message: str) -> dict[str, Any]:
    return {"message": message, "extra": {"file": [message]}}


@pytest.fixture
def as_caseworker(client_for: ClientFor, caseworker: User) -> APIClient:
    return client_for(caseworker)


@pytest.fixture
def saved_hook_calls() -> Iterator[list[list[int]]]:
    calls: list[list[int]] = []
    services.laborer_saved_hooks.append(calls.append)
    yield calls
    services.laborer_saved_hooks.remove(calls.append)


# ------------------------------------------------------------------------------ import


def test_valid_rows_are_saved_and_invalid_rows_listed(
    as_caseworker: APIClient,
    caseworker: User,
    saved_hook_calls: list[list[int]],
    django_capture_on_commit_callbacks: Any,
) -> None:
    sheet = xlsx(
        [
            person(1),
            person(2, phone="12345", available_from="next week"),
            person(3, skills="保安员:5、快递员", preferred_destinations="440300"),
            person(4, county="靖西县", min_monthly_wage="abc"),
            person(5, township="451002001", skills="挖掘机:2; 焊工:x"),
            person(6, preferred_destinations="火星", consent_to_share="也许"),
            person(7, name=None, min_monthly_wage=0),
        ]
    )

    with django_capture_on_commit_callbacks(execute=True):
        response = upload(as_caseworker, sheet)

    assert response.status_code == 200
    assert response.json() == result(
        7,
        created=2,
        rejected=[
            {
                "row": 3,
                "errors": {
                    "phone": ["Enter an 11-digit mainland mobile number."],
                    "available_from": [
                        "Date has wrong format. Use one of these formats instead: YYYY-MM-DD."
                    ],
                },
            },
            {
                "row": 5,
                "errors": {
                    "county": [
                        "Unknown county name '靖西县': use a county code or name from the "
                        "说明 sheet of the template."
                    ],
                    "township": [
                        "Unknown township name '新靖镇': use a township code or name from the "
                        "说明 sheet of the template."
                    ],
                    "min_monthly_wage": ["A valid integer is required."],
                },
            },
            {
                "row": 6,
                "errors": {
                    "township": ["Township 451002001 is not in county 451081."],
                    "skills[0].occupation": ["Unknown occupation '挖掘机'."],
                    "skills[1].years": ["A valid integer is required."],
                },
            },
            {
                "row": 7,
                "errors": {
                    "preferred_destinations": [
                        "Unknown destination name '火星': use a destination code or name from "
                        "the 说明 sheet of the template."
                    ],
                    "consent_to_share": [
                        "Enter 是 or 否 (or yes/no, true/false, 1/0, Y/N), not '也许'."
                    ],
                },
            },
            {
                "row": 8,
                "errors": {
                    "name": ["This field is required."],
                    "min_monthly_wage": ["Ensure this value is greater than or equal to 1."],
                },
            },
        ],
    )
    assert saved() == [
        stored(1, by=caseworker),
        stored(
            3,
            by=caseworker,
            skills=[("courier", 0), ("security_guard", 5)],
            preferred_destinations=["440300"],
        ),
    ]
    ids = sorted(Laborer.objects.values_list("id", flat=True))
    assert list(
        StatusEvent.objects.order_by("laborer_id").values_list(
            "laborer_id", "from_status", "to_status", "actor_id", "note"
        )
    ) == [(pk, "", LaborerStatus.REGISTERED, caseworker.pk, "sheet import") for pk in ids]
    # Suggestions are computed for every saved laborer, once the rows are committed.
    # One call for the whole sheet, after the commit.
    assert saved_hook_calls == [ids]


def test_importing_the_same_sheet_twice_changes_nothing(as_caseworker: APIClient) -> None:
    sheet = xlsx([person(1), person(2, skills="", preferred_destinations=""), person(3)])
    assert upload(as_caseworker, sheet).json() == result(3, created=3)
    before = database()

    response = upload(as_caseworker, sheet)

    assert response.status_code == 200
    assert response.json() == result(3, unchanged=3)
    assert database() == before


def test_a_changed_row_updates_the_laborer(as_caseworker: APIClient, caseworker: User) -> None:
    upload(as_caseworker, xlsx([person(1), person(2), person(3)]))
    before = {row["id_number"]: row for row in database()["laborers"]}
    events = database()["events"]

    response = upload(
        as_caseworker,
        xlsx(
            [
                person(1),
                person(2, phone=mobile(99), township="化峒镇", min_monthly_wage=None),
                person(3, skills="焊工:4", preferred_destinations="", monitored_household="是"),
            ]
        ),
    )

    assert response.json() == result(3, updated=2, unchanged=1)
    assert saved() == [
        stored(1, by=caseworker),
        stored(2, by=caseworker, phone=mobile(99), township_id="451081101", min_monthly_wage=None),
        stored(
            3,
            by=caseworker,
            skills=[("welder", 4)],
            preferred_destinations=[],
            monitored_household=True,
        ),
    ]
    after = {row["id_number"]: row for row in database()["laborers"]}
    assert [after[n]["id"] for n in after] == [before[n]["id"] for n in after]
    assert after[resident_id(1)]["updated_at"] == before[resident_id(1)]["updated_at"]
    assert after[resident_id(2)]["updated_at"] > before[resident_id(2)]["updated_at"]
    assert database()["events"] == events  # an update is not a status change


def test_a_column_left_out_keeps_its_values_and_an_empty_cell_clears_them(
    as_caseworker: APIClient, caseworker: User
) -> None:
    upload(as_caseworker, xlsx([person(1), person(2)]))
    without_skills = [label for label in COMBINED if not label.startswith("技能")]
    workbook = Workbook()
    workbook.active.append(without_skills)
    workbook.active.append([person(1, village="")[k] for k in KEYS if k != "skills"])
    workbook.active.append([person(2)[k] for k in KEYS if k != "skills"])
    buffer = io.BytesIO()
    workbook.save(buffer)

    response = upload(as_caseworker, buffer.getvalue())

    assert response.json() == result(2, updated=1, unchanged=1)
    assert saved() == [stored(1, by=caseworker, village=""), stored(2, by=caseworker)]

    response = upload(as_caseworker, xlsx([person(1, village="", skills=None), person(2)]))

    assert response.json() == result(2, updated=1, unchanged=1)
    assert saved() == [
        stored(1, by=caseworker, village="", skills=[]),
        stored(2, by=caseworker),
    ]


def test_a_dry_run_writes_nothing_and_counts_what_a_real_run_does(
    as_caseworker: APIClient,
) -> None:
    upload(as_caseworker, xlsx([person(1), person(2)]))
    sheet = xlsx([person(1), person(2, village="百合村"), person(3), person(4, phone="1")])
    before = database()
    rejected = [{"row": 5, "errors": {"phone": ["Enter an 11-digit mainland mobile number."]}}]

    response = upload(as_caseworker, sheet, dry_run="true")

    assert response.status_code == 200
    assert response.json() == result(
        4, created=1, updated=1, unchanged=1, rejected=rejected, dry_run=True
    )
    assert database() == before

    response = upload(as_caseworker, sheet, dry_run="false")

    assert response.json() == result(4, created=1, updated=1, unchanged=1, rejected=rejected)
    assert Laborer.objects.count() == 3


@pytest.mark.parametrize(
    "header",
    [
        COMBINED,
        CHINESE,
        KEYS,
        # As people retype them: full-width brackets, spaces, capitals, official names.
        [
            "姓 名",
            "公民身份号码",
            "手机号码",
            "县（市、区）",
            "乡镇（街道）",
            "村（社区）",
            "Skills",
            "Preferred Destinations",
            "期望最低月薪（元）",
            "AVAILABLE_FROM",
            "脱贫户",
            "监测户",
            "就业困难人员",
            "同意共享求职信息",
        ],
    ],
    ids=["combined", "chinese", "english", "retyped"],
)
def test_headers_in_chinese_english_or_both(
    as_caseworker: APIClient, caseworker: User, header: list[str]
) -> None:
    workbook = Workbook()
    workbook.active.append(header)
    workbook.active.append([person(1)[key] for key in KEYS])
    buffer = io.BytesIO()
    workbook.save(buffer)

    response = upload(as_caseworker, buffer.getvalue())

    assert response.json() == result(1, created=1)
    assert saved() == [stored(1, by=caseworker)]


@pytest.mark.parametrize(
    ("encoding", "delimiter"),
    [("utf-8-sig", ","), ("gbk", ","), ("utf-8", ","), ("utf-16", "\t")],
    ids=["utf-8-bom", "gbk", "utf-8", "excel-unicode-text"],
)
def test_csv_in_utf8_with_bom_or_gbk(
    as_caseworker: APIClient, caseworker: User, encoding: str, delimiter: str
) -> None:
    content = csv_bytes(
        [person(1, skills="电子厂普工/装配：3；焊工：2")], encoding=encoding, delimiter=delimiter
    )

    response = upload(as_caseworker, content, name="村表.csv")

    assert response.json() == result(1, created=1)
    assert saved() == [stored(1, by=caseworker)]


def test_excel_cells_typed_as_numbers_dates_and_booleans(
    as_caseworker: APIClient, caseworker: User
) -> None:
    sheet = xlsx(
        [
            # What Excel makes of typed values: a number phone, date cells, TRUE, 1.
            person(
                1,
                phone=float(mobile(1)),
                available_from=datetime(2026, 12, 1),
                min_monthly_wage=4500.0,
                poverty_alleviated=True,
                consent_to_share=1,
            ),
            person(2, id_number=resident_id(2).lower(), available_from="2026/12/1"),
            person(
                3,
                # Typed with a Chinese input method: full-width digits, a trailing space.
                id_number=resident_id(3).translate(FULL_WIDTH) + " ",
                available_from="2026年12月1日",
                poverty_alleviated="Y",
            ),
            person(4, id_number=float(resident_id(4))),
            person(5, id_number="4.51081E+17", phone="1.38E+10"),
        ]
    )

    response = upload(as_caseworker, sheet)

    assert response.json() == result(
        5,
        created=3,
        rejected=[
            {
                "row": 5,
                "errors": {
                    "id_number": [
                        "The ID number was stored as a number and lost its last digits: "
                        "format the 身份证号 column as text and type the number again."
                    ]
                },
            },
            {
                "row": 6,
                "errors": {
                    "id_number": [
                        "The ID number was saved in scientific notation (4.51081E+17) and lost "
                        "digits: format the 身份证号 column as text and type the number again."
                    ],
                    "phone": [
                        "The phone number was saved in scientific notation (1.38E+10) and lost "
                        "digits: format the 手机号 column as text and type the number again."
                    ],
                },
            },
        ],
    )
    assert saved() == [stored(1, by=caseworker), stored(2, by=caseworker), stored(3, by=caseworker)]


def test_blank_rows_are_skipped_and_row_numbers_stay_those_of_the_sheet(
    as_caseworker: APIClient,
) -> None:
    blank = dict.fromkeys(KEYS)
    sheet = xlsx([person(1), blank, blank, person(2, phone="1"), blank])

    response = upload(as_caseworker, sheet)

    assert response.json() == result(
        2,
        created=1,
        rejected=[{"row": 5, "errors": {"phone": ["Enter an 11-digit mainland mobile number."]}}],
    )


def test_rows_of_other_counties_are_rejected_without_revealing_their_laborer(
    as_caseworker: APIClient,
) -> None:
    LaborerFactory(id_number=resident_id(5), county_id="451002", township_id="451002001")
    before = database()

    response = upload(
        as_caseworker,
        xlsx(
            [
                person(1, county="右江区", township="百城街道"),
                person(2, county="451002", township="451002001"),
                person(5),  # in my county on the sheet, registered in 右江区
            ]
        ),
    )

    assert response.status_code == 200
    # The whole body: row 4 names no laborer id (no "existing_id" as the API's 409 for
    # a laborer one may see).
    assert response.json() == result(
        3,
        rejected=[
            {
                "row": 2,
                "errors": {"county": ["County 451002 is not one of the counties you answer for."]},
            },
            {
                "row": 3,
                "errors": {"county": ["County 451002 is not one of the counties you answer for."]},
            },
            {
                "row": 4,
                "errors": {
                    "id_number": [
                        "A laborer with this resident ID number is already registered by "
                        "another county office."
                    ]
                },
            },
        ],
    )
    assert database() == before


def test_a_repeated_id_number_rejects_the_later_row(
    as_caseworker: APIClient, caseworker: User
) -> None:
    sheet = xlsx([person(1), person(2), person(3, id_number=resident_id(1).lower() + " ")])

    response = upload(as_caseworker, sheet)

    assert response.json() == result(
        3,
        created=2,
        rejected=[{"row": 4, "errors": {"id_number": ["ID number already appears in row 2."]}}],
    )
    assert saved() == [stored(1, by=caseworker), stored(2, by=caseworker)]


def test_a_registration_racing_the_import_fails_it_whole_with_409(
    as_caseworker: APIClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    upload(as_caseworker, xlsx([person(2)]))
    before = database()
    # The laborer of row 3 is registered between the check and the insert.
    monkeypatch.setattr(imports, "_existing_by_id", lambda numbers: {})

    response = upload(as_caseworker, xlsx([person(1), person(2)]))

    assert (response.status_code, response.json()) == (
        409,
        {
            "message": "Laborers of this sheet were changed by someone else during the "
            "import: nothing was saved; import the sheet again.",
            "extra": {},
        },
    )
    assert database() == before


def test_an_upload_over_the_size_limit_is_refused_with_413(
    as_caseworker: APIClient, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.IMPORT_MAX_BYTES = 1000
    refused = {
        "message": "The file is larger than the import limit of 1000 bytes: split the sheet.",
        "extra": {},
    }
    sheet = xlsx([person(1)])
    assert 1000 < len(sheet) < 16 * 1024  # past the limit, within the multipart allowance

    response = upload(as_caseworker, sheet)

    assert (response.status_code, response.json()) == (413, refused)

    def unread(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("the body of an oversized request must not be parsed")

    monkeypatch.setattr(MultiPartParser, "parse", unread)
    big = csv_bytes([person(n) for n in range(1, 400)], encoding="utf-8")
    assert len(big) > 1000 + 16 * 1024

    response = upload(as_caseworker, big, name="村表.csv")

    assert (response.status_code, response.json()) == (413, refused)
    assert Laborer.objects.count() == 0


def test_a_sheet_over_the_row_limit_is_refused(as_caseworker: APIClient, settings: Any) -> None:
    settings.IMPORT_MAX_ROWS = 2

    response = upload(as_caseworker, xlsx([person(1), person(2), person(3)]))

    assert response.status_code == 400
    assert response.json() == file_error(
        "The sheet has more than 2 rows of laborers: split it into sheets of at most 2 rows."
    )
    assert Laborer.objects.count() == 0
    assert upload(as_caseworker, xlsx([person(1), person(2)])).json() == result(2, created=2)


def _workbook_with(header: list[str]) -> bytes:
    workbook = Workbook()
    workbook.active.append(header)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


UNREADABLE = "The file could not be read as an Excel workbook (.xlsx): it is damaged or not a \
workbook. Save it again from Excel or WPS as .xlsx."


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("村表.xlsx", b"PK\x03\x04 truncated in transit", UNREADABLE),
        ("村表.xlsx", b"name,id_number\n", UNREADABLE),
        (
            "村表.xls",
            b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64,
            "This is an old Excel 97-2003 (.xls) or a password-protected workbook: save it as "
            ".xlsx without a password, or as .csv.",
        ),
        ("村表.pdf", b"%PDF-1.7\n", "Upload an .xlsx or .csv file, not .pdf."),
        (
            "村表.csv",
            "姓名,身份证号\n".encode() + b"\x80\x81\xff\n",
            'The text encoding of the CSV file is not UTF-8 or GBK: save it again as "CSV '
            'UTF-8" or as .xlsx.',
        ),
        (
            "村表.csv",
            b"\n\n",
            "The file is empty: row 1 must be the header row of the template.",
        ),
        (
            "村表.xlsx",
            _workbook_with(["姓名", "身份证号", "县(市、区)", "乡镇(街道)"]),
            "The header row (row 1) lacks the required column(s): 手机号 phone, 可出发日期 "
            "available_from.",
        ),
        (
            "村表.xlsx",
            _workbook_with([*COMBINED, "备注"]),
            "Unknown column(s) in the header row (row 1): '备注'. Rename or delete them; the "
            "template lists the columns.",
        ),
        (
            "村表.xlsx",
            _workbook_with([*COMBINED, "name"]),
            "The column 姓名 name appears twice in the header row (columns A and O).",
        ),
    ],
    ids=[
        "corrupt-zip",
        "csv-named-xlsx",
        "xls",
        "pdf",
        "wrong-encoding",
        "empty",
        "missing-columns",
        "unknown-column",
        "repeated-column",
    ],
)
def test_unreadable_files_are_refused_with_400(
    as_caseworker: APIClient, name: str, content: bytes, message: str
) -> None:
    response = upload(as_caseworker, content, name=name)

    assert response.status_code == 400
    assert response.json() == file_error(message)
    assert Laborer.objects.count() == 0


def test_a_workbook_that_unpacks_to_far_more_than_its_size_is_refused(
    as_caseworker: APIClient, settings: Any
) -> None:
    settings.IMPORT_MAX_BYTES = 20 * 1024
    buffer = io.BytesIO(xlsx([person(1)]))
    with zipfile.ZipFile(buffer, "a", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/media/padding.bin", b"\0" * (1024 * 1024))
    assert len(buffer.getvalue()) < 20 * 1024

    response = upload(as_caseworker, buffer.getvalue())

    assert response.status_code == 400
    assert response.json() == file_error(
        "The workbook unpacks to more than 400 KB: it is not a village sheet. Save the sheet "
        "alone in a new workbook."
    )


def test_only_caseworkers_may_import(
    client_for: ClientFor, coordinator: User, employer_user: User, supervisor: User
) -> None:
    for user in (coordinator, employer_user, supervisor):
        response = upload(client_for(user), xlsx([person(1)]))
        assert (response.status_code, response.json()) == (403, ROLE_REFUSED)
    assert Laborer.objects.count() == 0


# ---------------------------------------------------------------------------- template


def test_the_template_has_the_columns_and_explains_every_allowed_value(
    as_caseworker: APIClient, caseworker: User
) -> None:
    response = as_caseworker.get(TEMPLATE_URL)

    assert response.status_code == 200
    assert response["Content-Type"] == XLSX
    assert response["Content-Disposition"] == 'attachment; filename="laborers-template.xlsx"'
    workbook = load_workbook(io.BytesIO(response.content))
    assert workbook.sheetnames == ["劳动力", "说明"]
    sheet = workbook["劳动力"]
    assert [list(row) for row in sheet.iter_rows(values_only=True)] == [COMBINED]
    assert sheet.freeze_panes == "A2"
    # ID numbers and phones as text, or Excel rounds them to 15 digits.
    assert [sheet.column_dimensions[c].number_format for c in "BCJ"] == ["@", "@", "yyyy-mm-dd"]
    assert all(sheet.column_dimensions[c].width >= 8 for c in "ABCDEFGHIJKLMN")

    lines = [tuple(v for v in row if v is not None) for row in workbook["说明"].values]
    columns = lines.index(("列名", "必填", "填写说明", "示例"))
    described = lines[columns + 1 : columns + 15]
    assert [(line[0], line[1]) for line in described] == [
        (label, "是" if key in REQUIRED else "否")
        for label, key in zip(COMBINED, KEYS, strict=True)
    ]
    for expected in [
        ("451081", "靖西市"),
        ("451002", "右江区"),
        ("451081100", "新靖镇", "靖西市"),
        ("electronics_operator", "电子厂普工/装配", "electronics assembly operator"),
        ("welder", "焊工", "welder"),
        ("440306", "宝安区", "深圳市"),
    ]:
        assert expected in lines

    assert upload(as_caseworker, response.content).json() == result(0)
    # The examples of the 说明 sheet make a row that imports.
    example = {key: line[-1] for key, line in zip(KEYS, described, strict=True)}
    response = upload(as_caseworker, xlsx([example]))
    assert response.json() == result(1, created=1)
    assert Laborer.objects.get().id_number == example["id_number"]


def test_only_staff_who_register_get_the_template(
    client_for: ClientFor, coordinator: User, employer_user: User
) -> None:
    for user in (coordinator, employer_user):
        response = client_for(user).get(TEMPLATE_URL)
        assert (response.status_code, response.json()) == (403, ROLE_REFUSED)


# ------------------------------------------------------------------------------ export


def test_an_exported_sheet_reimports_unchanged_and_the_export_is_logged(
    as_caseworker: APIClient, caseworker: User
) -> None:
    upload(
        as_caseworker,
        xlsx(
            [
                person(1),
                person(
                    2,
                    township="化峒镇",
                    village="",
                    skills="",
                    preferred_destinations="",
                    min_monthly_wage=None,
                    poverty_alleviated="否",
                    consent_to_share="否",
                ),
                person(3, id_number=resident_id(3, male=False), skills="养老护理员:10"),
            ]
        ),
    )
    # Registered through the API: any text may be typed, a formula must stay text.
    Laborer.objects.filter(id_number=resident_id(3, male=False)).update(
        village='=HYPERLINK("http://example.com")'
    )
    LaborerFactory(id_number=resident_id(9), county_id="451002", township_id="451002001")
    mine = sorted(Laborer.objects.filter(county_id="451081").values_list("id", flat=True))
    before = database()

    response = as_caseworker.get(EXPORT_URL)

    assert response.status_code == 200
    assert response["Content-Type"] == XLSX
    assert response["Content-Disposition"] == 'attachment; filename="laborers.xlsx"'
    sheet = load_workbook(io.BytesIO(response.content)).worksheets[0]
    assert [list(row) for row in sheet.iter_rows(values_only=True)] == [
        COMBINED,
        [
            "黄1",
            resident_id(1),
            mobile(1),
            "靖西市",
            "新靖镇",
            "新靖村",
            "电子厂普工/装配:3; 焊工:2",
            "宝安区; 东莞市",
            4500,
            datetime(2026, 12, 1),
            "是",
            "否",
            "否",
            "是",
        ],
        [
            "黄2",
            resident_id(2),
            mobile(2),
            "靖西市",
            "化峒镇",
            None,
            None,
            None,
            None,
            datetime(2026, 12, 1),
            "否",
            "否",
            "否",
            "否",
        ],
        [
            "黄3",
            resident_id(3, male=False),
            mobile(3),
            "靖西市",
            "新靖镇",
            '=HYPERLINK("http://example.com")',
            "养老护理员:10",
            "宝安区; 东莞市",
            4500,
            datetime(2026, 12, 1),
            "是",
            "否",
            "否",
            "是",
        ],
    ]
    assert [sheet.cell(row=2, column=c).number_format for c in (2, 3)] == ["@", "@"]
    # Typed text is never written as a formula.
    assert sheet.cell(row=4, column=6).data_type == "s"
    log = AccessLog.objects.get()
    assert (log.user, log.method, log.endpoint, log.laborer_ids, log.laborer_count) == (
        caseworker,
        "GET",
        EXPORT_URL,
        mine,
        3,
    )

    response = upload(as_caseworker, response.content, name="laborers.xlsx")

    assert response.json() == result(3, unchanged=3)
    assert database() == before


def test_the_export_applies_the_list_filters(as_caseworker: APIClient) -> None:
    upload(as_caseworker, xlsx([person(1), person(2, township="化峒镇"), person(3)]))

    response = as_caseworker.get(EXPORT_URL, {"township": "451081101"})

    rows = list(load_workbook(io.BytesIO(response.content)).worksheets[0].values)
    assert [row[:2] for row in rows[1:]] == [("黄2", resident_id(2))]
    assert AccessLog.objects.get().laborer_ids == [Laborer.objects.get(id_number=resident_id(2)).pk]


def test_an_export_larger_than_a_sheet_is_refused(as_caseworker: APIClient, settings: Any) -> None:
    upload(as_caseworker, xlsx([person(1), person(2, township="化峒镇"), person(3)]))
    settings.IMPORT_MAX_ROWS = 2

    response = as_caseworker.get(EXPORT_URL)

    assert (response.status_code, response.json()) == (
        400,
        {
            "message": "The export would hold 3 laborers, more than the 2 rows of a sheet: "
            "narrow it with the list filters (county, township, status).",
            "extra": {},
        },
    )
    assert AccessLog.objects.count() == 0
    assert as_caseworker.get(EXPORT_URL, {"township": "451081100"}).status_code == 200


def test_only_staff_who_register_may_export(
    client_for: ClientFor, coordinator: User, employer_user: User
) -> None:
    for user in (coordinator, employer_user):
        response = client_for(user).get(EXPORT_URL)
        assert (response.status_code, response.json()) == (403, ROLE_REFUSED)
    assert AccessLog.objects.count() == 0
