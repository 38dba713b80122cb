"""The case loop over the JSON API, under /api/v1/cases/ (token or verified session, like the rest).

- ``POST /cases/`` — report a problem → 201 with the case. ``channel``: ``resident_web`` (a browser
  session's default), ``counter``/``grid_patrol`` (committee and grid staff), ``assigned``
  (dispatchers and officers), ``api`` (the default with a personal token). A ``source_ref`` already
  taken through the same channel answers 200 with that case.
- ``GET /cases/`` — the cases you may see, filtered (``state`` repeated, ``category``, ``street``,
  ``committee``, ``handler``, ``overdue``, ``q``, ``created_from``/``created_to``), paged; a fixed
  number of queries whatever the page size.
- ``GET /cases/duplicates?category&lon&lat&crs&text`` — open cases that may be the same matter.
- ``GET /cases/{number}`` — one case: masked contact (staff and the reporter only), what you may do
  now, the timeline.
- ``POST /cases/{number}/reveal`` ``{fields, purpose}`` — the contact in clear for handlers, logged.
- ``POST /cases/{number}/transitions/{name}`` — one step of the state machine; the body depends on the
  step (``schemas.TRANSITION_BODIES``) and may carry the ``version`` you saw (409 when it moved on).
- ``POST /cases/{number}/follow`` — follow an open case instead of reporting it again.
- ``POST /cases/imports/12345`` (multipart ``file``, ``dry_run``) — load a 12345 hotline export.

Every POST that changes something honours ``Idempotency-Key`` (a retry gets the first answer). A case
outside your scope is 404, a step your seat may not take 403, a step the case's state does not allow
or a stale ``version`` 409, a bad value 422 naming the field.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.core.paginator import Paginator
from django.http import Http404, HttpRequest
from django.urls import register_converter
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Body, File, Form, Query, Router, Status
from ninja.files import UploadedFile
from pydantic import ValidationError as PydanticValidationError

from shequ.accounts.models import Organisation
from shequ.cases import permissions, schemas
from shequ.cases import services_transitions as transitions
from shequ.cases.models import Case, CaseDelivery, Category, Channel
from shequ.cases.reference import category_by_code
from shequ.cases.selectors import (
    access_case_by_number,
    case_by_number_public,
    case_timeline,
    cases_visible,
)
from shequ.cases.services_delivery import case_delivery_mark
from shequ.cases.services_import import HotlineImport, hotline_import
from shequ.cases.services_intake import case_follow, case_report
from shequ.core.errors import ApiError
from shequ.core.idempotency import idempotent
from shequ.core.privacy import masked_value, reveal
from shequ.places.lookups import compound_by_code
from shequ.places.models import Compound, Division, DivisionLevel

router = Router(tags=["cases"])


class CaseNumberConverter:
    """``SQ`` + date + sequence: keeps /cases/{number} from shadowing the other /cases/… paths."""

    regex = schemas.NUMBER_PATTERN

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(CaseNumberConverter, "case_number")

# Channels a report may name here; the 12345 hotline comes in through its import, Open311 clients
# through /open311/v2/, sensors through their own integration.
API_CHANNELS = frozenset(
    {Channel.RESIDENT_WEB, Channel.COUNTER, Channel.GRID_PATROL, Channel.ASSIGNED, Channel.API}
)
# Keys of an event's data shown in the timeline (the rest is internal bookkeeping).
TIMELINE_KEYS = (
    "channel",
    "reason",
    "grounds",
    "note",
    "route",
    "outcome",
    "level",
    "amount",
    "unit",
    "review_on",
    "master",
    "solved",
    "feedback",
    "comment",
    "on_time",
    "escalated_to",
    "due_at",
)


def _invalid(message: str, field: str) -> ApiError:
    return ApiError(message, code="invalid", field=field, status=422)


# --- Serialisation -----------------------------------------------------------------------------


def _place(node: Division | Compound | None) -> dict[str, str] | None:
    return {"code": node.code, "name": node.name} if node is not None else None


def _handler(case: Case) -> dict[str, str] | None:
    if case.handler_org_id is not None and case.handler_org is not None:
        return {"key": f"org:{case.handler_org_id}", "name": case.handler_org.name}
    if case.handler_division_id is not None and case.handler_division is not None:
        return {"key": case.handler_division.code, "name": case.handler_division.name}
    return None


def case_row(case: Case, now: datetime) -> dict[str, Any]:
    """A case as lists show it (only the related rows the selectors join)."""
    category = case.category
    return {
        "number": case.number,
        "channel": case.channel,
        "source_ref": case.source_ref,
        "category": {"code": category.code, "name": category.name, "major_name": category.major_name},
        "title": case.title,
        "state": case.state,
        "state_label": str(case.get_state_display()),
        "urgency": case.urgency,
        "outcome": case.outcome,
        "feedback": case.feedback,
        "supervision_level": case.supervision_level,
        "district": _place(case.district),
        "street": _place(case.street),
        "committee": _place(case.committee) if case.committee_id else None,
        "compound": _place(case.compound) if case.compound_id else None,
        "handler": _handler(case),
        "reported_at": case.reported_at,
        "due_at": case.due_at,
        "closed_at": case.closed_at,
        "overdue": bool(
            case.due_at is not None and case.state in schemas.AWAITING_HANDLING and case.due_at < now
        ),
        "version": case.version,
    }


def _timeline(case: Case, *, show_actors: bool) -> list[dict[str, Any]]:
    out = []
    for event in case_timeline(case):
        if not show_actors and not event.type.startswith("CASE_"):
            continue  # the clock's own rows (timers started, met …) are for staff
        data = event.data or {}
        state = data.get("state") or {}
        actor = None
        if show_actors and event.actor is not None:
            actor = str(event.actor)
        out.append(
            {
                "type": event.type,
                "occurred_at": event.occurred_at,
                "actor": actor,
                "state_old": state.get("old"),
                "state_new": state.get("new"),
                "details": {key: data[key] for key in TIMELINE_KEYS if key in data},
            }
        )
    return out


def case_out(case: Case, user: Any, *, attachments: list[dict[str, str]] | None = None) -> dict[str, Any]:
    """One case as ``user`` sees it: contact masked and only for staff and the reporter.
    ``attachments`` when the caller knows them (a report just made without media)."""
    staff = permissions.is_case_staff(user)
    own = case.reporter_id is not None and case.reporter_id == getattr(user, "pk", None)
    contact = None
    if staff or own:
        contact = {name: masked_value(case, name) for name in Case.PERSONAL_FIELDS}
    master = None
    if case.master_id is not None:
        master = Case.objects.filter(pk=case.master_id).values_list("number", flat=True).first()
    return {
        **case_row(case, timezone.now()),
        "description": case.description,
        "address": case.address,
        "lon": case.lon,
        "lat": case.lat,
        "anonymous_public": case.anonymous_public,
        "contact": contact,
        "result": case.result,
        "redirect_route": case.redirect_route,
        "master": master,
        "petition_ref": case.petition_ref if staff else "",
        "first_responsible": case.first_responsible,
        "route_note": case.route_note if staff else "",
        "counts": {
            "rework": case.rework_count,
            "redo": case.redo_count,
            "extension": case.extension_count,
            "return": case.return_count,
            "reopen": case.reopen_count,
        },
        "attachments": attachments
        if attachments is not None
        else [
            {
                "stage": a.stage,
                "url": a.file.url if a.file else a.url,
                "content_type": a.content_type,
            }
            for a in case.attachments.all()
        ],
        "transitions": permissions.transitions_for(user, case),
        "timeline": _timeline(case, show_actors=staff),
        "deliveries": [
            {
                "system": d.system,
                "external_id": d.external_id,
                "state": d.state,
                "last_error": d.last_error,
                "updated_at": d.updated_at,
            }
            for d in case.deliveries.all()
        ]
        if staff
        else [],
    }


# --- Input helpers -----------------------------------------------------------------------------


def _is_machine(request: HttpRequest) -> bool:
    return getattr(request, "api_token", None) is not None


def _category(code: str, *, field: str = "category", public_only: bool = False) -> Category:
    category = category_by_code(code.strip().upper())
    if category is None or (public_only and not category.is_public and not category.is_emergency):
        raise _invalid(_("没有这个类别：%(code)s") % {"code": code}, field)
    return category


def _report_place(payload: schemas.CaseIn) -> Compound | Division | None:
    if payload.compound:
        compound = compound_by_code(payload.compound)
        if compound is None:
            raise _invalid(_("没有这个小区：%(code)s") % {"code": payload.compound}, "compound")
        return compound
    if payload.committee:
        committee = Division.objects.filter(
            code=payload.committee, level=DivisionLevel.COMMITTEE, is_active=True
        ).first()
        if committee is None:
            raise _invalid(_("没有这个居村委：%(code)s") % {"code": payload.committee}, "committee")
        return committee
    return None


def _report_channel(request: HttpRequest, requested: str | None) -> str:
    machine = _is_machine(request)
    channel = requested or (Channel.API if machine else Channel.RESIDENT_WEB)
    if channel not in API_CHANNELS:
        raise _invalid(_("不接受该来源渠道：%(channel)s") % {"channel": channel}, "channel")
    if channel not in permissions.report_channels(request.user, machine=machine):
        raise ApiError(_("您的岗位不能以该渠道登记案件。"), code="forbidden", field="channel", status=403)
    return str(channel)


def _unit(user: Any, body: schemas.RouteIn) -> dict[str, Any]:
    """The unit a dispatcher chose by hand (none: the routing rules decide)."""
    if body.org_id is not None and body.division_code:
        raise _invalid(_("责任单位和责任属地只能选一个。"), "division_code")
    org = division = None
    if body.org_id is not None:
        org = Organisation.objects.filter(pk=body.org_id, is_active=True).first()
        if org is None:
            raise _invalid(_("没有这个单位。"), "org_id")
    if body.division_code:
        division = Division.objects.filter(code=body.division_code, is_active=True).first()
        if division is None:
            raise _invalid(_("没有这个区划：%(code)s") % {"code": body.division_code}, "division_code")
    return {"org": org, "division": division, "note": body.note}


def _master(user: Any, number: str) -> Case:
    try:
        return access_case_by_number(user, number)
    except Http404:
        raise _invalid(_("找不到主案件 %(n)s。") % {"n": number}, "master") from None


def _arguments(body: Any, user: Any) -> dict[str, Any]:
    """The service's keyword arguments for transition ``name`` from its checked body."""
    if isinstance(body, schemas.RouteIn):
        return _unit(user, body)
    if isinstance(body, schemas.RegisterIn):
        category = _category(body.category) if body.category else None
        return {"category": category, "urgency": body.urgency}
    if isinstance(body, schemas.MergeIn):
        return {"master": _master(user, body.master)}
    if isinstance(body, schemas.SuperviseIn):
        return {"level": body.level, "reason": body.reason}
    fields = set(type(body).model_fields) - {"version"}
    return {key: getattr(body, key) for key in fields}


