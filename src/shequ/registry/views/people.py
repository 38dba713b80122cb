"""The committee worker's registry pages: search, the person sheet (一人一表), the household file
(一户一档), the house view, editing with provenance, per-field reveal and correction requests.

Every record is fetched through ``selectors_people`` (the visibility module plus the registry's view
rule): outside the user's scope it is a 404 like a missing record. Personal data is shown masked;
unmasking one field goes through ``shequ.core.privacy.reveal`` with a purpose and leaves an access
record. htmx requests get the ``_fragment`` templates.
"""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import models
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, URLPattern, path, reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from shequ.core.errors import ApiError
from shequ.core.privacy import masked_value, reveal
from shequ.places.models import Tenure
from shequ.registry import permissions
from shequ.registry import selectors_people as selectors
from shequ.registry.filters import PersonCriteria, counts_per_committee
from shequ.registry.models import (
    DocumentType,
    Person,
    PersonStatus,
    PopulationKind,
    Relation,
    Sex,
    Source,
    TagDefinition,
)
from shequ.registry.services_people import (
    EDITABLE_ATTRIBUTES,
    correction_request_decide,
    household_head_set,
    household_member_remove,
    person_confirm_attribute,
    person_update,
)

PAGE_SIZE = 30
MAX_PAGE_SIZE = 100


def _label(name: str) -> Any:
    return cast("models.Field[Any, Any]", Person._meta.get_field(name)).verbose_name


_ATTRIBUTE_LABELS = {name: _label(name) for name in EDITABLE_ATTRIBUTES}


def _wants_fragment(request: HttpRequest) -> bool:
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.history_restore_request  # type: ignore[union-attr]


def url_or_empty(name: str, *args: Any) -> str:
    """The URL of a page built elsewhere, or "" while it does not exist."""
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return ""


def _page_size(request: HttpRequest) -> int:
    try:
        size = int(request.GET.get("page_size", PAGE_SIZE))
    except ValueError:
        return PAGE_SIZE
    return max(1, min(size, MAX_PAGE_SIZE))


def _filter_tags(user: Any) -> list[TagDefinition]:
    """The tags the user may filter by (those they may see somewhere)."""
    return [
        tag
        for tag in TagDefinition.objects.filter(is_active=True).order_by("code")
        if permissions.tag_visible_paths(user, tag) != ()
    ]


@login_required
@require_GET
def person_list(request: HttpRequest) -> HttpResponse:
    errors: dict[str, list[str]] = {}
    criteria = PersonCriteria()
    try:
        criteria = PersonCriteria.from_querydict(request.GET)
        queryset = selectors.person_search(user=request.user, criteria=criteria, as_of=timezone.localdate())
    except ValidationError as exc:  # bad input, a tag the user may not see, an unknown division
        errors = exc.message_dict
        queryset = Person.objects.none()
    page = Paginator(queryset, _page_size(request)).get_page(request.GET.get("page"))
    context: dict[str, Any] = {"page": page, "criteria": criteria, "errors": errors}
    template = "registry/people/_results.html"
    if not _wants_fragment(request):
        template = "registry/people/list.html"
        context.update(
            tags=_filter_tags(request.user),
            sexes=Sex.choices,
            statuses=PersonStatus.choices,
            kinds=PopulationKind.choices,
            tenures=Tenure.choices,
        )
    response = render(request, template, context)
    patch_vary_headers(response, ("HX-Request",))
    return response


@login_required
@require_GET
def committee_counts(request: HttpRequest) -> HttpResponse:
    """Counts per committee of the current search (the target list's size where it lives)."""
    try:
        criteria = PersonCriteria.from_querydict(request.GET)
        rows = counts_per_committee(
            selectors.person_search(user=request.user, criteria=criteria, as_of=timezone.localdate())
        )
    except ValidationError as exc:
        return render(request, "registry/people/_counts.html", {"errors": exc.message_dict}, status=422)
    return render(request, "registry/people/_counts.html", {"rows": rows})


def _personal_rows(person: Person) -> list[dict[str, Any]]:
    return [
        {
            "name": name,
            "label": _label(name),
            "masked": masked_value(person, name),
        }
        for name in Person.PERSONAL_FIELDS
    ]


