"""The case's stage timers on the shared working-day clock (DOMAIN.md §3 and §5), with frozen time.

Expected instants are worked out by hand from the official 2026 calendar (seeded from the
State Council schedule): Mid-Autumn Festival Friday 25 – Sunday 27 September, National Day Thursday
1 – Wednesday 7 October, Saturday 10 October an adjusted working day. 工作日 count whole working days
(24 h each), 工作时 only 09:00–12:00 and 13:00–17:00 of working days.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command

from shequ.cases.models import Case, CaseState
from shequ.cases.services_transitions import (
    case_accept,
    case_dispatch,
    case_extension_grant,
    case_extension_request,
    case_handle,
    case_register,
    case_resume,
    case_suspend,
)
from shequ.cases.tests.factories import CaseWorld, case_world, category_create
from shequ.core.models import Deadline, DeadlineState, Event, Notification, Supervision, Unit

pytestmark = pytest.mark.django_db

SH = ZoneInfo("Asia/Shanghai")


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=SH)


@pytest.fixture
def world() -> CaseWorld:
    return case_world()


@pytest.fixture
def clock() -> Iterator[time_machine.Coordinates]:
    with time_machine.travel(at(2026, 3, 2, 9, 0), tick=False) as traveller:
        yield traveller


def timer(case: Case, kind: str) -> Deadline:
    """The case's latest timer of ``kind`` (case_registration, case_handling …)."""
    found = (
        Deadline.objects.filter(subject_type="cases.case", subject_id=str(case.pk), kind=kind)
        .order_by("-pk")
        .first()
    )
    assert found is not None, kind
    return found


def case_types(case: Case, *types: str) -> list[Event]:
    return list(
        Event.objects.filter(subject_type="cases.case", subject_id=str(case.pk), type__in=types).order_by(
            "pk"
        )
    )


def tick() -> str:
    out = io.StringIO()
    call_command("tick", stdout=out)
    return out.getvalue()


# --- holidays and weekends ------------------------------------------------------------------------


def test_one_working_day_from_the_thursday_before_the_autumn_holidays(world: CaseWorld, clock: Any) -> None:
    # Thursday 24 September: Friday to Sunday are the Mid-Autumn holiday, so 1 工作日 runs to the
    # first working day after it.
    clock.move_to(at(2026, 9, 24, 10, 0))
    case = case_register(case=world.report(), actor=world.dispatcher)
    assert case.due_at == at(2026, 9, 28, 10, 0)
    handling = timer(case, "case_handling")
    assert (handling.due_at, handling.flagged) == (at(2026, 9, 28, 10, 0), False)
    registered = case_types(case, "CASE_REGISTERED")[0]
    assert registered.data["snap"]["due_at"] == "2026-09-28T10:00:00+08:00"


def test_one_working_day_across_national_day(world: CaseWorld, clock: Any) -> None:
    # Wednesday 30 September is the last working day before National Day (1–7 October).
    clock.move_to(at(2026, 9, 30, 10, 0))
    case = case_register(case=world.report(), actor=world.dispatcher)
    assert case.due_at == at(2026, 10, 8, 10, 0)
    # 80 % of the working time (19 h 12 min) is used up on the Thursday after the holiday too.
    assert timer(case, "case_handling").remind_at == at(2026, 10, 8, 5, 12)


def test_five_working_days_count_the_adjusted_saturday(world: CaseWorld, clock: Any) -> None:
    category = category_create(minor="04", name="违法搭建测试", amount=5)
    clock.move_to(at(2026, 9, 30, 10, 0))
    case = case_register(case=world.report(category=category), actor=world.dispatcher)
    # 14 h of 30 September, 8, 9, Saturday 10 (调休上班) and 12 October whole, 10 h of 13 October.
    assert case.due_at == at(2026, 10, 13, 10, 0)


def test_a_weekend_start_counts_from_monday(world: CaseWorld, clock: Any) -> None:
    clock.move_to(at(2026, 3, 7, 15, 0))  # Saturday
    case = case_register(case=world.report(), actor=world.dispatcher)
    assert case.due_at == at(2026, 3, 10, 0, 0)


