import math

import numpy as np
import pytest
from fast_geocn import coord as reference

from shequ.places import crs
from shequ.places.crs import Crs, convert

# Published reference values of the standard GCJ-02/BD-09 formulas (coordtransform, Tiananmen area).
TIANANMEN = (116.404, 39.915)


def test_wgs84_to_gcj02_matches_published_reference():
    lon, lat = crs.wgs84_to_gcj02(*TIANANMEN)
    assert lon == pytest.approx(116.41024449916938, abs=1e-9)
    assert lat == pytest.approx(39.91640428150164, abs=1e-9)


def test_gcj02_to_bd09_matches_published_reference():
    lon, lat = crs.gcj02_to_bd09(*TIANANMEN)
    assert lon == pytest.approx(116.41036949371029, abs=1e-9)
    assert lat == pytest.approx(39.92133699351022, abs=1e-9)


def test_bd09_to_gcj02_matches_published_reference_and_inverts_exactly():
    lon, lat = crs.bd09_to_gcj02(*TIANANMEN)
    # The published value comes from the closed-form inverse (good to ~5 cm); ours is refined further.
    assert lon == pytest.approx(116.39762729119315, abs=1e-6)
    assert lat == pytest.approx(39.90865673957631, abs=1e-6)
    assert crs.gcj02_to_bd09(lon, lat) == pytest.approx(TIANANMEN, abs=1e-10)


def test_wgs84_to_gcj02_agrees_with_independent_scalar_implementation():
    for lon, lat in [(121.4737, 31.2304), (121.8, 31.05), (121.2, 30.8), (87.6, 43.8), (126.6, 45.7)]:
        ours = crs.wgs84_to_gcj02(lon, lat)
        theirs = reference.wgs84_to_gcj02(lon, lat)
        assert ours == pytest.approx(theirs, abs=1e-12)


def test_peoples_square_offset_is_a_few_hundred_metres():
    lon, lat = crs.wgs84_to_gcj02(121.4737, 31.2304)
    dx = (lon - 121.4737) * 111_320 * math.cos(math.radians(31.23))
    dy = (lat - 31.2304) * 110_570
    assert 300 < math.hypot(dx, dy) < 700


@pytest.mark.parametrize(
    ("source", "target"),
    [
        (Crs.WGS84, Crs.GCJ02),
        (Crs.WGS84, Crs.BD09),
        (Crs.GCJ02, Crs.BD09),
        (Crs.GCJ02, Crs.WGS84),
        (Crs.BD09, Crs.WGS84),
        (Crs.BD09, Crs.GCJ02),
    ],
)
def test_round_trip_error_is_below_1e_5_degrees(source, target):
    rng = np.random.default_rng(7)
    lons = rng.uniform(120.85, 122.2, 5000)
    lats = rng.uniform(30.68, 31.87, 5000)
    there_lon, there_lat = convert(lons, lats, source=source, target=target)
    back_lon, back_lat = convert(there_lon, there_lat, source=target, target=source)
    assert np.max(np.abs(back_lon - lons)) < 1e-5
    assert np.max(np.abs(back_lat - lats)) < 1e-5
    # The iterative inverse is in fact far better than required.
    assert np.max(np.abs(back_lon - lons)) < 1e-8


def test_vectorised_and_scalar_paths_agree():
    lons = np.array([121.4737, 121.5, 116.404])
    lats = np.array([31.2304, 31.1, 39.915])
    vec_lon, vec_lat = convert(lons, lats, source="wgs84", target="bd09")
    for i in range(3):
        assert (vec_lon[i], vec_lat[i]) == pytest.approx(crs.wgs84_to_bd09(lons[i], lats[i]), abs=1e-12)
    assert isinstance(crs.wgs84_to_bd09(121.4737, 31.2304)[0], float)


def test_points_outside_china_are_not_shifted():
    assert crs.wgs84_to_gcj02(2.35, 48.85) == (2.35, 48.85)
    assert crs.gcj02_to_wgs84(-74.0, 40.7) == (-74.0, 40.7)


def test_identity_conversion_returns_the_input():
    assert convert(121.4737, 31.2304, source="gcj02", target="gcj02") == (121.4737, 31.2304)


def test_unknown_crs_is_refused():
    with pytest.raises(ValueError, match="epsg3857"):
        convert(121.4, 31.2, source="epsg3857", target="wgs84")
