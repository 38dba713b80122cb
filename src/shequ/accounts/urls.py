from django.contrib.auth import views as auth_views
from django.urls import path

from . import views

app_name = "accounts"

urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("otp/verify/", views.otp_verify, name="otp_verify"),
    path("otp/enrol/", views.otp_enrol, name="otp_enrol"),
    path("password/", views.password_change, name="password_change"),
    path("password/changed/", views.password_changed, name="password_changed"),
    path("tokens/", views.tokens, name="tokens"),
    path("tokens/<int:token_id>/revoke/", views.token_revoke, name="token_revoke"),
    path("organisations/", views.organisation_list, name="organisation_list"),
    path("organisations/<int:organisation_id>/", views.organisation_detail, name="organisation_detail"),
]
