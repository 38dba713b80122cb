"""Intake: every channel becomes one case (issue 4 item 1).

``case_report`` is the one way a case comes into being — the resident's form, a committee worker's
counter registration, a grid patrol, a 12345 ticket, the JSON API and Open311 all call it with their
channel and the source's reference. In one transaction it validates, locates the place, numbers the
case, suggests the responsible unit (routing) and possible duplicates, inserts the case, its event,
its follower and the notification rows, and starts the registration timer.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from shequ.core.clock import calendar_pinned
from shequ.core.errors import ApiError
from shequ.core.events import events_batched
from shequ.core.revisions import revisions_pinned
from shequ.core.rows import rows_flush, rows_insert, rows_pipelined, statement_run
from shequ.core.texts import site_language, site_text
from shequ.core.validators import validate_mobile
from shequ.places.models import Compound, Division, DivisionLevel, Grid

from .machine import CASE_FOLLOWED, CASE_REPORTED
from .models import (
    OPEN_STATES,
    AttachmentStage,
    Case,
    CaseAttachment,
    CaseSequence,
    CaseState,
    CaseSubscription,
    Category,
    Channel,
    ExternalSystem,
)
from .notifications import case_followers_notify
from .services_common import feed, new_token, record, start_stage, subscribe
from .services_delivery import case_delivery_open

MAX_DESCRIPTION = 4000
MAX_PHOTOS = 9
PHOTO_TYPES = {"image/jpeg", "image/png", "image/webp", "image/heic", "image/gif"}
MAX_PHOTO_BYTES = 10 * 1024 * 1024


def _invalid(message: str, field: str, code: str = "invalid") -> ApiError:
    return ApiError(message, code=code, field=field, status=422)


def _number_and_key(*, at: datetime) -> tuple[str, int | None]:
    """The day's next tracking number — SQ + yyyymmdd + 6-digit sequence: the day's counter row is
    created or bumped under its row lock and the new value returned (PostgreSQL and SQLite ≥ 3.35
    both take ``INSERT … ON CONFLICT DO UPDATE … RETURNING``) — and, on PostgreSQL, the new case's key
    drawn from the key's sequence in the same statement: the case then goes to the server together
    with the rows that point at it (``rows_pipelined``) instead of in a round trip of its own."""
    day = timezone.localtime(at).date()
    table = connection.ops.quote_name(CaseSequence._meta.db_table)
    key_sql = ""
    if connection.vendor == "postgresql":
        case_table = Case._meta.db_table
        key_sql = f", nextval(pg_get_serial_sequence('{case_table}', 'id'))"
    ((last, *key),) = statement_run(
        f"INSERT INTO {table} (day, last) VALUES (%s, 1) "  # noqa: S608 - fixed identifiers only
        f"ON CONFLICT (day) DO UPDATE SET last = {table}.last + 1 RETURNING last{key_sql}",
        [day],
    )
    return f"SQ{day:%Y%m%d}{last:06d}", (key[0] if key else None)


class _Place:
    __slots__ = ("committee", "compound", "district", "grid", "lat", "lon", "street")

    def __init__(self) -> None:
        self.district: Division | None = None
        self.street: Division | None = None
        self.committee: Division | None = None
        self.grid: Grid | None = None
        self.compound: Compound | None = None
        self.lon: float | None = None
        self.lat: float | None = None


def _place_from_point(lon: float, lat: float, crs: str) -> _Place:
    from shequ.places.locate import locate
    from shequ.places.lookups import compound_by_code, division_by_code, grid_by_code

    answer = locate(lon=lon, lat=lat, crs=crs)
    place = _Place()
    place.lon, place.lat = answer.wgs84_lon, answer.wgs84_lat
    place.district = division_by_code(answer.district.code)
    place.street = division_by_code(answer.street.code) if answer.street else None
    place.committee = division_by_code(answer.committee.code) if answer.committee else None
    if answer.compound is not None:
        place.compound = compound_by_code(answer.compound.code)
    if answer.grid is not None:
        own = place.compound.grid if place.compound is not None else None
        place.grid = own if own is not None and own.code == answer.grid.code else None
        if place.grid is None:
            place.grid = grid_by_code(answer.grid.code)
    return place


def _place_from_node(node: Compound | Division) -> _Place:
    place = _Place()
    if isinstance(node, Compound):
        place.compound = node
        place.lon, place.lat = node.lon, node.lat
        place.grid = node.grid if node.grid_id else None
        division: Division | None = node.committee
    else:
        division = node
    chain = {d.level: d for d in _ancestors(division)} if division is not None else {}
    place.committee = chain.get(DivisionLevel.COMMITTEE)
    place.street = chain.get(DivisionLevel.STREET)
    place.district = chain.get(DivisionLevel.DISTRICT)
    return place


def _ancestors(division: Division) -> list[Division]:
    codes = [part for part in division.path.split("/") if part]
    return list(Division.objects.filter(code__in=codes))


def _resolve_place(
    *, lon: float | None, lat: float | None, crs: str, place: Compound | Division | None
) -> _Place:
    if lon is not None and lat is not None:
        located = _place_from_point(lon, lat, crs)
        if place is not None and located.street is None:
            return _place_from_node(place)
        return located
    if lon is not None or lat is not None:
        raise _invalid(_("经度和纬度须同时提供。"), "lat" if lat is None else "lon", "required")
    if place is None:
        raise _invalid(_("请在地图上选点，或选择小区/居村委。"), "location", "required")
    return _place_from_node(place)


def _check_photos(photos: Sequence[UploadedFile]) -> None:
    if len(photos) > MAX_PHOTOS:
        raise _invalid(_("最多上传 %(n)s 张照片。") % {"n": MAX_PHOTOS}, "photos")
    for photo in photos:
        if photo.content_type not in PHOTO_TYPES:
            raise _invalid(_("照片格式不支持：%(name)s") % {"name": photo.name}, "photos")
        if (photo.size or 0) > MAX_PHOTO_BYTES:
            raise _invalid(_("照片不能超过 10MB：%(name)s") % {"name": photo.name}, "photos")


def _check_contact(phone: str, email: str) -> tuple[str, str]:
    phone = (phone or "").strip()
    email = (email or "").strip()
    if phone:
        try:
            validate_mobile(phone)
        except Exception as exc:
            raise _invalid(_("手机号码格式不正确。"), "contact_phone") from exc
    if email and ("@" not in email or len(email) > 254):
        raise _invalid(_("电子邮箱格式不正确。"), "contact_email")
    return phone, email


def _check_report(*, channel: str, category: Category, description: str) -> str:
    if channel not in Channel.values:
        raise _invalid(_("未知来源渠道。"), "channel")
    if category.is_emergency:
        raise ApiError(
            _("紧急情况请立即拨打 %(number)s，本平台不受理紧急求助。")
            % {"number": category.emergency_service},
            code="emergency",
            field="category",
            status=422,
        )
    if not category.is_active:
        raise _invalid(_("该类别已停用。"), "category")
    description = (description or "").strip()
    if not description:
        raise _invalid(_("请描述问题。"), "description", "required")
    if len(description) > MAX_DESCRIPTION:
        raise _invalid(_("问题描述不能超过 %(n)s 字。") % {"n": MAX_DESCRIPTION}, "description")
    return description


@revisions_pinned()
def case_report(
    *,
    actor: Any,
    channel: str,
    category: Category,
    description: str,
    lon: float | None = None,
    lat: float | None = None,
    crs: str = "wgs84",
    place: Compound | Division | None = None,
    address: str = "",
    contact_name: str = "",
    contact_phone: str = "",
    contact_email: str = "",
    anonymous_public: bool = False,
    source_ref: str = "",
    title: str = "",
    photos: Sequence[UploadedFile] = (),
    media_urls: Iterable[str] = (),
    register: bool = False,
    occurred_at: datetime | None = None,
    check_duplicates: bool = True,
) -> Case:
    """Take in one report. Emergency categories are refused (call 110/119/120/122); a source
    reference already taken in through the same channel returns that case (idempotent imports).
    A new case carries ``recorded_events``: the event rows this call wrote (its first timeline)."""
    description = _check_report(channel=channel, category=category, description=description)
    phone, email = _check_contact(contact_phone, contact_email)
    photos = list(photos)
    _check_photos(photos)
    source_ref = (source_ref or "").strip()
    if source_ref:
        existing = Case.objects.filter(channel=channel, source_ref=source_ref).first()
        if existing is not None:
            return existing
    located = _resolve_place(lon=lon, lat=lat, crs=crs, place=place)
    if located.street is None or located.district is None:
        raise _invalid(_("无法确定问题所在的街镇，请重新选点。"), "location")
    at = occurred_at or timezone.now()
    reporter = actor if actor is not None and getattr(actor, "pk", None) else None
    staff_channel = channel in {Channel.COUNTER, Channel.GRID_PATROL, Channel.ASSIGNED}
    suggestion = _suggest(
        category=category, located=located, description=description, check_duplicates=check_duplicates
    )
    try:
        # The case and the rows that point at it go to the server together (``rows_pipelined``): the
        # case, follower, notifications and timer in one round trip, the events and task row in the
        # next.
        with transaction.atomic(), calendar_pinned(), rows_pipelined(), events_batched() as written:
            case = _insert(
                actor=reporter,
                channel=channel,
                category=category,
                description=description,
                located=located,
                address=address,
                contact_name=contact_name,
                phone=phone,
                email=email,
                anonymous_public=anonymous_public,
                source_ref=source_ref,
                title=title,
                staff_channel=staff_channel,
                route_note=suggestion["route_reason"],
                at=at,
            )
            _attach(case, photos=photos, media_urls=media_urls, uploaded_by=reporter, source_ref=source_ref)
            record(
                case,
                CASE_REPORTED,
                actor=reporter,
                old_state=None,
                at=at,
                data={"channel": channel, **suggestion},
            )
            feed(case, description=site_text(gettext_noop("已受理")), at=at)
            follower_user = None if staff_channel else reporter
            if follower_user is not None or phone or email:
                follower = CaseSubscription(
                    case=case,
                    user=follower_user,
                    phone=phone,
                    email=email,
                    is_reporter=True,
                    token=new_token(),
                )
                rows_insert([follower])
                case_followers_notify(
                    case=case,
                    kind="case_reported",
                    title=site_text(gettext_noop("您反映的问题已受理，编号 %(number)s"), number=case.number),
                    subscriptions=[follower],
                )
            start_stage(case, "registration", actor=reporter, at=at)
            if register:
                from .services_transitions import case_register

                rows_flush()  # registration reads the timer and the followers back
                case = case_register(case=case, actor=actor)
    except IntegrityError:
        # A concurrent retry of the same source reference won the race: answer with its case.
        if source_ref:
            existing = Case.objects.filter(channel=channel, source_ref=source_ref).first()
            if existing is not None:
                return existing
        raise
    case.recorded_events = written  # type: ignore[attr-defined]
    return case


def _attach(
    case: Case, *, photos: list[UploadedFile], media_urls: Iterable[str], uploaded_by: Any, source_ref: str
) -> None:
    """The rows of a report written through the ORM: its photos and media links, and for a 12345
    ticket the delivery back to the hotline (tracked apart: it is told what became of its ticket)."""
    urls = [url for url in media_urls if url]
    hotline = case.channel == Channel.HOTLINE and bool(source_ref)
    if not (photos or urls or hotline):
        return
    rows_flush()  # these rows point at the case: it goes first
    for photo in photos:
        CaseAttachment.objects.create(
            case=case,
            stage=AttachmentStage.REPORT,
            file=photo,
            content_type=photo.content_type or "",
            uploaded_by=uploaded_by,
        )
    for url in urls:
        CaseAttachment.objects.create(case=case, stage=AttachmentStage.REPORT, url=url[:500])
    if hotline:
        case_delivery_open(case=case, system=ExternalSystem.HOTLINE, external_id=source_ref)


def _insert(
    *,
    actor: Any,
    channel: str,
    category: Category,
    description: str,
    located: _Place,
    address: str,
    contact_name: str,
    phone: str,
    email: str,
    anonymous_public: bool,
    source_ref: str,
    title: str,
    staff_channel: bool,
    route_note: str,
    at: datetime,
) -> Case:
    if located.street is None or located.district is None:
        raise _invalid(_("无法确定问题所在的街镇，请重新选点。"), "location")
    deepest = located.committee or located.street
    number, key = _number_and_key(at=at)
    case = Case(
        pk=key,
        number=number,
        channel=channel,
        source_ref=source_ref,
        category=category,
        urgency=category.urgency,
        title=(title or "").strip()[:200] or description[:40],
        description=description,
        lon=located.lon,
        lat=located.lat,
        address=(address or "").strip()[:300] or (located.compound.name if located.compound else ""),
        district=located.district,
        street=located.street,
        committee=located.committee,
        grid=located.grid,
        compound=located.compound,
        path=deepest.path,
        street_code=located.street.code,
        reporter=None if staff_channel else actor,
        registered_by=actor if staff_channel else None,
        contact_name=(contact_name or "").strip()[:50],
        contact_phone=phone,
        contact_email=email,
        anonymous_public=anonymous_public,
        route_note=route_note[:300],
        state=CaseState.REPORTED,
        reported_at=at,
        updated_at=at,
    )
    rows_insert([case])
    if case.pk is None:
        rows_flush()  # every other row of the report points at it
    return case


def _suggest(
    *, category: Category, located: _Place, description: str, check_duplicates: bool
) -> dict[str, Any]:
    """Routing suggestion and possible duplicates, kept in the intake event for the dispatcher
    (computed before the transaction opens: both only read)."""
    from .routing import route_case

    if located.district is None or located.street is None:
        raise _invalid(_("无法确定问题所在的街镇，请重新选点。"), "location")
    with site_language():  # the reason is kept on the case
        decision = route_case(
            category=category,
            district=located.district,
            street=located.street,
            committee=located.committee,
            compound=located.compound,
        )
    suggested: str | None = None
    if decision.org is not None:
        suggested = f"org:{decision.org.pk}"
    elif decision.division is not None:
        suggested = decision.division.code
    data: dict[str, Any] = {"suggested_handler": suggested, "route_reason": str(decision.reason)[:300]}
    if check_duplicates:
        from .duplicates import duplicate_numbers

        data["possible_duplicates"] = duplicate_numbers(
            category=category,
            lon=located.lon,
            lat=located.lat,
            text=description,
            street_code=located.street.code,
            committee_id=located.committee.pk if located.committee else None,
            compound_id=located.compound.pk if located.compound else None,
        )
    return data


def case_follow(*, case: Case, actor: Any, phone: str = "") -> Case:
    """A resident who would report the same matter follows an open case instead (not a new report)."""
    if case.state not in OPEN_STATES:
        raise ApiError(_("该案件已办结，不能再关注。"), code="invalid_state", field="state", status=409)
    phone, _email = _check_contact(phone, "")
    user = actor if actor is not None and getattr(actor, "pk", None) else None
    if user is None and not phone:
        raise _invalid(_("请登录或留下手机号以便接收进展。"), "contact_phone", "required")
    with transaction.atomic():
        subscribe(case, user=user, phone=phone)
        record(case, CASE_FOLLOWED, actor=user, old_state=case.state, data={"via": "duplicate_suggestion"})
    return case
