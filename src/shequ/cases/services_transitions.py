"""One service per transition of the case state machine (DOMAIN.md §5, ``machine.TRANSITIONS``).

Each service: locks the case (row lock on PostgreSQL) and checks the version the actor saw, checks
the guard (state + seat, ``permissions``), changes state and fields, writes one event row (with the
snapshot the metrics job reads) and a change-feed row, moves the stage timers on the shared clock,
and queues notifications that are delivered after commit. Called the same way from pages, API,
Open311, imports, commands and the tick.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from shequ.accounts.models import Organisation
from shequ.core.clock import deadline_add
from shequ.core.errors import ApiError
from shequ.core.models import SUPERVISION_ORDER, Deadline, Supervision, SupervisionLevel
from shequ.core.services_clock import deadline_extend, deadline_pause, deadline_resume
from shequ.core.texts import site_language, site_text
from shequ.places.models import Division

from . import conf
from .machine import CASE_FEEDBACK_GIVEN, CASE_NO_RESPONSE, CASE_PETITION_LINKED, TRANSITIONS
from .models import (
    FINAL_STATES,
    AttachmentStage,
    Case,
    CaseAttachment,
    CaseState,
    CaseSubscription,
    Feedback,
    Outcome,
    ResponsibleKind,
)
from .notifications import handler_notify
from .permissions import may_act
from .services_common import (
    cancel_all,
    cancel_stage,
    feed,
    guard,
    handler_key,
    iso,
    lock,
    meet_stage,
    open_deadline,
    record,
    required,
    save,
    start_handling,
    start_stage,
    subscribe,
    tell_followers,
)

S = CaseState


def _now() -> datetime:
    return timezone.now()


def _event(name: str) -> str:
    return TRANSITIONS[name].event


def _begin(case: Case, name: str, actor: Any, expected_version: int | None) -> tuple[Case, str]:
    locked = lock(case, expected_version=expected_version)
    guard(locked, name, actor)
    return locked, locked.state


# --- before dispatch -----------------------------------------------------------------------------


def case_verify(*, case: Case, actor: Any, note: str = "", expected_version: int | None = None) -> Case:
    """Send someone to verify a public report on site (核实)."""
    with transaction.atomic():
        case, old = _begin(case, "verify", actor, expected_version)
        case.state = S.VERIFYING
        save(case, ["state"])
        record(case, _event("verify"), actor=actor, old_state=old, data={"note": note.strip()[:500]})
        feed(case, description=site_text(gettext_noop("正在现场核实")))
    return case


def case_register(
    *,
    case: Case,
    actor: Any,
    category: Any = None,
    urgency: str | None = None,
    expected_version: int | None = None,
) -> Case:
    """立案: category, place and urgency are fixed; the dispatch and handling timers start."""
    with transaction.atomic():
        case, old = _begin(case, "register", actor, expected_version)
        at = _now()
        if category is not None and category.pk != case.category_id:
            if category.is_emergency:
                raise ApiError(_("紧急求助类别不能立案。"), code="emergency", field="category", status=422)
            case.category = category
        if urgency:
            case.urgency = urgency
        case.state = S.REGISTERED
        case.registered_at = at
        meet_stage(case, "registration", actor=actor, at=at)
        start_stage(case, "dispatch", actor=actor, at=at)
        start_handling(case, actor=actor, at=at)
        save(case, ["state", "registered_at", "category", "urgency", "due_at"])
        record(case, _event("register"), actor=actor, old_state=old, at=at)
        feed(case, description=site_text(gettext_noop("已立案")), at=at)
        tell_followers(
            case, kind="case_registered", title=site_text(gettext_noop("案件 %(n)s 已立案"), n=case.number)
        )
    return case


def case_reject(
    *,
    case: Case,
    actor: Any,
    reason: str,
    route: str = "",
    outcome: str = Outcome.INVALID,
    expected_version: int | None = None,
) -> Case:
    """Not a case: tell the reporter the legal route (litigation, arbitration, review, 信访, another body)."""
    reason = required(reason, "reason", _("请说明不予受理的理由。"))
    if outcome not in {Outcome.INVALID, Outcome.NOT_RESPONSIBLE}:
        raise ApiError(
            _("不予受理的结果只能是无效诉求或非本单位职责。"), code="invalid", field="outcome", status=422
        )
    with transaction.atomic():
        case, old = _begin(case, "reject", actor, expected_version)
        at = _now()
        case.state = S.REJECTED
        case.outcome = outcome
        case.redirect_route = route.strip()[:300]
        case.closed_at = at
        cancel_all(case, actor=actor, at=at, reason=reason)
        save(case, ["state", "outcome", "redirect_route", "closed_at"])
        record(
            case,
            _event("reject"),
            actor=actor,
            old_state=old,
            at=at,
            data={"reason": reason[:500], "route": case.redirect_route, "outcome": outcome},
        )
        feed(case, description=f"{reason} {case.redirect_route}".strip(), at=at)
        tell_followers(
            case,
            kind="case_rejected",
            title=site_text(gettext_noop("案件 %(n)s 不予受理"), n=case.number),
            body=f"{reason}\n{case.redirect_route}".strip(),
        )
    return case


def case_merge(*, case: Case, master: Case, actor: Any, expected_version: int | None = None) -> Case:
    """并单: ``case`` duplicates ``master``; every follower of ``case`` follows the master and is told."""
    if master.pk == case.pk:
        raise ApiError(_("不能与自身并单。"), code="invalid", field="master", status=422)
    with transaction.atomic():
        # Both rows are locked, the lower id first: two merges of the same pair in opposite
        # directions then wait for each other instead of deadlocking.
        if master.pk < case.pk:
            master = lock(master, expected_version=None)
            case, old = _begin(case, "merge", actor, expected_version)
        else:
            case, old = _begin(case, "merge", actor, expected_version)
            master = lock(master, expected_version=None)
        if not may_act(actor, master, TRANSITIONS["merge"]):
            # The master must lie in the actor's area too: no merging across districts unseen.
            raise ApiError(_("您无权并入该主案件。"), code="forbidden", field="master", status=403)
        if master.state in FINAL_STATES:
            raise ApiError(
                _("主案件已办结或已并单，不能并入。"), code="invalid_state", field="master", status=409
            )
        at = _now()
        case.state = S.MERGED
        case.master = master
        case.outcome = Outcome.DUPLICATE
        case.closed_at = at
        cancel_all(case, actor=actor, at=at, reason=site_text(gettext_noop("并单")))
        save(case, ["state", "master", "outcome", "closed_at"])
        moved = 0
        for sub in case.subscriptions.all():
            subscribe(
                master,
                user=sub.user,
                phone=sub.phone,
                email=sub.email,
                is_reporter=sub.is_reporter,
                via_case=case,
            )
            moved += 1
        if case.petition_ref and not master.petition_ref:
            master.petition_ref = case.petition_ref
            save(master, ["petition_ref"])
            record(
                master,
                CASE_PETITION_LINKED,
                actor=actor,
                old_state=master.state,
                data={"petition": master.petition_ref, "via": case.number},
            )
        record(
            case,
            _event("merge"),
            actor=actor,
            old_state=old,
            at=at,
            data={"master": master.number, "followers": moved},
        )
        feed(case, description=site_text(gettext_noop("已并入案件 %(n)s"), n=master.number), at=at)
        tell_followers(
            case,
            kind="case_merged",
            title=site_text(gettext_noop("您反映的问题已并入案件 %(n)s 一并办理"), n=master.number),
        )
    return case


# --- dispatch ------------------------------------------------------------------------------------


def _set_handler(case: Case, *, org: Organisation | None, division: Division | None) -> str:
    from .routing import can_route_to, route_case

    if org is None and division is None:
        with site_language():  # the reason is kept on the case
            decision = route_case(
                category=case.category,
                district=case.district,
                street=case.street,
                committee=case.committee,
                compound=case.compound,
            )
        org, division = decision.org, decision.division
        note = str(decision.reason)
    else:
        can_route_to(case.category, org=org, division=division)
        note = site_text(gettext_noop("人工指定"))
    if org is not None and not org.is_active:
        raise ApiError(_("该单位已停用。"), code="invalid", field="org", status=422)
    case.handler_org = org
    case.handler_division = division
    case.first_responsible = False
    case.route_note = note[:300]
    return note


def _send_to_unit(
    case: Case,
    *,
    name: str,
    old: str,
    actor: Any,
    at: datetime,
    route: str,
    note: str,
    replaces: str | None = None,
    fields: list[str] | tuple[str, ...] = (),
    data: dict[str, Any] | None = None,
) -> None:
    """The shared end of dispatch, re-dispatch and reroute: the case is with the unit chosen by
    ``_set_handler``, its sign-for timer (re)starts, one event, the change feed, the unit is told.
    ``replaces``: the reason a previous unit's sign-for timer is cancelled (none on a first dispatch)."""
    case.state = S.DISPATCHED
    case.dispatched_at = at
    if replaces is not None:
        cancel_stage(case, "sign_for", actor=actor, at=at, reason=replaces)
    start_stage(case, "sign_for", actor=actor, at=at)
    save(
        case,
        [
            "state",
            "dispatched_at",
            "handler_org",
            "handler_division",
            "first_responsible",
            "route_note",
            *fields,
        ],
    )
    record(
        case,
        _event(name),
        actor=actor,
        old_state=old,
        at=at,
        data={"route": route, "note": note.strip()[:500], **(data or {})},
    )
    feed(
        case,
        description=site_text(gettext_noop("已派遣至责任单位"))
        if replaces is None
        else site_text(gettext_noop("已改派至其他责任单位")),
        at=at,
    )
    handler_notify(
        case=case, kind="case_dispatched", title=site_text(gettext_noop("新派遣案件 %(n)s"), n=case.number)
    )


