"""``calendar_pinned``: a service computing several instants reads the calendar version once."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from shequ.core.clock import calendar_pinned, calendar_snapshot, deadline_add
from shequ.core.models import Unit

SH = ZoneInfo("Asia/Shanghai")

pytestmark = pytest.mark.django_db


def test_a_pinned_calendar_reads_the_version_once(django_assert_num_queries):
    calendar_snapshot()  # warm the per-process cache
    start = datetime(2026, 9, 30, 10, 0, tzinfo=SH)
    with django_assert_num_queries(1), calendar_pinned():
        first = deadline_add(start, 1, Unit.WORK_DAYS)
        second = deadline_add(start, 2, Unit.WORK_HOURS)
    # 30 September 2026 is the last working day before National Day (1–7 October):
    # one 工作日 lands on 8 October.
    assert first.due_at == datetime(2026, 10, 8, 10, 0, tzinfo=SH)
    assert second.due_at == datetime(2026, 9, 30, 12, 0, tzinfo=SH)
    # Outside the block every computation checks the version again.
    with django_assert_num_queries(1):
        deadline_add(start, 1, Unit.WORK_DAYS)
