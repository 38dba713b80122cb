"""Outcome metrics of the case loop (DOMAIN.md §5), folded incrementally from the event rows into the
daily table ``CaseMetricDay`` and its monthly sums ``CaseMetricMonth``. Dashboards read only those
(``selectors_metrics``).

How a case is counted
=====================

A case's contribution to the daily table is a pure function of its own event history
(``case_contribution``). The fill job reads the case events written since its cursor, and for every
case they touch it replays that case's history up to the old cursor and up to the new one and adds the
difference. So an extension, a re-dispatch, a rework or a reopening moves the case's counts from where
they were to where they now belong (old day decremented, new day incremented), and the incremental
table always equals a full rebuild. Every count sits on one day, one place and one category, copied
from the event snapshot (``data.snap``), and is added to these rows:

- levels: ``city`` (the district's parent division), ``district``, ``street``, ``committee`` (when the
  case has one) and ``department``: the responsible unit, ``org:<id>`` or a division code (the
  committee handling a small matter itself, the street's dispatch centre for 属地兜底);
- categories: the all-categories row (``category_code`` "") and the case's category.

Place, category and the "current" unit come from the case's latest snapshot. A department's rows
count the cases now in its hands, except the dispatch and handling counters, which stay with the unit
that received the dispatch or submitted the handling.

The counters and the day each one is counted on:

- report cohort (day of CASE_REPORTED): ``reported``; ``merged`` when the case was later merged into
  another (并单) — 重复诉求率 = merged / reported.
- registration cohort (day of CASE_REGISTERED): ``registered``; ``extended`` when at least one
  extension was granted (a case counts once however many extensions it had) — 延期率.
- dispatch cohort (day of each CASE_DISPATCHED / CASE_REDISPATCHED / CASE_REROUTED, at the unit it went
  to): ``dispatched``; ``returned`` when that dispatch ended in a CASE_REDISPATCHED with
  ``returned`` (回退: the unit's return request was granted); ``signed`` when the unit took it
  (CASE_ACCEPTED, or CASE_RETURN_REFUSED which makes it first responsible); ``signed_in_time`` when that
  was within the sign-for deadline (``data.on_time``). A reroute by the centre ends a dispatch without
  a return. 回退率 = returned / dispatched, 及时签收率 = signed_in_time / dispatched.
- handling submissions (day of each CASE_HANDLED, at the unit that handled): ``handled``; ``reworked``
  when the on-site check failed it (CASE_REWORK_ORDERED) — 返工率 = reworked / handled.
- due cohort (the day of the case's *current* handling deadline, ``snap.due_at`` of its latest event;
  registered cases only, not merged, not rejected). "Cohort = cases due in the period": ``due`` is the
  number of cases due to be handled and closed (one handling deadline per case, so 应处置 and 应结案
  are the same set; the response cohort is that set too). Of those:
  ``due_handled`` (state now handled/checking/confirming/closed), ``due_handled_on_time`` (and its last
  CASE_HANDLED was ``on_time``), ``due_closed`` (state now closed), ``due_closed_on_time`` (the closing
  event's ``on_time``: CASE_CLOSED's, or ``closed.on_time`` of a CASE_HANDLED / CASE_CHECK_PASSED that
  closed the case at once because nobody could be asked — such a case has no answer, so it is in none
  of the answer counters below), ``due_redone`` (closed after at least one 重办), ``responded_in_time`` (first
  contact in time: ``data.first_contact_on_time`` where an event gives it, else the first CASE_ACCEPTED's
  ``on_time``; a case the committee handles itself is in contact at once), and the resident's answer of
  the current round (a redo or a reopening starts a new round): ``solved``, ``not_solved``,
  ``no_response`` (the confirmation window ran out), ``satisfied``, ``basically``, ``unsatisfied``;
  ``explained`` counts cases whose outcome is "explained" (已解释说明).
  When a deadline moves (extension granted, rework, redo, reopening with a fresh timer), the whole due
  cohort entry of the case moves to the new day; closing late is counted on the due day, not the
  closing day.

Indicators (``INDICATORS``): 结案率 = due_closed / due; 按期结案率 = due_closed_on_time / due;
处置率 = due_handled / due; 按期处置率 = due_handled_on_time / due; 返工率 = reworked / handled;
延期率 = extended / registered; 回退率 = returned / dispatched; 重办率 = due_redone / due_closed;
及时签收率 = signed_in_time / dispatched; 响应率 = responded_in_time / due;
解决率 = solved / (solved + not_solved) — "no response" is in neither; "explained" never counts as
solved: a resident's "solved" on an explained case counts as not solved;
满意率 = (satisfied + basically) / (satisfied + basically + unsatisfied);
重复诉求率 = merged / reported. A ratio over zero is ``None`` (shown as "—").

The fill job
============

``case_metrics_fill`` reads case events after ``MetricFillState("cases").last_event_id`` in id order,
``batch`` at a time; each batch's deltas are summed in Python and written with
``INSERT … ON CONFLICT (level, node, category_code, day) DO UPDATE SET n = n + excluded.n`` (SQLite and
PostgreSQL both; one statement per batch on PostgreSQL, the rows as column arrays), the same deltas
summed per calendar month into ``CaseMetricMonth`` (long periods read whole months from there), and
the cursor advances in the same transaction: a crash loses nothing, a re-run
adds nothing. The periodic job (every 5 minutes) reads only up to the highest event id it saw at least
``FILL_SETTLE`` earlier (kept in ``MetricFillState("cases:seen")``): ids are taken when a transaction
inserts, not when it commits, so an id cursor that ran right up to the newest row could step over a
row whose transaction commits a moment later. Dashboards therefore trail the events by one or two
periods. ``case_metrics_rebuild`` recomputes everything from the event log in one transaction.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from shequ.core.models import Event, MetricFillState
from shequ.core.ticks import periodic_job_register
from shequ.places.models import Division

from .models import CaseMetricDay, CaseMetricMonth, MetricLevel

SUBJECT = "cases.case"
FILL_NAME = "cases"
SEEN_NAME = "cases:seen"
FILL_JOB = "cases.metrics_fill"
FILL_EVERY = timedelta(minutes=5)
FILL_SETTLE = timedelta(seconds=60)
DEFAULT_BATCH = 5000

# Every counter column of CaseMetricDay, in table order.
COUNTERS: tuple[str, ...] = (
    "reported",
    "merged",
    "registered",
    "extended",
    "dispatched",
    "returned",
    "signed",
    "signed_in_time",
    "handled",
    "reworked",
    "due",
    "due_handled",
    "due_handled_on_time",
    "due_closed",
    "due_closed_on_time",
    "due_redone",
    "responded_in_time",
    "solved",
    "not_solved",
    "no_response",
    "explained",
    "satisfied",
    "basically",
    "unsatisfied",
)
_INDEX = {name: i for i, name in enumerate(COUNTERS)}


# --- indicators ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Indicator:
    code: str
    label: str | Promise
    numerator: tuple[str, ...]
    denominator: tuple[str, ...]
    definition: str | Promise
    lower_is_better: bool = False

    def parts(self, totals: dict[str, int]) -> tuple[int, int]:
        """(numerator, denominator) from summed counters (every counter present)."""
        return sum(map(totals.__getitem__, self.numerator)), sum(map(totals.__getitem__, self.denominator))


INDICATORS: tuple[Indicator, ...] = (
    Indicator("closed_rate", _("结案率"), ("due_closed",), ("due",), _("已结案 / 期内到期应结案")),
    Indicator(
        "closed_on_time_rate",
        _("按期结案率"),
        ("due_closed_on_time",),
        ("due",),
        _("按期结案 / 期内到期应结案"),
    ),
    Indicator("handled_rate", _("处置率"), ("due_handled",), ("due",), _("已处置 / 期内到期应处置")),
    Indicator(
        "handled_on_time_rate",
        _("按期处置率"),
        ("due_handled_on_time",),
        ("due",),
        _("按期处置 / 期内到期应处置"),
    ),
    Indicator(
        "response_rate", _("响应率"), ("responded_in_time",), ("due",), _("按时首次联系 / 期内到期案件")
    ),
    Indicator(
        "signed_in_time_rate",
        _("及时签收率"),
        ("signed_in_time",),
        ("dispatched",),
        _("按时签收 / 派遣次数"),
    ),
    Indicator(
        "solved_rate",
        _("解决率"),
        ("solved",),
        ("solved", "not_solved"),
        _("居民确认已解决 / （已解决 + 未解决），未回复不计，解释说明不算解决"),
    ),
    Indicator(
        "satisfaction_rate",
        _("满意率"),
        ("satisfied", "basically"),
        ("satisfied", "basically", "unsatisfied"),
        _("（满意 + 基本满意）/ 已评价"),
    ),
    Indicator(
        "rework_rate",
        _("返工率"),
        ("reworked",),
        ("handled",),
        _("核查返工 / 处置提交"),
        lower_is_better=True,
    ),
    Indicator(
        "extension_rate",
        _("延期率"),
        ("extended",),
        ("registered",),
        _("获准延期的案件 / 立案"),
        lower_is_better=True,
    ),
    Indicator(
        "return_rate", _("回退率"), ("returned",), ("dispatched",), _("回退 / 派遣次数"), lower_is_better=True
    ),
    Indicator(
        "redo_rate",
        _("重办率"),
        ("due_redone",),
        ("due_closed",),
        _("经重办的结案 / 结案"),
        lower_is_better=True,
    ),
    Indicator(
        "repeat_rate",
        _("重复诉求率"),
        ("merged",),
        ("reported",),
        _("被并单的诉求 / 全部诉求"),
        lower_is_better=True,
    ),
)
INDICATOR_BY_CODE = {indicator.code: indicator for indicator in INDICATORS}


def ratio(numerator: int, denominator: int) -> float | None:
    """The share, or ``None`` over zero (shown as "—")."""
    return numerator / denominator if denominator else None


# --- one case's contribution ---------------------------------------------------------------------

# (counter, day, district, street, committee, unit, category)
Key = tuple[str, date, str, str, str, str, str]

_HANDLED_STATES = frozenset({"handled", "checking", "confirming", "closed"})
_DISPATCHES = frozenset({"CASE_DISPATCHED", "CASE_REDISPATCHED", "CASE_REROUTED"})
_FEEDBACK = frozenset({"satisfied", "basically", "unsatisfied"})


def _day(value: datetime) -> date:
    """The calendar day in the project's time zone (whatever zone a request has activated)."""
    return value.astimezone(timezone.get_default_timezone()).date()


