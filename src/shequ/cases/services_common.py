"""What every case service shares: the event row with its snapshot, the change-feed row, the
optimistic version check, the stage timers and the notifications to followers."""

from __future__ import annotations

import secrets
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from shequ.core.errors import ApiError
from shequ.core.events import event_record
from shequ.core.models import Deadline, DeadlineState
from shequ.core.rows import rows_insert
from shequ.core.services_clock import deadline_cancel, deadline_meet, deadline_start

from . import conf
from .machine import TRANSITIONS
from .models import FINAL_STATES, Case, CaseSubscription, CaseUpdate
from .permissions import can_transition

DEADLINE_KIND = {
    "registration": "case_registration",
    "dispatch": "case_dispatch",
    "sign_for": "case_sign_for",
    "handling": "case_handling",
    "check": "case_check",
    "confirmation": "case_confirmation",
    "review": "case_review",
}


def handler_key(case: Case) -> str | None:
    if case.handler_org_id is not None:
        return f"org:{case.handler_org_id}"
    division = case.handler_division if case.handler_division_id is not None else None
    return division.code if division is not None else None


def iso(value: datetime | None) -> str | None:
    """An instant as event data carries it: ISO 8601 in local time (Asia/Shanghai), whatever zone the
    value came in (values read back from the database are in UTC)."""
    return timezone.localtime(value).isoformat() if value is not None else None


def snapshot(case: Case) -> dict[str, Any]:
    """Where the case stands after an event: what the metrics job folds into its daily tables."""
    return {
        "category": case.category.code,
        "district": case.district.code,
        "street": case.street.code,
        "committee": case.committee.code if case.committee is not None else None,
        "handler": handler_key(case),
        "due_at": iso(case.due_at),
    }