def case_dispatch(
    *,
    case: Case,
    actor: Any,
    org: Organisation | None = None,
    division: Division | None = None,
    note: str = "",
    expected_version: int | None = None,
) -> Case:
    """派遣 to a unit: the one given (checked against the rules: department work is never pushed down
    to a committee), or the one the routing rules choose (属地兜底: the street)."""
    with transaction.atomic():
        case, old = _begin(case, "dispatch", actor, expected_version)
        at = _now()
        reason = _set_handler(case, org=org, division=division)
        meet_stage(case, "dispatch", actor=actor, at=at)
        _send_to_unit(case, name="dispatch", old=old, actor=actor, at=at, route=reason, note=note)
    return case


def case_self_handle(*, case: Case, actor: Any, expected_version: int | None = None) -> Case:
    """小事快办: the committee handles a small matter itself (only committee categories)."""
    with transaction.atomic():
        case, old = _begin(case, "self_handle", actor, expected_version)
        if case.category.responsible_kind != ResponsibleKind.COMMITTEE or case.committee_id is None:
            raise ApiError(
                _("该类别属于部门职责，不能由居村委自行处置。"),
                code="department_work",
                field="category",
                status=422,
            )
        at = _now()
        case.handler_org = None
        case.handler_division = case.committee
        case.state = S.HANDLING
        case.dispatched_at = at
        case.accepted_at = at
        case.first_response_at = case.first_response_at or at
        meet_stage(case, "dispatch", actor=actor, at=at)
        save(
            case,
            ["state", "handler_org", "handler_division", "dispatched_at", "accepted_at", "first_response_at"],
        )
        record(case, _event("self_handle"), actor=actor, old_state=old, at=at)
        feed(case, description=site_text(gettext_noop("居村委正在处置")), at=at)
    return case


