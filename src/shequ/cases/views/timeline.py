"""The timeline of a case in words: each event row with a readable label, who acted and what the
event says (the reason, the legal route, the result …).

Residents see their case's story: internal steps (supervision, deadline reminders, a unit's dispute
of a dispatch) and internal remarks are left out, and staff appear as "工作人员"; staff see every
event with the actor's name.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.utils.dateparse import parse_datetime
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from shequ.cases.machine import (
    CASE_DEADLINE_OVERDUE,
    CASE_DEADLINE_REMINDED,
    CASE_ESCALATED,
    CASE_FEEDBACK_GIVEN,
    CASE_FOLLOWED,
    CASE_NO_RESPONSE,
    CASE_PETITION_LINKED,
    CASE_REPORTED,
    TRANSITIONS,
)
from shequ.cases.models import CaseState, Channel, Feedback, Outcome
from shequ.core.models import Event, SupervisionLevel, Unit
from shequ.core.texts import listed

LABELS: dict[str, str | Promise] = {
    CASE_REPORTED: _("受理"),
    "CASE_VERIFICATION_STARTED": _("现场核实"),
    "CASE_REGISTERED": _("立案"),
    "CASE_REJECTED": _("不予受理"),
    "CASE_MERGED": _("并单"),
    "CASE_DISPATCHED": _("派遣"),
    "CASE_SELF_HANDLED": _("居村委自行处置"),
    "CASE_ACCEPTED": _("签收"),
    "CASE_RETURN_REQUESTED": _("申请退单"),
    "CASE_REDISPATCHED": _("退单改派"),
    "CASE_RETURN_REFUSED": _("退单未通过"),
    "CASE_EXTENSION_REQUESTED": _("申请延期"),
    "CASE_EXTENSION_GRANTED": _("同意延期"),
    "CASE_EXTENSION_REFUSED": _("不同意延期"),
    "CASE_SUSPENDED": _("挂账"),
    "CASE_RESUMED": _("恢复办理"),
    "CASE_HANDLED": _("处置完成"),
    "CASE_CHECK_STARTED": _("开始核查"),
    "CASE_CHECK_PASSED": _("核查通过"),
    "CASE_REWORK_ORDERED": _("核查不通过，返工"),
    "CASE_CONFIRMED": _("回访评价"),
    "CASE_REDO_ORDERED": _("重办"),
    "CASE_CLOSED": _("结案"),
    "CASE_REOPENED": _("重新办理"),
    "CASE_SUPERVISED": _("督办"),
    "CASE_REROUTED": _("改派"),
    CASE_FOLLOWED: _("有居民关注此案件"),
    CASE_DEADLINE_REMINDED: _("时限提醒"),
    CASE_DEADLINE_OVERDUE: _("超过时限"),
    CASE_ESCALATED: _("升级督办"),
    CASE_FEEDBACK_GIVEN: _("留言"),
    CASE_NO_RESPONSE: _("回访未回复"),
    CASE_PETITION_LINKED: _("关联信访件"),
}
# Every transition has its label (the matrix of machine.TRANSITIONS is the list of events).
assert all(t.event in LABELS for t in TRANSITIONS.values())  # noqa: S101 - a table check at import

STAFF_ONLY = frozenset(
    {
        "CASE_RETURN_REQUESTED",
        "CASE_RETURN_REFUSED",
        "CASE_EXTENSION_REQUESTED",
        "CASE_EXTENSION_REFUSED",
        "CASE_SUPERVISED",
        CASE_DEADLINE_REMINDED,
        CASE_DEADLINE_OVERDUE,
        CASE_ESCALATED,
        CASE_PETITION_LINKED,
    }
)

_WORDS: dict[str, str | Promise] = {
    "reason": _("理由"),
    "grounds": _("退单理由"),
    "route": _("派单依据"),
    "note": _("说明"),
    "comment": _("意见"),
    "master": _("主案件"),
    "review_on": _("复查日期"),
    "petition": _("信访件"),
}
# Data keys residents may read, per event (the rest are the staff's).
_PUBLIC_KEYS: dict[str, tuple[str, ...]] = {
    "CASE_REJECTED": ("reason", "legal_route"),
    "CASE_MERGED": ("master",),
    "CASE_EXTENSION_GRANTED": ("reason", "due_at"),
    "CASE_SUSPENDED": ("reason", "review_on"),
    "CASE_HANDLED": ("outcome", "closed"),
    "CASE_CHECK_PASSED": ("closed",),
    "CASE_REWORK_ORDERED": ("reason",),
    "CASE_CONFIRMED": ("solved", "feedback", "comment"),
    "CASE_REDO_ORDERED": ("reason",),
    "CASE_REOPENED": ("reason",),
    "CASE_CLOSED": ("outcome", "feedback"),
    CASE_REPORTED: ("channel",),
}


@dataclass
class TimelineEntry:
    at: datetime
    type: str
    label: str | Promise
    actor: str | Promise
    state: str | Promise
    details: list[tuple[str | Promise, str | Promise]] = field(default_factory=list)


def _choice_label(choices: Any, value: Any) -> str | Promise:
    try:
        return choices(value).label
    except ValueError:
        return str(value)


def _when(value: Any) -> str:
    parsed = parse_datetime(value) if isinstance(value, str) else None
    if parsed is None:
        return str(value)
    from django.utils import timezone

    return timezone.localtime(parsed).strftime("%Y-%m-%d %H:%M")


def _details(  # noqa: PLR0912 - one branch per kind of detail
    event: Event, *, staff: bool, units: dict[str, str]
) -> list[tuple[str | Promise, str | Promise]]:
    data: dict[str, Any] = event.data or {}
    out: list[tuple[str | Promise, str | Promise]] = []
    allowed = None if staff else set(_PUBLIC_KEYS.get(event.type, ()))

    def add(key: str, label: str | Promise, value: str | Promise) -> None:
        if value in ("", None):
            return
        if allowed is not None and key not in allowed:
            return
        out.append((label, value))

    if event.type == CASE_REPORTED:
        add("channel", _("来源"), _choice_label(Channel, data.get("channel", "")))
        suggested = data.get("suggested_handler")
        if suggested:
            add("suggested", _("建议责任单位"), units.get(suggested, suggested))
        add("route_reason", _("建议依据"), data.get("route_reason", ""))
        dupes = data.get("possible_duplicates") or []
        add("duplicates", _("可能重复"), listed(dupes))
        return out
    if event.type == "CASE_REJECTED":
        add("reason", _WORDS["reason"], data.get("reason", ""))
        add("legal_route", _("可通过以下途径"), data.get("route", ""))
        return out
    if event.type == "CASE_EXTENSION_REQUESTED":
        unit = _choice_label(Unit, data.get("unit", ""))
        add("amount", _("申请延长"), f"{data.get('amount', '')} {unit}")
    if event.type == "CASE_EXTENSION_GRANTED":
        due = (data.get("due_at") or {}).get("new")
        if due:
            add("due_at", _("新的处置时限"), _when(due))
    if event.type in {"CASE_HANDLED", "CASE_CLOSED"} and data.get("outcome"):
        add("outcome", _("处置结果"), _choice_label(Outcome, data["outcome"]))
    if isinstance(data.get("closed"), dict):
        # Handled or checked with nobody to ask: the same step closed the case.
        add("closed", LABELS["CASE_CLOSED"], _("无人可回访"))
    if event.type == "CASE_CONFIRMED":
        add("solved", _("问题是否解决"), _("已解决") if data.get("solved") else _("没有解决"))
    if event.type in {"CASE_CONFIRMED", "CASE_CLOSED"} and data.get("feedback"):
        add("feedback", _("满意程度"), _choice_label(Feedback, data["feedback"]))
    if event.type == "CASE_SUPERVISED" and data.get("level"):
        add("level", _("督办级别"), _choice_label(SupervisionLevel, data["level"]))
    for key in ("grounds", "reason", "route", "note", "comment", "master", "review_on", "petition"):
        value = data.get(key)
        if isinstance(value, str):
            add(key, _WORDS[key], value)
    return out


def timeline_entries(
    events: Iterable[Event], *, staff: bool, viewer_id: int | None, units: dict[str, str] | None = None
) -> list[TimelineEntry]:
    """The readable timeline of one case for a staff member or for a resident."""
    entries = []
    for event in events:
        if not staff and event.type in STAFF_ONLY:
            continue
        if event.actor_id is None:
            actor: str | Promise = _("系统")
        elif viewer_id is not None and event.actor_id == viewer_id:
            actor = _("您") if not staff else str(event.actor)
        elif staff:
            actor = str(event.actor)
        else:
            actor = _("工作人员")
        new_state = ((event.data or {}).get("state") or {}).get("new") or ""
        entries.append(
            TimelineEntry(
                at=event.occurred_at,
                type=event.type,
                label=LABELS.get(event.type, event.type),
                actor=actor,
                state=_choice_label(CaseState, new_state) if new_state else "",
                details=_details(event, staff=staff, units=units or {}),
            )
        )
    return entries


def suggested_units(events: Iterable[Event]) -> list[str]:
    """The handler keys named in the intake events (for ``selectors_pages.unit_labels``)."""
    return [
        str(e.data.get("suggested_handler"))
        for e in events
        if e.type == CASE_REPORTED and e.data.get("suggested_handler")
    ]
