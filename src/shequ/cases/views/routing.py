"""Pages of the routing rules (派单规则), per district.

- ``routing_home``: the districts the user manages (one: straight to it).
- ``routing_district``: the rules that apply in the district (city-wide, the district's, its
  streets'), the effective route of every category at one street (category → unit), and the
  "try a route" form.
- ``routing_rule_create`` / ``routing_rule_edit`` / ``routing_rule_deactivate``: htmx forms; on
  success an htmx request gets the refreshed rule table (out-of-band) and an empty editor, a normal
  request a redirect to the district.
- ``routing_try``: category + street/committee/compound → the unit and the reason.

A district the user does not manage, and a rule that does not apply in the district, are a 404; a
district officer may read the city-wide rules but only a city administrator may change them (403).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import URLPattern, path
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from shequ.accounts.models import Organisation
from shequ.cases import permissions, selectors_catalogue
from shequ.cases.models import Category, CategoryKind, ResponsibleKind, RoutingRule
from shequ.cases.routing import ROUTABLE_ORG_KINDS, RoutePlanner, place_of, route_case
from shequ.cases.services_routing import routing_rule_create as rule_create
from shequ.cases.services_routing import routing_rule_deactivate as rule_deactivate
from shequ.cases.services_routing import routing_rule_update as rule_update
from shequ.core.errors import ApiError
from shequ.places.models import Compound, Division

CITY = "city"
ALL = "*"


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


def _add_api_error(form: forms.Form, exc: ApiError) -> None:
    form.add_error(exc.field if exc.field in form.fields else None, exc.message)


# --- Forms ----------------------------------------------------------------------------------------


def _applies_to_choices(categories: list[Category]) -> list[tuple[str, Any]]:
    """One select for what a rule covers: everything, a kind, a 大类, or one category."""
    kinds = [(f"kind:{value}", _("全部%(kind)s") % {"kind": label}) for value, label in CategoryKind.choices]
    majors = [
        (
            f"major:{m['kind']}:{m['major_code']}",
            f"{'P' if m['kind'] == CategoryKind.PART else 'E'}{m['major_code']} {m['major_name']}",
        )
        for m in selectors_catalogue.category_majors(include_internal=True)
    ]
    singles = [(f"cat:{c.code}", f"{c.code} {c.major_name}/{c.name}") for c in categories]
    return [
        (ALL, _("全部类别")),
        (_("按类型"), kinds),
        (_("按大类"), majors),
        (_("按小类"), singles),
    ]


class RoutingRuleForm(forms.Form):
    place = forms.ChoiceField(label=gettext_lazy("适用区域"))
    applies_to = forms.ChoiceField(label=gettext_lazy("适用类别"))
    responsible_kind = forms.ChoiceField(label=gettext_lazy("责任单位类型"), choices=ResponsibleKind.choices)
    responsible_sector = forms.CharField(
        label=gettext_lazy("条线"),
        required=False,
        max_length=64,
        help_text=gettext_lazy("派给部门派出机构或公用事业单位时必填，如 城管、绿化市容、水务、电力。"),
    )
    organisation = forms.ModelChoiceField(
        label=gettext_lazy("指定责任单位（可选）"),
        required=False,
        queryset=Organisation.objects.none(),
        help_text=gettext_lazy("不指定时，按类型和条线就近确定：街镇 → 区 → 市。"),
    )
    priority = forms.IntegerField(
        label=gettext_lazy("优先级"),
        initial=100,
        min_value=0,
        max_value=32767,
        help_text=gettext_lazy("同样具体的规则中，数字小的优先。"),
    )
    note = forms.CharField(label=gettext_lazy("说明"), required=False, max_length=300)

    def __init__(self, *args: Any, district: Division, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        places: list[tuple[str, str]] = []
        if permissions.is_city_routing_admin(user):
            places.append((CITY, _("全市")))
        places.append((district.code, district.name))
        places.extend(
            (s.code, f"{district.name} · {s.name}") for s in selectors_catalogue.district_streets(district)
        )
        place_field = self.fields["place"]
        assert isinstance(place_field, forms.ChoiceField)  # noqa: S101 - narrows the type
        place_field.choices = places
        applies = self.fields["applies_to"]
        assert isinstance(applies, forms.ChoiceField)  # noqa: S101 - narrows the type
        applies.choices = _applies_to_choices(list(selectors_catalogue.categories_routable()))
        org_field = self.fields["organisation"]
        assert isinstance(org_field, forms.ModelChoiceField)  # noqa: S101 - narrows the type
        org_field.queryset = (
            Organisation.objects.filter(is_active=True, kind__in=ROUTABLE_ORG_KINDS)
            .filter(
                Q(division__isnull=True)
                | Q(division__path__startswith=district.path)
                | Q(division_id=district.parent_id)
            )
            .order_by("kind", "sector", "name")
        )
        self.district = district

    def values(self) -> dict[str, Any]:
        """The service's keyword arguments."""
        data = self.cleaned_data
        place = data["place"]
        division = None if place == CITY else Division.objects.filter(code=place).first()
        category, kind, major = None, "", ""
        applies = data["applies_to"]
        if applies.startswith("cat:"):
            category = Category.objects.filter(code=applies[4:]).first()
        elif applies.startswith("kind:"):
            kind = applies[5:]
        elif applies.startswith("major:"):
            kind, major = applies[6:].split(":", 1)
        return {
            "division": division,
            "category": category,
            "kind": kind,
            "major_code": major,
            "responsible_kind": data["responsible_kind"],
            "responsible_sector": data["responsible_sector"],
            "organisation": data["organisation"],
            "priority": data["priority"],
            "note": data["note"],
        }


