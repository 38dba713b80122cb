"""The calendar page (/calendar/): the city administrator enters each year's holidays and adjusted
working days and marks the year complete. Everyone else is refused (403)."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from functools import wraps
from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_POST

from .errors import ApiError
from .models import CalendarDayKind
from .services_clock import (
    calendar_day_remove,
    calendar_day_set,
    calendar_days_of_year,
    calendar_year_publish,
    calendar_year_status,
    calendar_years_overview,
    can_edit_calendar,
)

MIN_YEAR, MAX_YEAR = 2000, 2100

View = Callable[..., HttpResponse]


def calendar_editor_required(view: View) -> View:
    @login_required
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not can_edit_calendar(request.user):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapped


def _year(year: int) -> int:
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise Http404
    return year


class CalendarDayForm(forms.Form):
    date = forms.DateField(label=_("日期"), widget=forms.DateInput(attrs={"type": "date"}))
    kind = forms.ChoiceField(label=_("类型"), choices=CalendarDayKind.choices)
    name = forms.CharField(label=_("名称"), max_length=100, required=False)

    def __init__(self, *args: Any, year: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.year = year

    def clean_date(self) -> datetime.date:
        value: datetime.date = self.cleaned_data["date"]
        if value.year != self.year:
            raise forms.ValidationError(_("日期必须在 %(year)s 年内。"), params={"year": self.year})
        return value


class PublishForm(forms.Form):
    published_on = forms.DateField(
        label=_("公布日期"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )


def _year_context(year: int, form: CalendarDayForm | None = None) -> dict[str, Any]:
    return {
        "year": year,
        "days": calendar_days_of_year(year=year),
        "status": calendar_year_status(year=year),
        "form": form or CalendarDayForm(year=year),
        "publish_form": PublishForm(),
    }


def _year_response(request: HttpRequest, year: int, form: CalendarDayForm | None = None) -> HttpResponse:
    template = (
        "core/calendar_year_days.html" if getattr(request, "htmx", False) else "core/calendar_year.html"
    )
    status = 422 if form is not None and form.errors else 200
    return render(request, template, _year_context(year, form), status=status)


@require_GET
@calendar_editor_required
def calendar_years(request: HttpRequest) -> HttpResponse:
    wanted = request.GET.get("year", "")
    if wanted.isdigit() and MIN_YEAR <= int(wanted) <= MAX_YEAR:
        return redirect(reverse("core:calendar_year", args=[int(wanted)]))
    return render(request, "core/calendar.html", {"years": calendar_years_overview()})


@require_GET
@calendar_editor_required
def calendar_year(request: HttpRequest, year: int) -> HttpResponse:
    return _year_response(request, _year(year))


@require_POST
@calendar_editor_required
def calendar_day_add(request: HttpRequest, year: int) -> HttpResponse:
    year = _year(year)
    form = CalendarDayForm(request.POST, year=year)
    if form.is_valid():
        try:
            calendar_day_set(
                day=form.cleaned_data["date"],
                kind=form.cleaned_data["kind"],
                name=form.cleaned_data["name"],
                actor=request.user,
            )
        except ApiError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
    if form.errors or getattr(request, "htmx", False):
        return _year_response(request, year, form if form.errors else None)
    return redirect(reverse("core:calendar_year", args=[year]))


@require_POST
@calendar_editor_required
def calendar_day_delete(request: HttpRequest, year: int, day: str) -> HttpResponse:
    year = _year(year)
    try:
        when = datetime.date.fromisoformat(day)
    except ValueError:
        raise Http404 from None
    if when.year != year:
        raise Http404
    calendar_day_remove(day=when, actor=request.user)
    if getattr(request, "htmx", False):
        return _year_response(request, year)
    return redirect(reverse("core:calendar_year", args=[year]))


@require_POST
@calendar_editor_required
def calendar_year_complete(request: HttpRequest, year: int) -> HttpResponse:
    year = _year(year)
    form = PublishForm(request.POST)
    published_on = form.cleaned_data["published_on"] if form.is_valid() else None
    calendar_year_publish(year=year, actor=request.user, published_on=published_on)
    return redirect(reverse("core:calendar_year", args=[year]))
