from django.urls import path

from . import calendar_views, inbox_views, views

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
    # The in-app inbox (every signed-in user).
    path("inbox/", inbox_views.inbox, name="inbox"),
    path("inbox/badge/", inbox_views.inbox_badge, name="inbox_badge"),
    path("inbox/read-all/", inbox_views.inbox_read_all, name="inbox_read_all"),
    path("inbox/<int:notification_id>/read/", inbox_views.inbox_read, name="inbox_read"),
    path("inbox/<int:notification_id>/open/", inbox_views.inbox_open, name="inbox_open"),
]
