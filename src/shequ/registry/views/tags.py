"""Pages of the tag dictionary (标签字典), tags on persons, the visit log (走访) and saved population
filters ("政策找人").

Views parse input, fetch through the access selectors (the visibility module plus the registry's
rules: a record outside the user's scope is a 404 like a missing one), call one service or selector
and render. htmx requests get the ``_fragment`` templates: the person sheet and the household file
load ``registry:person_tags`` and ``registry:household_visits`` that way.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import URLPattern, path
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from shequ.accounts.models import Role
from shequ.core.errors import ApiError
from shequ.core.privacy import masked_value
from shequ.places.models import Division, Tenure
from shequ.registry import permissions, selectors_filters, selectors_tags
from shequ.registry.filters import age_on
from shequ.registry.models import (
    Person,
    PersonStatus,
    PopulationKind,
    SavedFilter,
    Sex,
    TagDefinition,
    TagRule,
)
from shequ.registry.services_filters import (
    saved_filter_create,
    saved_filter_delete,
    saved_filter_export,
    saved_filter_update,
)
from shequ.registry.services_tags import (
    TAG_ROLES,
    tag_assign,
    tag_definition_activate,
    tag_definition_create,
    tag_definition_deactivate,
    tag_definition_update,
    tag_end,
    tag_review_confirm,
)
from shequ.registry.services_visits import visit_follow_up_done, visit_record

PAGE_SIZE = 30
MAX_PAGE_SIZE = 100


def _wants_fragment(request: HttpRequest) -> bool:
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.history_restore_request  # type: ignore[union-attr]


def _render(
    request: HttpRequest, page: str, fragment: str, context: dict[str, Any], status: int = 200
) -> HttpResponse:
    """The fragment for htmx (always 200, so that htmx swaps error messages in), the page otherwise."""
    if _wants_fragment(request):
        response = render(request, fragment, context)
    else:
        response = render(request, page, context, status=status)
    patch_vary_headers(response, ("HX-Request",))
    return response


def _page_size(request: HttpRequest) -> int:
    try:
        size = int(request.GET.get("page_size", PAGE_SIZE))
    except ValueError:
        return PAGE_SIZE
    return max(1, min(size, MAX_PAGE_SIZE))


def _add_api_error(form: forms.Form, exc: ApiError) -> None:
    form.add_error(exc.field if exc.field in form.fields else None, exc.message)


# --- The dictionary ------------------------------------------------------------------------------

_ROLE_CHOICES = [(role.value, role.label) for role in Role if role in TAG_ROLES]


class TagDefinitionForm(forms.Form):
    code = forms.SlugField(
        label=_("代码"), max_length=64, help_text=_("英文字母、数字、下划线，创建后不能修改。")
    )
    name = forms.CharField(label=_("名称"), max_length=64)
    description = forms.CharField(label=_("说明"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    is_sensitive = forms.BooleanField(
        label=_("敏感标签"),
        required=False,
        help_text=_("健康、残疾、未成年人等敏感信息：只有指定角色可见，居民端永不显示。"),
    )
    visible_to = forms.MultipleChoiceField(
        label=_("可见角色（敏感标签）"),
        choices=_ROLE_CHOICES,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    rule = forms.ChoiceField(label=_("计算规则"), choices=TagRule.choices, required=False)
    rule_value = forms.IntegerField(label=_("规则参数（岁）"), required=False, min_value=0, max_value=150)
    assignable_by = forms.MultipleChoiceField(
        label=_("可标注角色（人工标注）"),
        choices=_ROLE_CHOICES,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    evidence_required = forms.BooleanField(label=_("须附依据"), required=False)
    evidence_hint = forms.CharField(label=_("依据说明"), max_length=255, required=False)
    review_months = forms.IntegerField(label=_("复核周期（月）"), required=False, min_value=1, max_value=120)

    def __init__(self, *args: Any, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if editing:
            del self.fields["code"]

    def values(self) -> dict[str, Any]:
        return {name: value for name, value in self.cleaned_data.items() if name != "code"}


def _require_manager(request: HttpRequest) -> None:
    if not permissions.can_manage_tag_dictionary(request.user):
        raise PermissionDenied


@login_required
@require_GET
def tag_list(request: HttpRequest) -> HttpResponse:
    _require_manager(request)
    context = {"tags": selectors_tags.tag_definitions(), "role_labels": dict(_ROLE_CHOICES)}
    return render(request, "registry/tags/list.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def tag_create(request: HttpRequest) -> HttpResponseBase:
    _require_manager(request)
    form = TagDefinitionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            tag = tag_definition_create(code=form.cleaned_data["code"], actor=request.user, **form.values())
        except ApiError as exc:
            _add_api_error(form, exc)
        else:
            messages.success(request, _("标签“%(name)s”已创建。") % {"name": tag.name})
            return redirect("registry:tag_list")
    status = 422 if form.errors else 200
    return render(request, "registry/tags/form.html", {"form": form, "tag": None}, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def tag_edit(request: HttpRequest, tag_id: int) -> HttpResponseBase:
    _require_manager(request)
    tag = selectors_tags.access_tag_definition_by_id(tag_id=tag_id, user=request.user)
    initial = {name: getattr(tag, name) for name in TagDefinitionForm.base_fields if name != "code"}
    form = TagDefinitionForm(request.POST or None, initial=initial, editing=True)
    if request.method == "POST" and form.is_valid():
        try:
            tag_definition_update(tag=tag, actor=request.user, **form.values())
        except ApiError as exc:
            _add_api_error(form, exc)
        else:
            messages.success(request, _("标签“%(name)s”已保存。") % {"name": tag.name})
            return redirect("registry:tag_list")
    status = 422 if form.errors else 200
    return render(request, "registry/tags/form.html", {"form": form, "tag": tag}, status=status)


@login_required
@require_POST
def tag_deactivate(request: HttpRequest, tag_id: int) -> HttpResponseBase:
    _require_manager(request)
    tag = selectors_tags.access_tag_definition_by_id(tag_id=tag_id, user=request.user)
    tag_definition_deactivate(tag=tag, actor=request.user)
    messages.success(request, _("标签“%(name)s”已停用。") % {"name": tag.name})
    return redirect("registry:tag_list")


@login_required
@require_POST
def tag_activate(request: HttpRequest, tag_id: int) -> HttpResponseBase:
    _require_manager(request)
    tag = selectors_tags.access_tag_definition_by_id(tag_id=tag_id, user=request.user)
    tag_definition_activate(tag=tag, actor=request.user)
    messages.success(request, _("标签“%(name)s”已启用。") % {"name": tag.name})
    return redirect("registry:tag_list")


# --- Tags on a person ------------------------------------------------------------------------------


class TagChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        if obj.evidence_required:
            return f"{obj.name}（{_('须附依据')}：{obj.evidence_hint}）"
        return str(obj.name)


class TagAssignForm(forms.Form):
    tag = TagChoiceField(label=_("标签"), queryset=TagDefinition.objects.none())
    evidence = forms.CharField(
        label=_("依据"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args: Any, tags: list[TagDefinition], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["tag"]
        assert isinstance(field, forms.ModelChoiceField)  # noqa: S101 - narrows the type
        field.queryset = TagDefinition.objects.filter(pk__in=[t.pk for t in tags]).order_by("code")


def _person_tags_context(
    request: HttpRequest, person: Any, form: TagAssignForm | None = None
) -> dict[str, Any]:
    user = request.user
    assignable = selectors_tags.tags_assignable(person=person, user=user)
    assignments = list(selectors_tags.person_tags(person=person, user=user, include_ended=True))
    today = timezone.localdate()
    open_rows = [
        {
            "assignment": a,
            "can_end": permissions.can_end_tag(user, a.tag, a.path),
            "review_due": a.review_due is not None and a.review_due <= today,
        }
        for a in assignments
        if a.ended_at is None
    ]
    return {
        "person": person,
        "open_rows": open_rows,
        "ended": [a for a in assignments if a.ended_at is not None],
        "form": form or (TagAssignForm(tags=assignable) if assignable else None),
        "today": today,
    }


@login_required
@require_http_methods(["GET", "POST"])
def person_tags(request: HttpRequest, person_id: int) -> HttpResponse:
    """The person's tags the user may see, with assign/end forms (a fragment of the person sheet)."""
    person = selectors_tags.access_registry_person_by_id(person_id=person_id, user=request.user)
    form = None
    status = 200
    if request.method == "POST":
        form = TagAssignForm(
            request.POST, tags=selectors_tags.tags_assignable(person=person, user=request.user)
        )
        if form.is_valid():
            try:
                tag_assign(
                    person=person,
                    tag=form.cleaned_data["tag"],
                    evidence=form.cleaned_data["evidence"],
                    actor=request.user,
                )
            except ApiError as exc:
                _add_api_error(form, exc)
            else:
                form = None
        status = 422 if form is not None else 200
    context = _person_tags_context(request, person, form)
    return _render(
        request, "registry/tags/person_tags.html", "registry/tags/_person_tags.html", context, status
    )


