"""``locate()``: which district, street, committee, grid and compound a point lies in.

The index (``geo.LocateEngine``) is built from the database once per process and rebuilt only when the
locate revision (``places.locate`` in ``core.revisions``, bumped by every service that changes
boundaries, compound locations or names) has changed; the revision tokens are read once per request.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import shapely
from django.conf import settings
from django.utils.translation import gettext as _
from numpy.typing import ArrayLike

from shequ.core.errors import ApiError
from shequ.core.revisions import RevisionCache

from .crs import Crs, convert
from .geo import MATCH_CONTAINS, MATCH_NEAREST, BatchResult, LocateEngine, Place
from .models import Compound, Division, DivisionLevel, Grid
from .services import LOCATE_REVISION


def _boundary(geojson: Any) -> Any:
    return shapely.geometry.shape(geojson) if geojson else None


def locate_engine_build() -> LocateEngine:
    """Read the active tree, its boundaries and compound locations into a new engine."""
    places: dict[str, list[Place]] = {"district": [], "street": [], "committee": []}
    parent_layer: dict[str, str] = {DivisionLevel.STREET: "district", DivisionLevel.COMMITTEE: "street"}
    rows = (
        Division.objects.filter(
            is_active=True,
            level__in=[DivisionLevel.DISTRICT, DivisionLevel.STREET, DivisionLevel.COMMITTEE],
        )
        .order_by("code")
        .values_list("code", "name", "level", "boundary", "parent__code")
    )
    division_level: dict[str, str] = {}
    for code, name, level, boundary, parent_code in rows:
        layer = "district" if level == DivisionLevel.DISTRICT else level
        links = {parent_layer[level]: parent_code} if level in parent_layer and parent_code else {}
        places[layer].append(Place(code=code, name=name, boundary=_boundary(boundary), links=links))
        division_level[code] = layer
    places["grid"] = [
        Place(
            code=code, name=name, boundary=_boundary(boundary), links={division_level.get(div, "street"): div}
        )
        for code, name, boundary, div in Grid.objects.order_by("code").values_list(
            "code", "name", "boundary", "division__code"
        )
    ]
    compounds = Compound.objects.filter(committee__is_active=True).order_by("code")
    places["compound"] = [
        Place(
            code=code,
            name=name,
            boundary=_boundary(boundary),
            point=(lon, lat) if lon is not None and lat is not None else None,
            links={"committee": committee, **({"grid": grid} if grid else {})},
        )
        for code, name, boundary, lon, lat, committee, grid in compounds.values_list(
            "code", "name", "boundary", "lon", "lat", "committee__code", "grid__code"
        )
        # Only compounds that can be found: with a location or a boundary.
        if boundary or lon is not None
    ]
    return LocateEngine(places, radius_m=settings.SHEQU_LOCATE_RADIUS_M)


_engine: RevisionCache[LocateEngine] = RevisionCache((LOCATE_REVISION,), locate_engine_build)


def locate_engine() -> LocateEngine:
    """The process's engine, rebuilt when the locate revision changed since it was built."""
    return _engine.get()


@dataclass(frozen=True)
class PlaceRef:
    code: str
    name: str


@dataclass(frozen=True)
class LocateAnswer:
    lon: float
    lat: float
    crs: str
    wgs84_lon: float
    wgs84_lat: float
    district: PlaceRef
    street: PlaceRef | None
    committee: PlaceRef | None
    grid: PlaceRef | None
    compound: PlaceRef | None
    compound_match: Literal["contains", "nearest"] | None
    compound_distance_m: float | None


def crs_parse(value: str) -> Crs:
    try:
        return Crs(str(value).strip().lower())
    except ValueError:
        raise ApiError(
            _("未知坐标系 %(crs)s，可选 wgs84、gcj02、bd09") % {"crs": value},
            code="invalid",
            field="crs",
            status=422,
        ) from None


def _check_coordinates(lon: float, lat: float) -> None:
    for field_name, value, bound in (("lon", lon, 180.0), ("lat", lat, 90.0)):
        if not math.isfinite(value) or abs(value) > bound:
            raise ApiError(
                _("%(field)s 应为 -%(bound)s 到 %(bound)s 之间的数字")
                % {"field": field_name, "bound": bound},
                code="invalid",
                field=field_name,
                status=422,
            )


def _outside(engine: LocateEngine, lon: float, lat: float) -> ApiError:
    # Name the coordinate that is off: the latitude when the longitude lies within the city's extent.
    extent = engine.extent
    field_name = "lat" if extent is not None and extent[0] <= lon <= extent[2] else "lon"
    return ApiError(
        _("坐标 (%(lon).6f, %(lat).6f) 不在本市辖区内") % {"lon": lon, "lat": lat},
        code="outside_jurisdiction",
        field=field_name,
        status=422,
    )


def _ref(place: Place | None) -> PlaceRef | None:
    return PlaceRef(code=place.code, name=place.name) if place is not None else None


def locate(*, lon: float, lat: float, crs: Crs | str = Crs.WGS84) -> LocateAnswer:
    """Locate one point sent in ``crs``. Raises ``ApiError`` (field "crs", "lon" or "lat") for an unknown
    CRS, an impossible coordinate, or a point outside every district of the jurisdiction."""
    source = crs if isinstance(crs, Crs) else crs_parse(crs)
    _check_coordinates(lon, lat)
    wlon, wlat = convert(lon, lat, source=source, target=Crs.WGS84)
    engine = locate_engine()
    result = engine.locate_one(wlon, wlat)
    district = result.places["district"]
    if district is None:
        raise _outside(engine, wlon, wlat)
    match: Literal["contains", "nearest"] | None = None
    if result.compound_match == MATCH_CONTAINS:
        match = "contains"
    elif result.compound_match == MATCH_NEAREST:
        match = "nearest"
    return LocateAnswer(
        lon=lon,
        lat=lat,
        crs=source.value,
        wgs84_lon=wlon,
        wgs84_lat=wlat,
        district=PlaceRef(code=district.code, name=district.name),
        street=_ref(result.places["street"]),
        committee=_ref(result.places["committee"]),
        grid=_ref(result.places["grid"]),
        compound=_ref(result.places["compound"]),
        compound_match=match,
        compound_distance_m=round(result.compound_distance_m, 1)
        if result.compound_distance_m is not None
        else None,
    )


def locate_many(lons: ArrayLike, lats: ArrayLike, *, crs: Crs | str = Crs.WGS84) -> BatchResult:
    """Locate many points at once (vectorised). Indexes refer to ``locate_engine().places[layer]``;
    points outside every district have district index -1."""
    source = crs if isinstance(crs, Crs) else crs_parse(crs)
    xs, ys = convert(
        np.asarray(lons, dtype=np.float64),
        np.asarray(lats, dtype=np.float64),
        source=source,
        target=Crs.WGS84,
    )
    return locate_engine().locate_many(xs, ys)
