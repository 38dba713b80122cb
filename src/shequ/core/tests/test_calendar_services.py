"""The official calendar: the seeded years, the administrator's edits, and what the clock makes of them."""

import importlib
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.apps import apps as django_apps

from shequ.accounts.models import Membership, Role, User
from shequ.core.clock import Unit, deadline_add, is_working_day
from shequ.core.errors import ApiError
from shequ.core.models import CalendarDay, CalendarDayKind, CalendarSource, CalendarYear, Event
from shequ.core.services_clock import (
    calendar_day_remove,
    calendar_day_set,
    calendar_year_import,
    calendar_year_publish,
    calendar_years_overview,
    can_edit_calendar,
    deadline_start,
)
from shequ.places.models import Division

pytestmark = pytest.mark.django_db

SH = ZoneInfo("Asia/Shanghai")


def at(*args):
    return datetime(*args, tzinfo=SH)


@pytest.fixture
def city():
    return Division.objects.create(
        code="310000000000", name="上海市", level="city", kind="city", path="310000000000"
    )


def _user(username, role, division):
    user = User.objects.create_user(username=username, password="x" * 16)
    Membership.objects.create(user=user, role=role, division=division)
    return user


@pytest.fixture
def admin(city):
    return _user("city-admin", Role.CITY_ADMIN, city)


@pytest.fixture
def officer(city):
    return _user("district-officer", Role.DISTRICT_OFFICER, city)


def test_years_2004_to_2026_are_seeded_from_the_package():
    years = set(CalendarYear.objects.values_list("year", flat=True))
    assert set(range(2004, 2027)) <= years
    assert 2027 not in years
    assert CalendarYear.objects.get(year=2026).source == CalendarSource.CHINESE_CALENDAR
    national_day = CalendarDay.objects.get(date=date(2026, 10, 1))
    assert (national_day.kind, national_day.name) == (CalendarDayKind.HOLIDAY, "国庆节")
    assert CalendarDay.objects.get(date=date(2026, 10, 10)).kind == CalendarDayKind.ADJUSTED_WORKDAY
    assert not CalendarDay.objects.filter(date__year=2027).exists()


def test_the_seed_migration_is_idempotent_and_keeps_manual_corrections(admin):
    calendar_day_set(day=date(2026, 10, 1), kind=CalendarDayKind.HOLIDAY, name="国庆（更正）", actor=admin)
    before = (CalendarDay.objects.count(), CalendarYear.objects.count())
    seed = importlib.import_module("shequ.core.migrations.0004_seed_calendar").seed
    seed(django_apps, None)
    seed(django_apps, None)
    assert (CalendarDay.objects.count(), CalendarYear.objects.count()) == before
    assert CalendarDay.objects.get(date=date(2026, 10, 1)).name == "国庆（更正）"


def test_only_the_city_administrator_may_edit(admin, officer):
    assert can_edit_calendar(admin)
    assert not can_edit_calendar(officer)
    assert not can_edit_calendar(None)
    with pytest.raises(ApiError) as refused:
        calendar_day_set(day=date(2027, 1, 1), kind=CalendarDayKind.HOLIDAY, name="元旦", actor=officer)
    assert refused.value.http_status == 403
    with pytest.raises(ApiError):
        calendar_year_publish(year=2027, actor=officer)
    assert not CalendarDay.objects.filter(date=date(2027, 1, 1)).exists()


def test_an_added_2027_holiday_is_used_at_once_and_the_flag_clears_on_publication(admin):
    start = at(2026, 12, 31, 10, 0)
    before = deadline_add(start, 1, Unit.WORK_DAYS)
    assert before.due_at == at(2027, 1, 1, 10, 0)
    assert before.flagged

    calendar_day_set(day=date(2027, 1, 1), kind=CalendarDayKind.HOLIDAY, name="元旦", actor=admin)
    after_day = deadline_add(start, 1, Unit.WORK_DAYS)
    # 1 January 2027 is now a holiday and 2–3 January a weekend: due Monday 4 January 10:00.
    assert after_day.due_at == at(2027, 1, 4, 10, 0)
    assert after_day.flagged

    calendar_year_publish(year=2027, actor=admin, published_on=date(2026, 11, 10))
    published = deadline_add(start, 1, Unit.WORK_DAYS)
    assert published.due_at == at(2027, 1, 4, 10, 0)
    assert not published.flagged
    year = CalendarYear.objects.get(year=2027)
    assert (year.source, year.entered_by, year.published_on) == (
        CalendarSource.MANUAL,
        admin,
        date(2026, 11, 10),
    )


