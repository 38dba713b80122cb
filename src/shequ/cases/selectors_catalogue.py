"""Reads of the dispatch catalogue (派单目录) and of the routing rules.

- ``category_search``: the category search of the report form and of the catalogue page — by code,
  name, keywords or 大类 name (substring match, every word must match somewhere), best match first;
  emergency categories come first whenever they match, so that the form can stop on them.
- ``access_category_by_code``: one category; internal categories (``is_public=False``, used by staff
  only) and inactive ones are a 404 for whoever may not use them.
- Routing rules: who may manage them (district officers for their district and the streets under it,
  city administrators everywhere), the districts a user manages, the rules that apply in a district,
  and access to one rule (a 404 outside the user's districts, like a missing rule).
"""

from __future__ import annotations

from typing import Any

from django.db.models import Case, F, IntegerField, Q, QuerySet, Value, When
from django.http import Http404

from shequ.accounts.security import is_staff_user
from shequ.places.models import Division, DivisionLevel

from .models import Category, CategoryKind, RoutingRule
from .permissions import is_city_routing_admin, routing_seats

MAX_TERMS = 5
# The standard's order: parts (部件) before events (事件), then 大类 and 小类.
CATALOGUE_ORDER = (
    Case(When(kind=CategoryKind.PART, then=Value(0)), default=Value(1), output_field=IntegerField()).asc(),
    "major_code",
    "minor_code",
)

# --- The catalogue -------------------------------------------------------------------------------


def may_use_internal_categories(user: Any) -> bool:
    """Staff may pick the internal categories (grid patrol …); residents and the public may not."""
    return bool(getattr(user, "is_superuser", False) or is_staff_user(user))


def category_search(
    *,
    q: str = "",
    kind: str = "",
    major: str = "",
    include_internal: bool = False,
    include_inactive: bool = False,
) -> QuerySet[Category]:
    """Categories matching ``q`` (all its words, each in the code, name, keywords or 大类 name), best
    first: emergency categories, then an exact or leading code match, a name match, a keyword match, a
    大类-name match; then catalogue order. Without ``q``: the catalogue in its order."""
    queryset = Category.objects.all()
    if not include_inactive:
        queryset = queryset.filter(is_active=True)
    if not include_internal:
        queryset = queryset.filter(is_public=True)
    if kind:
        queryset = queryset.filter(kind=kind)
    if major:
        queryset = queryset.filter(major_code=major)
    text = " ".join((q or "").split())
    terms = text.split()[:MAX_TERMS]
    if not terms:
        return queryset.order_by(*CATALOGUE_ORDER)
    for term in terms:
        queryset = queryset.filter(
            Q(code__icontains=term)
            | Q(name__icontains=term)
            | Q(keywords__icontains=term)
            | Q(major_name__icontains=term)
        )
    first = terms[0]
    rank = Case(
        When(code__iexact=text, then=Value(0)),
        When(code__istartswith=first, then=Value(1)),
        When(name__iexact=text, then=Value(1)),
        When(name__icontains=text, then=Value(2)),
        When(name__icontains=first, then=Value(3)),
        When(keywords__icontains=first, then=Value(4)),
        default=Value(5),
        output_field=IntegerField(),
    )
    emergency_last = Case(
        When(emergency_service="", then=Value(1)), default=Value(0), output_field=IntegerField()
    )
    return queryset.annotate(match_rank=rank, emergency_last=emergency_last).order_by(
        "emergency_last", "match_rank", *CATALOGUE_ORDER
    )


def category_majors(*, include_internal: bool = False) -> list[dict[str, str]]:
    """The 大类 present in the catalogue, in order: ``{"kind", "major_code", "major_name"}``."""
    queryset = Category.objects.filter(is_active=True)
    if not include_internal:
        queryset = queryset.filter(is_public=True)
    rows = queryset.order_by("kind", "major_code").values("kind", "major_code", "major_name").distinct()
    seen: dict[tuple[str, str], dict[str, str]] = {}
    for row in rows:
        kind, major = str(row["kind"]), str(row["major_code"])
        seen.setdefault(
            (kind, major), {"kind": kind, "major_code": major, "major_name": str(row["major_name"])}
        )
    return sorted(seen.values(), key=lambda m: (m["kind"] != CategoryKind.PART, m["major_code"]))


