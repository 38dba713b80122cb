"""``GET /api/v1/places/locate``: which district, street, committee, grid and compound a point is in.

Any authenticated caller (token or session) may locate: the answer names places, never people.
"""

from __future__ import annotations

from typing import Literal

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from shequ.places.crs import Crs
from shequ.places.locate import PlaceRef, locate

router = Router(tags=["places"])


class LocateQuery(Schema):
    lon: float = Field(..., description="Longitude in the given CRS")
    lat: float = Field(..., description="Latitude in the given CRS")
    crs: Crs = Field(Crs.WGS84, description="wgs84 (GPS), gcj02 (Amap, Tencent, WeChat) or bd09 (Baidu)")


class PointOut(Schema):
    lon: float
    lat: float
    crs: str


class PlaceOut(Schema):
    code: str
    name: str


class CompoundMatchOut(Schema):
    method: Literal["contains", "nearest"]
    distance_m: float | None = None


class LocateOut(Schema):
    input: PointOut
    wgs84: PointOut
    district: PlaceOut
    street: PlaceOut | None
    committee: PlaceOut | None
    grid: PlaceOut | None
    compound: PlaceOut | None
    compound_match: CompoundMatchOut | None


def _place(ref: PlaceRef | None) -> PlaceOut | None:
    return PlaceOut(code=ref.code, name=ref.name) if ref is not None else None


@router.get("/locate", response=LocateOut, summary="Locate a point in the jurisdiction tree")
def locate_point(request: HttpRequest, query: Query[LocateQuery]) -> LocateOut:
    answer = locate(lon=query.lon, lat=query.lat, crs=query.crs)
    return LocateOut(
        input=PointOut(lon=answer.lon, lat=answer.lat, crs=answer.crs),
        wgs84=PointOut(lon=round(answer.wgs84_lon, 7), lat=round(answer.wgs84_lat, 7), crs=Crs.WGS84.value),
        district=PlaceOut(code=answer.district.code, name=answer.district.name),
        street=_place(answer.street),
        committee=_place(answer.committee),
        grid=_place(answer.grid),
        compound=_place(answer.compound),
        compound_match=(
            CompoundMatchOut(method=answer.compound_match, distance_m=answer.compound_distance_m)
            if answer.compound_match
            else None
        ),
    )