def _parse(value: Any) -> datetime | None:
    if not value or not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed, timezone.get_default_timezone())
    return parsed


def _on_time(data: dict[str, Any], at: datetime, limit: Any) -> bool:
    """``data.on_time`` as the service wrote it; failing that, the event's time against ``limit``."""
    value = data.get("on_time")
    if isinstance(value, bool):
        return value
    due = _parse(limit)
    return due is not None and at <= due


@dataclass
class _Dispatch:
    day: date
    unit: str
    ending: str = ""  # "" open, "returned", "signed", "moved"
    in_time: bool = False


def case_contribution(events: Iterable[tuple[str, datetime, dict[str, Any]]]) -> Counter[Key]:  # noqa: PLR0912, PLR0915 - one fold over the event types
    """What one case adds to the daily table, from its events ``(type, occurred_at, data)`` in order."""
    snap: dict[str, Any] = {}
    state = ""
    report_day: date | None = None
    registered_day: date | None = None
    merged = extended = redone = False
    dispatches: list[_Dispatch] = []
    handlings: list[list[Any]] = []  # [day, unit, reworked]
    handled_on_time = False
    first_contact: bool | None = None
    first_contact_given: bool | None = None
    answered = False
    solved: bool | None = None
    feedback = ""
    outcome = ""
    closed_on_time = False

    for type_, at, data in events:
        new_snap = data.get("snap")
        if isinstance(new_snap, dict):
            snap = new_snap
        moved = data.get("state")
        if isinstance(moved, dict) and moved.get("new"):
            state = str(moved["new"])
        given = data.get("first_contact_on_time")
        if isinstance(given, bool) and first_contact_given is None:
            first_contact_given = given
        day = _day(at)
        if type_ == "CASE_REPORTED":
            report_day = report_day or day
        elif type_ == "CASE_REGISTERED":
            registered_day = registered_day or day
        elif type_ == "CASE_MERGED":
            merged = True
        elif type_ in _DISPATCHES:
            if dispatches and not dispatches[-1].ending:
                returned = type_ == "CASE_REDISPATCHED" and data.get("returned", True) is not False
                dispatches[-1].ending = "returned" if returned else "moved"
            dispatches.append(_Dispatch(day=day, unit=str(snap.get("handler") or "")))
        elif type_ in {"CASE_ACCEPTED", "CASE_RETURN_REFUSED"}:
            in_time = _on_time(data, at, data.get("sign_due_at"))
            if dispatches and not dispatches[-1].ending:
                dispatches[-1].ending = "signed"
                dispatches[-1].in_time = in_time
            if type_ == "CASE_ACCEPTED" and first_contact is None:
                first_contact = in_time
        elif type_ == "CASE_SELF_HANDLED":
            if first_contact is None:
                first_contact = True
        elif type_ == "CASE_EXTENSION_GRANTED":
            extended = True
        elif type_ == "CASE_HANDLED":
            handlings.append([day, str(snap.get("handler") or ""), False])
            handled_on_time = _on_time(data, at, snap.get("due_at"))
            outcome = str(data.get("outcome") or outcome)
        elif type_ == "CASE_REWORK_ORDERED":
            if handlings:
                handlings[-1][2] = True
        elif type_ in {"CASE_REDO_ORDERED", "CASE_REOPENED"}:
            redone = redone or type_ == "CASE_REDO_ORDERED"
            answered, solved, feedback = False, None, ""
        elif type_ == "CASE_CONFIRMED":
            answered = True
            solved = data.get("solved") if isinstance(data.get("solved"), bool) else None
            feedback = str(data.get("feedback") or "")
        elif type_ == "CASE_CLOSED_NO_RESPONSE":
            answered, solved, feedback = True, None, "no_response"
        elif type_ == "CASE_CLOSED":
            state = "closed" if not isinstance(moved, dict) else state
            outcome = str(data.get("outcome") or outcome)
            closed_on_time = _on_time(data, at, snap.get("due_at"))
            given_solved = data.get("resident_solved")
            given_feedback = str(data.get("feedback") or "")
            if isinstance(given_solved, bool) or given_feedback:
                answered = True
                solved = given_solved if isinstance(given_solved, bool) else None
                feedback = given_feedback
        closing = data.get("closed")
        if isinstance(closing, dict) and type_ != "CASE_CLOSED":
            # Handled or checked with nobody to ask: the same event closed the case (no answer).
            closed_on_time = _on_time(closing, at, snap.get("due_at"))

    out: Counter[Key] = Counter()
    district = str(snap.get("district") or "")
    if not district:
        return out
    street = str(snap.get("street") or "")
    committee = str(snap.get("committee") or "")
    category = str(snap.get("category") or "")
    unit = str(snap.get("handler") or "")

    def add(counter: str, day: date, at_unit: str = unit) -> None:
        out[(counter, day, district, street, committee, at_unit, category)] += 1

    if report_day is not None:
        add("reported", report_day)
        if merged:
            add("merged", report_day)
    if registered_day is not None:
        add("registered", registered_day)
        if extended:
            add("extended", registered_day)
    for dispatch in dispatches:
        add("dispatched", dispatch.day, dispatch.unit)
        if dispatch.ending == "returned":
            add("returned", dispatch.day, dispatch.unit)
        elif dispatch.ending == "signed":
            add("signed", dispatch.day, dispatch.unit)
            if dispatch.in_time:
                add("signed_in_time", dispatch.day, dispatch.unit)
    for handled_day, handled_unit, reworked in handlings:
        add("handled", handled_day, handled_unit)
        if reworked:
            add("reworked", handled_day, handled_unit)

    due = _parse(snap.get("due_at"))
    if registered_day is None or due is None or merged or state in {"merged", "rejected"}:
        return out
    due_day = _day(due)
    add("due", due_day)
    if state in _HANDLED_STATES:
        add("due_handled", due_day)
        if handled_on_time:
            add("due_handled_on_time", due_day)
    if state == "closed":
        add("due_closed", due_day)
        if closed_on_time:
            add("due_closed_on_time", due_day)
        if redone:
            add("due_redone", due_day)
    contact = first_contact_given if first_contact_given is not None else first_contact
    if contact:
        add("responded_in_time", due_day)
    explained = outcome == "explained"
    if explained:
        add("explained", due_day)
    if answered:
        if feedback == "no_response":
            add("no_response", due_day)
        else:
            if solved is True and not explained:
                add("solved", due_day)
            elif solved is not None:
                add("not_solved", due_day)
            if feedback in _FEEDBACK:
                add(feedback, due_day)
    return out


