"""Village sheets: import (.xlsx/.csv), the template, and export.

An import reads the sheet into plain rows (`sheet_read`), turns what people type in Excel
(names instead of codes, 是/否, date cells, numbers that Excel made floats) into the API's
input, validates every row with the API's own serializer and rules (`import_plan`), and
writes all valid rows in bulk in one transaction (`import_write`). Rows are keyed by
resident ID number, so importing the same sheet twice changes nothing the second time.
Export writes the same columns as the template, so an exported sheet re-imports unchanged.
"""

from __future__ import annotations

import codecs
import csv
import io
import logging
import re
import unicodedata
import warnings
import zipfile
from collections.abc import Collection, Generator, Iterable, Sequence
from contextlib import closing
from dataclasses import dataclass, field
from datetime import date, datetime, time
from functools import partial
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, connection, transaction
from django.db.models import Prefetch, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook, load_workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.utils.datetime import from_excel
from openpyxl.worksheet.datavalidation import DataValidation
from rest_framework import serializers
from rest_framework.request import Request

from jobmatch import vocabulary
from jobmatch.api.errors import ApplicationError, Conflict, PayloadTooLarge, flatten_errors
from jobmatch.api.permissions import sees_personal_data
from jobmatch.identifiers import normalize
from jobmatch.middleware import MULTIPART_ALLOWANCE
from jobmatch.models import County, Destination, Occupation, Township, User
from workers.models import Laborer, LaborerSkill, LaborerStatus, StatusEvent
from workers.serializers import LaborerInputSerializer
from workers.services import (
    SCALAR_FIELDS,
    LaborerState,
    duplicate_error,
    laborer_rule_errors,
    laborer_saved_hooks,
    state_of,
    state_of_laborer,
)

logger = logging.getLogger(__name__)

# An .xlsx is a zip of XML: text sheets pack 5-10 times; more than this is a zip bomb.
UNPACKED_PER_PACKED = 20
# Blank rows count too (they cost reading), up to this many per allowed data row.
BLANK_ROWS_PER_ROW = 2
WRITE_BATCH = 1000
LOOKUP_BATCH = 2000

SHEET_TITLE = "劳动力"
HELP_TITLE = "说明"
TEXT_FORMAT = "@"
DATE_FORMAT = "yyyy-mm-dd"
HEADER_FONT = Font(bold=True)
HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
YES, NO = "是", "否"
TRUE_WORDS = frozenset({"是", "yes", "true", "1", "y"})
FALSE_WORDS = frozenset({"否", "no", "false", "0", "n"})
# Separators of lists in a cell (skills, destinations); NFKC has already turned the
# full-width ；，： into ;,: and Alt+Enter line breaks are separators too.
LIST_SEPARATORS = re.compile(r"[;,、\n]+")
SCIENTIFIC = re.compile(r"^\d(\.\d+)?E\+?\d+$", re.IGNORECASE)
DATE_TEXT = re.compile(
    r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:\s+\d{1,2}:\d{2}(?::\d{2})?)?$"
)
COMPACT_DATE = re.compile(r"^(\d{4})(\d{2})(\d{2})$")  # 20261201
CODE_TEXT = re.compile(r"^\d+$")
# Serial numbers of Excel dates from 1900 to 9999, for date cells stored as numbers.
EXCEL_SERIAL_MIN, EXCEL_SERIAL_MAX = 1, 2_958_465
XLSX_MAGIC = b"PK\x03\x04"
OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # .xls, and password-protected .xlsx


@dataclass(frozen=True)
class Column:
    key: str
    zh: str
    required: bool
    width: int
    help: str
    example: str
    text: bool = False  # long digit strings: formatted as text so Excel keeps every digit
    aliases: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        return f"{self.zh} {self.key}"