SERVICES: dict[str, Callable[..., Case]] = {
    "verify": transitions.case_verify,
    "register": transitions.case_register,
    "reject": transitions.case_reject,
    "merge": transitions.case_merge,
    "dispatch": transitions.case_dispatch,
    "self_handle": transitions.case_self_handle,
    "accept": transitions.case_accept,
    "return_request": transitions.case_return_request,
    "redispatch": transitions.case_redispatch,
    "return_refuse": transitions.case_return_refuse,
    "extension_request": transitions.case_extension_request,
    "extension_grant": transitions.case_extension_grant,
    "extension_refuse": transitions.case_extension_refuse,
    "suspend": transitions.case_suspend,
    "resume": transitions.case_resume,
    "handle": transitions.case_handle,
    "check_start": transitions.case_check_start,
    "check_pass": transitions.case_check_pass,
    "check_fail": transitions.case_check_fail,
    "confirm": transitions.case_confirm,
    "redo": transitions.case_redo,
    "close": transitions.case_close,
    "reopen": transitions.case_reopen,
    "supervise": transitions.case_supervise,
    "reroute": transitions.case_reroute,
    "link_petition": transitions.case_petition_link,
}


def _body(name: str, raw: dict[str, Any] | None) -> schemas.TransitionIn:
    model = schemas.TRANSITION_BODIES.get(name)
    if model is None or name not in SERVICES:
        raise ApiError(
            _("没有这个操作：%(name)s") % {"name": name}, code="not_found", field="name", status=404
        )
    try:
        return model.model_validate(raw or {})
    except PydanticValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first.get("loc", ()))
        message = first.get("msg", "invalid input")
        raise _invalid(f"{field}: {message}" if field else message, field) from None


