"""The jurisdiction tree over the API, scoped exactly like the place browser.

Everything is read through ``shequ.places.selectors`` (and so through the visibility module): a
division or compound outside the caller's scope answers 404 ``not_found``, like a missing one. Lists
are paginated and cost a fixed number of queries whatever the page size.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from shequ.places import selectors
from shequ.places.models import Building, Compound, Division

router = Router(tags=["places"])

MAX_PAGE_SIZE = 200


class PageQuery(Schema):
    page: int = Field(1, ge=1)
    page_size: int = Field(50, ge=1, le=MAX_PAGE_SIZE)


class DivisionListQuery(PageQuery):
    parent: str | None = Field(None, pattern=r"^[0-9]{12}$", description="12-digit code; omit for your roots")


class CompoundListQuery(PageQuery):
    committee: str | None = Field(None, pattern=r"^[0-9]{12}$", description="12-digit committee code")


class DivisionRef(Schema):
    code: str
    name: str
    level: str


class DivisionOut(Schema):
    code: str
    name: str
    level: str
    kind: str
    parent: str | None
    is_active: bool
    child_count: int
    compound_count: int
    household_count: int


class DivisionDetailOut(Schema):
    code: str
    name: str
    level: str
    kind: str
    parent: str | None
    is_active: bool
    ancestors: list[DivisionRef]


class DivisionPage(Schema):
    count: int
    page: int
    page_size: int
    items: list[DivisionOut]


class CompoundOut(Schema):
    code: str
    name: str
    committee: str
    grid: str | None
    housing_type: str
    is_walled: bool
    has_property_manager: bool
    is_rural_homestead: bool
    household_count: int
    building_count: int
    lon: float | None
    lat: float | None


class Entrance(Schema):
    name: str
    open: bool


class BuildingOut(Schema):
    number: str
    floors: int
    units: int
    house_count: int


class CompoundDetailOut(Schema):
    code: str
    name: str
    committee: DivisionRef
    grid: str | None
    housing_type: str
    is_walled: bool
    has_property_manager: bool
    is_rural_homestead: bool
    household_count: int
    lon: float | None
    lat: float | None
    entrances: list[Entrance]
    buildings: list[BuildingOut]


class CompoundPage(Schema):
    count: int
    page: int
    page_size: int
    items: list[CompoundOut]


def _slice(queryset: QuerySet[Any], query: PageQuery) -> tuple[int, list[Any]]:
    """One COUNT and one page query, whatever the page size."""
    start = (query.page - 1) * query.page_size
    return queryset.count(), list(queryset[start : start + query.page_size])


def _division_out(d: Division, parent_code: str | None) -> DivisionOut:
    return DivisionOut(
        code=d.code,
        name=d.name,
        level=d.level,
        kind=d.kind,
        parent=parent_code,
        is_active=d.is_active,
        child_count=d.child_count,  # type: ignore[attr-defined]
        compound_count=d.compound_count,  # type: ignore[attr-defined]
        household_count=d.household_total,  # type: ignore[attr-defined]
    )


def _parent_code(d: Division) -> str | None:
    parts = [p for p in d.path.strip("/").split("/") if p]
    return parts[-2] if len(parts) > 1 else None


def _compound_out(c: Compound) -> CompoundOut:
    return CompoundOut(
        code=c.code,
        name=c.name,
        committee=c.committee.code,
        grid=c.grid.code if c.grid is not None else None,
        housing_type=c.housing_type,
        is_walled=c.is_walled,
        has_property_manager=c.has_property_manager,
        is_rural_homestead=c.is_rural_homestead,
        household_count=c.household_count,
        building_count=c.building_count,  # type: ignore[attr-defined]
        lon=c.lon,
        lat=c.lat,
    )


def _entrances(raw: Any) -> list[Entrance]:
    if not isinstance(raw, list):
        return []
    return [
        Entrance(name=str(e.get("name", "")), open=bool(e.get("open", False)))
        for e in raw
        if isinstance(e, dict)
    ]


def _building_out(b: Building) -> BuildingOut:
    return BuildingOut(number=b.number, floors=b.floors, units=b.units, house_count=b.house_count)  # type: ignore[attr-defined]


@router.get("/divisions", response=DivisionPage, url_name="places_division_list")
def division_list(request: HttpRequest, query: Query[DivisionListQuery]) -> DivisionPage:
    """Children of ``parent`` (or your top nodes when it is omitted), with visible counts."""
    if query.parent:
        parent = selectors.access_division_by_code(user=request.user, code=query.parent)
        queryset = selectors.division_children(user=request.user, division=parent)
    else:
        queryset = selectors.division_roots(user=request.user)
    count, rows = _slice(queryset, query)
    return DivisionPage(
        count=count,
        page=query.page,
        page_size=query.page_size,
        items=[_division_out(d, _parent_code(d)) for d in rows],
    )


@router.get("/divisions/{code}", response=DivisionDetailOut, url_name="places_division_detail")
def division_detail(request: HttpRequest, code: str) -> DivisionDetailOut:
    division = selectors.access_division_by_code(user=request.user, code=code)
    ancestors = selectors.division_ancestors(user=request.user, division=division)
    return DivisionDetailOut(
        code=division.code,
        name=division.name,
        level=division.level,
        kind=division.kind,
        parent=_parent_code(division),
        is_active=division.is_active,
        ancestors=[DivisionRef(code=a.code, name=a.name, level=a.level) for a in ancestors],
    )


@router.get("/divisions/{code}/boundary", response=dict[str, Any], url_name="places_division_boundary")
def division_boundary(request: HttpRequest, code: str) -> dict[str, Any]:
    """GeoJSON FeatureCollection (WGS-84): the visible children's outlines, or the node's own.
    Divisions without a recorded boundary are left out, so the collection may be empty."""
    division = selectors.access_division_by_code(user=request.user, code=code)
    return selectors.division_boundary_features(user=request.user, division=division)


@router.get("/compounds", response=CompoundPage, url_name="places_compound_list")
def compound_list(request: HttpRequest, query: Query[CompoundListQuery]) -> CompoundPage:
    """Compounds of one committee, or every compound you may see when ``committee`` is omitted."""
    committee = None
    if query.committee:
        committee = selectors.access_division_by_code(user=request.user, code=query.committee)
    queryset = selectors.compound_list(user=request.user, committee=committee)
    count, rows = _slice(queryset, query)
    return CompoundPage(
        count=count, page=query.page, page_size=query.page_size, items=[_compound_out(c) for c in rows]
    )


@router.get("/compounds/{code}", response=CompoundDetailOut, url_name="places_compound_detail")
def compound_detail(request: HttpRequest, code: str) -> CompoundDetailOut:
    compound = selectors.access_compound_by_code(user=request.user, code=code)
    buildings = selectors.building_list(user=request.user, compound=compound)
    committee = compound.committee
    return CompoundDetailOut(
        code=compound.code,
        name=compound.name,
        committee=DivisionRef(code=committee.code, name=committee.name, level=committee.level),
        grid=compound.grid.code if compound.grid is not None else None,
        housing_type=compound.housing_type,
        is_walled=compound.is_walled,
        has_property_manager=compound.has_property_manager,
        is_rural_homestead=compound.is_rural_homestead,
        household_count=compound.household_count,
        lon=compound.lon,
        lat=compound.lat,
        entrances=_entrances(compound.entrances),
        buildings=[_building_out(b) for b in buildings],
    )
