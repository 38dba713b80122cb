"""Sessions: 30 minutes idle, 12 hours absolute, logout, password change ends every session, CSRF
(DOMAIN.md §14)."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

import pytest
import time_machine
from django.contrib.sessions.models import Session
from django.test import Client
from django.utils import timezone

from shequ.core.models import Event

from .factories import login

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "lantern-Huangpu-7-river"


def _signed_out(response) -> bool:
    return response.status_code == 302 and urlsplit(response["Location"]).path == "/accounts/login/"


def _stay_active(client: Client, start, *, until_minutes: int) -> None:
    """A request every 20 minutes (never idle) up to ``until_minutes`` after ``start``."""
    minutes = 20
    while minutes <= until_minutes:
        with time_machine.travel(start + timedelta(minutes=minutes), tick=False):
            assert client.get("/").status_code == 200, minutes
        minutes += 20


def test_thirty_idle_minutes_end_the_session(staff):
    start = timezone.now()
    client = Client()
    with time_machine.travel(start, tick=False):
        login(client, staff)
        assert client.get("/").status_code == 200
    with time_machine.travel(start + timedelta(minutes=29), tick=False):
        assert client.get("/").status_code == 200  # activity renews the idle timer
    with time_machine.travel(start + timedelta(minutes=29 + 31), tick=False):
        assert _signed_out(client.get("/"))


def test_twelve_hours_end_the_session_even_with_activity(staff):
    start = timezone.now()
    client = Client()
    with time_machine.travel(start, tick=False):
        login(client, staff)
        assert client.get("/").status_code == 200
    _stay_active(client, start, until_minutes=12 * 60 - 1)
    with time_machine.travel(start + timedelta(hours=12, minutes=1), tick=False):
        assert _signed_out(client.get("/"))


def test_the_absolute_lifetime_counts_from_sign_in_through_the_login_page(resident, password):
    start = timezone.now()
    client = Client()
    with time_machine.travel(start, tick=False):
        assert (
            client.post("/accounts/login/", {"username": "resident", "password": password}).status_code == 302
        )
    _stay_active(client, start, until_minutes=11 * 60 + 50)
    with time_machine.travel(start + timedelta(hours=12, minutes=5), tick=False):
        assert _signed_out(client.get("/"))


def test_logout_needs_a_post_and_ends_the_session(staff):
    client = Client()
    login(client, staff)

    response = client.post("/accounts/logout/")

    assert response.status_code == 302
    assert _signed_out(client.get("/"))


def test_password_change_ends_every_session_including_this_one(staff, password):
    here, elsewhere = Client(), Client()
    login(here, staff)
    login(elsewhere, staff)
    assert elsewhere.get("/").status_code == 200

    response = here.post(
        "/accounts/password/",
        {"old_password": password, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )

    assert response.status_code == 302
    assert response["Location"] == "/accounts/password/changed/"
    page = here.get(response["Location"])
    assert "所有设备上的登录（包括本次）都已结束" in page.content.decode()
    assert _signed_out(here.get("/"))
    assert _signed_out(elsewhere.get("/"))
    staff.refresh_from_db()
    assert staff.check_password(NEW_PASSWORD)
    assert Event.objects.filter(type="PASSWORD_CHANGED", subject_id=str(staff.pk)).exists()


def test_password_change_with_a_weak_password_changes_nothing(staff, password):
    client = Client()
    login(client, staff)

    response = client.post(
        "/accounts/password/",
        {"old_password": password, "new_password1": "short1", "new_password2": "short1"},
    )

    assert response.status_code == 200
    staff.refresh_from_db()
    assert staff.check_password(password)
    assert client.get("/").status_code == 200


def test_password_change_with_a_wrong_old_password_is_refused(staff):
    client = Client()
    login(client, staff)

    response = client.post(
        "/accounts/password/",
        {"old_password": "wrong-old-password", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )

    assert response.status_code == 200
    assert "old_password" in response.context["form"].errors


def test_post_without_a_csrf_token_is_refused(staff, password):
    client = Client(enforce_csrf_checks=True)
    login(client, staff)

    response = client.post(
        "/accounts/password/",
        {"old_password": password, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )

    assert response.status_code == 403
    staff.refresh_from_db()
    assert staff.check_password(password)


def test_login_without_a_csrf_token_is_refused(resident, password):
    client = Client(enforce_csrf_checks=True)

    response = client.post("/accounts/login/", {"username": "resident", "password": password})

    assert response.status_code == 403
    assert not Session.objects.exists()


def test_session_cookie_is_http_only(resident, password):
    client = Client()
    client.post("/accounts/login/", {"username": "resident", "password": password})

    cookie = client.cookies["sessionid"]
    assert cookie["httponly"]
    assert cookie["samesite"] == "Lax"