def test_an_adjusted_working_day_must_be_a_weekend_day(admin):
    with pytest.raises(ApiError) as refused:
        calendar_day_set(day=date(2027, 2, 3), kind=CalendarDayKind.ADJUSTED_WORKDAY, actor=admin)
    assert refused.value.field == "date"
    calendar_day_set(day=date(2027, 2, 6), kind=CalendarDayKind.ADJUSTED_WORKDAY, name="春节", actor=admin)
    assert is_working_day(date(2027, 2, 6))


def test_setting_and_removing_a_day_write_events(admin):
    row = calendar_day_set(day=date(2027, 5, 3), kind=CalendarDayKind.HOLIDAY, name="劳动节", actor=admin)
    calendar_day_set(
        day=date(2027, 5, 3), kind=CalendarDayKind.HOLIDAY, name="劳动节", actor=admin
    )  # no change
    assert not is_working_day(date(2027, 5, 3))
    removed = calendar_day_remove(day=date(2027, 5, 3), actor=admin)
    assert removed is not None
    assert calendar_day_remove(day=date(2027, 5, 3), actor=admin) is None
    assert is_working_day(date(2027, 5, 3))
    events = list(
        Event.objects.filter(subject_type="core.calendarday", subject_id=str(row.pk)).order_by("pk")
    )
    assert [e.type for e in events] == ["CALENDAR_DAY_SET", "CALENDAR_DAY_REMOVED"]
    assert events[0].actor == admin
    assert events[0].data["kind"] == "holiday"
    assert events[1].data["old"] == {"kind": "holiday", "name": "劳动节"}


def test_publishing_twice_changes_nothing(admin):
    first = calendar_year_publish(year=2027, actor=admin)
    again = calendar_year_publish(year=2027, actor=admin)
    assert first.pk == again.pk
    assert Event.objects.filter(type="CALENDAR_YEAR_PUBLISHED").count() == 1


def test_a_running_deadline_moves_when_a_holiday_is_added_inside_it(admin):
    deadline = deadline_start(
        subject=admin,
        kind="handling",
        amount=3,
        unit=Unit.WORK_DAYS,
        actor=admin,
        started_at=at(2027, 3, 1, 9, 0),
    )
    assert deadline.due_at == at(2027, 3, 4, 9, 0)
    calendar_day_set(day=date(2027, 3, 2), kind=CalendarDayKind.HOLIDAY, name="测试假日", actor=admin)
    deadline.refresh_from_db()
    assert deadline.due_at == at(2027, 3, 5, 9, 0)
    assert deadline.flagged
    calendar_year_publish(year=2027, actor=admin)
    deadline.refresh_from_db()
    assert not deadline.flagged
    assert deadline.unknown_years == []
    assert list(
        Event.objects.filter(subject_id=str(admin.pk), type="DEADLINE_RECOMPUTED").values_list(
            "data__deadline", flat=True
        )
    ) == [deadline.pk, deadline.pk]


def test_import_takes_a_year_the_package_knows(admin):
    CalendarYear.objects.filter(year=2025).delete()
    CalendarDay.objects.filter(date__year=2025).delete()
    assert is_working_day(date(2025, 10, 1))
    row = calendar_year_import(year=2025, actor=admin)
    assert row.source == CalendarSource.CHINESE_CALENDAR
    assert not is_working_day(date(2025, 10, 1))
    assert is_working_day(date(2025, 9, 28))  # adjusted Sunday


def test_import_refuses_a_year_the_package_does_not_know():
    with pytest.raises(ApiError) as refused:
        calendar_year_import(year=2099)
    assert refused.value.code == "unknown_year"


def test_overview_lists_published_and_upcoming_years(admin):
    calendar_day_set(day=date(2027, 1, 1), kind=CalendarDayKind.HOLIDAY, name="元旦", actor=admin)
    rows = {row.year: row for row in calendar_years_overview()}
    assert rows[2027].published is None
    assert rows[2027].holidays == 1
    assert rows[2026].published is not None
    assert rows[2026].adjusted_workdays == 6
