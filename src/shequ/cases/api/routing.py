"""The routing rules (派单规则) over the API.

- ``GET /cases/routing-rules`` (``?district=`` code, ``include_inactive``; paged): the rules the
  caller may read — city-wide ones and those of the districts they manage;
- ``POST /cases/routing-rules``, ``GET``/``PATCH /cases/routing-rules/{id}``,
  ``POST /cases/routing-rules/{id}/deactivate``: the services, with their checks (a rule of another
  district is a 404; creating one there a 403; a committee target for department work a 422);
- ``GET /cases/routing/route?category=&street=|committee=|compound=``: where a case would go and why.

Places are given by division code, categories by code, organisations by id.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema

from shequ.accounts.models import Organisation
from shequ.cases import permissions, selectors_catalogue
from shequ.cases.models import Category, RoutingRule
from shequ.cases.routing import place_of, route_case
from shequ.cases.services_routing import routing_rule_create, routing_rule_deactivate, routing_rule_update
from shequ.core.errors import ApiError
from shequ.places.models import Compound, Division, DivisionLevel

router = Router(tags=["cases"])

MAX_PAGE_SIZE = 200


class RuleOut(Schema):
    id: int
    division: str | None
    division_name: str
    category: str | None
    kind: str
    major_code: str
    responsible_kind: str
    responsible_sector: str
    organisation: int | None
    organisation_name: str
    priority: int
    is_active: bool
    note: str


class RulePage(Schema):
    count: int
    page: int
    page_size: int
    items: list[RuleOut]


class RuleQuery(Schema):
    district: str = Field("", pattern=r"^(|\d{12})$")
    include_inactive: bool = False
    page: int = Field(1, ge=1)
    page_size: int = Field(100, ge=1, le=MAX_PAGE_SIZE)


class RuleIn(Schema):
    division: str | None = Field(
        None, pattern=r"^\d{12}$", description="district or street code; null: city-wide"
    )
    category: str | None = Field(None, max_length=8)
    kind: str = Field("", pattern=r"^(|part|event)$")
    major_code: str = Field("", pattern=r"^(|\d{2})$")
    responsible_kind: str
    responsible_sector: str = Field("", max_length=64)
    organisation: int | None = None
    priority: int = Field(100, ge=0, le=32767)
    note: str = Field("", max_length=300)


class RulePatch(Schema):
    division: str | None = Field(None, pattern=r"^\d{12}$")
    category: str | None = Field(None, max_length=8)
    kind: str | None = Field(None, pattern=r"^(|part|event)$")
    major_code: str | None = Field(None, pattern=r"^(|\d{2})$")
    responsible_kind: str | None = None
    responsible_sector: str | None = Field(None, max_length=64)
    organisation: int | None = None
    priority: int | None = Field(None, ge=0, le=32767)
    note: str | None = Field(None, max_length=300)


class RouteQuery(Schema):
    category: str = Field(..., max_length=8)
    street: str = Field("", pattern=r"^(|\d{12})$")
    committee: str = Field("", pattern=r"^(|\d{12})$")
    compound: str = Field("", max_length=20)


class UnitRef(Schema):
    id: int | None
    code: str
    name: str


class RouteOut(Schema):
    handler: str
    org: UnitRef | None
    division: UnitRef | None
    rule: int | None
    reason: str
    fallback: bool


def rule_out(rule: RoutingRule) -> dict[str, Any]:
    return {
        "id": rule.pk,
        "division": rule.division.code if rule.division is not None else None,
        "division_name": rule.division.name if rule.division is not None else _("全市"),
        "category": rule.category.code if rule.category is not None else None,
        "kind": rule.kind,
        "major_code": rule.major_code,
        "responsible_kind": rule.responsible_kind,
        "responsible_sector": rule.responsible_sector,
        "organisation": rule.organisation_id,
        "organisation_name": rule.organisation.name if rule.organisation is not None else "",
        "priority": rule.priority,
        "is_active": rule.is_active,
        "note": rule.note,
    }


def _division(code: str | None, field: str = "division") -> Division | None:
    if not code:
        return None
    division = Division.objects.filter(code=code).first()
    if division is None:
        raise ApiError(_("没有这个区划代码。"), code="invalid", field=field, status=422)
    return division


def _category(code: str | None) -> Category | None:
    if not code:
        return None
    category = Category.objects.filter(code__iexact=code).first()
    if category is None:
        raise ApiError(_("派单目录中没有这个类别。"), code="invalid", field="category", status=422)
    return category


def _organisation(pk: int | None) -> Organisation | None:
    if pk is None:
        return None
    org = Organisation.objects.select_related("division").filter(pk=pk).first()
    if org is None:
        raise ApiError(_("没有这个单位。"), code="invalid", field="organisation", status=422)
    return org


def _require_manager(request: HttpRequest) -> None:
    if not permissions.can_manage_routing(request.user):
        raise PermissionDenied


def _reload(rule: RoutingRule) -> RoutingRule:
    return RoutingRule.objects.select_related("division", "category", "organisation").get(pk=rule.pk)


@router.get("/routing-rules", response=RulePage, url_name="cases_routing_rule_list", summary="Routing rules")
def rule_list(request: HttpRequest, filters: Query[RuleQuery]) -> dict[str, Any]:
    _require_manager(request)
    if filters.district:
        district = selectors_catalogue.access_routing_district(user=request.user, code=filters.district)
        queryset = selectors_catalogue.routing_rules_for_district(
            district=district, include_inactive=filters.include_inactive
        )
    else:
        queryset = selectors_catalogue.routing_rules_visible(request.user)
        if not filters.include_inactive:
            queryset = queryset.filter(is_active=True)
    page = Paginator(queryset, filters.page_size).get_page(filters.page)
    return {
        "count": page.paginator.count,
        "page": page.number,
        "page_size": filters.page_size,
        "items": [rule_out(r) for r in page.object_list],
    }


@router.post(
    "/routing-rules",
    response={201: RuleOut},
    url_name="cases_routing_rule_create",
    summary="Add a routing rule",
)
def rule_create(request: HttpRequest, payload: RuleIn) -> tuple[int, dict[str, Any]]:
    _require_manager(request)
    rule = routing_rule_create(
        actor=request.user,
        division=_division(payload.division),
        category=_category(payload.category),
        kind=payload.kind,
        major_code=payload.major_code,
        responsible_kind=payload.responsible_kind,
        responsible_sector=payload.responsible_sector,
        organisation=_organisation(payload.organisation),
        priority=payload.priority,
        note=payload.note,
    )
    return 201, rule_out(_reload(rule))


@router.get("/routing-rules/{rule_id}", response=RuleOut, url_name="cases_routing_rule_detail")
def rule_detail(request: HttpRequest, rule_id: int) -> dict[str, Any]:
    return rule_out(selectors_catalogue.access_routing_rule_by_id(user=request.user, rule_id=rule_id))


@router.patch("/routing-rules/{rule_id}", response=RuleOut, url_name="cases_routing_rule_update")
def rule_update(request: HttpRequest, rule_id: int, payload: RulePatch) -> dict[str, Any]:
    rule = selectors_catalogue.access_routing_rule_by_id(user=request.user, rule_id=rule_id)
    given = payload.model_dump(exclude_unset=True)
    changes: dict[str, Any] = {}
    for name, value in given.items():
        if name == "division":
            changes[name] = _division(value)
        elif name == "category":
            changes[name] = _category(value)
        elif name == "organisation":
            changes[name] = _organisation(value)
        elif value is not None:
            changes[name] = value
    return rule_out(_reload(routing_rule_update(actor=request.user, rule=rule, **changes)))


@router.post(
    "/routing-rules/{rule_id}/deactivate", response=RuleOut, url_name="cases_routing_rule_deactivate"
)
def rule_deactivate(request: HttpRequest, rule_id: int) -> dict[str, Any]:
    rule = selectors_catalogue.access_routing_rule_by_id(user=request.user, rule_id=rule_id)
    return rule_out(_reload(routing_rule_deactivate(actor=request.user, rule=rule)))


@router.get("/routing/route", response=RouteOut, url_name="cases_routing_route", summary="Try a route")
def route_try(request: HttpRequest, query: Query[RouteQuery]) -> dict[str, Any]:
    """Where a case of ``category`` at the compound, committee or street would go, and why. The place
    must lie in a district the caller manages (404 otherwise)."""
    _require_manager(request)
    category = _category(query.category)
    assert category is not None  # noqa: S101 - the code is required
    compound = None
    if query.compound:
        compound = Compound.objects.select_related("committee").filter(code=query.compound).first()
        if compound is None:
            raise ApiError(_("没有这个小区代码。"), code="invalid", field="compound", status=422)
    committee = _division(query.committee, "committee")
    street = _division(query.street, "street")
    if committee is not None and committee.level != DivisionLevel.COMMITTEE:
        raise ApiError(_("请填写居村委代码。"), code="invalid", field="committee", status=422)
    if street is not None and street.level != DivisionLevel.STREET:
        raise ApiError(_("请填写街镇代码。"), code="invalid", field="street", status=422)
    place = place_of(street=street, committee=committee, compound=compound)
    if not selectors_catalogue.routing_districts(request.user).filter(pk=place["district"].pk).exists():
        raise Http404
    decision = route_case(category=category, **place)
    org, division = decision.org, decision.division
    return {
        "handler": decision.handler,
        "org": {"id": org.pk, "code": org.code, "name": org.name} if org is not None else None,
        "division": {"id": division.pk, "code": division.code, "name": division.name} if division else None,
        "rule": decision.rule.pk if decision.rule is not None else None,
        "reason": decision.reason,
        "fallback": decision.fallback,
    }