# --- from contributions to rows ------------------------------------------------------------------

RowKey = tuple[str, str, str, date]  # level, node, category_code, day
_CITY, _DISTRICT, _STREET, _COMMITTEE, _DEPARTMENT = (
    MetricLevel.CITY.value,
    MetricLevel.DISTRICT.value,
    MetricLevel.STREET.value,
    MetricLevel.COMMITTEE.value,
    MetricLevel.DEPARTMENT.value,
)


class _Cities:
    """The city node above each district code (the district's parent division), looked up once."""

    def __init__(self) -> None:
        self._known: dict[str, str] = {}

    def load(self, districts: Iterable[str]) -> None:
        missing = {code for code in districts if code and code not in self._known}
        if not missing:
            return
        found = dict(Division.objects.filter(code__in=missing).values_list("code", "parent__code"))
        for code in missing:
            # A district not (yet) in the tree: the provincial-level city of its first two digits.
            self._known[code] = found.get(code) or f"{code[:2]}0000000000"

    def __getitem__(self, district: str) -> str:
        return self._known[district]


def rows_from(delta: Counter[Key], cities: _Cities) -> dict[RowKey, list[int]]:
    """Spread per-case counts over every level and the all-categories row."""
    cities.load(key[2] for key in delta)
    rows: dict[RowKey, list[int]] = {}
    width = len(COUNTERS)
    for (counter, day, district, street, committee, unit, category), count in delta.items():
        if not count:
            continue
        index = _INDEX[counter]
        nodes = [(_CITY, cities[district]), (_DISTRICT, district)]
        if street:
            nodes.append((_STREET, street))
        if committee:
            nodes.append((_COMMITTEE, committee))
        if unit:
            nodes.append((_DEPARTMENT, unit))
        categories = ("", category) if category else ("",)
        for level, node in nodes:
            for code in categories:
                key = (level, node, code, day)
                row = rows.get(key)
                if row is None:
                    row = rows[key] = [0] * width
                row[index] += count
    return {key: row for key, row in rows.items() if any(row)}


