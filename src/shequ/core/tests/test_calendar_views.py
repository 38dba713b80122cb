"""The calendar page: the city administrator maintains the calendar; everyone else is refused."""

from datetime import date

import pytest
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from shequ.accounts.models import Membership, Role, User
from shequ.core.models import CalendarDay, CalendarDayKind, CalendarYear
from shequ.places.models import Division

pytestmark = pytest.mark.django_db


@pytest.fixture
def city():
    return Division.objects.create(
        code="310000000000", name="上海市", level="city", kind="city", path="310000000000"
    )


def _signed_in(client, username, role, division):
    user = User.objects.create_user(username=username, password="x" * 16)
    Membership.objects.create(user=user, role=role, division=division)
    device = TOTPDevice.objects.create(user=user, name="default", confirmed=True)
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return user


@pytest.fixture
def admin_client(client, city):
    _signed_in(client, "city-admin", Role.CITY_ADMIN, city)
    return client


@pytest.fixture
def officer_client(client, city):
    _signed_in(client, "district-officer", Role.DISTRICT_OFFICER, city)
    return client


PAGES = [
    ("get", "/calendar/", {}),
    ("get", "/calendar/2027/", {}),
    ("post", "/calendar/2027/days/", {"date": "2027-01-01", "kind": "holiday", "name": "元旦"}),
    ("post", "/calendar/2026/days/2026-10-01/remove/", {}),
    ("post", "/calendar/2027/publish/", {}),
]


@pytest.mark.parametrize(("method", "url", "data"), PAGES)
def test_staff_without_the_role_are_refused(officer_client, method, url, data):
    response = getattr(officer_client, method)(url, data)
    assert response.status_code == 403
    assert not CalendarDay.objects.filter(date=date(2027, 1, 1)).exists()
    assert CalendarDay.objects.filter(date=date(2026, 10, 1)).exists()
    assert not CalendarYear.objects.filter(year=2027).exists()


@pytest.mark.parametrize(("method", "url", "data"), PAGES)
def test_anonymous_visitors_are_sent_to_sign_in(client, method, url, data):
    response = getattr(client, method)(url, data)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_the_administrator_sees_the_years(admin_client):
    response = admin_client.get("/calendar/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "/calendar/2026/" in body
    assert "/calendar/2027/" in body
    assert "待录入" in body


def test_the_open_year_form_redirects_to_the_year(admin_client):
    response = admin_client.get("/calendar/", {"year": "2028"})
    assert response.status_code == 302
    assert response["Location"] == "/calendar/2028/"


def test_the_year_page_lists_its_special_dates(admin_client):
    response = admin_client.get("/calendar/2026/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "2026-10-10" in body
    assert "国庆节" in body
    assert "本年度日历已完整" in body


def test_the_administrator_adds_a_holiday(admin_client):
    response = admin_client.post(
        "/calendar/2027/days/", {"date": "2027-01-01", "kind": "holiday", "name": "元旦"}
    )
    assert response.status_code == 302
    assert response["Location"] == "/calendar/2027/"
    row = CalendarDay.objects.get(date=date(2027, 1, 1))
    assert (row.kind, row.name) == (CalendarDayKind.HOLIDAY, "元旦")


def test_htmx_requests_get_the_fragment(admin_client):
    response = admin_client.post(
        "/calendar/2027/days/",
        {"date": "2027-02-06", "kind": "adjusted_workday", "name": "春节"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "2027-02-06" in body
    assert "<html" not in body


def test_an_adjusted_working_day_on_a_weekday_is_shown_as_an_error(admin_client):
    response = admin_client.post("/calendar/2027/days/", {"date": "2027-02-03", "kind": "adjusted_workday"})
    assert response.status_code == 422
    assert "调休上班日只能是周六或周日" in response.content.decode()
    assert not CalendarDay.objects.filter(date=date(2027, 2, 3)).exists()


def test_a_date_outside_the_year_is_refused(admin_client):
    response = admin_client.post("/calendar/2027/days/", {"date": "2028-01-01", "kind": "holiday"})
    assert response.status_code == 422
    assert not CalendarDay.objects.filter(date=date(2028, 1, 1)).exists()


def test_the_administrator_removes_a_date(admin_client):
    response = admin_client.post("/calendar/2026/days/2026-10-01/remove/")
    assert response.status_code == 302
    assert not CalendarDay.objects.filter(date=date(2026, 10, 1)).exists()


def test_removing_with_a_date_of_another_year_is_not_found(admin_client):
    assert admin_client.post("/calendar/2027/days/2026-10-01/remove/").status_code == 404
    assert admin_client.post("/calendar/2027/days/not-a-date/remove/").status_code == 404


def test_the_administrator_marks_the_year_complete(admin_client):
    response = admin_client.post("/calendar/2027/publish/", {"published_on": "2026-11-10"})
    assert response.status_code == 302
    year = CalendarYear.objects.get(year=2027)
    assert year.published_on == date(2026, 11, 10)
    assert year.entered_by.username == "city-admin"


def test_the_year_status_joins_its_facts_in_the_readers_language(admin_client):
    admin_client.post("/calendar/2027/publish/", {"published_on": "2026-11-10"})
    chinese = admin_client.get("/calendar/2027/").content.decode()
    assert "公布日期：2026-11-10" in chinese
    assert "；录入人：city-admin" in chinese
    english = admin_client.get("/calendar/2027/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Published on: 2026-11-10; Entered by: city-admin" in english