def record(
    case: Case,
    type_: str,
    *,
    actor: Any,
    old_state: str | None = None,
    data: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> None:
    payload: dict[str, Any] = {"state": {"old": old_state, "new": case.state}, "snap": snapshot(case)}
    payload.update(data or {})
    event_record(subject=case, type=type_, actor=actor, data=payload, scope_path=case.path, occurred_at=at)


def feed(case: Case, *, description: str = "", media_url: str = "", at: datetime | None = None) -> None:
    """One row of the public change feed (Open311 ``servicerequestupdates``)."""
    update = CaseUpdate(
        case=case,
        state=case.state,
        status="closed" if case.state in FINAL_STATES else "open",
        description=description[:1000],
        media_url=media_url,
        updated_at=at or timezone.now(),
    )
    rows_insert([update])


def conflict() -> ApiError:
    return ApiError(_("案件已被他人处理，请刷新后重试。"), code="conflict", field="version", status=409)


def lock(case: Case, *, expected_version: int | None) -> Case:
    """Fetch the case again under a row lock (PostgreSQL) and check the version the actor saw."""
    locked = (
        Case.objects.select_for_update(of=("self",))
        .select_related("category", "district", "street", "committee", "handler_division", "grid")
        .get(pk=case.pk)
    )
    if expected_version is not None and locked.version != expected_version:
        raise conflict()
    return locked


def save(case: Case, fields: list[str]) -> None:
    """Write ``fields`` and bump the version, refusing if someone else wrote in between (the version
    check: it is what keeps SQLite, which has no row locks, from letting two transitions both win)."""
    now = timezone.now()
    case.updated_at = now
    values = {name: getattr(case, name) for name in {*fields, "updated_at"}}
    updated = Case.objects.filter(pk=case.pk, version=case.version).update(version=F("version") + 1, **values)
    if updated != 1:
        raise conflict()
    case.version += 1


def guard(case: Case, name: str, actor: Any) -> None:
    """The transition exists from the case's state and the actor may make it."""
    transition = TRANSITIONS[name]
    if case.state not in transition.sources:
        raise ApiError(
            _("案件当前状态为“%(state)s”，不能执行此操作。") % {"state": case.get_state_display()},
            code="invalid_state",
            field="state",
            status=409,
        )
    if not can_transition(actor, case, name):
        raise ApiError(_("您无权对此案件执行此操作。"), code="forbidden", status=403)


def required(value: str, field: str, message: str) -> str:
    value = (value or "").strip()
    if not value:
        raise ApiError(message, code="required", field=field, status=422)
    return value


# --- timers --------------------------------------------------------------------------------------


def open_deadline(case: Case, stage: str) -> Deadline | None:
    return (
        Deadline.objects.filter(
            subject_type="cases.case",
            subject_id=str(case.pk),
            kind=DEADLINE_KIND[stage],
            state__in=[DeadlineState.RUNNING, DeadlineState.PAUSED],
        )
        .order_by("-pk")
        .first()
    )


def start_stage(
    case: Case,
    stage: str,
    *,
    actor: Any,
    at: datetime,
    amount: Decimal | None = None,
    unit: str | None = None,
) -> Deadline:
    if amount is None or unit is None:
        amount, unit = conf.stage_deadline(stage)
    return deadline_start(
        subject=case,
        kind=DEADLINE_KIND[stage],
        amount=amount,
        unit=unit,
        actor=actor,
        started_at=at,
        scope_path=case.path,
    )


def start_handling(case: Case, *, actor: Any, at: datetime) -> Deadline:
    deadline = start_stage(
        case,
        "handling",
        actor=actor,
        at=at,
        amount=case.category.deadline_amount,
        unit=case.category.deadline_unit,
    )
    case.due_at = deadline.due_at
    return deadline


def meet_stage(case: Case, stage: str, *, actor: Any, at: datetime) -> bool | None:
    """Stop a stage timer; True when it was met on time, False when late, None when none ran."""
    deadline = open_deadline(case, stage)
    if deadline is None:
        return None
    finished = deadline_meet(deadline=deadline, actor=actor, at=at)
    return finished.state == DeadlineState.MET


def cancel_stage(case: Case, stage: str, *, actor: Any, at: datetime, reason: str = "") -> None:
    deadline = open_deadline(case, stage)
    if deadline is not None:
        deadline_cancel(deadline=deadline, actor=actor, at=at, reason=reason)


def cancel_all(case: Case, *, actor: Any, at: datetime, reason: str) -> None:
    """Stop every running or paused timer of the case (one query for them all)."""
    running = Deadline.objects.filter(
        subject_type="cases.case",
        subject_id=str(case.pk),
        kind__in=DEADLINE_KIND.values(),
        state__in=[DeadlineState.RUNNING, DeadlineState.PAUSED],
    ).order_by("pk")
    for deadline in running:
        deadline_cancel(deadline=deadline, actor=actor, at=at, reason=reason)


# --- followers -----------------------------------------------------------------------------------


def new_token() -> str:
    return secrets.token_urlsafe(24)


def subscribe(
    case: Case,
    *,
    user: Any = None,
    phone: str = "",
    email: str = "",
    is_reporter: bool = False,
    via_case: Case | None = None,
) -> CaseSubscription | None:
    if user is not None and getattr(user, "pk", None):
        sub, _created = CaseSubscription.objects.get_or_create(
            case=case,
            user=user,
            defaults={"is_reporter": is_reporter, "via_case": via_case, "token": new_token(), "phone": phone},
        )
        return sub
    if not (phone or email):
        return None
    existing = CaseSubscription.objects.filter(case=case, user__isnull=True, phone=phone, email=email).first()
    if existing is not None:
        return existing
    return CaseSubscription.objects.create(
        case=case, phone=phone, email=email, is_reporter=is_reporter, via_case=via_case, token=new_token()
    )


def tell_followers(case: Case, *, kind: str, title: str, body: str = "", ask_feedback: bool = False) -> None:
    """Notify everyone following ``case`` (in the caller's transaction; delivered after commit)."""
    from .notifications import case_followers_notify

    case_followers_notify(case=case, kind=kind, title=title, body=body, ask_feedback=ask_feedback)
