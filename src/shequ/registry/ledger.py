"""The committee ledger (居村台账) file format: one row per person, read and written as .xlsx or .csv.

Columns (header row in Chinese; the English keys are accepted as headers too):

==============  ==================  ============================================================
header          key                 content
==============  ==================  ============================================================
小区            compound            compound code or name (a compound of the importing committee)
楼栋            building            building number ("3" or "3号")
单元            unit                unit ("" when the building has none)
室号            room                room
户编号          household           household number *within the file*: rows with the same number
                                    form one household (户)
与户主关系      relation            relation to the head (户主, 配偶, 子女 …)
姓名            name                required
证件类型        document_type       居民身份证 by default; passports and permits allowed
证件号码        id_number           required; resident IDs are checked (GB 11643)
出生日期        birth_date          YYYY-MM-DD (also YYYY/M/D, YYYYMMDD, YYYY年M月D日)
性别            sex                 男 / 女 / 未知
手机号          mobile              11 digits
户籍地址        registered_address  as written in the household register
状态            status              在住 / 已迁出 / 已故
人口类别        population_kind     户籍人口 / 来沪人员 / 境外人员
房屋使用情况    tenure              自住 / 出租 / 空置 / 公租房 / 动迁安置 / 其他 (of the house)
标签            tags                tag codes, separated by commas
==============  ==================  ============================================================

Enumerations accept the Chinese label or the stored code. Compound, building and room are required
for residents living here; moved-out and deceased persons may leave them empty.

The headers are part of the file format (committees exchange these files), so they are fixed Chinese
strings, not translated text. Error messages are translated.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import io
import re
from collections.abc import Generator, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import IO, Any

from django.utils.translation import gettext_lazy as _

from shequ.core.texts import site_language
from shequ.places.models import Tenure

from .models import DocumentType, PersonStatus, PopulationKind, Relation, Sex

XLSX = "xlsx"
CSV = "csv"
FORMATS = (XLSX, CSV)


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    width: int = 12


COLUMNS: tuple[Column, ...] = (
    Column("compound", "小区", 18),
    Column("building", "楼栋", 8),
    Column("unit", "单元", 8),
    Column("room", "室号", 8),
    Column("household", "户编号", 8),
    Column("relation", "与户主关系", 12),
    Column("name", "姓名", 10),
    Column("document_type", "证件类型", 14),
    Column("id_number", "证件号码", 22),
    Column("birth_date", "出生日期", 12),
    Column("sex", "性别", 6),
    Column("mobile", "手机号", 14),
    Column("registered_address", "户籍地址", 30),
    Column("status", "状态", 8),
    Column("population_kind", "人口类别", 10),
    Column("tenure", "房屋使用情况", 12),
    Column("tags", "标签", 20),
)
KEYS: tuple[str, ...] = tuple(c.key for c in COLUMNS)
HEADERS: dict[str, str] = {c.key: c.header for c in COLUMNS}
ERROR_HEADER = "错误说明"
ERROR_KEY = "errors"
REQUIRED: tuple[str, ...] = ("name", "id_number")
HOUSE_KEYS: tuple[str, ...] = ("compound", "building", "room")
TAG_SEPARATORS = re.compile(r"[,，、;；\s]+")

# Header text (Chinese header or English key, case-insensitive) → key.
_HEADER_TO_KEY: dict[str, str] = {
    **{c.header: c.key for c in COLUMNS},
    **{c.key: c.key for c in COLUMNS},
    ERROR_HEADER: ERROR_KEY,
    ERROR_KEY: ERROR_KEY,
}


class LedgerError(Exception):
    """The file cannot be read as a ledger at all (not a single row is checked)."""


def enum_lookup(choices: Any) -> dict[str, str]:
    """Label (Chinese) or code (any case) → code. The labels are those of the site's language, whatever
    language is active when the module is first imported (a request in English, say)."""
    table: dict[str, str] = {}
    with site_language():
        for value, label in choices.choices:
            if value:
                table[str(value).lower()] = value
                table[str(label)] = value
    return table


ENUMS: dict[str, dict[str, str]] = {
    "document_type": enum_lookup(DocumentType),
    "sex": {**enum_lookup(Sex), "m": Sex.MALE, "f": Sex.FEMALE},
    "status": enum_lookup(PersonStatus),
    "population_kind": enum_lookup(PopulationKind),
    "tenure": enum_lookup(Tenure),
    "relation": enum_lookup(Relation),
}
ENUM_CHOICES: dict[str, Any] = {
    "document_type": DocumentType,
    "sex": Sex,
    "status": PersonStatus,
    "population_kind": PopulationKind,
    "tenure": Tenure,
    "relation": Relation,
}
# Labels written on export (the ledger speaks Chinese whatever the exporter's language).
ENUM_LABELS: dict[str, dict[str, str]] = {
    key: {
        value: next(k for k, v in table.items() if v == value and not k.isascii()) for value in table.values()
    }
    for key, table in ENUMS.items()
}


def allowed_values(key: str) -> str:
    return "、".join(ENUM_LABELS[key][v] for v in ENUM_CHOICES[key].values if v)


def enum_label(key: str, value: str) -> str:
    return ENUM_LABELS[key].get(value, value)


# --- Cells -------------------------------------------------------------------------------------

_DATE_PATTERNS = (
    re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$"),
    re.compile(r"^(\d{4})/(\d{1,2})/(\d{1,2})$"),
    re.compile(r"^(\d{4})\.(\d{1,2})\.(\d{1,2})$"),
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
    re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日?$"),
)


def parse_date(value: str) -> date | None:
    """A date in one of the accepted spellings; ``None`` when it is not one (or not a real date)."""
    text = value.strip()
    if " " in text:  # "1950-01-02 00:00:00" from a spreadsheet date
        text = text.split(" ", 1)[0]
    for pattern in _DATE_PATTERNS:
        match = pattern.match(text)
        if match:
            try:
                return date(int(match[1]), int(match[2]), int(match[3]))
            except ValueError:
                return None
    return None


def cell_text(value: Any) -> str:  # noqa: PLR0911
    """A spreadsheet cell as text: dates as YYYY-MM-DD, whole numbers without ".0"."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else str(value)
    return str(value).strip()


