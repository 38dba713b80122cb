"""The working-day clock: deadline_add and elapsed over the official calendar (DOMAIN.md §3)."""

from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ImproperlyConfigured

from shequ.core.clock import (
    Unit,
    calendar_snapshot,
    deadline_add,
    deadline_add_paused,
    elapsed,
    is_working_day,
)

pytestmark = pytest.mark.django_db

SH = ZoneInfo("Asia/Shanghai")


def at(*args):
    return datetime(*args, tzinfo=SH)


def test_five_working_days_skip_national_day_and_count_the_adjusted_saturday():
    result = deadline_add(at(2026, 9, 30, 10, 0), 5, Unit.WORK_DAYS)
    assert result.due_at == at(2026, 10, 13, 10, 0)
    assert not result.flagged
    assert result.unknown_years == frozenset()


def test_adjusted_saturday_is_a_working_day_and_the_holiday_is_not():
    assert is_working_day(at(2026, 10, 10, 0, 0).date())
    assert not is_working_day(at(2026, 10, 11, 0, 0).date())
    assert not is_working_day(at(2026, 10, 5, 0, 0).date())
    assert is_working_day(at(2026, 10, 9, 0, 0).date())


def test_start_on_a_holiday_counts_from_the_next_working_day_midnight():
    result = deadline_add(at(2026, 10, 3, 15, 0), 1, Unit.WORK_DAYS)
    assert result.due_at == at(2026, 10, 9, 0, 0)


def test_work_days_result_is_returned_in_local_time_for_a_utc_start():
    start_utc = datetime(2026, 9, 30, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
    due = deadline_add(start_utc, 5, Unit.WORK_DAYS).due_at
    assert due == at(2026, 10, 13, 10, 0)
    assert due.utcoffset().total_seconds() == 8 * 3600


def test_work_hours_skip_lunch():
    assert deadline_add(at(2026, 11, 25, 11, 30), 2, Unit.WORK_HOURS).due_at == at(2026, 11, 25, 14, 30)


def test_work_hours_skip_the_night():
    assert deadline_add(at(2026, 11, 25, 16, 30), 2, Unit.WORK_HOURS).due_at == at(2026, 11, 26, 10, 30)


def test_work_hours_skip_a_weekend():
    # Friday 16:30 + 2 工作时 → Monday 10:30.
    assert deadline_add(at(2026, 11, 27, 16, 30), 2, Unit.WORK_HOURS).due_at == at(2026, 11, 30, 10, 30)


def test_work_hours_skip_the_national_day_holiday():
    assert deadline_add(at(2026, 9, 30, 16, 0), 3, Unit.WORK_HOURS).due_at == at(2026, 10, 8, 11, 0)


def test_work_hours_end_at_the_window_end_not_after_lunch():
    assert deadline_add(at(2026, 11, 25, 10, 0), 2, Unit.WORK_HOURS).due_at == at(2026, 11, 25, 12, 0)


def test_work_hours_started_at_night_begin_next_morning():
    assert deadline_add(at(2026, 11, 25, 22, 0), 5, Unit.WORK_HOURS).due_at == at(2026, 11, 26, 15, 0)


def test_working_hours_are_configurable(settings):
    settings.SHEQU_WORKING_HOURS = "08:30-17:30"
    assert deadline_add(at(2026, 11, 25, 16, 30), 2, Unit.WORK_HOURS).due_at == at(2026, 11, 26, 9, 30)


def test_unreadable_working_hours_are_a_configuration_error(settings):
    settings.SHEQU_WORKING_HOURS = "13:00-12:00"
    with pytest.raises(ImproperlyConfigured):
        deadline_add(at(2026, 11, 25, 9, 0), 1, Unit.WORK_HOURS)


def test_hours_ignore_the_calendar():
    result = deadline_add(at(2026, 9, 30, 10, 0), 48, Unit.HOURS)
    assert result.due_at == at(2026, 10, 2, 10, 0)
    assert not result.flagged


def test_calendar_days_ignore_the_calendar():
    result = deadline_add(at(2026, 9, 30, 10, 0), 5, Unit.CALENDAR_DAYS)
    assert result.due_at == at(2026, 10, 5, 10, 0)
    assert not result.flagged


def test_hours_and_calendar_days_into_an_unknown_year_are_not_flagged():
    assert not deadline_add(at(2026, 12, 30, 10, 0), 60, Unit.CALENDAR_DAYS).flagged
    assert not deadline_add(at(2026, 12, 30, 10, 0), 200, Unit.HOURS).flagged


def test_a_2027_deadline_uses_weekends_only_and_is_flagged():
    # Monday 2027-01-04 10:00 + 5 工作日: 14 h of Monday, Tuesday–Friday whole, 10 h of Monday 11th.
    result = deadline_add(at(2027, 1, 4, 10, 0), 5, Unit.WORK_DAYS)
    assert result.due_at == at(2027, 1, 11, 10, 0)
    assert result.flagged
    assert result.unknown_years == frozenset({2027})


def test_a_deadline_that_crosses_into_an_unknown_year_is_flagged():
    # 2027-01-01 is a Friday; without the official calendar it counts as a working day.
    result = deadline_add(at(2026, 12, 31, 10, 0), 1, Unit.WORK_DAYS)
    assert result.due_at == at(2027, 1, 1, 10, 0)
    assert result.unknown_years == frozenset({2027})


def test_a_deadline_ending_at_the_end_of_the_known_year_is_not_flagged():
    result = deadline_add(at(2026, 12, 31, 0, 0), 1, Unit.WORK_DAYS)
    assert result.due_at == at(2027, 1, 1, 0, 0)
    assert not result.flagged


def test_decimal_amounts_are_exact():
    assert deadline_add(at(2026, 11, 23, 0, 0), Decimal("0.5"), Unit.WORK_DAYS).due_at == at(
        2026, 11, 23, 12, 0
    )
    assert deadline_add(at(2026, 11, 23, 9, 0), Decimal("1.25"), Unit.WORK_HOURS).due_at == at(
        2026, 11, 23, 10, 15
    )


def test_zero_amount_is_the_start():
    assert deadline_add(at(2026, 10, 3, 15, 0), 0, Unit.WORK_DAYS).due_at == at(2026, 10, 3, 15, 0)


@pytest.mark.parametrize("bad", [-1, Decimal("-0.5")])
def test_negative_amounts_are_refused(bad):
    with pytest.raises(ValueError, match="negative"):
        deadline_add(at(2026, 11, 23, 9, 0), bad, Unit.WORK_DAYS)


def test_float_amounts_are_refused():
    with pytest.raises(TypeError):
        deadline_add(at(2026, 11, 23, 9, 0), 1.5, Unit.WORK_DAYS)


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError, match="aware"):
        deadline_add(datetime(2026, 11, 23, 9, 0), 1, Unit.WORK_DAYS)  # noqa: DTZ001