COLUMNS: tuple[Column, ...] = (
    Column("name", "姓名", True, 10, "与身份证一致。", "黄小明"),
    Column(
        "id_number",
        "身份证号",
        True,
        22,
        "18位居民身份证号码，末位可为X。本列须为文本格式，否则Excel会丢失后三位。",
        "451081199003151239",
        text=True,
        aliases=("身份证号码", "公民身份号码"),
    ),
    Column(
        "phone",
        "手机号",
        True,
        14,
        "11位大陆手机号码。",
        "13812341234",
        text=True,
        aliases=("手机号码",),
    ),
    Column(
        "county",
        "县(市、区)",
        True,
        12,
        "县(市、区)代码或名称，见下方列表。",
        "靖西市",
        aliases=("县市区",),
    ),
    Column(
        "township",
        "乡镇(街道)",
        True,
        12,
        "乡镇(街道)代码或本县内的名称，见下方列表；即接送上车点。",
        "新靖镇",
        aliases=("乡镇", "乡镇街道"),
    ),
    Column("village", "村(社区)", False, 12, "村(社区)名称，可空。", "新靖村", aliases=("村",)),
    Column(
        "skills",
        "技能",
        False,
        30,
        "职业(键或中文名称):从业年限，多项之间用 ; ； , ， 、 分隔；年限可省略(记为0)。",
        "电子厂普工/装配:3; 焊工:2",
    ),
    Column(
        "preferred_destinations",
        "意向务工地",
        False,
        24,
        "务工地代码或名称，多项之间用 ; ； , ， 、 分隔，可空。",
        "宝安区、东莞市",
        aliases=("意向务工地点",),
    ),
    Column(
        "min_monthly_wage",
        "期望最低月薪",
        False,
        12,
        "整数，单位元/月，可空。",
        "4500",
        aliases=("期望最低月薪(元)",),
    ),
    Column(
        "available_from",
        "可出发日期",
        True,
        12,
        "日期单元格或 YYYY-MM-DD、2026/12/1 格式。",
        "2026-12-01",
    ),
    Column("poverty_alleviated", "脱贫户", False, 8, "是/否，空白为否。", YES),
    Column("monitored_household", "监测户", False, 8, "是/否，空白为否。", NO),
    Column("employment_difficulty", "就业困难人员", False, 10, "是/否，空白为否。", NO),
    Column(
        "consent_to_share",
        "同意共享信息",
        False,
        12,
        "本人同意将求职信息提供给用人单位用于岗位匹配：是/否，空白为否。",
        YES,
        aliases=("同意共享求职信息",),
    ),
)
COLUMN_BY_KEY = {column.key: column for column in COLUMNS}
BOOLEAN_KEYS = frozenset(
    {"poverty_alleviated", "monitored_household", "employment_difficulty", "consent_to_share"}
)
REQUIRED_KEYS = tuple(column.key for column in COLUMNS if column.required)
_COLUMN_ORDER = {column.key: index for index, column in enumerate(COLUMNS)}


class SheetError(ApplicationError):
    """The file as a whole cannot be imported (400): type, encoding, header, size."""

    def __init__(self, message: str) -> None:
        super().__init__(message, {"file": [message]})


class _CellError(ValueError):
    """A cell that cannot be turned into the API's input; the message is for the row."""


@dataclass(frozen=True)
class Sheet:
    columns: frozenset[str]  # field keys present in the header row
    rows: list[tuple[int, dict[str, Any]]]  # (row number in the sheet, {key: cell value})


@dataclass
class ImportPlan:
    rows: int = 0
    creates: list[LaborerState] = field(default_factory=list)
    # (laborer as loaded, its current state, the state to save)
    updates: list[tuple[Laborer, LaborerState, LaborerState]] = field(default_factory=list)
    unchanged: int = 0
    rejected: list[dict[str, Any]] = field(default_factory=list)


# ---------------------------------------------------------------------------- size caps


def _size_text(size: int) -> str:
    if size % (1024 * 1024) == 0:
        return f"{size // (1024 * 1024)} MB"
    if size >= 1024:
        return f"{size / 1024:.0f} KB"
    return _("%(size)s bytes") % {"size": size}


def _too_large() -> PayloadTooLarge:
    limit = _size_text(settings.IMPORT_MAX_BYTES)
    return PayloadTooLarge(
        _("The file is larger than the import limit of %(limit)s: split the sheet.")
        % {"limit": limit}
    )


def check_upload_size(request: Request) -> None:
    """Refuse an oversized upload from its Content-Length, before the body is read."""
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0  # Django reads no body then either
    if length > settings.IMPORT_MAX_BYTES + MULTIPART_ALLOWANCE:
        raise _too_large()


# ------------------------------------------------------------------------------ parsing


def _header_key(text: str) -> str:
    """`姓名 name`, `姓名name`, `ID Number`, `身份证号（id_number）` all compare alike."""
    return re.sub(r"[\s_\-*()]+", "", unicodedata.normalize("NFKC", text)).lower()


_HEADER_LABELS: dict[str, str] = {}
for _column in COLUMNS:
    for _label in (_column.zh, _column.key, _column.label, *_column.aliases):
        _HEADER_LABELS[_header_key(_label)] = _column.key


def _header_columns(cells: Sequence[Any]) -> list[str | None]:
    """The field key of each column of the header row (None for an empty header cell)."""
    keys: list[str | None] = []
    unknown: list[str] = []
    seen: dict[str, int] = {}
    for index, cell in enumerate(cells):
        text = "" if cell is None else str(cell).strip()
        if not text:
            keys.append(None)
            continue
        key = _HEADER_LABELS.get(_header_key(text))
        if key is None:
            unknown.append(repr(text))
        elif key in seen:
            raise SheetError(
                _(
                    "The column %(column)s appears twice in the header row "
                    "(columns %(first)s and %(second)s)."
                )
                % {
                    "column": COLUMN_BY_KEY[key].label,
                    "first": get_column_letter(seen[key] + 1),
                    "second": get_column_letter(index + 1),
                }
            )
        else:
            seen[key] = index
        keys.append(key)
    if unknown:
        raise SheetError(
            _(
                "Unknown column(s) in the header row (row 1): %(columns)s. "
                "Rename or delete them; the template lists the columns."
            )
            % {"columns": ", ".join(unknown)}
        )
    missing = [COLUMN_BY_KEY[key].label for key in REQUIRED_KEYS if key not in seen]
    if missing:
        raise SheetError(
            _("The header row (row 1) lacks the required column(s): %(columns)s.")
            % {"columns": ", ".join(missing)}
        )
    return keys


