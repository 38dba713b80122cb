"""The case page and its buttons: who sees it (404 outside scope), the masked contact and the logged
reveal, the timeline, the photos; every transition posted through ``/cases/<number>/do/<name>/``
changes the state; refusals are shown next to the field; a stale version is a 409 that says someone
else acted."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from shequ.accounts.tests.factories import login
from shequ.cases.models import AttachmentStage, Case, CaseState, Feedback, Outcome
from shequ.cases.services_transitions import case_register
from shequ.cases.tests.factories import CaseWorld, case_world
from shequ.core.models import AccessLog, Event, SupervisionLevel

pytestmark = pytest.mark.django_db

SH = ZoneInfo("Asia/Shanghai")
START = datetime(2026, 3, 4, 10, 0, tzinfo=SH)


@pytest.fixture(autouse=True)
def _clock() -> Iterator[None]:
    with time_machine.travel(START, tick=False):
        yield


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def world() -> CaseWorld:
    return case_world()


def client_of(user: Any) -> Client:
    client = Client()
    login(client, user)
    return client


def photo(name: str = "现场.jpg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, b"\xff\xd8\xff\xe0fake-jpeg", content_type="image/jpeg")


def act(client: Client, case: Case, name: str, **fields: Any) -> Any:
    """Post one button of the case page, with the version the page showed."""
    case.refresh_from_db()
    data: dict[str, Any] = {"version": str(case.version)}
    data.update({f"{name}-{key}": value for key, value in fields.items()})
    return client.post(f"/cases/{case.number}/do/{name}/", data)


def state_of(case: Case) -> str:
    case.refresh_from_db()
    return case.state


# --- Seeing the case ---------------------------------------------------------------------------


def test_the_reporter_sees_the_case_with_their_own_contact(world: CaseWorld) -> None:
    case = world.report(contact_name="张三丰")
    html = client_of(world.resident).get(f"/cases/{case.number}/").content.decode()
    assert case.number in html
    assert "13812345678" in html
    assert "查看联系方式" not in html
    assert "受理" in html


def test_staff_see_the_contact_masked_and_reveal_it_with_a_purpose(world: CaseWorld) -> None:
    case = world.report(contact_name="张三丰")
    client = client_of(world.dispatcher)
    html = client.get(f"/cases/{case.number}/").content.decode()
    assert "138****5678" in html
    assert "13812345678" not in html
    assert "张**" in html
    assert "查看联系方式" in html
    refused = client.post(f"/cases/{case.number}/contact/", {"purpose": ""}, HTTP_HX_REQUEST="true")
    assert refused.status_code == 422
    assert not AccessLog.objects.exists()
    shown = client.post(
        f"/cases/{case.number}/contact/", {"purpose": "电话核实现场情况"}, HTTP_HX_REQUEST="true"
    )
    assert shown.status_code == 200
    assert "13812345678" in shown.content.decode()
    log = AccessLog.objects.get()
    assert log.actor == world.dispatcher
    assert log.purpose == "电话核实现场情况"
    assert set(log.fields) == {"contact_name", "contact_phone"}


def test_a_resident_who_only_follows_may_not_reveal(world: CaseWorld) -> None:
    from shequ.cases.services_intake import case_follow

    case = world.report()
    case_follow(case=case, actor=world.other_resident)
    client = client_of(world.other_resident)
    html = client.get(f"/cases/{case.number}/").content.decode()
    assert "13812345678" not in html
    assert client.post(f"/cases/{case.number}/contact/", {"purpose": "想知道"}).status_code == 404


@pytest.mark.parametrize("seat", ["other_resident", "other_dispatcher", "property_manager"])
def test_a_case_outside_the_users_scope_is_not_found(world: CaseWorld, seat: str) -> None:
    case = world.report()
    client = client_of(getattr(world, seat))
    assert client.get(f"/cases/{case.number}/").status_code == 404
    assert act(client, case, "register").status_code == 404
    assert client.get("/cases/SQ20260304999999/").status_code == 404


def test_photos_are_served_to_those_who_see_the_case_only(world: CaseWorld) -> None:
    case = world.report(photos=[photo()])
    item = case.attachments.get()
    url = f"/cases/{case.number}/files/{item.pk}/"
    assert f'src="{url}"' in client_of(world.dispatcher).get(f"/cases/{case.number}/").content.decode()
    response = client_of(world.dispatcher).get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content).startswith(b"\xff\xd8")
    assert client_of(world.other_resident).get(url).status_code == 404


# --- The buttons ---------------------------------------------------------------------------------


def test_the_page_offers_only_the_buttons_the_user_may_press(world: CaseWorld) -> None:
    case = world.report()
    dispatcher = client_of(world.dispatcher).get(f"/cases/{case.number}/").content.decode()
    assert f"/cases/{case.number}/do/register/" in dispatcher
    assert f"/cases/{case.number}/do/reject/" in dispatcher
    resident = client_of(world.resident).get(f"/cases/{case.number}/").content.decode()
    assert "/do/" not in resident


def test_the_whole_loop_through_the_buttons(world: CaseWorld) -> None:
    case = world.report()
    dispatcher, handler = client_of(world.dispatcher), client_of(world.handler)
    checker, resident = client_of(world.grid_worker), client_of(world.resident)

    response = act(dispatcher, case, "register")
    assert response.status_code == 302
    assert response["Location"] == f"/cases/{case.number}/"
    assert state_of(case) == CaseState.REGISTERED
    assert act(dispatcher, case, "dispatch", unit="", note="").status_code == 302
    assert state_of(case) == CaseState.DISPATCHED
    assert case.handler_org == world.branch
    assert act(handler, case, "accept").status_code == 302
    assert state_of(case) == CaseState.HANDLING
    handled = handler.post(
        f"/cases/{case.number}/do/handle/",
        {
            "version": str(case.version),
            "handle-result": "已清运",
            "handle-outcome": Outcome.RESOLVED,
            "handle-evidence": [photo("清运后.jpg")],
        },
    )
    assert handled.status_code == 302
    assert state_of(case) == CaseState.HANDLED
    assert case.attachments.filter(stage=AttachmentStage.HANDLING).count() == 1
    assert act(checker, case, "check_start").status_code == 302
    assert act(checker, case, "check_fail", reason="仍有垃圾残留").status_code == 302
    assert state_of(case) == CaseState.HANDLING
    assert case.rework_count == 1
    assert act(handler, case, "handle", result="再次清运", outcome=Outcome.RESOLVED).status_code == 302
    assert act(checker, case, "check_start").status_code == 302
    assert act(checker, case, "check_pass", note="").status_code == 302
    assert state_of(case) == CaseState.CONFIRMING

    # The resident answers on the case page: not solved → the centre sends it back (重办).
    page = resident.get(f"/cases/{case.number}/").content.decode()
    assert f"/cases/{case.number}/do/confirm/" in page
    assert (
        act(
            resident, case, "confirm", solved="no", feedback=Feedback.UNSATISFIED, comment="没扫干净"
        ).status_code
        == 302
    )
    case.refresh_from_db()
    assert case.state == CaseState.CONFIRMING
    assert case.resident_solved is False
    board = dispatcher.get("/cases/dispatch/").content.decode()
    assert "没扫干净" in board
    assert act(dispatcher, case, "redo", reason="居民反映未清理干净").status_code == 302
    assert state_of(case) == CaseState.HANDLING
    assert act(handler, case, "handle", result="彻底清理", outcome=Outcome.RESOLVED).status_code == 302
    act(checker, case, "check_start")
    act(checker, case, "check_pass", note="干净")
    assert act(resident, case, "confirm", solved="yes", feedback=Feedback.SATISFIED).status_code == 302
    assert state_of(case) == CaseState.CLOSED
    assert act(resident, case, "reopen", reason="又堆起来了").status_code == 302
    assert state_of(case) == CaseState.HANDLING

    timeline = dispatcher.get(f"/cases/{case.number}/").content.decode()
    for label in (
        "立案",
        "派遣",
        "签收",
        "处置完成",
        "核查不通过，返工",
        "核查通过",
        "回访评价",
        "重办",
        "结案",
        "重新办理",
    ):
        assert label in timeline
    assert str(world.handler) in timeline  # the actor's name, for staff


def test_verify_then_reject_with_the_legal_route(world: CaseWorld) -> None:
    case = world.report()
    client = client_of(world.dispatcher)
    assert act(client, case, "verify", note="派网格员核实").status_code == 302
    assert state_of(case) == CaseState.VERIFYING
    response = act(
        client,
        case,
        "reject",
        reason="属民事纠纷",
        outcome=Outcome.NOT_RESPONSIBLE,
        route="litigation",
        route_detail="向黄浦区人民法院起诉",
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.state == CaseState.REJECTED
    assert case.redirect_route == "向人民法院提起诉讼：向黄浦区人民法院起诉"
    html = client_of(world.resident).get(f"/cases/{case.number}/").content.decode()
    assert "向黄浦区人民法院起诉" in html


def test_merge_into_a_master_case_and_an_unknown_master_is_shown_next_to_the_field(world: CaseWorld) -> None:
    master = world.report()
    duplicate = world.report(actor=world.other_resident, description="门口垃圾没人管")
    client = client_of(world.dispatcher)
    unknown = act(client, duplicate, "merge", master="SQ20990101000001")
    assert unknown.status_code == 422
    assert "找不到编号为 SQ20990101000001 的案件" in unknown.content.decode()
    assert act(client, duplicate, "merge", master=master.number.lower()).status_code == 302
    duplicate.refresh_from_db()
    assert duplicate.state == CaseState.MERGED
    assert duplicate.master == master
    assert master.subscriptions.filter(user=world.other_resident).exists()


def test_dispatch_by_hand_return_redispatch_and_refuse(world: CaseWorld) -> None:
    case = case_register(case=world.report(), actor=world.dispatcher)
    dispatcher = client_of(world.dispatcher)
    page = dispatcher.get(f"/cases/{case.number}/").content.decode()
    assert f'value="org:{world.property_company.pk}"' in page
    assert act(dispatcher, case, "dispatch", unit=f"org:{world.property_company.pk}").status_code == 302
    assert state_of(case) == CaseState.DISPATCHED
    assert case.handler_org == world.property_company
    property_manager = client_of(world.property_manager)
    assert act(property_manager, case, "return_request", grounds="").status_code == 422
    assert act(property_manager, case, "return_request", grounds="属城管执法范围").status_code == 302
    assert state_of(case) == CaseState.RETURN_REQUESTED
    assert act(dispatcher, case, "redispatch", unit=f"org:{world.branch.pk}", note="").status_code == 302
    case.refresh_from_db()
    assert case.state == CaseState.DISPATCHED
    assert case.handler_org == world.branch
    assert case.return_count == 1
    handler = client_of(world.handler)
    assert act(handler, case, "return_request", grounds="不是我们的").status_code == 302
    assert act(dispatcher, case, "return_refuse", reason="属本单位职责").status_code == 302
    case.refresh_from_db()
    assert case.state == CaseState.HANDLING
    assert case.first_responsible is True


def test_a_unit_outside_the_cases_choices_is_refused(world: CaseWorld) -> None:
    case = case_register(case=world.report(), actor=world.dispatcher)
    response = act(client_of(world.dispatcher), case, "dispatch", unit="org:999999")
    assert response.status_code == 422
    assert state_of(case) == CaseState.REGISTERED


def test_extension_suspension_supervision_and_reroute(world: CaseWorld) -> None:
    case = case_register(case=world.report(), actor=world.dispatcher)
    dispatcher, handler = client_of(world.dispatcher), client_of(world.handler)
    act(dispatcher, case, "dispatch", unit="")
    act(handler, case, "accept")
    assert act(handler, case, "extension_request", amount="2", reason="需协调环卫车辆").status_code == 302
    assert state_of(case) == CaseState.EXTENSION_REQUESTED
    old_due = case.due_at
    assert act(dispatcher, case, "extension_grant").status_code == 302
    case.refresh_from_db()
    assert case.state == CaseState.HANDLING
    assert case.due_at > old_due
    assert case.extension_count == 1
    act(handler, case, "extension_request", amount="1", reason="再延一天")
    assert act(dispatcher, case, "extension_refuse", reason="").status_code == 302
    assert state_of(case) == CaseState.HANDLING

    today = START.date()
    too_soon = act(dispatcher, case, "suspend", reason="等待规划调整", review_on=today.isoformat())
    assert too_soon.status_code == 422
    assert "复查日期须晚于今天" in too_soon.content.decode()
    later = (today + timedelta(days=30)).isoformat()
    assert act(dispatcher, case, "suspend", reason="等待规划调整", review_on=later).status_code == 302
    assert state_of(case) == CaseState.SUSPENDED
    assert act(dispatcher, case, "resume").status_code == 302
    assert state_of(case) == CaseState.HANDLING
    assert (
        act(dispatcher, case, "supervise", level=SupervisionLevel.YELLOW, reason="群众反映强烈").status_code
        == 302
    )
    case.refresh_from_db()
    assert case.supervision_level == SupervisionLevel.YELLOW
    assert act(dispatcher, case, "reroute", unit=f"org:{world.street_office.pk}", note="").status_code == 302
    case.refresh_from_db()
    assert case.state == CaseState.DISPATCHED
    assert case.handler_org == world.street_office


def test_the_committee_handles_a_small_matter_itself_and_the_centre_closes_after_review(
    world: CaseWorld,
) -> None:
    committee = client_of(world.committee_worker)
    committee.post(
        "/cases/register/",
        {
            "category": world.small_matter.code,
            "place": f"compound:{world.compound.pk}",
            "description": "邻里因晾晒衣物发生纠纷",
            "contact_phone": "13900002222",
        },
    )
    case = Case.objects.get()
    assert act(committee, case, "self_handle").status_code == 302
    assert state_of(case) == CaseState.HANDLING
    assert act(committee, case, "handle", result="已调解", outcome=Outcome.RESOLVED).status_code == 302
    assert state_of(case) == CaseState.CONFIRMING
    dispatcher = client_of(world.dispatcher)
    assert act(dispatcher, case, "confirm", solved="no", feedback=Feedback.BASICALLY).status_code == 302
    assert act(dispatcher, case, "close", note="已电话回访说明").status_code == 302
    assert state_of(case) == CaseState.CLOSED


def test_a_request_without_a_contact_closes_on_handling_and_the_timeline_says_why(world: CaseWorld) -> None:
    committee = client_of(world.committee_worker)
    committee.post(
        "/cases/register/",
        {
            "category": world.small_matter.code,
            "place": f"compound:{world.compound.pk}",
            "description": "楼道堆放杂物",
        },
    )
    case = Case.objects.get()
    assert act(committee, case, "self_handle").status_code == 302
    assert act(committee, case, "handle", result="已清理", outcome=Outcome.RESOLVED).status_code == 302
    assert state_of(case) == CaseState.CLOSED

    html = committee.get(f"/cases/{case.number}/").content.decode()
    items = re.findall(r'<li class="timeline-item">.*?</li>', html, flags=re.DOTALL)
    (handled,) = [item for item in items if "处置完成" in item]
    assert '<span class="tag">已结案</span>' in handled
    assert "<dt>结案</dt><dd>无人可回访</dd>" in handled
    assert not [item for item in items if "回访中" in item]  # it was never waiting for an answer


# --- Refusals ------------------------------------------------------------------------------------


def test_a_stale_version_says_someone_else_acted(world: CaseWorld) -> None:
    case = world.report()
    client = client_of(world.dispatcher)
    seen = str(case.version)
    assert act(client, case, "register").status_code == 302
    response = client.post(
        f"/cases/{case.number}/do/reject/",
        {"version": seen, "reject-reason": "重复", "reject-outcome": Outcome.INVALID},
    )
    assert response.status_code == 409
    assert "其他人刚刚处理了这个案件" in response.content.decode()
    assert state_of(case) == CaseState.REGISTERED


def test_a_button_pressed_twice_acts_once(world: CaseWorld) -> None:
    case = world.report()
    client = client_of(world.dispatcher)
    data = {"version": str(case.version), "idempotency_key": "5f0c2b7e9a114c3c8f1e2d3c4b5a6978"}
    first = client.post(f"/cases/{case.number}/do/register/", data)
    again = client.post(f"/cases/{case.number}/do/register/", data)
    assert first.status_code == 302
    assert again.status_code == 302
    assert again["Idempotent-Replayed"] == "true"
    assert Event.objects.filter(subject_id=str(case.pk), type="CASE_REGISTERED").count() == 1


def test_a_transition_the_user_may_not_make_is_forbidden(world: CaseWorld) -> None:
    case = world.report()
    response = act(client_of(world.resident), case, "register")
    assert response.status_code == 403
    assert "您无权对此案件执行此操作" in response.content.decode()
    assert state_of(case) == CaseState.REPORTED


def test_a_transition_from_the_wrong_state_is_a_conflict_with_its_reason(world: CaseWorld) -> None:
    case = world.report()
    response = act(client_of(world.dispatcher), case, "check_pass", note="")
    assert response.status_code == 409
    assert "不能执行此操作" in response.content.decode()
    assert state_of(case) == CaseState.REPORTED


def test_an_unknown_action_is_not_found(world: CaseWorld) -> None:
    case = world.report()
    before = Event.objects.filter(subject_id=str(case.pk)).count()
    assert act(client_of(world.dispatcher), case, "explode").status_code == 404
    assert Event.objects.filter(subject_id=str(case.pk)).count() == before
    assert state_of(case) == CaseState.REPORTED
