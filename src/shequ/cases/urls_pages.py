"""The pages of the case loop: the resident's report and cases, the feedback link, the committee's
quick registration, the dispatch board, the unit's queue, the checker's tasks and the case page."""

from __future__ import annotations

from django.urls import URLPattern

from .views import case, resident, workbench

urlpatterns: list[URLPattern] = [
    *resident.urlpatterns,
    *workbench.urlpatterns,
    *case.urlpatterns,
]