def _is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _check_unpacked_size(content: bytes) -> None:
    """Refuse a zip bomb before openpyxl inflates it (it loads shared strings whole).

    zipfile stops inflating an entry at its declared size, so the declared sizes bound
    what reading the workbook can take.
    """
    limit = settings.IMPORT_MAX_BYTES * UNPACKED_PER_PACKED
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            unpacked = sum(entry.file_size for entry in archive.infolist())
    except (zipfile.BadZipFile, ValueError, EOFError):
        return  # load_workbook says the file is damaged
    if unpacked > limit:
        raise SheetError(
            _(
                "The workbook unpacks to more than %(size)s: it is not a village "
                "sheet. Save the sheet alone in a new workbook."
            )
            % {"size": _size_text(limit)}
        )


def _xlsx_rows(content: bytes) -> Generator[Sequence[Any], None, None]:
    """Cell values of the first worksheet, one tuple per row from row 1 (gaps filled)."""
    _check_unpacked_size(content)
    try:
        with warnings.catch_warnings():
            # openpyxl warns about styles and extensions it ignores: nothing for the user.
            warnings.simplefilter("ignore")
            workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception:
        # Any failure of the zip or XML layers means the same to the caseworker; the
        # parser runs on untrusted bytes and must never turn them into a 500.
        raise SheetError(
            _(
                "The file could not be read as an Excel workbook (.xlsx): it is damaged or "
                "not a workbook. Save it again from Excel or WPS as .xlsx."
            )
        ) from None
    try:
        if not workbook.worksheets:
            raise SheetError(_("The workbook has no worksheet."))
        sheet = workbook.worksheets[0]
        # Village files carry wrong <dimension> records; reading them would cut rows off.
        sheet.reset_dimensions()
        try:
            yield from sheet.iter_rows(values_only=True)
        except Exception as exc:
            # A worksheet part truncated or malformed: zip CRC, XML syntax, bad numbers.
            raise SheetError(
                _(
                    "The worksheet could not be read: the file is damaged. "
                    "Save it again from Excel or WPS as .xlsx."
                )
            ) from exc
    finally:
        workbook.close()


def _decode_text(content: bytes) -> str:
    if content.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        # Excel's "Unicode text" export.
        encodings: tuple[str, ...] = ("utf-16",)
    else:
        # UTF-8 (with or without the BOM Excel writes), else the Chinese Windows default;
        # gb18030 is a superset of GBK and GB2312.
        encodings = ("utf-8-sig", "gb18030")
    for encoding in encodings:
        try:
            return content.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise SheetError(
        _(
            "The text encoding of the CSV file is not UTF-8 or GBK: save it again as "
            '"CSV UTF-8" or as .xlsx.'
        )
    )


def _csv_rows(content: bytes) -> Generator[Sequence[Any], None, None]:
    text = _decode_text(content)
    if "\x00" in text:
        raise SheetError(_("The file is not a CSV text file: upload an .xlsx or .csv file."))
    first_line = text.split("\n", 1)[0]
    delimiter = "\t" if "\t" in first_line and "," not in first_line else ","
    try:
        yield from csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    except csv.Error as exc:
        raise SheetError(_("The CSV file could not be read: %(error)s.") % {"error": exc}) from None


def _raw_rows(*, name: str, content: bytes) -> Generator[Sequence[Any], None, None]:
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if content.startswith(OLE2_MAGIC) or extension == "xls":
        raise SheetError(
            _(
                "This is an old Excel 97-2003 (.xls) or a password-protected workbook: save it "
                "as .xlsx without a password, or as .csv."
            )
        )
    if content.startswith(XLSX_MAGIC) or extension in {"xlsx", "xlsm"}:
        return _xlsx_rows(content)
    if extension in {"csv", "txt", ""}:
        return _csv_rows(content)
    raise SheetError(
        _("Upload an .xlsx or .csv file, not .%(extension)s.") % {"extension": extension}
    )


def sheet_read(*, name: str, content: bytes, max_rows: int) -> Sheet:
    """The rows of a sheet keyed by field, with their row numbers; blank rows skipped."""
    # closing(): a refused sheet still releases its workbook at once.
    with closing(_raw_rows(name=name, content=content)) as raw:
        header = next(raw, None)
        if header is None or all(_is_blank(cell) for cell in header):
            raise SheetError(_("The file is empty: row 1 must be the header row of the template."))
        keys = _header_columns(header)
        columns = [(index, key) for index, key in enumerate(keys) if key is not None]
        max_physical = max_rows * BLANK_ROWS_PER_ROW + 1
        rows: list[tuple[int, dict[str, Any]]] = []
        for row_number, cells in enumerate(raw, start=2):
            if row_number > max_physical:
                raise SheetError(
                    _(
                        "The sheet has more than %(rows)s rows counting empty ones: delete "
                        "the empty rows below the data."
                    )
                    % {"rows": max_physical}
                )
            values = {key: cells[i] if i < len(cells) else None for i, key in columns}
            if all(_is_blank(value) for value in values.values()):
                continue
            rows.append((row_number, values))
            if len(rows) > max_rows:
                raise SheetError(
                    _(
                        "The sheet has more than %(rows)s rows of laborers: split it into "
                        "sheets of at most %(rows)s rows."
                    )
                    % {"rows": max_rows}
                )
    return Sheet(columns=frozenset(key for _, key in columns), rows=rows)