def month_rows(rows: dict[RowKey, list[int]]) -> dict[RowKey, list[int]]:
    """The same rows summed per calendar month (the key's date becomes the month's first day)."""
    months: dict[RowKey, list[int]] = {}
    for (level, node, code, day), counts in rows.items():
        key = (level, node, code, day.replace(day=1))
        total = months.get(key)
        if total is None:
            months[key] = list(counts)
        else:
            for i, count in enumerate(counts):
                total[i] += count
    return months


def _upsert_sql(table: str, date_column: str, source: str) -> str:
    columns = ", ".join(["level", "node", "category_code", date_column, *COUNTERS])
    sets = ", ".join(f"{name} = {table}.{name} + excluded.{name}" for name in COUNTERS)
    return (
        f"INSERT INTO {table} ({columns}) {source} "
        f"ON CONFLICT (level, node, category_code, {date_column}) DO UPDATE SET {sets}"
    )


# SQLite: one prepared statement run for every row. PostgreSQL: one statement for the whole batch, its
# rows given as one array literal per column (one round trip instead of one per row).
_ROW = "VALUES (" + ", ".join(["%s"] * (4 + len(COUNTERS))) + ")"
_ARRAYS = ", ".join(["%s::varchar[]"] * 3 + ["%s::date[]"] + ["%s::integer[]"] * len(COUNTERS))
_TABLES = {"day": (CaseMetricDay._meta.db_table, "day"), "month": (CaseMetricMonth._meta.db_table, "month")}
_UPSERT_ROW = {name: _upsert_sql(table, column, _ROW) for name, (table, column) in _TABLES.items()}
_UPSERT_ARRAYS = {
    name: _upsert_sql(table, column, f"SELECT * FROM unnest({_ARRAYS})")  # noqa: S608 - placeholders only
    for name, (table, column) in _TABLES.items()
}