def test_a_deadline_in_a_year_without_the_official_schedule_is_flagged(world: CaseWorld, clock: Any) -> None:
    # 2027's calendar is not published yet: weekends only, and the timer says so.
    clock.move_to(at(2026, 12, 31, 10, 0))
    case = case_register(case=world.report(), actor=world.dispatcher)
    handling = timer(case, "case_handling")
    assert handling.due_at == at(2027, 1, 1, 10, 0)
    assert handling.flagged is True
    assert handling.unknown_years == [2027]


# --- working hours ----------------------------------------------------------------------------------


def test_working_hour_timers_skip_lunch(world: CaseWorld, clock: Any) -> None:
    clock.move_to(at(2026, 3, 2, 11, 30))
    case = world.report()
    assert timer(case, "case_registration").due_at == at(2026, 3, 2, 14, 30)  # 2 工作时
    clock.move_to(at(2026, 3, 2, 11, 45))
    case = case_register(case=case, actor=world.dispatcher)
    assert timer(case, "case_dispatch").due_at == at(2026, 3, 2, 13, 45)  # 1 工作时
    assert timer(case, "case_registration").state == DeadlineState.MET


def test_working_hour_timers_skip_the_night_and_the_weekend(world: CaseWorld, clock: Any) -> None:
    clock.move_to(at(2026, 3, 6, 16, 30))  # Friday
    case = world.report()
    assert timer(case, "case_registration").due_at == at(2026, 3, 9, 10, 30)  # Monday


def test_working_hour_timers_skip_national_day(world: CaseWorld, clock: Any) -> None:
    clock.move_to(at(2026, 9, 30, 16, 30))
    case = world.report()
    assert timer(case, "case_registration").due_at == at(2026, 10, 8, 10, 30)


def test_a_working_hour_handling_deadline(world: CaseWorld, clock: Any) -> None:
    category = category_create(minor="05", name="道路不洁测试", amount=5, unit=Unit.WORK_HOURS)
    clock.move_to(at(2026, 3, 6, 15, 0))  # Friday: 2 h today, 3 h on Monday morning
    case = case_register(case=world.report(category=category), actor=world.dispatcher)
    assert case.due_at == at(2026, 3, 9, 12, 0)
    # Signed for the same afternoon: the 2 工作时 sign-for timer was met.
    case = case_accept(case=case_dispatch(case=case, actor=world.dispatcher), actor=world.handler)
    assert timer(case, "case_sign_for").state == DeadlineState.MET
    assert case_types(case, "CASE_ACCEPTED")[0].data["on_time"] is True


# --- suspension and extension ---------------------------------------------------------------------