def test_elapsed_work_days_over_the_holiday():
    assert elapsed(at(2026, 9, 30, 10, 0), at(2026, 10, 13, 10, 0), Unit.WORK_DAYS) == 5


def test_elapsed_work_hours_leave_out_lunch_and_night():
    assert elapsed(at(2026, 11, 25, 11, 30), at(2026, 11, 26, 10, 30), Unit.WORK_HOURS) == Decimal("6")


def test_elapsed_is_zero_when_end_is_not_after_start():
    assert elapsed(at(2026, 11, 25, 11, 30), at(2026, 11, 25, 11, 30), Unit.WORK_HOURS) == 0
    assert elapsed(at(2026, 11, 26, 11, 30), at(2026, 11, 25, 11, 30), Unit.HOURS) == 0


def test_elapsed_leaves_out_pauses_and_counts_overlaps_once():
    start, end = at(2026, 11, 23, 0, 0), at(2026, 11, 28, 0, 0)  # Monday to Saturday: 5 working days
    pauses = [
        (at(2026, 11, 24, 0, 0), at(2026, 11, 25, 12, 0)),
        (at(2026, 11, 25, 0, 0), at(2026, 11, 26, 0, 0)),  # overlaps the first
    ]
    assert elapsed(start, end, Unit.WORK_DAYS, pauses) == 3


def test_elapsed_with_an_open_pause_counts_nothing_after_it():
    start, end = at(2026, 11, 23, 0, 0), at(2026, 11, 28, 0, 0)
    assert elapsed(start, end, Unit.WORK_DAYS, [(at(2026, 11, 25, 0, 0), None)]) == 2


def test_paused_deadline_moves_by_the_paused_working_time():
    start = at(2026, 11, 2, 9, 0)  # Monday
    plain = deadline_add(start, 5, Unit.WORK_DAYS).due_at
    paused = deadline_add_paused(
        start, 5, Unit.WORK_DAYS, [(at(2026, 11, 3, 10, 0), at(2026, 11, 5, 10, 0))]
    ).due_at
    assert plain == at(2026, 11, 9, 9, 0)
    assert paused == at(2026, 11, 11, 9, 0)
    assert elapsed(plain, paused, Unit.WORK_DAYS) == 2


def test_a_pause_after_the_due_instant_does_not_move_it():
    start = at(2026, 11, 2, 9, 0)
    result = deadline_add_paused(start, 1, Unit.WORK_DAYS, [(at(2026, 11, 10, 0, 0), at(2026, 11, 20, 0, 0))])
    assert result.due_at == at(2026, 11, 3, 9, 0)


def test_the_calendar_is_loaded_once_and_then_checked_with_one_query(django_assert_num_queries):
    deadline_add(at(2026, 1, 5, 9, 0), 3, Unit.WORK_DAYS)
    with django_assert_num_queries(1):
        # 250 working days across the Spring Festival, Labour Day and National Day.
        result = deadline_add(at(2026, 1, 5, 9, 0), 240, Unit.WORK_DAYS)
    assert not result.flagged
    with django_assert_num_queries(1):
        elapsed(at(2026, 1, 5, 9, 0), result.due_at, Unit.WORK_DAYS)


def test_hours_need_no_query_at_all(django_assert_num_queries):
    with django_assert_num_queries(0):
        deadline_add(at(2026, 1, 5, 9, 0), 3, Unit.HOURS)
        deadline_add(at(2026, 1, 5, 9, 0), 3, Unit.CALENDAR_DAYS)


def test_snapshot_is_reused_while_the_calendar_is_unchanged():
    assert calendar_snapshot() is calendar_snapshot()
