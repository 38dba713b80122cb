"""The outcome dashboard of the case loop (结案率、按期结案率、解决率、满意率 …, DOMAIN.md §5).

One page for every seat: a city administrator sees the city with its districts ranked, a district
officer the district with its streets, a street officer or dispatcher the street with its
committees, department staff their unit, committee staff their committee. ``level`` and ``node``
open another node the user may see (the ranking links drill down); anything else is a 404. The
figures come from the daily table only (``selectors_metrics``); the charts (ECharts, vendored) draw
the same numbers the tables beside them show.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any, cast

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from shequ.accounts.visibility import scope_of
from shequ.cases import selectors_metrics
from shequ.cases.metrics import INDICATORS
from shequ.cases.models import Category, MetricLevel
from shequ.core.navigation import nav_entry_register

# The indicators the trend chart draws by default (the table beside it shows the same).
TREND_INDICATORS = ("closed_rate", "closed_on_time_rate", "solved_rate", "satisfaction_rate")
# "" is the default period (the last 30 days up to today).
PRESETS = (("", _("近 30 天")), ("7", _("近 7 天")), ("90", _("近 90 天")), ("365", _("近一年")))


class PeriodForm(forms.Form):
    period = forms.ChoiceField(
        label=_("统计期间"), choices=(*PRESETS, ("custom", _("自定义"))), required=False
    )
    start = forms.DateField(
        label=_("开始日期"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    end = forms.DateField(label=_("结束日期"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    category = forms.ChoiceField(label=_("案件类别"), required=False)
    indicator = forms.ChoiceField(
        label=_("排名指标"), required=False, choices=[(i.code, i.label) for i in INDICATORS]
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        categories = Category.objects.filter(is_active=True, emergency_service="").values_list(
            "code", "major_name", "name"
        )
        category_field = cast(forms.ChoiceField, self.fields["category"])
        category_field.choices = [("", _("全部类别"))] + [
            (code, f"{major} / {name}") for code, major, name in categories
        ]

    def filters(self, today: date) -> tuple[date | None, date | None, str | None, str]:
        """(start, end, category, ranking indicator) of a valid form; the defaults when unbound."""
        if not self.is_bound:
            return None, None, None, "closed_rate"
        data = self.cleaned_data
        preset = data.get("period") or ""
        start, end = (
            (today - timedelta(days=int(preset) - 1), today)
            if preset.isdigit()
            else (
                data.get("start"),
                data.get("end"),
            )
        )
        return start, end, data.get("category") or None, data.get("indicator") or "closed_rate"


def _may_see_dashboards(user: Any) -> bool:
    scope = scope_of(user)
    return bool(scope.division_paths or scope.organisation_ids)


def register_dashboard_navigation() -> None:
    nav_entry_register(
        order=36, label=_("办件成效"), url_name="cases:dashboards", shown_to=_may_see_dashboards
    )


@login_required
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    node = selectors_metrics.access_metric_node(
        user=request.user, level=request.GET.get("level") or None, node=request.GET.get("node") or None
    )
    form = PeriodForm(request.GET or None)
    context: dict[str, Any] = {
        "node": node,
        "form": form,
        "ancestors": selectors_metrics.node_ancestors(request.user, node),
        "homes": selectors_metrics.metric_home_nodes(request.user),
        "levels": dict(MetricLevel.choices),
    }
    template = "cases/dashboards/dashboard.html"
    if form.is_bound and not form.is_valid():
        return render(request, template, context, status=400)
    today = timezone.localdate()
    start, end, category, indicator = form.filters(today)
    try:
        period = selectors_metrics.period_parse(start, end, today=today)
    except selectors_metrics.PeriodError as exc:
        form.add_error(exc.field, exc.message)
        return render(request, template, context, status=400)
    board = selectors_metrics.dashboard(node, period, category=category, indicator=indicator)
    context.update(_figures(board))
    return render(request, template, context)


def _figures(board: selectors_metrics.Dashboard) -> dict[str, Any]:
    """The dashboard's numbers for the template, and the same numbers as JSON for the charts."""
    trend_codes = [code for code in TREND_INDICATORS if code in board.indicators]
    labels = {code: board.indicators[code].label for code in trend_codes}
    chart_trend = {
        "days": [point.day.isoformat() for point in board.trend],
        "due": [point.due for point in board.trend],
        "dueLabel": str(_("到期案件")),
        "series": [
            {
                "name": labels[code],
                "values": [point.value(code).points for point in board.trend],
            }
            for code in trend_codes
        ],
    }
    chart_ranking = None
    if board.ranking is not None and board.ranking.rows:
        chart_ranking = {
            "label": str(board.ranking.indicator.label),
            "names": [row.name for row in board.ranking.rows],
            "values": [row.value.points for row in board.ranking.rows],
            "bands": [row.band for row in board.ranking.rows],
        }
    return {
        "board": board,
        "cards": list(board.indicators.values()),
        "trend_codes": trend_codes,
        "trend_labels": [labels[code] for code in trend_codes],
        "trend_rows": [
            {"day": point.day, "due": point.due, "values": [point.value(code) for code in trend_codes]}
            for point in board.trend
        ],
        "chart_trend": chart_trend,
        "chart_ranking": chart_ranking,
    }
