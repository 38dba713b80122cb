"""Reads of the jurisdiction tree, always narrowed by ``shequ.accounts.visibility``.

Every function takes the user explicitly. Lists are annotated with their counts in the same query
(correlated subqueries over visible records), so a page costs the same number of queries whatever
its length. Counts are counts of what the user may see: a committee worker looking at the city sees
one district with one street in it, never the totals of other districts.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Count, F, Func, IntegerField, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce

from shequ.accounts.visibility import access_by_lookup, scope_of, visible

from .models import Building, Compound, Division, Grid


def _subquery_count(queryset: QuerySet[Any]) -> Coalesce:
    """``COUNT(*)`` of a correlated queryset as an annotation (no GROUP BY on the outer query)."""
    counted = queryset.order_by().annotate(_n=Func(F("pk"), function="COUNT", output_field=IntegerField()))
    return Coalesce(Subquery(counted.values("_n")[:1], output_field=IntegerField()), 0)


def _subquery_sum(queryset: QuerySet[Any], field: str) -> Coalesce:
    summed = queryset.order_by().annotate(_s=Func(F(field), function="SUM", output_field=IntegerField()))
    return Coalesce(Subquery(summed.values("_s")[:1], output_field=IntegerField()), 0)


def _visible_compounds(user: Any) -> QuerySet[Compound]:
    """Visible compounds, one row each (organisation scope joins the compound's service links,
    which could repeat a compound; an id subquery keeps rows unique)."""
    queryset = visible(Compound.objects.all(), user)
    if scope_of(user).organisation_ids:
        return Compound.objects.filter(pk__in=queryset.values("pk"))
    return queryset


def _visible_divisions(user: Any) -> QuerySet[Division]:
    return visible(Division.objects.all(), user)


def _with_counts(queryset: QuerySet[Division], user: Any) -> QuerySet[Division]:
    """Annotate divisions with the visible active children, compounds and households below them."""
    children = _visible_divisions(user).filter(parent=OuterRef("pk"), is_active=True)
    compounds = _visible_compounds(user).filter(path__startswith=OuterRef("path"))
    return queryset.annotate(
        child_count=_subquery_count(children),
        compound_count=_subquery_count(compounds),
        household_total=_subquery_sum(compounds, "household_count"),
    )


# --- Divisions -------------------------------------------------------------------------------


def access_division_by_code(*, user: Any, code: str) -> Division:
    """One division the user may see (its subtree or, for navigation, an ancestor); 404 otherwise."""
    queryset = Division.objects.select_related("parent").defer("boundary", "parent__boundary")
    return access_by_lookup(queryset, user, code=code)


def division_children(*, user: Any, division: Division, search: str = "") -> QuerySet[Division]:
    """The visible active children of ``division`` with their counts, in code order."""
    queryset = _visible_divisions(user).filter(parent=division, is_active=True).defer("boundary")
    if search:
        queryset = queryset.filter(name__icontains=search)
    return _with_counts(queryset, user).order_by("code")


def division_roots(*, user: Any, search: str = "") -> QuerySet[Division]:
    """The top of the user's visible tree: visible divisions whose parent is not visible (for any
    division membership this is the city, reached through the navigable ancestors)."""
    visible_ids = _visible_divisions(user).values("pk")
    queryset = (
        _visible_divisions(user).exclude(parent__in=visible_ids).filter(is_active=True).defer("boundary")
    )
    if search:
        queryset = queryset.filter(name__icontains=search)
    return _with_counts(queryset, user).order_by("code")


def _trail(user: Any, path: str, *, exclude: str = "") -> list[Division]:
    codes = [part for part in path.strip("/").split("/") if part and part != exclude]
    if not codes:
        return []
    rows = _visible_divisions(user).filter(code__in=codes).only("code", "name", "level", "path")
    return sorted(rows, key=lambda d: len(d.path))


def division_ancestors(*, user: Any, division: Division) -> list[Division]:
    """The visible divisions above ``division``, from the top down (for breadcrumbs)."""
    return _trail(user, division.path, exclude=division.code)


def compound_trail(*, user: Any, compound: Compound) -> list[Division]:
    """The visible divisions above a compound, its committee included, from the top down."""
    return _trail(user, compound.committee.path)


def division_has_boundaries(*, user: Any, division: Division) -> bool:
    """Whether the boundary map of ``division`` (its children's outlines, or its own) has anything."""
    children = _visible_divisions(user).filter(parent=division, is_active=True, boundary__isnull=False)
    return children.exists() or Division.objects.filter(pk=division.pk, boundary__isnull=False).exists()


def division_boundary_features(*, user: Any, division: Division) -> dict[str, Any]:
    """A GeoJSON FeatureCollection: the outlines of the visible children of ``division`` that have a
    boundary, or, when none has, the division's own outline. Divisions without a boundary are left out."""
    children = (
        _visible_divisions(user)
        .filter(parent=division, is_active=True, boundary__isnull=False)
        .only("code", "name", "level", "boundary")
        .order_by("code")
    )
    rows = list(children)
    if not rows:
        own = Division.objects.filter(pk=division.pk, boundary__isnull=False).only(
            "code", "name", "level", "boundary"
        )
        rows = list(own)
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "id": row.code,
                "properties": {"code": row.code, "name": row.name, "level": row.level},
                "geometry": row.boundary,
            }
            for row in rows
            if isinstance(row.boundary, dict) and row.boundary.get("type")
        ],
    }


# --- Compounds and buildings ------------------------------------------------------------------


def compound_list(*, user: Any, committee: Division | None = None, search: str = "") -> QuerySet[Compound]:
    """Visible compounds (of one committee, or all the user may see) with their building counts."""
    queryset = _visible_compounds(user).defer("boundary")
    if committee is not None:
        queryset = queryset.filter(committee=committee)
    if search:
        queryset = queryset.filter(name__icontains=search)
    buildings = visible(Building.objects.filter(compound=OuterRef("pk")), user)
    return (
        queryset.select_related("committee", "grid")
        .defer("committee__boundary", "grid__boundary")
        .annotate(building_count=_subquery_count(buildings))
        .order_by("code")
    )


def access_compound_by_code(*, user: Any, code: str) -> Compound:
    """One compound the user may see; 404 when it is missing or outside the user's scope."""
    queryset = (
        Compound.objects.select_related("committee", "grid")
        .defer("committee__boundary", "grid__boundary")
        .distinct()
    )
    return access_by_lookup(queryset, user, code=code)


def building_list(*, user: Any, compound: Compound) -> QuerySet[Building]:
    """The visible buildings of a compound with their house counts, in number order."""
    queryset = visible(Building.objects.filter(compound=compound), user)
    if scope_of(user).organisation_ids:
        queryset = Building.objects.filter(pk__in=queryset.values("pk"))
    return queryset.annotate(house_count=Count("houses")).order_by("number")


def grids_of_user(*, user: Any) -> QuerySet[Grid]:
    """The grids the user works in (a grid worker's own grids), for the home page."""
    scope = scope_of(user)
    return Grid.objects.filter(pk__in=scope.grid_ids).select_related("division").defer("boundary")
