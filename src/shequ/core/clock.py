"""The working-day clock: the one deadline engine every workflow uses (DOMAIN.md §3).

Units (``Unit``):

- ``HOURS`` (小时) and ``CALENDAR_DAYS`` (自然日) ignore the calendar: N 小时 is N × 60 minutes of
  elapsed time, N 自然日 is the same local time of day N dates later.
- ``WORK_DAYS`` (工作日) count *working-day time*: every working day contributes its whole 24 hours,
  every other day nothing. N 工作日 from an instant is the first instant at which N × 24 hours of
  working-day time have passed since it. So 5 工作日 from Wednesday 2026-09-30 10:00 is due Tuesday
  2026-10-13 10:00: 14 hours of 30 September, nothing for the National Day holiday 1–7 October,
  8, 9 and the adjusted working Saturday 10 October whole, nothing for Sunday 11 October, 12 October
  whole and the first 10 hours of 13 October. A start on a non-working day starts counting at
  00:00 of the next working day; a deadline that ends exactly at the end of a working day is due at
  00:00 of the following date.
- ``WORK_HOURS`` (工作时) count only the minutes inside the working-hour windows
  (``settings.SHEQU_WORKING_HOURS``, default ``09:00-12:00,13:00-17:00``) of working days, so lunch,
  nights and non-working days do not count: 2 工作时 from 11:30 on a working day is due at 14:30; from
  16:30 it is due at 10:30 on the next working day. A deadline that ends exactly at the end of a
  window is due then (12:00, not 13:00).

A working day is a weekday that is not a holiday, or an adjusted working day (调休上班, e.g.
Saturday 2026-10-10). Holidays and adjusted working days come from ``CalendarDay`` rows; a year
without a ``CalendarYear`` row has no official schedule yet, so its dates fall back to the weekday
rule and any result that looked at them is flagged (``DeadlineResult.flagged`` and
``unknown_years``).

All instants are aware datetimes; the arithmetic is done in local time (``settings.TIME_ZONE``,
Asia/Shanghai) and results are returned aware in that zone. Amounts may be ``int`` or ``Decimal``
and are exact to the microsecond.

The calendar is loaded once per process into sets and kept under its revision token
(``core.revisions``: the tokens are read once per request), reloaded only after a calendar edit.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from typing import Final
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from .models.calendar import CalendarDay, CalendarDayKind, CalendarYear, Unit
from .revisions import RevisionCache

__all__ = [
    "CalendarSnapshot",
    "DeadlineResult",
    "Unit",
    "calendar_snapshot",
    "deadline_add",
    "deadline_add_paused",
    "elapsed",
    "is_working_day",
    "working_windows",
]

Pause = tuple[datetime, datetime | None]

_US_PER_HOUR = 3_600_000_000
_US_PER_DAY = 24 * _US_PER_HOUR
_UNIT_US = {
    Unit.WORK_HOURS: _US_PER_HOUR,
    Unit.WORK_DAYS: _US_PER_DAY,
    Unit.HOURS: _US_PER_HOUR,
    Unit.CALENDAR_DAYS: _US_PER_DAY,
}
# A walk that finds no working time in this many days is a configuration error, not a deadline.
_MAX_EMPTY_DAYS = 366 * 2


@dataclass(frozen=True)
class DeadlineResult:
    due_at: datetime
    flagged: bool = False
    unknown_years: frozenset[int] = field(default_factory=frozenset)


# --- The calendar in memory ---------------------------------------------------------------------


@dataclass(frozen=True)
class CalendarSnapshot:
    holidays: frozenset[date]
    workdays: frozenset[date]
    known_years: frozenset[int]

    def is_working_day(self, day: date) -> bool:
        if day in self.workdays:
            return True
        if day in self.holidays:
            return False
        return day.weekday() < 5

    def is_known(self, year: int) -> bool:
        return year in self.known_years


CALENDAR_REVISION: Final = "core.calendar"


def _load() -> CalendarSnapshot:
    holidays: set[date] = set()
    workdays: set[date] = set()
    for day, kind in CalendarDay.objects.values_list("date", "kind"):
        (workdays if kind == CalendarDayKind.ADJUSTED_WORKDAY else holidays).add(day)
    years = frozenset(CalendarYear.objects.values_list("year", flat=True))
    return CalendarSnapshot(holidays=frozenset(holidays), workdays=frozenset(workdays), known_years=years)


# The calendar as loaded, kept per process under its revision token (``core.revisions``).
_calendar: RevisionCache[CalendarSnapshot] = RevisionCache((CALENDAR_REVISION,), _load)


_pinned: ContextVar[CalendarSnapshot | None] = ContextVar("shequ_calendar_pinned", default=None)


@contextmanager
def calendar_pinned() -> Iterator[CalendarSnapshot]:
    """Within the block every clock computation uses one calendar snapshot: one token read for a
    service that computes several instants (a timer's due and reminder times, several stage timers)."""
    current = _pinned.get()
    if current is not None:
        yield current
        return
    snapshot = calendar_snapshot()
    reset = _pinned.set(snapshot)
    try:
        yield snapshot
    finally:
        _pinned.reset(reset)


def calendar_snapshot() -> CalendarSnapshot:
    """The calendar as the database holds it now: reloaded only after an edit."""
    pinned = _pinned.get()
    return pinned if pinned is not None else _calendar.get()


def is_working_day(day: date) -> bool:
    return calendar_snapshot().is_working_day(day)


# --- Working hours -----------------------------------------------------------------------------


def _parse_clock(text: str) -> int:
    hours, _, minutes = text.strip().partition(":")
    h, m = int(hours), int(minutes or 0)
    if not (0 <= m < 60 and (0 <= h < 24 or (h == 24 and m == 0))):
        raise ValueError(text)
    return h * _US_PER_HOUR + m * 60_000_000


@lru_cache(maxsize=8)
def _parse_windows(spec: str) -> tuple[tuple[int, int], ...]:
    windows: list[tuple[int, int]] = []
    try:
        for part in spec.split(","):
            if not part.strip():
                continue
            start_text, _, end_text = part.partition("-")
            windows.append((_parse_clock(start_text), _parse_clock(end_text)))
    except ValueError as exc:
        raise ImproperlyConfigured(f"SHEQU_WORKING_HOURS: cannot read {spec!r}") from exc
    windows.sort()
    if not windows or any(a >= b for a, b in windows):
        raise ImproperlyConfigured(f"SHEQU_WORKING_HOURS: empty or reversed window in {spec!r}")
    if any(windows[i][1] > windows[i + 1][0] for i in range(len(windows) - 1)):
        raise ImproperlyConfigured(f"SHEQU_WORKING_HOURS: overlapping windows in {spec!r}")
    return tuple(windows)


def working_windows() -> tuple[tuple[int, int], ...]:
    """The working-hour windows of a working day, as microsecond offsets from local midnight."""
    return _parse_windows(settings.SHEQU_WORKING_HOURS)


_WHOLE_DAY: tuple[tuple[int, int], ...] = ((0, _US_PER_DAY),)


def _windows_for(unit: Unit) -> tuple[tuple[int, int], ...]:
    return working_windows() if unit == Unit.WORK_HOURS else _WHOLE_DAY


# --- Conversions -------------------------------------------------------------------------------


def _zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def _local(instant: datetime) -> datetime:
    """Naive local wall time of an aware instant."""
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError("the clock works with aware datetimes only")
    return instant.astimezone(_zone()).replace(tzinfo=None)


def _aware(local: datetime) -> datetime:
    return local.replace(tzinfo=_zone())


def _amount_us(amount: int | Decimal, unit: Unit) -> int:
    if isinstance(amount, float):
        raise TypeError("deadline amounts are int or Decimal, never float")
    value = Decimal(amount)
    if value < 0:
        raise ValueError("a deadline amount cannot be negative")
    return int((value * _UNIT_US[Unit(unit)]).to_integral_value(rounding=ROUND_HALF_UP))


def _offset_us(local: datetime) -> int:
    return (local.hour * 3600 + local.minute * 60 + local.second) * 1_000_000 + local.microsecond


def _at(day: date, offset_us: int) -> datetime:
    return datetime.combine(day, time()) + timedelta(microseconds=offset_us)


# --- The walk over days ------------------------------------------------------------------------


def _walk_add(
    start: datetime, amount_us: int, unit: Unit, cal: CalendarSnapshot, unknown: set[int]
) -> datetime:
    """Naive local instant at which ``amount_us`` of working time has passed since ``start``."""
    if amount_us == 0:
        return start
    windows = _windows_for(unit)
    day, offset = start.date(), _offset_us(start)
    remaining = amount_us
    empty_days = 0
    while True:
        if not cal.is_known(day.year):
            unknown.add(day.year)
        if cal.is_working_day(day):
            for lo, hi in windows:
                begin = max(lo, offset)
                if begin >= hi:
                    continue
                available = hi - begin
                if remaining <= available:
                    return _at(day, begin + remaining)
                remaining -= available
                empty_days = -1
        empty_days += 1
        if empty_days > _MAX_EMPTY_DAYS:
            raise ImproperlyConfigured("the calendar has no working time for two years")
        day += timedelta(days=1)
        offset = 0


def _walk_measure(
    start: datetime, end: datetime, unit: Unit, cal: CalendarSnapshot, unknown: set[int] | None
) -> int:
    """Working time (µs) between two naive local instants, ``start <= end``."""
    windows = _windows_for(unit)
    total = 0
    day = start.date()
    last = end.date()
    while day <= last:
        if unknown is not None and not cal.is_known(day.year) and (day < last or _offset_us(end) > 0):
            unknown.add(day.year)
        if cal.is_working_day(day):
            lo_bound = _offset_us(start) if day == start.date() else 0
            hi_bound = _offset_us(end) if day == last else _US_PER_DAY
            for lo, hi in windows:
                begin, finish = max(lo, lo_bound), min(hi, hi_bound)
                if finish > begin:
                    total += finish - begin
        day += timedelta(days=1)
    return total


def _measure(
    start: datetime, end: datetime, unit: Unit, cal: CalendarSnapshot, unknown: set[int] | None = None
) -> int:
    """Working time (µs) between two aware instants (zero when ``end <= start``)."""
    if end <= start:
        return 0
    if unit == Unit.HOURS:
        delta = end - start
        return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
    local_start, local_end = _local(start), _local(end)
    if unit == Unit.CALENDAR_DAYS:
        delta = local_end - local_start
        return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
    return _walk_measure(local_start, local_end, unit, cal, unknown)


def _add(start: datetime, amount_us: int, unit: Unit, cal: CalendarSnapshot, unknown: set[int]) -> datetime:
    if unit == Unit.HOURS:
        return (start.astimezone(ZoneInfo("UTC")) + timedelta(microseconds=amount_us)).astimezone(_zone())
    local = _local(start)
    if unit == Unit.CALENDAR_DAYS:
        return _aware(local + timedelta(microseconds=amount_us))
    return _aware(_walk_add(local, amount_us, unit, cal, unknown))


def _result(due: datetime, unknown: set[int]) -> DeadlineResult:
    return DeadlineResult(due_at=due, flagged=bool(unknown), unknown_years=frozenset(unknown))


# --- Public API --------------------------------------------------------------------------------


def deadline_add(start: datetime, amount: int | Decimal, unit: Unit | str) -> DeadlineResult:
    """The instant ``amount`` ``unit`` after ``start`` (see the module docstring for the rules)."""
    unit = Unit(unit)
    cal = calendar_snapshot() if unit in (Unit.WORK_DAYS, Unit.WORK_HOURS) else _EMPTY
    unknown: set[int] = set()
    due = _add(start, _amount_us(amount, unit), unit, cal, unknown)
    return _result(due, unknown)


def _merged(pauses: Iterable[Pause], start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    """Pauses clipped to ``[start, end]`` and merged where they overlap; an open pause runs to ``end``."""
    clipped = sorted(
        (max(p_start, start), min(p_end or end, end))
        for p_start, p_end in pauses
        if p_start < end and (p_end is None or p_end > start)
    )
    merged: list[tuple[datetime, datetime]] = []
    for p_start, p_end in clipped:
        if p_end <= p_start:
            continue
        if merged and p_start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], p_end))
        else:
            merged.append((p_start, p_end))
    return merged


