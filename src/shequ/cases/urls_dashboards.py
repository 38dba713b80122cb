"""The outcome dashboard's page (added to ``shequ.cases.urls``, namespace ``cases``)."""

from __future__ import annotations

from django.urls import URLPattern, path

from shequ.cases.views import dashboards

urlpatterns: list[URLPattern] = [
    path("dashboards/", dashboards.dashboard, name="dashboards"),
]
