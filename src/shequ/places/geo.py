"""Geometry of the jurisdiction: GeoJSON boundaries and the point-location engine.

This module is pure (shapely + numpy, no database) so that the benchmark and the tests can build an
engine from in-memory data; ``shequ.places.locate`` builds the shipped engine from the database.

The engine answers "which district, street, committee, grid and compound contain this WGS-84 point",
one layer at a time:

1. every layer with boundaries has an STRtree over its polygons (prepared once, at build time);
2. a batch of points is matched against the tree's bounding boxes in one vectorised ``query`` and the
   candidate pairs are then tested exactly with ``shapely.intersects_xy`` (a point on a shared border
   belongs to the first polygon in code order);
3. where no compound polygon contains a point, the nearest compound location point within the radius
   wins (STRtree ``query_nearest`` in a local metric projection; the distance reported is haversine);
4. missing upper layers are filled from the links of the most specific match (compound → committee,
   grid → committee → street → district), so that a city with compound points but no street boundaries
   still gets its street and committee.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray
from shapely.geometry.base import BaseGeometry

from .crs import Crs, convert

LAYERS: Final = ("district", "street", "committee", "grid", "compound")
# (target, source): fill ``target`` from the link of the match in ``source`` where ``target`` has none.
_DERIVATIONS: Final = (
    ("grid", "compound"),
    ("committee", "compound"),
    ("committee", "grid"),
    ("street", "committee"),
    ("street", "grid"),
    ("district", "street"),
)
EARTH_RADIUS_M: Final = 6_371_008.8
_M_PER_DEG: Final = EARTH_RADIUS_M * math.pi / 180.0

# Plausible WGS-84 extent for places we administer (mainland China and its islands, generously).
LON_MIN, LON_MAX = 73.0, 136.0
LAT_MIN, LAT_MAX = 3.0, 54.0

MATCH_NONE: Final = 0
MATCH_CONTAINS: Final = 1
MATCH_NEAREST: Final = 2
# Cell size of the single-point index: about this many (cell, polygon) pairs per polygon, within a cap.
_CELL_PAIRS_PER_POLYGON: Final = 4096
_MAX_CELL_PAIRS: Final = 120_000
_KEY_STRIDE: Final = 1 << 32


class GeometryError(ValueError):
    """A boundary that is not a usable polygon."""


@dataclass(frozen=True)
class CleanGeometry:
    geometry: BaseGeometry
    repaired: bool


def polygon_from_geojson(geojson: Mapping[str, Any], *, crs: Crs | str = Crs.WGS84) -> CleanGeometry:
    """Parse a GeoJSON (Multi)Polygon in ``crs`` into WGS-84, repairing invalid rings with ``make_valid``
    (reported as repaired).

    Raises ``GeometryError`` when the input is not polygonal, is empty, or lies outside the plausible extent.
    """
    if not isinstance(geojson, Mapping) or geojson.get("type") not in {"Polygon", "MultiPolygon"}:
        kind = geojson.get("type") if isinstance(geojson, Mapping) else type(geojson).__name__
        raise GeometryError(f"不是面要素（Polygon/MultiPolygon）：{kind}")
    try:
        geom = shapely.geometry.shape(geojson)
    except (ValueError, TypeError, KeyError, IndexError, AttributeError) as exc:
        raise GeometryError(f"几何无法解析：{exc}") from exc
    if geom.is_empty:
        raise GeometryError("几何为空")
    source = Crs(crs)
    if source is not Crs.WGS84:
        geom = shapely.transform(
            geom, lambda xy: np.column_stack(convert(xy[:, 0], xy[:, 1], source=source, target=Crs.WGS84))
        )
    repaired = False
    if not geom.is_valid:
        reason = shapely.is_valid_reason(geom)
        fixed = shapely.make_valid(geom)
        polygons = _polygonal_part(fixed)
        if polygons is None or polygons.is_empty:
            raise GeometryError(f"几何无效且无法修复：{reason}")
        geom, repaired = polygons, True
    minx, miny, maxx, maxy = geom.bounds
    if minx < LON_MIN or maxx > LON_MAX or miny < LAT_MIN or maxy > LAT_MAX:
        raise GeometryError("坐标超出合理范围（应为 WGS-84 经纬度）")
    return CleanGeometry(geometry=geom, repaired=repaired)


def _polygonal_part(geom: BaseGeometry) -> BaseGeometry | None:
    if geom.geom_type in {"Polygon", "MultiPolygon"}:
        return geom
    if geom.geom_type == "GeometryCollection":
        parts = [g for g in shapely.get_parts(geom) if g.geom_type in {"Polygon", "MultiPolygon"}]
        if parts:
            return shapely.union_all(parts)
    return None


def geometry_to_geojson(geom: BaseGeometry, precision: int = 7) -> dict[str, Any]:
    """GeoJSON mapping of ``geom`` with coordinates rounded (7 decimals ≈ 1 cm)."""
    rounded = shapely.set_precision(geom, 10.0**-precision) if precision else geom
    result: dict[str, Any] = shapely.geometry.mapping(rounded)
    return _lists(result)


def _lists(value: Any) -> Any:
    if isinstance(value, tuple | list):
        return [_lists(v) for v in value]
    if isinstance(value, dict):
        return {k: _lists(v) for k, v in value.items()}
    return value


def haversine_m(lon1: ArrayLike, lat1: ArrayLike, lon2: ArrayLike, lat2: ArrayLike) -> NDArray[np.float64]:
    lon1_r, lat1_r, lon2_r, lat2_r = (
        np.radians(np.asarray(v, dtype=np.float64)) for v in (lon1, lat1, lon2, lat2)
    )
    a = (
        np.sin((lat2_r - lat1_r) / 2) ** 2
        + np.cos(lat1_r) * np.cos(lat2_r) * np.sin((lon2_r - lon1_r) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(a))


@dataclass(frozen=True)
class Place:
    """One node as the engine sees it. ``links`` names, per layer, the code of the node it belongs to."""

    code: str
    name: str
    boundary: BaseGeometry | None = None
    point: tuple[float, float] | None = None
    links: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class BatchResult:
    """Indexes into ``engine.places[layer]`` per point (-1: none) and how the compound was matched."""

    index: dict[str, NDArray[np.int64]]
    compound_match: NDArray[np.int8]
    compound_distance_m: NDArray[np.float64]

    def __len__(self) -> int:
        return len(self.compound_match)


@dataclass(frozen=True)
class PointResult:
    places: dict[str, Place | None]
    compound_match: int
    compound_distance_m: float | None

    @property
    def found(self) -> bool:
        return any(p is not None for p in self.places.values())


class _PolygonLayer:
    """One layer's polygons with two indexes: an STRtree for batches, and a grid of cells for single
    points. A cell fully inside its first candidate polygon answers without any geometry call; other
    cells keep their candidate polygons (in code order) for an exact test."""

    __slots__ = ("bounds", "cell", "cells", "flat", "geoms", "key_list", "keys", "origin", "run_end", "tree")

    def __init__(self, keys: NDArray[np.int64], geoms: NDArray[Any]) -> None:
        shapely.prepare(geoms)
        self.keys = keys
        self.key_list: list[int] = keys.tolist()
        self.geoms = geoms
        self.tree = shapely.STRtree(geoms)
        self.bounds: list[tuple[float, float, float, float]] = [
            tuple(b) for b in shapely.bounds(geoms).tolist()
        ]
        self._cells_build()

    def _cells_build(self) -> None:
        b = shapely.bounds(self.geoms)
        total_area = float(np.sum((b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])))
        target_pairs = min(_CELL_PAIRS_PER_POLYGON * len(self.geoms), _MAX_CELL_PAIRS)
        self.cell = max(math.sqrt(total_area / target_pairs), 1e-6)
        self.origin = (float(b[:, 0].min()), float(b[:, 1].min()))
        ix0, iy0, ix1, iy1 = (
            np.floor((b[:, k] - self.origin[k % 2]) / self.cell).astype(np.int64) for k in range(4)
        )
        counts = (ix1 - ix0 + 1) * (iy1 - iy0 + 1)
        poly = np.repeat(np.arange(len(self.geoms)), counts)
        offset = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
        width = np.repeat(ix1 - ix0 + 1, counts)
        cx = np.repeat(ix0, counts) + offset % width
        cy = np.repeat(iy0, counts) + offset // width
        x0 = self.origin[0] + cx * self.cell
        y0 = self.origin[1] + cy * self.cell
        boxes = shapely.box(x0, y0, x0 + self.cell, y0 + self.cell)
        touching = shapely.intersects(self.geoms[poly], boxes)
        poly, cx, cy, boxes = poly[touching], cx[touching], cy[touching], boxes[touching]
        inside = shapely.contains_properly(self.geoms[poly], boxes)
        # Per cell: candidates in code order; a cell whose first candidate contains it needs no exact test.
        order = np.lexsort((poly, cy, cx))
        poly, cx, cy, inside = poly[order], cx[order], cy[order], inside[order]
        new_cell = np.ones(len(poly), dtype=bool)
        new_cell[1:] = (cx[1:] != cx[:-1]) | (cy[1:] != cy[:-1])
        starts = np.flatnonzero(new_cell)
        ends = np.append(starts[1:], len(poly))
        # cells[key] >= 0: the polygon containing the whole cell; < 0: -(position + 1) of the cell's
        # candidate run in ``flat`` (which ends at ``run_end[position]``).
        value = np.where(inside[starts], poly[starts], -(starts + 1))
        run_end = np.zeros(len(poly), dtype=np.int64)
        run_end[starts] = ends
        self.flat: list[int] = poly.tolist()
        self.run_end: list[int] = run_end.tolist()
        self.cells: dict[int, int] = dict(
            zip((cx[starts] * _KEY_STRIDE + cy[starts]).tolist(), value.tolist(), strict=True)
        )

    def match_many(
        self, xs: NDArray[np.float64], ys: NDArray[np.float64], points: NDArray[Any]
    ) -> NDArray[np.int64]:
        out = np.full(len(xs), -1, dtype=np.int64)
        inp, cand = self.tree.query(points)
        if len(inp):
            hit = shapely.intersects_xy(self.geoms[cand], xs[inp], ys[inp])
            inp, cand = inp[hit], cand[hit]
            # The first polygon in code order wins on shared borders: with candidates in descending order
            # it is the one written last.
            order = np.argsort(-cand, kind="stable")
            out[inp[order]] = self.keys[cand[order]]
        return out

    def match_one(self, x: float, y: float) -> int:
        cx = math.floor((x - self.origin[0]) / self.cell)
        cy = math.floor((y - self.origin[1]) / self.cell)
        if cx < 0 or cy < 0:
            return -1
        value = self.cells.get(cx * _KEY_STRIDE + cy)
        if value is None:
            return -1
        if value >= 0:
            return self.key_list[value]
        position = -value - 1
        for c in self.flat[position : self.run_end[position]]:
            minx, miny, maxx, maxy = self.bounds[c]
            if minx <= x <= maxx and miny <= y <= maxy and shapely.intersects_xy(self.geoms[c], x, y):
                return self.key_list[c]
        return -1


class _PointIndex:
    """Compound location points bucketed in cells one radius wide, for single-point nearest searches."""

    __slots__ = ("buckets", "keys", "kx", "lats", "lons", "radius_m")

    def __init__(
        self,
        keys: NDArray[np.int64],
        lons: NDArray[np.float64],
        lats: NDArray[np.float64],
        kx: float,
        radius_m: float,
    ) -> None:
        self.keys, self.lons, self.lats, self.kx, self.radius_m = (
            keys.tolist(),
            lons.tolist(),
            lats.tolist(),
            kx,
            radius_m,
        )
        self.buckets: dict[tuple[int, int], list[int]] = {}
        for i, (lon, lat) in enumerate(zip(self.lons, self.lats, strict=True)):
            self.buckets.setdefault(self._cell(lon, lat), []).append(i)

    def _cell(self, lon: float, lat: float) -> tuple[int, int]:
        # Cells a little wider than the radius in metres (projection error across a city is ~1%).
        size = self.radius_m * 1.05
        return math.floor(lon * self.kx / size), math.floor(lat * _M_PER_DEG / size)

    def nearest(self, lon: float, lat: float) -> tuple[int, float]:
        cx, cy = self._cell(lon, lat)
        best, best_d = -1, math.inf
        for dx in (-1, 0, 1):
            for dy in (-1, 0, 1):
                for i in self.buckets.get((cx + dx, cy + dy), ()):
                    d = _haversine_scalar(lon, lat, self.lons[i], self.lats[i])
                    if d < best_d:
                        best, best_d = i, d
        if best < 0 or best_d > self.radius_m:
            return -1, math.nan
        return self.keys[best], best_d


def _haversine_scalar(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = (
        math.sin((p2 - p1) / 2) ** 2
        + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(a))


class LocateEngine:
    """Immutable point-location index over the layers of the tree (WGS-84 lon/lat)."""

    def __init__(self, places: Mapping[str, Sequence[Place]], *, radius_m: float) -> None:
        unknown = set(places) - set(LAYERS)
        if unknown:
            raise ValueError(f"unknown layers: {sorted(unknown)}")
        self.radius_m = float(radius_m)
        self.places: dict[str, list[Place]] = {layer: list(places.get(layer, ())) for layer in LAYERS}
        code_index = {layer: {p.code: i for i, p in enumerate(ps)} for layer, ps in self.places.items()}
        # links[source][target][i] = index in target of the node source[i] belongs to (-1 none); a trailing
        # -1 sentinel makes "no match" (-1) map to -1 under fancy indexing.
        self._links: dict[str, dict[str, NDArray[np.int64]]] = {}
        for target, source in _DERIVATIONS:
            arr = np.full(len(self.places[source]) + 1, -1, dtype=np.int64)
            for i, p in enumerate(self.places[source]):
                code = p.links.get(target)
                if code is not None:
                    arr[i] = code_index[target].get(code, -1)
            self._links.setdefault(source, {})[target] = arr
        self._polygons: dict[str, _PolygonLayer] = {}
        for layer, ps in self.places.items():
            keyed = [(i, p.boundary) for i, p in enumerate(ps) if p.boundary is not None]
            if keyed:
                keys = np.fromiter((k for k, _ in keyed), dtype=np.int64, count=len(keyed))
                geoms = np.empty(len(keyed), dtype=object)
                geoms[:] = [g for _, g in keyed]
                self._polygons[layer] = _PolygonLayer(keys, geoms)
        compounds = self.places["compound"]
        with_points = [(i, p.point) for i, p in enumerate(compounds) if p.point is not None]
        self._point_keys = np.fromiter((i for i, _ in with_points), dtype=np.int64, count=len(with_points))
        self._point_lon = np.fromiter(
            (pt[0] for _, pt in with_points), dtype=np.float64, count=len(with_points)
        )
        self._point_lat = np.fromiter(
            (pt[1] for _, pt in with_points), dtype=np.float64, count=len(with_points)
        )
        self._lat0 = float(self._point_lat.mean()) if with_points else 0.0
        self._kx = _M_PER_DEG * math.cos(math.radians(self._lat0))
        self._point_tree = (
            shapely.STRtree(shapely.points(self._point_lon * self._kx, self._point_lat * _M_PER_DEG))
            if with_points
            else None
        )
        self._point_index = (
            _PointIndex(self._point_keys, self._point_lon, self._point_lat, self._kx, self.radius_m)
            if with_points
            else None
        )

    @property
    def polygon_layers(self) -> tuple[str, ...]:
        return tuple(self._polygons)

    @property
    def extent(self) -> tuple[float, float, float, float] | None:
        """(min lon, min lat, max lon, max lat) of the district polygons, if any."""
        layer = self._polygons.get("district")
        if layer is None:
            return None
        minx, miny, maxx, maxy = shapely.total_bounds(layer.geoms)
        return float(minx), float(miny), float(maxx), float(maxy)

    def locate_many(self, lons: ArrayLike, lats: ArrayLike) -> BatchResult:
        xs = np.ascontiguousarray(lons, dtype=np.float64).ravel()
        ys = np.ascontiguousarray(lats, dtype=np.float64).ravel()
        if xs.shape != ys.shape:
            raise ValueError("lons and lats must have the same length")
        n = len(xs)
        points = shapely.points(xs, ys)
        index = {layer: np.full(n, -1, dtype=np.int64) for layer in LAYERS}
        for layer, poly in self._polygons.items():
            index[layer] = poly.match_many(xs, ys, points)
        match = np.where(index["compound"] >= 0, MATCH_CONTAINS, MATCH_NONE).astype(np.int8)
        distance = np.full(n, np.nan)
        if self._point_tree is not None:
            todo = np.flatnonzero(index["compound"] < 0)
            if len(todo):
                found, dist = self._nearest(xs[todo], ys[todo])
                ok = found >= 0
                index["compound"][todo[ok]] = found[ok]
                match[todo[ok]] = MATCH_NEAREST
                distance[todo[ok]] = dist[ok]
        for target, source in _DERIVATIONS:
            missing = index[target] < 0
            if missing.any():
                index[target] = np.where(missing, self._links[source][target][index[source]], index[target])
        return BatchResult(index=index, compound_match=match, compound_distance_m=distance)

    def _nearest(
        self, xs: NDArray[np.float64], ys: NDArray[np.float64]
    ) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
        found = np.full(len(xs), -1, dtype=np.int64)
        dist = np.full(len(xs), np.nan)
        if self._point_tree is None:
            return found, dist
        projected = shapely.points(xs * self._kx, ys * _M_PER_DEG)
        # The projection's scale error across a city is ~1%; search a little wider, then filter exactly.
        pairs = self._point_tree.query_nearest(
            projected, max_distance=self.radius_m * 1.05, all_matches=False
        )
        if pairs.shape[1]:
            inp, cand = pairs
            d = haversine_m(xs[inp], ys[inp], self._point_lon[cand], self._point_lat[cand])
            ok = d <= self.radius_m
            found[inp[ok]] = self._point_keys[cand[ok]]
            dist[inp[ok]] = d[ok]
        return found, dist

    def locate_one(self, lon: float, lat: float) -> PointResult:
        """The single-point path: the same answers as ``locate_many`` through the cell indexes, without
        array set-up per call."""
        x, y = float(lon), float(lat)
        idx = dict.fromkeys(LAYERS, -1)
        for layer, poly in self._polygons.items():
            idx[layer] = poly.match_one(x, y)
        match, distance = MATCH_NONE, None
        if idx["compound"] >= 0:
            match = MATCH_CONTAINS
        elif self._point_index is not None:
            found, dist = self._point_index.nearest(x, y)
            if found >= 0:
                idx["compound"], match, distance = found, MATCH_NEAREST, dist
        for target, source in _DERIVATIONS:
            if idx[target] < 0 <= idx[source]:
                idx[target] = int(self._links[source][target][idx[source]])
        return PointResult(
            places={layer: (self.places[layer][i] if i >= 0 else None) for layer, i in idx.items()},
            compound_match=match,
            compound_distance_m=distance,
        )
