"""Reading and checking a 12345 hotline export (CSV) before anything is loaded.

The file: UTF-8 (with or without BOM) or GB18030 (what spreadsheet programs on Chinese Windows save),
one ticket per line under a header row. Columns, by their Chinese headers (order free, unknown columns
ignored):

    工单编号 *   the hotline's ticket id (kept as the case's source reference: a ticket becomes one case)
    受理时间 *   when the hotline took the call (2025-06-01 09:30[:00], 2025/6/1 9:30, ISO 8601)
    诉求类别 *   our category code (E0101) or its 小类 name (暴露垃圾, or 大类/小类)
    诉求内容 *   what the caller said
    地址          the address as the caller gave it
    经度, 纬度    the point, in 坐标系 (WGS84 by default; GCJ02 and BD09 accepted)
    所属街镇      12-digit street code, 所属居委: 12-digit committee code (the place when there is no
                  point, or the point does not fall in a street)
    联系人, 联系电话   the caller (a mobile number: the "solved? satisfied?" question goes by SMS)
    办理时限      optional: the hotline's own time limit (a date and time), kept in the description

Every row is checked first (``check_rows``); one bad row and nothing is loaded. A ticket already
imported (same ticket id on the hotline channel) is counted and skipped, so loading a file again
changes nothing. The loading itself is ``services_import``.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from shequ.core.errors import ApiError
from shequ.core.texts import listed, site_text
from shequ.core.validators import normalise_mobile, validate_mobile
from shequ.places.models import Division, DivisionLevel

from .models import Case, Category, Channel

# Loaded in one request (or one command run): beyond this, split the file.
MAX_ROWS = 5000
MAX_BYTES = 10 * 1024 * 1024
MAX_DESCRIPTION = 4000
# A 受理时间 this far in the future is a mistake (clocks of two systems may differ a little).
FUTURE_SLACK = timedelta(minutes=10)

# key → the header of the hotline's export; aliases seen in other exports.
COLUMNS: dict[str, str] = {
    "ticket": "工单编号",
    "received_at": "受理时间",
    "category": "诉求类别",
    "description": "诉求内容",
    "address": "地址",
    "lon": "经度",
    "lat": "纬度",
    "crs": "坐标系",
    "street": "所属街镇",
    "committee": "所属居委",
    "contact_name": "联系人",
    "contact_phone": "联系电话",
    "time_limit": "办理时限",
}
ALIASES: dict[str, str] = {
    "工单号": "ticket",
    "受理日期": "received_at",
    "诉求分类": "category",
    "问题描述": "description",
    "所属街道": "street",
    "所属居委会": "committee",
    "所属居村委": "committee",
    "来电人": "contact_name",
    "来电号码": "contact_phone",
}
REQUIRED = ("ticket", "received_at", "category", "description")
_HEADER_TO_KEY = {**{header: key for key, header in COLUMNS.items()}, **ALIASES}

_DATETIME_FORMATS = (
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%dT%H:%M",
    "%Y年%m月%d日 %H:%M:%S",
    "%Y年%m月%d日 %H:%M",
    "%Y-%m-%d",
    "%Y/%m/%d",
)
_CODE = re.compile(r"^[0-9]{12}$")
_CRS = {"wgs84": "wgs84", "gcj02": "gcj02", "bd09": "bd09"}


class HotlineFileError(ApiError):
    """The file as a whole cannot be read (not CSV, missing columns, too large): nothing is checked."""

    def __init__(self, message: str) -> None:
        super().__init__(message, code="invalid_file", field="file", status=422)


@dataclass(frozen=True)
class Issue:
    line: int  # line of the file; the header is line 1
    column: str  # the header of the column at fault ("" for the row as a whole)
    message: str


@dataclass
class Ticket:
    """One checked row, ready for ``case_report``."""

    line: int
    ticket: str
    received_at: datetime
    category: Category
    description: str
    address: str = ""
    lon: float | None = None
    lat: float | None = None
    crs: str = "wgs84"
    place: Division | None = None
    contact_name: str = ""
    contact_phone: str = ""


@dataclass
class CheckedFile:
    rows: int = 0
    new: list[Ticket] = field(default_factory=list)
    # ticket id → number of the case it already became
    already_imported: dict[str, str] = field(default_factory=dict)
    issues: list[Issue] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.issues


# --- Reading the file ------------------------------------------------------------------------


def decode(content: bytes) -> str:
    """UTF-8 (a BOM is dropped) when the whole file is valid UTF-8, else GB18030."""
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return content.decode("gb18030")
    except UnicodeDecodeError:
        raise HotlineFileError(_("无法识别文件编码，请保存为 UTF-8 或 GB18030 编码的 CSV 文件。")) from None


def read_rows(content: bytes) -> list[tuple[int, dict[str, str]]]:
    """The data rows as (line, {key: text}); blank rows are skipped (line numbers stay true)."""
    if len(content) > MAX_BYTES:
        raise HotlineFileError(_("文件过大（不超过 10MB），请分批导入。"))
    text = decode(content)
    if "\x00" in text:
        raise HotlineFileError(_("不是 CSV 文本文件。"))
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None)
        if header is None:
            raise HotlineFileError(_("文件是空的。"))
        keys = [_HEADER_TO_KEY.get(cell.strip().lstrip("\ufeff")) for cell in header]
        missing = [COLUMNS[key] for key in REQUIRED if key not in keys]
        if missing:
            raise HotlineFileError(_("表头缺少必填列：%(columns)s。") % {"columns": listed(missing)})
        rows: list[tuple[int, dict[str, str]]] = []
        for cells in reader:
            if not any(cell.strip() for cell in cells):
                continue
            values = {key: cell.strip() for key, cell in zip(keys, cells, strict=False) if key is not None}
            rows.append((reader.line_num, values))
            if len(rows) > MAX_ROWS:
                raise HotlineFileError(_("一次最多导入 %(n)s 条工单，请分批导入。") % {"n": f"{MAX_ROWS:,}"})
    except csv.Error as exc:
        raise HotlineFileError(
            _("第 %(line)s 行不是有效的 CSV：%(error)s") % {"line": reader.line_num, "error": exc}
        ) from None
    if not rows:
        raise HotlineFileError(_("文件中没有工单。"))
    return rows


def parse_datetime(value: str) -> datetime | None:
    """A local date and time in one of the hotline's formats (naive = Asia/Shanghai), else None."""
    value = value.strip()
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        parsed = None
        for fmt in _DATETIME_FORMATS:
            try:
                parsed = datetime.strptime(value, fmt)  # noqa: DTZ007 - made aware just below
                break
            except ValueError:
                continue
    if parsed is None:
        return None
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed, timezone.get_default_timezone())
    return parsed


