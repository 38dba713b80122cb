from django.urls import path

from . import calendar_views, views

app_name = "core"

urlpatterns = [
    path("", views.home, name="home"),
    # The working-day calendar (city administrator).
    path("calendar/", calendar_views.calendar_years, name="calendar"),
    path("calendar/<int:year>/", calendar_views.calendar_year, name="calendar_year"),
    path("calendar/<int:year>/days/", calendar_views.calendar_day_add, name="calendar_day_add"),
    path(
        "calendar/<int:year>/days/<str:day>/remove/",
        calendar_views.calendar_day_delete,
        name="calendar_day_remove",
    ),
    path("calendar/<int:year>/publish/", calendar_views.calendar_year_complete, name="calendar_year_publish"),
]