def _array(values: Iterable[Any]) -> str:
    """A PostgreSQL array literal of ``values`` (each element quoted)."""
    quoted = (str(v).replace("\\", "\\\\").replace('"', '\\"') for v in values)
    return "{" + ",".join(f'"{v}"' for v in quoted) + "}"


def upsert(rows: dict[RowKey, list[int]], *, table: str = "day") -> None:
    """Add ``rows`` to the daily (``table="day"``) or monthly table: insert new keys, increment
    existing ones."""
    if not rows:
        return
    ordered = sorted(rows.items())
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.executemany(
                _UPSERT_ROW[table],
                [
                    (level, node, code, day.isoformat(), *counts)
                    for (level, node, code, day), counts in ordered
                ],
            )
            return
        keys = zip(*(key for key, _counts in ordered), strict=True)
        counts = zip(*(counts for _key, counts in ordered), strict=True)
        arrays = [_array(column) for column in keys]
        arrays += ["{" + ",".join(map(str, column)) + "}" for column in counts]
        cursor.execute(_UPSERT_ARRAYS[table], arrays)


# --- the job -------------------------------------------------------------------------------------


def _history(
    case_ids: Sequence[str], upto: int
) -> dict[str, list[tuple[int, str, datetime, dict[str, Any]]]]:
    """Every event of ``case_ids`` with id ≤ ``upto``, per case in id order."""
    history: dict[str, list[tuple[int, str, datetime, dict[str, Any]]]] = {}
    for start in range(0, len(case_ids), 2000):
        chunk = case_ids[start : start + 2000]
        rows = (
            Event.objects.filter(subject_type=SUBJECT, subject_id__in=chunk, pk__lte=upto)
            .order_by("subject_id", "pk")
            .values_list("pk", "subject_id", "type", "occurred_at", "data")
        )
        for pk, subject_id, type_, occurred_at, data in rows:
            history.setdefault(subject_id, []).append((pk, type_, occurred_at, data or {}))
    return history