# --------------------------------------------------------------------- cells to input


def _key(text: str) -> str:
    return unicodedata.normalize("NFKC", text).strip().lower()


@dataclass(frozen=True)
class _Lookups:
    """Names as people type them -> codes, built per import from the cached vocabulary."""

    counties: dict[str, str]
    townships: dict[tuple[str, str], str]
    destinations: dict[str, str]
    occupations: dict[str, str]
    occupation_keys: frozenset[str]

    @classmethod
    def build(cls) -> _Lookups:
        vocab = vocabulary.get()
        return cls(
            counties={_key(name): code for name, code in vocab.county_by_name.items()},
            townships={
                (county, _key(name)): code
                for (county, name), code in vocab.township_by_name.items()
            },
            destinations={_key(name): code for name, code in vocab.destination_by_name.items()},
            occupations={_key(name): key for name, key in vocab.occupation_by_name.items()},
            occupation_keys=vocab.occupations,
        )


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time() else value.isoformat(" ")
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip()


def _digit_text(value: Any, *, what: str, label: str) -> str:
    text = _text(value)
    if SCIENTIFIC.match(text):
        # What a CSV saved by Excel holds for a long number in a General column.
        raise _CellError(
            _(
                "The %(what)s was saved in scientific notation (%(text)s) and lost digits: "
                "format the %(label)s column as text and type the number again."
            )
            % {"what": what, "text": text, "label": label}
        )
    return text


def _id_number(value: Any) -> str:
    if isinstance(value, float):
        # A double holds 15-16 significant digits: an 18-digit ID typed into a number
        # cell has lost its last digits, and nothing can bring them back.
        raise _CellError(
            _(
                "The ID number was stored as a number and lost its last digits: format the "
                "身份证号 column as text and type the number again."
            )
        )
    return _digit_text(value, what=_("ID number"), label="身份证号")


def _phone(value: Any) -> str:
    # An 11-digit number is exact in a double: 13812341234.0 is read as 13812341234.
    return _digit_text(value, what=_("phone number"), label="手机号")


def _boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = _key(_text(value))
    if text == "" or text in FALSE_WORDS:
        return False
    if text in TRUE_WORDS:
        return True
    raise _CellError(
        _("Enter 是 or 否 (or yes/no, true/false, 1/0, Y/N), not %(value)r.")
        % {"value": _text(value)}
    )


def _available_from(value: Any) -> str:
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    is_number = isinstance(value, int | float) and not isinstance(value, bool)
    if is_number and EXCEL_SERIAL_MIN <= value <= EXCEL_SERIAL_MAX:
        # A date cell whose date format was lost shows its serial number.
        return from_excel(value).date().isoformat()
    text = _text(value)
    normalized = unicodedata.normalize("NFKC", text)
    match = DATE_TEXT.match(normalized) or COMPACT_DATE.match(normalized)
    if match:
        try:
            return date(*(int(part) for part in match.groups())).isoformat()
        except ValueError:
            pass  # 2026/2/30: the serializer says the date is invalid
    return text


def _wage(value: Any) -> Any:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return int(value) if float(value).is_integer() else value
    # "4,500元" as typed in a text cell.
    return re.sub(r"[\s,元]", "", unicodedata.normalize("NFKC", _text(value)))


def _county(text: str, lookups: _Lookups) -> str:
    if CODE_TEXT.match(text):
        return text  # a code: the serializer says whether it exists
    code = lookups.counties.get(_key(text))
    if code is None:
        raise _CellError(
            _(
                "Unknown county name %(name)r: use a county code or name from the 说明 sheet "
                "of the template."
            )
            % {"name": text}
        )
    return code


def _township(text: str, county: str | None, lookups: _Lookups) -> str:
    if CODE_TEXT.match(text):
        return text
    code = lookups.townships.get((county, _key(text))) if county else None
    if code is None:
        where = _(" in county %(county)s") % {"county": county} if county else ""
        raise _CellError(
            _(
                "Unknown township name %(name)r%(where)s: use a township code or name from the "
                "说明 sheet of the template."
            )
            % {"name": text, "where": where}
        )
    return code


def _items(text: str) -> list[str]:
    normalized = unicodedata.normalize("NFKC", text)
    return [item.strip() for item in LIST_SEPARATORS.split(normalized) if item.strip()]


def _skills(text: str, lookups: _Lookups) -> list[dict[str, Any]]:
    skills: list[dict[str, Any]] = []
    for item in _items(text):
        occupation, _sep, years = item.partition(":")
        occupation = occupation.strip()
        if occupation not in lookups.occupation_keys:
            # An unknown name goes to the serializer as is, which names it in its error.
            occupation = lookups.occupations.get(_key(occupation), occupation)
        skill: dict[str, Any] = {"occupation": occupation}
        years = years.strip().removesuffix("年").strip()
        if years:
            skill["years"] = years
        skills.append(skill)
    return skills


