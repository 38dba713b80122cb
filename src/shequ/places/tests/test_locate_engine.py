import numpy as np
import pytest
import shapely

from shequ.places.geo import MATCH_CONTAINS, MATCH_NEAREST, MATCH_NONE, LocateEngine, Place, haversine_m


def box(x0, y0, x1, y1):
    return shapely.box(x0, y0, x1, y1)


@pytest.fixture
def engine():
    """Two districts side by side; one street with a boundary; committees known only through compounds."""
    places = {
        "district": [
            Place(code="D1", name="东区", boundary=box(121.0, 31.0, 121.5, 31.5)),
            Place(code="D2", name="西区", boundary=box(121.5, 31.0, 122.0, 31.5)),
        ],
        "street": [
            Place(code="S1", name="一街道", boundary=box(121.0, 31.0, 121.2, 31.2), links={"district": "D1"}),
            Place(code="S2", name="二街道", links={"district": "D2"}),
        ],
        "committee": [
            Place(code="K1", name="一居委", links={"street": "S1"}),
            Place(code="K2", name="二居委", links={"street": "S2"}),
        ],
        "grid": [
            Place(code="G1", name="一网格", boundary=box(121.6, 31.1, 121.7, 31.2), links={"committee": "K2"})
        ],
        "compound": [
            Place(
                code="C1",
                name="甲小区",
                boundary=box(121.10, 31.10, 121.11, 31.11),
                point=(121.105, 31.105),
                links={"committee": "K1"},
            ),
            Place(code="C2", name="乙小区", point=(121.80, 31.30), links={"committee": "K2"}),
        ],
    }
    return LocateEngine(places, radius_m=300)


def codes(result):
    return {layer: (p.code if p else None) for layer, p in result.places.items()}


def test_point_in_compound_polygon_finds_the_whole_chain(engine):
    result = engine.locate_one(121.105, 31.105)
    assert codes(result) == {
        "district": "D1",
        "street": "S1",
        "committee": "K1",
        "grid": None,
        "compound": "C1",
    }
    assert result.compound_match == MATCH_CONTAINS


def test_nearest_compound_point_within_radius_derives_committee_and_street(engine):
    # ~150 m north of 乙小区's point, no polygon: nearest match, street from the committee's link.
    result = engine.locate_one(121.80, 31.30135)
    assert codes(result) == {
        "district": "D2",
        "street": "S2",
        "committee": "K2",
        "grid": None,
        "compound": "C2",
    }
    assert result.compound_match == MATCH_NEAREST
    assert result.compound_distance_m == pytest.approx(150, abs=2)


def test_compound_point_beyond_radius_is_not_matched(engine):
    result = engine.locate_one(121.80, 31.305)  # ~550 m away
    assert result.places["compound"] is None
    assert result.compound_match == MATCH_NONE
    assert result.places["district"].code == "D2"
    assert result.places["street"] is None


def test_grid_polygon_gives_its_committee(engine):
    result = engine.locate_one(121.65, 31.15)
    assert codes(result) == {
        "district": "D2",
        "street": "S2",
        "committee": "K2",
        "grid": "G1",
        "compound": None,
    }


def test_point_outside_every_polygon_finds_nothing(engine):
    result = engine.locate_one(116.4, 39.9)
    assert not result.found
    assert engine.extent == (121.0, 31.0, 122.0, 31.5)


def test_point_on_a_shared_border_belongs_to_the_first_in_code_order(engine):
    assert engine.locate_one(121.5, 31.25).places["district"].code == "D1"
    batch = engine.locate_many([121.5], [31.25])
    assert engine.places["district"][batch.index["district"][0]].code == "D1"


def test_batch_and_single_paths_agree_on_random_points(engine):
    rng = np.random.default_rng(3)
    lons = rng.uniform(120.9, 122.1, 3000)
    lats = rng.uniform(30.9, 31.6, 3000)
    lons[:200] = 121.8 + rng.normal(0, 0.002, 200)  # around 乙小区's point
    lats[:200] = 31.3 + rng.normal(0, 0.002, 200)
    batch = engine.locate_many(lons, lats)
    for i in range(len(lons)):
        single = engine.locate_one(lons[i], lats[i])
        for layer, place in single.places.items():
            idx = batch.index[layer][i]
            assert (engine.places[layer][idx].code if idx >= 0 else None) == (place.code if place else None)
        assert batch.compound_match[i] == single.compound_match
    nearest = batch.compound_match == MATCH_NEAREST
    assert nearest.sum() > 50
    assert np.all(batch.compound_distance_m[nearest] <= 300)


def test_haversine_of_one_degree_of_latitude():
    assert haversine_m(121.0, 31.0, 121.0, 32.0) == pytest.approx(111_195, rel=1e-3)


def test_engine_without_any_data_answers_nothing():
    engine = LocateEngine({}, radius_m=300)
    assert not engine.locate_one(121.4, 31.2).found
    assert (engine.locate_many([121.4], [31.2]).index["district"] == -1).all()
    assert engine.extent is None
