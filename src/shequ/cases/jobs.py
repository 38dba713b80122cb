"""The case loop's clockwork, driven by ``shequ tick`` (idempotent: running it twice changes nothing).

- The kernel's ``deadlines_tick`` marks every case timer at 80 % (reminded) and at 100 % (overdue) once;
  the handlers here tell whoever must act (the responsible unit; the followers for the resident's
  answer; the street's dispatch centre for its review of a "not solved" answer), write the overdue
  event, and close a case whose resident did not answer within the confirmation window ("no
  response").
- ``cases_escalate`` raises supervision on every overdue timer of a stage where staff must act
  (registration, dispatch, sign-for, handling, check, the centre's review of a "not solved" answer)
  by the configured steps (ordinary → yellow card → red card) and brings them to the street and the
  district. The resident's confirmation is not supervised: unanswered, it closes the case as "no
  response". One automatic supervision per timer and level (a unique constraint), so a repeated run
  issues nothing new.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_noop

from shequ.core.clock import elapsed
from shequ.core.models import Deadline, DeadlineState, Supervision, Unit
from shequ.core.services_clock import deadline_handler_register
from shequ.core.texts import site_text
from shequ.core.ticks import periodic_job_register

from . import conf
from .machine import CASE_DEADLINE_OVERDUE, CASE_DEADLINE_REMINDED, CASE_ESCALATED
from .models import Case, CaseState
from .services_common import DEADLINE_KIND, iso, record, tell_followers

_STAGE_OF_KIND = {kind: stage for stage, kind in DEADLINE_KIND.items()}

# The stages whose lateness is supervised, and the reason each supervision gives.
SUPERVISED_STAGES: dict[str, str] = {
    "registration": gettext_noop("立案超期 %(days)s 个工作日"),
    "dispatch": gettext_noop("派遣超期 %(days)s 个工作日"),
    "sign_for": gettext_noop("签收超期 %(days)s 个工作日"),
    "handling": gettext_noop("处置超期 %(days)s 个工作日"),
    "check": gettext_noop("核查超期 %(days)s 个工作日"),
    "review": gettext_noop("复核超期 %(days)s 个工作日"),
}


def _case_of(deadline: Deadline) -> Case | None:
    if deadline.subject_type != "cases.case":
        return None
    return (
        Case.objects.select_related("category", "district", "street", "committee", "handler_division")
        .filter(pk=int(deadline.subject_id))
        .first()
    )


def _reminded(deadline: Deadline) -> None:
    case = _case_of(deadline)
    if case is None or not case.is_open:
        return
    from .notifications import handler_notify, supervisors_notify

    stage = _STAGE_OF_KIND.get(deadline.kind, deadline.kind)
    with transaction.atomic():
        record(
            case,
            CASE_DEADLINE_REMINDED,
            actor=None,
            old_state=case.state,
            data={
                "kind": stage,
                "due_at": iso(deadline.due_at),
            },
        )
        if stage == "confirmation":
            # The resident's answer is what is awaited: remind the followers, with the answer link.
            tell_followers(
                case,
                kind="case_confirm_reminded",
                title=site_text(gettext_noop("案件 %(n)s：问题解决了吗？请告诉我们"), n=case.number),
                ask_feedback=True,
            )
        elif stage == "review":
            # The centre owes the decision on a "not solved" answer: redo or close.
            supervisors_notify(
                case=case,
                division_code=case.street.code,
                kind="case_review_reminded",
                title=site_text(gettext_noop("案件 %(n)s：居民反馈未解决，请尽快复核"), n=case.number),
            )
        else:
            # Whoever owes the step: the unit, or the street's dispatch centre for its own steps.
            title = site_text(gettext_noop("案件 %(n)s 即将到期"), n=case.number)
            street = _late_party(case, stage)
            if street is None:
                handler_notify(case=case, kind="case_deadline_reminded", title=title)
            else:
                supervisors_notify(
                    case=case, division_code=street, kind="case_deadline_reminded", title=title
                )


def _overdue(deadline: Deadline) -> None:
    case = _case_of(deadline)
    if case is None or not case.is_open:
        return
    stage = _STAGE_OF_KIND.get(deadline.kind, deadline.kind)
    if stage == "confirmation":
        from .services_transitions import case_feedback_expire

        case_feedback_expire(case=case)
        return
    with transaction.atomic():
        record(
            case,
            CASE_DEADLINE_OVERDUE,
            actor=None,
            old_state=case.state,
            data={"kind": stage, "due_at": iso(deadline.due_at)},
        )


def cases_escalate(*, now: datetime | None = None) -> int:
    """Issue the automatic supervision steps every overdue timer of a supervised stage has reached.
    Returns the number of supervisions issued."""
    from .notifications import supervisors_notify
    from .services_transitions import case_supervise

    now = now or timezone.now()
    kinds = [DEADLINE_KIND[stage] for stage in SUPERVISED_STAGES]
    overdue = list(
        Deadline.objects.filter(kind__in=kinds, state=DeadlineState.RUNNING, due_at__lt=now)
        .order_by("due_at", "pk")
        .prefetch_related("pauses")
    )
    if not overdue:
        return 0
    issued_levels: dict[int, set[str]] = {}
    for deadline_id, level in Supervision.objects.filter(
        deadline_id__in=[d.pk for d in overdue], automatic=True
    ).values_list("deadline_id", "level"):
        issued_levels.setdefault(deadline_id, set()).add(level)
    issued = 0
    for deadline in overdue:
        stage = _STAGE_OF_KIND[deadline.kind]
        steps = sorted(conf.escalation_steps(stage), key=lambda step: step["after_work_days"])
        late = elapsed(deadline.due_at, now, Unit.WORK_DAYS)
        due_steps = [
            s
            for s in steps
            if late >= s["after_work_days"] and str(s["level"]) not in issued_levels.get(deadline.pk, set())
        ]
        if not due_steps:
            continue
        case = _case_of(deadline)
        if case is None or not case.is_open:
            continue
        for step in due_steps:
            target = case.street.code if step["escalate_to"] == "street" else case.district.code
            reason = site_text(SUPERVISED_STAGES[stage], days=f"{late:.1f}")
            case = case_supervise(
                case=case,
                actor=None,
                level=str(step["level"]),
                reason=reason,
                escalate_to=target,
                points=int(step.get("points", 0)),
                automatic=True,
                deadline=deadline,
                target=_late_party(case, stage),
            )
            with transaction.atomic():
                record(
                    case,
                    CASE_ESCALATED,
                    actor=None,
                    old_state=case.state,
                    data={
                        "level": str(step["level"]),
                        "to": target,
                        "kind": stage,
                        "late_work_days": str(late),
                    },
                )
                supervisors_notify(
                    case=case,
                    division_code=target,
                    kind="case_escalated",
                    title=site_text(gettext_noop("案件 %(n)s 超期督办"), n=case.number),
                    body=reason,
                )
            issued += 1
    return issued


def _late_party(case: Case, stage: str) -> str | None:
    """Who a late ``stage`` waits on: None for the responsible unit, which signs for and handles —
    unless it asked to return the case (退单): then the street's dispatch centre owes the decision,
    as it owes its own steps (registration, dispatch, the check, the review of a "not solved"
    answer); the street's code then."""
    if stage in {"sign_for", "handling"} and case.state != CaseState.RETURN_REQUESTED:
        return None
    return case.street.code


def _escalate_job(now: datetime) -> Any:
    return cases_escalate(now=now)


def register_case_jobs() -> None:
    for kind in DEADLINE_KIND.values():
        deadline_handler_register(kind=kind, event="reminded", handler=_reminded)
        deadline_handler_register(kind=kind, event="overdue", handler=_overdue)
    periodic_job_register(name="cases.escalate", every=timedelta(minutes=15), run=_escalate_job)
