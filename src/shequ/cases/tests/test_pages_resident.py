"""The resident's pages: the report form (category search, emergency stop, anonymity hint, possible
duplicates to follow instead, report anyway, photos), the tracking number, "my cases" with timelines
in a fixed number of queries, and the feedback link that needs no sign-in."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from shequ.accounts.tests.factories import login
from shequ.cases.models import Case, CaseState, CaseSubscription, Channel, Feedback
from shequ.cases.services_transitions import (
    case_accept,
    case_check_pass,
    case_check_start,
    case_dispatch,
    case_handle,
    case_register,
)
from shequ.cases.tests.factories import CaseWorld, case_world
from shequ.core.models import Event

pytestmark = pytest.mark.django_db

SH = ZoneInfo("Asia/Shanghai")
START = datetime(2026, 3, 4, 10, 0, tzinfo=SH)  # a Wednesday, working hours
DESCRIPTION = "小区门口垃圾堆放多日无人清理"


@pytest.fixture(autouse=True)
def _clock() -> Iterator[None]:
    with time_machine.travel(START, tick=False):
        yield


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def world() -> CaseWorld:
    world = case_world()
    world.compound.lon, world.compound.lat = 121.4800, 31.2300
    world.compound.save(update_fields=["lon", "lat"])
    return world


def client_of(user: Any, *, verified: bool = True) -> Client:
    client = Client()
    login(client, user, verified=verified)
    return client


def report_data(world: CaseWorld, **extra: Any) -> dict[str, Any]:
    data = {
        "category": world.department_work.code,
        "place": f"compound:{world.compound.pk}",
        "description": DESCRIPTION,
        "contact_name": "张三",
        "contact_phone": "13812345678",
    }
    data.update(extra)
    return data


def test_the_report_form_shows_the_anonymity_hint_and_the_residents_own_places(world: CaseWorld) -> None:
    response = client_of(world.resident, verified=False).get("/cases/report/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "对公众匿名" in html
    assert "承办人员仍然可以看到您的联系方式" in html
    assert f'value="compound:{world.compound.pk}"' in html
    assert 'name="photos"' in html
    assert "multiple" in html


def test_the_category_search_lists_matches_with_emergency_numbers(world: CaseWorld) -> None:
    client = client_of(world.resident, verified=False)
    response = client.get("/cases/report/categories/", {"category_q": "测试"}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert "<html" not in html
    assert world.department_work.code in html
    assert "请拨打 119" in html
    # Without JavaScript the search is a GET of the page itself.
    page = client.get("/cases/report/", {"category_q": "暴露垃圾测试", "description": "路口"})
    assert f'value="{world.department_work.code}"' in page.content.decode()
    assert "路口" in page.content.decode()


def test_choosing_an_emergency_category_stops_the_form_with_the_number(world: CaseWorld) -> None:
    client = client_of(world.resident, verified=False)
    check = client.post("/cases/report/check/", {"category": world.emergency.code, "description": "着火了"})
    html = check.content.decode()
    assert 'href="tel:119"' in html
    assert 'type="submit" form="report-form">' not in html  # no submit button while it is an emergency
    response = client.post("/cases/report/", report_data(world, category=world.emergency.code))
    assert response.status_code == 200
    assert 'class="emergency-number" href="tel:119"' in response.content.decode()
    assert not Case.objects.exists()


def test_a_report_gets_its_tracking_number_and_keeps_its_photos(world: CaseWorld) -> None:
    client = client_of(world.resident, verified=False)
    photo = SimpleUploadedFile("门口.jpg", b"\xff\xd8\xff\xe0fake-jpeg", content_type="image/jpeg")
    response = client.post("/cases/report/", {**report_data(world, anonymous_public="on"), "photos": [photo]})
    case = Case.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/cases/report/done/{case.number}/"
    assert case.channel == Channel.RESIDENT_WEB
    assert case.reporter == world.resident
    assert case.anonymous_public is True
    assert case.compound == world.compound
    assert case.attachments.count() == 1
    done = client.get(response["Location"])
    assert case.number in done.content.decode()


def test_a_report_without_a_place_or_pin_is_sent_back_with_the_error_next_to_the_place(
    world: CaseWorld,
) -> None:
    response = client_of(world.resident, verified=False).post("/cases/report/", report_data(world, place=""))
    assert response.status_code == 200
    assert "请在地图上选点，或选择小区/居村委。" in response.content.decode()
    assert not Case.objects.exists()


def test_a_bad_phone_number_refused_by_the_service_is_shown_next_to_the_field(world: CaseWorld) -> None:
    response = client_of(world.resident, verified=False).post(
        "/cases/report/", report_data(world, contact_phone="12345")
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert "手机号码格式不正确。" in html
    assert not Case.objects.exists()


def test_a_possible_duplicate_is_shown_and_the_resident_may_follow_it_instead(world: CaseWorld) -> None:
    existing = world.report(actor=world.other_resident, description="小区门口垃圾堆放很久了没人清理")
    client = client_of(world.resident, verified=False)
    check = client.post(
        "/cases/report/check/",
        {
            "category": world.department_work.code,
            "place": f"compound:{world.compound.pk}",
            "description": DESCRIPTION,
        },
    )
    assert f'name="follow" value="{existing.number}"' in check.content.decode()

    shown = client.post("/cases/report/", report_data(world))
    assert shown.status_code == 200
    assert f'value="{existing.number}"' in shown.content.decode()
    assert "不是同一问题，仍然提交" in shown.content.decode()
    assert Case.objects.count() == 1

    followed = client.post("/cases/report/", {**report_data(world), "follow": existing.number})
    assert followed.status_code == 302
    assert followed["Location"] == "/cases/mine/"
    assert Case.objects.count() == 1
    assert CaseSubscription.objects.filter(case=existing, user=world.resident).exists()
    assert Event.objects.filter(subject_id=str(existing.pk), type="CASE_FOLLOWED").count() == 1
    mine = client.get("/cases/mine/").content.decode()
    assert existing.number in mine


def test_following_a_case_the_suggestion_did_not_offer_is_refused(world: CaseWorld) -> None:
    elsewhere = world.report(
        actor=world.other_resident, place=world.tree.compound(2, 1, 1), description="路灯不亮"
    )
    response = client_of(world.resident, verified=False).post(
        "/cases/report/", {**report_data(world), "follow": elsewhere.number}
    )
    assert response.status_code == 200
    assert not CaseSubscription.objects.filter(case=elsewhere, user=world.resident).exists()


def test_reporting_anyway_creates_a_new_case_with_the_duplicate_noted_for_the_dispatcher(
    world: CaseWorld,
) -> None:
    existing = world.report(actor=world.other_resident, description="小区门口垃圾堆放很久了没人清理")
    response = client_of(world.resident, verified=False).post(
        "/cases/report/", {**report_data(world), "report_anyway": "1"}
    )
    assert response.status_code == 302
    new = Case.objects.exclude(pk=existing.pk).get()
    reported = Event.objects.get(subject_id=str(new.pk), type="CASE_REPORTED")
    assert existing.number in reported.data["possible_duplicates"]


def test_the_place_search_finds_compounds_and_committees_by_name(world: CaseWorld) -> None:
    client = client_of(world.resident, verified=False)
    response = client.get("/cases/report/places/", {"place_q": "徐汇区第1街道第1居委会"})
    html = response.content.decode()
    assert f"compound:{world.tree.compound(2, 1, 1).pk}" in html
    assert f"division:{world.tree.committee(2, 1, 1).pk}" in html


def test_report_pages_need_an_account(world: CaseWorld) -> None:
    response = Client().get("/cases/report/")
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def _make_cases(world: CaseWorld, n: int) -> None:
    for i in range(n):
        case = world.report(description=f"第{i}处路面破损需要修补", category=world.small_matter)
        case_register(case=case, actor=world.dispatcher)


def test_my_cases_show_each_timeline_in_a_fixed_number_of_queries(world: CaseWorld) -> None:
    client = client_of(world.resident, verified=False)
    _make_cases(world, 2)
    client.get("/cases/mine/")  # the session's first request writes it once
    with CaptureQueriesContext(connection) as few:
        response = client.get("/cases/mine/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "立案" in html
    assert "受理" in html
    _make_cases(world, 8)
    with CaptureQueriesContext(connection) as many:
        response = client.get("/cases/mine/")
    assert response.content.decode().count('class="panel case-card"') == 10
    assert len(many.captured_queries) == len(few.captured_queries)
    assert len(many.captured_queries) <= 12


def test_my_cases_show_only_the_residents_own_and_followed_cases(world: CaseWorld) -> None:
    own = world.report()
    other = world.report(
        actor=world.other_resident, place=world.tree.compound(1, 1, 2), description="楼道堆物"
    )
    html = client_of(world.resident, verified=False).get("/cases/mine/").content.decode()
    assert own.number in html
    assert other.number not in html


def _to_confirmation(world: CaseWorld) -> Case:
    case = world.report(category=world.small_matter, description="楼上邻居装修噪声扰民")
    case = case_register(case=case, actor=world.dispatcher)
    case = case_dispatch(case=case, actor=world.dispatcher, division=world.tree.street(1, 1))
    case = case_accept(case=case, actor=world.street_officer)
    case = case_handle(case=case, actor=world.street_officer, result="已上门协调，约定施工时间")
    if case.state == CaseState.HANDLED:
        case = case_check_start(case=case, actor=world.dispatcher)
        case = case_check_pass(case=case, actor=world.dispatcher)
    assert case.state == CaseState.CONFIRMING
    return case


def test_the_feedback_link_needs_no_sign_in_and_closes_a_solved_case(world: CaseWorld) -> None:
    case = _to_confirmation(world)
    token = CaseSubscription.objects.get(case=case, user=world.resident).token
    client = Client()
    page = client.get(f"/cases/feedback/{token}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "问题解决了吗？" in html
    assert "已上门协调" in html
    assert "13812345678" not in html
    response = client.post(f"/cases/feedback/{token}/", {"solved": "yes", "feedback": Feedback.SATISFIED})
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.state == CaseState.CLOSED
    assert case.resident_solved is True
    assert case.feedback == Feedback.SATISFIED
    assert "感谢您的评价" in client.get(response["Location"]).content.decode()
    again = client.post(f"/cases/feedback/{token}/", {"solved": "no", "feedback": Feedback.UNSATISFIED})
    assert "目前无需评价" in again.content.decode()
    case.refresh_from_db()
    assert case.resident_solved is True


def test_the_feedback_form_asks_for_both_answers(world: CaseWorld) -> None:
    case = _to_confirmation(world)
    token = CaseSubscription.objects.get(case=case, user=world.resident).token
    response = Client().post(f"/cases/feedback/{token}/", {"solved": "no"})
    assert response.status_code == 200
    assert "errorlist" in response.content.decode()
    case.refresh_from_db()
    assert case.state == CaseState.CONFIRMING


def test_an_unknown_feedback_token_is_not_found(world: CaseWorld) -> None:
    assert Client().get("/cases/feedback/no-such-token/").status_code == 404
