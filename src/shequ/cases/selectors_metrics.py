"""Reads of the outcome dashboards: indicators, trend and ranking from the metric tables only
(``CaseMetricDay`` and ``CaseMetricMonth``, filled by ``shequ.cases.metrics``), and which metric nodes
a user may see.

Nodes: a division (``city`` / ``district`` / ``street`` / ``committee`` by its level, node = its code)
or a responsible unit (``department``: ``org:<id>``, or the division code of a committee or street
that handles cases itself). A user sees the divisions at or below their staff memberships and the
units they belong to or whose area lies in their divisions; anything else is a 404, like a node that
does not exist (the visibility rule of the whole project).

Sums over a period read whole calendar months from ``CaseMetricMonth`` and only the remaining days
from ``CaseMetricDay`` (the daily trend reads days).

Rankings compare like with like: only nodes whose indicator denominator reaches the minimum volume
(``SHEQU_RANKING_MIN_VOLUME``, default 30) are ranked, and they are ranked within volume bands — the
eligible nodes sorted by volume and cut into up to three bands of at least three nodes each (smaller
/ middle / larger), nodes of equal volume always in the same band.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Q, Sum
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from shequ.accounts.models import Organisation
from shequ.accounts.visibility import scope_of
from shequ.places.models import Division

from .metrics import COUNTERS, INDICATOR_BY_CODE, INDICATORS, Indicator, ratio
from .models import CaseMetricDay, CaseMetricMonth, MetricLevel

MAX_PERIOD_DAYS = 366
DEFAULT_PERIOD_DAYS = 30
BAND_VOLUME = "volume"
BAND_NONE = "none"
MAX_BANDS = 3
MIN_PER_BAND = 3
CHILD_LEVEL = {
    MetricLevel.CITY.value: MetricLevel.DISTRICT.value,
    MetricLevel.DISTRICT.value: MetricLevel.STREET.value,
    MetricLevel.STREET.value: MetricLevel.COMMITTEE.value,
}
_DIVISION_LEVELS = frozenset(CHILD_LEVEL) | {MetricLevel.COMMITTEE.value}
ORG_PREFIX = "org:"


def ranking_min_volume() -> int:
    return max(1, int(getattr(settings, "SHEQU_RANKING_MIN_VOLUME", 30)))


# --- values --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class IndicatorValue:
    indicator: Indicator
    numerator: int
    denominator: int

    @property
    def code(self) -> str:
        return self.indicator.code

    @property
    def label(self) -> str:
        return str(self.indicator.label)

    @property
    def definition(self) -> str:
        return str(self.indicator.definition)

    @property
    def lower_is_better(self) -> bool:
        return self.indicator.lower_is_better

    @property
    def value(self) -> float | None:
        return ratio(self.numerator, self.denominator)

    @property
    def points(self) -> float | None:
        """The share in percentage points, one decimal (for charts)."""
        value = self.value
        return None if value is None else round(value * 100, 1)

    @property
    def percent(self) -> str:
        """ "87.5%", or "—" when there is nothing to divide by."""
        value = self.value
        return "—" if value is None else f"{value * 100:.1f}%"


def _values(totals: dict[str, int]) -> dict[str, IndicatorValue]:
    out = {}
    for indicator in INDICATORS:
        numerator, denominator = indicator.parts(totals)
        out[indicator.code] = IndicatorValue(indicator, numerator, denominator)
    return out


_SUMS = {name: Sum(name) for name in COUNTERS}


def _nodes(query: Any, nodes: list[str]) -> Any:
    return query.filter(node=nodes[0]) if len(nodes) == 1 else query.filter(node__in=nodes)


def _rows(level: str, nodes: list[str], start: date, end: date, category: str | None) -> Any:
    query = CaseMetricDay.objects.filter(
        level=level, category_code=category or "", day__gte=start, day__lte=end
    )
    return _nodes(query, nodes)


def _whole_months(start: date, end: date) -> tuple[date, date] | None:
    """The first and last day of the whole calendar months inside [start, end], if any."""
    first = start if start.day == 1 else (start.replace(day=1) + timedelta(days=32)).replace(day=1)
    after = end + timedelta(days=1)
    last = end if after.day == 1 else end.replace(day=1) - timedelta(days=1)
    return (first, last) if first <= last else None


def period_sums(
    level: str, nodes: list[str], start: date, end: date, category: str | None = None
) -> dict[str, dict[str, int]]:
    """The counters of each of ``nodes`` summed over [start, end]: whole calendar months from the
    monthly table, the days before and after them from the daily table (at most two grouped reads,
    each an index range per node), so a year costs about twelve rows a node, not 365."""
    out: dict[str, dict[str, int]] = {}

    def add(rows: Any) -> None:
        for row in rows.values("node").annotate(**_SUMS):
            total = out.setdefault(row["node"], dict.fromkeys(COUNTERS, 0))
            for name in COUNTERS:
                total[name] += row[name] or 0

    months = _whole_months(start, end)
    if months is None:
        add(_rows(level, nodes, start, end, category))
        return out
    first, last = months
    add(
        _nodes(
            CaseMetricMonth.objects.filter(
                level=level, category_code=category or "", month__gte=first, month__lte=last
            ),
            nodes,
        )
    )
    edges = Q()
    if start < first:
        edges |= Q(day__gte=start, day__lt=first)
    if last < end:
        edges |= Q(day__gt=last, day__lte=end)
    if edges:
        add(_nodes(CaseMetricDay.objects.filter(edges, level=level, category_code=category or ""), nodes))
    return out


def totals(level: str, node: str, start: date, end: date, category: str | None = None) -> dict[str, int]:
    """The counters summed over the period."""
    return period_sums(level, [node], start, end, category).get(node, dict.fromkeys(COUNTERS, 0))


def indicators(
    level: str, node: str, start: date, end: date, category: str | None = None
) -> dict[str, IndicatorValue]:
    """Every indicator of DOMAIN.md §5 with numerator and denominator, for one node and period."""
    return _values(totals(level, node, start, end, category))


@dataclass(frozen=True)
class TrendDay:
    day: date
    counts: dict[str, int]

    @property
    def due(self) -> int:
        return self.counts["due"]

    @property
    def reported(self) -> int:
        return self.counts["reported"]

    def value(self, code: str) -> IndicatorValue:
        indicator = INDICATOR_BY_CODE[code]
        return IndicatorValue(indicator, *indicator.parts(self.counts))

    @property
    def values(self) -> dict[str, IndicatorValue]:
        return _values(self.counts)


def _trend(rows: Any, start: date, end: date) -> list[TrendDay]:
    found = {row[0]: dict(zip(COUNTERS, row[1:], strict=True)) for row in rows}
    zero = dict.fromkeys(COUNTERS, 0)
    return [
        TrendDay(day=day, counts=found.get(day, zero))
        for day in (start + timedelta(days=i) for i in range((end - start).days + 1))
    ]


def trend(level: str, node: str, start: date, end: date, category: str | None = None) -> list[TrendDay]:
    """Per day of the period (days without rows included, all zero)."""
    rows = _rows(level, [node], start, end, category).values_list("day", *COUNTERS)
    return _trend(rows, start, end)


def _summed(days: list[TrendDay]) -> dict[str, int]:
    out = dict.fromkeys(COUNTERS, 0)
    for point in days:
        for name, count in point.counts.items():
            out[name] += count
    return out


@dataclass(frozen=True)
class RankRow:
    node: str
    name: str
    volume: int
    value: IndicatorValue
    values: dict[str, IndicatorValue]
    band: int = 0  # 1 = smallest volumes; 0 = not ranked (volume below the minimum)
    rank: int | None = None


@dataclass(frozen=True)
class Band:
    number: int
    low: int
    high: int


@dataclass
class Ranking:
    level: str
    indicator: Indicator
    min_volume: int
    rows: list[RankRow] = field(default_factory=list)  # ranked, band by band, best first
    too_small: list[RankRow] = field(default_factory=list)  # below the minimum volume, not ranked
    bands: list[Band] = field(default_factory=list)


def _children(level: str, parent_node: str) -> list[tuple[str, str]]:
    """(code, name) of the ``level`` divisions below ``parent_node``: its children by the (level,
    parent) index when ``level`` is the next one down, else its descendants by path."""
    parent = Division.objects.filter(code=parent_node).values("pk", "path", "level").first()
    if parent is None:
        return []
    below = Division.objects.filter(level=level, is_active=True)
    if CHILD_LEVEL.get(parent["level"]) == level:
        below = below.filter(parent_id=parent["pk"])
    else:
        below = below.filter(path__startswith=parent["path"]).exclude(code=parent_node)
    return list(below.order_by("code").values_list("code", "name"))


def _cut(volumes: list[int], bands: int) -> list[int]:
    """Band number (1…) of each volume in ascending ``volumes``; equal volumes share a band."""
    count = len(volumes)
    out: list[int] = []
    for i, volume in enumerate(volumes):
        if i and volume == volumes[i - 1]:
            out.append(out[-1])
        else:
            out.append(min(bands, i * bands // count + 1))
    return out


def ranking(
    level: str,
    parent_node: str,
    start: date,
    end: date,
    *,
    indicator: str = "closed_rate",
    category: str | None = None,
    min_volume: int | None = None,
    band: str = BAND_VOLUME,
) -> Ranking:
    """Rank the ``level`` divisions below ``parent_node`` on ``indicator``.

    Volume = the indicator's denominator over the period; nodes below ``min_volume`` are listed apart,
    unranked. ``band="volume"`` ranks within volume bands (like with like), ``band="none"`` all
    together. Ties share a rank.
    """
    chosen: Indicator = INDICATOR_BY_CODE[indicator]
    minimum = ranking_min_volume() if min_volume is None else max(1, min_volume)
    result = Ranking(level=level, indicator=chosen, min_volume=minimum)
    names = dict(_children(level, parent_node))
    if not names:
        return result
    summed = period_sums(level, list(names), start, end, category)
    zero = dict.fromkeys(COUNTERS, 0)
    eligible: list[RankRow] = []
    for code, name in names.items():
        values = _values(summed.get(code, zero))
        value = values[chosen.code]
        row = RankRow(node=code, name=name, volume=value.denominator, value=value, values=values)
        (eligible if value.denominator >= minimum else result.too_small).append(row)
    result.too_small.sort(key=lambda r: (-r.volume, r.node))
    if not eligible:
        return result
    eligible.sort(key=lambda r: (r.volume, r.node))
    count = min(MAX_BANDS, max(1, len(eligible) // MIN_PER_BAND)) if band == BAND_VOLUME else 1
    numbers = _cut([r.volume for r in eligible], count)
    direction = 1 if chosen.lower_is_better else -1
    for number in sorted(set(numbers)):
        members = [r for r, n in zip(eligible, numbers, strict=True) if n == number]
        result.bands.append(Band(number=number, low=members[0].volume, high=members[-1].volume))
        members.sort(key=lambda r: (direction * (r.value.value or 0.0), -r.volume, r.node))
        previous: float | None = None
        rank = 0
        for position, member in enumerate(members, start=1):
            current = member.value.value or 0.0
            if previous is None or current != previous:
                rank = position
            previous = current
            result.rows.append(
                RankRow(
                    node=member.node,
                    name=member.name,
                    volume=member.volume,
                    value=member.value,
                    values=member.values,
                    band=number,
                    rank=rank,
                )
            )
    return result


# --- nodes and who may see them --------------------------------------------------------------------


@dataclass(frozen=True)
class MetricNode:
    level: str
    node: str
    name: str
    path: str = ""  # the division's path (divisions only)

    @property
    def child_level(self) -> str | None:
        return CHILD_LEVEL.get(self.level)


def _division_node(division: Division) -> MetricNode:
    return MetricNode(level=division.level, node=division.code, name=division.name, path=division.path)


def _org_node(org: Organisation) -> MetricNode:
    return MetricNode(level=MetricLevel.DEPARTMENT.value, node=f"{ORG_PREFIX}{org.pk}", name=org.name)


def _inside(path: str, paths: tuple[str, ...]) -> bool:
    return any(path.startswith(own) for own in paths)


def metric_home_nodes(user: Any) -> list[MetricNode]:
    """The nodes a user's memberships give a dashboard: their divisions (highest first), then units."""
    scope = scope_of(user)
    divisions = Division.objects.filter(path__in=scope.division_paths).only("code", "name", "level", "path")
    nodes = sorted((_division_node(d) for d in divisions), key=lambda n: (n.path.count("/"), n.node))
    orgs = Organisation.objects.filter(pk__in=scope.organisation_ids).only("name").order_by("name", "pk")
    return nodes + [_org_node(org) for org in orgs]