def test_suspension_pauses_the_handling_clock(
    world: CaseWorld, clock: Any, django_capture_on_commit_callbacks: Any
) -> None:
    w = world
    clock.move_to(at(2026, 3, 2, 10, 0))
    case = w.in_hands()
    assert case.due_at == at(2026, 3, 3, 10, 0)
    clock.move_to(at(2026, 3, 2, 14, 0))  # 20 h of the working day left
    case = case_suspend(case=case, actor=w.dispatcher, reason="等待产权单位答复", review_on=date(2026, 3, 5))
    handling = timer(case, "case_handling")
    assert handling.state == DeadlineState.PAUSED
    pause = handling.pauses.get()
    assert (pause.started_at, pause.reason, pause.ended_at) == (
        at(2026, 3, 2, 14, 0),
        "等待产权单位答复",
        None,
    )

    # Past the original due instant while suspended: the tick marks nothing, nothing escalates.
    clock.move_to(at(2026, 3, 4, 10, 0))
    with django_capture_on_commit_callbacks(execute=True):
        tick()
    handling.refresh_from_db()
    assert (handling.state, handling.reminded_at, handling.overdue_at) == (DeadlineState.PAUSED, None, None)
    assert case_types(case, "CASE_DEADLINE_REMINDED", "CASE_DEADLINE_OVERDUE", "CASE_SUPERVISED") == []

    # Resumed on Thursday 09:00: due 20 h of working-day time later.
    clock.move_to(at(2026, 3, 5, 9, 0))
    case = case_resume(case=case, actor=w.handler)
    assert case.due_at == at(2026, 3, 6, 5, 0)
    handling.refresh_from_db()
    assert (handling.state, handling.due_at) == (DeadlineState.RUNNING, at(2026, 3, 6, 5, 0))
    resumed = case_types(case, "CASE_RESUMED")[0]
    assert resumed.data["snap"]["due_at"] == "2026-03-06T05:00:00+08:00"

    # An extension granted after the suspension keeps the paused time out: one more 工作日 from
    # Friday 05:00 runs over the weekend to Monday 05:00.
    case = case_extension_request(case=case, actor=w.handler, amount=1, reason="需协调产权单位")
    case = case_extension_grant(case=case, actor=w.dispatcher)
    assert case.due_at == at(2026, 3, 9, 5, 0)
    handling.refresh_from_db()
    assert (handling.amount, handling.due_at, handling.state) == (Decimal(2), at(2026, 3, 9, 5, 0), "running")
    granted = case_types(case, "CASE_EXTENSION_GRANTED")[0]
    assert granted.data["due_at"] == {"old": "2026-03-06T05:00:00+08:00", "new": "2026-03-09T05:00:00+08:00"}

    # Handled on Friday: on time, because the suspended days did not count.
    clock.move_to(at(2026, 3, 6, 16, 0))
    case = case_handle(case=case, actor=w.handler, result="已清理")
    handling.refresh_from_db()
    assert handling.state == DeadlineState.MET
    assert case_types(case, "CASE_HANDLED")[0].data["on_time"] is True


def test_an_extension_after_the_reminder_brings_a_new_reminder(
    world: CaseWorld, clock: Any, django_capture_on_commit_callbacks: Any
) -> None:
    w = world
    clock.move_to(at(2026, 3, 2, 10, 0))
    case = w.in_hands()
    clock.move_to(at(2026, 3, 3, 6, 0))
    with django_capture_on_commit_callbacks(execute=True):
        tick()
    assert len(case_types(case, "CASE_DEADLINE_REMINDED")) == 1
    case = case_extension_request(case=case, actor=w.handler, amount=1, reason="需要更多时间")
    case = case_extension_grant(case=case, actor=w.dispatcher)
    handling = timer(case, "case_handling")
    assert (handling.due_at, handling.remind_at, handling.reminded_at) == (
        at(2026, 3, 4, 10, 0),
        at(2026, 3, 4, 0, 24),  # 80 % of 2 工作日 = 38 h 24 min
        None,
    )
    clock.move_to(at(2026, 3, 4, 0, 30))
    with django_capture_on_commit_callbacks(execute=True):
        tick()
    assert len(case_types(case, "CASE_DEADLINE_REMINDED")) == 2


# --- reminders and overdue marks through `shequ tick` ----------------------------------------------


