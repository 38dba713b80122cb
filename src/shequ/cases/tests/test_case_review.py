"""The centre's review of a resident's "not solved" answer runs on the shared clock (DOMAIN.md §3, §5):
a review timer (default 1 工作日) starts with the answer and ends when the centre decides — redo (重办)
or close (结案). Like the other stage timers it is reminded at 80 % (the street's dispatch centre is
told) and marked overdue at 100 % by the tick; automatic escalation (督办) stays with the handling timer.

Time is frozen across a weekend: the answer comes on Friday 6 March 2026 at 15:00 (an ordinary week);
1 工作日 is 24 hours of working days, so the review is due Monday 9 March at 15:00 and reminded at 80 %
of it (19 h 12 min: 9 h of Friday, then Monday 10:12).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine

from shequ.cases.jobs import cases_escalate
from shequ.cases.models import Case, CaseState, Feedback
from shequ.cases.services_transitions import (
    case_check_pass,
    case_check_start,
    case_close,
    case_confirm,
    case_handle,
    case_redo,
)
from shequ.cases.tests.factories import CaseWorld, case_world
from shequ.core.models import Deadline, DeadlineState, Event, Notification, Supervision
from shequ.core.services_clock import deadlines_tick

pytestmark = pytest.mark.django_db

SH = ZoneInfo("Asia/Shanghai")
ANSWERED = datetime(2026, 3, 6, 15, 0, tzinfo=SH)  # Friday
REMIND = datetime(2026, 3, 9, 10, 12, tzinfo=SH)  # Monday
DUE = datetime(2026, 3, 9, 15, 0, tzinfo=SH)


@pytest.fixture
def world() -> CaseWorld:
    return case_world()


@pytest.fixture
def clock() -> Iterator[time_machine.Coordinates]:
    with time_machine.travel(datetime(2026, 3, 6, 9, 30, tzinfo=SH), tick=False) as traveller:
        yield traveller


def awaiting_answer(w: CaseWorld, clock: time_machine.Coordinates) -> Case:
    """Reported, handled and checked on Friday morning: the resident is asked."""
    case = w.in_hands()
    clock.shift(timedelta(minutes=30))
    case = case_handle(case=case, actor=w.handler, result="已清理")
    case = case_check_pass(case=case_check_start(case=case, actor=w.grid_worker), actor=w.grid_worker)
    assert case.state == CaseState.CONFIRMING
    return case


def not_solved(w: CaseWorld, clock: time_machine.Coordinates) -> Case:
    case = awaiting_answer(w, clock)
    clock.move_to(ANSWERED)
    return case_confirm(case=case, actor=w.resident, solved=False, feedback=Feedback.UNSATISFIED)


def review_timers(case: Case) -> list[Deadline]:
    return list(
        Deadline.objects.filter(
            subject_type="cases.case", subject_id=str(case.pk), kind="case_review"
        ).order_by("pk")
    )


def tick(clock: time_machine.Coordinates, when: datetime, capture: Any) -> None:
    clock.move_to(when)
    with capture(execute=True):
        deadlines_tick(now=when)


def deadline_events(case: Case, type_: str) -> list[dict[str, Any]]:
    return [
        e.data
        for e in Event.objects.filter(
            subject_type="cases.case", subject_id=str(case.pk), type=type_
        ).order_by("pk")
        if e.data.get("kind") == "review"
    ]


def told(user: Any, kind: str) -> list[str]:
    return list(Notification.objects.filter(recipient=user, kind=kind).values_list("title", flat=True))


def test_a_not_solved_answer_on_friday_is_due_for_review_on_monday(
    world: CaseWorld, clock: time_machine.Coordinates, django_capture_on_commit_callbacks: Any
) -> None:
    w = world
    case = not_solved(w, clock)

    (timer,) = review_timers(case)
    assert (timer.state, timer.started_at, timer.due_at, timer.remind_at) == (
        DeadlineState.RUNNING,
        ANSWERED,
        DUE,
        REMIND,
    )
    # The answer ended the resident's confirmation timer; the review is the only one running.
    running = Deadline.objects.filter(subject_id=str(case.pk), state=DeadlineState.RUNNING)
    assert list(running.values_list("kind", flat=True)) == ["case_review"]

    # The weekend does not count: nothing on Saturday, nor on Monday before 80 %.
    tick(clock, datetime(2026, 3, 7, 12, 0, tzinfo=SH), django_capture_on_commit_callbacks)
    tick(clock, REMIND - timedelta(minutes=1), django_capture_on_commit_callbacks)
    assert deadline_events(case, "CASE_DEADLINE_REMINDED") == []

    # 80 %: the street's dispatch centre is reminded (it owes the decision, not the unit).
    tick(clock, REMIND, django_capture_on_commit_callbacks)
    (reminded,) = deadline_events(case, "CASE_DEADLINE_REMINDED")
    assert datetime.fromisoformat(reminded["due_at"]) == DUE
    assert told(w.dispatcher, "case_review_reminded") == [f"案件 {case.number}：居民反馈未解决，请尽快复核"]
    assert told(w.street_officer, "case_review_reminded") == [
        f"案件 {case.number}：居民反馈未解决，请尽快复核"
    ]
    assert told(w.handler, "case_review_reminded") == []
    assert told(w.handler, "case_deadline_reminded") == []
    assert told(w.other_dispatcher, "case_review_reminded") == []

    # 100 %: overdue, once; the escalation job supervises the late review — the street's own step.
    tick(clock, DUE - timedelta(minutes=1), django_capture_on_commit_callbacks)
    assert deadline_events(case, "CASE_DEADLINE_OVERDUE") == []
    tick(clock, DUE + timedelta(minutes=1), django_capture_on_commit_callbacks)
    tick(clock, DUE + timedelta(minutes=2), django_capture_on_commit_callbacks)
    assert len(deadline_events(case, "CASE_DEADLINE_OVERDUE")) == 1
    assert cases_escalate(now=DUE + timedelta(hours=1)) == 1
    (supervision,) = Supervision.objects.filter(subject_id=str(case.pk))
    street = w.tree.street(1, 1).code
    assert (supervision.level, supervision.target, supervision.escalated_to, supervision.deadline_id) == (
        "ordinary",
        street,
        street,
        timer.pk,
    )
    assert supervision.reason.startswith("复核超期")
    assert told(w.handler, "case_supervised") == []  # the unit is not the one late
    assert cases_escalate(now=DUE + timedelta(hours=1)) == 0

    # The centre closes it late: the timer ends missed, and the case is closed.
    clock.move_to(DUE + timedelta(hours=1))
    case = case_close(case=case, actor=w.dispatcher, note="已电话解释，居民认可")
    (timer,) = review_timers(case)
    assert (timer.state, timer.ended_at) == (DeadlineState.MISSED, DUE + timedelta(hours=1))
    assert case.state == CaseState.CLOSED
    assert not Deadline.objects.filter(subject_id=str(case.pk), state=DeadlineState.RUNNING).exists()


def test_a_redo_within_the_window_meets_the_review_timer(
    world: CaseWorld, clock: time_machine.Coordinates
) -> None:
    w = world
    case = not_solved(w, clock)
    clock.move_to(datetime(2026, 3, 9, 9, 30, tzinfo=SH))  # Monday morning, before it is due

    case = case_redo(case=case, actor=w.dispatcher, reason="现场仍有垃圾")

    (timer,) = review_timers(case)
    assert (timer.state, timer.ended_at) == (DeadlineState.MET, datetime(2026, 3, 9, 9, 30, tzinfo=SH))
    assert case.state == CaseState.HANDLING
    running = Deadline.objects.filter(subject_id=str(case.pk), state=DeadlineState.RUNNING)
    assert list(running.values_list("kind", flat=True)) == ["case_handling"]


def test_a_close_before_the_due_time_meets_the_review_timer(
    world: CaseWorld, clock: time_machine.Coordinates
) -> None:
    w = world
    case = not_solved(w, clock)
    clock.shift(timedelta(hours=1))

    case_close(case=case, actor=w.dispatcher)

    (timer,) = review_timers(case)
    assert timer.state == DeadlineState.MET


def test_a_solved_answer_needs_no_review(world: CaseWorld, clock: time_machine.Coordinates) -> None:
    w = world
    case = awaiting_answer(w, clock)
    clock.move_to(ANSWERED)

    case = case_confirm(case=case, actor=w.resident, solved=True, feedback=Feedback.SATISFIED)

    assert case.state == CaseState.CLOSED
    assert review_timers(case) == []


def test_the_review_period_is_configurable(
    world: CaseWorld, clock: time_machine.Coordinates, settings: Any
) -> None:
    settings.SHEQU_CASE_DEADLINES = {"review": (4, "work_hours")}
    case = not_solved(world, clock)

    (timer,) = review_timers(case)
    # Friday 15:00–17:00 is 2 工作时; the other 2 are Monday 09:00–11:00.
    assert timer.due_at == datetime(2026, 3, 9, 11, 0, tzinfo=SH)
