"""The Chinese catalogue (locale/zh_Hans): API answers in the language a client asks for.

Chinese is the default (`LANGUAGE_CODE`); `Accept-Language: en` keeps the English source
strings. The catalogue must be complete and its committed .mo must be the compiled .po.
"""

from __future__ import annotations

import gettext
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test import override_settings
from django.utils import translation
from rest_framework.test import APIClient

from jobmatch.models import User
from tests.factories import LaborerFactory
from tests.factories_extra import ID_NUMBER, laborer_payload
from workers.models import Laborer

PO = Path(settings.BASE_DIR) / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
MO = PO.with_suffix(".mo")
URL = "/api/v1/laborers/"
# Every request here names its language; `None` sends no Accept-Language at all.
Language = str | None


def client_in(language: Language, user: User | None = None) -> APIClient:
    client = APIClient() if language is None else APIClient(HTTP_ACCEPT_LANGUAGE=language)
    if user is not None:
        client.force_authenticate(user=user)
    return client


CHINESE = ["zh-hans", "zh-CN,zh;q=0.9", None]


# --- answers of the API ---------------------------------------------------------------------

INVALID = {"id_number": "451081198806010022", "county": "999999"}
INVALID_BODY = {
    "en": {
        "message": (
            "id_number: The check character of the resident ID number is wrong. "
            "county: Unknown county code '999999'."
        ),
        "extra": {
            "id_number": ["The check character of the resident ID number is wrong."],
            "county": ["Unknown county code '999999'."],
        },
    },
    "zh": {
        "message": "id_number: 身份证号码的校验码错误。 county: 未知的县(市、区)代码 '999999'。",
        "extra": {
            "id_number": ["身份证号码的校验码错误。"],
            "county": ["未知的县(市、区)代码 '999999'。"],
        },
    },
}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("language", "body"),
    [("en", INVALID_BODY["en"])] + [(language, INVALID_BODY["zh"]) for language in CHINESE],
)
def test_a_validation_error_in_the_language_asked_for(
    language: Language, body: dict[str, Any], caseworker: User
) -> None:
    response = client_in(language, caseworker).post(URL, laborer_payload(**INVALID), format="json")

    assert response.status_code == 400
    assert response.json() == body
    assert not Laborer.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("language", "message"),
    [("en", "A laborer with this resident ID number is already registered.")]
    + [(language, "该身份证号码的劳动力已登记。") for language in CHINESE],
)
def test_a_conflict_in_the_language_asked_for(
    language: Language, message: str, caseworker: User
) -> None:
    existing = LaborerFactory(id_number=ID_NUMBER)

    response = client_in(language, caseworker).post(
        URL, laborer_payload(phone="13712345678"), format="json"
    )

    assert response.status_code == 409
    assert response.json() == {"message": message, "extra": {"existing_id": existing.pk}}
    assert list(Laborer.objects.values_list("pk", flat=True)) == [existing.pk]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("language", "message"),
    [("en", "Your role may not do this."), ("zh-hans", "您的角色无权执行此操作。")],
)
def test_a_refusal_in_the_language_asked_for(
    language: Language, message: str, employer_user: User
) -> None:
    response = client_in(language, employer_user).get(URL)

    assert response.status_code == 403
    assert response.json() == {"message": message, "extra": {}}


@pytest.mark.django_db
@pytest.mark.parametrize(("language", "message"), [("en", "Not found."), ("zh-hans", "未找到。")])
def test_an_unknown_address_in_the_language_asked_for(
    language: Language, message: str, caseworker: User
) -> None:
    response = client_in(language, caseworker).get("/api/v1/no-such-thing/")

    assert response.status_code == 404
    assert response.json() == {"message": message, "extra": {}}


@pytest.mark.django_db
@override_settings(IMPORT_MAX_BYTES=1000, DATA_UPLOAD_MAX_MEMORY_SIZE=500)
@pytest.mark.parametrize(
    ("language", "message"),
    [
        ("en", "The request is too large: at most 17384 bytes are accepted."),
        ("zh-hans", "请求内容过大：最多接受 17384 字节。"),
        (None, "请求内容过大：最多接受 17384 字节。"),
    ],
)
def test_the_size_limit_answers_in_the_language_asked_for(
    language: Language, message: str, caseworker: User
) -> None:
    # The size limit answers before LocaleMiddleware runs: it picks the language itself.
    response = client_in(language, caseworker).generic(
        "POST", "/api/v1/laborers/import/", b"x" * 20_000, content_type="text/csv"
    )

    assert response.status_code == 413
    assert response.json() == {"message": message, "extra": {"max_bytes": 17384}}


# --- the catalogue ----------------------------------------------------------------------------


@dataclass
class Entry:
    line: int
    msgid: str = ""
    msgstr: str = ""
    msgctxt: str | None = None
    plural: str | None = None
    plurals: dict[int, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)
    has_msgid: bool = False


_UNESCAPE = {"n": "\n", "t": "\t", '"': '"', "\\": "\\"}


def _unquote(text: str) -> str:
    assert text.startswith('"') and text.endswith('"'), text
    return re.sub(r"\\(.)", lambda m: _UNESCAPE[m.group(1)], text[1:-1])


