"""Open311 ``POST requests`` and ``GET tokens/{token}``: api keys, locations, attributes, the
description limit, emergency services, idempotent retries, and the client key services."""

from __future__ import annotations

import hashlib
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import datetime
from io import StringIO
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command
from django.test import Client

from shequ.cases.models import Case, CaseAttachment, Channel, OpenApiClient, ReportToken
from shequ.cases.services_open311 import (
    open311_client_by_key,
    open311_client_create,
    open311_client_revoke,
    place_for_address,
)
from shequ.cases.tests.factories import CaseWorld, case_world
from shequ.core.errors import ApiError
from shequ.core.models import Event, IdempotencyKey
from shequ.places.models import Division
from shequ.places.services import geo_revision_bump

pytestmark = pytest.mark.django_db

BASE = "/open311/v2/"
NOW = datetime(2025, 6, 2, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.fixture
def world() -> Iterator[CaseWorld]:
    with time_machine.travel(NOW, tick=False):
        yield case_world()


@pytest.fixture
def key(world: CaseWorld) -> str:
    _client, raw = open311_client_create(name="城运平台")
    return raw


def post(fmt: str, data: dict[str, Any], **headers: str) -> Any:
    return Client(enforce_csrf_checks=True).post(f"{BASE}requests.{fmt}", data, headers=headers)


def report(world: CaseWorld, key: str, **extra: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "api_key": key,
        "service_code": world.department_work.code,
        "address_id": world.compound.code,
        "description": "人行道上有一堆建筑垃圾",
    }
    data.update(extra)
    return {name: value for name, value in data.items() if value is not None}


def xml_root(response: Any) -> ET.Element:
    assert response["Content-Type"] == "text/xml; charset=utf-8"
    return ET.fromstring(response.content)  # noqa: S314 - our own answer


def assert_error(response: Any, status: int, fmt: str, *words: str) -> None:
    assert response.status_code == status, response.content.decode()
    if fmt == "xml":
        root = xml_root(response)
        assert root.tag == "errors"
        assert [e.tag for e in root] == ["error"]
        assert root.findtext("error/code") == str(status)
        description = root.findtext("error/description") or ""
    else:
        [error] = response.json()
        assert error["code"] == status
        description = error["description"]
    for word in words:
        assert word in description, description


# --- creating --------------------------------------------------------------------------------------


def test_post_in_xml_creates_an_open311_case_and_answers_its_number(world, key):
    response = post(
        "xml",
        report(
            world,
            key,
            account_id="acct-7",
            device_id="dev-1",
            first_name="小明",
            last_name="王",
            phone="13812345678",
            email="wang@example.org",
            media_url="https://img.example.org/a.jpg",
        ),
    )
    assert response.status_code == 200, response.content.decode()
    root = xml_root(response)
    assert root.tag == "service_requests"
    [request] = root.findall("request")
    assert [child.tag for child in request] == ["service_request_id", "token", "service_notice", "account_id"]
    case = Case.objects.get(number=request.findtext("service_request_id"))
    assert request.findtext("service_notice") == "处置时限：1 工作日"
    assert request.findtext("account_id") == "acct-7"
    assert ReportToken.objects.get(token=request.findtext("token")).case == case

    assert case.channel == Channel.OPEN311
    assert case.source_ref == ""
    assert case.category == world.department_work
    assert case.compound == world.compound
    assert case.committee == world.tree.committee(1, 1, 1)
    assert case.description == "人行道上有一堆建筑垃圾"
    assert case.contact_name == "王小明"
    assert case.contact_phone == "13812345678"
    assert case.contact_email == "wang@example.org"
    assert case.reporter is None
    assert case.reported_at == NOW
    assert list(CaseAttachment.objects.filter(case=case).values_list("url", flat=True)) == [
        "https://img.example.org/a.jpg"
    ]
    assert Event.objects.filter(
        subject_type="cases.case", subject_id=str(case.pk), type="CASE_REPORTED"
    ).exists()


def test_post_in_json(world, key):
    response = post("json", report(world, key))
    assert response.status_code == 200
    [item] = response.json()
    assert list(item) == ["service_request_id", "token", "service_notice", "account_id"]
    assert item["account_id"] is None
    assert Case.objects.get(number=item["service_request_id"]).channel == Channel.OPEN311


def test_latin_names_are_given_name_first(world, key):
    response = post("json", report(world, key, first_name="Ming", last_name="Wang"))
    assert Case.objects.get(number=response.json()[0]["service_request_id"]).contact_name == "Ming Wang"


def test_attributes_are_kept_in_the_description(world, key):
    data = report(world, key, **{"attribute[LOCDESC]": "3号楼北侧", "attribute[SEVERITY]": "severe"})
    response = post("json", data)
    case = Case.objects.get(number=response.json()[0]["service_request_id"])
    assert case.description == "人行道上有一堆建筑垃圾\n\n位置补充说明：3号楼北侧\n严重程度：严重"


def test_a_missing_description_becomes_the_service_name(world, key):
    response = post("json", report(world, key, description=None))
    assert Case.objects.get(number=response.json()[0]["service_request_id"]).description == "暴露垃圾测试"


def test_a_token_finds_the_request_in_both_formats(world, key):
    created = post("json", report(world, key)).json()[0]
    token = created["token"]
    [item] = Client().get(f"{BASE}tokens/{token}.json").json()
    assert item == {"service_request_id": created["service_request_id"], "token": token}
    root = xml_root(Client().get(f"{BASE}tokens/{token}.xml"))
    assert root.tag == "service_requests"
    [request] = root.findall("request")
    assert [child.tag for child in request] == ["service_request_id", "token"]
    assert request.findtext("service_request_id") == created["service_request_id"]


@pytest.mark.parametrize("fmt", ["xml", "json"])
def test_unknown_token_is_404(world, fmt):
    assert_error(Client().get(f"{BASE}tokens/nope.{fmt}"), 404, fmt, "token")


# --- locations -------------------------------------------------------------------------------------

SQUARE = [[121.40, 31.20], [121.50, 31.20], [121.50, 31.30], [121.40, 31.30], [121.40, 31.20]]


def test_lat_long_are_located(world, key):
    polygon = {"type": "Polygon", "coordinates": [SQUARE]}
    for division in (world.tree.district(1), world.tree.street(1, 2), world.tree.committee(1, 2, 1)):
        Division.objects.filter(pk=division.pk).update(boundary=polygon)
    geo_revision_bump()
    response = post("json", report(world, key, address_id=None, lat="31.25", long="121.45"))
    assert response.status_code == 200, response.content.decode()
    case = Case.objects.get(number=response.json()[0]["service_request_id"])
    assert (case.lat, case.lon) == (31.25, 121.45)
    assert case.street == world.tree.street(1, 2)
    assert case.committee == world.tree.committee(1, 2, 1)
    [item] = Client().get(f"{BASE}requests/{case.number}.json").json()
    assert (item["lat"], item["long"]) == (31.25, 121.45)


@pytest.mark.parametrize("fmt", ["xml", "json"])
def test_a_point_outside_the_city_is_400(world, key, fmt):
    response = post(fmt, report(world, key, address_id=None, lat="39.9", long="116.4"))
    assert_error(response, 400, fmt)


def test_address_string_is_placed_by_the_longest_place_name_in_it(world, key):
    compound = world.tree.compound(2, 1, 2)
    response = post("json", report(world, key, address_id=None, address_string=f"{compound.name}5号楼门口"))
    assert response.status_code == 200, response.content.decode()
    case = Case.objects.get(number=response.json()[0]["service_request_id"])
    assert case.compound == compound
    assert case.address == f"{compound.name}5号楼门口"
    committee = world.tree.committee(1, 2, 2)
    assert place_for_address(f"{committee.name}门口") == committee
    street = world.tree.street(2, 2)
    assert place_for_address(f"{street.name}某路口") == street


@pytest.mark.parametrize("fmt", ["xml", "json"])
def test_an_address_string_that_names_no_place_is_400(world, key, fmt):
    response = post(fmt, report(world, key, address_id=None, address_string="火星基地"))
    assert_error(response, 400, fmt, "address_string")


@pytest.mark.parametrize("fmt", ["xml", "json"])
@pytest.mark.parametrize(
    ("extra", "word"),
    [
        ({"address_id": None}, "lat"),
        ({"address_id": "C000"}, "address_id"),
        ({"address_id": None, "lat": "31.2"}, "long"),
        ({"address_id": None, "lat": "north", "long": "121.4"}, "lat"),
        ({"address_id": None, "lat": "31.2", "long": "181"}, "long"),
        ({"address_string": "路" * 301}, "address_string"),
    ],
)
def test_a_missing_or_bad_location_is_400(world, key, fmt, extra, word):
    assert_error(post(fmt, report(world, key, **extra)), 400, fmt, word)
    assert not Case.objects.exists()


# --- refusals ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["xml", "json"])
def test_missing_api_key_is_403(world, key, fmt):
    assert_error(post(fmt, report(world, key, api_key=None)), 403, fmt, "api_key")


@pytest.mark.parametrize("fmt", ["xml", "json"])
def test_unknown_api_key_is_403(world, key, fmt):
    assert_error(post(fmt, report(world, key, api_key="o311_guess")), 403, fmt, "api_key")


@pytest.mark.parametrize("fmt", ["xml", "json"])
def test_revoked_api_key_is_403(world, key, fmt):
    open311_client_revoke(client=OpenApiClient.objects.get())
    assert_error(post(fmt, report(world, key)), 403, fmt, "api_key")
    assert not Case.objects.exists()


@pytest.mark.parametrize("fmt", ["xml", "json"])
def test_missing_service_code_is_400(world, key, fmt):
    assert_error(post(fmt, report(world, key, service_code=None)), 400, fmt, "service_code")


@pytest.mark.parametrize("fmt", ["xml", "json"])
def test_unknown_service_code_is_404(world, key, fmt):
    assert_error(post(fmt, report(world, key, service_code="X0000")), 404, fmt, "X0000")


@pytest.mark.parametrize("fmt", ["xml", "json"])
def test_an_emergency_is_400_with_the_number_to_call(world, key, fmt):
    assert_error(post(fmt, report(world, key, service_code=world.emergency.code)), 400, fmt, "119")
    assert not Case.objects.exists()


@pytest.mark.parametrize("fmt", ["xml", "json"])
def test_a_description_over_4000_characters_is_400(world, key, fmt):
    assert_error(post(fmt, report(world, key, description="脏" * 4001)), 400, fmt, "description", "4000")
    assert post(fmt, report(world, key, description="脏" * 4000)).status_code == 200


def test_attributes_that_would_overflow_the_description_are_400(world, key):
    data = report(world, key, description="脏" * 4000, **{"attribute[LOCDESC]": "3号楼"})
    assert_error(post("json", data), 400, "json", "description")


@pytest.mark.parametrize("fmt", ["xml", "json"])
@pytest.mark.parametrize(
    ("attribute", "value"),
    [
        ("attribute[COLOUR]", "red"),
        ("attribute[SEVERITY]", "apocalyptic"),
        ("attribute[LOCDESC]", "楼" * 201),
    ],
)
def test_bad_attributes_are_400_naming_them(world, key, fmt, attribute, value):
    assert_error(post(fmt, report(world, key, **{attribute: value})), 400, fmt, attribute)


def test_severity_is_not_asked_of_unchecked_categories(world, key):
    data = report(world, key, service_code=world.small_matter.code, **{"attribute[SEVERITY]": "minor"})
    assert_error(post("json", data), 400, "json", "attribute[SEVERITY]")


@pytest.mark.parametrize(
    ("extra", "word"),
    [
        ({"phone": "12345"}, "phone"),
        ({"email": "not-an-address"}, "email"),
        ({"media_url": "ftp://img.example.org/a.jpg"}, "media_url"),
        ({"media_url": "https://img.example.org/" + "a" * 500}, "media_url"),
    ],
)
def test_bad_contact_or_media_fields_are_400(world, key, extra, word):
    assert_error(post("json", report(world, key, **extra)), 400, "json", word)


@pytest.mark.parametrize("fmt", ["xml", "json"])
def test_another_jurisdiction_is_404(world, key, fmt):
    response = post(fmt, report(world, key, jurisdiction_id="beijing.gov.cn"))
    assert_error(response, 404, fmt, "jurisdiction_id")
    assert post(fmt, report(world, key, jurisdiction_id="shanghai.gov.cn")).status_code == 200


# --- retries -------------------------------------------------------------------------------------------


def test_a_retry_with_the_same_idempotency_key_returns_the_first_answer(world, key):
    data = report(world, key)
    first = post("xml", data, **{"Idempotency-Key": "retry-1"})
    again = post("xml", data, **{"Idempotency-Key": "retry-1"})
    assert first.status_code == again.status_code == 200
    assert again.content == first.content
    assert again["Idempotent-Replayed"] == "true"
    assert again["Content-Type"] == "text/xml; charset=utf-8"
    case = Case.objects.get()
    assert case.source_ref.startswith(f"o311:{OpenApiClient.objects.get().pk}:")
    assert ReportToken.objects.count() == 1


def test_a_retry_after_the_key_expired_still_names_the_same_case(world, key):
    data = report(world, key)
    first = post("json", data, **{"Idempotency-Key": "retry-2"}).json()[0]
    IdempotencyKey.objects.all().delete()
    again = post("json", data, **{"Idempotency-Key": "retry-2"})
    assert "Idempotent-Replayed" not in again
    assert again.json()[0] == first
    assert Case.objects.count() == 1


def test_a_refusal_is_replayed_too(world, key):
    data = report(world, key, description="脏" * 4001)
    first = post("json", data, **{"Idempotency-Key": "retry-3"})
    again = post("json", data, **{"Idempotency-Key": "retry-3"})
    assert first.status_code == again.status_code == 400
    assert again.content == first.content


def test_the_same_key_for_another_report_is_400(world, key):
    post("json", report(world, key), **{"Idempotency-Key": "retry-4"})
    response = post("json", report(world, key, description="另一件事"), **{"Idempotency-Key": "retry-4"})
    assert_error(response, 400, "json", "Idempotency-Key")
    assert Case.objects.count() == 1


def test_keys_belong_to_their_client(world, key):
    _other, other_key = open311_client_create(name="12345 热线")
    post("json", report(world, key), **{"Idempotency-Key": "shared"})
    post("json", report(world, other_key), **{"Idempotency-Key": "shared"})
    assert Case.objects.count() == 2


def test_without_a_key_two_posts_are_two_cases(world, key):
    post("json", report(world, key))
    post("json", report(world, key))
    assert Case.objects.count() == 2
    assert set(Case.objects.values_list("source_ref", flat=True)) == {""}


# --- clients -------------------------------------------------------------------------------------------


def test_a_client_key_is_kept_as_a_digest_and_can_be_revoked(world):
    client, raw = open311_client_create(name="  城运平台  ", jurisdiction_id="shanghai.gov.cn")
    assert raw.startswith("o311_")
    assert client.name == "城运平台"
    assert client.key_prefix == raw[:12]
    assert client.key_digest == hashlib.sha256(raw.encode()).hexdigest()
    assert raw not in str(OpenApiClient.objects.values().get())
    assert open311_client_by_key(raw) == client
    assert open311_client_by_key("") is None
    open311_client_revoke(client=client)
    open311_client_revoke(client=client)
    assert open311_client_by_key(raw) is None
    types = list(Event.objects.filter(subject_type="cases.openapiclient").values_list("type", flat=True))
    assert sorted(types) == ["OPEN311_CLIENT_CREATED", "OPEN311_CLIENT_REVOKED"]


@pytest.mark.parametrize("name", ["", "   ", "名" * 101])
def test_a_client_needs_a_short_name(world, name):
    with pytest.raises(ApiError):
        open311_client_create(name=name)


def test_the_command_prints_the_key_once(world):
    out = StringIO()
    call_command("open311_client_create", "12345 热线", stdout=out)
    client = OpenApiClient.objects.get()
    [raw] = [line for line in out.getvalue().splitlines() if line.startswith("o311_")]
    assert client.name == "12345 热线"
    assert open311_client_by_key(raw) == client
