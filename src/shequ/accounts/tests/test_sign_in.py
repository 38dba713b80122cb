"""Sign-in: password, then TOTP for staff (enrolment at first sign-in), and the gate in front of
every page but sign-in itself (DOMAIN.md §14)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

from shequ.accounts.models import Role
from shequ.core.models import Event

from .conftest import totp_code
from .factories import UserFactory, login, totp_device_confirmed, user_with_role

pytestmark = pytest.mark.django_db


def _sign_in(client: Client, username: str, password: str, next_url: str = "") -> str:
    data = {"username": username, "password": password}
    if next_url:
        data["next"] = next_url
    response = client.post("/accounts/login/", data)
    assert response.status_code == 302, response.content
    return response["Location"]


def _next_of(location: str) -> str:
    return parse_qs(urlsplit(location).query)["next"][0]


def test_staff_without_a_device_is_sent_to_enrolment(client, staff, password):
    location = _sign_in(client, "worker", password)

    assert urlsplit(location).path == "/accounts/otp/enrol/"
    page = client.get(location)
    assert page.status_code == 200
    assert b"<svg" in page.content  # the QR code, inline
    assert TOTPDevice.objects.filter(user=staff, confirmed=False).count() == 1
    assert page.context["secret"] in page.content.decode()
    assert len(page.context["secret"]) >= 32


def test_enrolment_with_the_right_code_verifies_the_session(client, staff, password):
    location = _sign_in(client, "worker", password)
    client.get(location)
    device = TOTPDevice.objects.get(user=staff, confirmed=False)

    response = client.post("/accounts/otp/enrol/", {"token": totp_code(device), "next": "/"})

    assert response.status_code == 302
    assert response["Location"] == "/"
    device.refresh_from_db()
    assert device.confirmed
    assert client.get("/").status_code == 200
    assert Event.objects.filter(type="SECOND_FACTOR_ENROLLED", subject_id=str(staff.pk)).exists()


def test_enrolment_with_a_wrong_code_is_refused(client, staff, password):
    client.get(_sign_in(client, "worker", password))
    device = TOTPDevice.objects.get(user=staff, confirmed=False)
    wrong = f"{(int(totp_code(device)) + 1) % 1_000_000:06d}"

    response = client.post("/accounts/otp/enrol/", {"token": wrong})

    assert response.status_code == 200
    assert "验证码不正确" in response.content.decode()
    device.refresh_from_db()
    assert not device.confirmed
    assert client.get("/").status_code == 302


def test_staff_with_a_device_is_sent_to_verification(client, staff, password):
    totp_device_confirmed(staff)

    location = _sign_in(client, "worker", password)

    assert urlsplit(location).path == "/accounts/otp/verify/"
    assert client.get(location).status_code == 200


def test_wrong_code_shows_an_error_and_keeps_the_gate_closed(client, staff, password):
    device = totp_device_confirmed(staff)
    client.get(_sign_in(client, "worker", password))
    wrong = f"{(int(totp_code(device)) + 1) % 1_000_000:06d}"

    response = client.post("/accounts/otp/verify/", {"token": wrong})

    assert response.status_code == 200
    assert "验证码不正确或已过期" in response.content.decode()
    gate = client.get("/")
    assert gate.status_code == 302
    assert urlsplit(gate["Location"]).path == "/accounts/otp/verify/"
    assert Event.objects.filter(type="SECOND_FACTOR_FAILED", subject_id=str(staff.pk)).exists()


def test_right_code_goes_home(client, staff, password):
    device = totp_device_confirmed(staff)
    client.get(_sign_in(client, "worker", password))

    response = client.post("/accounts/otp/verify/", {"token": totp_code(device)})

    assert response.status_code == 302
    assert response["Location"] == "/"
    assert client.get("/").status_code == 200


def test_a_code_cannot_be_replayed(client, staff, password):
    device = totp_device_confirmed(staff)
    code = totp_code(device)
    client.get(_sign_in(client, "worker", password))
    assert client.post("/accounts/otp/verify/", {"token": code}).status_code == 302

    other = Client()
    other.get(_sign_in(other, "worker", password))
    response = other.post("/accounts/otp/verify/", {"token": code})

    assert response.status_code == 200  # refused: the same code was already used


def test_resident_goes_straight_home(client, resident, password):
    location = _sign_in(client, "resident", password)

    assert location == "/"
    assert client.get("/").status_code == 200


def test_volunteer_needs_no_second_factor(client, tree, password):
    user_with_role(Role.VOLUNTEER, division=tree.committee(1, 1, 1), username="helper")

    assert _sign_in(client, "helper", password) == "/"


def test_next_is_kept_through_verification(client, staff, password):
    device = totp_device_confirmed(staff)
    location = _sign_in(client, "worker", password, next_url="/accounts/tokens/")
    assert _next_of(location) == "/accounts/tokens/"

    response = client.post(location, {"token": totp_code(device), "next": _next_of(location)})

    assert response["Location"] == "/accounts/tokens/"


@pytest.mark.parametrize("evil", ["https://evil.example/", "//evil.example/x", "javascript:alert(1)"])
def test_next_pointing_off_site_is_ignored(client, staff, password, evil):
    device = totp_device_confirmed(staff)
    client.get(_sign_in(client, "worker", password, next_url=evil))

    response = client.post("/accounts/otp/verify/", {"token": totp_code(device), "next": evil})

    assert response["Location"] == "/"


def test_resident_next_off_site_is_ignored(client, resident, password):
    assert _sign_in(client, "resident", password, next_url="https://evil.example/") == "/"


@pytest.mark.parametrize("path", ["/", "/places/", "/accounts/tokens/", "/accounts/password/", "/admin/"])
def test_every_page_is_behind_the_second_factor(client, staff, path):
    login(client, staff, verified=False)

    response = client.get(path)

    assert response.status_code == 302
    assert urlsplit(response["Location"]).path == "/accounts/otp/verify/"
    assert _next_of(response["Location"]) == path


def test_an_htmx_fragment_of_an_unverified_session_is_refused_not_redirected(client, staff):
    login(client, staff, verified=False)

    response = client.get("/inbox/badge/", HTTP_HX_REQUEST="true")

    assert response.status_code == 401
    assert response.content == b""


def test_the_api_refuses_an_unverified_staff_session(client, staff):
    login(client, staff, verified=False)

    response = client.get("/api/v1/accounts/me")

    assert response.status_code == 401
    assert response.json()["code"] == "unauthenticated"


@pytest.mark.parametrize("path", ["/accounts/login/", "/accounts/otp/verify/", "/accounts/otp/enrol/"])
def test_sign_in_pages_stay_open_before_verification(client, staff, path):
    totp_device_confirmed(staff)
    login(client, staff, verified=False)

    response = client.get(path)

    # The login page sends a half-signed-in user on to verification; the others render.
    assert response.status_code in {200, 302}
    if response.status_code == 302:
        assert urlsplit(response["Location"]).path == "/accounts/otp/verify/"


def test_static_files_are_not_gated(client, staff):
    login(client, staff, verified=False)

    response = client.get("/static/shequ/shequ.css")

    assert response.status_code != 302  # served or missing, but never sent to verification


def test_admin_sign_in_goes_through_the_same_page(client):
    response = client.get("/admin/login/?next=/admin/")

    assert response.status_code == 302
    assert urlsplit(response["Location"]).path == "/accounts/login/"
    assert _next_of(response["Location"]) == "/admin/"


def test_admin_needs_the_second_factor_even_for_superusers(client, password):
    admin = UserFactory(username="operator", is_superuser=True, is_staff=True)
    location = _sign_in(client, "operator", password, next_url="/admin/")
    assert urlsplit(location).path == "/accounts/otp/enrol/"
    assert client.get("/admin/").status_code == 302

    login(client, admin, verified=True)
    assert client.get("/admin/").status_code == 200


def test_logout_ends_the_session(client, staff):
    login(client, staff)
    assert client.get("/").status_code == 200

    client.post("/accounts/logout/")

    response = client.get("/")
    assert response.status_code == 302
    assert urlsplit(response["Location"]).path == "/accounts/login/"
