"""The public reads of Open311: services, requests, tokens and the change feed.

Lists are one query each whatever their length: the related rows come by ``select_related`` and the
last change-feed note and first photo by subqueries.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import OuterRef, Q, QuerySet, Subquery

from shequ.cases.models import (
    FINAL_STATES,
    OPEN_STATES,
    AttachmentStage,
    Case,
    CaseAttachment,
    CaseUpdate,
    Category,
    ReportToken,
)
from shequ.cases.selectors import LIST_RELATED

if TYPE_CHECKING:
    from .params import RequestFilters, UpdateFilters


def services_public() -> QuerySet[Category]:
    """Every active public category that is not an emergency (those are phoned in, not reported)."""
    return Category.objects.filter(is_active=True, is_public=True, emergency_service="").order_by(
        "kind", "major_code", "minor_code"
    )


def service_by_code(code: str) -> Category | None:
    return services_public().filter(code=code).first()


def service_for_post(code: str) -> Category | None:
    """The category a POST names, emergency ones included (they are answered with the number)."""
    return Category.objects.filter(code=code, is_active=True, is_public=True).first()


def _first_media(field: str) -> Subquery:
    return Subquery(
        CaseAttachment.objects.filter(case=OuterRef("pk"), stage=AttachmentStage.REPORT)
        .exclude(url="", file="")
        .order_by("created_at", "pk")
        .values(field)[:1]
    )


def _requests_base() -> QuerySet[Case]:
    last_note = CaseUpdate.objects.filter(case=OuterRef("pk")).order_by("-updated_at", "-pk")
    return (
        Case.objects.select_related(*LIST_RELATED, "master")
        .annotate(
            last_note=Subquery(last_note.values("description")[:1]),
            first_media_url=_first_media("url"),
            first_media_file=_first_media("file"),
        )
        .order_by("-reported_at", "-pk")
    )


def requests_find(filters: RequestFilters) -> list[Case]:
    """``GET requests``: one page of cases matching the filters, newest first."""
    cases = _requests_base()
    if filters.ids:
        cases = cases.filter(number__in=filters.ids)
    else:
        if filters.service_codes:
            cases = cases.filter(category__code__in=filters.service_codes)
        if filters.statuses:
            states: set[str] = set()
            if "open" in filters.statuses:
                states |= OPEN_STATES
            if "closed" in filters.statuses:
                states |= FINAL_STATES
            cases = cases.filter(state__in=sorted(states))
        if filters.start is not None:
            cases = cases.filter(reported_at__gte=filters.start)
        if filters.end is not None:
            cases = cases.filter(reported_at__lte=filters.end)
        if filters.updated_after is not None:
            cases = cases.filter(updated_at__gt=filters.updated_after)
        if filters.updated_before is not None:
            cases = cases.filter(updated_at__lt=filters.updated_before)
    return list(cases[filters.offset : filters.offset + filters.limit])


def request_by_number(number: str) -> Case | None:
    """``GET requests/{id}``."""
    return _requests_base().filter(number=number).first()


def token_find(token: str) -> ReportToken | None:
    return ReportToken.objects.select_related("case").filter(token=token).first()


def updates_find(filters: UpdateFilters) -> list[CaseUpdate]:
    """``GET servicerequestupdates``: change-feed rows in the window, by ``update_id``."""
    rows = (
        CaseUpdate.objects.select_related("case")
        .only("pk", "state", "status", "description", "media_url", "updated_at", "case__number")
        .filter(Q(updated_at__gte=filters.start) & Q(updated_at__lte=filters.end))
        .order_by("pk")
    )
    return list(rows[filters.offset : filters.offset + filters.limit])