def access_metric_node(*, user: Any, level: str | None = None, node: str | None = None) -> MetricNode:
    """The node a dashboard asks for, if the user may see it (no ``node``: the user's first own node);
    otherwise ``Http404``, the same answer as for a node that does not exist."""
    scope = scope_of(user)
    if not node:
        homes = metric_home_nodes(user)
        if not homes:
            raise Http404
        if level and level != homes[0].level:
            homes = [home for home in homes if home.level == level] or [homes[0]]
        return homes[0]
    if node.startswith(ORG_PREFIX):
        if level not in (None, "", MetricLevel.DEPARTMENT.value):
            raise Http404
        pk = node[len(ORG_PREFIX) :]
        org = (
            Organisation.objects.select_related("division").filter(pk=int(pk)).first()
            if pk.isdigit()
            else None
        )
        if org is None:
            raise Http404
        if org.pk in scope.organisation_ids or (
            org.division is not None and _inside(org.division.path, scope.division_paths)
        ):
            return _org_node(org)
        raise Http404
    division = Division.objects.filter(code=node).only("code", "name", "level", "path").first()
    if division is None or not _inside(division.path, scope.division_paths):
        raise Http404
    if level == MetricLevel.DEPARTMENT.value:
        # A committee or street handling cases itself, seen as a responsible unit.
        return MetricNode(
            level=MetricLevel.DEPARTMENT.value, node=division.code, name=division.name, path=division.path
        )
    if level and level != division.level:
        raise Http404
    if division.level not in _DIVISION_LEVELS:
        raise Http404
    return _division_node(division)