def _attribute_rows(person: Person, provenance: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for name in EDITABLE_ATTRIBUTES:
        if name in Person.PERSONAL_FIELDS:
            value: Any = masked_value(person, name)
        elif name in ("house", "registered_division"):
            value = getattr(person, name) or ""
        else:
            display = getattr(person, f"get_{name}_display", None)
            value = display() if callable(display) else (getattr(person, name) or "")
        rows.append(
            {
                "name": name,
                "label": _ATTRIBUTE_LABELS[name],
                "value": value,
                "personal": name in Person.PERSONAL_FIELDS,
                "provenance": provenance.get(name),
            }
        )
    return rows


@login_required
@require_GET
def person_detail(request: HttpRequest, pk: int) -> HttpResponse:
    person = selectors.access_person(user=request.user, pk=pk)
    sheet = selectors.person_sheet(person=person)
    context = {
        "person": person,
        "sheet": sheet,
        "attributes": _attribute_rows(person, sheet.provenance),
        "personal": _personal_rows(person),
        "can_reveal": permissions.can_reveal(request.user, person.path),
        "can_edit": permissions.can_edit_person(request.user, person.path),
        "tags_url": url_or_empty("registry:person_tags", person.pk),
    }
    return render(request, "registry/people/person.html", context)


@login_required
@require_POST
def person_reveal(request: HttpRequest, pk: int) -> HttpResponse:
    """Unmask one field (htmx fragment) after the reveal rule, with a purpose; logged."""
    person = selectors.access_person(user=request.user, pk=pk)
    if not permissions.can_reveal(request.user, person.path):
        raise PermissionDenied
    field_name = request.POST.get("field", "")
    context: dict[str, Any] = {"person": person, "field": field_name}
    if field_name not in Person.PERSONAL_FIELDS:
        context["error"] = _("这些字段不能查看。")
        return render(request, "registry/people/_revealed.html", context, status=422)
    context["label"] = _label(field_name)
    context["masked"] = masked_value(person, field_name)
    try:
        values = reveal(
            actor=request.user,
            subject=person,
            fields=[field_name],
            purpose=request.POST.get("purpose", ""),
            request=request,
        )
    except ApiError as exc:
        context["error"] = exc.message
        return render(request, "registry/people/_revealed.html", context, status=exc.http_status)
    context["value"] = values[field_name]
    return render(request, "registry/people/_revealed.html", context)


class PersonEditForm(forms.Form):
    """The editable attributes. Personal fields start empty (their clear values are never sent to the
    browser): left empty, they keep the current value."""

    name = forms.CharField(label=_("姓名"), max_length=64, required=False)
    document_type = forms.ChoiceField(label=_("证件类型"), choices=DocumentType.choices)
    id_number = forms.CharField(label=_("证件号码"), max_length=32, required=False)
    birth_date = forms.DateField(
        label=_("出生日期"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    sex = forms.ChoiceField(label=_("性别"), choices=Sex.choices)
    mobile = forms.CharField(label=_("手机号"), max_length=20, required=False)
    population_kind = forms.ChoiceField(label=_("人口类别"), choices=PopulationKind.choices)
    registered_address = forms.CharField(label=_("户籍地址"), max_length=255, required=False)
    status = forms.ChoiceField(label=_("状态"), choices=PersonStatus.choices)
    reason = forms.CharField(
        label=_("修改说明"), required=False, widget=forms.Textarea(attrs={"rows": 2}), max_length=1000
    )

    def changes(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            name: data[name]
            for name in self.fields
            if name != "reason" and not (name in Person.PERSONAL_FIELDS and not data[name])
        }


@login_required
@require_http_methods(["GET", "POST"])
def person_edit(request: HttpRequest, pk: int) -> HttpResponse:
    person = selectors.access_person(user=request.user, pk=pk)
    if not permissions.can_edit_person(request.user, person.path):
        raise PermissionDenied
    initial = {
        "document_type": person.document_type,
        "birth_date": person.birth_date,
        "sex": person.sex,
        "population_kind": person.population_kind,
        "status": person.status,
    }
    form = PersonEditForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            result = person_update(
                person=person,
                changes=form.changes(),
                actor=request.user,
                source=Source.COMMITTEE,
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as exc:
            for field_name, errors in exc.message_dict.items():
                form.add_error(field_name if field_name in form.fields else None, errors)
        else:
            if result.changed:
                messages.success(request, _("已保存修改。"))
            if result.corrections:
                messages.warning(request, _("部分属性由来源部门管理，已转为更正申请，待该部门处理后生效。"))
            return redirect("registry:person", pk=person.pk)
    masked = {name: masked_value(person, name) for name in Person.PERSONAL_FIELDS}
    rows = [(form[name], masked.get(name)) for name in form.fields]
    context = {"person": person, "form": form, "rows": rows, "masked": masked}
    return render(request, "registry/people/edit.html", context)


@login_required
@require_POST
def person_confirm(request: HttpRequest, pk: int) -> HttpResponse:
    person = selectors.access_person(user=request.user, pk=pk)
    try:
        person_confirm_attribute(
            person=person, attribute=request.POST.get("attribute", ""), actor=request.user
        )
    except ValidationError as exc:
        messages.error(request, "; ".join(exc.messages))
    else:
        messages.success(request, _("已确认。"))
    return redirect("registry:person", pk=person.pk)


@login_required
@require_GET
def household_detail(request: HttpRequest, pk: int) -> HttpResponse:
    household = selectors.access_household(user=request.user, pk=pk)
    context = {
        "household": household,
        "house": household.house,
        "members": selectors.household_members(household=household),
        "can_edit": permissions.can_edit_person(request.user, household.path),
        "relations": [(v, label) for v, label in Relation.choices if v != Relation.HEAD],
    }
    return render(request, "registry/people/household.html", context)


@login_required
@require_POST
def household_member_change(request: HttpRequest, pk: int) -> HttpResponse:
    """Remove a member, or make a member the head (the former head keeps the relation chosen)."""
    household = selectors.access_household(user=request.user, pk=pk)
    person = selectors.access_person(user=request.user, pk=request.POST.get("person"))
    action = request.POST.get("action")
    try:
        if action == "remove":
            household_member_remove(household=household, person=person, actor=request.user)
        elif action == "head":
            household_head_set(
                household=household,
                person=person,
                actor=request.user,
                former_head_relation=request.POST.get("former_head_relation", Relation.OTHER),
            )
        else:
            raise ValidationError(_("未知操作。"))
    except ValidationError as exc:
        messages.error(request, "; ".join(exc.messages))
    else:
        messages.success(request, _("已保存修改。"))
    return redirect("registry:household", pk=household.pk)


@login_required
@require_GET
def house_detail(request: HttpRequest, pk: int) -> HttpResponse:
    house = selectors.access_house(user=request.user, pk=pk)
    context = {
        "house": house,
        "households": selectors.house_households(user=request.user, house=house),
        "residents": selectors.house_residents(user=request.user, house=house),
        "is_rented": house.tenure in (Tenure.RENTED, Tenure.PUBLIC_RENTAL),
    }
    return render(request, "registry/people/house.html", context)


@login_required
@require_GET
def correction_list(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", "pending")
    page = Paginator(
        selectors.correction_requests(user=request.user, status=status or None), PAGE_SIZE
    ).get_page(request.GET.get("page"))
    rows = [
        {
            "request": r,
            "label": _ATTRIBUTE_LABELS.get(r.attribute, r.attribute),
            "personal": r.attribute in Person.PERSONAL_FIELDS,
            "person_name": masked_value(r.person, "name"),
            "can_decide": r.status == "pending"
            and permissions.can_decide_correction(request.user, routed_to=r.routed_to, path=r.path),
        }
        for r in page.object_list
    ]
    return render(request, "registry/people/corrections.html", {"page": page, "rows": rows, "status": status})


@login_required
@require_POST
def correction_decide(request: HttpRequest, pk: int) -> HttpResponse:
    correction = selectors.access_correction_request(user=request.user, pk=pk)
    try:
        correction_request_decide(
            request=correction,
            accept=request.POST.get("decision") == "accept",
            note=request.POST.get("note", "")[:1000],
            actor=request.user,
        )
    except ValidationError as exc:
        messages.error(request, "; ".join(exc.messages))
    else:
        messages.success(request, _("已处理。"))
    return redirect("registry:corrections")


urlpatterns: list[URLPattern] = [
    path("", person_list, name="person_list"),
    path("counts/", committee_counts, name="committee_counts"),
    path("persons/<int:pk>/", person_detail, name="person"),
    path("persons/<int:pk>/reveal/", person_reveal, name="person_reveal"),
    path("persons/<int:pk>/edit/", person_edit, name="person_edit"),
    path("persons/<int:pk>/confirm/", person_confirm, name="person_confirm"),
    path("households/<int:pk>/", household_detail, name="household"),
    path("households/<int:pk>/members/", household_member_change, name="household_member_change"),
    path("houses/<int:pk>/", house_detail, name="house"),
    path("corrections/", correction_list, name="corrections"),
    path("corrections/<int:pk>/decide/", correction_decide, name="correction_decide"),
]