def elapsed(start: datetime, end: datetime, unit: Unit | str, pauses: Sequence[Pause] = ()) -> Decimal:
    """Working time in ``unit`` between ``start`` and ``end``, leaving out the paused intervals
    (``(paused_at, resumed_at)`` pairs; ``resumed_at`` ``None`` for a pause still open). Zero when
    ``end`` is not after ``start``. The inverse of ``deadline_add``:
    ``elapsed(s, deadline_add(s, n, u).due_at, u) == n``."""
    unit = Unit(unit)
    if end <= start:
        return Decimal(0)
    cal = calendar_snapshot() if unit in (Unit.WORK_DAYS, Unit.WORK_HOURS) else _EMPTY
    total = _measure(start, end, unit, cal)
    for p_start, p_end in _merged(pauses, start, end):
        total -= _measure(p_start, p_end, unit, cal)
    return Decimal(total) / Decimal(_UNIT_US[unit])


def deadline_add_paused(
    start: datetime, amount: int | Decimal, unit: Unit | str, pauses: Sequence[Pause] = ()
) -> DeadlineResult:
    """``deadline_add`` for a clock that stood still during ``pauses`` (closed intervals only; the
    caller closes an open pause before asking). Working time inside a pause does not count; a pause
    that starts after the amount is used up does not move the result."""
    unit = Unit(unit)
    if any(p_end is None for _, p_end in pauses):
        raise ValueError("close an open pause before computing its deadline")
    cal = calendar_snapshot() if unit in (Unit.WORK_DAYS, Unit.WORK_HOURS) else _EMPTY
    remaining = _amount_us(amount, unit)
    unknown: set[int] = set()
    cursor = start
    far = max([start, *(p_end for _, p_end in pauses if p_end is not None)])
    for p_start, p_end in _merged(pauses, start, far):
        if p_start > cursor:
            available = _measure(cursor, p_start, unit, cal, unknown)
            if remaining <= available:
                break
            remaining -= available
        cursor = max(cursor, p_end)
    return _result(_add(cursor, remaining, unit, cal, unknown), unknown)


_EMPTY = CalendarSnapshot(holidays=frozenset(), workdays=frozenset(), known_years=frozenset())