def _fill_batch(*, batch: int, upto: int | None, cities: _Cities) -> int:
    with transaction.atomic():
        # The UPDATE takes the row lock (PostgreSQL) or the write lock (SQLite) before the cursor is read,
        # so two fills never fold the same events.
        MetricFillState.objects.get_or_create(name=FILL_NAME)
        MetricFillState.objects.filter(name=FILL_NAME).update(updated_at=timezone.now())
        state = MetricFillState.objects.get(name=FILL_NAME)
        start = state.last_event_id
        events = Event.objects.filter(subject_type=SUBJECT, pk__gt=start)
        if upto is not None:
            events = events.filter(pk__lte=upto)
        head = list(events.order_by("pk").values_list("pk", "subject_id")[:batch])
        if not head:
            return 0
        end = head[-1][0]
        delta: Counter[Key] = Counter()
        for history in _history(sorted({subject for _pk, subject in head}), end).values():
            after = case_contribution((t, at, d) for _pk, t, at, d in history)
            if history[0][0] <= start:
                after.subtract(case_contribution((t, at, d) for pk, t, at, d in history if pk <= start))
            delta.update(after)
        rows = rows_from(delta, cities)
        upsert(rows)
        upsert(month_rows(rows), table="month")
        state.last_event_id = end
        state.updated_at = timezone.now()
        state.save(update_fields=["last_event_id", "updated_at"])
    return len(head)