@login_required
@require_POST
def assignment_end(request: HttpRequest, assignment_id: int) -> HttpResponse:
    assignment = selectors_tags.access_tag_assignment_by_id(assignment_id=assignment_id, user=request.user)
    context_error = ""
    try:
        tag_end(assignment=assignment, reason=request.POST.get("reason", ""), actor=request.user)
    except ApiError as exc:
        context_error = exc.message
    context = _person_tags_context(request, assignment.person)
    context["error"] = context_error
    status = 422 if context_error else 200
    return _render(
        request, "registry/tags/person_tags.html", "registry/tags/_person_tags.html", context, status
    )


@login_required
@require_POST
def assignment_review(request: HttpRequest, assignment_id: int) -> HttpResponse:
    assignment = selectors_tags.access_tag_assignment_by_id(assignment_id=assignment_id, user=request.user)
    context_error = ""
    try:
        tag_review_confirm(
            assignment=assignment, actor=request.user, evidence=request.POST.get("evidence", "")
        )
    except ApiError as exc:
        context_error = exc.message
    if request.POST.get("next") == "reviews" and not _wants_fragment(request):
        if context_error:
            messages.error(request, context_error)
        return redirect("registry:tag_reviews")
    context = _person_tags_context(request, assignment.person)
    context["error"] = context_error
    status = 422 if context_error else 200
    return _render(
        request, "registry/tags/person_tags.html", "registry/tags/_person_tags.html", context, status
    )


