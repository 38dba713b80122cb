"""Residents' self-service over the API (/api/v1/registry/me…) and the committee's side: linking a
resident account, the deletion-request queue and its decisions. Same selectors and services as the
pages; a caller without a linked record gets 404 from every /me endpoint."""

from __future__ import annotations

from datetime import date, datetime

from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema

from shequ.core.privacy import masked_value
from shequ.registry import permissions, selectors_resident, services_resident
from shequ.registry.models import CorrectionRequest, DeletionRequest

router = Router(tags=["registry"])

MAX_PAGE_SIZE = 200


class TagOut(Schema):
    code: str
    name: str


class MemberOut(Schema):
    relation: str
    name: str
    is_self: bool


class HouseholdOut(Schema):
    id: int
    address: str
    members: list[MemberOut]


class MeOut(Schema):
    id: int
    name: str
    document_type: str
    id_number: str
    birth_date: date | None
    sex: str
    mobile: str
    population_kind: str
    registered_address: str
    house: str | None
    status: str
    archived_at: datetime | None
    purge_after: datetime | None
    tags: list[TagOut]
    households: list[HouseholdOut]


class AccessEntryOut(Schema):
    accessed_at: datetime
    viewer: str
    role: str
    unit: str
    fields: list[str]
    purpose: str


class AccessLogPage(Schema):
    count: int
    page: int
    page_size: int
    items: list[AccessEntryOut]


class PageQuery(Schema):
    page: int = Field(1, ge=1)
    page_size: int = Field(50, ge=1, le=MAX_PAGE_SIZE)


class CorrectionIn(Schema):
    attribute: str
    proposed_value: str = Field(..., max_length=255)
    reason: str = Field("", max_length=services_resident.REASON_MAX_LENGTH)


class CorrectionOut(Schema):
    id: int
    attribute: str
    proposed_value: str
    status: str
    routed_to: str
    requested_at: datetime
    decided_at: datetime | None
    decision_note: str

    @staticmethod
    def of(item: CorrectionRequest) -> CorrectionOut:
        return CorrectionOut(
            id=item.pk,
            attribute=item.attribute,
            proposed_value=item.proposed_value,
            status=item.status,
            routed_to=item.routed_to,
            requested_at=item.requested_at,
            decided_at=item.decided_at,
            decision_note=item.decision_note,
        )


class DeletionIn(Schema):
    ground: str
    explanation: str = Field("", max_length=services_resident.REASON_MAX_LENGTH)


class DeletionOut(Schema):
    id: int
    person_id: int
    person_name: str  # masked
    reason: str
    status: str
    requested_at: datetime
    decided_at: datetime | None
    decision_note: str

    @staticmethod
    def of(item: DeletionRequest) -> DeletionOut:
        return DeletionOut(
            id=item.pk,
            person_id=item.person_id,
            person_name=masked_value(item.person, "name"),
            reason=item.reason,
            status=item.status,
            requested_at=item.requested_at,
            decided_at=item.decided_at,
            decision_note=item.decision_note,
        )


class DeletionPage(Schema):
    count: int
    page: int
    page_size: int
    items: list[DeletionOut]


class DeletionQuery(PageQuery):
    status: str = Field("", pattern=r"^(|pending|accepted|rejected|withdrawn)$")


class DecisionIn(Schema):
    approve: bool
    note: str = Field("", max_length=services_resident.REASON_MAX_LENGTH)


class LinkIn(Schema):
    username: str = Field(..., max_length=150)


class LinkOut(Schema):
    person_id: int
    user_id: int
    verified_at: datetime


def _no_store(response: HttpResponse) -> None:
    response["Cache-Control"] = "no-store"


@router.get("/me", response=MeOut)
def me(request: HttpRequest, response: HttpResponse) -> MeOut:
    """The caller's own registry record, unmasked (their own data; not logged as access). Sensitive
    tags are never included."""
    _no_store(response)
    person = selectors_resident.resident_person(user=request.user)
    households = selectors_resident.resident_households(person=person, user=request.user)
    return MeOut(
        id=person.pk,
        name=person.name,
        document_type=person.document_type,
        id_number=person.id_number,
        birth_date=person.birth_date,
        sex=person.sex,
        mobile=person.mobile,
        population_kind=person.population_kind,
        registered_address=person.registered_address,
        house=str(person.house) if person.house is not None else None,
        status=person.status,
        archived_at=person.archived_at,
        purge_after=selectors_resident.resident_purge_date(person=person),
        tags=[
            TagOut(code=a.tag.code, name=a.tag.name) for a in selectors_resident.resident_tags(person=person)
        ],
        households=[
            HouseholdOut(
                id=h.household.pk,
                address=h.address,
                members=[MemberOut(relation=m.relation, name=m.name, is_self=m.is_self) for m in h.members],
            )
            for h in households
        ],
    )


