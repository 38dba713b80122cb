"""Pausable deadlines: start, pause, resume, meet, cancel (ARCHITECTURE.md "Clock")."""

from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import IntegrityError, transaction

from shequ.accounts.models import User
from shequ.core.clock import Unit, elapsed
from shequ.core.errors import ApiError
from shequ.core.events import events_for_subject
from shequ.core.models import Deadline, DeadlinePause, DeadlineState
from shequ.core.services_clock import (
    deadline_cancel,
    deadline_meet,
    deadline_pause,
    deadline_resume,
    deadline_start,
    deadlines_for_subject,
)

pytestmark = pytest.mark.django_db

SH = ZoneInfo("Asia/Shanghai")


def at(*args):
    return datetime(*args, tzinfo=SH)


@pytest.fixture
def actor():
    return User.objects.create_user(username="handler", password="x" * 16)


@pytest.fixture
def subject():
    # Any model instance can carry a deadline; a user row stands in for a case here.
    return User.objects.create_user(username="subject", password="x" * 16)


@pytest.fixture
def deadline(subject, actor):
    # Monday 2026-11-02 09:00 + 5 工作日 → Monday 2026-11-09 09:00.
    return deadline_start(
        subject=subject,
        kind="handling",
        amount=5,
        unit=Unit.WORK_DAYS,
        actor=actor,
        started_at=at(2026, 11, 2, 9, 0),
        scope_path="310000000000/310101000000",
    )


def test_start_computes_due_and_reminder_and_records_an_event(deadline, subject, actor):
    assert deadline.state == DeadlineState.RUNNING
    assert (deadline.subject_type, deadline.subject_id) == ("accounts.user", str(subject.pk))
    assert deadline.due_at == at(2026, 11, 9, 9, 0)
    assert deadline.remind_at == at(2026, 11, 6, 9, 0)  # 4 of 5 working days
    assert not deadline.flagged
    [event] = events_for_subject(subject)
    assert event.type == "DEADLINE_STARTED"
    assert event.actor == actor
    assert event.scope_path == "310000000000/310101000000"
    assert event.data["deadline"] == deadline.pk
    assert event.data["kind"] == "handling"
    assert list(deadlines_for_subject(subject)) == [deadline]


def test_start_over_an_unknown_year_is_flagged(subject, actor):
    deadline = deadline_start(
        subject=subject,
        kind="handling",
        amount=5,
        unit=Unit.WORK_DAYS,
        actor=actor,
        started_at=at(2026, 12, 28, 9, 0),
    )
    assert deadline.flagged
    assert deadline.unknown_years == [2027]


def test_start_refuses_a_zero_amount(subject, actor):
    with pytest.raises(ApiError) as refused:
        deadline_start(subject=subject, kind="handling", amount=0, unit=Unit.WORK_DAYS, actor=actor)
    assert refused.value.field == "amount"


def test_a_pause_of_two_working_days_moves_due_by_exactly_two_working_days(deadline, actor):
    paused = deadline_pause(
        deadline=deadline, reason="挂账：等待施工许可", actor=actor, at=at(2026, 11, 3, 10, 0)
    )
    assert paused.state == DeadlineState.PAUSED
    resumed = deadline_resume(deadline=deadline, actor=actor, at=at(2026, 11, 5, 10, 0))
    assert resumed.state == DeadlineState.RUNNING
    assert resumed.due_at == at(2026, 11, 11, 9, 0)
    assert elapsed(at(2026, 11, 9, 9, 0), resumed.due_at, Unit.WORK_DAYS) == 2
    assert (
        elapsed(
            resumed.started_at,
            resumed.due_at,
            Unit.WORK_DAYS,
            [(at(2026, 11, 3, 10, 0), at(2026, 11, 5, 10, 0))],
        )
        == 5
    )
    pause = DeadlinePause.objects.get(deadline=deadline)
    assert (pause.reason, pause.actor, pause.resumed_by) == ("挂账：等待施工许可", actor, actor)


def test_a_pause_over_a_weekend_does_not_move_a_working_day_deadline(deadline, actor):
    deadline_pause(deadline=deadline, reason="等待居民", actor=actor, at=at(2026, 11, 7, 8, 0))  # Saturday
    resumed = deadline_resume(deadline=deadline, actor=actor, at=at(2026, 11, 8, 20, 0))  # Sunday
    assert resumed.due_at == at(2026, 11, 9, 9, 0)


def test_several_pauses_add_up(deadline, actor):
    deadline_pause(deadline=deadline, reason="听证", actor=actor, at=at(2026, 11, 3, 0, 0))
    deadline_resume(deadline=deadline, actor=actor, at=at(2026, 11, 4, 0, 0))
    deadline_pause(deadline=deadline, reason="听证第二轮", actor=actor, at=at(2026, 11, 5, 12, 0))
    resumed = deadline_resume(deadline=deadline, actor=actor, at=at(2026, 11, 6, 0, 0))
    assert resumed.due_at == at(2026, 11, 10, 21, 0)


