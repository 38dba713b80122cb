"""The visit log (走访): recording a visit, its rules, the household's history (fragment, page and API),
the committee's follow-ups due (ordered by due date, overdue highlighted), and scope."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import PermissionDenied
from django.test import Client

from shequ.accounts.models import Role
from shequ.accounts.tests.factories import login, user_for_role_in_tree
from shequ.core.errors import ApiError
from shequ.core.models import Event
from shequ.registry import selectors_tags
from shequ.registry.models import Household, Visit
from shequ.registry.services_visits import visit_follow_up_done, visit_record

from .test_people_world import World, build_world, house_in, household_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def world() -> World:
    return build_world()


SHANGHAI = ZoneInfo("Asia/Shanghai")
TODAY = date(2025, 6, 15)


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(datetime(2025, 6, 15, 10, tzinfo=SHANGHAI), tick=False):
        yield


@pytest.fixture
def worker(world):
    return user_for_role_in_tree(Role.COMMITTEE_WORKER, world.tree)


def client_for(user) -> Client:
    client = Client()
    login(client, user)
    return client


def visit(household: Household, actor, **extra) -> Visit:
    values = {"visited_on": date(2025, 6, 10), "findings": "老人独居，身体尚可"} | extra
    return visit_record(household=household, actor=actor, **values)


def test_recording_a_visit_writes_the_visit_and_an_event(world, worker):
    recorded = visit(
        world.alone, worker, needs="希望安装扶手", follow_up="联系适老化改造", follow_up_due=date(2025, 6, 30)
    )
    assert recorded.visited_by == worker
    assert recorded.path == world.alone.path
    event = Event.objects.get(type="VISIT_RECORDED")
    assert event.subject_id == str(recorded.pk)
    assert event.data["follow_up_due"] == "2025-06-30"


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"visited_on": date(2025, 6, 16)}, "visited_on"),
        ({"findings": "  "}, "findings"),
        ({"follow_up_due": date(2025, 6, 30)}, "follow_up"),
        ({"follow_up": "回访", "follow_up_due": date(2025, 6, 1)}, "follow_up_due"),
    ],
)
def test_invalid_visits_are_refused_and_nothing_is_saved(world, worker, extra, field):
    with pytest.raises(ApiError) as error:
        visit(world.alone, worker, **extra)
    assert error.value.field == field
    assert not Visit.objects.exists()


def test_roles_that_only_view_the_registry_may_not_record_visits(world):
    officer = user_for_role_in_tree(Role.STREET_OFFICER, world.tree)
    with pytest.raises(PermissionDenied):
        visit(world.alone, officer)


def test_the_household_fragment_shows_its_history_latest_first_and_records_a_visit(world, worker):
    visit(world.alone, worker, visited_on=date(2025, 5, 1), findings="第一次走访")
    visit(world.alone, worker, visited_on=date(2025, 6, 1), findings="第二次走访")
    visit(world.couple, worker, findings="另一户的走访")
    client = client_for(worker)
    url = f"/registry/households/{world.alone.pk}/visits/"
    html = client.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert html.index("第二次走访") < html.index("第一次走访")
    assert "另一户的走访" not in html
    assert "<html" not in html  # a fragment
    response = client.post(
        url,
        {"visited_on": "2025-06-15", "findings": "第三次走访", "follow_up": "", "needs": ""},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    assert "第三次走访" in response.content.decode()
    future = client.post(url, {"visited_on": "2025-06-20", "findings": "未来的走访"}, HTTP_HX_REQUEST="true")
    assert "走访日期不能晚于今天" in future.content.decode()
    assert Visit.objects.filter(household=world.alone).count() == 3
    page = client.get(url)
    assert page.status_code == 200
    assert "<html" in page.content.decode()


def test_follow_ups_due_are_ordered_by_date_with_overdue_ones_highlighted(world, worker):
    later = visit(world.alone, worker, follow_up="送米面油", follow_up_due=date(2025, 6, 20))
    overdue = visit(world.couple, worker, follow_up="协调物业修水管", follow_up_due=date(2025, 6, 12))
    done = visit(world.couple, worker, follow_up="已办结", follow_up_due=date(2025, 6, 11))
    visit_follow_up_done(visit=done, actor=worker)
    elsewhere = house_in(world.tree, (2, 1, 1), "302", "owner_occupied")
    visit(
        household_of(elsewhere, (world.other_district, "head")),
        worker_for(world, (2, 1, 1)),
        visited_on=date(2025, 5, 20),
        follow_up="别处",
        follow_up_due=date(2025, 6, 1),
    )
    assert list(selectors_tags.visits_follow_ups_due(user=worker)) == [overdue, later]
    html = client_for(worker).get("/registry/visits/due/").content.decode()
    assert html.index("协调物业修水管") < html.index("送米面油")
    assert html.count('class="overdue"') == 1
    assert "别处" not in html
    assert "已办结" not in html
    api = client_for(worker).get("/api/v1/registry/visits/due").json()
    assert [(row["id"], row["overdue"]) for row in api["items"]] == [(overdue.pk, True), (later.pk, False)]


def worker_for(world, key):
    user = user_for_role_in_tree(Role.COMMITTEE_WORKER, world.tree)
    user.memberships.update(division=world.tree.committee(*key))
    return user


def test_a_follow_up_is_done_once(world, worker):
    recorded = visit(world.alone, worker, follow_up="回访", follow_up_due=date(2025, 6, 20))
    visit_follow_up_done(visit=recorded, actor=worker)
    with pytest.raises(ApiError) as error:
        visit_follow_up_done(visit=recorded, actor=worker)
    assert error.value.code == "already_done"
    assert Event.objects.filter(type="VISIT_FOLLOW_UP_DONE").count() == 1


def test_the_api_lists_and_records_visits_of_a_household(world, worker):
    client = client_for(worker)
    url = f"/api/v1/registry/households/{world.alone.pk}/visits"
    created = client.post(
        url, {"visited_on": "2025-06-14", "findings": "接口登记"}, content_type="application/json"
    )
    assert created.status_code == 201, created.content
    future = client.post(url, {"visited_on": "2025-06-16", "findings": "x"}, content_type="application/json")
    assert future.status_code == 422
    assert future.json()["field"] == "visited_on"
    listed = client.get(url).json()
    assert listed["count"] == 1
    assert listed["items"][0]["findings"] == "接口登记"
    done = client.post(
        f"/api/v1/registry/visits/{created.json()['id']}/follow-up-done", {}, content_type="application/json"
    )
    assert done.status_code == 422  # nothing to follow up


def test_another_committees_household_is_not_found(world, worker):
    other = worker_for(world, (2, 1, 1))
    visit(world.alone, worker, follow_up="回访", follow_up_due=date(2025, 6, 20))
    client = client_for(other)
    assert client.get(f"/registry/households/{world.alone.pk}/visits/").status_code == 404
    assert client.get(f"/api/v1/registry/households/{world.alone.pk}/visits").status_code == 404
    assert (
        client.post(
            f"/api/v1/registry/households/{world.alone.pk}/visits",
            {"visited_on": "2025-06-14", "findings": "越权"},
            content_type="application/json",
        ).status_code
        == 404
    )
    assert client.get("/api/v1/registry/visits/due").json()["count"] == 0
    resident = user_for_role_in_tree(Role.RESIDENT, world.tree)
    assert client_for(resident).get(f"/registry/households/{world.alone.pk}/visits/").status_code == 404
