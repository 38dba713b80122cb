"""Staff work pages: the committee's quick registration, the dispatch board (with the routing
suggestion and the filters), the unit's queue and the checker's tasks; each for its roles only, each
list in a fixed number of queries, and the navigation entries per role."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from shequ.accounts.tests.factories import login
from shequ.cases.models import Case, CaseState, Channel
from shequ.cases.services_transitions import (
    case_accept,
    case_dispatch,
    case_handle,
    case_register,
    case_return_request,
)
from shequ.cases.tests.factories import CaseWorld, case_world
from shequ.core.navigation import nav_entries_for

pytestmark = pytest.mark.django_db

SH = ZoneInfo("Asia/Shanghai")
START = datetime(2026, 3, 4, 10, 0, tzinfo=SH)


@pytest.fixture(autouse=True)
def clock() -> Iterator[time_machine.Coordinates]:
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


@pytest.fixture
def world() -> CaseWorld:
    return case_world()


def client_of(user: Any) -> Client:
    client = Client()
    login(client, user)
    return client


# --- Quick registration ----------------------------------------------------------------------


def test_a_committee_worker_registers_a_counter_request_and_gets_the_number_at_once(world: CaseWorld) -> None:
    client = client_of(world.committee_worker)
    page = client.get("/cases/register/")
    assert page.status_code == 200
    assert f"compound:{world.compound.pk}" in page.content.decode()
    assert world.emergency.code not in page.content.decode()
    response = client.post(
        "/cases/register/",
        {
            "category": world.small_matter.code,
            "place": f"compound:{world.compound.pk}",
            "description": "居民来窗口反映楼道堆物",
            "contact_name": "李四",
            "contact_phone": "13900001111",
        },
    )
    case = Case.objects.get()
    assert response.status_code == 302
    assert case.channel == Channel.COUNTER
    assert case.state == CaseState.REGISTERED
    assert case.registered_by == world.committee_worker
    assert case.due_at is not None
    done = client.get(response["Location"])
    assert case.number in done.content.decode()
    assert "已登记立案" in done.content.decode()


def test_a_registration_sent_twice_with_its_key_is_taken_once(world: CaseWorld) -> None:
    client = client_of(world.committee_worker)
    form = client.get("/cases/register/").content.decode()
    key = re.search(r'name="idempotency_key" value="([0-9a-f]+)"', form)
    assert key is not None
    data = {
        "idempotency_key": key.group(1),
        "category": world.small_matter.code,
        "place": f"compound:{world.compound.pk}",
        "description": "居民来窗口反映楼道堆物",
    }
    first = client.post("/cases/register/", data)
    again = client.post("/cases/register/", data)
    assert again.status_code == first.status_code == 302
    assert again["Location"] == first["Location"]
    assert Case.objects.count() == 1


def test_a_grid_worker_registers_a_patrol_report(world: CaseWorld) -> None:
    response = client_of(world.grid_worker).post(
        "/cases/register/",
        {
            "category": world.department_work.code,
            "place": f"compound:{world.compound.pk}",
            "description": "巡查发现垃圾堆放",
        },
    )
    assert response.status_code == 302
    case = Case.objects.get()
    assert case.channel == Channel.GRID_PATROL
    assert case.state == CaseState.REGISTERED


def test_registration_only_offers_the_workers_own_places(world: CaseWorld) -> None:
    client = client_of(world.committee_worker)
    other = world.tree.compound(2, 1, 1)
    assert f"compound:{other.pk}" not in client.get("/cases/register/").content.decode()
    response = client.post(
        "/cases/register/",
        {"category": world.small_matter.code, "place": f"compound:{other.pk}", "description": "别处的问题"},
    )
    assert response.status_code == 200
    assert not Case.objects.exists()


@pytest.mark.parametrize("seat", ["resident", "handler", "property_manager"])
def test_registration_is_refused_to_other_roles(world: CaseWorld, seat: str) -> None:
    assert client_of(getattr(world, seat)).get("/cases/register/").status_code == 403


# --- The dispatch board ------------------------------------------------------------------------


def test_the_board_shows_the_routing_suggestion_and_possible_duplicates(world: CaseWorld) -> None:
    first = world.report(description="小区门口垃圾堆放多日无人清理")
    second = world.report(actor=world.other_resident, description="小区门口垃圾堆放了好几天")
    response = client_of(world.dispatcher).get("/cases/dispatch/")
    assert response.status_code == 200
    html = response.content.decode()
    assert first.number in html
    assert second.number in html
    assert "建议派往" in html
    assert world.branch.name in html
    assert f'href="/cases/{first.number}/"' in html
    assert f"/cases/{second.number}/do/register/" in html
    assert f"/cases/{second.number}/do/reject/" in html
    assert f"/cases/{second.number}/do/merge/" in html


def test_the_board_filters_by_state_and_overdue(world: CaseWorld, clock: time_machine.Coordinates) -> None:
    waiting = world.report()
    handling = case_register(case=world.report(description="路灯不亮"), actor=world.dispatcher)
    handling = case_dispatch(case=handling, actor=world.dispatcher)
    handling = case_accept(case=handling, actor=world.handler)
    client = client_of(world.dispatcher)
    default = client.get("/cases/dispatch/").content.decode()
    assert waiting.number in default
    assert handling.number not in default
    in_hands = client.get("/cases/dispatch/", {"state": CaseState.HANDLING}).content.decode()
    assert handling.number in in_hands
    assert waiting.number not in in_hands
    assert f"/cases/{handling.number}/do/suspend/" in in_hands
    assert f"/cases/{handling.number}/do/supervise/" in in_hands
    assert (
        handling.number
        not in client.get("/cases/dispatch/", {"state": CaseState.HANDLING, "overdue": "1"}).content.decode()
    )
    clock.shift(60 * 60 * 24 * 7)
    client = client_of(world.dispatcher)  # the session of a week ago has expired
    late = client.get("/cases/dispatch/", {"state": CaseState.HANDLING, "overdue": "1"}).content.decode()
    assert handling.number in late
    assert "已超时" in late


def test_the_board_shows_a_return_request_with_its_grounds(world: CaseWorld) -> None:
    case = case_register(case=world.report(), actor=world.dispatcher)
    case = case_dispatch(case=case, actor=world.dispatcher)
    case_return_request(case=case, actor=world.handler, grounds="该处属物业管理区域")
    html = client_of(world.dispatcher).get("/cases/dispatch/").content.decode()
    assert "该处属物业管理区域" in html
    assert f"/cases/{case.number}/do/redispatch/" in html
    assert f"/cases/{case.number}/do/return_refuse/" in html
    assert world.property_company.name in html  # a unit the dispatcher may pick by hand


def test_the_board_shows_only_the_dispatchers_street(world: CaseWorld) -> None:
    case = world.report()
    assert case.number not in client_of(world.other_dispatcher).get("/cases/dispatch/").content.decode()


@pytest.mark.parametrize("seat", ["resident", "handler", "committee_worker", "grid_worker"])
def test_the_board_is_refused_to_other_roles(world: CaseWorld, seat: str) -> None:
    assert client_of(getattr(world, seat)).get("/cases/dispatch/").status_code == 403


def _reports(world: CaseWorld, n: int, offset: int = 0) -> None:
    for i in range(n):
        world.report(description=f"第{offset + i}号楼前积水严重")


def test_the_board_reads_in_a_fixed_number_of_queries(world: CaseWorld) -> None:
    client = client_of(world.dispatcher)
    _reports(world, 2)
    client.get("/cases/dispatch/")
    with CaptureQueriesContext(connection) as few:
        client.get("/cases/dispatch/")
    _reports(world, 10, offset=2)
    with CaptureQueriesContext(connection) as many:
        response = client.get("/cases/dispatch/")
    assert response.content.decode().count('<li class="case-row') == 12
    assert len(many.captured_queries) == len(few.captured_queries)
    # Session, user, device, seats (twice: visibility and transitions), count, rows, units (2), events,
    # unit names, navigation, and the session's renewal (3).
    assert len(many.captured_queries) <= 15


# --- The unit's queue and the checker's tasks ------------------------------------------------


def _dispatched(world: CaseWorld, n: int, offset: int = 0) -> list[Case]:
    cases = []
    for i in range(n):
        case = case_register(
            case=world.report(description=f"第{offset + i}处暴露垃圾"), actor=world.dispatcher
        )
        cases.append(case_dispatch(case=case, actor=world.dispatcher))
    return cases


def test_the_queue_lists_the_units_cases_with_sign_and_return(world: CaseWorld) -> None:
    (case,) = _dispatched(world, 1)
    html = client_of(world.handler).get("/cases/queue/").content.decode()
    assert case.number in html
    assert f"/cases/{case.number}/do/accept/" in html
    assert f"/cases/{case.number}/do/return_request/" in html
    assert case.number not in client_of(world.property_manager).get("/cases/queue/").content.decode()


def test_the_queue_reads_in_a_fixed_number_of_queries(world: CaseWorld) -> None:
    client = client_of(world.handler)
    _dispatched(world, 2)
    client.get("/cases/queue/")
    with CaptureQueriesContext(connection) as few:
        client.get("/cases/queue/")
    _dispatched(world, 8, offset=2)
    with CaptureQueriesContext(connection) as many:
        response = client.get("/cases/queue/")
    assert response.content.decode().count('<li class="case-row') == 10
    assert len(many.captured_queries) == len(few.captured_queries)
    assert len(many.captured_queries) <= 12


@pytest.mark.parametrize("seat", ["resident", "dispatcher"])
def test_the_queue_is_refused_to_other_roles(world: CaseWorld, seat: str) -> None:
    assert client_of(getattr(world, seat)).get("/cases/queue/").status_code == 403


def _handled(world: CaseWorld, n: int, offset: int = 0) -> list[Case]:
    out = []
    for dispatched in _dispatched(world, n, offset):
        accepted = case_accept(case=dispatched, actor=world.handler)
        out.append(case_handle(case=accepted, actor=world.handler, result="已清理"))
    return out


def test_the_checkers_tasks_list_handled_cases_with_check_buttons(world: CaseWorld) -> None:
    (case,) = _handled(world, 1)
    html = client_of(world.grid_worker).get("/cases/checks/").content.decode()
    assert case.number in html
    assert f"/cases/{case.number}/do/check_start/" in html
    assert "已清理" in html


def test_the_checkers_tasks_read_in_a_fixed_number_of_queries(world: CaseWorld) -> None:
    client = client_of(world.grid_worker)
    _handled(world, 2)
    client.get("/cases/checks/")
    with CaptureQueriesContext(connection) as few:
        client.get("/cases/checks/")
    _handled(world, 6, offset=2)
    with CaptureQueriesContext(connection) as many:
        response = client.get("/cases/checks/")
    assert response.content.decode().count('<li class="case-row') == 8
    assert len(many.captured_queries) == len(few.captured_queries)


@pytest.mark.parametrize("seat", ["resident", "handler", "committee_worker"])
def test_the_checkers_tasks_are_refused_to_other_roles(world: CaseWorld, seat: str) -> None:
    assert client_of(getattr(world, seat)).get("/cases/checks/").status_code == 403


# --- Navigation ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("seat", "shown", "hidden"),
    [
        ("resident", {"cases:report", "cases:mine"}, {"cases:dispatch", "cases:queue", "cases:register"}),
        ("committee_worker", {"cases:register", "cases:queue"}, {"cases:report", "cases:dispatch"}),
        ("grid_worker", {"cases:register", "cases:checks"}, {"cases:queue", "cases:dispatch"}),
        ("dispatcher", {"cases:dispatch", "cases:checks"}, {"cases:report", "cases:register"}),
        ("handler", {"cases:queue"}, {"cases:dispatch", "cases:checks", "cases:register"}),
    ],
)
def test_navigation_entries_per_role(world: CaseWorld, seat: str, shown: set[str], hidden: set[str]) -> None:
    names = {entry.url_name for entry in nav_entries_for(getattr(world, seat))}
    assert shown <= names
    assert not hidden & names