def read_po(path: Path) -> list[Entry]:
    """The entries of a .po file (header first): enough of the format for this catalogue."""
    entries: list[Entry] = []
    entry: Entry | None = None
    key = ""
    flags: set[str] = set()
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        assert not line.startswith("#~"), f"line {number}: obsolete entry"
        if line.startswith("#,"):
            flags |= {flag.strip() for flag in line[2:].split(",")}
            continue
        if not line or line.startswith("#"):
            continue
        match = re.match(r"^(msgctxt|msgid_plural|msgid|msgstr(?:\[(\d+)\])?)\s+(\".*\")$", line)
        if match is None:
            assert line.startswith('"'), f"line {number}: cannot read {raw!r}"
            value = _unquote(line)
        else:
            key, value = match.group(1), _unquote(match.group(3))
            # An entry starts at its msgctxt, or at its msgid when it has no context.
            context_waiting = (
                entry is not None and entry.msgctxt is not None and not entry.has_msgid
            )
            if key == "msgctxt" or (key == "msgid" and not context_waiting):
                entry = Entry(line=number, flags=flags)
                entries.append(entry)
                flags = set()
        assert entry is not None
        if key == "msgctxt":
            entry.msgctxt = (entry.msgctxt or "") + value
        elif key == "msgid":
            entry.msgid += value
            entry.has_msgid = True
        elif key == "msgid_plural":
            entry.plural = (entry.plural or "") + value
        elif key == "msgstr":
            entry.msgstr += value
        else:
            index = int(key[7:-1])
            entry.plurals[index] = entry.plurals.get(index, "") + value
    return entries


PLACEHOLDER = re.compile(r"%\([A-Za-z_]\w*\)[-#0 +]*\d*(?:\.\d+)?[sdrif]|%[sdrif]|\{\w*\}")


def placeholders(text: str) -> list[str]:
    return sorted(PLACEHOLDER.findall(text.replace("%%", "")))


def translated(entries: list[Entry]) -> list[Entry]:
    return [entry for entry in entries if entry.msgid]


def test_the_catalogue_is_complete() -> None:
    entries = read_po(PO)
    header, messages = entries[0], translated(entries)

    assert header.msgid == "" and "fuzzy" not in header.flags
    assert "Plural-Forms: nplurals=1; plural=0;\n" in header.msgstr
    assert "Content-Type: text/plain; charset=UTF-8\n" in header.msgstr
    assert len(messages) == len(entries) - 1
    assert len(messages) > 300
    problems = []
    for entry in messages:
        texts = [entry.msgstr] if entry.plural is None else list(entry.plurals.values())
        if "fuzzy" in entry.flags:
            problems.append((entry.line, entry.msgid, "fuzzy"))
        if entry.plural is not None and sorted(entry.plurals) != [0]:
            problems.append((entry.line, entry.msgid, "Chinese has one plural form"))
        for text in texts:
            if not text.strip():
                problems.append((entry.line, entry.msgid, "empty"))
            elif placeholders(text) != placeholders(entry.msgid):
                problems.append((entry.line, entry.msgid, text))
        if "python-format" in entry.flags and not placeholders(entry.msgid):
            problems.append((entry.line, entry.msgid, "python-format without placeholders"))
    assert problems == []


def test_english_source_strings_are_translated_into_chinese() -> None:
    # Chinese source strings (model and form labels) translate to themselves; every message
    # written in English gets Chinese, not a copy of the English.
    english = [
        entry
        for entry in translated(read_po(PO))
        if re.search(r"[A-Za-z]{3,}", PLACEHOLDER.sub("", entry.msgid))
    ]

    assert len(english) > 100
    assert [e.msgid for e in english if not re.search(r"[\u4e00-\u9fff]", e.msgstr)] == []


def test_the_committed_mo_is_the_compiled_po() -> None:
    entries = translated(read_po(PO))
    with MO.open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    # One entry per message, plus the header (msgid "").
    assert len(compiled._catalog) == len(entries) + 1  # type: ignore[attr-defined]
    stale = [
        entry.msgid
        for entry in entries
        if compiled.gettext(entry.msgid) != entry.msgstr
        and (entry.msgctxt is None or compiled.pgettext(entry.msgctxt, entry.msgid) != entry.msgstr)
    ]
    assert stale == [], "run `make messages` and commit locale/"


def test_django_reads_the_catalogue() -> None:
    with translation.override("zh-hans"):
        assert translation.gettext("Unknown field.") == "未知字段。"
    with translation.override("en"):
        assert translation.gettext("Unknown field.") == "Unknown field."


def test_the_parser_reads_what_makemessages_writes(tmp_path: Path) -> None:
    po = tmp_path / "django.po"
    po.write_text(
        'msgid ""\nmsgstr ""\n"Plural-Forms: nplurals=1; plural=0;\\n"\n\n'
        '#: a.py\n#, python-format\nmsgid ""\n"Row %(row)s "\n"is \\"bad\\"."\n'
        'msgstr "第 %(row)s 行有误。"\n\n'
        'msgctxt "seat"\nmsgid "%d seat"\nmsgid_plural "%d seats"\nmsgstr[0] "%d 个座位"\n',
        encoding="utf-8",
    )

    header, first, second = read_po(po)

    assert header.msgid == "" and "nplurals=1" in header.msgstr
    assert (first.msgid, first.msgstr, first.flags) == (
        'Row %(row)s is "bad".',
        "第 %(row)s 行有误。",
        {"python-format"},
    )
    assert (second.msgctxt, second.msgid, second.plural, second.plurals) == (
        "seat",
        "%d seat",
        "%d seats",
        {0: "%d 个座位"},
    )
    assert placeholders(first.msgid) == ["%(row)s"]
