"""The Open311 change feed ``GET servicerequestupdates``: one row per public state change, ordered by
``update_id``, in a window (default the last 24 hours, at most 90 days), paged."""

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

from shequ.cases.models import CaseUpdate
from shequ.cases.services_transitions import case_dispatch, case_register, case_reject
from shequ.cases.tests.factories import CaseWorld, case_world

pytestmark = pytest.mark.django_db

BASE = "/open311/v2/"
NOW = datetime(2025, 6, 2, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
UPDATE_FIELDS = [
    "update_id",
    "service_request_id",
    "status",
    "updated_datetime",
    "description",
    "media_url",
    "external_status_code",
]


@pytest.fixture
def clock() -> Iterator[Any]:
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def world(clock: Any) -> CaseWorld:
    return case_world()


def fetch(fmt: str, **query: Any) -> Any:
    return Client().get(f"{BASE}servicerequestupdates.{fmt}", query)


def xml_root(response: Any) -> ET.Element:
    assert response["Content-Type"] == "text/xml; charset=utf-8"
    return ET.fromstring(response.content)  # noqa: S314 - our own answer


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


def test_feed_in_xml_lists_each_change_in_order(world, clock):
    case = world.report()
    clock.shift(timedelta(minutes=10))
    case = case_register(case=case, actor=world.dispatcher)
    clock.shift(timedelta(minutes=10))
    case_dispatch(case=case, actor=world.dispatcher, org=world.branch)
    root = xml_root(fetch("xml"))
    assert root.tag == "service_requests_updates"
    updates = root.findall("request_update")
    assert [child.tag for child in updates[0]] == UPDATE_FIELDS
    rows = list(CaseUpdate.objects.order_by("pk"))
    assert [u.findtext("update_id") for u in updates] == [str(row.pk) for row in rows]
    assert [u.findtext("external_status_code") for u in updates] == ["reported", "registered", "dispatched"]
    assert {u.findtext("service_request_id") for u in updates} == {case.number}
    assert {u.findtext("status") for u in updates} == {"open"}
    assert [u.findtext("updated_datetime") for u in updates] == [
        "2025-06-02T09:00:00+08:00",
        "2025-06-02T09:10:00+08:00",
        "2025-06-02T09:20:00+08:00",
    ]
    assert [u.findtext("description") for u in updates] == ["已受理", "已立案", "已派遣至责任单位"]
    assert updates[0].findtext("media_url") == ""


def test_feed_in_json_marks_final_states_closed(world):
    case = world.report(description="与房东的租金纠纷 13812345678")
    case_reject(
        case=case, actor=world.dispatcher, reason="民事纠纷，联系 13912345678", route="可向人民法院起诉"
    )
    body = fetch("json").json()
    assert [list(item) for item in body] == [UPDATE_FIELDS, UPDATE_FIELDS]
    first, last = body
    assert first["update_id"] < last["update_id"]
    assert (first["status"], first["external_status_code"]) == ("open", "reported")
    assert (last["status"], last["external_status_code"]) == ("closed", "rejected")
    assert last["service_request_id"] == case.number
    assert last["description"] == "民事纠纷，联系 139****5678 可向人民法院起诉"
    assert last["media_url"] is None


def test_default_window_is_the_last_day(world, clock):
    old = world.report(description="前天的垃圾")
    clock.shift(timedelta(days=2))
    case_register(case=old, actor=world.dispatcher)
    body = fetch("json").json()
    assert [item["external_status_code"] for item in body] == ["registered"]
    window = {"start_date": "2025-06-02T00:00:00+08:00", "end_date": "2025-06-03T00:00:00+08:00"}
    assert [item["external_status_code"] for item in fetch("json", **window).json()] == ["reported"]
    # From a start only: 90 days on.
    everything = fetch("json", start_date="2025-06-01T00:00:00+08:00").json()
    assert [item["external_status_code"] for item in everything] == ["reported", "registered"]


@pytest.mark.parametrize("fmt", ["xml", "json"])
def test_a_window_over_90_days_is_400(world, fmt):
    query = {"start_date": "2025-01-01T00:00:00+08:00", "end_date": "2025-06-01T00:00:00+08:00"}
    assert_error(fetch(fmt, **query), 400, fmt, "90")


@pytest.mark.parametrize("fmt", ["xml", "json"])
def test_bad_dates_are_400(world, fmt):
    assert_error(fetch(fmt, start_date="last week"), 400, fmt, "start_date")
    assert_error(fetch(fmt, start_date="2025-06-02", end_date="2025-06-01"), 400, fmt, "end_date")


def test_pages_follow_update_ids(world):
    for index in range(3):
        world.report(description=f"第{index}件垃圾")
    ids = [item["update_id"] for item in fetch("json").json()]
    assert ids == sorted(ids)
    assert len(ids) == 3
    assert [item["update_id"] for item in fetch("json", page_size=2).json()] == ids[:2]
    assert [item["update_id"] for item in fetch("json", page_size=2, page=2).json()] == ids[2:]
    assert_error(fetch("json", page_size=5000), 400, "json", "page_size")


def test_query_count_does_not_grow_with_the_feed(world):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert fetch("xml").status_code == 200
        return len(captured.captured_queries)

    world.report()
    small = queries()
    for index in range(5):
        case = world.report(description=f"第{index}件垃圾")
        case_register(case=case, actor=world.dispatcher)
    assert len(fetch("json").json()) == 11
    assert queries() == small == 1