def _number(value: str) -> float | None:
    try:
        return float(Decimal(value))
    except (InvalidOperation, ValueError):
        return None


# --- Checking the rows -----------------------------------------------------------------------


class _Catalogue:
    """Categories by code and by 小类 name (and 大类/小类), read once per file."""

    def __init__(self) -> None:
        self.by_code: dict[str, Category] = {}
        self.by_name: dict[str, list[Category]] = {}
        for category in Category.objects.all():
            self.by_code[category.code.upper()] = category
            for name in (category.name, f"{category.major_name}/{category.name}"):
                self.by_name.setdefault(name, []).append(category)

    def find(self, value: str) -> Category | str:
        """The category, or the message saying why not."""
        text = value.strip()
        found = self.by_code.get(text.upper())
        if found is None:
            named = self.by_name.get(text.replace("／", "/").replace(" ", ""), [])
            if len(named) > 1:
                return _("类别名称“%(name)s”不唯一，请填写类别编码。") % {"name": text}
            found = named[0] if named else None
        if found is None:
            return _("没有这个类别：%(value)s") % {"value": text}
        if not found.is_active:
            return _("类别 %(code)s 已停用。") % {"code": found.code}
        if found.is_emergency:
            return _("%(name)s 属紧急求助（%(number)s），不作为案件受理。") % {
                "name": found.name,
                "number": found.emergency_service,
            }
        return found


