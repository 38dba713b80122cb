"""The case page: details (the reporter's contact masked, unmasked for the case's staff with a
purpose, logged), the timeline, the attachments, and the buttons the user may press now — each posting
to ``/cases/<number>/do/<name>/`` with the version the user saw. A case outside the user's scope is a
404; a stale version is a 409 that says someone else acted."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import URLPattern, re_path, reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from shequ.cases import selectors, selectors_pages
from shequ.cases.forms import ActionForm, RevealForm
from shequ.cases.machine import CASE_REPORTED
from shequ.cases.models import Case
from shequ.cases.permissions import can_reveal_contact, transitions_for
from shequ.core.errors import ApiError
from shequ.core.idempotency import idempotent
from shequ.core.privacy import masked_value, reveal

from .actions import ACTIONS, action_form, action_views
from .common import add_api_error, is_staff, safe_next, version_of
from .timeline import timeline_entries

CONTACT_LABELS = {"contact_name": _("联系人"), "contact_phone": _("联系电话"), "contact_email": _("电子邮箱")}


def _contact_fields(case: Case) -> list[str]:
    return [name for name in Case.PERSONAL_FIELDS if getattr(case, name)]


def _units_for(case: Case, user: Any) -> list[tuple[str, str]]:
    if not any(ACTIONS[name].needs_units for name in transitions_for(user, case)):
        return []
    return [(u.value, u.label) for u in selectors_pages.unit_choices([case])[case.pk]]


def _context(
    request: HttpRequest, case: Case, *, failed: tuple[str, ActionForm] | None = None, conflict: bool = False
) -> dict[str, Any]:
    user = request.user
    staff = is_staff(user)
    events = list(selectors.case_timeline(case))
    keys = [str((e.data or {}).get("suggested_handler")) for e in events if e.type == CASE_REPORTED]
    units = selectors_pages.unit_labels(keys) if staff else {}
    own = case.reporter_id is not None and case.reporter_id == user.pk
    contact = [
        (CONTACT_LABELS[name], getattr(case, name) if own else masked_value(case, name))
        for name in _contact_fields(case)
    ]
    actions = action_views(user, case, units=_units_for(case, user), failed=failed)
    refusal: list[str] = []
    if failed is not None and failed[0] not in {action.name for action in actions}:
        # The button is not offered (any more): say why above the page.
        refusal = [str(error) for errors in failed[1].errors.values() for error in errors]
    return {
        "case": case,
        "staff": staff,
        "refusal": refusal,
        "timeline": timeline_entries(events, staff=staff, viewer_id=user.pk, units=units),
        "attachments": list(case.attachments.all()),
        "actions": actions,
        "contact": contact,
        "can_reveal": bool(contact) and not own and can_reveal_contact(user, case),
        "reveal_form": RevealForm(auto_id="id_reveal_%s"),
        "merged": list(case.merged_cases.values_list("number", flat=True)) if staff else [],
        "conflict": conflict,
    }


@login_required
@never_cache
@require_GET
def detail(request: HttpRequest, number: str) -> HttpResponse:
    case = selectors.access_case_by_number(request.user, number)
    return render(request, "cases/pages/detail.html", _context(request, case))


@login_required
@require_POST
@idempotent
def do(request: HttpRequest, number: str, name: str) -> HttpResponseBase:
    """One transition: parse its form, call its service with the version the user saw, go back."""
    spec = ACTIONS.get(name)
    if spec is None:
        raise Http404
    case = selectors.access_case_by_number(request.user, number)
    units = _units_for(case, request.user) if spec.needs_units else []
    form = action_form(spec, case, units=units, data=request.POST, files=request.FILES)
    status = 422
    if form.is_valid():
        try:
            spec.run(case, request.user, form, version_of(request))
        except ApiError as exc:
            if exc.code == "conflict":
                fresh = selectors.access_case_by_number(request.user, number)
                context = _context(request, fresh, conflict=True)
                return render(request, "cases/pages/detail.html", context, status=409)
            field = form.error_field(exc.field) if exc.field else None
            form.add_error(field, exc.message)
            status = exc.http_status
        else:
            messages.success(request, str(spec.done))
            return redirect(safe_next(request, reverse("cases:detail", kwargs={"number": number})))
    case = selectors.access_case_by_number(request.user, number)
    return render(
        request, "cases/pages/detail.html", _context(request, case, failed=(name, form)), status=status
    )


@login_required
@require_POST
def contact_reveal(request: HttpRequest, number: str) -> HttpResponse:
    """Unmask the reporter's contact details with a purpose (an access-log row); htmx fragment."""
    case = selectors.access_case_by_number(request.user, number)
    if not can_reveal_contact(request.user, case):
        raise Http404
    form = RevealForm(request.POST, auto_id="id_reveal_%s")
    context: dict[str, Any] = {"case": case, "reveal_form": form, "can_reveal": True}
    names = _contact_fields(case)
    if form.is_valid() and names:
        try:
            values = reveal(
                actor=request.user,
                subject=case,
                fields=names,
                purpose=form.cleaned_data["purpose"],
                request=request,
            )
        except ApiError as exc:
            add_api_error(form, exc)
        else:
            context["revealed"] = [(CONTACT_LABELS[n], values[n]) for n in names]
            return render(request, "cases/pages/_contact.html", context)
    context["contact"] = [(CONTACT_LABELS[n], masked_value(case, n)) for n in names]
    return render(request, "cases/pages/_contact.html", context, status=422)


@login_required
@require_GET
def attachment(request: HttpRequest, number: str, pk: str) -> HttpResponseBase:
    """A photo of the case, for those who may see the case."""
    case = selectors.access_case_by_number(request.user, number)
    item = case.attachments.filter(pk=pk).first()
    if item is None:
        raise Http404
    if not item.file:
        if item.url:
            return redirect(item.url)
        raise Http404
    response = FileResponse(
        item.file.open("rb"), content_type=item.content_type or "application/octet-stream"
    )
    response["Cache-Control"] = "private, max-age=3600"
    response["X-Content-Type-Options"] = "nosniff"
    return response


# Tracking numbers only ("SQ" + date + sequence), so that the other pages under /cases/ never collide.
NUMBER = r"(?P<number>SQ\d{8,})"

urlpatterns: list[URLPattern] = [
    re_path(rf"^{NUMBER}/$", detail, name="detail"),
    re_path(rf"^{NUMBER}/do/(?P<name>[a-z_]+)/$", do, name="do"),
    re_path(rf"^{NUMBER}/contact/$", contact_reveal, name="contact_reveal"),
    re_path(rf"^{NUMBER}/files/(?P<pk>\d+)/$", attachment, name="attachment"),
]