def _destinations(text: str, lookups: _Lookups) -> list[str]:
    codes: list[str] = []
    for item in _items(text):
        if CODE_TEXT.match(item):
            codes.append(item)
            continue
        code = lookups.destinations.get(_key(item))
        if code is None:
            raise _CellError(
                _(
                    "Unknown destination name %(name)r: use a destination code or name from the "
                    "说明 sheet of the template."
                )
                % {"name": item}
            )
        codes.append(code)
    return codes


def _row_input(
    values: dict[str, Any], lookups: _Lookups
) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """The API input of one row (empty cells left out) and the cells that cannot be read."""
    data: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    for key, value in values.items():
        try:
            if key in BOOLEAN_KEYS:
                data[key] = _boolean(value)
                continue
            if _is_blank(value):
                continue  # the serializer applies its default or says the field is required
            if key == "id_number":
                data[key] = _id_number(value)
            elif key == "phone":
                data[key] = _phone(value)
            elif key == "county":
                data[key] = _county(_text(value), lookups)
            elif key == "skills":
                data[key] = _skills(_text(value), lookups)
            elif key == "preferred_destinations":
                data[key] = _destinations(_text(value), lookups)
            elif key == "min_monthly_wage":
                data[key] = _wage(value)
            elif key == "available_from":
                data[key] = _available_from(value)
            elif key != "township":  # name, village
                data[key] = _text(value)
        except _CellError as exc:
            errors[key] = [str(exc)]
    township = values.get("township")
    if not _is_blank(township):
        try:
            data["township"] = _township(_text(township), data.get("county"), lookups)
        except _CellError as exc:
            errors["township"] = [str(exc)]
    return data, errors


def _field_of(error_key: str) -> str:
    """`skills[0].years` -> `skills`."""
    return re.split(r"[.\[]", error_key, maxsplit=1)[0]


def _ordered(errors: dict[str, list[str]]) -> dict[str, list[str]]:
    """Errors in the order of the sheet's columns, so a row reads left to right."""
    last = len(_COLUMN_ORDER)
    return dict(
        sorted(errors.items(), key=lambda item: (_COLUMN_ORDER.get(_field_of(item[0]), last), item))
    )


# --------------------------------------------------------------------- validate, plan


@dataclass
class _CheckedRow:
    row: int
    errors: dict[str, list[str]]
    data: dict[str, Any] | None  # validated input, when the row has no error
    id_key: str | None  # the normalized ID number, when it is valid and first in the sheet


def _check_rows(*, actor: User, sheet: Sheet) -> list[_CheckedRow]:
    """Every row through the API's serializer and rules; duplicates inside the sheet."""
    lookups = _Lookups.build()
    # One instance for all rows: `run_validation` is what `is_valid` runs, without
    # deep-copying the fields for each of 10,000 rows (a third of the time).
    serializer = LaborerInputSerializer()
    first_row_of: dict[str, int] = {}
    checked: list[_CheckedRow] = []
    for row_number, values in sheet.rows:
        data, errors = _row_input(values, lookups)
        validated: dict[str, Any] | None = None
        try:
            validated = serializer.run_validation(data)
        except serializers.ValidationError as exc:
            for key, messages in flatten_errors(exc.detail).items():
                # A cell already refused above is only "required" to the serializer.
                if _field_of(key) not in errors:
                    errors[key] = messages
        rule_data = {f: data.get(f) for f in ("county", "township") if f not in errors}
        for key, messages in laborer_rule_errors(actor=actor, data=rule_data).items():
            errors.setdefault(key, messages)
        id_key = None
        if "id_number" not in errors:
            id_key = normalize(data["id_number"])
            first = first_row_of.setdefault(id_key, row_number)
            if first != row_number:
                errors["id_number"] = [
                    _("ID number already appears in row %(row)s.") % {"row": first}
                ]
                id_key = None
        checked.append(
            _CheckedRow(
                row=row_number,
                errors=errors,
                data=None if errors else validated,
                id_key=id_key,
            )
        )
    return checked


def _existing_by_id(numbers: Collection[str]) -> dict[str, Laborer]:
    """Registered laborers with these ID numbers, with what the comparison reads."""
    ordered = sorted(numbers)
    found: dict[str, Laborer] = {}
    for start in range(0, len(ordered), LOOKUP_BATCH):
        chunk = ordered[start : start + LOOKUP_BATCH]
        laborers = Laborer.objects.filter(id_number__in=chunk).prefetch_related(
            Prefetch(
                "skills", queryset=LaborerSkill.objects.only("laborer_id", "occupation_id", "years")
            ),
            Prefetch("preferred_destinations", queryset=Destination.objects.only("code")),
        )
        found.update((laborer.id_number, laborer) for laborer in laborers)
    return found