def test_work_hour_deadline_pause_excludes_only_working_minutes(subject, actor):
    deadline = deadline_start(
        subject=subject,
        kind="sign_for",
        amount=4,
        unit=Unit.WORK_HOURS,
        actor=actor,
        started_at=at(2026, 11, 25, 9, 0),
    )
    assert deadline.due_at == at(2026, 11, 25, 14, 0)
    deadline_pause(deadline=deadline, reason="等待居民提供材料", actor=actor, at=at(2026, 11, 25, 11, 0))
    resumed = deadline_resume(deadline=deadline, actor=actor, at=at(2026, 11, 25, 16, 0))
    # 2 工作时 used before the pause; 2 left from 16:00: one today, one tomorrow morning.
    assert resumed.due_at == at(2026, 11, 26, 10, 0)


def test_pause_needs_a_reason(deadline, actor):
    with pytest.raises(ApiError) as refused:
        deadline_pause(deadline=deadline, reason="  ", actor=actor, at=at(2026, 11, 3, 10, 0))
    assert refused.value.field == "reason"
    deadline.refresh_from_db()
    assert deadline.state == DeadlineState.RUNNING


def test_transitions_outside_their_state_are_refused(deadline, actor):
    with pytest.raises(ApiError) as refused:
        deadline_resume(deadline=deadline, actor=actor, at=at(2026, 11, 3, 10, 0))
    assert refused.value.http_status == 409
    deadline_pause(deadline=deadline, reason="挂账", actor=actor, at=at(2026, 11, 3, 10, 0))
    with pytest.raises(ApiError):
        deadline_pause(deadline=deadline, reason="again", actor=actor, at=at(2026, 11, 3, 11, 0))
    deadline_cancel(deadline=deadline, actor=actor, reason="并单", at=at(2026, 11, 4, 10, 0))
    with pytest.raises(ApiError):
        deadline_meet(deadline=deadline, actor=actor, at=at(2026, 11, 4, 11, 0))


def test_pause_before_the_start_is_refused(deadline, actor):
    with pytest.raises(ApiError) as refused:
        deadline_pause(deadline=deadline, reason="挂账", actor=actor, at=at(2026, 11, 1, 10, 0))
    assert refused.value.field == "at"


def test_meeting_at_the_due_instant_is_met(deadline, actor):
    met = deadline_meet(deadline=deadline, actor=actor, at=at(2026, 11, 9, 9, 0))
    assert (met.state, met.ended_at) == (DeadlineState.MET, at(2026, 11, 9, 9, 0))


def test_meeting_after_the_due_instant_is_missed(deadline, actor, subject):
    missed = deadline_meet(deadline=deadline, actor=actor, at=at(2026, 11, 9, 9, 1))
    assert missed.state == DeadlineState.MISSED
    assert [e.type for e in events_for_subject(subject)] == ["DEADLINE_STARTED", "DEADLINE_MISSED"]


def test_meeting_a_paused_deadline_closes_the_pause(deadline, actor):
    deadline_pause(deadline=deadline, reason="挂账", actor=actor, at=at(2026, 11, 3, 10, 0))
    met = deadline_meet(deadline=deadline, actor=actor, at=at(2026, 11, 20, 10, 0))
    assert (
        met.state == DeadlineState.MISSED
    )  # due_at is kept while paused; the caller resumes first to re-time
    assert DeadlinePause.objects.get(deadline=deadline).ended_at == at(2026, 11, 20, 10, 0)


def test_every_transition_writes_an_event_on_the_subject(deadline, actor, subject):
    deadline_pause(deadline=deadline, reason="听证", actor=actor, at=at(2026, 11, 3, 10, 0))
    deadline_resume(deadline=deadline, actor=actor, at=at(2026, 11, 4, 10, 0))
    deadline_cancel(deadline=deadline, actor=actor, reason="撤回", at=at(2026, 11, 4, 11, 0))
    events = list(events_for_subject(subject))
    assert [e.type for e in events] == [
        "DEADLINE_STARTED",
        "DEADLINE_PAUSED",
        "DEADLINE_RESUMED",
        "DEADLINE_CANCELLED",
    ]
    assert events[1].data["reason"] == "听证"
    assert events[2].data["due_at"] == {
        "old": at(2026, 11, 9, 9, 0).isoformat(),
        "new": at(2026, 11, 10, 9, 0).isoformat(),
    }
    assert events[3].data["reason"] == "撤回"


def test_the_database_refuses_an_unknown_state(deadline):
    with pytest.raises(IntegrityError), transaction.atomic():
        Deadline.objects.filter(pk=deadline.pk).update(state="forgotten")


def test_the_database_refuses_two_open_pauses(deadline, actor):
    DeadlinePause.objects.create(
        deadline=deadline, started_at=at(2026, 11, 3, 10, 0), reason="a", actor=actor
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        DeadlinePause.objects.create(
            deadline=deadline, started_at=at(2026, 11, 3, 11, 0), reason="b", actor=actor
        )


def test_decimal_amounts_are_stored_exactly(subject, actor):
    deadline = deadline_start(
        subject=subject,
        kind="handling",
        amount=Decimal("1.5"),
        unit=Unit.WORK_DAYS,
        actor=actor,
        started_at=at(2026, 11, 2, 0, 0),
    )
    deadline.refresh_from_db()
    assert deadline.amount == Decimal("1.5")
    assert deadline.due_at == at(2026, 11, 3, 12, 0)
