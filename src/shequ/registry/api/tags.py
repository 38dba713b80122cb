"""The tag dictionary, tags on persons, the visit log and saved population filters over the API.

Scoped exactly like the pages: a person, household, visit, assignment or filter outside the caller's
scope answers 404 ``not_found``; a sensitive tag the caller's roles may not see is left out of every
answer (and an assignment of one is a 404). Personal fields are always masked. Lists cost a fixed
number of queries whatever the page size.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema

from shequ.core.errors import ApiError
from shequ.core.privacy import masked_value
from shequ.places import selectors as place_selectors
from shequ.registry import selectors_filters, selectors_tags
from shequ.registry.filters import age_on
from shequ.registry.models import Person, SavedFilter, TagAssignment, TagDefinition, Visit
from shequ.registry.services_filters import saved_filter_create, saved_filter_delete, saved_filter_update
from shequ.registry.services_tags import (
    tag_assign,
    tag_definition_activate,
    tag_definition_create,
    tag_definition_deactivate,
    tag_definition_update,
    tag_end,
    tag_review_confirm,
)
from shequ.registry.services_visits import visit_follow_up_done, visit_record

router = Router(tags=["registry"])

MAX_PAGE_SIZE = 200


class PageQuery(Schema):
    page: int = Field(1, ge=1)
    page_size: int = Field(50, ge=1, le=MAX_PAGE_SIZE)


def _slice(queryset: QuerySet[Any], query: PageQuery) -> tuple[int, list[Any]]:
    """One COUNT and one page query, whatever the page size."""
    start = (query.page - 1) * query.page_size
    return queryset.count(), list(queryset[start : start + query.page_size])


# --- The dictionary ---------------------------------------------------------------------------------


class TagOut(Schema):
    id: int
    code: str
    name: str
    description: str
    is_sensitive: bool
    assignable_by: list[str]
    visible_to: list[str]
    evidence_required: bool
    evidence_hint: str
    review_months: int | None
    rule: str
    rule_value: int | None
    is_active: bool


class TagIn(Schema):
    code: str = Field(..., pattern=r"^[-a-zA-Z0-9_]{1,64}$")
    name: str = Field(..., min_length=1, max_length=64)
    description: str = ""
    is_sensitive: bool = False
    assignable_by: list[str] = Field(default_factory=list)
    visible_to: list[str] = Field(default_factory=list)
    evidence_required: bool = False
    evidence_hint: str = Field("", max_length=255)
    review_months: int | None = Field(None, ge=1, le=120)
    rule: str = ""
    rule_value: int | None = Field(None, ge=0, le=150)


class TagPatch(Schema):
    name: str | None = Field(None, min_length=1, max_length=64)
    description: str | None = None
    is_sensitive: bool | None = None
    assignable_by: list[str] | None = None
    visible_to: list[str] | None = None
    evidence_required: bool | None = None
    evidence_hint: str | None = Field(None, max_length=255)
    review_months: int | None = Field(None, ge=1, le=120)
    rule: str | None = None
    rule_value: int | None = Field(None, ge=0, le=150)


def _tag_out(tag: TagDefinition) -> TagOut:
    return TagOut(
        id=tag.pk,
        code=tag.code,
        name=tag.name,
        description=tag.description,
        is_sensitive=tag.is_sensitive,
        assignable_by=list(tag.assignable_by),
        visible_to=list(tag.visible_to),
        evidence_required=tag.evidence_required,
        evidence_hint=tag.evidence_hint,
        review_months=tag.review_months,
        rule=tag.rule,
        rule_value=tag.rule_value,
        is_active=tag.is_active,
    )


@router.get("/tags", response=list[TagOut], url_name="registry_tag_list", summary="The tag dictionary")
def tag_list(request: HttpRequest) -> list[TagOut]:
    if not selectors_tags.may_read_dictionary(request.user):
        raise PermissionDenied
    return [_tag_out(t) for t in selectors_tags.tag_definitions()]


@router.post("/tags", response={201: TagOut}, url_name="registry_tag_create", summary="Define a tag")
def tag_create(request: HttpRequest, payload: TagIn) -> tuple[int, TagOut]:
    tag = tag_definition_create(actor=request.user, **payload.model_dump())
    return 201, _tag_out(tag)


@router.get("/tags/{tag_id}", response=TagOut, url_name="registry_tag_detail")
def tag_detail(request: HttpRequest, tag_id: int) -> TagOut:
    return _tag_out(selectors_tags.access_tag_definition_by_id(tag_id=tag_id, user=request.user))


@router.patch("/tags/{tag_id}", response=TagOut, url_name="registry_tag_update")
def tag_update(request: HttpRequest, tag_id: int, payload: TagPatch) -> TagOut:
    tag = selectors_tags.access_tag_definition_by_id(tag_id=tag_id, user=request.user)
    changes = payload.model_dump(exclude_unset=True)
    return _tag_out(tag_definition_update(tag=tag, actor=request.user, **changes))


@router.post("/tags/{tag_id}/deactivate", response=TagOut, url_name="registry_tag_deactivate")
def tag_deactivate(request: HttpRequest, tag_id: int) -> TagOut:
    tag = selectors_tags.access_tag_definition_by_id(tag_id=tag_id, user=request.user)
    return _tag_out(tag_definition_deactivate(tag=tag, actor=request.user))


@router.post("/tags/{tag_id}/activate", response=TagOut, url_name="registry_tag_activate")
def tag_activate(request: HttpRequest, tag_id: int) -> TagOut:
    tag = selectors_tags.access_tag_definition_by_id(tag_id=tag_id, user=request.user)
    return _tag_out(tag_definition_activate(tag=tag, actor=request.user))


# --- Tags on persons ----------------------------------------------------------------------------------


class AssignmentOut(Schema):
    id: int
    person_id: int
    tag: str
    tag_name: str
    is_sensitive: bool
    is_computed: bool
    assigned_at: datetime
    evidence: str
    review_due: date | None
    ended_at: datetime | None
    end_reason: str


class AssignmentRow(AssignmentOut):
    person_name: str


class AssignmentPage(Schema):
    count: int
    page: int
    page_size: int
    items: list[AssignmentRow]


class AssignIn(Schema):
    tag: str = Field(..., description="tag code")
    evidence: str = Field("", max_length=2000)


class EndIn(Schema):
    reason: str = Field(..., max_length=255)


class ReviewIn(Schema):
    evidence: str = Field("", max_length=2000)


class PersonTagsQuery(Schema):
    include_ended: bool = False


def _assignment_fields(a: TagAssignment) -> dict[str, Any]:
    return {
        "id": a.pk,
        "person_id": a.person_id,
        "tag": a.tag.code,
        "tag_name": a.tag.name,
        "is_sensitive": a.tag.is_sensitive,
        "is_computed": a.tag.is_computed,
        "assigned_at": a.assigned_at,
        "evidence": a.evidence,
        "review_due": a.review_due,
        "ended_at": a.ended_at,
        "end_reason": a.end_reason,
    }


def _assignment_out(a: TagAssignment) -> AssignmentOut:
    return AssignmentOut(**_assignment_fields(a))


@router.get(
    "/persons/{person_id}/tags",
    response=list[AssignmentOut],
    url_name="registry_person_tags",
    summary="A person's tags you may see",
)
def person_tags(request: HttpRequest, person_id: int, query: Query[PersonTagsQuery]) -> list[AssignmentOut]:
    person = selectors_tags.access_registry_person_by_id(person_id=person_id, user=request.user)
    rows = selectors_tags.person_tags(person=person, user=request.user, include_ended=query.include_ended)
    return [_assignment_out(a) for a in rows]


@router.post(
    "/persons/{person_id}/tags", response={201: AssignmentOut}, url_name="registry_person_tag_assign"
)
def person_tag_assign(request: HttpRequest, person_id: int, payload: AssignIn) -> tuple[int, AssignmentOut]:
    person = selectors_tags.access_registry_person_by_id(person_id=person_id, user=request.user)
    tag = TagDefinition.objects.filter(code=payload.tag).first()
    if tag is None:
        raise ApiError(_("没有这个标签。"), code="invalid", field="tag", status=422)
    assignment = tag_assign(person=person, tag=tag, evidence=payload.evidence, actor=request.user)
    return 201, _assignment_out(assignment)


@router.post("/tag-assignments/{assignment_id}/end", response=AssignmentOut, url_name="registry_tag_end")
def assignment_end(request: HttpRequest, assignment_id: int, payload: EndIn) -> AssignmentOut:
    assignment = selectors_tags.access_tag_assignment_by_id(assignment_id=assignment_id, user=request.user)
    return _assignment_out(tag_end(assignment=assignment, reason=payload.reason, actor=request.user))


@router.post(
    "/tag-assignments/{assignment_id}/review", response=AssignmentOut, url_name="registry_tag_review"
)
def assignment_review(request: HttpRequest, assignment_id: int, payload: ReviewIn) -> AssignmentOut:
    assignment = selectors_tags.access_tag_assignment_by_id(assignment_id=assignment_id, user=request.user)
    return _assignment_out(
        tag_review_confirm(assignment=assignment, actor=request.user, evidence=payload.evidence)
    )


@router.get(
    "/tag-assignments/reviews-due",
    response=AssignmentPage,
    url_name="registry_tag_reviews_due",
    summary="Tags whose review date has come, in your scope",
)
def reviews_due(request: HttpRequest, query: Query[PageQuery]) -> AssignmentPage:
    queryset = selectors_tags.tag_reviews_due(user=request.user, as_of=timezone.localdate())
    count, rows = _slice(queryset, query)
    items = [AssignmentRow(**_assignment_fields(a), person_name=masked_value(a.person, "name")) for a in rows]
    return AssignmentPage(count=count, page=query.page, page_size=query.page_size, items=items)


# --- Visits -------------------------------------------------------------------------------------------


class VisitOut(Schema):
    id: int
    household_id: int
    visited_on: date
    visited_by: str
    findings: str
    needs: str
    follow_up: str
    follow_up_due: date | None
    follow_up_done_at: datetime | None
    overdue: bool


class VisitPage(Schema):
    count: int
    page: int
    page_size: int
    items: list[VisitOut]


class VisitIn(Schema):
    visited_on: date
    findings: str = Field(..., max_length=4000)
    needs: str = Field("", max_length=4000)
    follow_up: str = Field("", max_length=4000)
    follow_up_due: date | None = None


class FollowUpDoneIn(Schema):
    note: str = Field("", max_length=500)


def _visit_out(v: Visit, today: date) -> VisitOut:
    return VisitOut(
        id=v.pk,
        household_id=v.household_id,
        visited_on=v.visited_on,
        visited_by=str(v.visited_by),
        findings=v.findings,
        needs=v.needs,
        follow_up=v.follow_up,
        follow_up_due=v.follow_up_due,
        follow_up_done_at=v.follow_up_done_at,
        overdue=bool(v.follow_up_due and v.follow_up_done_at is None and v.follow_up_due < today),
    )


@router.get(
    "/households/{household_id}/visits",
    response=VisitPage,
    url_name="registry_household_visits",
    summary="A household's visit history, latest first",
)
def household_visits(request: HttpRequest, household_id: int, query: Query[PageQuery]) -> VisitPage:
    household = selectors_tags.access_registry_household_by_id(household_id=household_id, user=request.user)
    count, rows = _slice(selectors_tags.household_visits(household=household, user=request.user), query)
    today = timezone.localdate()
    return VisitPage(
        count=count, page=query.page, page_size=query.page_size, items=[_visit_out(v, today) for v in rows]
    )


@router.post(
    "/households/{household_id}/visits", response={201: VisitOut}, url_name="registry_household_visit_record"
)
def household_visit_record(request: HttpRequest, household_id: int, payload: VisitIn) -> tuple[int, VisitOut]:
    household = selectors_tags.access_registry_household_by_id(household_id=household_id, user=request.user)
    visit = visit_record(household=household, actor=request.user, **payload.model_dump())
    return 201, _visit_out(visit, timezone.localdate())


@router.get(
    "/visits/due", response=VisitPage, url_name="registry_visits_due", summary="Open follow-ups by due date"
)
def visits_due(request: HttpRequest, query: Query[PageQuery]) -> VisitPage:
    count, rows = _slice(selectors_tags.visits_follow_ups_due(user=request.user), query)
    today = timezone.localdate()
    return VisitPage(
        count=count, page=query.page, page_size=query.page_size, items=[_visit_out(v, today) for v in rows]
    )


@router.post("/visits/{visit_id}/follow-up-done", response=VisitOut, url_name="registry_visit_follow_up_done")
def visit_done(request: HttpRequest, visit_id: int, payload: FollowUpDoneIn) -> VisitOut:
    visit = selectors_tags.access_visit_by_id(visit_id=visit_id, user=request.user)
    visit = visit_follow_up_done(visit=visit, actor=request.user, note=payload.note)
    return _visit_out(visit, timezone.localdate())


# --- Saved filters --------------------------------------------------------------------------------------


class SavedFilterOut(Schema):
    id: int
    name: str
    description: str
    division: str
    division_name: str
    criteria: dict[str, Any]
    is_shared: bool
    is_owner: bool
    created_at: datetime
    updated_at: datetime


class SavedFilterIn(Schema):
    name: str = Field(..., min_length=1, max_length=100)
    description: str = ""
    division: str = Field(..., pattern=r"^[0-9]{12}$", description="12-digit code of a node in your scope")
    criteria: dict[str, Any] = Field(default_factory=dict, description="population filter criteria")
    is_shared: bool = False


class SavedFilterPatch(Schema):
    name: str | None = Field(None, min_length=1, max_length=100)
    description: str | None = None
    division: str | None = Field(None, pattern=r"^[0-9]{12}$")
    criteria: dict[str, Any] | None = None
    is_shared: bool | None = None


class FilterPersonRow(Schema):
    id: int
    name: str
    id_number: str
    mobile: str
    sex: str
    age: int | None
    status: str
    committee: str
    house: str | None


class FilterPersonPage(Schema):
    count: int
    page: int
    page_size: int
    items: list[FilterPersonRow]


class CommitteeCount(Schema):
    committee: str
    name: str
    count: int


def _filter_out(f: SavedFilter, user: Any) -> SavedFilterOut:
    return SavedFilterOut(
        id=f.pk,
        name=f.name,
        description=f.description,
        division=f.division.code,
        division_name=f.division.name,
        criteria=dict(f.criteria),
        is_shared=f.is_shared,
        is_owner=f.owner_id == getattr(user, "pk", None),
        created_at=f.created_at,
        updated_at=f.updated_at,
    )


def _committee_code(path: str) -> str:
    parts = [p for p in path.split("/") if p]
    return parts[3] if len(parts) > 3 else ""


def _person_row(p: Person, today: date) -> FilterPersonRow:
    return FilterPersonRow(
        id=p.pk,
        name=masked_value(p, "name"),
        id_number=masked_value(p, "id_number"),
        mobile=masked_value(p, "mobile"),
        sex=p.sex,
        age=age_on(p.birth_date, today) if p.birth_date else None,
        status=p.status,
        committee=_committee_code(p.path),
        house=str(p.house) if p.house is not None else None,
    )


@router.get("/filters", response=list[SavedFilterOut], url_name="registry_filter_list")
def filter_list(request: HttpRequest) -> list[SavedFilterOut]:
    return [_filter_out(f, request.user) for f in selectors_filters.saved_filters_visible(user=request.user)]


@router.post("/filters", response={201: SavedFilterOut}, url_name="registry_filter_create")
def filter_create(request: HttpRequest, payload: SavedFilterIn) -> tuple[int, SavedFilterOut]:
    division = place_selectors.access_division_by_code(user=request.user, code=payload.division)
    saved_filter = saved_filter_create(
        name=payload.name,
        description=payload.description,
        division=division,
        criteria=payload.criteria,
        is_shared=payload.is_shared,
        actor=request.user,
    )
    return 201, _filter_out(saved_filter, request.user)


@router.get("/filters/{filter_id}", response=SavedFilterOut, url_name="registry_filter_detail")
def filter_detail(request: HttpRequest, filter_id: int) -> SavedFilterOut:
    saved_filter = selectors_filters.access_saved_filter_by_id(filter_id=filter_id, user=request.user)
    return _filter_out(saved_filter, request.user)


@router.patch("/filters/{filter_id}", response=SavedFilterOut, url_name="registry_filter_update")
def filter_update(request: HttpRequest, filter_id: int, payload: SavedFilterPatch) -> SavedFilterOut:
    saved_filter = selectors_filters.access_saved_filter_by_id(filter_id=filter_id, user=request.user)
    changes = payload.model_dump(exclude_unset=True)
    if changes.get("division") is not None:
        changes["division"] = place_selectors.access_division_by_code(
            user=request.user, code=changes["division"]
        )
    saved_filter = saved_filter_update(saved_filter=saved_filter, actor=request.user, **changes)
    return _filter_out(saved_filter, request.user)


@router.delete("/filters/{filter_id}", response={204: None}, url_name="registry_filter_delete")
def filter_delete(request: HttpRequest, filter_id: int) -> tuple[int, None]:
    saved_filter = selectors_filters.access_saved_filter_by_id(filter_id=filter_id, user=request.user)
    saved_filter_delete(saved_filter=saved_filter, actor=request.user)
    return 204, None


@router.get(
    "/filters/{filter_id}/people",
    response=FilterPersonPage,
    url_name="registry_filter_people",
    summary="The live target list (masked)",
)
def filter_people(request: HttpRequest, filter_id: int, query: Query[PageQuery]) -> FilterPersonPage:
    saved_filter = selectors_filters.access_saved_filter_by_id(filter_id=filter_id, user=request.user)
    today = timezone.localdate()
    people = selectors_filters.saved_filter_people(saved_filter=saved_filter, user=request.user, as_of=today)
    count, rows = _slice(people, query)
    return FilterPersonPage(
        count=count, page=query.page, page_size=query.page_size, items=[_person_row(p, today) for p in rows]
    )


@router.get(
    "/filters/{filter_id}/counts",
    response=list[CommitteeCount],
    url_name="registry_filter_counts",
    summary="The live target list's size per committee",
)
def filter_counts(request: HttpRequest, filter_id: int) -> list[CommitteeCount]:
    saved_filter = selectors_filters.access_saved_filter_by_id(filter_id=filter_id, user=request.user)
    rows = selectors_filters.saved_filter_counts(
        saved_filter=saved_filter, user=request.user, as_of=timezone.localdate()
    )
    return [CommitteeCount(committee=code, name=name, count=n) for code, name, n in rows]