@login_required
@require_GET
def tag_reviews(request: HttpRequest) -> HttpResponse:
    """Tags whose review date has come, in the user's scope (earliest first)."""
    today = timezone.localdate()
    queryset = selectors_tags.tag_reviews_due(user=request.user, as_of=today)
    page = Paginator(queryset, _page_size(request)).get_page(request.GET.get("page"))
    rows = [
        {
            "assignment": a,
            "name": masked_value(a.person, "name"),
            "can_review": permissions.can_end_tag(request.user, a.tag, a.path),
        }
        for a in page.object_list
    ]
    return render(request, "registry/tags/reviews.html", {"page": page, "rows": rows, "today": today})


# --- Visits ----------------------------------------------------------------------------------------


class VisitForm(forms.Form):
    visited_on = forms.DateField(label=_("走访日期"), widget=forms.DateInput(attrs={"type": "date"}))
    findings = forms.CharField(label=_("走访情况"), max_length=4000, widget=forms.Textarea(attrs={"rows": 3}))
    needs = forms.CharField(
        label=_("诉求与困难"), required=False, max_length=4000, widget=forms.Textarea(attrs={"rows": 2})
    )
    follow_up = forms.CharField(
        label=_("后续事项"), required=False, max_length=4000, widget=forms.Textarea(attrs={"rows": 2})
    )
    follow_up_due = forms.DateField(
        label=_("跟进期限"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )


def _visits_context(request: HttpRequest, household: Any, form: VisitForm | None = None) -> dict[str, Any]:
    can_record = permissions.can_record_visit(request.user, household.path)
    today = timezone.localdate()
    return {
        "household": household,
        "visits": selectors_tags.household_visits(household=household, user=request.user),
        "can_record": can_record,
        "form": form or (VisitForm(initial={"visited_on": today}) if can_record else None),
        "today": today,
    }


@login_required
@require_http_methods(["GET", "POST"])
def household_visits(request: HttpRequest, household_id: int) -> HttpResponse:
    """The household's visit history and the record-visit form (a fragment of the household file)."""
    household = selectors_tags.access_registry_household_by_id(household_id=household_id, user=request.user)
    form = None
    status = 200
    if request.method == "POST":
        if not permissions.can_record_visit(request.user, household.path):
            raise PermissionDenied
        form = VisitForm(request.POST)
        if form.is_valid():
            try:
                visit_record(household=household, actor=request.user, **form.cleaned_data)
            except ApiError as exc:
                _add_api_error(form, exc)
            else:
                form = None
        status = 422 if form is not None else 200
    context = _visits_context(request, household, form)
    return _render(
        request,
        "registry/visits/household_visits.html",
        "registry/visits/_household_visits.html",
        context,
        status,
    )


@login_required
@require_GET
def visits_due(request: HttpRequest) -> HttpResponse:
    """Open follow-ups in the user's scope by due date; overdue ones are highlighted."""
    queryset = selectors_tags.visits_follow_ups_due(user=request.user)
    page = Paginator(queryset, _page_size(request)).get_page(request.GET.get("page"))
    rows = [
        {"visit": v, "can_record": permissions.can_record_visit(request.user, v.path)}
        for v in page.object_list
    ]
    context = {"page": page, "rows": rows, "today": timezone.localdate()}
    return render(request, "registry/visits/due.html", context)


@login_required
@require_POST
def visit_done(request: HttpRequest, visit_id: int) -> HttpResponseBase:
    visit = selectors_tags.access_visit_by_id(visit_id=visit_id, user=request.user)
    try:
        visit_follow_up_done(visit=visit, actor=request.user, note=request.POST.get("note", ""))
    except ApiError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("跟进事项已完成。"))
    if request.POST.get("next") == "household":
        household = selectors_tags.access_registry_household_by_id(
            household_id=visit.household_id, user=request.user
        )
        context = _visits_context(request, household)
        return _render(
            request,
            "registry/visits/household_visits.html",
            "registry/visits/_household_visits.html",
            context,
        )
    return redirect("registry:visits_due")


