import io

import pytest
from django.test import Client

from shequ.accounts.models import User
from shequ.accounts.services import api_token_create
from shequ.places import crs
from shequ.places.importers import division_rows_parse
from shequ.places.models import Division
from shequ.places.services import compound_create, district_polygons_import, divisions_import

pytestmark = pytest.mark.django_db

PEOPLES_SQUARE = (121.4737, 31.2304)
TREE = (
    "level,code,name,parent_code\n"
    "city,310000000000,上海市,\n"
    "district,310101000000,黄浦区,310000000000\n"
    "district,310104000000,徐汇区,310000000000\n"
    "street,310101002000,南京东路街道,310101000000\n"
    "committee,310101002001,贵州居委会,310101002000\n"
)
URL = "/api/v1/places/locate"


@pytest.fixture
def shanghai():
    divisions_import(rows=division_rows_parse(io.StringIO(TREE)), actor=None)
    district_polygons_import(actor=None)


@pytest.fixture
def api():
    user = User.objects.create_user(username="resident", password="x" * 16)
    _token, raw = api_token_create(user=user, name="test")
    return Client(HTTP_AUTHORIZATION=f"Bearer {raw}")


def test_peoples_square_wgs84_is_in_huangpu(shanghai, api):
    response = api.get(URL, {"lon": PEOPLES_SQUARE[0], "lat": PEOPLES_SQUARE[1]})
    assert response.status_code == 200
    body = response.json()
    assert body["district"] == {"code": "310101000000", "name": "黄浦区"}
    assert body["input"] == {"lon": 121.4737, "lat": 31.2304, "crs": "wgs84"}
    assert body["wgs84"] == {"lon": 121.4737, "lat": 31.2304, "crs": "wgs84"}
    assert body["street"] is None
    assert body["compound"] is None
    assert body["compound_match"] is None


@pytest.mark.parametrize(("name", "to"), [("gcj02", crs.wgs84_to_gcj02), ("bd09", crs.wgs84_to_bd09)])
def test_same_point_sent_as_gcj02_or_bd09_is_in_huangpu(shanghai, api, name, to):
    lon, lat = to(*PEOPLES_SQUARE)
    response = api.get(URL, {"lon": lon, "lat": lat, "crs": name})
    assert response.status_code == 200
    body = response.json()
    assert body["district"]["code"] == "310101000000"
    assert body["input"]["crs"] == name
    assert body["wgs84"]["lon"] == pytest.approx(PEOPLES_SQUARE[0], abs=1e-6)
    assert body["wgs84"]["lat"] == pytest.approx(PEOPLES_SQUARE[1], abs=1e-6)


def test_point_in_beijing_is_outside_the_jurisdiction(shanghai, api):
    response = api.get(URL, {"lon": 116.3975, "lat": 39.9087})
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "outside_jurisdiction"
    assert body["field"] == "lon"


def test_point_north_of_the_city_names_the_latitude(shanghai, api):
    response = api.get(URL, {"lon": 121.47, "lat": 33.0})
    assert response.status_code == 422
    assert response.json() == {
        "code": "outside_jurisdiction",
        "field": "lat",
        "message": response.json()["message"],
    }


def test_unknown_crs_is_a_4xx_naming_crs(shanghai, api):
    response = api.get(URL, {"lon": 121.47, "lat": 31.23, "crs": "epsg3857"})
    assert response.status_code == 422
    assert response.json()["field"] == "crs"


@pytest.mark.parametrize(("params", "field"), [({"lon": "abc", "lat": 31.2}, "lon"), ({"lon": 121.4}, "lat")])
def test_bad_or_missing_coordinates_are_a_4xx_naming_the_field(shanghai, api, params, field):
    response = api.get(URL, params)
    assert response.status_code == 422
    assert response.json()["field"] == field


@pytest.mark.parametrize("value", ["nan", "inf", "500"])
def test_impossible_longitude_is_a_4xx_not_a_500(shanghai, api, value):
    response = api.get(URL, {"lon": value, "lat": 31.2})
    assert response.status_code == 422
    assert response.json()["field"] == "lon"


def test_compound_is_found_by_polygon_and_by_nearest_point(shanghai, api):
    committee = Division.objects.get(code="310101002001")
    boundary = {
        "type": "Polygon",
        "coordinates": [
            [[121.473, 31.230], [121.475, 31.230], [121.475, 31.231], [121.473, 31.231], [121.473, 31.230]]
        ],
    }
    compound_create(code="C1", name="人民小区", committee=committee, actor=None, boundary=boundary)
    body = api.get(URL, {"lon": PEOPLES_SQUARE[0], "lat": PEOPLES_SQUARE[1]}).json()
    assert body["compound"] == {"code": "C1", "name": "人民小区"}
    assert body["compound_match"] == {"method": "contains", "distance_m": None}
    assert body["committee"] == {"code": "310101002001", "name": "贵州居委会"}
    assert body["street"] == {"code": "310101002000", "name": "南京东路街道"}

    compound_create(code="C2", name="南京小区", committee=committee, actor=None, lon=121.4800, lat=31.2350)
    body = api.get(URL, {"lon": 121.4810, "lat": 31.2350}).json()  # ~95 m east of its point
    assert body["compound"]["code"] == "C2"
    assert body["compound_match"]["method"] == "nearest"
    assert body["compound_match"]["distance_m"] == pytest.approx(95, abs=3)


def test_session_user_may_locate_too(shanghai):
    client = Client()
    client.force_login(User.objects.create_user(username="someone", password="x" * 16))
    assert client.get(URL, {"lon": PEOPLES_SQUARE[0], "lat": PEOPLES_SQUARE[1]}).status_code == 200


def test_anonymous_caller_is_refused(shanghai):
    response = Client().get(URL, {"lon": PEOPLES_SQUARE[0], "lat": PEOPLES_SQUARE[1]})
    assert response.status_code == 401
