"""elapsed() is the inverse of deadline_add() for every unit, over many starts (deterministic)."""

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from shequ.core.clock import Unit, deadline_add, deadline_add_paused, elapsed

pytestmark = pytest.mark.django_db

SH = ZoneInfo("Asia/Shanghai")
AMOUNTS = [1, 2, 3, 5, 8, 13, Decimal("0.5"), Decimal("2.25")]


def _starts():
    # Every 7 h 13 min from mid-September 2026 into January 2027: working days, nights, weekends,
    # lunch breaks, the Mid-autumn and National Day holidays, the adjusted Saturday and the unknown 2027.
    start = datetime(2026, 9, 15, 0, 7, tzinfo=SH)
    step = timedelta(hours=7, minutes=13)
    for i in range(400):
        yield start + i * step


@pytest.mark.parametrize("unit", list(Unit))
def test_elapsed_from_start_to_due_is_the_amount(unit):
    checked = 0
    for i, start in enumerate(_starts()):
        amount = AMOUNTS[i % len(AMOUNTS)]
        due = deadline_add(start, amount, unit).due_at
        assert due >= start
        assert elapsed(start, due, unit) == amount, (start, amount, unit)
        checked += 1
    assert checked == 400


@pytest.mark.parametrize("unit", list(Unit))
def test_due_is_the_earliest_instant_with_the_full_amount(unit):
    one_minute = timedelta(minutes=1)
    for i, start in enumerate(_starts()):
        amount = AMOUNTS[i % len(AMOUNTS)]
        due = deadline_add(start, amount, unit).due_at
        assert elapsed(start, due - one_minute, unit) < amount


@pytest.mark.parametrize("unit", [Unit.WORK_DAYS, Unit.WORK_HOURS])
def test_paused_deadlines_exclude_exactly_the_paused_working_time(unit):
    for i, start in enumerate(list(_starts())[::5]):
        amount = AMOUNTS[i % len(AMOUNTS)]
        pause = (start + timedelta(hours=5), start + timedelta(hours=5 + 31 + i % 50))
        due = deadline_add_paused(start, amount, unit, [pause]).due_at
        assert elapsed(start, due, unit, [pause]) == amount, (start, amount, unit)
