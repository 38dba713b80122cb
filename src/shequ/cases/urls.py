"""Pages of the case loop under /cases/: each area's urlpatterns are added here by one line."""

from django.urls import URLPattern, URLResolver

from . import urls_catalogue, urls_dashboards, urls_imports, urls_pages

app_name = "cases"

urlpatterns: list[URLPattern | URLResolver] = [
    *urls_catalogue.urlpatterns,
    *urls_dashboards.urlpatterns,
    *urls_pages.urlpatterns,
    *urls_imports.urlpatterns,
]