def _with_absent_columns(
    data: dict[str, Any], *, current: LaborerState, present: frozenset[str]
) -> dict[str, Any]:
    """A column left out of the sheet keeps the laborer's value (an empty cell clears it)."""
    merged = dict(data)
    for name in SCALAR_FIELDS:
        if name not in present:
            merged[name] = current.values[name]
    if "skills" not in present:
        merged["skills"] = [{"occupation": o, "years": y} for o, y in current.skills]
    if "preferred_destinations" not in present:
        merged["preferred_destinations"] = list(current.preferred)
    return merged


def import_plan(*, actor: User, sheet: Sheet) -> ImportPlan:
    """What importing `sheet` would do, without writing: the dry run and the real run."""
    checked = _check_rows(actor=actor, sheet=sheet)
    existing = _existing_by_id({row.id_key for row in checked if row.id_key})
    plan = ImportPlan(rows=len(sheet.rows))
    for row in checked:
        laborer = existing.get(row.id_key) if row.id_key else None
        if laborer is not None and not sees_personal_data(actor, laborer.county_id):
            # Registered by a county the caller does not answer for: say so, never its id.
            row.errors["id_number"] = [duplicate_error(actor=actor, existing=laborer).message]
        if row.errors or row.data is None:
            plan.rejected.append({"row": row.row, "errors": _ordered(row.errors)})
        elif laborer is None:
            plan.creates.append(state_of(row.data))
        else:
            current = state_of_laborer(laborer)
            state = state_of(_with_absent_columns(row.data, current=current, present=sheet.columns))
            if state == current:
                plan.unchanged += 1
            else:
                plan.updates.append((laborer, current, state))
    return plan


# ---------------------------------------------------------------------------- writing


def _run_saved_hooks(laborer_ids: list[int]) -> None:
    for hook in laborer_saved_hooks:
        hook(laborer_ids)


def _update_laborers(laborers: list[Laborer], names: list[str]) -> None:
    """Write `names` of every laborer: one UPDATE statement, run for all rows at once.

    `bulk_update` builds a CASE WHEN expression per row and field in Python: 10,000
    updated rows took 18 s of CPU there. `executemany` of a single statement is sent
    pipelined by psycopg 3 (and batched by sqlite3), values prepared by the fields.
    """
    meta = Laborer._meta
    fields = [meta.get_field(name) for name in names]
    quote = connection.ops.quote_name
    assignments = ", ".join(f"{quote(f.column)} = %s" for f in fields)
    sql = f"UPDATE {quote(meta.db_table)} SET {assignments} WHERE {quote(meta.pk.column)} = %s"
    params = [
        [f.get_db_prep_save(getattr(laborer, f.attname), connection) for f in fields] + [laborer.pk]
        for laborer in laborers
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)


def import_write(*, actor: User, plan: ImportPlan, note: str = "") -> list[int]:
    """Save the plan's creates and updates in one transaction; the ids saved.

    Laborers, their skills, preferred destinations (the M2M through rows) and the
    registration events go in with bulk inserts, updates with one statement for all rows;
    the relations of an updated laborer are rewritten only where they changed.
    """
    through = Laborer.preferred_destinations.through
    now = timezone.now()
    try:
        with transaction.atomic():
            created = Laborer.objects.bulk_create(
                [Laborer(**state.values, created_by=actor) for state in plan.creates],
                batch_size=WRITE_BATCH,
            )
            new_skills = [
                (laborer.pk, state) for laborer, state in zip(created, plan.creates, strict=True)
            ]
            new_preferred = list(new_skills)
            stale_skills: list[int] = []
            stale_preferred: list[int] = []
            updated: list[Laborer] = []
            changed_fields: set[str] = set()
            for laborer, current, state in plan.updates:
                for name, value in state.values.items():
                    if current.values[name] != value:
                        setattr(laborer, name, value)
                        changed_fields.add(name)
                laborer.updated_at = now  # a plain UPDATE does not apply auto_now
                updated.append(laborer)
                if state.skills != current.skills:
                    stale_skills.append(laborer.pk)
                    new_skills.append((laborer.pk, state))
                if state.preferred != current.preferred:
                    stale_preferred.append(laborer.pk)
                    new_preferred.append((laborer.pk, state))
            if updated:
                _update_laborers(updated, [*sorted(changed_fields), "updated_at"])
            if stale_skills:
                LaborerSkill.objects.filter(laborer_id__in=stale_skills).delete()
            if stale_preferred:
                through.objects.filter(laborer_id__in=stale_preferred).delete()
            LaborerSkill.objects.bulk_create(
                [
                    LaborerSkill(laborer_id=pk, occupation_id=occupation, years=years)
                    for pk, state in new_skills
                    for occupation, years in state.skills
                ],
                batch_size=WRITE_BATCH,
            )
            through.objects.bulk_create(
                [
                    through(laborer_id=pk, destination_id=code)
                    for pk, state in new_preferred
                    for code in state.preferred
                ],
                batch_size=WRITE_BATCH,
            )
            StatusEvent.objects.bulk_create(
                [
                    StatusEvent(
                        laborer_id=laborer.pk,
                        from_status="",
                        to_status=LaborerStatus.REGISTERED,
                        actor=actor,
                        note=note[:200],
                    )
                    for laborer in created
                ],
                batch_size=WRITE_BATCH,
            )
            saved = [laborer.pk for laborer in created] + [laborer.pk for laborer in updated]
            transaction.on_commit(partial(_run_saved_hooks, saved))
    except IntegrityError:
        # Every value was validated, so only a concurrent change gets here: an ID number
        # registered, or a laborer deleted, between the check and the write.
        logger.warning("Sheet import hit a concurrent change; nothing saved.", exc_info=True)
        raise Conflict(
            _(
                "Laborers of this sheet were changed by someone else during the import: nothing "
                "was saved; import the sheet again."
            )
        ) from None
    return saved