def case_accept(*, case: Case, actor: Any, expected_version: int | None = None) -> Case:
    """签收: the unit takes the case; the sign-for timer says whether in time."""
    with transaction.atomic():
        case, old = _begin(case, "accept", actor, expected_version)
        at = _now()
        deadline = open_deadline(case, "sign_for")
        sign_due = iso(deadline.due_at) if deadline else None
        on_time = meet_stage(case, "sign_for", actor=actor, at=at)
        case.state = S.HANDLING
        case.accepted_at = at
        case.first_response_at = case.first_response_at or at
        save(case, ["state", "accepted_at", "first_response_at"])
        record(
            case,
            _event("accept"),
            actor=actor,
            old_state=old,
            at=at,
            data={"on_time": bool(on_time), "sign_due_at": sign_due},
        )
        feed(case, description=site_text(gettext_noop("责任单位已签收，正在处置")), at=at)
        tell_followers(
            case,
            kind="case_accepted",
            title=site_text(gettext_noop("案件 %(n)s 已由责任单位签收"), n=case.number),
        )
    return case


def case_return_request(*, case: Case, actor: Any, grounds: str, expected_version: int | None = None) -> Case:
    """退单: the unit disputes the dispatch with grounds, within the return window (default 1 工作日)."""
    grounds = required(grounds, "grounds", _("请说明退单理由。"))
    with transaction.atomic():
        case, old = _begin(case, "return_request", actor, expected_version)
        at = _now()
        amount, unit = conf.stage_deadline("return_window")
        window_end = deadline_add(case.dispatched_at or at, amount, unit).due_at
        if at > window_end:
            raise ApiError(
                _("已超过退单时限，须先签收办理。"), code="return_window_passed", field="grounds", status=409
            )
        case.state = S.RETURN_REQUESTED
        save(case, ["state"])
        record(
            case,
            _event("return_request"),
            actor=actor,
            old_state=old,
            at=at,
            data={"grounds": grounds[:1000]},
        )
    return case


def case_redispatch(
    *,
    case: Case,
    actor: Any,
    org: Organisation | None = None,
    division: Division | None = None,
    note: str = "",
    expected_version: int | None = None,
) -> Case:
    """The centre accepts a return and sends the case to another unit (counts as 回退)."""
    with transaction.atomic():
        case, old = _begin(case, "redispatch", actor, expected_version)
        at = _now()
        previous = case.handler_org_id, case.handler_division_id
        reason = _set_handler(case, org=org, division=division)
        if (case.handler_org_id, case.handler_division_id) == previous:
            raise ApiError(_("请选择另一个责任单位。"), code="same_unit", field="org", status=422)
        case.return_count += 1
        _send_to_unit(
            case,
            name="redispatch",
            old=old,
            actor=actor,
            at=at,
            route=reason,
            note=note,
            replaces=site_text(gettext_noop("退单改派")),
            fields=["return_count"],
            data={"returned": True},
        )
    return case


