from __future__ import annotations

from django.urls import URLPattern, URLResolver

from .views import backflow, imports, people, resident, tags

app_name = "registry"

urlpatterns: list[URLPattern | URLResolver] = [
    *people.urlpatterns,
    *imports.urlpatterns,
    *tags.urlpatterns,
    *resident.urlpatterns,
    *backflow.urlpatterns,
]
