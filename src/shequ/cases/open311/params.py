"""Reading and checking Open311 parameters. Every problem raises ``Open311Error`` with the HTTP status
the specification gives it (400 bad or missing field, 403 key, 404 unknown thing) and a description
that names the field."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.http import HttpRequest, QueryDict
from django.utils import timezone
from django.utils.translation import gettext as _

from shequ.cases.models import OpenApiClient
from shequ.cases.services_intake import MAX_DESCRIPTION
from shequ.cases.services_open311 import Open311Report, open311_client_by_key
from shequ.places.lookups import compound_by_code
from shequ.places.models import Compound

from . import selectors
from .attributes import attributes_for

FORMATS = ("xml", "json")
DEFAULT_JURISDICTION = "shanghai.gov.cn"
MAX_WINDOW = timedelta(days=90)
MAX_PAGE_SIZE = 1000
MAX_IDS = 1000
MAX_ADDRESS = 300
MAX_MEDIA_URL = 500
STATUSES = ("open", "closed")
ATTRIBUTE_KEY = re.compile(r"^attribute\[([^\]]+)\](\[\])?$")
# A time whose "+08:00" arrived as " 08:00" (an unencoded "+" in a query string).
_SPACE_OFFSET = re.compile(r"^(.*T[0-9:.]+) (\d{2}(:?\d{2})?)$")


class Open311Error(Exception):
    """An error answered in the GeoReport v2 error format."""

    def __init__(self, status: int, description: str) -> None:
        super().__init__(description)
        self.http_status = status
        self.description = description


def bad(description: str) -> Open311Error:
    return Open311Error(400, description)


def jurisdiction() -> str:
    return str(getattr(settings, "SHEQU_OPEN311_JURISDICTION", DEFAULT_JURISDICTION))


def check_format(fmt: str) -> str:
    if fmt not in FORMATS:
        raise Open311Error(404, _("不支持的格式 %(fmt)s：请使用 .xml 或 .json。") % {"fmt": fmt})
    return fmt


def check_jurisdiction(values: Mapping[str, Any]) -> None:
    """``jurisdiction_id`` may be left out (one jurisdiction here); when sent it must be ours."""
    sent = (values.get("jurisdiction_id") or "").strip()
    if sent and sent != jurisdiction():
        raise Open311Error(404, _("jurisdiction_id 不存在：%(id)s") % {"id": sent})


def api_client(request: HttpRequest) -> OpenApiClient:
    raw = (request.POST.get("api_key") or "").strip()
    if not raw:
        raise Open311Error(403, _("缺少 api_key，无法提交服务请求。"))
    client = open311_client_by_key(raw)
    if client is None:
        raise Open311Error(403, _("api_key 无效或已停用，无法提交服务请求。"))
    return client


# --- values ----------------------------------------------------------------------------------------


def parse_datetime(value: str | None, name: str) -> datetime | None:
    """A W3C/ISO 8601 date-time (``2025-06-02T09:00:00+08:00``, ``…Z``, or a date); local time when no
    offset is given."""
    value = (value or "").strip()
    if not value:
        return None
    value = _SPACE_OFFSET.sub(r"\1+\2", value)
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise bad(
            _("%(name)s 不是有效的 ISO 8601 时间（例如 2025-06-02T09:00:00+08:00）：%(value)s")
            % {"name": name, "value": value[:40]}
        ) from None
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed)
    return parsed


def window(values: Mapping[str, Any], *, now: datetime, default_span: timedelta) -> tuple[datetime, datetime]:
    """``start_date``/``end_date``: both given → that range (at most 90 days); one given → 90 days
    from or up to it; none → the ``default_span`` up to now."""
    start = parse_datetime(values.get("start_date"), "start_date")
    end = parse_datetime(values.get("end_date"), "end_date")
    if start is None and end is None:
        return now - default_span, now
    if start is None:
        assert end is not None  # noqa: S101 - narrowed above
        return end - MAX_WINDOW, end
    if end is None:
        return start, start + MAX_WINDOW
    if end < start:
        raise bad(_("end_date 不能早于 start_date。"))
    if end - start > MAX_WINDOW:
        raise bad(_("start_date 与 end_date 的跨度不能超过 90 天。"))
    return start, end


def page(values: Mapping[str, Any]) -> tuple[int, int]:
    """``page`` (from 1) and ``page_size`` (1–1000, default 1000) → (offset, limit)."""
    number = _positive_int(values.get("page"), "page", default=1)
    size = _positive_int(values.get("page_size"), "page_size", default=MAX_PAGE_SIZE)
    if size > MAX_PAGE_SIZE:
        raise bad(_("page_size 不能超过 %(n)s。") % {"n": MAX_PAGE_SIZE})
    return (number - 1) * size, size


def _positive_int(value: str | None, name: str, *, default: int) -> int:
    value = (value or "").strip()
    if not value:
        return default
    if not value.isdigit() or int(value) < 1:
        raise bad(_("%(name)s 应为正整数。") % {"name": name})
    return int(value)


def comma_list(value: str | None) -> list[str]:
    return [part.strip() for part in (value or "").split(",") if part.strip()]


def _flag(value: str | None) -> bool:
    return (value or "").strip().lower() == "true"


def _coordinate(value: str, name: str, bound: float) -> float:
    try:
        number = float(value)
    except ValueError:
        raise bad(_("%(name)s 应为数字。") % {"name": name}) from None
    if not math.isfinite(number) or abs(number) > bound:
        raise bad(_("%(name)s 超出范围。") % {"name": name})
    return number


# --- GET requests / servicerequestupdates ---------------------------------------------------------


@dataclass(frozen=True)
class RequestFilters:
    ids: list[str]
    service_codes: list[str]
    statuses: list[str]
    start: datetime | None
    end: datetime | None
    updated_after: datetime | None
    updated_before: datetime | None
    offset: int
    limit: int
    extensions: bool


def request_filters(values: QueryDict, *, now: datetime) -> RequestFilters:
    """``service_request_id`` (a comma list: those requests, other filters ignored), ``service_code``
    and ``status`` (comma lists), ``start_date``/``end_date`` (default the last 90 days, unless
    ``updated_after``/``updated_before`` are given), ``page``/``page_size``, ``extensions``."""
    offset, limit = page(values)
    extensions = _flag(values.get("extensions"))
    ids = comma_list(values.get("service_request_id"))
    if ids:
        if len(ids) > MAX_IDS:
            raise bad(_("service_request_id 最多 %(n)s 个。") % {"n": MAX_IDS})
        return RequestFilters(ids, [], [], None, None, None, None, offset, limit, extensions)
    statuses = [status.lower() for status in comma_list(values.get("status"))]
    for status in statuses:
        if status not in STATUSES:
            raise bad(_("status 只能是 open 或 closed：%(value)s") % {"value": status[:20]})
    updated_after = parse_datetime(values.get("updated_after"), "updated_after")
    updated_before = parse_datetime(values.get("updated_before"), "updated_before")
    if updated_after and updated_before and updated_before < updated_after:
        raise bad(_("updated_before 不能早于 updated_after。"))
    start: datetime | None
    end: datetime | None
    dated = values.get("start_date") or values.get("end_date")
    if dated or (updated_after is None and updated_before is None):
        start, end = window(values, now=now, default_span=MAX_WINDOW)
    else:
        start = end = None
    return RequestFilters(
        ids=[],
        service_codes=comma_list(values.get("service_code")),
        statuses=statuses,
        start=start,
        end=end,
        updated_after=updated_after,
        updated_before=updated_before,
        offset=offset,
        limit=limit,
        extensions=extensions,
    )


@dataclass(frozen=True)
class UpdateFilters:
    start: datetime
    end: datetime
    offset: int
    limit: int


def update_filters(values: QueryDict, *, now: datetime) -> UpdateFilters:
    """The change feed: ``start_date``/``end_date`` (default the last 24 hours, at most 90 days)."""
    start, end = window(values, now=now, default_span=timedelta(hours=24))
    offset, limit = page(values)
    return UpdateFilters(start, end, offset, limit)


# --- POST requests -------------------------------------------------------------------------------


def _required(values: QueryDict, name: str) -> str:
    value = (values.get(name) or "").strip()
    if not value:
        raise bad(_("缺少必填参数：%(name)s") % {"name": name})
    return value


def _answers(values: QueryDict, category: Any) -> list[tuple[str, str]]:
    defined = {attribute.code: attribute for attribute in attributes_for(category)}
    sent: dict[str, str] = {}
    for key in values:
        match = ATTRIBUTE_KEY.match(key)
        if match is None:
            continue
        code = match.group(1)
        if code not in defined:
            raise bad(_("该服务没有属性 attribute[%(code)s]。") % {"code": code[:40]})
        sent[code] = "、".join(v.strip() for v in values.getlist(key) if v.strip())
    answers: list[tuple[str, str]] = []
    for attribute in sorted(defined.values(), key=lambda a: a.order):
        answer = sent.get(attribute.code, "")
        name = f"attribute[{attribute.code}]"
        if not answer:
            if attribute.required:
                raise bad(_("缺少必填参数：%(name)s") % {"name": name})
            continue
        if attribute.values:
            if answer not in attribute.value_keys():
                raise bad(_("%(name)s 的取值无效：%(value)s") % {"name": name, "value": answer[:40]})
            answer = attribute.value_name(answer)
        elif len(answer) > attribute.max_length:
            raise bad(_("%(name)s 不能超过 %(n)s 个字符。") % {"name": name, "n": attribute.max_length})
        answers.append((str(attribute.label), answer))
    return answers


def _location(values: QueryDict) -> tuple[float | None, float | None, str, Compound | None]:
    lat_text = (values.get("lat") or "").strip()
    long_text = (values.get("long") or "").strip()
    address = (values.get("address_string") or "").strip()
    address_id = (values.get("address_id") or "").strip()
    if len(address) > MAX_ADDRESS:
        raise bad(_("address_string 不能超过 %(n)s 个字符。") % {"n": MAX_ADDRESS})
    lat = lon = None
    if lat_text or long_text:
        if not (lat_text and long_text):
            raise bad(_("lat 与 long 须同时提供。"))
        lat = _coordinate(lat_text, "lat", 90.0)
        lon = _coordinate(long_text, "long", 180.0)
    compound = None
    if address_id:
        compound = compound_by_code(address_id)
        if compound is None:
            raise bad(_("address_id 不存在：%(id)s") % {"id": address_id[:40]})
    if lat is None and compound is None and not address:
        raise bad(_("须提供位置：lat 和 long，或 address_string，或 address_id。"))
    return lat, lon, address, compound


def report_from_post(values: QueryDict) -> Open311Report:
    """A ``POST requests`` body as an ``Open311Report``; the service must exist (404) and not be an
    emergency (400 naming the number to call)."""
    code = _required(values, "service_code")
    category = selectors.service_for_post(code)
    if category is None:
        raise Open311Error(404, _("service_code 不存在：%(code)s") % {"code": code[:40]})
    if category.is_emergency:
        raise bad(
            _("紧急情况请立即拨打 %(number)s，本平台不受理紧急求助（service_code %(code)s）。")
            % {"number": category.emergency_service, "code": code}
        )
    lat, lon, address, compound = _location(values)
    description = (values.get("description") or "").strip()
    if len(description) > MAX_DESCRIPTION:
        raise bad(_("description 不能超过 %(n)s 个字符。") % {"n": MAX_DESCRIPTION})
    media_url = (values.get("media_url") or "").strip()
    if media_url:
        try:
            if len(media_url) > MAX_MEDIA_URL:
                raise ValidationError("too long")
            URLValidator(schemes=["http", "https"])(media_url)
        except ValidationError:
            raise bad(_("media_url 不是有效的 http(s) 链接。")) from None
    first = (values.get("first_name") or "").strip()
    last = (values.get("last_name") or "").strip()
    return Open311Report(
        category=category,
        description=description,
        lat=lat,
        lon=lon,
        address=address,
        compound=compound,
        media_url=media_url,
        contact_name=f"{last}{first}" if _is_cjk(last + first) else f"{first} {last}".strip(),
        phone=(values.get("phone") or "").strip(),
        email=(values.get("email") or "").strip(),
        answers=_answers(values, category),
    )


def _is_cjk(text: str) -> bool:
    """Chinese names are written surname first (last_name + first_name, no space)."""
    return any("\u4e00" <= char <= "\u9fff" for char in text)