def case_return_refuse(
    *, case: Case, actor: Any, reason: str = "", expected_version: int | None = None
) -> Case:
    """The centre refuses a return: the unit must handle it and becomes first responsible (首办)."""
    with transaction.atomic():
        case, old = _begin(case, "return_refuse", actor, expected_version)
        at = _now()
        on_time = meet_stage(case, "sign_for", actor=actor, at=at)
        case.state = S.HANDLING
        case.first_responsible = True
        case.accepted_at = at
        case.first_response_at = case.first_response_at or at
        save(case, ["state", "first_responsible", "accepted_at", "first_response_at"])
        record(
            case,
            _event("return_refuse"),
            actor=actor,
            old_state=old,
            at=at,
            data={"reason": reason.strip()[:500], "on_time": bool(on_time)},
        )
        handler_notify(
            case=case,
            kind="case_return_refused",
            title=site_text(gettext_noop("案件 %(n)s 退单未通过，请首办负责"), n=case.number),
            body=reason,
        )
    return case


def case_reroute(
    *,
    case: Case,
    actor: Any,
    org: Organisation | None = None,
    division: Division | None = None,
    note: str = "",
    expected_version: int | None = None,
) -> Case:
    """The dispatcher overrides the unit of a case already in someone's hands."""
    with transaction.atomic():
        case, old = _begin(case, "reroute", actor, expected_version)
        at = _now()
        reason = _set_handler(case, org=org, division=division)
        if old == S.SUSPENDED:
            deadline = open_deadline(case, "handling")
            if deadline is not None and deadline.state == "paused":
                case.due_at = deadline_resume(deadline=deadline, actor=actor, at=at).due_at
            case.suspend_review_on = None
        _send_to_unit(
            case,
            name="reroute",
            old=old,
            actor=actor,
            at=at,
            route=reason,
            note=note,
            replaces=site_text(gettext_noop("改派")),
            fields=["due_at", "suspend_review_on"],
        )
    return case


# --- handling ------------------------------------------------------------------------------------


def case_extension_request(
    *, case: Case, actor: Any, amount: Decimal | int | str, reason: str, expected_version: int | None = None
) -> Case:
    """延期: more time in the handling timer's unit, limited in number; the reason is shown to the
    resident."""
    reason = required(reason, "reason", _("请说明延期理由。"))
    try:
        value = Decimal(str(amount))
    except (InvalidOperation, ValueError):
        raise ApiError(_("延期时长应为数字。"), code="invalid", field="amount", status=422) from None
    if value <= 0:
        raise ApiError(_("延期时长必须大于零。"), code="invalid", field="amount", status=422)
    with transaction.atomic():
        case, old = _begin(case, "extension_request", actor, expected_version)
        if case.extension_count >= conf.max_extensions():
            raise ApiError(
                _("延期次数已达上限（%(n)s 次）。") % {"n": conf.max_extensions()},
                code="extension_limit",
                field="amount",
                status=409,
            )
        case.state = S.EXTENSION_REQUESTED
        save(case, ["state"])
        record(
            case,
            _event("extension_request"),
            actor=actor,
            old_state=old,
            data={"amount": str(value), "unit": case.category.deadline_unit, "reason": reason[:500]},
        )
    return case


def _pending_extension(case: Case) -> dict[str, Any]:
    from shequ.core.models import Event

    row = (
        Event.objects.filter(
            subject_type="cases.case", subject_id=str(case.pk), type=_event("extension_request")
        )
        .order_by("-pk")
        .values_list("data", flat=True)
        .first()
    )
    return row or {}


def case_extension_grant(*, case: Case, actor: Any, expected_version: int | None = None) -> Case:
    with transaction.atomic():
        case, old = _begin(case, "extension_grant", actor, expected_version)
        at = _now()
        request = _pending_extension(case)
        deadline = open_deadline(case, "handling")
        old_due = case.due_at
        if deadline is not None:
            # The same timer, longer: its start and any suspension (paused time) are kept.
            extended = deadline_extend(
                deadline=deadline,
                amount=Decimal(request.get("amount", "0")),
                actor=actor,
                at=at,
                reason=str(request.get("reason", "")),
            )
            case.due_at = extended.due_at
        case.state = S.HANDLING
        case.extension_count += 1
        save(case, ["state", "extension_count", "due_at"])
        record(
            case,
            _event("extension_grant"),
            actor=actor,
            old_state=old,
            at=at,
            data={
                "due_at": {
                    "old": iso(old_due),
                    "new": iso(case.due_at),
                },
                "reason": request.get("reason", ""),
            },
        )
        feed(case, description=site_text(gettext_noop("延期办理：%(r)s"), r=request.get("reason", "")), at=at)
        tell_followers(
            case,
            kind="case_extended",
            title=site_text(gettext_noop("案件 %(n)s 延期办理"), n=case.number),
            body=str(request.get("reason", "")),
        )
    return case


