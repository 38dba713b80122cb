"""Open311 discovery, service list and service definitions in XML and JSON, and the refusals every
endpoint shares (unknown format, wrong method, wrong jurisdiction)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

import pytest
from django.test import Client

from shequ.cases.models import Category
from shequ.cases.tests.factories import CaseWorld, case_world, category_create

pytestmark = pytest.mark.django_db

BASE = "/open311/v2/"


@pytest.fixture
def world() -> CaseWorld:
    return case_world()


def fetch(path: str, **query: Any) -> Any:
    return Client().get(BASE + path, query)


def xml_root(response: Any) -> ET.Element:
    assert response["Content-Type"] == "text/xml; charset=utf-8"
    assert response.content.startswith(b'<?xml version="1.0" encoding="utf-8"?>')
    return ET.fromstring(response.content)  # noqa: S314 - our own answer


def assert_error(response: Any, status: int, fmt: str, *words: str) -> str:
    """The GeoReport v2 error document with ``status`` as HTTP status and as its code."""
    assert response.status_code == status
    if fmt == "xml":
        root = xml_root(response)
        assert root.tag == "errors"
        [error] = list(root)
        assert error.tag == "error"
        assert [child.tag for child in error] == ["code", "description"]
        assert error.findtext("code") == str(status)
        description = error.findtext("description") or ""
    else:
        assert response["Content-Type"] == "application/json; charset=utf-8"
        [error] = response.json()
        assert set(error) == {"code", "description"}
        assert error["code"] == status
        description = error["description"]
    for word in words:
        assert word in description
    return description


# --- discovery -------------------------------------------------------------------------------------


def test_discovery_in_xml_names_the_specification_endpoint_and_formats(world):
    root = xml_root(fetch("discovery.xml"))
    assert root.tag == "discovery"
    assert [child.tag for child in root] == ["changeset", "contact", "key_service", "endpoints"]
    assert root.findtext("changeset")
    assert root.findtext("contact")
    assert "api_key" in (root.findtext("key_service") or "")
    [endpoint] = root.findall("endpoints/endpoint")
    assert endpoint.findtext("specification") == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint.findtext("url") == "http://testserver/open311/v2"
    assert endpoint.findtext("type") == "production"
    assert endpoint.findtext("changeset") == root.findtext("changeset")
    assert [f.text for f in endpoint.findall("formats/format")] == ["text/xml", "application/json"]


def test_discovery_in_json_has_the_same_document(world):
    response = fetch("discovery.json")
    assert response["Content-Type"] == "application/json; charset=utf-8"
    body = response.json()
    assert set(body) == {"changeset", "contact", "key_service", "endpoints"}
    [endpoint] = body["endpoints"]
    assert endpoint == {
        "specification": "http://wiki.open311.org/GeoReport_v2",
        "url": "http://testserver/open311/v2",
        "changeset": body["changeset"],
        "type": "production",
        "formats": ["text/xml", "application/json"],
    }


# --- services ----------------------------------------------------------------------------------------

SERVICE_FIELDS = ["service_code", "service_name", "description", "metadata", "type", "keywords", "group"]


def test_service_list_in_xml_has_every_public_non_emergency_category(world):
    Category.objects.filter(pk=world.small_matter.pk).update(registration_condition="邻里之间的小矛盾")
    hidden = category_create(minor="04", name="内部类别测试")
    Category.objects.filter(pk=hidden.pk).update(is_public=False)
    retired = category_create(minor="05", name="停用类别测试")
    Category.objects.filter(pk=retired.pk).update(is_active=False)

    root = xml_root(fetch("services.xml"))
    assert root.tag == "services"
    assert {child.tag for child in root} == {"service"}
    by_code = {service.findtext("service_code"): service for service in root}
    expected = set(
        Category.objects.filter(is_active=True, is_public=True, emergency_service="").values_list(
            "code", flat=True
        )
    )
    assert set(by_code) == expected
    assert world.emergency.code not in by_code
    assert hidden.code not in by_code
    assert retired.code not in by_code

    service = by_code[world.small_matter.code]
    assert [child.tag for child in service] == SERVICE_FIELDS
    assert service.findtext("service_name") == "邻里纠纷测试"
    assert service.findtext("description") == "邻里之间的小矛盾"
    assert service.findtext("metadata") == "true"
    assert service.findtext("type") == "realtime"
    assert service.findtext("keywords") == "邻里纠纷测试"
    assert service.findtext("group") == "测试大类"


def test_service_list_in_json(world):
    body = fetch("services.json").json()
    service = next(s for s in body if s["service_code"] == world.department_work.code)
    assert list(service) == SERVICE_FIELDS
    assert service["metadata"] is True
    assert service["type"] == "realtime"
    assert service["service_name"] == "暴露垃圾测试"
    # No registration condition: the name describes the service.
    assert service["description"] == "暴露垃圾测试"
    assert all(s["service_code"] != world.emergency.code for s in body)


def test_seeded_keywords_are_a_comma_list(world):
    category = Category.objects.filter(is_active=True, is_public=True, emergency_service="").exclude(
        code__startswith="E99"
    )[0]
    service = next(s for s in fetch("services.json").json() if s["service_code"] == category.code)
    assert service["keywords"] == ", ".join(category.keywords.split())


# --- service definitions -------------------------------------------------------------------------


def test_definition_of_a_checked_category_in_xml_asks_location_and_severity(world):
    root = xml_root(fetch(f"services/{world.department_work.code}.xml"))
    assert root.tag == "service_definition"
    assert root.findtext("service_code") == world.department_work.code
    attributes = root.findall("attributes/attribute")
    assert [a.findtext("code") for a in attributes] == ["LOCDESC", "SEVERITY"]

    location, severity = attributes
    assert [child.tag for child in location] == [
        "variable",
        "code",
        "datatype",
        "required",
        "datatype_description",
        "order",
        "description",
    ]
    assert location.findtext("variable") == "true"
    assert location.findtext("datatype") == "text"
    assert location.findtext("required") == "false"
    assert location.findtext("order") == "1"
    assert "位置补充说明" in (location.findtext("description") or "")

    assert severity.findtext("datatype") == "singlevaluelist"
    assert severity.findtext("order") == "2"
    values = [(v.findtext("key"), v.findtext("name")) for v in severity.findall("values/value")]
    assert values == [("minor", "轻微"), ("moderate", "较重"), ("severe", "严重")]


def test_definition_of_an_unchecked_category_in_json_asks_location_only(world):
    body = fetch(f"services/{world.small_matter.code}.json").json()
    assert body["service_code"] == world.small_matter.code
    [attribute] = body["attributes"]
    assert attribute["code"] == "LOCDESC"
    assert attribute["variable"] is True
    assert attribute["required"] is False
    assert attribute["datatype"] == "text"
    assert "values" not in attribute


def test_definition_lists_values_in_json(world):
    body = fetch(f"services/{world.department_work.code}.json").json()
    severity = body["attributes"][1]
    assert severity["values"] == [
        {"key": "minor", "name": "轻微"},
        {"key": "moderate", "name": "较重"},
        {"key": "severe", "name": "严重"},
    ]
    assert severity["datatype_description"] is None


@pytest.mark.parametrize("fmt", ["xml", "json"])
def test_unknown_service_definition_is_404(world, fmt):
    assert_error(fetch(f"services/X0000.{fmt}"), 404, fmt, "X0000")


@pytest.mark.parametrize("fmt", ["xml", "json"])
def test_emergency_category_has_no_service_definition(world, fmt):
    assert_error(fetch(f"services/{world.emergency.code}.{fmt}"), 404, fmt, world.emergency.code)


# --- jurisdiction, format, method ----------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["xml", "json"])
def test_our_jurisdiction_is_accepted(world, fmt):
    assert fetch(f"services.{fmt}", jurisdiction_id="shanghai.gov.cn").status_code == 200


@pytest.mark.parametrize(
    "path", ["services.{fmt}", "services/E9901.{fmt}", "requests.{fmt}", "servicerequestupdates.{fmt}"]
)
@pytest.mark.parametrize("fmt", ["xml", "json"])
def test_another_jurisdiction_is_404(world, path, fmt):
    response = fetch(path.format(fmt=fmt), jurisdiction_id="beijing.gov.cn")
    assert_error(response, 404, fmt, "jurisdiction_id", "beijing.gov.cn")


def test_jurisdiction_comes_from_settings(world, settings):
    settings.SHEQU_OPEN311_JURISDICTION = "pudong.example.cn"
    assert fetch("services.json", jurisdiction_id="pudong.example.cn").status_code == 200
    assert_error(fetch("services.json", jurisdiction_id="shanghai.gov.cn"), 404, "json")


def test_unknown_format_is_404_in_xml(world):
    assert_error(fetch("services.csv"), 404, "xml", "csv")


def test_format_suffix_is_case_insensitive(world):
    assert fetch("services.JSON")["Content-Type"] == "application/json; charset=utf-8"


@pytest.mark.parametrize("fmt", ["xml", "json"])
@pytest.mark.parametrize("method", ["put", "delete", "patch"])
def test_wrong_method_is_405(world, fmt, method):
    response = getattr(Client(), method)(f"{BASE}services.{fmt}")
    assert_error(response, 405, fmt, method.upper())
    assert response["Allow"] == "GET, HEAD"


@pytest.mark.parametrize("fmt", ["xml", "json"])
def test_post_to_a_read_only_endpoint_is_405(world, fmt):
    response = Client().post(f"{BASE}discovery.{fmt}", {})
    assert_error(response, 405, fmt, "POST")


def test_requests_endpoint_allows_get_and_post(world):
    response = Client().put(f"{BASE}requests.json")
    assert_error(response, 405, "json")
    assert response["Allow"] == "GET, HEAD, POST"
