from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path

from shequ.config.api import api

urlpatterns: list[URLPattern | URLResolver] = [
    path("", include("shequ.core.urls")),
    path("accounts/", include("shequ.accounts.urls")),
    path("places/", include("shequ.places.urls")),
    path("registry/", include("shequ.registry.urls")),
    path("cases/", include("shequ.cases.urls")),
    path("open311/v2/", include("shequ.cases.open311.urls")),
    path("api/v1/", api.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
]
if settings.DEBUG:
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
