"""Coordinate reference systems used by Chinese map clients (DOMAIN.md §1: store WGS-84, convert at the edge).

- WGS-84: GPS and our stored geometries.
- GCJ-02: the obfuscated system mandated for published maps in mainland China (Amap, Tencent, WeChat).
- BD-09: Baidu's further offset of GCJ-02.

The GCJ-02 offset is the published reverse-engineered formula (Krasovsky ellipsoid). Its inverse, and the
refinement of the closed-form BD-09 inverse, are fixed-point iterations that converge to far below a
millimetre within a few steps. Outside mainland China's bounding box GCJ-02 equals WGS-84. Every function
accepts scalars or numpy arrays (vectorised).
"""

from __future__ import annotations

from enum import StrEnum
from typing import overload

import numpy as np
from numpy.typing import ArrayLike, NDArray

FloatArray = NDArray[np.float64]

_A = 6378245.0  # Krasovsky 1940 semi-major axis
_EE = 0.00669342162296594323  # its first eccentricity squared
_X_PI = np.pi * 3000.0 / 180.0
_LON_MIN, _LON_MAX = 72.004, 137.8347
_LAT_MIN, _LAT_MAX = 0.8293, 55.8271
_INVERSE_ITERATIONS = 8
_BD_REFINE_ITERATIONS = 3


class Crs(StrEnum):
    WGS84 = "wgs84"
    GCJ02 = "gcj02"
    BD09 = "bd09"


def _in_china(lon: FloatArray, lat: FloatArray) -> NDArray[np.bool_]:
    return (lon >= _LON_MIN) & (lon <= _LON_MAX) & (lat >= _LAT_MIN) & (lat <= _LAT_MAX)


def _offset(lon: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    """The GCJ-02 shift (degrees) to add to a WGS-84 point."""
    x = lon - 105.0
    y = lat - 35.0
    sqrt_abs_x = np.sqrt(np.abs(x))
    common = (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * sqrt_abs_x + common
    dlat += (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
    dlat += (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * sqrt_abs_x + common
    dlon += (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
    dlon += (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    radlat = lat / 180.0 * np.pi
    magic = 1.0 - _EE * np.sin(radlat) ** 2
    sqrt_magic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1.0 - _EE)) / (magic * sqrt_magic) * np.pi)
    dlon = (dlon * 180.0) / (_A / sqrt_magic * np.cos(radlat) * np.pi)
    inside = _in_china(lon, lat)
    return np.where(inside, dlon, 0.0), np.where(inside, dlat, 0.0)


def _wgs84_to_gcj02(lon: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    dlon, dlat = _offset(lon, lat)
    return lon + dlon, lat + dlat


def _gcj02_to_wgs84(lon: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    # Fixed-point iteration: wgs = gcj - offset(wgs). The offset varies slowly, so this contracts fast.
    wlon, wlat = lon.copy(), lat.copy()
    for _ in range(_INVERSE_ITERATIONS):
        glon, glat = _wgs84_to_gcj02(wlon, wlat)
        wlon += lon - glon
        wlat += lat - glat
    return wlon, wlat


def _gcj02_to_bd09(lon: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    z = np.sqrt(lon * lon + lat * lat) + 0.00002 * np.sin(lat * _X_PI)
    theta = np.arctan2(lat, lon) + 0.000003 * np.cos(lon * _X_PI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def _bd09_to_gcj02(lon: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    # The usual closed-form inverse is good to ~5 cm; a few fixed-point steps make it exact.
    x = lon - 0.0065
    y = lat - 0.006
    z = np.sqrt(x * x + y * y) - 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _X_PI)
    glon, glat = z * np.cos(theta), z * np.sin(theta)
    for _ in range(_BD_REFINE_ITERATIONS):
        blon, blat = _gcj02_to_bd09(glon, glat)
        glon += lon - blon
        glat += lat - blat
    return glon, glat


def _bd09_to_wgs84(lon: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    return _gcj02_to_wgs84(*_bd09_to_gcj02(lon, lat))


def _wgs84_to_bd09(lon: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    return _gcj02_to_bd09(*_wgs84_to_gcj02(lon, lat))


def _identity(lon: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    return lon.copy(), lat.copy()


_CONVERSIONS = {
    (Crs.WGS84, Crs.GCJ02): _wgs84_to_gcj02,
    (Crs.GCJ02, Crs.WGS84): _gcj02_to_wgs84,
    (Crs.GCJ02, Crs.BD09): _gcj02_to_bd09,
    (Crs.BD09, Crs.GCJ02): _bd09_to_gcj02,
    (Crs.WGS84, Crs.BD09): _wgs84_to_bd09,
    (Crs.BD09, Crs.WGS84): _bd09_to_wgs84,
}


@overload
def convert(lon: float, lat: float, *, source: Crs | str, target: Crs | str) -> tuple[float, float]: ...
@overload
def convert(
    lon: ArrayLike, lat: ArrayLike, *, source: Crs | str, target: Crs | str
) -> tuple[FloatArray, FloatArray]: ...
def convert(
    lon: ArrayLike, lat: ArrayLike, *, source: Crs | str, target: Crs | str
) -> tuple[float, float] | tuple[FloatArray, FloatArray]:
    """Convert coordinates from ``source`` to ``target``. Scalars in → floats out; arrays in → arrays out.

    Raises ``ValueError`` for an unknown CRS name.
    """
    src, dst = Crs(source), Crs(target)
    scalar = np.ndim(lon) == 0 and np.ndim(lat) == 0
    lon_arr = np.asarray(lon, dtype=np.float64)
    lat_arr = np.asarray(lat, dtype=np.float64)
    func = _identity if src is dst else _CONVERSIONS[(src, dst)]
    out_lon, out_lat = func(np.atleast_1d(lon_arr), np.atleast_1d(lat_arr))
    if scalar:
        return float(out_lon[0]), float(out_lat[0])
    return out_lon.reshape(lon_arr.shape), out_lat.reshape(lat_arr.shape)


def to_wgs84(lon: float, lat: float, crs: Crs | str) -> tuple[float, float]:
    return convert(lon, lat, source=crs, target=Crs.WGS84)


def wgs84_to_gcj02(lon: float, lat: float) -> tuple[float, float]:
    return convert(lon, lat, source=Crs.WGS84, target=Crs.GCJ02)


def gcj02_to_wgs84(lon: float, lat: float) -> tuple[float, float]:
    return convert(lon, lat, source=Crs.GCJ02, target=Crs.WGS84)


def gcj02_to_bd09(lon: float, lat: float) -> tuple[float, float]:
    return convert(lon, lat, source=Crs.GCJ02, target=Crs.BD09)


def bd09_to_gcj02(lon: float, lat: float) -> tuple[float, float]:
    return convert(lon, lat, source=Crs.BD09, target=Crs.GCJ02)


def wgs84_to_bd09(lon: float, lat: float) -> tuple[float, float]:
    return convert(lon, lat, source=Crs.WGS84, target=Crs.BD09)


def bd09_to_wgs84(lon: float, lat: float) -> tuple[float, float]:
    return convert(lon, lat, source=Crs.BD09, target=Crs.WGS84)
