"""Pages of the dispatch catalogue and of the routing rules (added to ``cases.urls``, namespace
``cases``): /cases/catalogue/… and /cases/routing/…."""

from __future__ import annotations

from django.urls import URLPattern

from .views import catalogue, routing

urlpatterns: list[URLPattern] = [
    *catalogue.urlpatterns,
    *routing.urlpatterns,
]