def case_extension_refuse(
    *, case: Case, actor: Any, reason: str = "", expected_version: int | None = None
) -> Case:
    with transaction.atomic():
        case, old = _begin(case, "extension_refuse", actor, expected_version)
        case.state = S.HANDLING
        save(case, ["state"])
        record(
            case,
            _event("extension_refuse"),
            actor=actor,
            old_state=old,
            data={"reason": reason.strip()[:500]},
        )
        handler_notify(
            case=case,
            kind="case_extension_refused",
            title=site_text(gettext_noop("案件 %(n)s 延期申请未通过"), n=case.number),
            body=reason,
        )
    return case


def case_suspend(
    *, case: Case, actor: Any, reason: str, review_on: date, expected_version: int | None = None
) -> Case:
    """挂账: the handling clock stops until the review date; listed publicly with the reason."""
    reason = required(reason, "reason", _("请说明挂账理由。"))
    if review_on is None or review_on <= timezone.localdate():
        raise ApiError(_("复查日期须晚于今天。"), code="invalid", field="review_on", status=422)
    with transaction.atomic():
        case, old = _begin(case, "suspend", actor, expected_version)
        at = _now()
        deadline = open_deadline(case, "handling")
        if deadline is not None and deadline.state == "running":
            deadline_pause(deadline=deadline, reason=reason, actor=actor, at=at)
        case.state = S.SUSPENDED
        case.suspend_review_on = review_on
        save(case, ["state", "suspend_review_on"])
        record(
            case,
            _event("suspend"),
            actor=actor,
            old_state=old,
            at=at,
            data={"reason": reason[:500], "review_on": review_on.isoformat()},
        )
        feed(
            case,
            description=site_text(
                gettext_noop("挂账：%(r)s（复查日期 %(d)s）"), r=reason, d=review_on.isoformat()
            ),
            at=at,
        )
        tell_followers(
            case,
            kind="case_suspended",
            title=site_text(gettext_noop("案件 %(n)s 挂账"), n=case.number),
            body=reason,
        )
    return case


def case_resume(*, case: Case, actor: Any, expected_version: int | None = None) -> Case:
    with transaction.atomic():
        case, old = _begin(case, "resume", actor, expected_version)
        at = _now()
        deadline = open_deadline(case, "handling")
        if deadline is not None and deadline.state == "paused":
            deadline = deadline_resume(deadline=deadline, actor=actor, at=at)
            case.due_at = deadline.due_at
        case.state = S.HANDLING
        case.suspend_review_on = None
        save(case, ["state", "suspend_review_on", "due_at"])
        record(case, _event("resume"), actor=actor, old_state=old, at=at)
        feed(case, description=site_text(gettext_noop("恢复办理")), at=at)
    return case


def _has_contact(case: Case) -> bool:
    return CaseSubscription.objects.filter(case=case).exists()


def _closing(case: Case, *, actor: Any, at: datetime) -> bool:
    """What every path to 结案 does to the case: closed now, every timer still running stopped. Returns
    whether it closed on time (handled within the handling deadline, closed within the windows after
    it)."""
    case.state = S.CLOSED
    case.closed_at = at
    cancel_all(case, actor=actor, at=at, reason=site_text(gettext_noop("结案")))
    handling_on_time = case.handled_at is not None and (case.due_at is None or case.handled_at <= case.due_at)
    return handling_on_time and at <= _close_limit(case)


def _close(case: Case, *, actor: Any, at: datetime, old: str, data: dict[str, Any]) -> None:
    """结案 from confirmation (the resident's answer, the centre's decision, no response): its own
    event."""
    on_time = _closing(case, actor=actor, at=at)
    save(case, ["state", "closed_at", "feedback", "resident_solved"])
    record(
        case,
        TRANSITIONS["close"].event,
        actor=actor,
        old_state=old,
        at=at,
        data={
            "outcome": case.outcome,
            "on_time": on_time,
            "resident_solved": case.resident_solved,
            "feedback": case.feedback,
            **data,
        },
    )
    feed(case, description=site_text(gettext_noop("已结案")), at=at)
    tell_followers(
        case, kind="case_closed", title=site_text(gettext_noop("案件 %(n)s 已结案"), n=case.number)
    )


def _close_limit(case: Case) -> datetime:
    """Closing on time means within the handling deadline plus the check and confirmation windows."""
    if case.due_at is None:
        return timezone.now()
    due = case.due_at
    for stage in ("check", "confirmation"):
        amount, unit = conf.stage_deadline(stage)
        due = deadline_add(due, amount, unit).due_at
    return due


def _to_confirmation(case: Case, *, actor: Any, at: datetime) -> dict[str, Any]:
    """After handling (and the check): ask the resident (→ confirming, the confirmation timer starts).
    When nobody follows the case who could be asked (a patrol finding, a counter request without a
    contact), the same transition closes it (→ closed): no feedback, so it stays out of 解决率 and
    满意率. Returns what the transition's event adds: ``closed`` with the reason and whether on time,
    or nothing."""
    if _has_contact(case):
        case.state = S.CONFIRMING
        start_stage(case, "confirmation", actor=actor, at=at)
        tell_followers(
            case,
            kind="case_confirm",
            title=site_text(gettext_noop("案件 %(n)s 已处置：问题解决了吗？满意吗？"), n=case.number),
            ask_feedback=True,
        )
        return {}
    return {"closed": {"reason": "no_reporter", "on_time": _closing(case, actor=actor, at=at)}}