def import_out(result: HotlineImport) -> dict[str, Any]:
    return {
        "rows": result.rows,
        "new": result.new,
        "already_imported": result.already_imported,
        "errors": [
            {"line": issue.line, "column": issue.column, "message": issue.message} for issue in result.issues
        ],
        "loaded": result.loaded,
        "created": [case.number for case in result.created],
    }


# --- Endpoints (fixed paths before /{number}) --------------------------------------------------


@router.post(
    "",
    response={200: schemas.CaseOut, 201: schemas.CaseOut},
    summary="Report a problem (201; 200 when source_ref was taken in before)",
)
@idempotent
def case_create(request: HttpRequest, payload: schemas.CaseIn) -> Status:
    channel = _report_channel(request, payload.channel)
    category = _category(payload.category, public_only=channel == Channel.RESIDENT_WEB)
    place = _report_place(payload)
    known = (
        bool(payload.source_ref)
        and Case.objects.filter(channel=channel, source_ref=payload.source_ref).exists()
    )
    case = case_report(
        actor=request.user,
        channel=channel,
        category=category,
        description=payload.description,
        lon=payload.lon,
        lat=payload.lat,
        crs=payload.crs,
        place=place,
        address=payload.address,
        contact_name=payload.contact_name,
        contact_phone=payload.contact_phone,
        contact_email=payload.contact_email,
        anonymous_public=payload.anonymous_public,
        source_ref=payload.source_ref,
        title=payload.title,
        media_urls=payload.media_urls,
    )
    attachments: list[dict[str, str]] | None = None if known or payload.media_urls else []
    return Status(200 if known else 201, case_out(case, request.user, attachments=attachments))


