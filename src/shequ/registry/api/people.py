"""The committee worker's registry over the API: search with every population filter, the person sheet,
per-field reveal (logged), edits with provenance, households, houses and correction requests.

Scoped exactly like the pages (``selectors_people``): outside the caller's scope a record answers 404
``not_found``. Personal fields are always masked; clear values come only from ``POST …/reveal`` with a
purpose, which writes an access record. Lists cost a fixed number of queries whatever the page size.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.core.paginator import Paginator
from django.http import Http404, HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema
from pydantic import ConfigDict

from shequ.core.errors import ApiError
from shequ.core.masking import mask
from shequ.core.privacy import masked_value, reveal
from shequ.places.models import Division, House
from shequ.registry import permissions
from shequ.registry import selectors_people as selectors
from shequ.registry.filters import PersonCriteria, age_on
from shequ.registry.models import CorrectionRequest, Household, HouseholdMember, Person, RequestStatus
from shequ.registry.services_people import correction_request_decide, person_update

router = Router(tags=["registry"])

MAX_PAGE_SIZE = 200


class PersonListQuery(PersonCriteria):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True, use_enum_values=True)

    page: int = Field(1, ge=1)
    page_size: int = Field(50, ge=1, le=MAX_PAGE_SIZE)

    def criteria(self) -> PersonCriteria:
        return PersonCriteria.model_validate(self.model_dump(exclude={"page", "page_size"}))


class HouseRef(Schema):
    id: int
    compound_code: str
    compound_name: str
    building: str
    unit: str
    room: str
    tenure: str


class PersonRow(Schema):
    """A person as lists show them: personal fields masked."""

    id: int
    name: str
    document_type: str
    id_number: str
    mobile: str
    sex: str
    age: int | None
    population_kind: str
    status: str
    house: HouseRef | None


class PersonPage(Schema):
    count: int
    page: int
    page_size: int
    items: list[PersonRow]


class ProvenanceOut(Schema):
    attribute: str
    source: str
    confirmed_at: datetime


class PersonOut(PersonRow):
    registered_address: str
    registered_division: str | None
    street_code: str
    provenance: list[ProvenanceOut]
    households: list[int]


class RevealIn(Schema):
    fields: list[str]
    purpose: str = ""


class RevealOut(Schema):
    id: int
    values: dict[str, str]


class PersonPatch(Schema):
    model_config = ConfigDict(extra="forbid")

    name: str | None = None
    document_type: str | None = None
    id_number: str | None = None
    birth_date: date | None = None
    sex: str | None = None
    mobile: str | None = None
    population_kind: str | None = None
    registered_address: str | None = None
    registered_division: str | None = Field(None, description="12-digit division code, or empty")
    house: int | None = Field(None, description="house id (within your scope)")
    status: str | None = None
    reason: str = ""


class CorrectionOut(Schema):
    id: int
    person: int
    attribute: str
    current_value: str
    proposed_value: str
    origin: str
    routed_to: str
    status: str
    requested_at: datetime
    decided_at: datetime | None


class PersonPatchOut(Schema):
    person: PersonOut
    changed: list[str]
    corrections: list[CorrectionOut]


class MemberOut(Schema):
    person: int
    name: str
    relation: str


class HouseholdOut(Schema):
    id: int
    kind: str
    head: int | None
    house: HouseRef
    members: list[MemberOut]


class HouseOut(HouseRef):
    households: list[HouseholdOut]
    residents: list[PersonRow]


class CorrectionQuery(Schema):
    status: str | None = Field(RequestStatus.PENDING, description="empty for every status")
    page: int = Field(1, ge=1)
    page_size: int = Field(50, ge=1, le=MAX_PAGE_SIZE)


class CorrectionPage(Schema):
    count: int
    page: int
    page_size: int
    items: list[CorrectionOut]


class DecideIn(Schema):
    accept: bool
    note: str = Field("", max_length=1000)


# --- Serialisation (masked) --------------------------------------------------------------------


def _house(house: House | None) -> dict[str, Any] | None:
    if house is None:
        return None
    building = house.building
    return {
        "id": house.pk,
        "compound_code": building.compound.code,
        "compound_name": building.compound.name,
        "building": building.number,
        "unit": house.unit,
        "room": house.room,
        "tenure": house.tenure,
    }


def _row(person: Person, today: date) -> dict[str, Any]:
    return {
        "id": person.pk,
        "name": masked_value(person, "name"),
        "document_type": person.document_type,
        "id_number": masked_value(person, "id_number"),
        "mobile": masked_value(person, "mobile"),
        "sex": person.sex,
        "age": age_on(person.birth_date, today) if person.birth_date else None,
        "population_kind": person.population_kind,
        "status": person.status,
        "house": _house(person.house),
    }


def _detail(person: Person) -> dict[str, Any]:
    sheet = selectors.person_sheet(person=person)
    return {
        **_row(person, timezone.localdate()),
        "registered_address": masked_value(person, "registered_address"),
        "registered_division": person.registered_division.code if person.registered_division else None,
        "street_code": person.street_code,
        "provenance": [
            {"attribute": p.attribute, "source": p.source, "confirmed_at": p.confirmed_at}
            for p in sheet.provenance.values()
        ],
        "households": [m.household_id for m in sheet.memberships],
    }


def _correction(request: CorrectionRequest) -> dict[str, Any]:
    personal = request.attribute in Person.PERSONAL_FIELDS
    kind = Person.PERSONAL_FIELDS.get(request.attribute, "")
    return {
        "id": request.pk,
        "person": request.person_id,
        "attribute": request.attribute,
        "current_value": mask(kind, request.current_value) if personal else request.current_value,
        "proposed_value": mask(kind, request.proposed_value) if personal else request.proposed_value,
        "origin": request.origin,
        "routed_to": request.routed_to,
        "status": request.status,
        "requested_at": request.requested_at,
        "decided_at": request.decided_at,
    }


def _members(members: list[HouseholdMember]) -> list[dict[str, Any]]:
    return [
        {"person": m.person_id, "name": masked_value(m.person, "name"), "relation": m.relation}
        for m in members
    ]


def _household(household: Household, members: list[HouseholdMember]) -> dict[str, Any]:
    return {
        "id": household.pk,
        "kind": household.kind,
        "head": household.head_id,
        "house": _house(household.house),
        "members": _members(members),
    }


# --- Endpoints ---------------------------------------------------------------------------------


@router.get("/persons", response=PersonPage, summary="Search the registry (masked)")
def person_list(request: HttpRequest, filters: Query[PersonListQuery]) -> dict[str, Any]:
    today = timezone.localdate()
    queryset = selectors.person_search(user=request.user, criteria=filters.criteria(), as_of=today)
    page = Paginator(queryset, filters.page_size).get_page(filters.page)
    return {
        "count": page.paginator.count,
        "page": page.number,
        "page_size": filters.page_size,
        "items": [_row(person, today) for person in page.object_list],
    }


@router.get("/persons/{person_id}", response=PersonOut, summary="One person sheet (masked)")
def person_detail(request: HttpRequest, person_id: int) -> dict[str, Any]:
    return _detail(selectors.access_person(user=request.user, pk=person_id))


@router.post(
    "/persons/{person_id}/reveal", response=RevealOut, summary="Unmask fields with a purpose (logged)"
)
def person_reveal(request: HttpRequest, person_id: int, payload: RevealIn) -> dict[str, Any]:
    person = selectors.access_person(user=request.user, pk=person_id)
    if not permissions.can_reveal(request.user, person.path):
        raise ApiError(_("无权查看该人员的个人信息明文。"), code="forbidden", status=403)
    values = reveal(
        actor=request.user, subject=person, fields=payload.fields, purpose=payload.purpose, request=request
    )
    return {"id": person.pk, "values": values}


@router.patch("/persons/{person_id}", response=PersonPatchOut, summary="Edit a person (with provenance)")
def person_patch(request: HttpRequest, person_id: int, payload: PersonPatch) -> dict[str, Any]:
    person = selectors.access_person(user=request.user, pk=person_id)
    if not permissions.can_edit_person(request.user, person.path):
        raise ApiError(_("无权修改该人员。"), code="forbidden", status=403)
    changes: dict[str, Any] = payload.model_dump(exclude_unset=True)
    reason = changes.pop("reason", "")
    if "house" in changes and changes["house"] is not None:
        try:
            changes["house"] = selectors.access_house(user=request.user, pk=changes["house"])
        except Http404:
            raise ApiError(_("找不到该房屋。"), code="invalid", field="house", status=422) from None
    if changes.get("registered_division"):
        division = Division.objects.filter(code=changes["registered_division"]).first()
        if division is None:
            raise ApiError(_("没有这个区划代码。"), code="invalid", field="registered_division", status=422)
        changes["registered_division"] = division
    result = person_update(person=person, changes=changes, actor=request.user, reason=reason)
    fresh = selectors.access_person(user=request.user, pk=person_id)
    return {
        "person": _detail(fresh),
        "changed": sorted(result.changed),
        "corrections": [_correction(c) for c in result.corrections],
    }


@router.get("/households/{household_id}", response=HouseholdOut, summary="One household file (一户一档)")
def household_detail(request: HttpRequest, household_id: int) -> dict[str, Any]:
    household = selectors.access_household(user=request.user, pk=household_id)
    return _household(household, selectors.household_members(household=household))


@router.get("/houses/{house_id}", response=HouseOut, summary="One house, its households and residents")
def house_detail(request: HttpRequest, house_id: int) -> dict[str, Any]:
    house = selectors.access_house(user=request.user, pk=house_id)
    today = timezone.localdate()
    households = selectors.house_households(user=request.user, house=house)
    residents = selectors.house_residents(user=request.user, house=house)
    for person in residents:
        person.house = house
    return {
        **(_house(house) or {}),
        "households": [{**_household(h, list(h.members.all())), "house": _house(house)} for h in households],
        "residents": [_row(p, today) for p in residents],
    }


@router.get("/corrections", response=CorrectionPage, summary="Correction requests in your scope")
def correction_list(request: HttpRequest, filters: Query[CorrectionQuery]) -> dict[str, Any]:
    queryset = selectors.correction_requests(user=request.user, status=filters.status or None)
    page = Paginator(queryset, filters.page_size).get_page(filters.page)
    return {
        "count": page.paginator.count,
        "page": page.number,
        "page_size": filters.page_size,
        "items": [_correction(c) for c in page.object_list],
    }


@router.post("/corrections/{request_id}/decide", response=CorrectionOut, summary="Accept or reject")
def correction_decide(request: HttpRequest, request_id: int, payload: DecideIn) -> dict[str, Any]:
    correction = selectors.access_correction_request(user=request.user, pk=request_id)
    decided = correction_request_decide(
        request=correction, accept=payload.accept, note=payload.note, actor=request.user
    )
    return _correction(decided)