def _locate_street(lon: float, lat: float, crs: str) -> tuple[str | None, str | None]:
    """(street code, None) for a point in a street; (None, None) for a point in the city but in no
    street; (None, message) when the point cannot be located."""
    from shequ.places.locate import locate

    try:
        answer = locate(lon=lon, lat=lat, crs=crs)
    except ApiError as exc:
        return None, exc.message
    return (answer.street.code if answer.street else None), None


def check_rows(
    rows: Sequence[tuple[int, dict[str, str]]],
    *,
    area_paths: Iterable[str] | None,
    now: datetime | None = None,
) -> CheckedFile:
    """Check every row: the values, the category, the place (in the importer's area: ``area_paths``
    are place-path prefixes, ``None`` for everywhere), duplicates within the file; and find the
    tickets already imported. Reads in batches: categories once, divisions once, existing tickets
    once; one ``locate`` per row with a point."""
    now = now or timezone.now()
    areas = None if area_paths is None else tuple(area_paths)
    result = CheckedFile(rows=len(rows))
    tickets = [values.get("ticket", "") for _line, values in rows]
    result.already_imported = dict(
        Case.objects.filter(channel=Channel.HOTLINE, source_ref__in=[t for t in tickets if t]).values_list(
            "source_ref", "number"
        )
    )
    catalogue = _Catalogue()
    codes = {values.get(k, "") for _line, values in rows for k in ("street", "committee")} - {""}
    divisions = {d.code: d for d in Division.objects.filter(code__in=codes, is_active=True)}
    seen: dict[str, int] = {}
    pending: list[tuple[Ticket, str | None]] = []  # with the located street code, if any
    for line, values in rows:
        ticket = values.get("ticket", "")
        issues: list[Issue] = []
        if not ticket:
            issues.append(Issue(line, COLUMNS["ticket"], _("工单编号必填。")))
        elif len(ticket) > 64:
            issues.append(Issue(line, COLUMNS["ticket"], _("工单编号不能超过 64 个字符。")))
        elif ticket in seen:
            message = _("工单编号与第 %(line)s 行重复。") % {"line": seen[ticket]}
            issues.append(Issue(line, COLUMNS["ticket"], message))
        else:
            seen[ticket] = line
            if ticket in result.already_imported:
                continue  # loaded before: nothing to check, nothing to do
        parsed = _check_values(line, values, issues, catalogue=catalogue, divisions=divisions, now=now)
        if issues:
            result.issues.extend(issues)
        elif parsed is not None:
            pending.append(parsed)
    _check_places(pending, divisions=divisions, areas=areas, result=result)
    result.issues.sort(key=lambda issue: issue.line)
    return result


