"""Outcome metrics over the API (from the daily table, like the dashboard page):

- ``GET /cases/metrics?level&node&start&end&category``: every indicator of DOMAIN.md §5 with its
  numerator and denominator (``value`` is null when the denominator is 0);
- ``GET /cases/metrics/trend``: the same per day;
- ``GET /cases/metrics/ranking?…&indicator&min_volume``: the level below the node, ranked within
  volume bands, with the nodes below the minimum volume listed apart.

Without ``node`` the caller's own node is used. A node outside the caller's scope answers 404
``not_found``, like one that does not exist. Periods default to the last 30 days, at most 366 days.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from shequ.cases import selectors_metrics
from shequ.cases.metrics import INDICATOR_BY_CODE
from shequ.core.errors import ApiError

router = Router(tags=["cases"])


class MetricsQuery(Schema):
    level: str | None = None
    node: str | None = Field(None, max_length=24)
    start: date | None = None
    end: date | None = None
    category: str | None = Field(None, max_length=8)


class RankingQuery(MetricsQuery):
    indicator: str = "closed_rate"
    min_volume: int | None = Field(None, ge=1)
    band: str = selectors_metrics.BAND_VOLUME


class IndicatorOut(Schema):
    code: str
    label: str
    numerator: int
    denominator: int
    value: float | None
    lower_is_better: bool


class NodeOut(Schema):
    level: str
    node: str
    name: str


class MetricsOut(Schema):
    node: NodeOut
    start: date
    end: date
    category: str | None
    indicators: list[IndicatorOut]


class TrendDayOut(Schema):
    day: date
    indicators: list[IndicatorOut]


class TrendOut(Schema):
    node: NodeOut
    start: date
    end: date
    category: str | None
    days: list[TrendDayOut]


class RankRowOut(Schema):
    node: str
    name: str
    volume: int
    band: int
    rank: int | None
    indicator: IndicatorOut


class BandOut(Schema):
    number: int
    low: int
    high: int


class RankingOut(Schema):
    node: NodeOut
    level: str | None
    start: date
    end: date
    category: str | None
    indicator: str
    min_volume: int
    bands: list[BandOut]
    ranked: list[RankRowOut]
    too_small: list[RankRowOut]


def _resolve(request: HttpRequest, query: MetricsQuery) -> tuple[selectors_metrics.MetricNode, Any]:
    node = selectors_metrics.access_metric_node(user=request.user, level=query.level, node=query.node)
    try:
        period = selectors_metrics.period_parse(query.start, query.end)
    except selectors_metrics.PeriodError as exc:
        raise ApiError(exc.message, code="invalid", field=exc.field, status=422) from exc
    return node, period


def _indicator(value: selectors_metrics.IndicatorValue) -> dict[str, Any]:
    return {
        "code": value.code,
        "label": value.label,
        "numerator": value.numerator,
        "denominator": value.denominator,
        "value": value.value,
        "lower_is_better": value.lower_is_better,
    }


def _node(node: selectors_metrics.MetricNode) -> dict[str, str]:
    return {"level": node.level, "node": node.node, "name": node.name}


@router.get("/metrics", response=MetricsOut)
def metrics_read(request: HttpRequest, query: Query[MetricsQuery]) -> dict[str, Any]:
    node, period = _resolve(request, query)
    values = selectors_metrics.indicators(node.level, node.node, period.start, period.end, query.category)
    return {
        "node": _node(node),
        "start": period.start,
        "end": period.end,
        "category": query.category,
        "indicators": [_indicator(v) for v in values.values()],
    }


@router.get("/metrics/trend", response=TrendOut)
def metrics_trend(request: HttpRequest, query: Query[MetricsQuery]) -> dict[str, Any]:
    node, period = _resolve(request, query)
    days = selectors_metrics.trend(node.level, node.node, period.start, period.end, query.category)
    return {
        "node": _node(node),
        "start": period.start,
        "end": period.end,
        "category": query.category,
        "days": [{"day": d.day, "indicators": [_indicator(v) for v in d.values.values()]} for d in days],
    }


@router.get("/metrics/ranking", response=RankingOut)
def metrics_ranking(request: HttpRequest, query: Query[RankingQuery]) -> dict[str, Any]:
    if query.indicator not in INDICATOR_BY_CODE:
        raise ApiError("unknown indicator", code="invalid", field="indicator", status=422)
    if query.band not in {selectors_metrics.BAND_VOLUME, selectors_metrics.BAND_NONE}:
        raise ApiError("band is volume or none", code="invalid", field="band", status=422)
    node, period = _resolve(request, query)
    out: dict[str, Any] = {
        "node": _node(node),
        "level": node.child_level,
        "start": period.start,
        "end": period.end,
        "category": query.category,
        "indicator": query.indicator,
        "min_volume": query.min_volume or selectors_metrics.ranking_min_volume(),
        "bands": [],
        "ranked": [],
        "too_small": [],
    }
    if node.child_level is None:
        return out
    ranked = selectors_metrics.ranking(
        node.child_level,
        node.node,
        period.start,
        period.end,
        indicator=query.indicator,
        category=query.category,
        min_volume=query.min_volume,
        band=query.band,
    )

    def row(r: selectors_metrics.RankRow) -> dict[str, Any]:
        return {
            "node": r.node,
            "name": r.name,
            "volume": r.volume,
            "band": r.band,
            "rank": r.rank,
            "indicator": _indicator(r.value),
        }

    out["min_volume"] = ranked.min_volume
    out["bands"] = [{"number": b.number, "low": b.low, "high": b.high} for b in ranked.bands]
    out["ranked"] = [row(r) for r in ranked.rows]
    out["too_small"] = [row(r) for r in ranked.too_small]
    return out