def _initial_of(rule: RoutingRule) -> dict[str, Any]:
    if rule.category is not None:
        applies = f"cat:{rule.category.code}"
    elif rule.major_code:
        applies = f"major:{rule.kind}:{rule.major_code}"
    elif rule.kind:
        applies = f"kind:{rule.kind}"
    else:
        applies = ALL
    return {
        "place": rule.division.code if rule.division is not None else CITY,
        "applies_to": applies,
        "responsible_kind": rule.responsible_kind,
        "responsible_sector": rule.responsible_sector,
        "organisation": rule.organisation_id,
        "priority": rule.priority,
        "note": rule.note,
    }


class TryRouteForm(forms.Form):
    category = forms.ModelChoiceField(label=gettext_lazy("类别"), queryset=Category.objects.none())
    street = forms.ModelChoiceField(
        label=gettext_lazy("街镇"), queryset=Division.objects.none(), required=False
    )
    committee = forms.ModelChoiceField(
        label=gettext_lazy("居村委"), queryset=Division.objects.none(), required=False
    )
    compound = forms.CharField(label=gettext_lazy("小区代码（可选）"), required=False, max_length=20)

    def __init__(self, *args: Any, district: Division, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.district = district
        fields = self.fields
        for name, queryset in (
            ("category", selectors_catalogue.categories_routable()),
            ("street", selectors_catalogue.district_streets(district)),
            ("committee", selectors_catalogue.district_committees(district)),
        ):
            field = fields[name]
            assert isinstance(field, forms.ModelChoiceField)  # noqa: S101 - narrows the type
            field.queryset = queryset
            field.to_field_name = "code"

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        code = (data.get("compound") or "").strip()
        compound = None
        if code:
            compound = (
                Compound.objects.select_related("committee")
                .filter(code=code, path__startswith=self.district.path)
                .first()
            )
            if compound is None:
                self.add_error("compound", _("本区没有这个小区代码。"))
        data["compound_obj"] = compound
        if not (compound or data.get("committee") or data.get("street")):
            raise forms.ValidationError(_("请选择街镇或居村委，或填写小区代码。"))
        return data


# --- Views ----------------------------------------------------------------------------------------


def _district_or_404(request: HttpRequest, code: str) -> Division:
    return selectors_catalogue.access_routing_district(user=request.user, code=code)


def _rule_in_district(request: HttpRequest, district: Division, rule_id: int) -> RoutingRule:
    rule = selectors_catalogue.access_routing_rule_by_id(user=request.user, rule_id=rule_id)
    if (
        not selectors_catalogue.routing_rules_for_district(district=district, include_inactive=True)
        .filter(pk=rule.pk)
        .exists()
    ):
        raise Http404
    return rule


def _rules_context(request: HttpRequest, district: Division) -> dict[str, Any]:
    rules = list(selectors_catalogue.routing_rules_for_district(district=district))
    user = request.user
    city_admin = permissions.is_city_routing_admin(user)
    rows = [
        {
            "rule": r,
            "editable": city_admin or (r.division is not None and r.division.path.startswith(district.path)),
        }
        for r in rules
    ]
    return {"district": district, "rule_rows": rows}


def _effective_rows(district: Division, street: Division | None) -> list[dict[str, Any]]:
    """Category → unit at ``street``, with the rule (or default) that decides it. Committee and
    property-company targets depend on the case's committee or compound and are named as such."""
    if street is None:
        return []
    planner = RoutePlanner(district=district, street=street)
    rows = []
    for category in selectors_catalogue.categories_routable():
        target = planner.targets(category)[0]
        per_case = target.organisation is None and target.responsible_kind in (
            ResponsibleKind.COMMITTEE,
            ResponsibleKind.PROPERTY_COMPANY,
        )
        decision = None if per_case else planner.route(category)
        rows.append({"category": category, "target": target, "per_case": per_case, "decision": decision})
    return rows


@login_required
@require_GET
def routing_home(request: HttpRequest) -> HttpResponseBase:
    districts = list(selectors_catalogue.routing_districts(request.user))
    if not districts:
        raise Http404
    if len(districts) == 1:
        return redirect("cases:routing_district", code=districts[0].code)
    return render(request, "cases/routing/home.html", {"districts": districts})


@login_required
@require_GET
def routing_district(request: HttpRequest, code: str) -> HttpResponse:
    district = _district_or_404(request, code)
    streets = list(selectors_catalogue.district_streets(district))
    street = next(
        (s for s in streets if s.code == request.GET.get("street")), streets[0] if streets else None
    )
    context = {
        **_rules_context(request, district),
        "streets": streets,
        "street": street,
        "effective": _effective_rows(district, street),
        "try_form": TryRouteForm(district=district),
    }
    return render(request, "cases/routing/district.html", context)


def _saved(request: HttpRequest, district: Division, message: str) -> HttpResponseBase:
    if _wants_fragment(request):
        response = render(request, "cases/routing/_rule_saved.html", _rules_context(request, district))
        patch_vary_headers(response, ("HX-Request",))
        return response
    messages.success(request, message)
    return redirect("cases:routing_district", code=district.code)


@login_required
@require_http_methods(["GET", "POST"])
def routing_rule_create(request: HttpRequest, code: str) -> HttpResponseBase:
    district = _district_or_404(request, code)
    form = RoutingRuleForm(
        request.POST or None, district=district, user=request.user, initial={"place": code}
    )
    if request.method == "POST" and form.is_valid():
        try:
            rule = rule_create(actor=request.user, **form.values())
        except ApiError as exc:
            _add_api_error(form, exc)
        else:
            return _saved(request, district, _("派单规则#%(id)s已创建。") % {"id": rule.pk})
    context = {"district": district, "form": form, "rule": None}
    status = 422 if form.errors else 200
    return _render(request, "cases/routing/rule_form.html", "cases/routing/_rule_form.html", context, status)


@login_required
@require_http_methods(["GET", "POST"])
def routing_rule_edit(request: HttpRequest, code: str, rule_id: int) -> HttpResponseBase:
    district = _district_or_404(request, code)
    rule = _rule_in_district(request, district, rule_id)
    form = RoutingRuleForm(
        request.POST or None, district=district, user=request.user, initial=_initial_of(rule)
    )
    if request.method == "POST" and form.is_valid():
        try:
            rule_update(actor=request.user, rule=rule, **form.values())
        except ApiError as exc:
            _add_api_error(form, exc)
        else:
            return _saved(request, district, _("派单规则#%(id)s已保存。") % {"id": rule.pk})
    context = {"district": district, "form": form, "rule": rule}
    status = 422 if form.errors else 200
    return _render(request, "cases/routing/rule_form.html", "cases/routing/_rule_form.html", context, status)


@login_required
@require_POST
def routing_rule_deactivate(request: HttpRequest, code: str, rule_id: int) -> HttpResponseBase:
    district = _district_or_404(request, code)
    rule = _rule_in_district(request, district, rule_id)
    rule_deactivate(actor=request.user, rule=rule)
    return _saved(request, district, _("派单规则#%(id)s已停用。") % {"id": rule.pk})


@login_required
@require_GET
def routing_try(request: HttpRequest, code: str) -> HttpResponse:
    """Where would a case of this category at this place go, and why."""
    district = _district_or_404(request, code)
    form = TryRouteForm(request.GET or None, district=district)
    decision = None
    error = ""
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        try:
            place = place_of(
                street=data["street"], committee=data["committee"], compound=data["compound_obj"]
            )
        except ApiError as exc:
            error = exc.message
        else:
            compound, committee = data["compound_obj"], data["committee"]
            if compound is not None and committee is not None and compound.committee_id != committee.pk:
                error = _("该小区不属于所选居村委。")
            if not error:
                decision = route_case(category=data["category"], **place)
    context = {"district": district, "form": form, "decision": decision, "error": error}
    status = 422 if (form.is_bound and form.errors) or error else 200
    return _render(request, "cases/routing/try.html", "cases/routing/_route_answer.html", context, status)


urlpatterns: list[URLPattern] = [
    path("routing/", routing_home, name="routing_home"),
    path("routing/<str:code>/", routing_district, name="routing_district"),
    path("routing/<str:code>/rules/new/", routing_rule_create, name="routing_rule_create"),
    path("routing/<str:code>/rules/<int:rule_id>/edit/", routing_rule_edit, name="routing_rule_edit"),
    path(
        "routing/<str:code>/rules/<int:rule_id>/deactivate/",
        routing_rule_deactivate,
        name="routing_rule_deactivate",
    ),
    path("routing/<str:code>/try/", routing_try, name="routing_try"),
]
