"""Seed the official calendar 2004–2026 from the ``chinesecalendar`` package.

Idempotent: dates and years already present (for example entered or corrected by the city
administrator) are left alone, so running it again, or on a database that already holds part of the
data, adds only what is missing. The years are fixed here so that every fresh database gets the same
calendar whatever version of the package is installed; later years are entered by the city
administrator (or imported with ``shequ calendar_import``).
"""

import uuid

from django.db import migrations

FIRST_YEAR = 2004
LAST_YEAR = 2026


def _chinese_name(english: str) -> str:
    from chinese_calendar.constants import Holiday

    try:
        return Holiday(english).chinese
    except ValueError:
        return english


def seed(apps, schema_editor):
    import chinese_calendar

    CalendarDay = apps.get_model("core", "CalendarDay")
    CalendarYear = apps.get_model("core", "CalendarYear")

    wanted = {}
    for day, name in chinese_calendar.holidays.items():
        if FIRST_YEAR <= day.year <= LAST_YEAR:
            wanted[day] = ("holiday", _chinese_name(name))
    for day, name in chinese_calendar.workdays.items():
        if FIRST_YEAR <= day.year <= LAST_YEAR:
            wanted[day] = ("adjusted_workday", _chinese_name(name))
    existing = set(
        CalendarDay.objects.filter(date__year__gte=FIRST_YEAR, date__year__lte=LAST_YEAR).values_list(
            "date", flat=True
        )
    )
    CalendarDay.objects.bulk_create(
        [CalendarDay(date=day, kind=kind, name=name) for day, (kind, name) in sorted(wanted.items()) if day not in existing],
        batch_size=500,
    )
    known = set(CalendarYear.objects.values_list("year", flat=True))
    CalendarYear.objects.bulk_create(
        [
            CalendarYear(year=year, source="chinese-calendar")
            for year in range(FIRST_YEAR, LAST_YEAR + 1)
            if year not in known
        ]
    )
    try:
        CalendarVersion = apps.get_model("core", "CalendarVersion")
    except LookupError:  # called on today's models (tests): the version row became core.Revision
        return
    CalendarVersion.objects.update_or_create(pk=1, defaults={"token": uuid.uuid4()})


def unseed(apps, schema_editor):
    CalendarDay = apps.get_model("core", "CalendarDay")
    CalendarYear = apps.get_model("core", "CalendarYear")
    CalendarYear.objects.filter(source="chinese-calendar", year__gte=FIRST_YEAR, year__lte=LAST_YEAR).delete()
    CalendarDay.objects.filter(date__year__gte=FIRST_YEAR, date__year__lte=LAST_YEAR).delete()


class Migration(migrations.Migration):
    dependencies = [("core", "0003_clock")]
    operations = [migrations.RunPython(seed, unseed)]
