from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path

from shequ.config.api import api

urlpatterns: list[URLPattern | URLResolver] = [
    # The machine interfaces first: their prefixes are their own, and URL resolution tries the
    # patterns in order, so their requests skip the pages' patterns.
    path("api/v1/", api.urls),
    path("open311/v2/", include("shequ.cases.open311.urls")),
    path("", include("shequ.core.urls")),
    path("accounts/", include("shequ.accounts.urls")),
    path("places/", include("shequ.places.urls")),
    path("registry/", include("shequ.registry.urls")),
    path("cases/", include("shequ.cases.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
]
if settings.DEBUG:
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
