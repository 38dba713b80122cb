from django.urls import path

from . import views

app_name = "places"

urlpatterns = [
    path("", views.division_browse, name="browse"),
    path("compound/<str:code>/", views.compound_detail, name="compound"),
    path("<str:code>/", views.division_detail, name="division"),
]