def case_handle(
    *,
    case: Case,
    actor: Any,
    result: str,
    outcome: str = Outcome.RESOLVED,
    evidence: list[Any] | tuple[Any, ...] = (),
    expected_version: int | None = None,
) -> Case:
    """处置完成: result and evidence; next the on-site check, or the resident when no check is needed
    (closed at once when nobody can be asked)."""
    result = required(result, "result", _("请填写处置情况。"))
    if outcome not in {Outcome.RESOLVED, Outcome.PARTLY, Outcome.EXPLAINED, Outcome.NOT_RESPONSIBLE}:
        raise ApiError(_("处置结果无效。"), code="invalid", field="outcome", status=422)
    with transaction.atomic():
        case, old = _begin(case, "handle", actor, expected_version)
        at = _now()
        on_time = meet_stage(case, "handling", actor=actor, at=at)
        rework = case.rework_count > 0 or case.redo_count > 0
        for item in evidence:
            CaseAttachment.objects.create(
                case=case,
                stage=AttachmentStage.HANDLING,
                file=item,
                content_type=getattr(item, "content_type", "") or "",
                uploaded_by=actor,
            )
        case.result = result
        case.outcome = outcome
        case.handled_at = at
        closed: dict[str, Any] = {}
        if case.category.check_required:
            case.state = S.HANDLED
            start_stage(case, "check", actor=actor, at=at)
        else:
            closed = _to_confirmation(case, actor=actor, at=at)
        save(case, ["state", "result", "outcome", "handled_at", "closed_at"])
        record(
            case,
            _event("handle"),
            actor=actor,
            old_state=old,
            at=at,
            data={
                "outcome": outcome,
                "on_time": bool(on_time) if on_time is not None else True,
                "rework": rework,
                "evidence": len(evidence),
                **closed,
            },
        )
        feed(case, description=result[:500], at=at)
    return case


def case_check_start(*, case: Case, actor: Any, expected_version: int | None = None) -> Case:
    with transaction.atomic():
        case, old = _begin(case, "check_start", actor, expected_version)
        case.state = S.CHECKING
        save(case, ["state"])
        record(case, _event("check_start"), actor=actor, old_state=old)
    return case


def case_check_pass(*, case: Case, actor: Any, note: str = "", expected_version: int | None = None) -> Case:
    """核查通过: on to the resident, or closed at once when nobody can be asked."""
    with transaction.atomic():
        case, old = _begin(case, "check_pass", actor, expected_version)
        at = _now()
        meet_stage(case, "check", actor=actor, at=at)
        closed = _to_confirmation(case, actor=actor, at=at)
        save(case, ["state", "closed_at"])
        record(
            case,
            _event("check_pass"),
            actor=actor,
            old_state=old,
            at=at,
            data={"note": note.strip()[:500], **closed},
        )
        if closed:
            feed(case, description=site_text(gettext_noop("已结案")), at=at)
    return case


def case_check_fail(
    *,
    case: Case,
    actor: Any,
    reason: str,
    evidence: list[Any] | tuple[Any, ...] = (),
    expected_version: int | None = None,
) -> Case:
    """核查不通过 → 返工: back to the unit with a fresh handling timer."""
    reason = required(reason, "reason", _("请说明核查不通过的原因。"))
    with transaction.atomic():
        case, old = _begin(case, "check_fail", actor, expected_version)
        at = _now()
        meet_stage(case, "check", actor=actor, at=at)
        for item in evidence:
            CaseAttachment.objects.create(
                case=case,
                stage=AttachmentStage.CHECK,
                file=item,
                content_type=getattr(item, "content_type", "") or "",
                uploaded_by=actor,
            )
        case.state = S.HANDLING
        case.rework_count += 1
        start_handling(case, actor=actor, at=at)
        save(case, ["state", "rework_count", "due_at"])
        record(case, _event("check_fail"), actor=actor, old_state=old, at=at, data={"reason": reason[:500]})
        feed(case, description=site_text(gettext_noop("核查未通过，返工处置")), at=at)
        handler_notify(
            case=case,
            kind="case_rework",
            title=site_text(gettext_noop("案件 %(n)s 核查未通过，请返工"), n=case.number),
            body=reason,
        )
    return case


# --- the resident's answer and closing -----------------------------------------------------------


def _subscription_for(case: Case, token: str | None) -> CaseSubscription | None:
    if not token:
        return None
    return CaseSubscription.objects.filter(case=case, token=token).first()


