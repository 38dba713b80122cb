"""Open311 ``GET requests`` and ``GET requests/{id}``: fields, status mapping, filters, windows,
pages, extensions, no personal data, and a query count that does not grow with the list."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from shequ.cases.models import Case, CaseAttachment, Feedback
from shequ.cases.services_transitions import (
    case_confirm,
    case_dispatch,
    case_handle,
    case_merge,
    case_register,
    case_reject,
    case_self_handle,
)
from shequ.cases.tests.factories import CaseWorld, case_world

pytestmark = pytest.mark.django_db

BASE = "/open311/v2/"
SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2025, 6, 2, 9, 0, tzinfo=SHANGHAI)  # a Monday
REQUEST_FIELDS = [
    "service_request_id",
    "status",
    "status_notes",
    "service_name",
    "service_code",
    "description",
    "agency_responsible",
    "service_notice",
    "requested_datetime",
    "updated_datetime",
    "expected_datetime",
    "address",
    "address_id",
    "zipcode",
    "lat",
    "long",
    "media_url",
]


@pytest.fixture
def clock() -> Iterator[Any]:
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def world(clock: Any) -> CaseWorld:
    return case_world()


def fetch(path: str, **query: Any) -> Any:
    return Client().get(BASE + path, query)


def xml_root(response: Any) -> ET.Element:
    assert response["Content-Type"] == "text/xml; charset=utf-8"
    return ET.fromstring(response.content)  # noqa: S314 - our own answer


def ids_of(response: Any) -> list[str]:
    assert response.status_code == 200, response.content
    return [item["service_request_id"] for item in response.json()]


def assert_error(response: Any, status: int, fmt: str, *words: str) -> None:
    assert response.status_code == status
    if fmt == "xml":
        root = xml_root(response)
        assert root.tag == "errors"
        assert root.findtext("error/code") == str(status)
        description = root.findtext("error/description") or ""
    else:
        [error] = response.json()
        assert error["code"] == status
        description = error["description"]
    for word in words:
        assert word in description


# --- moving cases --------------------------------------------------------------------------------


def dispatched(world: CaseWorld, **kwargs: Any) -> Case:
    case = world.report(**kwargs)
    case = case_register(case=case, actor=world.dispatcher)
    return case_dispatch(case=case, actor=world.dispatcher, org=world.branch)


def closed(world: CaseWorld) -> Case:
    """A small matter handled by the committee and confirmed solved by the resident."""
    case = world.report(category=world.small_matter, description="楼上漏水邻居不理睬")
    case = case_register(case=case, actor=world.committee_worker)
    case = case_self_handle(case=case, actor=world.committee_worker)
    case = case_handle(case=case, actor=world.committee_worker, result="已上门调解，邻居同意修理")
    return case_confirm(case=case, actor=world.resident, solved=True, feedback=Feedback.SATISFIED)


def rejected(world: CaseWorld) -> Case:
    case = world.report(description="与房东的租金纠纷")
    return case_reject(case=case, actor=world.dispatcher, reason="民事纠纷", route="可向人民法院起诉")


def merged(world: CaseWorld, master: Case) -> Case:
    case = world.report(description="门口垃圾很多天没人清理了")
    return case_merge(case=case, master=master, actor=world.dispatcher)


# --- fields ----------------------------------------------------------------------------------------


def test_a_new_case_in_xml_has_every_field_of_the_specification(world):
    case = world.report()
    root = xml_root(fetch("requests.xml"))
    assert root.tag == "service_requests"
    [request] = root.findall("request")
    assert [child.tag for child in request] == REQUEST_FIELDS
    value = request.findtext
    assert value("service_request_id") == case.number
    assert value("status") == "open"
    assert value("status_notes") == "已受理"
    assert value("service_name") == "暴露垃圾测试"
    assert value("service_code") == "E9901"
    assert value("description") == "小区门口垃圾堆放多日无人清理"
    assert value("agency_responsible") == ""
    assert value("service_notice") == "处置时限：1 工作日"
    assert value("requested_datetime") == "2025-06-02T09:00:00+08:00"
    assert value("updated_datetime") == "2025-06-02T09:00:00+08:00"
    assert value("expected_datetime") == ""
    assert value("address") == world.compound.name
    assert value("address_id") == world.compound.code
    assert value("zipcode") == ""
    assert value("lat") == ""
    assert value("media_url") == ""


def test_a_dispatched_case_in_json_names_the_unit_and_the_deadline(world):
    case = dispatched(world, media_urls=["https://img.example.org/1.jpg", "https://img.example.org/2.jpg"])
    [item] = fetch("requests.json").json()
    assert list(item) == REQUEST_FIELDS
    assert item["service_request_id"] == case.number
    assert item["status"] == "open"
    assert item["status_notes"] == "已派遣：已派遣至责任单位"
    assert item["agency_responsible"] == "黄浦城管中队"
    assert case.due_at is not None
    assert item["expected_datetime"] == case.due_at.astimezone(SHANGHAI).isoformat()
    assert item["expected_datetime"].endswith("+08:00")
    assert item["media_url"] == "https://img.example.org/1.jpg"
    assert item["lat"] is None
    assert item["zipcode"] is None


def test_an_uploaded_photo_is_given_as_an_absolute_url(world):
    case = world.report()
    CaseAttachment.objects.create(case=case, file="cases/2025/06/photo.jpg", content_type="image/jpeg")
    [item] = fetch("requests.json").json()
    assert item["media_url"].startswith("http://testserver/")
    assert item["media_url"].endswith("cases/2025/06/photo.jpg")


def test_no_personal_data_is_shown(world):
    world.report(
        description="联系我 13912345678 或 someone@example.org，身份证 310101199001011234",
        contact_name="王小明",
        contact_phone="13812345678",
        contact_email="wang@example.org",
    )
    for fmt in ("xml", "json"):
        body = fetch(f"requests.{fmt}", extensions="true").content.decode()
        for secret in (
            "王小明",
            "13812345678",
            "wang@example.org",
            "13912345678",
            "someone@example.org",
            "310101199001011234",
        ):
            assert secret not in body
        assert "139****5678" in body
        assert "contact" not in body
        assert "phone" not in body


# --- status ------------------------------------------------------------------------------------------


def test_merged_rejected_and_closed_cases_are_closed_the_rest_open(world):
    open_case = dispatched(world)
    done = closed(world)
    refused = rejected(world)
    duplicate = merged(world, master=open_case)
    statuses = {item["service_request_id"]: item for item in fetch("requests.json").json()}
    assert statuses[open_case.number]["status"] == "open"
    assert statuses[done.number]["status"] == "closed"
    assert statuses[done.number]["status_notes"] == "已结案"
    assert statuses[refused.number]["status"] == "closed"
    assert statuses[refused.number]["status_notes"] == "不予受理/已转办：民事纠纷 可向人民法院起诉"
    assert statuses[duplicate.number]["status"] == "closed"
    assert statuses[duplicate.number]["status_notes"] == f"已并单：已并入案件 {open_case.number}"


def test_status_filter(world):
    open_case = world.report()
    done = closed(world)
    refused = rejected(world)
    assert ids_of(fetch("requests.json", status="open")) == [open_case.number]
    assert set(ids_of(fetch("requests.json", status="closed"))) == {done.number, refused.number}
    assert len(ids_of(fetch("requests.json", status="open,closed"))) == 3


@pytest.mark.parametrize("fmt", ["xml", "json"])
def test_unknown_status_is_400(world, fmt):
    assert_error(fetch(f"requests.{fmt}", status="pending"), 400, fmt, "status")


# --- extensions ------------------------------------------------------------------------------------


def test_extensions_add_our_detailed_state_in_json(world):
    case = dispatched(world)
    master_of = merged(world, master=case)
    plain = fetch("requests.json").json()
    assert all("extended_attributes" not in item for item in plain)
    items = {item["service_request_id"]: item for item in fetch("requests.json", extensions="true").json()}
    extended = items[case.number]["extended_attributes"]
    assert extended["state"] == "dispatched"
    assert extended["state_name"] == "已派遣"
    assert extended["outcome"] == ""
    assert extended["feedback"] == ""
    assert extended["category_kind"] == "event"
    assert extended["district"] == world.tree.district(1).code
    assert extended["street"] == world.tree.street(1, 1).code
    assert extended["committee"] == world.tree.committee(1, 1, 1).code
    assert extended["committee_name"] == world.tree.committee(1, 1, 1).name
    assert extended["channel"] == "resident_web"
    assert extended["supervision_level"] == "none"
    assert extended["rework_count"] == 0
    assert extended["registered_datetime"] == "2025-06-02T09:00:00+08:00"
    assert extended["closed_datetime"] is None
    assert items[master_of.number]["extended_attributes"]["master_request_id"] == case.number
    assert items[master_of.number]["extended_attributes"]["outcome"] == "duplicate"


def test_extensions_in_xml_are_one_element_with_children(world):
    done = closed(world)
    root = xml_root(fetch(f"requests/{done.number}.xml", extensions="true"))
    [request] = root.findall("request")
    assert [child.tag for child in request][-1] == "extended_attributes"
    block = request.find("extended_attributes")
    assert block is not None
    assert block.findtext("state") == "closed"
    assert block.findtext("outcome") == "resolved"
    assert block.findtext("feedback") == "satisfied"
    assert block.findtext("rework_count") == "0"
    assert block.findtext("master_request_id") == ""
    assert block.findtext("closed_datetime") == "2025-06-02T09:00:00+08:00"


# --- filters -------------------------------------------------------------------------------------------


def test_service_request_ids_return_those_and_ignore_other_filters(world):
    first = world.report()
    second = world.report(category=world.small_matter, description="邻居装修噪音扰民")
    world.report(description="第三件")
    response = fetch(
        "requests.json",
        service_request_id=f"{first.number}, {second.number},SQ0000",
        status="closed",
        service_code="E0101",
        start_date="2020-01-01T00:00:00+08:00",
        end_date="2020-01-02T00:00:00+08:00",
    )
    assert set(ids_of(response)) == {first.number, second.number}


def test_service_code_filter_takes_a_comma_list(world):
    garbage = world.report()
    quarrel = world.report(category=world.small_matter, description="邻居装修噪音扰民")
    assert ids_of(fetch("requests.json", service_code="E9901")) == [garbage.number]
    assert set(ids_of(fetch("requests.json", service_code="E9901,E9902"))) == {garbage.number, quarrel.number}
    assert ids_of(fetch("requests.json", service_code="E0000")) == []


def test_default_window_is_the_last_90_days(world, clock):
    clock.move_to(NOW - timedelta(days=100))
    old = world.report(description="一百天前的垃圾")
    clock.move_to(NOW - timedelta(days=80))
    recent = world.report(description="八十天前的垃圾")
    clock.move_to(NOW)
    assert ids_of(fetch("requests.json")) == [recent.number]
    window = {"start_date": "2025-02-01T00:00:00+08:00", "end_date": "2025-03-01T00:00:00+08:00"}
    assert ids_of(fetch("requests.json", **window)) == [old.number]
    # One end given: 90 days from or up to it.
    assert ids_of(fetch("requests.json", start_date="2025-02-01T00:00:00+08:00")) == [
        recent.number,
        old.number,
    ]
    assert ids_of(fetch("requests.json", end_date="2025-03-01T00:00:00Z")) == [old.number]


def test_dates_accept_utc_offsets_dates_and_an_unencoded_plus(world):
    case = world.report()
    for start in ("2025-06-02T00:59:59Z", "2025-06-02", "2025-06-02T08:59:59 08:00"):
        assert ids_of(fetch("requests.json", start_date=start, end_date="2025-06-03")) == [case.number]
    assert ids_of(fetch("requests.json", start_date="2025-06-02T01:00:01Z", end_date="2025-06-03")) == []


@pytest.mark.parametrize("fmt", ["xml", "json"])
@pytest.mark.parametrize(
    ("query", "word"),
    [
        ({"start_date": "yesterday"}, "start_date"),
        ({"end_date": "2025-13-01"}, "end_date"),
        ({"start_date": "2025-06-02", "end_date": "2025-06-01"}, "end_date"),
        ({"updated_after": "soon"}, "updated_after"),
        ({"updated_after": "2025-06-02", "updated_before": "2025-06-01"}, "updated_before"),
    ],
)
def test_bad_dates_are_400(world, fmt, query, word):
    assert_error(fetch(f"requests.{fmt}", **query), 400, fmt, word)


@pytest.mark.parametrize("fmt", ["xml", "json"])
def test_a_window_over_90_days_is_400(world, fmt):
    query = {"start_date": "2025-01-01T00:00:00+08:00", "end_date": "2025-04-01T00:00:01+08:00"}
    assert_error(fetch(f"requests.{fmt}", **query), 400, fmt, "90")
    query["end_date"] = "2025-04-01T00:00:00+08:00"
    assert fetch(f"requests.{fmt}", **query).status_code == 200


def test_updated_after_and_before_filter_on_the_last_change(world, clock):
    clock.move_to(NOW - timedelta(days=200))
    old = world.report(description="很久以前的垃圾")
    clock.move_to(NOW - timedelta(days=10))
    untouched = world.report(description="十天前的垃圾")
    clock.move_to(NOW - timedelta(days=1))
    case_register(case=old, actor=world.dispatcher)
    clock.move_to(NOW)
    # Without dates the change window replaces the 90 days of reports.
    assert ids_of(fetch("requests.json", updated_after="2025-05-31T00:00:00+08:00")) == [old.number]
    assert ids_of(fetch("requests.json", updated_before="2025-05-31T00:00:00+08:00")) == [untouched.number]
    both = {"updated_after": "2025-05-20T00:00:00+08:00", "updated_before": "2025-05-31T00:00:00+08:00"}
    assert ids_of(fetch("requests.json", **both)) == [untouched.number]


# --- pages ---------------------------------------------------------------------------------------------


def test_pages_walk_the_list_newest_first(world, clock):
    numbers = []
    for day in range(5):
        clock.move_to(NOW - timedelta(days=5 - day))
        numbers.append(world.report(description=f"第{day}天的垃圾").number)
    clock.move_to(NOW)
    newest_first = numbers[::-1]
    assert ids_of(fetch("requests.json")) == newest_first
    assert ids_of(fetch("requests.json", page_size=2)) == newest_first[:2]
    assert ids_of(fetch("requests.json", page_size=2, page=2)) == newest_first[2:4]
    assert ids_of(fetch("requests.json", page_size=2, page=3)) == newest_first[4:]
    assert ids_of(fetch("requests.json", page_size=2, page=4)) == []


@pytest.mark.parametrize("fmt", ["xml", "json"])
@pytest.mark.parametrize(
    ("query", "word"),
    [({"page_size": "1001"}, "page_size"), ({"page_size": "0"}, "page_size"), ({"page": "-1"}, "page")],
)
def test_bad_pages_are_400(world, fmt, query, word):
    assert_error(fetch(f"requests.{fmt}", **query), 400, fmt, word)


# --- one request -----------------------------------------------------------------------------------


def test_one_request_in_json_is_a_one_element_list(world):
    case = world.report()
    world.report(description="另一件")
    body = fetch(f"requests/{case.number}.json").json()
    assert [item["service_request_id"] for item in body] == [case.number]
    assert list(body[0]) == REQUEST_FIELDS


def test_one_request_in_xml(world):
    case = dispatched(world)
    root = xml_root(fetch(f"requests/{case.number}.xml"))
    assert root.tag == "service_requests"
    [request] = root.findall("request")
    assert request.findtext("service_request_id") == case.number
    assert request.findtext("agency_responsible") == "黄浦城管中队"


@pytest.mark.parametrize("fmt", ["xml", "json"])
def test_unknown_request_is_404(world, fmt):
    assert_error(fetch(f"requests/SQ20250602999999.{fmt}"), 404, fmt, "SQ20250602999999")


# --- query count ---------------------------------------------------------------------------------


def _queries(path: str, **query: Any) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = fetch(path, **query)
    assert response.status_code == 200
    return len(captured.captured_queries)


def _varied_cases(world: CaseWorld, count: int) -> None:
    for index in range(count):
        case = dispatched(world, media_urls=[f"https://img.example.org/{index}.jpg"])
        merged(world, master=case)
        CaseAttachment.objects.create(case=case, file=f"cases/p{index}.jpg")


@pytest.mark.parametrize("fmt", ["xml", "json"])
def test_query_count_does_not_grow_with_the_list(world, fmt):
    _varied_cases(world, 2)
    small = _queries(f"requests.{fmt}", extensions="true")
    _varied_cases(world, 6)
    assert len(fetch("requests.json").json()) == 16
    large = _queries(f"requests.{fmt}", extensions="true")
    assert small == large
    assert large <= 2