def split_tags(value: str) -> list[str]:
    return [t for t in TAG_SEPARATORS.split(value.strip()) if t]


# --- Reading -----------------------------------------------------------------------------------


@dataclass
class LedgerRow:
    """One data row: its spreadsheet row number (the header is row 1) and its cells by key."""

    number: int
    values: dict[str, str]


def detect_format(name: str) -> str:
    lower = name.lower()
    if lower.endswith(".xlsx"):
        return XLSX
    if lower.endswith(".csv"):
        return CSV
    raise LedgerError(str(_("只接受 .xlsx 或 .csv 文件。")))


_CHUNK = 1 << 20


def csv_encoding(stream: IO[bytes]) -> str:
    """UTF-8 (with or without BOM) when the whole file decodes as UTF-8, else GB18030."""
    stream.seek(0)
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        while chunk := stream.read(_CHUNK):
            decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return "gb18030"
    finally:
        stream.seek(0)
    return "utf-8-sig"


def _header_keys(header: Iterable[Any]) -> list[str | None]:
    keys: list[str | None] = []
    for cell in header:
        text = cell_text(cell).lstrip("\ufeff")
        keys.append(_HEADER_TO_KEY.get(text, _HEADER_TO_KEY.get(text.lower())))
    return keys


def _check_header(keys: list[str | None]) -> None:
    missing = [HEADERS[k] for k in REQUIRED if k not in keys]
    if missing:
        raise LedgerError(
            str(_("表头缺少必填列：%(columns)s。请使用台账模板。")) % {"columns": "、".join(missing)}
        )


