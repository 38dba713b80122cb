"""Lockout after 5 failures per (username, IP) with a 15-minute cool-off; the password policy;
Argon2 as the hasher (DOMAIN.md §14)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone

from shequ.accounts.forms import PasswordChangeForm

from .factories import UserFactory

pytestmark = pytest.mark.django_db


def _attempt(username: str, password: str, ip: str = "10.0.0.1"):
    return Client(REMOTE_ADDR=ip).post("/accounts/login/", {"username": username, "password": password})


def _fail(username: str, times: int, ip: str = "10.0.0.1") -> None:
    for _ in range(times):
        response = _attempt(username, "not-the-password", ip)
        assert response.status_code in {200, 429}


@pytest.fixture
def alice(password):
    return UserFactory(username="alice")


@pytest.fixture
def bob(password):
    return UserFactory(username="bob")


def test_four_failures_do_not_lock(alice, password):
    _fail("alice", 4)

    assert _attempt("alice", password).status_code == 302


def test_five_failures_lock_the_username_at_that_ip(alice, password):
    _fail("alice", 5)

    response = _attempt("alice", password)

    assert response.status_code == 429
    assert "账户已暂时锁定" in response.content.decode()


def test_other_ips_and_other_users_are_unaffected(alice, bob, password):
    _fail("alice", 5, ip="10.0.0.1")

    assert _attempt("alice", password, ip="10.0.0.2").status_code == 302
    assert _attempt("bob", password, ip="10.0.0.1").status_code == 302
    assert _attempt("alice", password, ip="10.0.0.1").status_code == 429


def test_the_lock_lifts_after_the_cool_off(alice, password):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        _fail("alice", 5)
        assert _attempt("alice", password).status_code == 429
    with time_machine.travel(start + timedelta(minutes=10), tick=False):
        assert _attempt("alice", password).status_code == 429
        _fail("alice", 2)  # hammering during the lock does not extend it
    with time_machine.travel(start + timedelta(minutes=14, seconds=59), tick=False):
        assert _attempt("alice", password).status_code == 429
    with time_machine.travel(start + timedelta(minutes=15, seconds=1), tick=False):
        assert _attempt("alice", password).status_code == 302


def test_failed_attempts_never_store_the_password(alice):
    _attempt("alice", "my-secret-guess-42")

    stored = " ".join(AccessAttempt.objects.values_list("post_data", flat=True))
    assert "alice" in AccessAttempt.objects.get().username
    assert "my-secret-guess-42" not in stored


def test_lockout_settings_are_five_per_username_and_ip_for_fifteen_minutes():
    assert settings.AXES_FAILURE_LIMIT == 5
    assert timedelta(minutes=15) == settings.AXES_COOLOFF_TIME
    assert settings.AXES_LOCKOUT_PARAMETERS == [["username", "ip_address"]]


@pytest.mark.parametrize(
    ("candidate", "code"),
    [
        ("Sh0rt-pass!", "password_too_short"),  # 11 characters
        ("password1234", "password_too_common"),  # on the common-password list
        ("123456789012345", "password_entirely_numeric"),
    ],
)
def test_weak_passwords_are_rejected_by_the_validators(candidate, code):
    with pytest.raises(ValidationError) as excinfo:
        validate_password(candidate)

    assert code in {error.code for error in excinfo.value.error_list}


def test_a_long_uncommon_password_passes():
    validate_password("lantern-Huangpu-7-river")


@pytest.mark.parametrize("candidate", ["Sh0rt-pass!", "password1234", "qwertyuiop123"])
def test_password_change_form_rejects_weak_passwords(alice, password, candidate):
    form = PasswordChangeForm(
        alice, {"old_password": password, "new_password1": candidate, "new_password2": candidate}
    )

    assert not form.is_valid()
    assert "new_password2" in form.errors


def test_password_change_form_accepts_a_strong_password(alice, password):
    new = "lantern-Huangpu-7-river"
    form = PasswordChangeForm(alice, {"old_password": password, "new_password1": new, "new_password2": new})

    assert form.is_valid(), form.errors


def test_argon2_is_the_hasher_outside_tests():
    from shequ.config.settings import base  # production and local take the hashers from base

    assert base.PASSWORD_HASHERS[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"


def test_minimum_length_is_twelve():
    from shequ.config.settings import base

    lengths = [v["OPTIONS"]["min_length"] for v in base.AUTH_PASSWORD_VALIDATORS if "OPTIONS" in v]
    assert lengths == [12]
