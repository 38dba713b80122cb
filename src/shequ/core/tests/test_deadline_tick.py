"""The periodic tick: reminders at 80 %, overdue at 100 %, each marked once."""

from datetime import datetime
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command

from shequ.accounts.models import User
from shequ.core.clock import Unit
from shequ.core.models import Deadline, Event
from shequ.core.services_clock import (
    _HANDLERS,
    deadline_handler_register,
    deadline_meet,
    deadline_pause,
    deadline_start,
    deadlines_due_for_reminder,
    deadlines_overdue,
    deadlines_tick,
)

pytestmark = pytest.mark.django_db

SH = ZoneInfo("Asia/Shanghai")


def at(*args):
    return datetime(*args, tzinfo=SH)


@pytest.fixture
def subject():
    return User.objects.create_user(username="subject", password="x" * 16)


@pytest.fixture
def deadline(subject):
    # Monday 2026-11-02 09:00 + 5 工作日: reminder Friday 11-06 09:00, due Monday 11-09 09:00.
    return deadline_start(
        subject=subject,
        kind="handling",
        amount=5,
        unit=Unit.WORK_DAYS,
        actor=None,
        started_at=at(2026, 11, 2, 9, 0),
    )


@pytest.fixture
def handlers():
    saved = {key: list(value) for key, value in _HANDLERS.items()}
    yield
    _HANDLERS.clear()
    _HANDLERS.update(saved)


def test_nothing_is_due_before_eighty_percent(deadline):
    result = deadlines_tick(now=at(2026, 11, 6, 8, 59))
    assert not result
    assert not deadlines_due_for_reminder(at(2026, 11, 6, 8, 59)).exists()


def test_the_reminder_is_marked_once(deadline, subject):
    now = at(2026, 11, 6, 9, 0)
    assert list(deadlines_due_for_reminder(now)) == [deadline]
    first = deadlines_tick(now=now)
    assert [d.pk for d in first.reminded] == [deadline.pk]
    assert first.overdue == []
    second = deadlines_tick(now=now)
    assert not second
    third = deadlines_tick(now=at(2026, 11, 6, 15, 0))
    assert not third
    deadline.refresh_from_db()
    assert deadline.reminded_at == now
    assert Event.objects.filter(subject_id=str(subject.pk), type="DEADLINE_REMINDED").count() == 1


def test_overdue_is_marked_once_after_the_due_instant(deadline, subject):
    assert not deadlines_tick(now=at(2026, 11, 9, 9, 0)).overdue  # at the due instant it is not yet late
    now = at(2026, 11, 9, 9, 1)
    assert list(deadlines_overdue(now)) == [deadline]
    result = deadlines_tick(now=now)
    assert [d.pk for d in result.overdue] == [deadline.pk]
    assert result.reminded == []  # an overdue timer gets the overdue mark, not a late reminder
    assert not deadlines_tick(now=now)
    assert not deadlines_tick(now=at(2026, 11, 20, 9, 0))
    deadline.refresh_from_db()
    assert deadline.overdue_at == now
    events = Event.objects.filter(subject_id=str(subject.pk), type="DEADLINE_OVERDUE")
    assert events.count() == 1
    assert events.get().data["deadline"] == deadline.pk


def test_the_tick_runs_with_the_current_time_when_none_is_given(deadline):
    with time_machine.travel(at(2026, 11, 6, 10, 0), tick=False):
        result = deadlines_tick()
    assert [d.pk for d in result.reminded] == [deadline.pk]


def test_paused_and_finished_deadlines_are_left_alone(subject):
    paused = deadline_start(
        subject=subject,
        kind="handling",
        amount=1,
        unit=Unit.WORK_DAYS,
        actor=None,
        started_at=at(2026, 11, 2, 9, 0),
    )
    deadline_pause(deadline=paused, reason="挂账", actor=None, at=at(2026, 11, 2, 10, 0))
    met = deadline_start(
        subject=subject,
        kind="sign_for",
        amount=1,
        unit=Unit.WORK_HOURS,
        actor=None,
        started_at=at(2026, 11, 2, 9, 0),
    )
    deadline_meet(deadline=met, actor=None, at=at(2026, 11, 2, 9, 30))
    assert not deadlines_tick(now=at(2026, 12, 1, 9, 0))
    assert Deadline.objects.filter(reminded_at__isnull=False).count() == 0


def test_registered_handlers_run_after_commit(deadline, handlers, django_capture_on_commit_callbacks):
    seen = []
    deadline_handler_register(
        kind="handling", event="overdue", handler=lambda d: seen.append(("overdue", d.pk))
    )
    deadline_handler_register(
        kind="handling", event="reminded", handler=lambda d: seen.append(("reminded", d.pk))
    )
    deadline_handler_register(
        kind="sign_for", event="overdue", handler=lambda d: seen.append(("other", d.pk))
    )
    with django_capture_on_commit_callbacks(execute=True):
        deadlines_tick(now=at(2026, 11, 6, 9, 0))
        assert seen == []  # nothing before commit
    assert seen == [("reminded", deadline.pk)]
    with django_capture_on_commit_callbacks(execute=True):
        deadlines_tick(now=at(2026, 11, 10, 9, 0))
    assert seen == [("reminded", deadline.pk), ("overdue", deadline.pk)]


def test_the_tick_command_reports_what_it_marked(deadline):
    out = StringIO()
    with time_machine.travel(at(2026, 11, 10, 9, 0), tick=False):
        call_command("tick", stdout=out)
        call_command("tick", stdout=out)
    deadline_lines = [line for line in out.getvalue().splitlines() if line.startswith("reminded=")]
    assert deadline_lines == ["reminded=0 overdue=1", "reminded=0 overdue=0"]
