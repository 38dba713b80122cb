"""The 12345 hotline import: every row checked first (all or nothing, bad rows by line and column),
each ticket a registered case keeping its ticket id and 受理时间, the caller following it by SMS,
GB18030 and BOM files, a second load a no-op; the command, the page and the API endpoint."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.test import Client

from shequ.accounts.services import api_token_create
from shequ.accounts.tests.factories import login
from shequ.cases import importing
from shequ.cases.models import Case, CaseState, CaseSubscription, Channel
from shequ.cases.services_import import hotline_import
from shequ.cases.tests.factories import CaseWorld, case_world
from shequ.core.errors import ApiError
from shequ.core.models import Event
from shequ.places.models import Compound, Division
from shequ.places.services import geo_revision_bump

pytestmark = pytest.mark.django_db

NOW = datetime(2025, 6, 4, 2, 0, tzinfo=UTC)  # Wednesday 10:00 in Shanghai
LON, LAT = 121.480, 31.235
HEADER = list(importing.COLUMNS.values())
URL = "/api/v1/cases/imports/12345"
PAGE = "/cases/imports/12345/"


def _box(lon: float, lat: float, half: float) -> dict[str, Any]:
    ring = [
        [lon - half, lat - half],
        [lon + half, lat - half],
        [lon + half, lat + half],
        [lon - half, lat + half],
    ]
    return {"type": "Polygon", "coordinates": [[*ring, ring[0]]]}


@pytest.fixture(autouse=True)
def _frozen() -> Any:
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def world() -> CaseWorld:
    world = case_world()
    tree = world.tree
    Division.objects.filter(pk=tree.district(1).pk).update(boundary=_box(LON, LAT, 0.1))
    Division.objects.filter(pk=tree.street(1, 1).pk).update(boundary=_box(LON, LAT, 0.02))
    Division.objects.filter(pk=tree.committee(1, 1, 1).pk).update(boundary=_box(LON, LAT, 0.005))
    Compound.objects.filter(pk=world.compound.pk).update(lon=LON, lat=LAT)
    geo_revision_bump()
    return world


def row(world: CaseWorld, **values: str) -> dict[str, str]:
    """A good ticket at a point of committee (1, 1, 1); keyword arguments by column key."""
    base = {
        "ticket": "T0001",
        "received_at": "2025-06-03 09:30",
        "category": world.department_work.code,
        "description": "小区门口垃圾堆放多日无人清理",
        "address": "第1街道某路 1 号",
        "lon": str(LON),
        "lat": str(LAT),
        "crs": "WGS84",
        "street": "",
        "committee": "",
        "contact_name": "张先生",
        "contact_phone": "13812345678",
        "time_limit": "",
    }
    base.update(values)
    return base


def csv_bytes(rows: list[dict[str, str]], *, encoding: str = "utf-8") -> bytes:
    lines = [",".join(HEADER)]
    lines += [",".join(r[key] for key in importing.COLUMNS) for r in rows]
    return ("\r\n".join(lines) + "\r\n").encode(encoding)


def good_rows(world: CaseWorld) -> list[dict[str, str]]:
    tree = world.tree
    return [
        row(world),
        row(
            world,
            ticket="T0002",
            category=world.small_matter.name,
            description="楼上住户深夜噪音",
            lon="",
            lat="",
            crs="",
            committee=tree.committee(1, 1, 2).code,
            contact_phone="+86 138-0000-0002",
        ),
        row(
            world,
            ticket="T0003",
            category=f"测试大类/{world.department_work.name}",
            lon="",
            lat="",
            crs="",
            street=tree.street(1, 1).code,
            contact_name="",
            contact_phone="",
            time_limit="2025/6/6 17:00",
        ),
    ]


# --- The service -------------------------------------------------------------------------------


def test_a_good_file_becomes_registered_cases_keeping_the_ticket_and_its_time(world):
    result = hotline_import(content=csv_bytes(good_rows(world)), actor=world.dispatcher)
    assert result.loaded
    assert (result.rows, result.new, result.already_imported, result.issues) == (3, 3, 0, [])
    cases = {c.source_ref: c for c in Case.objects.all()}
    assert set(cases) == {"T0001", "T0002", "T0003"}
    first = cases["T0001"]
    assert first.channel == Channel.HOTLINE
    assert first.state == CaseState.REGISTERED
    assert first.reported_at == datetime(2025, 6, 3, 1, 30, tzinfo=UTC)
    assert first.number.startswith("SQ20250603")
    assert first.committee == world.tree.committee(1, 1, 1)
    assert first.reporter is None
    assert first.contact_phone == "13812345678"
    # The caller follows the case by SMS; the importer registered it.
    [sub] = CaseSubscription.objects.filter(case=first)
    assert (sub.user, sub.phone, sub.is_reporter) == (None, "13812345678", True)
    registered = Event.objects.get(subject_id=str(first.pk), type="CASE_REGISTERED")
    assert registered.actor == world.dispatcher
    reported = Event.objects.get(subject_id=str(first.pk), type="CASE_REPORTED")
    assert reported.actor is None
    assert reported.data["channel"] == Channel.HOTLINE
    assert cases["T0002"].category == world.small_matter
    assert cases["T0002"].committee == world.tree.committee(1, 1, 2)
    assert cases["T0002"].contact_phone == "13800000002"
    assert cases["T0003"].street == world.tree.street(1, 1)
    assert cases["T0003"].committee is None
    assert "12345 办理时限：2025-06-06 17:00" in cases["T0003"].description


def test_loading_the_same_file_again_changes_nothing(world):
    content = csv_bytes(good_rows(world))
    hotline_import(content=content, actor=world.dispatcher)
    numbers = set(Case.objects.values_list("number", flat=True))
    events = Event.objects.count()
    again = hotline_import(content=content, actor=world.dispatcher)
    assert (again.new, again.already_imported, again.loaded, again.created) == (0, 3, False, [])
    assert set(Case.objects.values_list("number", flat=True)) == numbers
    assert Event.objects.count() == events
    grown = hotline_import(
        content=csv_bytes([*good_rows(world), row(world, ticket="T0004")]), actor=world.dispatcher
    )
    assert (grown.new, grown.already_imported) == (1, 3)
    assert [c.source_ref for c in grown.created] == ["T0004"]


@pytest.mark.parametrize("encoding", ["utf-8-sig", "gb18030"])
def test_bom_and_gb18030_files_are_read(world, encoding):
    result = hotline_import(content=csv_bytes(good_rows(world), encoding=encoding), actor=world.dispatcher)
    assert result.loaded, result.issues
    assert Case.objects.get(source_ref="T0002").description == "楼上住户深夜噪音"


BAD_ROWS: list[tuple[dict[str, str], str, str]] = [
    ({"ticket": ""}, "工单编号", "必填"),
    ({"ticket": "X" * 65}, "工单编号", "64"),
    ({"received_at": "昨天上午"}, "受理时间", "格式"),
    ({"received_at": "2025-06-05 09:00"}, "受理时间", "晚于"),
    ({"category": "E7777"}, "诉求类别", "没有这个类别"),
    ({"category": "火灾测试"}, "诉求类别", "119"),
    ({"description": ""}, "诉求内容", "必填"),
    ({"description": "长" * 4001}, "诉求内容", "4000"),
    ({"lat": ""}, "纬度", "同时"),
    ({"lon": "东经121度"}, "经度", "数字"),
    ({"crs": "CGCS2000"}, "坐标系", "WGS84"),
    ({"lon": "116.39", "lat": "39.9"}, "经度", "不在本市"),
    ({"lon": "", "lat": "", "street": "310101009000"}, "所属街镇", "没有这个街镇"),
    (
        {"lon": "", "lat": "", "committee": "310101002001", "street": "310101001000"},
        "所属居委",
        "不在所填街镇",
    ),
    ({"lon": "", "lat": "", "crs": ""}, "经度", "所属街镇"),
    ({"lon": "", "lat": "", "street": "310101002000"}, "所属街镇", "不在您的辖区"),
    ({"contact_phone": "021-63201234"}, "联系电话", "手机"),
    ({"time_limit": "2025-06-01 09:00"}, "办理时限", "早于"),
    ({"time_limit": "五个工作日"}, "办理时限", "日期时间"),
]


@pytest.mark.parametrize(("change", "column", "words"), BAD_ROWS)
def test_one_bad_row_is_listed_by_line_and_column_and_nothing_is_loaded(world, change, column, words):
    rows = [*good_rows(world), row(world, **{"ticket": "T0009", **change})]
    result = hotline_import(content=csv_bytes(rows), actor=world.dispatcher)
    assert not result.loaded
    assert not Case.objects.exists()
    assert [(i.line, i.column) for i in result.issues] == [(5, column)], result.issues
    assert words in result.issues[0].message


def test_a_ticket_twice_in_the_file_and_every_bad_line_are_reported(world):
    rows = [row(world), row(world, received_at="x"), row(world, ticket="T0002", category="", description="")]
    result = hotline_import(content=csv_bytes(rows), actor=world.dispatcher)
    assert [(i.line, i.column) for i in result.issues] == [
        (3, "工单编号"),
        (3, "受理时间"),
        (4, "诉求类别"),
        (4, "诉求内容"),
    ]
    assert "第 2 行重复" in result.issues[0].message


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"", "空"),
        ("工单编号,诉求内容\r\nT1,垃圾\r\n".encode(), "受理时间"),
        (",".join(HEADER).encode() + b"\r\n", "没有工单"),
        (b"\x81\x30\xff\xfe\x00", "编码"),
    ],
)
def test_a_file_that_cannot_be_read_is_refused_as_a_whole(world, content, words):
    with pytest.raises(ApiError) as refused:
        hotline_import(content=content, actor=world.dispatcher)
    assert refused.value.field == "file"
    assert words in refused.value.message


def test_a_file_over_the_row_limit_is_refused(world, monkeypatch):
    monkeypatch.setattr(importing, "MAX_ROWS", 2)
    with pytest.raises(ApiError) as refused:
        hotline_import(content=csv_bytes(good_rows(world)), actor=world.dispatcher)
    assert "分批" in refused.value.message


def test_only_dispatchers_and_officers_may_import_and_only_in_their_area(world):
    for user in (world.resident, world.committee_worker, world.handler):
        with pytest.raises(ApiError) as refused:
            hotline_import(content=csv_bytes(good_rows(world)), actor=user)
        assert refused.value.http_status == 403
    far = row(world, ticket="T0010", lon="", lat="", crs="", street=world.tree.street(1, 2).code)
    result = hotline_import(content=csv_bytes([far]), actor=world.dispatcher)
    assert [i.column for i in result.issues] == ["所属街镇"]
    result = hotline_import(content=csv_bytes([far]), actor=world.district_officer)
    assert result.loaded
    assert Case.objects.get().street == world.tree.street(1, 2)


# --- The command -------------------------------------------------------------------------------


def test_the_command_loads_a_file_and_refuses_a_bad_one(world, tmp_path: Path):
    good = tmp_path / "good.csv"
    good.write_bytes(csv_bytes(good_rows(world), encoding="gb18030"))
    out = io.StringIO()
    call_command("cases_import_12345", str(good), user=world.dispatcher.username, dry_run=True, stdout=out)
    assert "校验通过" in out.getvalue()
    assert not Case.objects.exists()
    out = io.StringIO()
    call_command(
        "cases_import_12345", str(good), user=world.dispatcher.username, no_progress=True, stdout=out
    )
    assert "已导入并立案 3 件" in out.getvalue()
    out = io.StringIO()
    call_command(
        "cases_import_12345", str(good), user=world.dispatcher.username, no_progress=True, stdout=out
    )
    assert "均已导入" in out.getvalue()
    assert Case.objects.count() == 3
    bad = tmp_path / "bad.csv"
    bad.write_bytes(csv_bytes([row(world, ticket="T0100", category="E7777")]))
    err = io.StringIO()
    with pytest.raises(CommandError, match="未导入"):
        call_command(
            "cases_import_12345", str(bad), user=world.dispatcher.username, stdout=io.StringIO(), stderr=err
        )
    assert "第 2 行 [诉求类别]" in err.getvalue()
    with pytest.raises(CommandError, match="没有这个账号"):
        call_command("cases_import_12345", str(good), user="nobody")


# --- The page ----------------------------------------------------------------------------------


def _page_client(user: Any) -> Client:
    client = Client()
    login(client, user)
    return client


def _named(content: bytes, name: str = "tickets.csv") -> io.BytesIO:
    stream = io.BytesIO(content)
    stream.name = name
    return stream


def test_the_page_previews_then_loads_on_confirmation(world, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    client = _page_client(world.dispatcher)
    assert client.get(PAGE).status_code == 200
    preview = client.post(PAGE, {"file": _named(csv_bytes(good_rows(world)))})
    assert preview.status_code == 200
    assert preview.context["result"].new == 3
    token = preview.context["token"]
    assert token
    assert not Case.objects.exists()
    done = client.post(f"{PAGE}confirm", {"token": token})
    assert done.status_code == 200
    assert done.context["done"] is True
    assert Case.objects.count() == 3
    assert not list(tmp_path.rglob("*.csv"))  # the waiting file is gone
    twice = client.post(f"{PAGE}confirm", {"token": token})
    assert twice.status_code == 302
    assert Case.objects.count() == 3
    again = client.post(PAGE, {"file": _named(csv_bytes(good_rows(world)))})
    assert again.context["result"].already_imported == 3
    assert again.context["token"] == ""


def test_the_page_lists_bad_rows_and_offers_no_confirmation(world, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    client = _page_client(world.dispatcher)
    rows = [*good_rows(world), row(world, ticket="T0009", category="E7777")]
    response = client.post(PAGE, {"file": _named(csv_bytes(rows))})
    assert response.status_code == 200
    assert response.context["token"] == ""
    body = response.content.decode()
    assert "没有这个类别：E7777" in body
    assert "/confirm" not in body
    refused = client.post(PAGE, {"file": _named(b"")})
    assert refused.status_code == 200
    assert "file" in refused.context["form"].errors


def test_the_page_is_for_dispatchers_and_officers(world):
    assert _page_client(world.resident).get(PAGE).status_code == 403
    assert _page_client(world.handler).post(PAGE, {}).status_code == 403
    assert Client().get(PAGE).status_code == 302  # to sign in
    template = _page_client(world.district_officer).get(f"{PAGE}template.csv")
    assert template.status_code == 200
    assert template.content.decode("utf-8-sig").splitlines()[0] == ",".join(HEADER)


# --- The API -----------------------------------------------------------------------------------


def _api(user: Any) -> Client:
    _token, raw = api_token_create(user=user, name="12345")
    return Client(HTTP_AUTHORIZATION=f"Bearer {raw}")


def test_the_api_loads_a_file_checks_it_dry_and_refuses_bad_rows(world):
    client = _api(world.dispatcher)
    content = csv_bytes(good_rows(world))
    dry = client.post(URL, {"file": _named(content), "dry_run": "true"})
    assert dry.status_code == 200, dry.content
    assert dry.json() == {
        "rows": 3,
        "new": 3,
        "already_imported": 0,
        "errors": [],
        "loaded": False,
        "created": [],
    }
    loaded = client.post(URL, {"file": _named(content)})
    assert loaded.status_code == 200
    assert loaded.json()["loaded"] is True
    assert sorted(loaded.json()["created"]) == sorted(Case.objects.values_list("number", flat=True))
    again = client.post(URL, {"file": _named(content)})
    assert again.json()["already_imported"] == 3
    assert again.json()["created"] == []
    bad = client.post(URL, {"file": _named(csv_bytes([row(world, ticket="T0100", received_at="")]))})
    assert bad.status_code == 422
    assert bad.json()["errors"] == [
        {"line": 2, "column": "受理时间", "message": bad.json()["errors"][0]["message"]}
    ]
    unreadable = client.post(URL, {"file": _named(b"a,b\r\n1,2\r\n")})
    assert unreadable.status_code == 422
    assert unreadable.json()["field"] == "file"


def test_the_api_refuses_residents_and_anonymous_callers_and_replays_with_a_key(world):
    content = csv_bytes(good_rows(world))
    assert Client().post(URL, {"file": _named(content)}).status_code == 401
    refused = _api(world.resident).post(URL, {"file": _named(content)})
    assert refused.status_code == 403
    client = _api(world.district_officer)
    first = client.post(URL, {"file": _named(content)}, headers={"Idempotency-Key": "file-1"})
    again = client.post(URL, {"file": _named(content)}, headers={"Idempotency-Key": "file-1"})
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert len(first.json()["created"]) == 3
