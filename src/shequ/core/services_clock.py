"""Services and selectors of the clock: the official calendar and pausable deadlines.

**The calendar** (DOMAIN.md §3).
The State Council announces each year's holidays and adjusted working days late in the year before;
the city administrator enters them (``calendar_day_set`` / ``calendar_day_remove``) and marks the year
complete (``calendar_year_publish``). Every edit replaces the calendar version token, so every process
reloads its in-memory copy on its next clock call, and recomputes the running deadlines the edit
touches.

**Deadlines** (ARCHITECTURE.md "Clock").
A workflow starts a timer on its subject with ``deadline_start`` and moves it with
``deadline_pause`` / ``deadline_resume`` / ``deadline_meet`` / ``deadline_cancel``. Each transition
locks the row, checks its guard, writes an event row on the *subject* (so the subject's timeline
shows its clocks; ``data["deadline"]`` names the timer) and returns the deadline.

``deadlines_tick`` (run periodically by ``shequ tick``) marks reminders at 80 % of the working time
and overdue timers, idempotently, writes ``DEADLINE_REMINDED`` / ``DEADLINE_OVERDUE`` events and
returns what it marked. Workflows hang notifications and escalation on it by registering a handler
for their deadline kind (``deadline_handler_register``); handlers run after commit.

States: running ⇄ paused; running/paused → met (finished at or before ``due_at``) | missed
(finished after it) | cancelled. While paused, ``due_at`` keeps its last value and no reminder or
overdue mark is made; on resume it is recomputed so that no paused time counts.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, Literal

from django.conf import settings
from django.db import models, transaction
from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from .clock import CALENDAR_REVISION, Pause, Unit, calendar_pinned, deadline_add_paused
from .errors import ApiError
from .events import event_record, events_bulk_record, subject_label
from .models import (
    CalendarDay,
    CalendarDayKind,
    CalendarSource,
    CalendarYear,
    Deadline,
    DeadlinePause,
    DeadlineState,
    Event,
)
from .revisions import revision_bump
from .rows import rows_flush, rows_insert

# === The calendar ===============================================================================

# --- Rules ---------------------------------------------------------------------------------------


def can_edit_calendar(user: Any) -> bool:
    """Only the city administrator maintains the official calendar."""
    from shequ.accounts.models import Role
    from shequ.accounts.visibility import scope_of

    return Role.CITY_ADMIN in scope_of(user).roles


def _require_editor(actor: Any) -> None:
    if not can_edit_calendar(actor):
        raise ApiError(_("只有市级管理员可以维护工作日历。"), code="forbidden", status=403)


def _calendar_changed() -> None:
    """Replace the version token: every process reloads the calendar on its next clock call."""
    revision_bump(CALENDAR_REVISION)


# --- Services ------------------------------------------------------------------------------------


def calendar_day_set(*, day: date, kind: str, name: str = "", actor: Any) -> CalendarDay:
    """Record ``day`` as a holiday or an adjusted working day (replacing what it was)."""
    _require_editor(actor)
    if kind not in CalendarDayKind.values:
        raise ApiError(_("日期类型无效。"), code="invalid", field="kind", status=422)
    if kind == CalendarDayKind.ADJUSTED_WORKDAY and day.weekday() < 5:
        raise ApiError(_("调休上班日只能是周六或周日。"), code="invalid", field="date", status=422)
    name = name.strip()
    with transaction.atomic():
        row = CalendarDay.objects.select_for_update().filter(date=day).first()
        old = {"kind": row.kind, "name": row.name} if row is not None else {}
        if row is None:
            row = CalendarDay.objects.create(date=day, kind=kind, name=name)
        elif old != {"kind": kind, "name": name}:
            row.kind, row.name = kind, name
            row.save(update_fields=["kind", "name", "updated_at"])
        else:
            return row
        _calendar_changed()
        event_record(
            subject=row,
            type="CALENDAR_DAY_SET",
            actor=actor,
            data={"date": day.isoformat(), "kind": kind, "name": name, "old": old},
        )
        if old.get("kind") != kind:
            deadlines_recompute_for_dates(dates={day}, actor=actor)
    return row


def calendar_day_remove(*, day: date, actor: Any) -> CalendarDay | None:
    """Make ``day`` an ordinary date again. Returns the removed row, or ``None`` if it was ordinary."""
    _require_editor(actor)
    with transaction.atomic():
        row = CalendarDay.objects.select_for_update().filter(date=day).first()
        if row is None:
            return None
        event_record(
            subject=row,
            type="CALENDAR_DAY_REMOVED",
            actor=actor,
            data={"date": day.isoformat(), "old": {"kind": row.kind, "name": row.name}},
        )
        row.delete()
        _calendar_changed()
        deadlines_recompute_for_dates(dates={day}, actor=actor)
    return row


def calendar_year_publish(*, year: int, actor: Any, published_on: date | None = None) -> CalendarYear:
    """Mark ``year``'s schedule complete: deadlines over it are no longer flagged. Publishing a year
    that is already complete changes nothing."""
    _require_editor(actor)
    with transaction.atomic():
        existing = CalendarYear.objects.select_for_update().filter(year=year).first()
        if existing is not None:
            return existing
        row = CalendarYear.objects.create(
            year=year,
            source=CalendarSource.MANUAL,
            entered_by=actor,
            published_on=published_on or timezone.localdate(),
        )
        _calendar_changed()
        event_record(
            subject=row,
            type="CALENDAR_YEAR_PUBLISHED",
            actor=actor,
            data={"year": year, "published_on": row.published_on.isoformat() if row.published_on else None},
        )
        deadlines_recompute_for_year(year=year, actor=actor)
    return row


def calendar_year_import(*, year: int, actor: Any | None = None) -> CalendarYear:
    """Take ``year`` from the installed ``chinesecalendar`` package (for a year it already knows but
    the database does not). Dates already entered are kept; the year is marked complete."""
    import chinese_calendar
    from chinese_calendar.constants import Holiday

    holidays = {d: n for d, n in chinese_calendar.holidays.items() if d.year == year}
    workdays = {d: n for d, n in chinese_calendar.workdays.items() if d.year == year}
    if not holidays:
        raise ApiError(_("已安装的日历数据包不含该年份。"), code="unknown_year", field="year", status=422)

    def chinese(english: str) -> str:
        try:
            return str(Holiday(english).chinese)
        except ValueError:
            return english

    with transaction.atomic():
        existing = CalendarYear.objects.select_for_update().filter(year=year).first()
        if existing is not None:
            return existing
        known = set(CalendarDay.objects.filter(date__year=year).values_list("date", flat=True))
        rows = [
            CalendarDay(date=d, kind=CalendarDayKind.HOLIDAY, name=chinese(n)) for d, n in holidays.items()
        ]
        rows += [
            CalendarDay(date=d, kind=CalendarDayKind.ADJUSTED_WORKDAY, name=chinese(n))
            for d, n in workdays.items()
        ]
        CalendarDay.objects.bulk_create([r for r in rows if r.date not in known])
        row = CalendarYear.objects.create(year=year, source=CalendarSource.CHINESE_CALENDAR, entered_by=actor)
        _calendar_changed()
        event_record(subject=row, type="CALENDAR_YEAR_IMPORTED", actor=actor, data={"year": year})
        deadlines_recompute_for_dates(dates=set(holidays) | set(workdays), actor=actor)
        deadlines_recompute_for_year(year=year, actor=actor)
    return row


# --- Selectors -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class CalendarYearSummary:
    year: int
    holidays: int
    adjusted_workdays: int
    published: CalendarYear | None


def calendar_years_overview(*, upcoming: int = 1) -> list[CalendarYearSummary]:
    """Every year that is published or has entered dates, plus the next ``upcoming`` years after the
    current one, newest first (two queries)."""
    counts = {
        row["date__year"]: row
        for row in CalendarDay.objects.values("date__year").annotate(
            holidays=Count("pk", filter=Q(kind=CalendarDayKind.HOLIDAY)),
            adjusted=Count("pk", filter=Q(kind=CalendarDayKind.ADJUSTED_WORKDAY)),
        )
    }
    published = {row.year: row for row in CalendarYear.objects.select_related("entered_by")}
    this_year = timezone.localdate().year
    years = set(counts) | set(published) | set(range(this_year, this_year + upcoming + 1))
    return [
        CalendarYearSummary(
            year=year,
            holidays=counts.get(year, {}).get("holidays", 0),
            adjusted_workdays=counts.get(year, {}).get("adjusted", 0),
            published=published.get(year),
        )
        for year in sorted(years, reverse=True)
    ]


def calendar_days_of_year(*, year: int) -> list[CalendarDay]:
    return list(CalendarDay.objects.filter(date__year=year).order_by("date"))


def calendar_year_status(*, year: int) -> CalendarYear | None:
    return CalendarYear.objects.select_related("entered_by").filter(year=year).first()


# === Deadlines ==================================================================================

WORKING_UNITS = (Unit.WORK_DAYS, Unit.WORK_HOURS)
DEFAULT_REMINDER_SHARE = Decimal("0.8")


def reminder_share() -> Decimal:
    """Share of a timer after which the reminder is due (DOMAIN.md §3: 80 % [practice])."""
    return Decimal(str(getattr(settings, "SHEQU_DEADLINE_REMINDER_SHARE", DEFAULT_REMINDER_SHARE)))


# --- Guards --------------------------------------------------------------------------------------


def can_pause(deadline: Deadline) -> bool:
    return deadline.state == DeadlineState.RUNNING


def can_resume(deadline: Deadline) -> bool:
    return deadline.state == DeadlineState.PAUSED


def can_finish(deadline: Deadline) -> bool:
    """Met, missed or cancelled: only an open timer can end."""
    return deadline.is_open


# --- Hooks for workflows -------------------------------------------------------------------------

TickEvent = Literal["reminded", "overdue"]
DeadlineHandler = Callable[[Deadline], None]
_HANDLERS: dict[tuple[str, str], list[DeadlineHandler]] = defaultdict(list)


def deadline_handler_register(*, kind: str, event: TickEvent, handler: DeadlineHandler) -> None:
    """Call ``handler(deadline)`` after commit whenever the tick marks a deadline of ``kind``
    (register in ``AppConfig.ready``)."""
    if handler not in _HANDLERS[(kind, event)]:
        _HANDLERS[(kind, event)].append(handler)


def _notify(event: TickEvent, deadlines: Iterable[Deadline]) -> None:
    for deadline in deadlines:
        for handler in _HANDLERS.get((deadline.kind, event), ()):
            transaction.on_commit(lambda h=handler, d=deadline: h(d))  # type: ignore[misc]


# --- Internals -----------------------------------------------------------------------------------
# ``deadline_start`` runs inside the workflow's own transaction without a savepoint of its own
# (``atomic(savepoint=False)``): it refuses bad input before writing, so nothing inside can fail in a
# way a caller would catch and carry on from; a case report saves two statements per timer.


def _event(
    deadline: Deadline, type_: str, *, actor: Any, at: datetime, data: dict[str, Any] | None = None
) -> Event:
    return Event(
        occurred_at=at,
        actor=actor if actor is not None and getattr(actor, "pk", None) else None,
        subject_type=deadline.subject_type,
        subject_id=deadline.subject_id,
        type=type_,
        data={"deadline": deadline.pk, "kind": deadline.kind, **(data or {})},
        scope_path=deadline.scope_path,
    )


def _record(
    deadline: Deadline, type_: str, *, actor: Any, at: datetime, data: dict[str, Any] | None = None
) -> None:
    events_bulk_record([_event(deadline, type_, actor=actor, at=at, data=data)])


def _closed_pauses(deadline: Deadline) -> list[Pause]:
    return [
        (p.started_at, p.ended_at)
        for p in deadline.pauses.order_by("started_at", "pk")
        if p.ended_at is not None
    ]


@dataclass(frozen=True)
class _Timing:
    due_at: datetime
    remind_at: datetime
    flagged: bool
    unknown_years: list[int]


def _timing(*, started_at: datetime, amount: Decimal, unit: Unit, pauses: list[Pause]) -> _Timing:
    with calendar_pinned():
        due = deadline_add_paused(started_at, amount, unit, pauses)
        remind = deadline_add_paused(started_at, amount * reminder_share(), unit, pauses)
    return _Timing(
        due_at=due.due_at,
        remind_at=remind.due_at,
        flagged=due.flagged,
        unknown_years=sorted(due.unknown_years),
    )


def _locked(deadline: Deadline) -> Deadline:
    return Deadline.objects.select_for_update().get(pk=deadline.pk)


def _refuse(message: str) -> ApiError:
    return ApiError(message, code="deadline_state", status=409)


def _iso(value: datetime | None) -> str | None:
    """Event data carries instants in local time (Asia/Shanghai), whatever zone they arrived in."""
    return timezone.localtime(value).isoformat() if value is not None else None


# --- Services ------------------------------------------------------------------------------------


def deadline_start(
    *,
    subject: models.Model,
    kind: str,
    amount: int | Decimal,
    unit: Unit | str,
    actor: Any,
    started_at: datetime | None = None,
    scope_path: str = "",
) -> Deadline:
    """Start a timer of ``amount`` ``unit`` on ``subject`` (now, or at ``started_at``)."""
    unit = Unit(unit)
    value = Decimal(amount)
    if value <= 0:
        raise ApiError(_("时限必须大于零。"), code="invalid", field="amount", status=422)
    start = started_at or timezone.now()
    timing = _timing(started_at=start, amount=value, unit=unit, pauses=[])
    with transaction.atomic(savepoint=False):
        deadline = Deadline(
            subject_type=subject_label(subject),
            subject_id=str(subject.pk),
            kind=kind,
            unit=unit,
            amount=value,
            started_at=start,
            due_at=timing.due_at,
            remind_at=timing.remind_at,
            flagged=timing.flagged,
            unknown_years=timing.unknown_years,
            scope_path=scope_path,
        )
        rows_insert([deadline])
        rows_flush()  # its event names it: the key is needed now (within ``rows_pipelined``)
        _record(
            deadline,
            "DEADLINE_STARTED",
            actor=actor,
            at=start,
            data={
                "amount": str(value),
                "unit": unit.value,
                "due_at": _iso(timing.due_at),
                "flagged": timing.flagged,
            },
        )
    return deadline


def deadline_pause(*, deadline: Deadline, reason: str, actor: Any, at: datetime | None = None) -> Deadline:
    """Stop the clock (挂账, a hearing, waiting for the resident …); ``reason`` is required."""
    reason = (reason or "").strip()
    if not reason:
        raise ApiError(_("暂停计时必须填写原因。"), code="invalid", field="reason", status=422)
    at = at or timezone.now()
    with transaction.atomic():
        locked = _locked(deadline)
        if not can_pause(locked):
            raise _refuse(_("只有计时中的时限可以暂停。"))
        last_end = locked.pauses.order_by("-ended_at").values_list("ended_at", flat=True).first()
        if at < locked.started_at or (last_end is not None and at < last_end):
            raise ApiError(_("暂停时间不能早于计时开始或上次恢复。"), code="invalid", field="at", status=422)
        DeadlinePause.objects.create(deadline=locked, started_at=at, reason=reason, actor=actor)
        locked.state = DeadlineState.PAUSED
        locked.save(update_fields=["state"])
        _record(locked, "DEADLINE_PAUSED", actor=actor, at=at, data={"reason": reason})
    return locked


def deadline_resume(*, deadline: Deadline, actor: Any, at: datetime | None = None) -> Deadline:
    """Restart the clock: ``due_at`` becomes the resume instant plus the working time that was left,
    so the paused interval does not count."""
    at = at or timezone.now()
    with transaction.atomic():
        locked = _locked(deadline)
        if not can_resume(locked):
            raise _refuse(_("只有已暂停的时限可以恢复。"))
        pause = DeadlinePause.objects.select_for_update().get(deadline=locked, ended_at__isnull=True)
        if at < pause.started_at:
            raise ApiError(_("恢复时间不能早于暂停时间。"), code="invalid", field="at", status=422)
        pause.ended_at = at
        pause.resumed_by = actor if actor is not None and getattr(actor, "pk", None) else None
        pause.save(update_fields=["ended_at", "resumed_by"])
        old_due = locked.due_at
        timing = _timing(
            started_at=locked.started_at,
            amount=locked.amount,
            unit=Unit(locked.unit),
            pauses=_closed_pauses(locked),
        )
        locked.state = DeadlineState.RUNNING
        locked.due_at, locked.remind_at = timing.due_at, timing.remind_at
        locked.flagged, locked.unknown_years = timing.flagged, timing.unknown_years
        locked.save(update_fields=["state", "due_at", "remind_at", "flagged", "unknown_years"])
        _record(
            locked,
            "DEADLINE_RESUMED",
            actor=actor,
            at=at,
            data={
                "paused_at": _iso(pause.started_at),
                "due_at": {"old": _iso(old_due), "new": _iso(timing.due_at)},
            },
        )
    return locked


def _finish(
    *, deadline: Deadline, actor: Any, at: datetime, state: DeadlineState | None, data: dict[str, Any]
) -> Deadline:
    locked = _locked(deadline)
    if not can_finish(locked):
        raise _refuse(_("该时限已经结束。"))
    if at < locked.started_at:
        raise ApiError(_("结束时间不能早于计时开始。"), code="invalid", field="at", status=422)
    open_pause = (
        DeadlinePause.objects.select_for_update().filter(deadline=locked, ended_at__isnull=True).first()
    )
    if open_pause is not None:
        open_pause.ended_at = max(at, open_pause.started_at)
        open_pause.resumed_by = actor if actor is not None and getattr(actor, "pk", None) else None
        open_pause.save(update_fields=["ended_at", "resumed_by"])
    if state is None:
        state = DeadlineState.MET if at <= locked.due_at else DeadlineState.MISSED
    locked.state = state
    locked.ended_at = at
    locked.save(update_fields=["state", "ended_at"])
    type_ = {
        DeadlineState.MET: "DEADLINE_MET",
        DeadlineState.MISSED: "DEADLINE_MISSED",
        DeadlineState.CANCELLED: "DEADLINE_CANCELLED",
    }[state]
    _record(locked, type_, actor=actor, at=at, data={"due_at": _iso(locked.due_at), **data})
    return locked


def deadline_meet(*, deadline: Deadline, actor: Any, at: datetime | None = None) -> Deadline:
    """The work the timer measured is done: ``met`` if at or before ``due_at``, else ``missed``."""
    with transaction.atomic():
        return _finish(deadline=deadline, actor=actor, at=at or timezone.now(), state=None, data={})


def deadline_cancel(
    *, deadline: Deadline, actor: Any, reason: str = "", at: datetime | None = None
) -> Deadline:
    """The timer no longer applies (the subject was merged, withdrawn, re-routed …)."""
    with transaction.atomic():
        return _finish(
            deadline=deadline,
            actor=actor,
            at=at or timezone.now(),
            state=DeadlineState.CANCELLED,
            data={"reason": reason.strip()},
        )


def deadline_extend(
    *, deadline: Deadline, amount: int | Decimal, actor: Any, at: datetime | None = None, reason: str = ""
) -> Deadline:
    """Give an open timer ``amount`` more of its unit (an approved extension). The timer keeps its
    start and its pauses, so paused time still does not count; a running timer's ``due_at`` and
    ``remind_at`` are recomputed (a paused one gets them on resume). The reminder and overdue marks
    are cleared when the new instants lie ahead, so the tick marks the new ones."""
    extra = Decimal(amount)
    if extra <= 0:
        raise ApiError(_("延长的时限必须大于零。"), code="invalid", field="amount", status=422)
    at = at or timezone.now()
    with transaction.atomic():
        locked = _locked(deadline)
        if not locked.is_open:
            raise _refuse(_("该时限已经结束。"))
        old_amount, old_due = locked.amount, locked.due_at
        locked.amount = old_amount + extra
        fields = ["amount"]
        if locked.state == DeadlineState.RUNNING:
            timing = _timing(
                started_at=locked.started_at,
                amount=locked.amount,
                unit=Unit(locked.unit),
                pauses=_closed_pauses(locked),
            )
            locked.due_at, locked.remind_at = timing.due_at, timing.remind_at
            locked.flagged, locked.unknown_years = timing.flagged, timing.unknown_years
            fields += ["due_at", "remind_at", "flagged", "unknown_years"]
            if locked.remind_at > at and locked.reminded_at is not None:
                locked.reminded_at = None
                fields.append("reminded_at")
            if locked.due_at > at and locked.overdue_at is not None:
                locked.overdue_at = None
                fields.append("overdue_at")
        locked.save(update_fields=fields)
        _record(
            locked,
            "DEADLINE_EXTENDED",
            actor=actor,
            at=at,
            data={
                "amount": {"old": str(old_amount), "new": str(locked.amount)},
                "due_at": {"old": _iso(old_due), "new": _iso(locked.due_at)},
                "reason": reason.strip(),
            },
        )
    return locked


def deadline_recompute(*, deadline: Deadline, actor: Any = None) -> Deadline:
    """Recompute a running timer over the current calendar (after a calendar edit). ``reminded_at``
    and ``overdue_at`` marks stay as they are."""
    with transaction.atomic():
        locked = _locked(deadline)
        if locked.state != DeadlineState.RUNNING:
            return locked
        timing = _timing(
            started_at=locked.started_at,
            amount=locked.amount,
            unit=Unit(locked.unit),
            pauses=_closed_pauses(locked),
        )
        changed = (timing.due_at, timing.remind_at, timing.flagged, timing.unknown_years) != (
            locked.due_at,
            locked.remind_at,
            locked.flagged,
            list(locked.unknown_years),
        )
        if not changed:
            return locked
        old_due, old_flagged = locked.due_at, locked.flagged
        locked.due_at, locked.remind_at = timing.due_at, timing.remind_at
        locked.flagged, locked.unknown_years = timing.flagged, timing.unknown_years
        locked.save(update_fields=["due_at", "remind_at", "flagged", "unknown_years"])
        _record(
            locked,
            "DEADLINE_RECOMPUTED",
            actor=actor,
            at=timezone.now(),
            data={
                "due_at": {"old": _iso(old_due), "new": _iso(timing.due_at)},
                "flagged": {"old": old_flagged, "new": timing.flagged},
            },
        )
    return locked


def _local_midnight(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time()))


def deadlines_recompute_for_dates(*, dates: set[date], actor: Any = None) -> list[Deadline]:
    """Recompute the running working-time deadlines whose span covers one of ``dates``."""
    if not dates:
        return []
    first, last = min(dates), max(dates)
    candidates = Deadline.objects.filter(
        state=DeadlineState.RUNNING,
        unit__in=WORKING_UNITS,
        started_at__lt=_local_midnight(last + timedelta(days=1)),
        due_at__gte=_local_midnight(first),
    ).order_by("pk")
    return [deadline_recompute(deadline=d, actor=actor) for d in candidates.iterator()]


def deadlines_recompute_for_year(*, year: int, actor: Any = None) -> list[Deadline]:
    """Recompute the running deadlines flagged for lack of ``year``'s calendar."""
    candidates = Deadline.objects.filter(state=DeadlineState.RUNNING, flagged=True).order_by("pk")
    return [
        deadline_recompute(deadline=d, actor=actor)
        for d in candidates.iterator()
        if year in (d.unknown_years or [])
    ]