# --- Saved filters ---------------------------------------------------------------------------------

_TRI_STATE = [("", _("不限")), ("true", _("是")), ("false", _("否"))]
CRITERIA_FIELDS = (
    "text",
    "age_min",
    "age_max",
    "sex",
    "status",
    "population_kind",
    "tags_all",
    "tags_any",
    "tenure",
    "compound",
    "building",
    "within",
    "household_size_min",
    "household_size_max",
    "lives_alone",
    "registered_elsewhere",
)


class SavedFilterForm(forms.Form):
    name = forms.CharField(label=_("名称"), max_length=100)
    description = forms.CharField(label=_("说明"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    node = forms.ModelChoiceField(label=_("适用辖区"), queryset=Division.objects.none())
    is_shared = forms.BooleanField(label=_("共享给本辖区同事"), required=False)
    # The criteria (``filters.PersonCriteria``).
    text = forms.CharField(label=_("姓名、证件号、手机号或地址"), required=False, max_length=64)
    age_min = forms.IntegerField(label=_("最小年龄"), required=False, min_value=0, max_value=150)
    age_max = forms.IntegerField(label=_("最大年龄"), required=False, min_value=0, max_value=150)
    sex = forms.ChoiceField(label=_("性别"), required=False, choices=[("", _("不限")), *Sex.choices])
    status = forms.ChoiceField(
        label=_("状态"), required=False, choices=[*PersonStatus.choices, ("", _("全部状态"))]
    )
    population_kind = forms.ChoiceField(
        label=_("人口类别"), required=False, choices=[("", _("不限")), *PopulationKind.choices]
    )
    tags_all = forms.MultipleChoiceField(
        label=_("同时具有标签"), required=False, widget=forms.CheckboxSelectMultiple
    )
    tags_any = forms.MultipleChoiceField(
        label=_("具有任一标签"), required=False, widget=forms.CheckboxSelectMultiple
    )
    tenure = forms.ChoiceField(
        label=_("房屋性质"), required=False, choices=[("", _("不限")), *Tenure.choices]
    )
    compound = forms.CharField(label=_("小区代码"), required=False, max_length=20)
    building = forms.IntegerField(label=_("楼栋编号（内部编号）"), required=False, min_value=1)
    within = forms.CharField(label=_("下级区划代码"), required=False, max_length=12)
    household_size_min = forms.IntegerField(
        label=_("户人数不少于"), required=False, min_value=1, max_value=50
    )
    household_size_max = forms.IntegerField(
        label=_("户人数不多于"), required=False, min_value=1, max_value=50
    )
    lives_alone = forms.ChoiceField(label=_("独居"), required=False, choices=_TRI_STATE)
    registered_elsewhere = forms.ChoiceField(label=_("人户分离"), required=False, choices=_TRI_STATE)

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        node = self.fields["node"]
        assert isinstance(node, forms.ModelChoiceField)  # noqa: S101 - narrows the type
        paths = permissions.registry_view_paths(user)
        nodes = Division.objects.filter(is_active=True).order_by("path")
        node.queryset = nodes if paths is None else nodes.filter(path__in=paths)
        tag_choices = [
            (tag.code, tag.name)
            for tag in TagDefinition.objects.filter(is_active=True).order_by("code")
            if permissions.tag_visible_paths(user, tag) != ()
        ]
        for name in ("tags_all", "tags_any"):
            field = self.fields[name]
            assert isinstance(field, forms.MultipleChoiceField)  # noqa: S101 - narrows the type
            field.choices = tag_choices

    def meta_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in ("name", "description", "node", "is_shared")]

    def criteria_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in CRITERIA_FIELDS]

    def criteria(self) -> dict[str, Any]:
        """The criteria as ``PersonCriteria`` input (only what was filled in; status always)."""
        data = self.cleaned_data
        result: dict[str, Any] = {"status": data.get("status") or None}
        for name in CRITERIA_FIELDS:
            value = data.get(name)
            if name == "status" or value in (None, "", []):
                continue
            if name in ("lives_alone", "registered_elsewhere"):
                value = value == "true"
            result["division" if name == "within" else name] = value
        return result

    @staticmethod
    def initial_for(saved_filter: SavedFilter) -> dict[str, Any]:
        criteria = selectors_filters.saved_filter_criteria(saved_filter).model_dump(mode="json")
        initial: dict[str, Any] = {
            "name": saved_filter.name,
            "description": saved_filter.description,
            "node": saved_filter.division_id,
            "is_shared": saved_filter.is_shared,
        }
        for name in CRITERIA_FIELDS:
            value = criteria.get("division" if name == "within" else name)
            if isinstance(value, bool):
                value = "true" if value else "false"
            initial[name] = "" if value is None else value
        return initial