def node_ancestors(user: Any, node: MetricNode) -> list[MetricNode]:
    """The divisions above ``node`` that the user may also open (for the way back up)."""
    if not node.path:
        return []
    scope = scope_of(user)
    codes = [part for part in node.path.split("/") if part and part != node.node]
    rows = Division.objects.filter(code__in=codes).only("code", "name", "level", "path")
    found = sorted(
        (d for d in rows if _inside(d.path, scope.division_paths)), key=lambda d: d.path.count("/")
    )
    return [_division_node(d) for d in found]


# --- periods -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    start: date
    end: date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


class PeriodError(ValueError):
    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


def period_parse(start: date | None, end: date | None, *, today: date | None = None) -> Period:
    """The period asked for; defaults to the last 30 days up to today. At most 366 days."""
    today = today or timezone.localdate()
    end = end or today
    start = start or end - timedelta(days=DEFAULT_PERIOD_DAYS - 1)
    if start > end:
        raise PeriodError(_("开始日期不能晚于结束日期。"), "start")
    if (end - start).days + 1 > MAX_PERIOD_DAYS:
        raise PeriodError(_("统计期间最长 %(n)s 天。") % {"n": MAX_PERIOD_DAYS}, "end")
    return Period(start=start, end=end)


# --- the dashboard -------------------------------------------------------------------------------


@dataclass
class Dashboard:
    node: MetricNode
    period: Period
    category: str | None
    indicators: dict[str, IndicatorValue]
    trend: list[TrendDay]
    ranking: Ranking | None


def dashboard(
    node: MetricNode, period: Period, *, category: str | None = None, indicator: str = "closed_rate"
) -> Dashboard:
    """Indicator cards, the daily trend and (for a city, district or street) the ranking of the level
    below: two reads of the daily table and two of the division tree."""
    ranked = None
    if node.child_level is not None:
        ranked = ranking(
            node.child_level, node.node, period.start, period.end, indicator=indicator, category=category
        )
    days = trend(node.level, node.node, period.start, period.end, category)
    return Dashboard(
        node=node,
        period=period,
        category=category,
        # The same rows as ``indicators()`` reads, summed here instead of read twice.
        indicators=_values(_summed(days)),
        trend=days,
        ranking=ranked,
    )