@router.get("/me/access-log", response=AccessLogPage)
def me_access_log(request: HttpRequest, query: Query[PageQuery], response: HttpResponse) -> AccessLogPage:
    """Who read the caller's unmasked data: when, the viewer's surname, role and unit, which fields
    and why."""
    _no_store(response)
    person = selectors_resident.resident_person(user=request.user)
    queryset = selectors_resident.resident_access_log(person=person)
    start = (query.page - 1) * query.page_size
    rows = list(queryset[start : start + query.page_size])
    entries = selectors_resident.access_entries(rows=rows, person=person)
    return AccessLogPage(
        count=queryset.count(),
        page=query.page,
        page_size=query.page_size,
        items=[AccessEntryOut(**entry.__dict__) for entry in entries],
    )


@router.get("/me/corrections", response=list[CorrectionOut])
def me_corrections(request: HttpRequest) -> list[CorrectionOut]:
    person = selectors_resident.resident_person(user=request.user)
    items = selectors_resident.resident_corrections(person=person, user=request.user)[:MAX_PAGE_SIZE]
    return [CorrectionOut.of(item) for item in items]


@router.post("/me/corrections", response={201: CorrectionOut})
def me_correction_create(request: HttpRequest, payload: CorrectionIn) -> tuple[int, CorrectionOut]:
    person = selectors_resident.resident_person(user=request.user)
    item = services_resident.correction_request_from_resident(
        person=person,
        attribute=payload.attribute,
        proposed_value=payload.proposed_value,
        reason=payload.reason,
        actor=request.user,
    )
    return 201, CorrectionOut.of(item)


@router.get("/me/deletion-requests", response=list[DeletionOut])
def me_deletion_requests(request: HttpRequest) -> list[DeletionOut]:
    person = selectors_resident.resident_person(user=request.user)
    items = selectors_resident.resident_deletion_requests(person=person, user=request.user)[:MAX_PAGE_SIZE]
    return [DeletionOut.of(item) for item in items.select_related("person")]


@router.post("/me/deletion-requests", response={201: DeletionOut})
def me_deletion_request_create(request: HttpRequest, payload: DeletionIn) -> tuple[int, DeletionOut]:
    person = selectors_resident.resident_person(user=request.user)
    item = services_resident.deletion_request_create(
        person=person, ground=payload.ground, explanation=payload.explanation, actor=request.user
    )
    return 201, DeletionOut.of(item)


@router.get("/deletion-requests", response=DeletionPage)
def deletion_request_list(request: HttpRequest, query: Query[DeletionQuery]) -> DeletionPage:
    """Deletion requests about persons in the caller's area (default: all statuses)."""
    queryset = selectors_resident.deletion_requests_for_decision(user=request.user, status=query.status)
    start = (query.page - 1) * query.page_size
    items = list(queryset[start : start + query.page_size])
    return DeletionPage(
        count=queryset.count(),
        page=query.page,
        page_size=query.page_size,
        items=[DeletionOut.of(item) for item in items],
    )


@router.post("/deletion-requests/{request_id}/decide", response=DeletionOut)
def deletion_request_decide(request: HttpRequest, request_id: int, payload: DecisionIn) -> DeletionOut:
    item = selectors_resident.access_deletion_request_by_id(user=request.user, request_id=request_id)
    decided = services_resident.deletion_request_decide(
        request=item, approve=payload.approve, note=payload.note, actor=request.user
    )
    return DeletionOut.of(decided)


@router.post("/persons/{person_id}/resident-link", response={201: LinkOut})
def person_resident_link(request: HttpRequest, person_id: int, payload: LinkIn) -> tuple[int, LinkOut]:
    """Link a resident account (by username, a resident of the person's committee) to the person, after
    the committee has verified the resident's identity in person."""
    person = selectors_resident.access_person_for_link(user=request.user, person_id=person_id)
    if not permissions.can_edit_person(request.user, person.path):
        raise Http404
    account = selectors_resident.resident_account_by_username(username=payload.username, user=request.user)
    if account is None:
        raise ValidationError({"username": _("在本辖区没有找到该居民账号。")})
    link = services_resident.resident_link_create(user=account, person=person, actor=request.user)
    return 201, LinkOut(person_id=link.person_id, user_id=link.user_id, verified_at=link.verified_at)