@router.get("", response=schemas.CasePage, summary="The cases you may see, filtered and paged")
def case_list(request: HttpRequest, filters: Query[schemas.CaseListQuery]) -> dict[str, Any]:
    now = timezone.now()
    queryset = filters.apply(cases_visible(request.user), now=now).order_by("-reported_at", "-pk")
    page = Paginator(queryset, filters.page_size).get_page(filters.page)
    return {
        "count": page.paginator.count,
        "page": page.number,
        "page_size": filters.page_size,
        "items": [case_row(case, now) for case in page.object_list],
    }


@router.get(
    "/duplicates",
    response=list[schemas.DuplicateOut],
    summary="Open cases that may report the same matter (same category, nearby, similar text)",
)
def case_duplicates(request: HttpRequest, query: Query[schemas.DuplicateQuery]) -> list[dict[str, Any]]:
    from shequ.cases.duplicates import duplicate_candidates
    from shequ.places.locate import locate

    category = _category(query.category)
    answer = locate(lon=query.lon, lat=query.lat, crs=query.crs)
    if answer.street is None:
        return []
    found = duplicate_candidates(
        category=category,
        lon=answer.wgs84_lon,
        lat=answer.wgs84_lat,
        text=query.text,
        street_code=answer.street.code,
    )
    return [
        {
            "number": c.case.number,
            "title": c.case.title,
            "state": c.case.state,
            "state_label": str(c.case.get_state_display()),
            "reported_at": c.case.reported_at,
            "distance_m": round(c.distance_m, 1) if c.distance_m is not None else None,
            "similarity": round(c.similarity, 3),
            "score": round(c.score, 3),
        }
        for c in found
    ]