def case_confirm(
    *,
    case: Case,
    actor: Any = None,
    solved: bool,
    feedback: str,
    comment: str = "",
    token: str | None = None,
    expected_version: int | None = None,
) -> Case:
    """回访: "Solved? Satisfied?" Solved → closed; not solved → the centre reviews (redo or close)."""
    if feedback not in {Feedback.SATISFIED, Feedback.BASICALLY, Feedback.UNSATISFIED}:
        raise ApiError(_("请选择满意程度。"), code="required", field="feedback", status=422)
    with transaction.atomic():
        locked = lock(case, expected_version=expected_version)
        if _subscription_for(locked, token) is None:
            guard(locked, "confirm", actor)
        elif locked.state not in TRANSITIONS["confirm"].sources:
            guard(locked, "confirm", actor)  # raises the state error
        if locked.resident_solved is False and locked.state == S.CONFIRMING:
            raise ApiError(
                _("您已反馈未解决，正在等待复核。"), code="already_answered", field="solved", status=409
            )
        case, old = locked, locked.state
        at = _now()
        case.resident_solved = bool(solved)
        case.feedback = feedback
        meet_stage(case, "confirmation", actor=actor, at=at)
        save(case, ["resident_solved", "feedback"])
        record(
            case,
            _event("confirm"),
            actor=actor,
            old_state=old,
            at=at,
            data={
                "solved": bool(solved),
                "feedback": feedback,
                "comment": comment.strip()[:500],
                "via_token": token is not None,
            },
        )
        if solved:
            _close(case, actor=actor, at=at, old=old, data={"reason": "confirmed"})
        else:
            # The centre reviews the answer (重办 or 结案) on its own timer.
            start_stage(case, "review", actor=actor, at=at)
            feed(case, description=site_text(gettext_noop("居民反馈未解决，等待复核")), at=at)
    return case


def case_feedback_expire(*, case: Case) -> Case:
    """No answer within the confirmation window: closed as "no response" (excluded from 解决率)."""
    with transaction.atomic():
        case = lock(case, expected_version=None)
        if case.state != S.CONFIRMING or case.resident_solved is not None:
            return case
        at = _now()
        old = case.state
        case.feedback = Feedback.NO_RESPONSE
        save(case, ["feedback"])
        record(case, CASE_NO_RESPONSE, actor=None, old_state=old, at=at)
        _close(case, actor=None, at=at, old=old, data={"reason": "no_response"})
    return case


def case_redo(*, case: Case, actor: Any, reason: str, expected_version: int | None = None) -> Case:
    """重办: the centre agrees with a "not solved" answer and sends the case back to the unit."""
    reason = required(reason, "reason", _("请说明重办理由。"))
    with transaction.atomic():
        case, old = _begin(case, "redo", actor, expected_version)
        at = _now()
        meet_stage(case, "review", actor=actor, at=at)
        cancel_stage(case, "confirmation", actor=actor, at=at, reason=site_text(gettext_noop("重办")))
        case.state = S.HANDLING
        case.redo_count += 1
        case.resident_solved = None
        case.feedback = Feedback.NONE
        start_handling(case, actor=actor, at=at)
        save(case, ["state", "redo_count", "resident_solved", "feedback", "due_at"])
        record(case, _event("redo"), actor=actor, old_state=old, at=at, data={"reason": reason[:500]})
        feed(case, description=site_text(gettext_noop("重办：%(r)s"), r=reason), at=at)
        handler_notify(
            case=case,
            kind="case_redo",
            title=site_text(gettext_noop("案件 %(n)s 需重办"), n=case.number),
            body=reason,
        )
    return case


def case_close(*, case: Case, actor: Any, note: str = "", expected_version: int | None = None) -> Case:
    """The centre closes a case in confirmation (after reviewing a "not solved" answer, or when the
    resident answered by phone)."""
    with transaction.atomic():
        case, old = _begin(case, "close", actor, expected_version)
        at = _now()
        meet_stage(case, "review", actor=actor, at=at)
        _close(case, actor=actor, at=at, old=old, data={"reason": "centre", "note": note.strip()[:500]})
    return case


def case_reopen(*, case: Case, actor: Any, reason: str, expected_version: int | None = None) -> Case:
    """Reopen within the window after closing (default 7 days): back to the same unit."""
    reason = required(reason, "reason", _("请说明重新办理的理由。"))
    with transaction.atomic():
        case, old = _begin(case, "reopen", actor, expected_version)
        at = _now()
        if case.closed_at is None or (at - case.closed_at).days >= conf.reopen_days():
            raise ApiError(
                _("已超过 %(n)s 天的重启期限。") % {"n": conf.reopen_days()},
                code="reopen_window_passed",
                field="reason",
                status=409,
            )
        if case.handler_org_id is None and case.handler_division_id is None:
            raise ApiError(
                _("该案件没有责任单位，不能重启。"), code="invalid_state", field="state", status=409
            )
        case.state = S.HANDLING
        case.reopen_count += 1
        case.closed_at = None
        case.resident_solved = None
        case.feedback = Feedback.NONE
        start_handling(case, actor=actor, at=at)
        save(case, ["state", "reopen_count", "closed_at", "resident_solved", "feedback", "due_at"])
        record(case, _event("reopen"), actor=actor, old_state=old, at=at, data={"reason": reason[:500]})
        feed(case, description=site_text(gettext_noop("重新办理：%(r)s"), r=reason), at=at)
        handler_notify(
            case=case,
            kind="case_reopened",
            title=site_text(gettext_noop("案件 %(n)s 重新办理"), n=case.number),
            body=reason,
        )
    return case


