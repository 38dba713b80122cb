"""Escalation of overdue timers (督办, DOMAIN.md §5) with frozen time: ordinary → yellow card → red
card by working days overdue (default 0 / 2 / 5, points 0 / 5 / 10), brought to the street, then the
district; the supervisors there are told; a repeated run issues nothing. Every stage where staff must
act is supervised by its own timer (registration, dispatch, sign-for, handling, check, review)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine

from shequ.cases.jobs import cases_escalate
from shequ.cases.models import Case
from shequ.cases.services_transitions import (
    case_dispatch,
    case_handle,
    case_register,
    case_supervise,
    case_suspend,
)
from shequ.cases.tests.factories import CaseWorld, case_world
from shequ.core.models import Deadline, Event, Notification, Supervision
from shequ.core.ticks import periodic_jobs_run

pytestmark = pytest.mark.django_db

SH = ZoneInfo("Asia/Shanghai")


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=SH)


# Registered and signed for on Monday 2 March 2026 at 10:00; 1 工作日 to handle: due Tuesday 10:00.
DUE = at(2026, 3, 3, 10, 0)


@pytest.fixture
def world() -> CaseWorld:
    return case_world()


@pytest.fixture
def clock() -> Iterator[time_machine.Coordinates]:
    with time_machine.travel(at(2026, 3, 2, 10, 0), tick=False) as traveller:
        yield traveller


def escalate(clock: time_machine.Coordinates, when: datetime) -> int:
    clock.move_to(when)
    return cases_escalate(now=when)


def supervisions(case: Case) -> list[tuple[str, str, int, bool]]:
    return [
        (s.level, s.escalated_to, s.points, s.automatic)
        for s in Supervision.objects.filter(subject_type="cases.case", subject_id=str(case.pk)).order_by("pk")
    ]


def case_rows(case: Case, *types: str) -> list[Event]:
    return list(
        Event.objects.filter(subject_type="cases.case", subject_id=str(case.pk), type__in=types).order_by(
            "pk"
        )
    )


def told(kind: str, user: Any) -> int:
    return Notification.objects.filter(recipient=user, kind=kind, channel="in_app").count()


def test_ordinary_yellow_red_by_working_days_overdue(world: CaseWorld, clock: Any) -> None:
    w = world
    case = w.in_hands()
    assert case.due_at == DUE
    street, district = w.tree.street(1, 1).code, w.tree.district(1).code
    handling = Deadline.objects.get(subject_id=str(case.pk), kind="case_handling")

    # Not yet due: nothing.
    assert escalate(clock, at(2026, 3, 3, 9, 59)) == 0
    assert supervisions(case) == []

    # Overdue (0 working days reached): ordinary supervision, to the street.
    assert escalate(clock, at(2026, 3, 3, 10, 30)) == 1
    assert supervisions(case) == [("ordinary", street, 0, True)]
    ordinary = Supervision.objects.get(subject_id=str(case.pk))
    assert (ordinary.deadline_id, ordinary.target, ordinary.issued_by_id) == (
        handling.pk,
        f"org:{w.branch.pk}",
        None,
    )
    assert ordinary.issued_at == at(2026, 3, 3, 10, 30)
    case.refresh_from_db()
    assert case.supervision_level == "ordinary"
    supervised = case_rows(case, "CASE_SUPERVISED")
    assert len(supervised) == 1
    assert supervised[0].actor_id is None
    assert supervised[0].data["state"] == {"old": "handling", "new": "handling"}
    assert supervised[0].data["snap"]["handler"] == f"org:{w.branch.pk}"
    assert (
        supervised[0].data["level"],
        supervised[0].data["escalated_to"],
        supervised[0].data["automatic"],
    ) == (
        "ordinary",
        street,
        True,
    )
    escalated = case_rows(case, "CASE_ESCALATED")
    assert [(e.data["level"], e.data["to"]) for e in escalated] == [("ordinary", street)]
    # The street's dispatch centre and officer are told, the unit is told; not yet the district.
    assert told("case_escalated", w.dispatcher) == 1
    assert told("case_escalated", w.street_officer) == 1
    assert told("case_escalated", w.district_officer) == 0
    assert told("case_supervised", w.handler) == 1

    # A second run at once, and later the same day: nothing new.
    assert escalate(clock, at(2026, 3, 3, 10, 45)) == 0
    assert escalate(clock, at(2026, 3, 4, 16, 0)) == 0
    assert len(supervisions(case)) == 1
    assert len(case_rows(case, "CASE_SUPERVISED", "CASE_ESCALATED")) == 2

    # 2 working days overdue on Thursday 10:00 (not a minute before): yellow card, to the district, 5 points.
    assert escalate(clock, at(2026, 3, 5, 9, 59)) == 0
    assert escalate(clock, at(2026, 3, 5, 10, 0)) == 1
    assert supervisions(case)[-1] == ("yellow", district, 5, True)
    case.refresh_from_db()
    assert case.supervision_level == "yellow"
    assert told("case_escalated", w.district_officer) == 1
    assert told("case_escalated", w.dispatcher) == 1

    # 5 working days overdue: the weekend does not count, so Tuesday 10 March 10:00. Red card, 10 points.
    assert escalate(clock, at(2026, 3, 9, 23, 0)) == 0
    assert escalate(clock, at(2026, 3, 10, 10, 0)) == 1
    assert supervisions(case) == [
        ("ordinary", street, 0, True),
        ("yellow", district, 5, True),
        ("red", district, 10, True),
    ]
    case.refresh_from_db()
    assert case.supervision_level == "red"
    assert told("case_escalated", w.district_officer) == 2
    assert told("case_supervised", w.handler) == 3

    # Nothing further, however long it stays overdue.
    assert escalate(clock, at(2026, 3, 10, 10, 15)) == 0
    assert escalate(clock, at(2026, 3, 20, 10, 0)) == 0
    assert len(supervisions(case)) == 3
    assert [e.data["level"] for e in case_rows(case, "CASE_ESCALATED")] == ["ordinary", "yellow", "red"]


def test_a_case_found_far_overdue_gets_every_step_at_once(world: CaseWorld, clock: Any) -> None:
    w = world
    case = w.in_hands()
    assert escalate(clock, at(2026, 3, 12, 10, 0)) == 3
    assert [level for level, *_rest in supervisions(case)] == ["ordinary", "yellow", "red"]
    case.refresh_from_db()
    assert case.supervision_level == "red"
    assert escalate(clock, at(2026, 3, 12, 10, 0)) == 0


def by_timer(case: Case) -> dict[str, list[tuple[str, str, str]]]:
    """The automatic supervisions of a case by the kind of timer they are for: (level, who is
    supervised, reason)."""
    out: dict[str, list[tuple[str, str, str]]] = {}
    rows = Supervision.objects.filter(subject_id=str(case.pk), automatic=True).select_related("deadline")
    for s in rows.order_by("pk"):
        out.setdefault(s.deadline.kind, []).append((s.level, s.target, s.reason))
    return out


def test_every_running_staff_timer_escalates_by_its_own_stage(world: CaseWorld, clock: Any) -> None:
    w = world
    handled = w.in_hands(description="已处置的案件")
    suspended = w.in_hands(description="挂账的案件")
    waiting = case_register(case=w.report(description="未派遣的案件"), actor=w.dispatcher)
    clock.move_to(at(2026, 3, 2, 15, 0))
    case_handle(case=handled, actor=w.handler, result="已处置")
    case_suspend(case=suspended, actor=w.dispatcher, reason="等待业主大会", review_on=date(2026, 3, 20))
    street = w.tree.street(1, 1).code

    assert escalate(clock, at(2026, 3, 12, 10, 0)) == 9
    # Suspended: its clock is paused, nothing is late.
    assert supervisions(suspended) == []
    # Handled on time; the on-site check (1 working day, the street's step) is what is late.
    assert set(by_timer(handled)) == {"case_check"}
    assert [(level, target) for level, target, _r in by_timer(handled)["case_check"]] == [
        ("ordinary", street),
        ("yellow", street),
        ("red", street),
    ]
    assert by_timer(handled)["case_check"][0][2].startswith("核查超期")
    # Registered, never dispatched: the dispatch (the street's) and the handling clock, which runs
    # from 立案, are both late; with no unit yet, the handling supervision names none.
    late = by_timer(waiting)
    assert set(late) == {"case_dispatch", "case_handling"}
    assert [(level, target) for level, target, _r in late["case_dispatch"]] == [
        ("ordinary", street),
        ("yellow", street),
        ("red", street),
    ]
    assert late["case_dispatch"][0][2].startswith("派遣超期")
    assert [target for _level, target, _r in late["case_handling"]] == ["", "", ""]
    assert late["case_handling"][0][2].startswith("处置超期")
    escalated = case_rows(waiting, "CASE_ESCALATED")
    assert sorted({e.data["kind"] for e in escalated}) == ["dispatch", "handling"]
    waiting.refresh_from_db()
    assert waiting.supervision_level == "red"
    # The unit is told only of its own lateness: the check is not the handler's.
    assert told("case_supervised", w.handler) == 0
    # A second run issues nothing.
    assert escalate(clock, at(2026, 3, 12, 10, 5)) == 0


def test_the_steps_may_differ_by_stage(world: CaseWorld, clock: Any, settings: Any) -> None:
    settings.SHEQU_CASE_ESCALATION = {
        "dispatch": [],  # the dispatch of this street is not supervised
        "handling": [{"after_work_days": 1, "level": "yellow", "escalate_to": "district", "points": 5}],
    }
    w = world
    waiting = case_register(case=w.report(description="未派遣的案件"), actor=w.dispatcher)
    assert escalate(clock, at(2026, 3, 4, 10, 0)) == 1
    assert [(level, kind) for kind, rows in by_timer(waiting).items() for level, *_rest in rows] == [
        ("yellow", "case_handling")
    ]


def test_escalation_steps_are_configurable(world: CaseWorld, clock: Any, settings: Any) -> None:
    settings.SHEQU_CASE_ESCALATION = [
        {"after_work_days": 1, "level": "yellow", "escalate_to": "street", "points": 3},
        {"after_work_days": 3, "level": "red", "escalate_to": "district", "points": 8},
    ]
    w = world
    case = w.in_hands()
    assert escalate(clock, at(2026, 3, 3, 12, 0)) == 0  # overdue, but under one working day
    assert escalate(clock, at(2026, 3, 4, 10, 0)) == 1
    assert escalate(clock, at(2026, 3, 6, 10, 0)) == 1
    street, district = w.tree.street(1, 1).code, w.tree.district(1).code
    assert supervisions(case) == [("yellow", street, 3, True), ("red", district, 8, True)]


def test_a_level_set_by_hand_is_never_lowered(world: CaseWorld, clock: Any) -> None:
    w = world
    case = w.in_hands()
    clock.move_to(at(2026, 3, 2, 15, 0))
    case = case_supervise(case=case, actor=w.dispatcher, level="red", reason="媒体曝光")
    assert supervisions(case) == [("red", "", 10, False)]
    # The automatic steps are still recorded (and so issued once), but the case stays red.
    assert escalate(clock, at(2026, 3, 3, 11, 0)) == 1
    case.refresh_from_db()
    assert case.supervision_level == "red"
    assert escalate(clock, at(2026, 3, 3, 11, 0)) == 0
    assert [(level, auto) for level, _to, _points, auto in supervisions(case)] == [
        ("red", False),
        ("ordinary", True),
    ]
    # By hand, lowering is refused.
    from shequ.core.errors import ApiError

    with pytest.raises(ApiError) as caught:
        case_supervise(case=case, actor=w.dispatcher, level="yellow", reason="降级")
    assert caught.value.field == "level"


def test_the_escalation_runs_as_a_periodic_job(world: CaseWorld, clock: Any) -> None:
    w = world
    case = w.in_hands()
    when = at(2026, 3, 5, 10, 0)
    clock.move_to(when)
    report = periodic_jobs_run(now=when)
    assert report.ran["cases.escalate"] == 2  # ordinary and yellow
    assert "cases.escalate" not in report.failed
    # Within its period it is not run again; after it, it runs and finds nothing to issue.
    assert "cases.escalate" in periodic_jobs_run(now=when).skipped
    later = at(2026, 3, 5, 10, 30)
    clock.move_to(later)
    assert periodic_jobs_run(now=later).ran["cases.escalate"] == 0
    assert len(supervisions(case)) == 2


def test_a_late_sign_for_while_the_unit_asks_to_return_the_case_is_the_centres(
    world: CaseWorld, clock: Any
) -> None:
    from shequ.cases.services_transitions import case_return_request

    w = world
    case = case_dispatch(
        case=case_register(case=w.report(), actor=w.dispatcher), actor=w.dispatcher, org=w.branch
    )
    clock.move_to(at(2026, 3, 2, 11, 0))
    case_return_request(case=case, actor=w.handler, grounds="产权属小区，应由物业处理")
    # The sign-for timer (due 12:00) runs on while the centre decides: the lateness is the street's.
    assert escalate(clock, at(2026, 3, 2, 13, 0)) == 1
    street = w.tree.street(1, 1).code
    assert [(level, target) for level, target, _r in by_timer(case)["case_sign_for"]] == [
        ("ordinary", street)
    ]
    assert told("case_supervised", w.handler) == 0


def test_reminders_go_to_whoever_owes_the_step(world: CaseWorld, clock: Any) -> None:
    from shequ.cases.jobs import _reminded
    from shequ.core.models import Deadline

    w = world
    case = case_register(case=w.report(), actor=w.dispatcher)
    dispatch = Deadline.objects.get(subject_id=str(case.pk), kind="case_dispatch")
    _reminded(dispatch)  # not yet dispatched: the street's centre owes it
    assert told("case_deadline_reminded", w.dispatcher) == 1
    assert told("case_deadline_reminded", w.handler) == 0
    case = case_dispatch(case=case, actor=w.dispatcher, org=w.branch)
    _reminded(Deadline.objects.get(subject_id=str(case.pk), kind="case_sign_for"))  # the unit owes it
    assert told("case_deadline_reminded", w.handler) == 1
    assert told("case_deadline_reminded", w.dispatcher) == 1