# --- Selectors -----------------------------------------------------------------------------------


def deadlines_for_subject(subject: models.Model) -> QuerySet[Deadline]:
    return Deadline.objects.filter(subject_type=subject_label(subject), subject_id=str(subject.pk)).order_by(
        "started_at", "pk"
    )


def deadlines_due_for_reminder(now: datetime) -> QuerySet[Deadline]:
    """Running timers with at least 80 % of their working time used, not yet reminded and not yet
    overdue (an overdue timer gets the overdue mark instead)."""
    return Deadline.objects.filter(
        state=DeadlineState.RUNNING, reminded_at__isnull=True, remind_at__lte=now, due_at__gte=now
    ).order_by("due_at", "pk")


def deadlines_overdue(now: datetime) -> QuerySet[Deadline]:
    """Running timers past their due instant (marked or not)."""
    return Deadline.objects.filter(state=DeadlineState.RUNNING, due_at__lt=now).order_by("due_at", "pk")


@dataclass
class TickResult:
    reminded: list[Deadline] = field(default_factory=list)
    overdue: list[Deadline] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.reminded or self.overdue)


def deadlines_tick(*, now: datetime | None = None) -> TickResult:
    """Mark the reminders and overdue timers due at ``now``. Idempotent: a timer is marked once, so
    a second run at the same instant finds nothing. Rows another tick holds are skipped."""
    now = now or timezone.now()
    result = TickResult()
    with transaction.atomic():
        result.reminded = list(deadlines_due_for_reminder(now).select_for_update(skip_locked=True))
        result.overdue = list(
            deadlines_overdue(now).filter(overdue_at__isnull=True).select_for_update(skip_locked=True)
        )
        if result.reminded:
            Deadline.objects.filter(pk__in=[d.pk for d in result.reminded]).update(reminded_at=now)
        if result.overdue:
            Deadline.objects.filter(pk__in=[d.pk for d in result.overdue]).update(overdue_at=now)
        for d in result.reminded:
            d.reminded_at = now
        for d in result.overdue:
            d.overdue_at = now
        events_bulk_record(
            [
                _event(d, "DEADLINE_REMINDED", actor=None, at=now, data={"due_at": _iso(d.due_at)})
                for d in result.reminded
            ]
            + [
                _event(d, "DEADLINE_OVERDUE", actor=None, at=now, data={"due_at": _iso(d.due_at)})
                for d in result.overdue
            ]
        )
        _notify("reminded", result.reminded)
        _notify("overdue", result.overdue)
    return result
