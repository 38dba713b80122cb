"""Writes of the visit log (走访, the "四百" visits: 进百家门、访百家情、解百家难、暖百家心; DOMAIN.md §4).

A visit records who visited which household on which day, what they found, the needs raised and
the follow-up due; ``visit_follow_up_done`` closes the follow-up. Each writes an event row.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from shequ.core.errors import ApiError
from shequ.core.events import event_record

from . import permissions
from .models import Household, Visit

VISIT_RECORDED = "VISIT_RECORDED"
VISIT_FOLLOW_UP_DONE = "VISIT_FOLLOW_UP_DONE"


@transaction.atomic
def visit_record(
    *,
    household: Household,
    visited_on: date,
    findings: str,
    actor: Any,
    needs: str = "",
    follow_up: str = "",
    follow_up_due: date | None = None,
) -> Visit:
    """Record a visit to ``household`` (fetched through the visibility module by the caller)."""
    if not permissions.can_record_visit(actor, household.path):
        raise PermissionDenied(_("您不能为这一户登记走访。"))
    today = timezone.localdate()
    if visited_on > today:
        raise ApiError(_("走访日期不能晚于今天。"), code="invalid", field="visited_on", status=422)
    findings = (findings or "").strip()
    if not findings:
        raise ApiError(_("请填写走访情况。"), code="invalid", field="findings", status=422)
    follow_up = (follow_up or "").strip()
    if follow_up_due is not None and not follow_up:
        raise ApiError(_("设定跟进期限时请写明后续事项。"), code="invalid", field="follow_up", status=422)
    if follow_up_due is not None and follow_up_due < visited_on:
        raise ApiError(_("跟进期限不能早于走访日期。"), code="invalid", field="follow_up_due", status=422)
    visit = Visit.objects.create(
        household=household,
        visited_by=actor,
        visited_on=visited_on,
        findings=findings,
        needs=(needs or "").strip(),
        follow_up=follow_up,
        follow_up_due=follow_up_due,
        path=household.path,
        street_code=household.street_code,
    )
    event_record(
        subject=visit,
        type=VISIT_RECORDED,
        actor=actor,
        data={
            "household_id": household.pk,
            "visited_on": visited_on.isoformat(),
            "follow_up_due": follow_up_due.isoformat() if follow_up_due else None,
        },
        scope_path=visit.path,
    )
    return visit


@transaction.atomic
def visit_follow_up_done(*, visit: Visit, actor: Any, note: str = "") -> Visit:
    """Mark a visit's follow-up as done (once)."""
    visit = Visit.objects.select_for_update().get(pk=visit.pk)
    if not permissions.can_record_visit(actor, visit.path):
        raise PermissionDenied(_("您不能处理这条走访的跟进事项。"))
    if not visit.follow_up:
        raise ApiError(_("这次走访没有后续事项。"), code="no_follow_up", status=422)
    if visit.follow_up_done_at is not None:
        raise ApiError(_("后续事项已经完成。"), code="already_done", status=409)
    visit.follow_up_done_at = timezone.now()
    visit.save(update_fields=["follow_up_done_at"])
    event_record(
        subject=visit,
        type=VISIT_FOLLOW_UP_DONE,
        actor=actor,
        data={"household_id": visit.household_id, "note": (note or "").strip()[:500]},
        scope_path=visit.path,
    )
    return visit