def iter_raw_rows(stream: IO[bytes], fmt: str) -> Generator[list[Any], None, None]:
    """Every row of the file as a list of raw cells, the header included."""
    stream.seek(0)
    if fmt == CSV:
        text = io.TextIOWrapper(stream, encoding=csv_encoding(stream), newline="")
        try:
            yield from csv.reader(text)
        finally:
            with contextlib.suppress(ValueError):  # the stream may be closed already
                text.detach()
        return
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(stream, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a file that is not a workbook
        raise LedgerError(str(_("无法读取 Excel 文件，请确认是 .xlsx 格式。"))) from exc
    try:
        sheet = workbook.worksheets[0]
        for row in sheet.iter_rows(values_only=True):
            yield list(row)
    finally:
        workbook.close()


def iter_ledger_rows(stream: IO[bytes], fmt: str) -> Iterator[LedgerRow]:
    """The data rows of a ledger, keyed by column; blank rows are skipped (numbers stay true)."""
    raw = iter_raw_rows(stream, fmt)
    try:
        header = next(raw)
    except StopIteration:
        raise LedgerError(str(_("文件是空的。"))) from None
    keys = _header_keys(header)
    try:
        _check_header(keys)
    except LedgerError:
        raw.close()
        raise
    positions = [(i, k) for i, k in enumerate(keys) if k is not None and k != ERROR_KEY]
    # CSV cells are always text: strip them directly instead of asking ``cell_text`` per cell.
    text_of = str.strip if fmt == CSV else cell_text
    for number, cells in enumerate(raw, start=2):
        values: dict[str, str] = {}
        width = len(cells)
        for i, key in positions:
            if i < width:
                text = text_of(cells[i])
                if text:
                    values[key] = text
        if values:
            yield LedgerRow(number=number, values=values)


def count_rows(stream: IO[bytes], fmt: str) -> int:
    """The number of data rows (approximate for .xlsx: the sheet's declared dimension)."""
    stream.seek(0)
    if fmt == CSV:
        lines = 0
        last = b"\n"
        while chunk := stream.read(_CHUNK):
            lines += chunk.count(b"\n")
            last = chunk[-1:]
        stream.seek(0)
        return max(lines + (0 if last == b"\n" else 1) - 1, 0)
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(stream, read_only=True, data_only=True)
    except Exception as exc:
        raise LedgerError(str(_("无法读取 Excel 文件，请确认是 .xlsx 格式。"))) from exc
    try:
        sheet = workbook.worksheets[0]
        return max((sheet.max_row or 1) - 1, 0)
    finally:
        workbook.close()
        stream.seek(0)


# --- Writing -----------------------------------------------------------------------------------


def header_row() -> list[str]:
    return [c.header for c in COLUMNS]


def write_xlsx(rows: Iterable[list[Any]], out: IO[bytes], *, widths: list[int] | None = None) -> None:
    """Write rows (the first is the header) as a one-sheet workbook, streaming (write_only)."""
    from openpyxl import Workbook
    from openpyxl.utils import get_column_letter

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(str(_("台账")))
    for i, width in enumerate(widths or [], start=1):
        sheet.column_dimensions[get_column_letter(i)].width = width
    for row in rows:
        sheet.append(row)
    workbook.save(out)


def csv_lines(rows: Iterable[list[Any]], *, bom: bool = True) -> Iterator[str]:
    """CSV text line by line (UTF-8 with BOM so that spreadsheet programs read it right)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    first = True
    for row in rows:
        writer.writerow(["" if v is None else v for v in row])
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        if first and bom:
            text = "\ufeff" + text
        first = False
        yield text


def template_bytes(fmt: str) -> bytes:
    """The empty ledger template: the header row, and in the workbook a second sheet explaining it."""
    if fmt == CSV:
        return "".join(csv_lines([header_row()])).encode("utf-8")
    from openpyxl import Workbook
    from openpyxl.utils import get_column_letter

    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None  # noqa: S101 - a new workbook always has one sheet
    sheet.title = str(_("台账"))
    sheet.append(header_row())
    for i, column in enumerate(COLUMNS, start=1):
        letter = get_column_letter(i)
        sheet.column_dimensions[letter].width = column.width
        sheet.column_dimensions[letter].number_format = "@"  # text: keeps ID numbers whole
    notes = workbook.create_sheet(str(_("填写说明")))
    notes.append([str(_("列")), str(_("说明"))])
    explanations: dict[str, str] = {
        "compound": str(_("本居村小区的代码或名称")),
        "building": str(_("楼栋号")),
        "unit": str(_("单元，没有则留空")),
        "room": str(_("室号")),
        "household": str(_("本文件内的户编号：同一编号的行为同一户")),
        "name": str(_("必填")),
        "id_number": str(_("必填；居民身份证须通过校验")),
        "birth_date": str(_("例如 1950-01-02")),
        "mobile": str(_("11 位手机号")),
        "registered_address": str(_("户籍登记地址")),
        "tags": str(_("标签代码，用逗号分隔")),
    }
    for column in COLUMNS:
        text = explanations.get(column.key, "")
        if column.key in ENUMS:
            text = str(_("可填：%(values)s")) % {"values": allowed_values(column.key)}
        notes.append([column.header, text])
    notes.column_dimensions["A"].width = 16
    notes.column_dimensions["B"].width = 80
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def error_report_rows(stream: IO[bytes], fmt: str, errors: dict[int, str]) -> Iterator[list[Any]]:
    """The original rows with an error column (错误说明) appended: ``errors`` by row number."""
    raw = iter_raw_rows(stream, fmt)
    try:
        header = next(raw)
    except StopIteration:
        return
    keys = _header_keys(header)
    # A file that already went through a report has an old error column: replace it.
    keep = [i for i, k in enumerate(keys) if k != ERROR_KEY]
    yield [*(cell_text(header[i]) for i in keep), ERROR_HEADER]
    for number, cells in enumerate(raw, start=2):
        width = len(cells)
        yield [*(cells[i] if i < width else None for i in keep), errors.get(number, "")]


def error_report_bytes(stream: IO[bytes], fmt: str, errors: dict[int, str]) -> bytes:
    rows = error_report_rows(stream, fmt, errors)
    if fmt == CSV:
        return "".join(csv_lines(rows)).encode("utf-8")
    out = io.BytesIO()
    write_xlsx(rows, out, widths=[c.width for c in COLUMNS] + [60])
    return out.getvalue()
