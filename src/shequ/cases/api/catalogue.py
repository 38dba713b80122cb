"""The dispatch catalogue (派单目录) over the API: ``GET /cases/categories`` (search with ``q``,
``kind``, ``major``; paged) and ``GET /cases/categories/{code}``.

Internal categories are listed for staff only; emergency categories are listed with
``is_emergency`` and their number so that clients can stop on them, as the form does.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.core.paginator import Paginator
from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from shequ.cases import selectors_catalogue
from shequ.cases.models import Category

router = Router(tags=["cases"])

MAX_PAGE_SIZE = 200


class CategoryOut(Schema):
    code: str
    kind: str
    major_code: str
    major_name: str
    minor_code: str
    name: str
    keywords: str
    registration_condition: str
    closing_condition: str
    deadline_amount: Decimal
    deadline_unit: str
    urgency: str
    responsible_kind: str
    responsible_sector: str
    check_required: bool
    duplicate_radius_m: int
    is_emergency: bool
    emergency_service: str
    is_public: bool
    is_active: bool


class CategoryPage(Schema):
    count: int
    page: int
    page_size: int
    items: list[CategoryOut]


class CategoryQuery(Schema):
    q: str = Field("", max_length=50)
    kind: str = Field("", pattern=r"^(|part|event)$")
    major: str = Field("", pattern=r"^(|\d{2})$")
    page: int = Field(1, ge=1)
    page_size: int = Field(100, ge=1, le=MAX_PAGE_SIZE)


def category_out(category: Category) -> dict[str, Any]:
    return {
        "code": category.code,
        "kind": category.kind,
        "major_code": category.major_code,
        "major_name": category.major_name,
        "minor_code": category.minor_code,
        "name": category.name,
        "keywords": category.keywords,
        "registration_condition": category.registration_condition,
        "closing_condition": category.closing_condition,
        "deadline_amount": category.deadline_amount,
        "deadline_unit": category.deadline_unit,
        "urgency": category.urgency,
        "responsible_kind": category.responsible_kind,
        "responsible_sector": category.responsible_sector,
        "check_required": category.check_required,
        "duplicate_radius_m": category.duplicate_radius_m,
        "is_emergency": category.is_emergency,
        "emergency_service": category.emergency_service,
        "is_public": category.is_public,
        "is_active": category.is_active,
    }


@router.get(
    "/categories", response=CategoryPage, url_name="cases_category_list", summary="Search the catalogue"
)
def category_list(request: HttpRequest, filters: Query[CategoryQuery]) -> dict[str, Any]:
    queryset = selectors_catalogue.category_search(
        q=filters.q,
        kind=filters.kind,
        major=filters.major,
        include_internal=selectors_catalogue.may_use_internal_categories(request.user),
    )
    page = Paginator(queryset, filters.page_size).get_page(filters.page)
    return {
        "count": page.paginator.count,
        "page": page.number,
        "page_size": filters.page_size,
        "items": [category_out(c) for c in page.object_list],
    }


@router.get(
    "/categories/{code}", response=CategoryOut, url_name="cases_category_detail", summary="One category"
)
def category_detail(request: HttpRequest, code: str) -> dict[str, Any]:
    return category_out(selectors_catalogue.access_category_by_code(code=code, user=request.user))
