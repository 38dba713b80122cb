"""The official working-day calendar (DOMAIN.md §3).

China's State Council announces each year's public holidays and the adjusted working days (调休上班,
usually a Saturday or Sunday next to a long holiday) in November–December for the next year. Only
the *special* dates are stored: every other weekday is a working day and every other Saturday and
Sunday is a rest day.

- ``CalendarDay``: one special date (a holiday, or an adjusted working day).
- ``CalendarYear``: a year whose official schedule is complete. Deadlines that need a year without
  this row fall back to weekends only and are flagged.

Every calendar edit bumps the ``core.calendar`` revision (``core.revisions``): the clock compares it
with the token of its in-process copy and reloads only when they differ.
"""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

# Years seeded from the ``chinesecalendar`` package by migration 0003.
SEEDED_FIRST_YEAR = 2004
SEEDED_LAST_YEAR = 2026


class Unit(models.TextChoices):
    """Units of a deadline (DOMAIN.md §3)."""

    WORK_HOURS = "work_hours", _("工作时")
    WORK_DAYS = "work_days", _("工作日")
    HOURS = "hours", _("小时")
    CALENDAR_DAYS = "calendar_days", _("自然日")


class CalendarDayKind(models.TextChoices):
    HOLIDAY = "holiday", _("法定节假日")
    ADJUSTED_WORKDAY = "adjusted_workday", _("调休上班日")


class CalendarSource(models.TextChoices):
    CHINESE_CALENDAR = "chinese-calendar", _("chinesecalendar 数据包")
    MANUAL = "manual", _("人工录入")


class CalendarDay(models.Model):
    """A date that differs from the weekday/weekend rule."""

    date = models.DateField(_("日期"), unique=True)
    kind = models.CharField(_("类型"), max_length=20, choices=CalendarDayKind.choices)
    name = models.CharField(_("名称"), max_length=100, blank=True, default="")
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        ordering: ClassVar = ["date"]
        verbose_name = _("日历特殊日期")
        verbose_name_plural = _("日历特殊日期")
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=Q(kind__in=CalendarDayKind.values), name="core_calendarday_kind_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.date:%Y-%m-%d} {self.get_kind_display()} {self.name}".strip()


class CalendarYear(models.Model):
    """A year whose official schedule is known and complete."""

    year = models.PositiveSmallIntegerField(_("年份"), unique=True)
    source = models.CharField(_("来源"), max_length=20, choices=CalendarSource.choices)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("录入人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # Date of the official announcement, when known.
    published_on = models.DateField(_("公布日期"), null=True, blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        ordering: ClassVar = ["year"]
        verbose_name = _("日历年度")
        verbose_name_plural = _("日历年度")
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=Q(source__in=CalendarSource.values), name="core_calendaryear_source_valid"
            ),
        ]

    def __str__(self) -> str:
        return str(self.year)