def access_category_by_code(*, code: str, user: Any = None) -> Category:
    """One category by code; a 404 when missing, inactive or internal for this user."""
    queryset = Category.objects.filter(code__iexact=(code or "").strip())
    if not may_use_internal_categories(user):
        queryset = queryset.filter(is_public=True, is_active=True)
    category = queryset.first()
    if category is None:
        raise Http404
    return category


def categories_routable() -> QuerySet[Category]:
    """Active categories a case can have (emergency matters are not cases), in catalogue order."""
    return Category.objects.filter(is_active=True, emergency_service="").order_by(*CATALOGUE_ORDER)


# --- The districts whose routing rules a user keeps (the rules themselves: ``permissions``) ----------


def routing_districts(user: Any) -> QuerySet[Division]:
    """The districts whose rules the user manages."""

    districts = Division.objects.filter(level=DivisionLevel.DISTRICT, is_active=True).order_by("code")
    if is_city_routing_admin(user):
        return districts
    paths = [path for _role, path in routing_seats(user)]
    if not paths:
        return districts.none()
    match = Q()
    for path in paths:
        match |= Q(path__startswith=path)
    return districts.filter(match)


def access_routing_district(*, user: Any, code: str) -> Division:
    """A district the user manages, by code; 404 otherwise."""
    district = routing_districts(user).filter(code=code).first()
    if district is None:
        raise Http404
    return district


def district_streets(district: Division) -> QuerySet[Division]:
    return Division.objects.filter(parent=district, level=DivisionLevel.STREET, is_active=True).order_by(
        "code"
    )


def district_committees(district: Division) -> QuerySet[Division]:
    return (
        Division.objects.filter(path__startswith=district.path, level=DivisionLevel.COMMITTEE, is_active=True)
        .select_related("parent")
        .order_by("code")
    )


# --- The rules ----------------------------------------------------------------------------------


def routing_rules_for_district(
    *, district: Division, include_inactive: bool = False
) -> QuerySet[RoutingRule]:
    """The rules that can apply in ``district``: city-wide ones, the district's own and its streets'
    (and committees'), city-wide first, then by place, priority and age."""
    match = Q(division__isnull=True) | Q(division__path__startswith=district.path)
    if district.parent_id is not None:
        match |= Q(division_id=district.parent_id)
    queryset = RoutingRule.objects.filter(match)
    if not include_inactive:
        queryset = queryset.filter(is_active=True)
    return queryset.select_related("division", "category", "organisation", "organisation__division").order_by(
        F("division__path").asc(nulls_first=True), "priority", "pk"
    )


def routing_rules_visible(user: Any) -> QuerySet[RoutingRule]:
    """Every rule the user may read: city-wide rules and the rules of the districts they manage."""
    queryset = RoutingRule.objects.select_related(
        "division", "category", "organisation", "organisation__division"
    ).order_by(F("division__path").asc(nulls_first=True), "priority", "pk")
    if is_city_routing_admin(user):
        return queryset
    paths = [path for _role, path in routing_seats(user)]
    if not paths:
        return queryset.none()
    match = Q(division__isnull=True) | Q(division__level=DivisionLevel.CITY)
    for path in paths:
        match |= Q(division__path__startswith=path)
    return queryset.filter(match)


def access_routing_rule_by_id(*, user: Any, rule_id: int) -> RoutingRule:
    """One rule the user may read (``routing_rules_visible``); a 404 otherwise."""
    rule = routing_rules_visible(user).filter(pk=rule_id).first()
    if rule is None:
        raise Http404
    return rule