def test_reminder_at_eighty_percent_and_overdue_once(
    world: CaseWorld, clock: Any, django_capture_on_commit_callbacks: Any
) -> None:
    w = world
    clock.move_to(at(2026, 3, 2, 10, 0))
    case = w.in_hands()
    handling = timer(case, "case_handling")
    assert handling.remind_at == at(2026, 3, 3, 5, 12)  # 80 % of 24 h = 19 h 12 min

    clock.move_to(at(2026, 3, 3, 5, 11))
    with django_capture_on_commit_callbacks(execute=True):
        tick()
    assert case_types(case, "CASE_DEADLINE_REMINDED") == []

    clock.move_to(at(2026, 3, 3, 5, 12))
    with django_capture_on_commit_callbacks(execute=True):
        out = tick()
    assert "reminded=1 overdue=0" in out
    reminded = case_types(case, "CASE_DEADLINE_REMINDED")
    assert len(reminded) == 1
    assert reminded[0].data["kind"] == "handling"
    assert reminded[0].data["state"] == {"old": "handling", "new": "handling"}
    assert datetime.fromisoformat(reminded[0].data["due_at"]) == at(2026, 3, 3, 10, 0)
    assert Notification.objects.filter(recipient=w.handler, kind="case_deadline_reminded").count() == 1
    assert (
        Notification.objects.filter(recipient=w.department_head, kind="case_deadline_reminded").count() == 1
    )

    # Again, and later before the due instant: nothing new.
    for moment in (at(2026, 3, 3, 5, 12), at(2026, 3, 3, 9, 0), at(2026, 3, 3, 10, 0)):
        clock.move_to(moment)
        with django_capture_on_commit_callbacks(execute=True):
            tick()
    assert len(case_types(case, "CASE_DEADLINE_REMINDED")) == 1
    assert case_types(case, "CASE_DEADLINE_OVERDUE") == []
    assert Notification.objects.filter(kind="case_deadline_reminded").count() == 2

    # Late: marked overdue once, and the first escalation step (ordinary) is issued.
    clock.move_to(at(2026, 3, 3, 10, 20))
    with django_capture_on_commit_callbacks(execute=True):
        out = tick()
    assert "reminded=0 overdue=1" in out
    overdue = case_types(case, "CASE_DEADLINE_OVERDUE")
    assert len(overdue) == 1
    assert overdue[0].data["kind"] == "handling"
    handling.refresh_from_db()
    assert handling.overdue_at == at(2026, 3, 3, 10, 20)
    assert handling.state == DeadlineState.RUNNING  # still running: the unit still has to handle it
    assert Supervision.objects.filter(subject_id=str(case.pk), level="ordinary").count() == 1

    for moment in (at(2026, 3, 3, 10, 21), at(2026, 3, 3, 11, 0)):
        clock.move_to(moment)
        with django_capture_on_commit_callbacks(execute=True):
            tick()
    assert len(case_types(case, "CASE_DEADLINE_OVERDUE")) == 1
    assert Supervision.objects.filter(subject_id=str(case.pk)).count() == 1

    # Handled late: the timer is missed, the event says so.
    clock.move_to(at(2026, 3, 3, 15, 0))
    case = case_handle(case=case, actor=w.handler, result="已清理")
    handling.refresh_from_db()
    assert handling.state == DeadlineState.MISSED
    assert case_types(case, "CASE_HANDLED")[0].data["on_time"] is False


def test_sign_for_timer_reminds_and_goes_overdue(
    world: CaseWorld, clock: Any, django_capture_on_commit_callbacks: Any
) -> None:
    w = world
    clock.move_to(at(2026, 3, 2, 10, 0))
    case = case_dispatch(
        case=case_register(case=w.report(), actor=w.dispatcher), actor=w.dispatcher, org=w.branch
    )
    sign_for = timer(case, "case_sign_for")
    assert (sign_for.remind_at, sign_for.due_at) == (at(2026, 3, 2, 11, 36), at(2026, 3, 2, 12, 0))

    clock.move_to(at(2026, 3, 2, 11, 36))
    with django_capture_on_commit_callbacks(execute=True):
        tick()
    assert [e.data["kind"] for e in case_types(case, "CASE_DEADLINE_REMINDED")] == ["sign_for"]
    clock.move_to(at(2026, 3, 2, 12, 30))
    with django_capture_on_commit_callbacks(execute=True):
        tick()
    assert [e.data["kind"] for e in case_types(case, "CASE_DEADLINE_OVERDUE")] == ["sign_for"]
    # Signing late: the timer is missed and the event says so. The tick's escalation supervised the
    # late sign-for (ordinary, the unit is the one late).
    clock.move_to(at(2026, 3, 2, 13, 30))
    case = case_accept(case=case, actor=w.handler)
    sign_for.refresh_from_db()
    assert sign_for.state == DeadlineState.MISSED
    assert case_types(case, "CASE_ACCEPTED")[0].data["on_time"] is False
    assert case.state == CaseState.HANDLING
    (supervision,) = Supervision.objects.filter(subject_id=str(case.pk))
    assert (supervision.level, supervision.target, supervision.deadline_id) == (
        "ordinary",
        f"org:{w.branch.pk}",
        sign_for.pk,
    )
    assert supervision.reason.startswith("签收超期")