def _criteria_error(form: SavedFilterForm, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for name, errors in exc.message_dict.items():
            field = "within" if name == "division" else name
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


@login_required
@require_GET
def filter_list(request: HttpRequest) -> HttpResponse:
    filters = list(selectors_filters.saved_filters_visible(user=request.user))
    return render(request, "registry/filters/list.html", {"filters": filters})


@login_required
@require_http_methods(["GET", "POST"])
def filter_create(request: HttpRequest) -> HttpResponseBase:
    if permissions.registry_view_paths(request.user) == ():
        raise PermissionDenied
    form = SavedFilterForm(
        request.POST or None, user=request.user, initial={"status": PersonStatus.LIVING_HERE}
    )
    if request.method == "POST" and form.is_valid():
        try:
            saved_filter = saved_filter_create(
                name=form.cleaned_data["name"],
                description=form.cleaned_data["description"],
                division=form.cleaned_data["node"],
                criteria=form.criteria(),
                is_shared=form.cleaned_data["is_shared"],
                actor=request.user,
            )
        except ApiError as exc:
            _add_api_error(form, exc)
        except ValidationError as exc:
            _criteria_error(form, exc)
        else:
            messages.success(request, _("筛选“%(name)s”已保存。") % {"name": saved_filter.name})
            return redirect("registry:filter_detail", filter_id=saved_filter.pk)
    status = 422 if form.errors else 200
    return render(request, "registry/filters/form.html", {"form": form, "saved_filter": None}, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def filter_edit(request: HttpRequest, filter_id: int) -> HttpResponseBase:
    saved_filter = selectors_filters.access_saved_filter_by_id(filter_id=filter_id, user=request.user)
    if saved_filter.owner_id != request.user.pk and not request.user.is_superuser:
        raise PermissionDenied
    form = SavedFilterForm(
        request.POST or None, user=request.user, initial=SavedFilterForm.initial_for(saved_filter)
    )
    if request.method == "POST" and form.is_valid():
        try:
            saved_filter_update(
                saved_filter=saved_filter,
                actor=request.user,
                name=form.cleaned_data["name"],
                description=form.cleaned_data["description"],
                division=form.cleaned_data["node"],
                criteria=form.criteria(),
                is_shared=form.cleaned_data["is_shared"],
            )
        except ApiError as exc:
            _add_api_error(form, exc)
        except ValidationError as exc:
            _criteria_error(form, exc)
        else:
            messages.success(request, _("筛选已保存。"))
            return redirect("registry:filter_detail", filter_id=saved_filter.pk)
    status = 422 if form.errors else 200
    return render(
        request, "registry/filters/form.html", {"form": form, "saved_filter": saved_filter}, status=status
    )


@login_required
@require_POST
def filter_delete(request: HttpRequest, filter_id: int) -> HttpResponseBase:
    saved_filter = selectors_filters.access_saved_filter_by_id(filter_id=filter_id, user=request.user)
    saved_filter_delete(saved_filter=saved_filter, actor=request.user)
    messages.success(request, _("筛选“%(name)s”已删除。") % {"name": saved_filter.name})
    return redirect("registry:filter_list")


def _person_rows(people: Any, as_of: Any) -> list[dict[str, Any]]:
    return [
        {
            "person": p,
            "name": masked_value(p, "name"),
            "id_number": masked_value(p, "id_number"),
            "mobile": masked_value(p, "mobile"),
            "age": age_on(p.birth_date, as_of) if p.birth_date else None,
        }
        for p in people
    ]


@login_required
@require_GET
def filter_detail(request: HttpRequest, filter_id: int) -> HttpResponse:
    """The live target list: counts per committee and the masked list, paginated."""
    saved_filter = selectors_filters.access_saved_filter_by_id(filter_id=filter_id, user=request.user)
    today = timezone.localdate()
    errors: list[str] = []
    counts: list[tuple[str, str, int]] = []
    try:
        people = selectors_filters.saved_filter_people(
            saved_filter=saved_filter, user=request.user, as_of=today
        )
        counts = selectors_filters.saved_filter_counts(
            saved_filter=saved_filter, user=request.user, as_of=today
        )
    except ValidationError as exc:  # a tag the reader may not see, a division that no longer exists
        errors = exc.messages
        people = Person.objects.none()
    page = Paginator(people, _page_size(request)).get_page(request.GET.get("page"))
    context = {
        "saved_filter": saved_filter,
        "criteria": saved_filter.criteria,
        "counts": counts,
        "total": sum(n for _code, _name, n in counts),
        "page": page,
        "rows": _person_rows(page.object_list, today),
        "errors": errors,
        "is_owner": saved_filter.owner_id == request.user.pk,
        "may_export_unmasked": permissions.paths_with_roles(request.user, permissions.EXPORT_UNMASKED_ROLES)
        != (),
    }
    return _render(request, "registry/filters/detail.html", "registry/filters/_people.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def filter_export(request: HttpRequest, filter_id: int) -> HttpResponseBase:
    """CSV of the live list: masked (GET), or unmasked where entitled with a stated purpose (POST)."""
    saved_filter = selectors_filters.access_saved_filter_by_id(filter_id=filter_id, user=request.user)
    unmasked = request.method == "POST" and request.POST.get("unmasked") == "1"
    try:
        export = saved_filter_export(
            saved_filter=saved_filter,
            actor=request.user,
            as_of=timezone.localdate(),
            unmasked=unmasked,
            purpose=request.POST.get("purpose", "") if unmasked else "",
            request=request,
        )
    except (ApiError, ValidationError) as exc:
        message = exc.message if isinstance(exc, ApiError) else "; ".join(exc.messages)
        messages.error(request, message)
        return redirect("registry:filter_detail", filter_id=saved_filter.pk)
    response = HttpResponse(export.content, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{export.filename}"'
    response["Cache-Control"] = "no-store"
    return response


urlpatterns: list[URLPattern] = [
    path("tags/", tag_list, name="tag_list"),
    path("tags/new/", tag_create, name="tag_create"),
    path("tags/reviews/", tag_reviews, name="tag_reviews"),
    path("tags/<int:tag_id>/edit/", tag_edit, name="tag_edit"),
    path("tags/<int:tag_id>/deactivate/", tag_deactivate, name="tag_deactivate"),
    path("tags/<int:tag_id>/activate/", tag_activate, name="tag_activate"),
    path("persons/<int:person_id>/tags/", person_tags, name="person_tags"),
    path("tag-assignments/<int:assignment_id>/end/", assignment_end, name="tag_assignment_end"),
    path("tag-assignments/<int:assignment_id>/review/", assignment_review, name="tag_assignment_review"),
    path("households/<int:household_id>/visits/", household_visits, name="household_visits"),
    path("visits/due/", visits_due, name="visits_due"),
    path("visits/<int:visit_id>/follow-up-done/", visit_done, name="visit_follow_up_done"),
    path("filters/", filter_list, name="filter_list"),
    path("filters/new/", filter_create, name="filter_create"),
    path("filters/<int:filter_id>/", filter_detail, name="filter_detail"),
    path("filters/<int:filter_id>/edit/", filter_edit, name="filter_edit"),
    path("filters/<int:filter_id>/delete/", filter_delete, name="filter_delete"),
    path("filters/<int:filter_id>/export.csv", filter_export, name="filter_export"),
]