def _settled_limit(*, settle: timedelta, now: datetime) -> int:
    """The highest event id already seen ``settle`` ago (or the cursor, when no such mark exists yet);
    records the newest id as the mark for a later run."""
    with transaction.atomic():
        MetricFillState.objects.get_or_create(name=SEEN_NAME)
        seen = MetricFillState.objects.select_for_update().get(name=SEEN_NAME)
        cursor = (
            MetricFillState.objects.filter(name=FILL_NAME).values_list("last_event_id", flat=True).first()
            or 0
        )
        if seen.updated_at is not None and seen.updated_at > now - settle:
            return cursor  # the mark is too young: wait for it
        limit = seen.last_event_id if seen.updated_at is not None else cursor
        seen.last_event_id = Event.objects.aggregate(top=Max("pk"))["top"] or 0
        seen.updated_at = now
        seen.save(update_fields=["last_event_id", "updated_at"])
    return limit


def case_metrics_fill(
    *, batch: int = DEFAULT_BATCH, settle: timedelta | None = None, now: datetime | None = None
) -> int:
    """Fold the case events written since the last run into ``CaseMetricDay``; returns how many.

    With ``settle`` (the periodic job) only events already present ``settle`` earlier are read (see the
    module notes); without it, everything committed so far.
    """
    upto = _settled_limit(settle=settle, now=now or timezone.now()) if settle is not None else None
    cities = _Cities()
    total = 0
    while True:
        folded = _fill_batch(batch=batch, upto=upto, cities=cities)
        if not folded:
            return total
        total += folded


def case_metrics_rebuild(*, batch: int = DEFAULT_BATCH) -> int:
    """Recompute the whole table from the event log, in one transaction (the old figures stay visible
    until it commits)."""
    with transaction.atomic():
        with connection.cursor() as cursor:
            for model in (CaseMetricDay, CaseMetricMonth):
                cursor.execute(f"DELETE FROM {model._meta.db_table}")  # noqa: S608 - fixed identifier
        MetricFillState.objects.update_or_create(
            name=FILL_NAME, defaults={"last_event_id": 0, "updated_at": timezone.now()}
        )
        MetricFillState.objects.filter(name=SEEN_NAME).delete()
        return case_metrics_fill(batch=batch)


def _run_fill(now: datetime) -> int:
    return case_metrics_fill(settle=FILL_SETTLE, now=now)


def register_metric_jobs() -> None:
    periodic_job_register(name=FILL_JOB, every=FILL_EVERY, run=_run_fill)
