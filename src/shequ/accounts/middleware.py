"""Session lifetime and the second-factor gate for staff."""

from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode

from .security import second_factor_satisfied

SESSION_STARTED_KEY = "shequ_started_at"


class SessionLifetimeMiddleware:
    """Ends a session 12 hours after sign-in whatever the activity (the 30-minute idle timeout is
    Django's own ``SESSION_COOKIE_AGE`` renewed on every request)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            started = request.session.get(SESSION_STARTED_KEY)
            now = time.time()
            if started is None:
                request.session[SESSION_STARTED_KEY] = now
            elif now - float(started) > settings.SHEQU_SESSION_ABSOLUTE_SECONDS:
                logout(request)
        return self.get_response(request)


# Paths a signed-in staff member may use before the second factor is verified. The API is open here
# because it refuses unverified sessions itself (``api_auth.VerifiedSessionAuth``) with a JSON 401.
_OPEN_PREFIXES = ("/static/", "/i18n/", "/api/", "/favicon.ico")
_OPEN_URL_NAMES = (
    "accounts:login",
    "accounts:logout",
    "accounts:otp_verify",
    "accounts:otp_enrol",
    "accounts:password_changed",
)


def _open_paths() -> frozenset[str]:
    return frozenset(reverse(name) for name in _OPEN_URL_NAMES)


class RequireSecondFactorMiddleware:
    """Staff who have signed in with a password but not yet with TOTP may only reach the sign-in,
    verification and enrolment pages; everything else (the Django admin included) sends them to
    verification, keeping where they were going in ``next``."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if (
            user.is_authenticated
            and not request.path.startswith(_OPEN_PREFIXES)
            and request.path not in _open_paths()
            and not second_factor_satisfied(request, user)
        ):
            if request.headers.get("HX-Request") == "true":
                # An htmx fragment (the inbox badge …) is part of a page, not a page: answering it with
                # the verification page would nest that page, with its own badge, inside the one shown.
                return HttpResponse(status=401)
            target = reverse("accounts:otp_verify")
            return redirect(f"{target}?{urlencode({'next': request.get_full_path()})}")
        return self.get_response(request)