def laborer_import(*, actor: User, upload: UploadedFile, dry_run: bool) -> dict[str, Any]:
    """Import a village sheet: valid rows saved (unless `dry_run`), invalid rows listed."""
    max_bytes = settings.IMPORT_MAX_BYTES
    if upload.size is not None and upload.size > max_bytes:
        raise _too_large()
    upload.seek(0)
    content = upload.read(max_bytes + 1)
    if len(content) > max_bytes:
        raise _too_large()
    sheet = sheet_read(name=upload.name or "", content=content, max_rows=settings.IMPORT_MAX_ROWS)
    plan = import_plan(actor=actor, sheet=sheet)
    if not dry_run and (plan.creates or plan.updates):
        import_write(actor=actor, plan=plan, note="sheet import")
    return {
        "dry_run": dry_run,
        "rows": plan.rows,
        "created": len(plan.creates),
        "updated": len(plan.updates),
        "unchanged": plan.unchanged,
        "rejected": plan.rejected,
    }


# ----------------------------------------------------------------- template and export


def _data_sheet(workbook: Workbook) -> Any:
    """The registration sheet: widths, header kept in view, text and date columns."""
    sheet = workbook.create_sheet(SHEET_TITLE)
    sheet.freeze_panes = "A2"
    for index, column in enumerate(COLUMNS, start=1):
        dimension = sheet.column_dimensions[get_column_letter(index)]
        dimension.width = column.width
        if column.text:
            dimension.number_format = TEXT_FORMAT
        elif column.key == "available_from":
            dimension.number_format = DATE_FORMAT
    return sheet


def _styled(sheet: Any, value: Any, *, header: bool = False, number_format: str = "") -> Any:
    cell = WriteOnlyCell(sheet, value=value)
    if header:
        cell.font = HEADER_FONT
        cell.fill = HEADER_FILL
    if number_format:
        cell.number_format = number_format
    return cell


def _text_cell(sheet: Any, value: str) -> Any:
    """Typed text stays text: openpyxl makes a formula of any string starting with "="."""
    cell = WriteOnlyCell(sheet, value=value)
    cell.data_type = "s"
    return cell


def _header_row(sheet: Any) -> list[Any]:
    return [_styled(sheet, column.label, header=True) for column in COLUMNS]


def _workbook_bytes(workbook: Workbook) -> bytes:
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _help_sections() -> Iterable[tuple[str, list[Any]]]:
    """Lines of the 说明 sheet as (kind, cells); kind is "title", "text", "header", "row"."""
    yield "title", ["劳动力登记表填写说明"]
    for line in (
        "1. 第一个工作表为登记表：第1行为表头，从第2行起每行一名劳动力。表头可用中文列名、"
        "英文键名或模板中的“中文 英文”列名；不要增加其他列，可省略非必填列。",
        "2. 按身份证号识别：资料相同的不作改动，资料不同的更新，整表可以重复导入。"
        "省略的列保留原有资料，留空的单元格清空该项。",
        "3. 只能导入本人负责的县(市、区)的劳动力。有错误的行不保存，导入结果列出行号和原因，"
        "其余各行照常保存；改正后可整表重新导入。",
        "4. 身份证号、手机号两列须为文本格式（模板已设置）。身份证号若显示为 4.51081E+17，"
        "后几位已经丢失，须将该列设为文本后重新输入。",
        "5. 是/否列：填 是 或 否（也可 yes/no、true/false、1/0、Y/N），空白为否。",
        "6. 技能、意向务工地可填多项，之间用 ; ； , ， 、 分隔。",
        f"7. 每个文件最多 {settings.IMPORT_MAX_ROWS} 行、不超过 "
        f"{_size_text(settings.IMPORT_MAX_BYTES)}；可上传 .xlsx，或 UTF-8、GBK 编码的 .csv。",
    ):
        yield "text", [line]
    yield "text", []
    yield "header", ["列名", "必填", "填写说明", "示例"]
    for column in COLUMNS:
        yield "row", [column.label, YES if column.required else NO, column.help, column.example]
    yield "text", []
    yield "header", ["县(市、区)代码", "名称"]
    for row in County.objects.order_by("code").values_list("code", "name"):
        yield "row", list(row)
    yield "text", []
    yield "header", ["乡镇(街道)代码", "名称", "所属县(市、区)"]
    townships = Township.objects.order_by("code").values_list("code", "name", "county__name")
    for row in townships:
        yield "row", list(row)
    yield "text", []
    yield "header", ["职业键", "中文名称", "English"]
    for row in Occupation.objects.order_by("key").values_list("key", "name_zh", "name_en"):
        yield "row", list(row)
    yield "text", []
    yield "header", ["务工地代码", "名称", "所在城市"]
    destinations = Destination.objects.order_by("code").values_list("code", "name", "city__name")
    for row in destinations:
        yield "row", list(row)


