"""Session lifetime and the second-factor gate for staff."""

from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse

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


# Paths a signed-in staff member may use before the second factor is verified.
_OPEN_PREFIXES = ("/accounts/", "/static/", "/i18n/", "/api/")


class RequireSecondFactorMiddleware:
    """Staff who have signed in with a password but not yet with TOTP may only reach the sign-in,
    verification and enrolment pages (the API refuses them itself)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if (
            user.is_authenticated
            and not request.path.startswith(_OPEN_PREFIXES)
            and not second_factor_satisfied(request, user)
        ):
            return redirect(f"{reverse('accounts:otp_verify')}?next={request.get_full_path()}")
        return self.get_response(request)
