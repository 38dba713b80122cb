"""The cases API: reporting (channels by seat, places, validation naming fields, Idempotency-Key),
the list (filters, a pinned query count that does not grow with the page size), the case sheet
(masked contact, allowed steps, timeline), reveal (logged), transitions (bodies, 403/404/409),
duplicates and following."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from shequ.accounts.models import User
from shequ.accounts.services import api_token_create
from shequ.accounts.tests.factories import login
from shequ.cases.models import Case, CaseState, CaseSubscription, Channel
from shequ.cases.services_transitions import case_accept, case_dispatch, case_register
from shequ.cases.tests.factories import CaseWorld, case_world
from shequ.core.models import AccessLog, Event, IdempotencyKey
from shequ.places.models import Compound, Division
from shequ.places.services import geo_revision_bump

pytestmark = pytest.mark.django_db

API = "/api/v1/cases"
NOW = datetime(2025, 6, 4, 2, 0, tzinfo=UTC)  # Wednesday 10:00 in Shanghai
# The compound of committee (1, 1, 1) and the boxes drawn around it for locate().
LON, LAT = 121.480, 31.235


def _box(lon: float, lat: float, half: float) -> dict[str, Any]:
    return {
        "type": "Polygon",
        "coordinates": [
            [
                [lon - half, lat - half],
                [lon + half, lat - half],
                [lon + half, lat + half],
                [lon - half, lat + half],
                [lon - half, lat - half],
            ]
        ],
    }


@pytest.fixture
def world() -> CaseWorld:
    with time_machine.travel(NOW, tick=False):
        return case_world()


@pytest.fixture
def mapped(world: CaseWorld) -> CaseWorld:
    """District 1, its street (1, 1) and committee (1, 1, 1) get boundaries around (LON, LAT)."""
    tree = world.tree
    Division.objects.filter(pk=tree.district(1).pk).update(boundary=_box(LON, LAT, 0.1))
    Division.objects.filter(pk=tree.street(1, 1).pk).update(boundary=_box(LON, LAT, 0.02))
    Division.objects.filter(pk=tree.committee(1, 1, 1).pk).update(boundary=_box(LON, LAT, 0.005))
    Compound.objects.filter(pk=world.compound.pk).update(lon=LON, lat=LAT)
    geo_revision_bump()
    return world


@pytest.fixture(autouse=True)
def _frozen() -> Any:
    with time_machine.travel(NOW, tick=False):
        yield


def client_for(user: User) -> Client:
    client = Client()
    login(client, user)
    return client


def token_client(user: User) -> Client:
    _token, raw = api_token_create(user=user, name="integration")
    return Client(HTTP_AUTHORIZATION=f"Bearer {raw}")


def post(client: Client, url: str, body: dict[str, Any] | None = None, **headers: str) -> Any:
    return client.post(url, json.dumps(body or {}), content_type="application/json", headers=headers)


def report_body(world: CaseWorld, **extra: Any) -> dict[str, Any]:
    return {
        "category": world.department_work.code,
        "description": "小区门口垃圾堆放多日无人清理",
        "compound": world.compound.code,
        "contact_name": "张三丰",
        "contact_phone": "13812345678",
        **extra,
    }


def dispatched(world: CaseWorld) -> Case:
    case = world.report()
    case = case_register(case=case, actor=world.dispatcher)
    return case_dispatch(case=case, actor=world.dispatcher, org=world.branch)


# --- Reporting ---------------------------------------------------------------------------------


def test_anonymous_requests_are_401(world):
    anonymous = Client()
    assert post(anonymous, f"{API}/", report_body(world)).status_code == 401
    assert anonymous.get(f"{API}/").status_code == 401
    case = world.report()
    response = anonymous.get(f"{API}/{case.number}")
    assert response.status_code == 401
    assert response.json()["code"] == "unauthenticated"


def test_a_resident_reports_at_a_compound_and_gets_the_case_with_a_masked_contact(world):
    response = post(client_for(world.resident), f"{API}/", report_body(world))
    assert response.status_code == 201, response.content
    body = response.json()
    case = Case.objects.get(number=body["number"])
    assert case.channel == Channel.RESIDENT_WEB
    assert case.reporter == world.resident
    assert body["state"] == CaseState.REPORTED
    assert body["committee"]["code"] == world.tree.committee(1, 1, 1).code
    assert body["contact"] == {
        "contact_name": "张**",
        "contact_phone": "138****5678",
        "contact_email": "",
    }
    assert "13812345678" not in response.content.decode()
    assert [entry["type"] for entry in body["timeline"]] == ["CASE_REPORTED"]
    assert body["timeline"][0]["actor"] is None  # residents do not see who acted


def test_a_point_is_located_to_the_committee(mapped):
    body = report_body(mapped, lon=LON + 0.001, lat=LAT, compound=None)
    response = post(client_for(mapped.resident), f"{API}/", body)
    assert response.status_code == 201, response.content
    assert response.json()["committee"]["code"] == mapped.tree.committee(1, 1, 1).code
    assert response.json()["lon"] == pytest.approx(LON + 0.001)


def test_a_point_outside_the_city_is_422_naming_the_coordinate(mapped):
    body = report_body(mapped, lon=116.39, lat=LAT, compound=None)
    response = post(client_for(mapped.resident), f"{API}/", body)
    assert response.status_code == 422
    assert response.json()["code"] == "outside_jurisdiction"
    assert response.json()["field"] == "lon"


def test_a_committee_code_places_the_report(world):
    committee = world.tree.committee(1, 1, 2)
    body = report_body(world, compound=None, committee=committee.code)
    response = post(client_for(world.resident), f"{API}/", body)
    assert response.status_code == 201
    assert response.json()["committee"]["code"] == committee.code


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"description": ""}, "description"),
        ({"description": "x" * 4001}, "description"),
        ({"category": "E9999"}, "category"),
        ({"compound": "NOPE"}, "compound"),
        ({"compound": None, "committee": "310101001009"}, "committee"),
        ({"compound": None}, "location"),
        ({"compound": None, "lon": LON}, "lat"),
        ({"contact_phone": "12345"}, "contact_phone"),
        ({"contact_email": "not-an-address"}, "contact_email"),
        ({"media_urls": ["ftp://example.org/a.jpg"]}, "media_urls"),
        ({"channel": "hotline_12345"}, "channel"),
        ({"unknown": 1}, "unknown"),
    ],
)
def test_bad_reports_are_422_naming_the_field(world, change, field):
    response = post(client_for(world.resident), f"{API}/", report_body(world, **change))
    assert response.status_code == 422, response.content
    assert response.json()["field"] == field
    assert not Case.objects.exists()


def test_an_emergency_stops_the_report_with_the_number(world):
    response = post(client_for(world.resident), f"{API}/", report_body(world, category=world.emergency.code))
    assert response.status_code == 422
    assert response.json()["code"] == "emergency"
    assert "119" in response.json()["message"]


@pytest.mark.parametrize(
    ("seat", "channel", "status"),
    [
        ("resident", "counter", 403),
        ("resident", "assigned", 403),
        ("resident", "api", 403),
        ("committee_worker", "counter", 201),
        ("grid_worker", "grid_patrol", 201),
        ("committee_worker", "assigned", 403),
        ("dispatcher", "assigned", 201),
    ],
)
def test_channels_follow_the_seat(world, seat, channel, status):
    response = post(client_for(getattr(world, seat)), f"{API}/", report_body(world, channel=channel))
    assert response.status_code == status, response.content
    if status == 403:
        assert response.json()["field"] == "channel"
    else:
        case = Case.objects.get(number=response.json()["number"])
        assert case.channel == channel
        assert case.registered_by == getattr(world, seat)
        assert case.reporter is None


def test_a_token_client_reports_through_the_api_channel_and_a_source_ref_once(world):
    client = token_client(world.resident)
    first = post(client, f"{API}/", report_body(world, source_ref="EXT-1"))
    assert first.status_code == 201, first.content
    again = post(client, f"{API}/", report_body(world, source_ref="EXT-1"))
    assert again.status_code == 200
    assert again.json()["number"] == first.json()["number"]
    assert Case.objects.get().channel == Channel.API


def test_an_idempotency_key_replays_the_first_answer_and_never_makes_a_second_case(world):
    client = client_for(world.resident)
    body = report_body(world)
    first = post(client, f"{API}/", body, **{"Idempotency-Key": "k-1"})
    again = post(client, f"{API}/", body, **{"Idempotency-Key": "k-1"})
    assert first.status_code == again.status_code == 201
    assert again.json()["number"] == first.json()["number"]
    assert again.headers["Idempotent-Replayed"] == "true"
    assert Case.objects.count() == 1
    other = post(client, f"{API}/", {**body, "description": "另一件事"}, **{"Idempotency-Key": "k-1"})
    assert other.status_code == 422
    assert other.json()["code"] == "idempotency_key_reused"
    assert other.json()["field"] == "Idempotency-Key"
    assert Case.objects.count() == 1
    fresh = post(client, f"{API}/", body, **{"Idempotency-Key": "k-2"})
    assert fresh.status_code == 201
    assert Case.objects.count() == 2


def test_a_refused_report_is_replayed_and_a_malformed_one_never_claims_its_key(world):
    client = client_for(world.resident)
    emergency = report_body(world, category=world.emergency.code)
    first = post(client, f"{API}/", emergency, **{"Idempotency-Key": "k-119"})
    again = post(client, f"{API}/", emergency, **{"Idempotency-Key": "k-119"})
    assert first.status_code == again.status_code == 422
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    malformed = report_body(world, description="")
    assert post(client, f"{API}/", malformed, **{"Idempotency-Key": "k-bad"}).status_code == 422
    assert not IdempotencyKey.objects.filter(key="k-bad").exists()
    assert not Case.objects.exists()


# --- The list ----------------------------------------------------------------------------------


def test_the_list_shows_what_the_user_may_see(world):
    mine = world.report()
    other = world.report(actor=world.other_resident, description="楼道里堆满杂物")
    far = world.report(place=world.tree.compound(2, 1, 1), actor=world.other_resident)
    numbers = lambda user: {i["number"] for i in client_for(user).get(f"{API}/").json()["items"]}  # noqa: E731
    assert numbers(world.resident) == {mine.number}
    assert numbers(world.dispatcher) == {mine.number, other.number}
    assert numbers(world.other_dispatcher) == {far.number}
    assert numbers(world.city_admin) == {mine.number, other.number, far.number}


def test_list_filters(world):
    garbage = world.report()
    neighbours = world.report(category=world.small_matter, description="邻居噪音", source_ref="")
    in_hands = dispatched(world)
    elsewhere = world.report(place=world.tree.compound(1, 2, 1))
    client = token_client(world.district_officer)  # a session would expire in the ten days below

    def found(**params: Any) -> set[str]:
        response = client.get(f"{API}/", params)
        assert response.status_code == 200, response.content
        return {item["number"] for item in response.json()["items"]}

    assert found(state="dispatched") == {in_hands.number}
    assert found(state=["reported", "dispatched"]) == {
        garbage.number,
        neighbours.number,
        in_hands.number,
        elsewhere.number,
    }
    assert found(category=world.small_matter.code) == {neighbours.number}
    assert found(street=world.tree.street(1, 2).code) == {elsewhere.number}
    assert found(committee=world.tree.committee(1, 1, 1).code) == {
        garbage.number,
        neighbours.number,
        in_hands.number,
    }
    assert found(handler=f"org:{world.branch.pk}") == {in_hands.number}
    assert found(q=in_hands.number) == {in_hands.number}
    assert found(q=in_hands.number[:10]) == {
        garbage.number,
        neighbours.number,
        in_hands.number,
        elsewhere.number,
    }
    assert found(q="噪音") == {neighbours.number}
    assert found(created_from="2025-06-04", created_to="2025-06-04") == {
        garbage.number,
        neighbours.number,
        in_hands.number,
        elsewhere.number,
    }
    assert found(created_to="2025-06-03") == set()
    assert found(overdue="true") == set()
    with time_machine.travel(NOW + timedelta(days=10), tick=False):
        assert found(overdue="true") == {in_hands.number}
        assert in_hands.number not in found(overdue="false")


def test_bad_filters_are_422_naming_the_field(world):
    client = client_for(world.dispatcher)
    for params, field in (
        ({"state": "reported,lost"}, "state"),
        ({"street": "12"}, "street"),
        ({"handler": "bob"}, "handler"),
        ({"page_size": 1000}, "page_size"),
        ({"created_from": "yesterday"}, "created_from"),
    ):
        response = client.get(f"{API}/", params)
        assert response.status_code == 422, params
        assert response.json()["field"] == field


def test_list_query_count_is_small_and_does_not_grow_with_the_page_size(world):
    for i in range(30):
        case = world.report(description=f"第{i}处垃圾", contact_phone="")
        if i % 3 == 0:
            case = case_register(case=case, actor=world.dispatcher)
            case_dispatch(case=case, actor=world.dispatcher, org=world.branch)
        elif i % 3 == 1:
            case = case_register(case=case, actor=world.dispatcher)
            case_dispatch(case=case, actor=world.dispatcher, division=world.tree.street(1, 1))
    client = client_for(world.dispatcher)
    client.get(f"{API}/")  # warm the session
    counts = []
    for size in (5, 50):
        with CaptureQueriesContext(connection) as queries:
            response = client.get(f"{API}/", {"page_size": size})
        assert response.status_code == 200
        assert len(response.json()["items"]) == min(size, 30)
        counts.append(len(queries))
    assert counts[0] == counts[1]
    assert counts[0] <= 12, counts


# --- One case ----------------------------------------------------------------------------------


def test_the_case_sheet_for_the_handler_lists_the_steps_and_the_timeline_with_actors(world):
    case = dispatched(world)
    body = client_for(world.handler).get(f"{API}/{case.number}").json()
    assert body["state"] == CaseState.DISPATCHED
    assert body["handler"] == {"key": f"org:{world.branch.pk}", "name": world.branch.name}
    assert set(body["transitions"]) == {"accept", "return_request"}
    steps = [e for e in body["timeline"] if e["type"].startswith("CASE_")]
    assert [e["type"] for e in steps] == ["CASE_REPORTED", "CASE_REGISTERED", "CASE_DISPATCHED"]
    assert steps[2]["actor"] == str(world.dispatcher)
    assert steps[2]["state_old"] == "registered"
    assert "DEADLINE_STARTED" in {e["type"] for e in body["timeline"]}  # staff see the clock too
    assert body["contact"]["contact_phone"] == "138****5678"


def test_another_residents_case_and_a_missing_one_are_404(world):
    case = world.report()
    client = client_for(world.other_resident)
    for url in (f"{API}/{case.number}", f"{API}/SQ20250604999999"):
        response = client.get(url)
        assert response.status_code == 404
        assert response.json()["code"] == "not_found"
    assert client_for(world.other_dispatcher).get(f"{API}/{case.number}").status_code == 404


def test_reveal_for_handlers_is_logged_and_refused_to_residents(world):
    case = dispatched(world)
    url = f"{API}/{case.number}/reveal"
    response = post(
        client_for(world.handler), url, {"fields": ["contact_phone"], "purpose": "电话联系核实位置"}
    )
    assert response.status_code == 200, response.content
    assert response.json() == {"number": case.number, "values": {"contact_phone": "13812345678"}}
    log = AccessLog.objects.get()
    assert log.actor == world.handler
    assert log.fields == ["contact_phone"]
    assert log.subject_id == str(case.pk)
    refused = post(client_for(world.resident), url, {"fields": ["contact_phone"], "purpose": "看看"})
    assert refused.status_code == 403
    no_purpose = post(client_for(world.handler), url, {"fields": ["contact_phone"], "purpose": ""})
    assert no_purpose.status_code == 422
    assert no_purpose.json()["field"] == "purpose"
    unknown = post(client_for(world.handler), url, {"fields": ["description"], "purpose": "核实"})
    assert unknown.status_code == 422
    assert unknown.json()["field"] == "fields"
    assert AccessLog.objects.count() == 1


# --- Transitions -------------------------------------------------------------------------------


def test_a_case_walks_through_the_api_from_registration_to_the_residents_answer(world):
    case = world.report()
    url = f"{API}/{case.number}/transitions"
    dispatcher, handler, resident = (client_for(u) for u in (world.dispatcher, world.handler, world.resident))
    step = lambda client, name, body=None: post(client, f"{url}/{name}", body)  # noqa: E731
    response = step(dispatcher, "register", {"version": 1})
    assert response.status_code == 200, response.content
    assert response.json()["state"] == "registered"
    response = step(dispatcher, "dispatch", {"org_id": world.branch.pk, "note": "请尽快处理"})
    assert response.json()["state"] == "dispatched", response.content
    assert step(handler, "accept").json()["state"] == "handling"
    response = step(handler, "extension_request", {"amount": "2", "reason": "需协调环卫车辆"})
    assert response.json()["state"] == "extension_requested", response.content
    assert step(dispatcher, "extension_grant").json()["state"] == "handling"
    response = step(handler, "handle", {"result": "已清理完毕", "outcome": "resolved"})
    assert response.json()["state"] == "handled", response.content
    assert step(dispatcher, "check_start").json()["state"] == "checking"
    response = step(dispatcher, "check_fail", {"reason": "仍有残留"})
    assert response.json()["state"] == "handling"
    assert response.json()["counts"]["rework"] == 1
    step(handler, "handle", {"result": "再次清理", "outcome": "resolved"})
    step(dispatcher, "check_start")
    response = step(dispatcher, "check_pass", {"note": "现场已干净"})
    assert response.json()["state"] == "confirming", response.content
    response = step(resident, "confirm", {"solved": True, "feedback": "satisfied", "comment": "谢谢"})
    assert response.json()["state"] == "closed", response.content
    assert response.json()["feedback"] == "satisfied"
    response = step(resident, "reopen", {"reason": "又堆起来了"})
    assert response.json()["state"] == "handling"


def test_suspend_supervise_reject_and_merge_through_the_api(world):
    case = dispatched(world)
    case_accept(case=case, actor=world.handler)
    dispatcher = client_for(world.dispatcher)
    url = f"{API}/{case.number}/transitions"
    response = post(dispatcher, f"{url}/supervise", {"level": "yellow", "reason": "群众反映强烈"})
    assert response.json()["supervision_level"] == "yellow", response.content
    response = post(dispatcher, f"{url}/suspend", {"reason": "等待管线迁改", "review_on": "2025-07-01"})
    assert response.json()["state"] == "suspended", response.content
    assert post(dispatcher, f"{url}/resume").json()["state"] == "handling"
    duplicate = world.report(actor=world.other_resident)
    response = post(dispatcher, f"{API}/{duplicate.number}/transitions/merge", {"master": case.number})
    assert response.json()["state"] == "merged", response.content
    assert response.json()["master"] == case.number
    assert CaseSubscription.objects.filter(case=case, user=world.other_resident).exists()
    nonsense = world.report(description="咨询天气")
    response = post(
        dispatcher,
        f"{API}/{nonsense.number}/transitions/reject",
        {"reason": "不属于受理范围", "route": "请拨打 12121 气象热线", "outcome": "invalid"},
    )
    assert response.json()["state"] == "rejected"
    assert response.json()["redirect_route"] == "请拨打 12121 气象热线"


def test_return_request_and_redispatch_to_a_division(world):
    case = dispatched(world)
    url = f"{API}/{case.number}/transitions"
    response = post(client_for(world.handler), f"{url}/return_request", {"grounds": "不属于城管职责"})
    assert response.json()["state"] == "return_requested", response.content
    response = post(
        client_for(world.dispatcher), f"{url}/redispatch", {"division_code": world.tree.street(1, 1).code}
    )
    assert response.json()["state"] == "dispatched", response.content
    assert response.json()["handler"]["key"] == world.tree.street(1, 1).code
    assert response.json()["counts"]["return"] == 1


def test_a_step_the_seat_may_not_take_is_403(world):
    case = case_register(case=world.report(), actor=world.dispatcher)
    response = post(client_for(world.resident), f"{API}/{case.number}/transitions/dispatch", {})
    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"
    response = post(client_for(world.handler), f"{API}/{case.number}/transitions/dispatch", {})
    assert response.status_code == 404  # the branch does not see a case not yet routed to it


def test_a_step_the_state_does_not_allow_and_a_stale_version_are_409(world):
    case = world.report()
    client = client_for(world.dispatcher)
    response = post(client, f"{API}/{case.number}/transitions/accept")
    assert response.status_code == 409
    assert response.json()["code"] == "invalid_state"
    response = post(client, f"{API}/{case.number}/transitions/register", {"version": case.version + 5})
    assert response.status_code == 409
    assert response.json() == {"code": "conflict", "field": "version", "message": response.json()["message"]}
    assert Case.objects.get(pk=case.pk).state == CaseState.REPORTED


@pytest.mark.parametrize(
    ("name", "body", "field"),
    [
        ("return_request", {}, "grounds"),
        ("extension_request", {"amount": "-1", "reason": "x"}, "amount"),
        ("suspend", {"reason": "x", "review_on": "soon"}, "review_on"),
        ("handle", {"result": "ok", "outcome": "solved"}, "outcome"),
        ("confirm", {"solved": True, "feedback": "great"}, "feedback"),
        ("supervise", {"level": "purple", "reason": "x"}, "level"),
        ("merge", {"master": "ABC"}, "master"),
        ("dispatch", {"org_id": 999999}, "org_id"),
        ("dispatch", {"division_code": "999999999999"}, "division_code"),
        ("register", {"version": "first"}, "version"),
        ("register", {"colour": "red"}, "colour"),
    ],
)
def test_bad_transition_bodies_are_422_naming_the_field(world, name, body, field):
    case = case_register(case=world.report(), actor=world.dispatcher)
    response = post(client_for(world.dispatcher), f"{API}/{case.number}/transitions/{name}", body)
    assert response.status_code == 422, response.content
    assert response.json()["field"] == field


def test_an_unknown_step_is_404(world):
    case = world.report()
    response = post(client_for(world.dispatcher), f"{API}/{case.number}/transitions/teleport")
    assert response.status_code == 404
    assert response.json()["field"] == "name"


def test_a_retried_transition_with_its_key_is_replayed_not_refused(world):
    case = world.report()
    client = client_for(world.dispatcher)
    url = f"{API}/{case.number}/transitions/register"
    first = post(client, url, {"version": 1}, **{"Idempotency-Key": "reg-1"})
    again = post(client, url, {"version": 1}, **{"Idempotency-Key": "reg-1"})
    assert first.status_code == again.status_code == 200
    assert again.json()["version"] == first.json()["version"]
    assert Event.objects.filter(type="CASE_REGISTERED").count() == 1
    without_key = post(client, url, {"version": 1})
    assert without_key.status_code == 409


# --- Duplicates and following ------------------------------------------------------------------


def test_duplicates_near_the_point_and_following_one(mapped):
    first = mapped.report(place=None, lon=LON, lat=LAT, description="小区门口垃圾堆放多日无人清理")
    client = client_for(mapped.other_resident)
    response = client.get(
        f"{API}/duplicates",
        {
            "category": mapped.department_work.code,
            "lon": LON + 0.0005,
            "lat": LAT,
            "text": "门口垃圾堆放很久",
        },
    )
    assert response.status_code == 200, response.content
    [candidate] = response.json()
    assert candidate["number"] == first.number
    assert 0 < candidate["distance_m"] < 100
    assert client.get(f"{API}/{first.number}").status_code == 404
    followed = post(client, f"{API}/{first.number}/follow")
    assert followed.status_code == 200, followed.content
    assert followed.json()["contact"] is None  # a follower does not see the reporter
    assert CaseSubscription.objects.filter(case=first, user=mapped.other_resident).exists()
    assert client.get(f"{API}/{first.number}").status_code == 200


def test_duplicates_need_a_known_category_and_a_point_in_the_city(mapped):
    client = client_for(mapped.resident)
    response = client.get(f"{API}/duplicates", {"category": "E9999", "lon": LON, "lat": LAT, "text": "垃圾"})
    assert response.status_code == 422
    assert response.json()["field"] == "category"
    response = client.get(
        f"{API}/duplicates",
        {"category": mapped.department_work.code, "lon": 100.0, "lat": LAT, "text": "垃圾"},
    )
    assert response.status_code == 422
    assert response.json()["field"] == "lon"
    response = client.get(
        f"{API}/duplicates", {"category": mapped.department_work.code, "lon": LON, "lat": LAT}
    )
    assert response.status_code == 422
    assert response.json()["field"] == "text"


def test_a_closed_case_cannot_be_followed(world):
    case = world.report()
    response = post(
        client_for(world.dispatcher),
        f"{API}/{case.number}/transitions/reject",
        {"reason": "重复反映", "outcome": "invalid"},
    )
    assert response.status_code == 200
    response = post(client_for(world.other_resident), f"{API}/{case.number}/follow")
    assert response.status_code == 409