def template_xlsx() -> bytes:
    """The empty registration sheet (formats set) and a 说明 sheet of every allowed value.

    No example row on the registration sheet: one left in by mistake would register a
    person; the 说明 sheet shows an example of each column instead.
    """
    workbook = Workbook(write_only=True)
    sheet = _data_sheet(workbook)
    last_row = settings.IMPORT_MAX_ROWS + 1
    for index, column in enumerate(COLUMNS, start=1):
        if column.key in BOOLEAN_KEYS:
            letter = get_column_letter(index)
            choice = DataValidation(type="list", formula1=f'"{YES},{NO}"', allow_blank=True)
            choice.add(f"{letter}2:{letter}{last_row}")
            sheet.data_validations.append(choice)  # write-only sheets lack add_data_validation
    sheet.append(_header_row(sheet))

    help_sheet = workbook.create_sheet(HELP_TITLE)
    for letter, width in zip("ABCD", (30, 14, 72, 26), strict=True):
        help_sheet.column_dimensions[letter].width = width
    wrap = Alignment(wrap_text=True, vertical="top")
    for kind, values in _help_sections():
        cells = []
        for value in values:
            # Text format: codes stay 451081100 instead of turning into 4.51E+08.
            cell = _styled(help_sheet, value, header=kind == "header", number_format=TEXT_FORMAT)
            if kind == "title":
                cell.font = Font(bold=True, size=14)
            elif kind == "row":
                cell.alignment = wrap
            cells.append(cell)
        help_sheet.append(cells)
    return _workbook_bytes(workbook)


def _label(code: str, name: str, read_back: str | None) -> str:
    """The name if importing it gives back the same code (unique, no separator in it)."""
    if read_back == code and ":" not in name and _items(name) == [name]:
        return name
    return code


def export_xlsx(queryset: QuerySet[Laborer]) -> tuple[bytes, list[int]]:
    """The laborers in the template's columns (names for codes, ID and phone in full).

    Returns the workbook and the ids written, which the caller logs as a full read. At
    most IMPORT_MAX_ROWS laborers: a larger sheet could not be imported back, and writing
    one takes about a second per thousand rows, too long for a request.
    """
    max_rows = settings.IMPORT_MAX_ROWS
    count = queryset.count()
    if count > max_rows:
        raise ApplicationError(
            _(
                "The export would hold %(count)s laborers, more than the %(rows)s rows of a "
                "sheet: narrow it with the list filters (county, township, status)."
            )
            % {"count": count, "rows": max_rows}
        )
    vocab = vocabulary.get()
    lookups = _Lookups.build()
    county_label = {
        code: _label(code, name, lookups.counties.get(_key(name)))
        for code, name in vocab.counties.items()
    }
    township_label = {
        code: _label(code, name, lookups.townships.get((county, _key(name))))
        for (county, name), code in vocab.township_by_name.items()
    }
    destination_label = {
        code: _label(code, name, lookups.destinations.get(_key(name)))
        for name, code in vocab.destination_by_name.items()
    }
    occupation_label = {
        key: _label(key, name, lookups.occupations.get(_key(name)))
        for key, name in Occupation.objects.values_list("key", "name_zh")
    }

    workbook = Workbook(write_only=True)
    sheet = _data_sheet(workbook)
    sheet.append(_header_row(sheet))
    ids: list[int] = []
    for laborer in queryset.iterator(chunk_size=LOOKUP_BATCH):
        ids.append(laborer.pk)
        skills = sorted((s.occupation_id, s.years) for s in laborer.skills.all())
        destinations = sorted(d.code for d in laborer.preferred_destinations.all())
        sheet.append(
            [
                _text_cell(sheet, laborer.name),
                _styled(sheet, laborer.id_number, number_format=TEXT_FORMAT),
                _styled(sheet, laborer.phone, number_format=TEXT_FORMAT),
                county_label.get(laborer.county_id, laborer.county_id),
                township_label.get(laborer.township_id, laborer.township_id),
                _text_cell(sheet, laborer.village) if laborer.village else None,
                "; ".join(f"{occupation_label.get(o, o)}:{years}" for o, years in skills),
                "; ".join(destination_label.get(code, code) for code in destinations),
                laborer.min_monthly_wage,
                _styled(sheet, laborer.available_from, number_format=DATE_FORMAT),
                YES if laborer.poverty_alleviated else NO,
                YES if laborer.monitored_household else NO,
                YES if laborer.employment_difficulty else NO,
                YES if laborer.consent_to_share else NO,
            ]
        )
    return _workbook_bytes(workbook), ids