def _check_values(  # noqa: PLR0912, PLR0915 - one check per column, in the column order
    line: int,
    values: dict[str, str],
    issues: list[Issue],
    *,
    catalogue: _Catalogue,
    divisions: dict[str, Division],
    now: datetime,
) -> tuple[Ticket, str | None] | None:
    """The row's values checked (problems appended to ``issues``), with the street its point lies in."""

    def problem(key: str, message: str) -> None:
        issues.append(Issue(line=line, column=COLUMNS[key], message=message))

    received_at = parse_datetime(values.get("received_at", ""))
    if received_at is None:
        problem("received_at", _("受理时间必填，格式如 2025-06-01 09:30。"))
    elif received_at > now + FUTURE_SLACK:
        problem("received_at", _("受理时间不能晚于当前时间。"))
    category = catalogue.find(values.get("category", "")) if values.get("category") else None
    if category is None:
        problem("category", _("诉求类别必填。"))
    elif isinstance(category, str):
        problem("category", category)
    description = values.get("description", "")
    if not description:
        problem("description", _("诉求内容必填。"))
    limit_text = values.get("time_limit", "")
    if limit_text:
        limit = parse_datetime(limit_text)
        if limit is None:
            problem("time_limit", _("办理时限应为日期时间，格式如 2025-06-06 17:00。"))
        elif received_at is not None and limit < received_at:
            problem("time_limit", _("办理时限早于受理时间。"))
        else:
            # Kept in the case's description, which everyone reads: in the site's language.
            description = site_text(
                gettext_noop("%(text)s\n（12345 办理时限：%(limit)s）"),
                text=description,
                limit=timezone.localtime(limit).strftime("%Y-%m-%d %H:%M"),
            )
    if len(description) > MAX_DESCRIPTION:
        problem("description", _("诉求内容不能超过 %(n)s 字。") % {"n": MAX_DESCRIPTION})
    address = values.get("address", "")
    if len(address) > 300:
        problem("address", _("地址不能超过 300 字。"))
    lon_text, lat_text = values.get("lon", ""), values.get("lat", "")
    lon = _number(lon_text) if lon_text else None
    lat = _number(lat_text) if lat_text else None
    if lon_text and lon is None:
        problem("lon", _("经度应为数字。"))
    if lat_text and lat is None:
        problem("lat", _("纬度应为数字。"))
    if bool(lon_text) != bool(lat_text):
        problem("lat" if lon_text else "lon", _("经度和纬度须同时填写。"))
    crs_text = re.sub(r"[\s\-_]", "", values.get("crs", "")).lower() or "wgs84"
    crs = _CRS.get(crs_text)
    if crs is None:
        problem("crs", _("坐标系应为 WGS84、GCJ02 或 BD09。"))
    street = committee = None
    street_code, committee_code = values.get("street", ""), values.get("committee", "")
    if street_code:
        street = divisions.get(street_code)
        if not _CODE.match(street_code) or street is None or street.level != DivisionLevel.STREET:
            problem("street", _("没有这个街镇代码：%(code)s") % {"code": street_code})
            street = None
    if committee_code:
        committee = divisions.get(committee_code)
        if not _CODE.match(committee_code) or committee is None or committee.level != DivisionLevel.COMMITTEE:
            problem("committee", _("没有这个居村委代码：%(code)s") % {"code": committee_code})
            committee = None
        elif street is not None and not committee.path.startswith(street.path):
            problem("committee", _("居村委 %(code)s 不在所填街镇内。") % {"code": committee_code})
    if not lon_text and not lat_text and not street_code and not committee_code:
        problem("lon", _("请填写经纬度，或所属街镇/居委。"))
    phone = values.get("contact_phone", "")
    if phone:
        try:
            validate_mobile(phone)
        except ValidationError:
            problem("contact_phone", _("联系电话应为手机号码（用于短信回访）。"))
        phone = normalise_mobile(phone)
    contact_name = values.get("contact_name", "")
    if len(contact_name) > 50:
        problem("contact_name", _("联系人不能超过 50 字。"))
    if issues or received_at is None or not isinstance(category, Category) or crs is None:
        return None
    located: str | None = None
    if lon is not None and lat is not None:
        located, message = _locate_street(lon, lat, crs)
        if message:
            problem("lon", message)
            return None
    ticket = Ticket(
        line=line,
        ticket=values.get("ticket", ""),
        received_at=received_at,
        category=category,
        description=description,
        address=address,
        lon=lon,
        lat=lat,
        crs=crs,
        place=committee or street,
        contact_name=contact_name,
        contact_phone=phone,
    )
    return ticket, located


def _check_places(
    pending: list[tuple[Ticket, str | None]],
    *,
    divisions: dict[str, Division],
    areas: tuple[str, ...] | None,
    result: CheckedFile,
) -> None:
    """Where each ticket lands (the point's street, else the street or committee given) must be a
    street inside the importer's area."""
    located_codes = {code for _t, code in pending if code and code not in divisions}
    divisions.update({d.code: d for d in Division.objects.filter(code__in=located_codes)})
    for ticket, located in pending:
        column = COLUMNS["lon"] if ticket.lon is not None else COLUMNS["street"]
        target = divisions.get(located) if located else ticket.place
        if target is None:
            result.issues.append(Issue(ticket.line, column, _("坐标不在任何街镇内，请填写所属街镇或居委。")))
            continue
        if areas is not None and not any(target.path.startswith(path) for path in areas):
            result.issues.append(
                Issue(ticket.line, column, _("%(name)s 不在您的辖区内。") % {"name": target.name})
            )
            continue
        result.new.append(ticket)