# --- petitions ----------------------------------------------------------------------------------

PETITION_REF = re.compile(r"^[0-9A-Za-z][0-9A-Za-z\-_/]{2,63}$")


def case_petition_link(
    *, case: Case, actor: Any, petition_ref: str, expected_version: int | None = None
) -> Case:
    """Link a petition (信访件) on the same matter by its number: the case is flagged for everyone who
    works on it, and a merge carries the link to the master. Linking the number it already has
    changes nothing."""
    ref = required(petition_ref, "petition_ref", _("请填写信访件编号。"))
    if not PETITION_REF.match(ref):
        raise ApiError(
            _("信访件编号只能由字母、数字和 - _ / 组成（3–64 位）。"),
            code="invalid",
            field="petition_ref",
            status=422,
        )
    with transaction.atomic():
        case, old = _begin(case, "link_petition", actor, expected_version)
        if case.petition_ref == ref:
            return case
        previous = case.petition_ref
        case.petition_ref = ref
        save(case, ["petition_ref"])
        record(
            case,
            CASE_PETITION_LINKED,
            actor=actor,
            old_state=old,
            data={"petition": ref, "replaced": previous} if previous else {"petition": ref},
        )
    return case


# --- supervision ---------------------------------------------------------------------------------


def _level_index(level: str) -> int:
    return [str(x) for x in SUPERVISION_ORDER].index(str(level))


def case_supervise(
    *,
    case: Case,
    actor: Any,
    level: str,
    reason: str,
    escalate_to: str = "",
    points: int | None = None,
    automatic: bool = False,
    deadline: Deadline | None = None,
    target: str | None = None,
    expected_version: int | None = None,
) -> Case:
    """督办 (ordinary → yellow card → red card): a supervision row, the case's level raised, the one
    supervised told. ``target`` is who is supervised (default: the responsible unit); an automatic
    supervision names the overdue timer it is for (``deadline``)."""
    reason = required(reason, "reason", _("请说明督办事由。"))
    if level not in SupervisionLevel.values or level == SupervisionLevel.NONE:
        raise ApiError(_("督办级别无效。"), code="invalid", field="level", status=422)
    with transaction.atomic():
        if automatic:
            case = lock(case, expected_version=expected_version)
            if case.state not in TRANSITIONS["supervise"].sources:
                return case
        else:
            case, _old = _begin(case, "supervise", actor, expected_version)
        lower = _level_index(level) < _level_index(case.supervision_level)
        if lower and not automatic:
            raise ApiError(_("督办级别不能降低。"), code="invalid", field="level", status=422)
        at = _now()
        supervised = (handler_key(case) or "") if target is None else target
        default_points = {SupervisionLevel.YELLOW: 5, SupervisionLevel.RED: 10}.get(level, 0)  # type: ignore[call-overload]
        Supervision.objects.create(
            subject_type="cases.case",
            subject_id=str(case.pk),
            level=level,
            reason=reason[:500],
            target=supervised,
            points=default_points if points is None else points,
            deadline=deadline if automatic else None,
            escalated_to=escalate_to,
            issued_by=actor if actor is not None and getattr(actor, "pk", None) else None,
            issued_at=at,
            automatic=automatic,
            scope_path=case.path,
        )
        if not lower:
            # An automatic step below a level already set by hand is recorded (so it is not issued
            # again) but never lowers the case's level.
            case.supervision_level = level
            save(case, ["supervision_level"])
        record(
            case,
            _event("supervise"),
            actor=actor,
            old_state=case.state,
            at=at,
            data={
                "level": level,
                "reason": reason[:500],
                "escalated_to": escalate_to,
                "automatic": automatic,
            },
        )
        if supervised and supervised == handler_key(case):
            handler_notify(
                case=case,
                kind="case_supervised",
                title=site_text(
                    gettext_noop("案件 %(n)s 被%(level)s"), n=case.number, level=SupervisionLevel(level).label
                ),
                body=reason,
            )
    return case


def case_feedback_comment(*, case: Case, actor: Any, comment: str) -> None:
    """A follower's remark on a case (kept in the timeline, not a transition)."""
    comment = required(comment, "comment", _("请填写内容。"))
    with transaction.atomic():
        record(case, CASE_FEEDBACK_GIVEN, actor=actor, old_state=case.state, data={"comment": comment[:1000]})
