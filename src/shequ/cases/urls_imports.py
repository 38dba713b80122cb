"""Pages of the 12345 hotline import under /cases/imports/12345/."""

from __future__ import annotations

from django.urls import URLPattern, path

from .views import imports

urlpatterns: list[URLPattern] = [
    path("imports/12345/", imports.hotline_import_page, name="hotline_import"),
    path("imports/12345/confirm", imports.hotline_import_confirm, name="hotline_import_confirm"),
    path("imports/12345/template.csv", imports.hotline_import_template, name="hotline_import_template"),
]
