"""The reminder handlers and queues around the clock: the resident is reminded to answer, the
grid worker's queue lists the small matters of their committee."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine

from shequ.cases.models import CaseState
from shequ.cases.selectors import handler_queue
from shequ.cases.services_transitions import case_handle, case_register, case_self_handle
from shequ.cases.tests.factories import case_world
from shequ.core.models import Notification
from shequ.core.services_clock import deadlines_tick

pytestmark = pytest.mark.django_db

SH = ZoneInfo("Asia/Shanghai")


def test_confirmation_reminder_goes_to_the_residents_with_the_answer_link(
    django_capture_on_commit_callbacks: Any,
) -> None:
    w = case_world()
    # Monday 2 March 2026, 10:00: a small matter, handled by the committee, no check → confirming.
    with time_machine.travel(datetime(2026, 3, 2, 10, 0, tzinfo=SH), tick=False) as clock:
        case = case_register(case=w.report(category=w.small_matter), actor=w.committee_worker)
        case = case_self_handle(case=case, actor=w.committee_worker)
        case = case_handle(case=case, actor=w.committee_worker, result="已调解")
        assert case.state == CaseState.CONFIRMING
        # 3 工作日 to answer (due Thursday 10:00): 80 % is used up on Wednesday 4 March at 19:36.
        clock.move_to(datetime(2026, 3, 4, 20, 0, tzinfo=SH))
        with django_capture_on_commit_callbacks(execute=True):
            deadlines_tick()
    reminders = Notification.objects.filter(kind="case_confirm_reminded")
    assert {n.recipient_id for n in reminders if n.recipient_id} == {w.resident.pk}
    assert all("/cases/feedback/" in n.link for n in reminders)
    # The handler is not reminded of a wait that is the resident's.
    assert not Notification.objects.filter(kind="case_deadline_reminded").exists()


def test_grid_worker_queue_lists_the_small_matters_routed_to_their_committee() -> None:
    w = case_world()
    case = case_register(case=w.report(category=w.small_matter), actor=w.committee_worker)
    case = case_self_handle(case=case, actor=w.committee_worker)
    assert list(handler_queue(w.grid_worker)) == [case]
    assert list(handler_queue(w.committee_worker)) == [case]
    # A department handler's queue holds only what went to their organisation.
    assert list(handler_queue(w.handler)) == []
