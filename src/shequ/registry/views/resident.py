"""Residents' self-service pages (/registry/me/…) and the committee's side of them: linking a resident
account to a record, and deciding deletion requests.

The /me/ pages answer 404 to everyone but the resident whose account is linked to a record. A
resident's own data are shown unmasked (they are their own) and such reads are not logged as access;
the pages are never cached. Sensitive tags never appear here.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import URLPattern, path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from shequ.core.privacy import masked_value
from shequ.registry import permissions, selectors_resident, services_resident
from shequ.registry.models import RequestStatus

ACCESS_LOG_PAGE_SIZE = 50
REQUESTS_PAGE_SIZE = 50


def add_service_errors(form: forms.Form, exc: ValidationError) -> None:
    """Attach a service's ``ValidationError`` to the form's fields (or to the form as a whole)."""
    if hasattr(exc, "error_dict"):
        for name, errors in exc.message_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


# --- Forms -------------------------------------------------------------------------------------------


class CorrectionForm(forms.Form):
    attribute = forms.ChoiceField(
        label=gettext_lazy("需要更正的项目"), choices=list(services_resident.RESIDENT_CORRECTABLE.items())
    )
    proposed_value = forms.CharField(label=gettext_lazy("正确的内容"), max_length=255)
    reason = forms.CharField(
        label=gettext_lazy("说明"),
        required=False,
        max_length=services_resident.REASON_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("例如：户口簿已变更、手机号已更换。居委会核实后办理。"),
    )


class DeletionForm(forms.Form):
    ground = forms.ChoiceField(
        label=gettext_lazy("删除的依据"),
        choices=list(services_resident.DELETION_GROUNDS.items()),
        widget=forms.RadioSelect,
    )
    explanation = forms.CharField(
        label=gettext_lazy("具体情况"),
        required=False,
        max_length=services_resident.REASON_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class LinkResidentForm(forms.Form):
    username = forms.CharField(label=gettext_lazy("居民账号（用户名）"), max_length=150)
    verified = forms.BooleanField(
        label=gettext_lazy("已当面核验本人有效身份证件"),
        required=True,
    )


class DeletionDecisionForm(forms.Form):
    approve = forms.TypedChoiceField(
        label=gettext_lazy("决定"),
        choices=[("1", gettext_lazy("同意删除")), ("0", gettext_lazy("不予删除"))],
        coerce=lambda value: value == "1",
        widget=forms.RadioSelect,
    )
    note = forms.CharField(
        label=gettext_lazy("说明"),
        required=False,
        max_length=services_resident.REASON_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


# --- The resident's pages ----------------------------------------------------------------------------


@never_cache
@login_required
def me(request: HttpRequest) -> HttpResponse:
    person = selectors_resident.resident_person(user=request.user)
    context: dict[str, Any] = {
        "person": person,
        "households": selectors_resident.resident_households(person=person, user=request.user),
        "tags": list(selectors_resident.resident_tags(person=person)),
        "purge_after": selectors_resident.resident_purge_date(person=person),
    }
    return render(request, "registry/resident/me.html", context)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def me_correction_new(request: HttpRequest) -> HttpResponse:
    person = selectors_resident.resident_person(user=request.user)
    form = CorrectionForm(request.POST or None, initial={"attribute": request.GET.get("attribute", "")})
    if request.method == "POST" and form.is_valid():
        try:
            services_resident.correction_request_from_resident(
                person=person,
                attribute=form.cleaned_data["attribute"],
                proposed_value=form.cleaned_data["proposed_value"],
                reason=form.cleaned_data["reason"],
                actor=request.user,
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("更正申请已提交，居委会核实后会处理。"))
            return redirect("registry:me_requests")
    return render(request, "registry/resident/correction_form.html", {"person": person, "form": form})


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def me_deletion_new(request: HttpRequest) -> HttpResponse:
    person = selectors_resident.resident_person(user=request.user)
    form = DeletionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services_resident.deletion_request_create(
                person=person,
                ground=form.cleaned_data["ground"],
                explanation=form.cleaned_data["explanation"],
                actor=request.user,
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("删除申请已提交，由居委会负责人决定。"))
            return redirect("registry:me_requests")
    return render(request, "registry/resident/deletion_form.html", {"person": person, "form": form})


@never_cache
@login_required
def me_requests(request: HttpRequest) -> HttpResponse:
    person = selectors_resident.resident_person(user=request.user)
    context = {
        "person": person,
        "corrections": list(
            selectors_resident.resident_corrections(person=person, user=request.user)[:REQUESTS_PAGE_SIZE]
        ),
        "deletions": list(
            selectors_resident.resident_deletion_requests(person=person, user=request.user)[
                :REQUESTS_PAGE_SIZE
            ]
        ),
        "labels": services_resident.RESIDENT_CORRECTABLE,
    }
    return render(request, "registry/resident/requests.html", context)


@never_cache
@login_required
def me_access_log(request: HttpRequest) -> HttpResponse:
    person = selectors_resident.resident_person(user=request.user)
    page = Paginator(selectors_resident.resident_access_log(person=person), ACCESS_LOG_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    entries = selectors_resident.access_entries(rows=list(page.object_list), person=person)
    return render(request, "registry/resident/access_log.html", {"page": page, "entries": entries})


# --- The committee's side ------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def person_link_resident(request: HttpRequest, person_id: int) -> HttpResponseBase:
    person = selectors_resident.access_person_for_link(user=request.user, person_id=person_id)
    if not permissions.can_edit_person(request.user, person.path):
        raise Http404
    form = LinkResidentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        account = selectors_resident.resident_account_by_username(
            username=form.cleaned_data["username"], user=request.user
        )
        if account is None:
            form.add_error("username", _("在本辖区没有找到该居民账号。"))
        else:
            try:
                services_resident.resident_link_create(user=account, person=person, actor=request.user)
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, _("已为该居民绑定账号。"))
                return redirect("registry:person_link_resident", person_id=person.pk)
    context = {
        "person": person,
        "masked_name": masked_value(person, "name"),
        "form": form,
        "linked": hasattr(person, "resident_link"),
    }
    return render(request, "registry/resident/link_resident.html", context)


@login_required
def deletion_requests(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", RequestStatus.PENDING)
    if status not in RequestStatus.values:
        status = ""
    queryset = selectors_resident.deletion_requests_for_decision(user=request.user, status=status)
    page = Paginator(queryset, REQUESTS_PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [
        {
            "request": item,
            "masked_name": masked_value(item.person, "name"),
            "may_decide": item.status == RequestStatus.PENDING
            and permissions.can_decide_deletion(request.user, item.path),
        }
        for item in page.object_list
    ]
    context = {
        "page": page,
        "rows": rows,
        "status": status,
        "statuses": RequestStatus.choices,
    }
    return render(request, "registry/resident/deletion_requests.html", context)


@login_required
@require_POST
def deletion_request_decide(request: HttpRequest, request_id: int) -> HttpResponseBase:
    item = selectors_resident.access_deletion_request_by_id(user=request.user, request_id=request_id)
    form = DeletionDecisionForm(request.POST)
    if form.is_valid():
        try:
            services_resident.deletion_request_decide(
                request=item,
                approve=form.cleaned_data["approve"],
                note=form.cleaned_data["note"],
                actor=request.user,
            )
        except ValidationError as exc:
            messages.error(request, "; ".join(exc.messages))
        else:
            messages.success(request, _("已处理该删除申请。"))
    else:
        messages.error(request, _("请选择决定。"))
    return redirect("registry:deletion_requests")


urlpatterns: list[URLPattern] = [
    path("me/", me, name="me"),
    path("me/corrections/new/", me_correction_new, name="me_correction_new"),
    path("me/deletion/new/", me_deletion_new, name="me_deletion_new"),
    path("me/requests/", me_requests, name="me_requests"),
    path("me/access-log/", me_access_log, name="me_access_log"),
    path("persons/<int:person_id>/link-resident/", person_link_resident, name="person_link_resident"),
    path("deletion-requests/", deletion_requests, name="deletion_requests"),
    path(
        "deletion-requests/<int:request_id>/decide/", deletion_request_decide, name="deletion_request_decide"
    ),
]