@router.post(
    "/imports/12345",
    response={200: schemas.ImportOut, 422: schemas.ImportOut},
    summary="Load a 12345 hotline export (CSV; all or nothing; a file loaded again changes nothing)",
)
@idempotent
def hotline_import_upload(
    request: HttpRequest, file: File[UploadedFile], dry_run: Form[bool] = False
) -> Status:
    result = hotline_import(content=file.read(), actor=request.user, dry_run=dry_run)
    return Status(422 if result.issues else 200, import_out(result))


@router.get("/{case_number:number}", response=schemas.CaseOut, summary="One case with its timeline")
def case_detail(request: HttpRequest, number: str) -> dict[str, Any]:
    return case_out(access_case_by_number(request.user, number), request.user)


@router.post(
    "/{case_number:number}/reveal",
    response=schemas.RevealOut,
    summary="The reporter's contact details in clear, for handlers (logged with the purpose)",
)
def case_reveal(request: HttpRequest, number: str, payload: schemas.RevealIn) -> dict[str, Any]:
    case = access_case_by_number(request.user, number)
    if not permissions.can_reveal_contact(request.user, case):
        raise ApiError(_("无权查看报告人的联系方式。"), code="forbidden", status=403)
    values = reveal(
        actor=request.user, subject=case, fields=payload.fields, purpose=payload.purpose, request=request
    )
    return {"number": case.number, "values": values}


@router.post(
    "/{case_number:number}/transitions/{name}",
    response=schemas.CaseOut,
    summary="One step of the state machine (body per step; optional version)",
)
@idempotent
def case_transition(
    request: HttpRequest, number: str, name: str, payload: Body[dict[str, Any] | None] = None
) -> dict[str, Any]:
    body = _body(name, payload)
    case = access_case_by_number(request.user, number)
    arguments = _arguments(body, request.user)
    case = SERVICES[name](case=case, actor=request.user, expected_version=body.version, **arguments)
    return case_out(case, request.user)


@router.post(
    "/{case_number:number}/deliveries/{system}",
    response=schemas.DeliveryOut,
    summary="An external system (12345, city operations) reports what became of its copy of the case",
)
@idempotent
def case_delivery_report(
    request: HttpRequest, number: str, system: str, payload: schemas.DeliveryIn
) -> CaseDelivery:
    case = access_case_by_number(request.user, number)
    if not permissions.can_report_delivery(request.user, case):
        raise ApiError(_("无权报告此案件的推送状态。"), code="forbidden", status=403)
    return case_delivery_mark(
        case=case,
        system=system,
        state=payload.state,
        actor=request.user,
        external_id=payload.external_id,
        error=payload.error,
    )


@router.post(
    "/{case_number:number}/follow",
    response=schemas.CaseOut,
    summary="Follow an open case (instead of reporting the same matter again)",
)
@idempotent
def case_follow_endpoint(
    request: HttpRequest, number: str, payload: Body[schemas.FollowIn | None] = None
) -> dict[str, Any]:
    try:
        case = access_case_by_number(request.user, number)
    except Http404:
        # Any case's public face is open (Open311); following it makes it yours to see.
        case = case_by_number_public(number)
    case_follow(case=case, actor=request.user, phone=payload.contact_phone if payload else "")
    return case_out(access_case_by_number(request.user, number), request.user)
