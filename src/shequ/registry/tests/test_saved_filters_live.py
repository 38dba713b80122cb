"""Saved population filters ("政策找人"): saving with validated criteria in the user's own jurisdiction,
the live list that follows the data, counts per committee, sharing, masking in the list, the API and
the export (unmasked only when entitled, one access record per person), and scope."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from shequ.accounts.models import Role
from shequ.accounts.tests.factories import login, user_for_role_in_tree
from shequ.core.errors import ApiError
from shequ.core.models import AccessLog, Event
from shequ.registry.models import PersonStatus, SavedFilter
from shequ.registry.selectors_filters import saved_filter_counts, saved_filter_people
from shequ.registry.services_filters import saved_filter_create, saved_filter_update

from .test_people_world import World, build_world, make_id, person_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def world() -> World:
    return build_world()


SHANGHAI = ZoneInfo("Asia/Shanghai")
AS_OF = date(2025, 6, 15)


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(datetime(2025, 6, 15, 10, tzinfo=SHANGHAI), tick=False):
        yield


@pytest.fixture
def worker(world):
    return user_for_role_in_tree(Role.COMMITTEE_WORKER, world.tree)


@pytest.fixture
def head(world):
    return user_for_role_in_tree(Role.COMMITTEE_HEAD, world.tree)


def client_for(user) -> Client:
    client = Client()
    login(client, user)
    return client


def names(saved_filter, user) -> set[str]:
    return set(
        saved_filter_people(saved_filter=saved_filter, user=user, as_of=AS_OF).values_list("name", flat=True)
    )


@pytest.fixture
def over_80(world, worker):
    return saved_filter_create(
        name="80岁以上", division=world.tree.committee(1, 1, 1), criteria={"age_min": 80}, actor=worker
    )


def test_saving_validates_the_criteria_and_the_division(world, worker):
    with pytest.raises(ValidationError) as error:
        saved_filter_create(
            name="x", division=world.tree.committee(1, 1, 1), criteria={"age_min": -3}, actor=worker
        )
    assert "age_min" in error.value.message_dict
    with pytest.raises(ValidationError):  # a sensitive tag the worker may filter by nowhere
        saved_filter_create(
            name="x",
            division=world.tree.committee(1, 1, 1),
            criteria={"tags_all": ["minimum_living_allowance"]},
            actor=worker,
        )
    with pytest.raises(ApiError) as outside:
        saved_filter_create(name="x", division=world.tree.committee(2, 1, 1), criteria={}, actor=worker)
    assert outside.value.field == "division"
    assert not SavedFilter.objects.exists()


def test_the_live_list_follows_the_data(world, worker, over_80):
    assert over_80.criteria == {"age_min": 80}
    assert Event.objects.filter(type="SAVED_FILTER_CREATED", subject_id=str(over_80.pk)).exists()
    assert names(over_80, worker) == {"张三丰"}  # other committees' elders are not in this node
    newcomer = person_in(
        world.rented,
        name="孙八十",
        id_number=make_id("310101", date(1940, 5, 5), "066"),
        birth=date(1940, 5, 5),
        mobile="13811110000",
    )
    assert names(over_80, worker) == {"张三丰", "孙八十"}
    world.elder.status = PersonStatus.MOVED_OUT
    world.elder.save(update_fields=["status"])
    assert names(over_80, worker) == {newcomer.name}
    over_80 = saved_filter_update(saved_filter=over_80, actor=worker, criteria={"age_max": 40})
    assert names(over_80, worker) == {"李四海", "王五娘"}


def test_counts_per_committee_for_a_street_wide_filter(world):
    officer = user_for_role_in_tree(Role.DISTRICT_OFFICER, world.tree)
    saved = saved_filter_create(
        name="区内老人", division=world.tree.district(1), criteria={"age_min": 80}, actor=officer
    )
    counts = saved_filter_counts(saved_filter=saved, user=officer, as_of=AS_OF)
    assert counts == [
        (world.tree.committee(1, 1, 1).code, world.tree.committee(1, 1, 1).name, 1),
        (world.tree.committee(1, 2, 1).code, world.tree.committee(1, 2, 1).name, 1),
    ]
    html = client_for(officer).get(f"/registry/filters/{saved.pk}/").content.decode()
    assert world.tree.committee(1, 2, 1).name in html


def test_shared_filters_are_seen_by_colleagues_private_ones_are_not(world, worker, head, over_80):
    client = client_for(head)
    assert client.get(f"/registry/filters/{over_80.pk}/").status_code == 404
    assert client.get(f"/api/v1/registry/filters/{over_80.pk}").status_code == 404
    saved_filter_update(saved_filter=over_80, actor=worker, is_shared=True)
    assert client.get(f"/registry/filters/{over_80.pk}/").status_code == 200
    assert [f["id"] for f in client.get("/api/v1/registry/filters").json()] == [over_80.pk]
    assert client.delete(f"/api/v1/registry/filters/{over_80.pk}").status_code == 403  # the owner's only


def test_another_committee_cannot_see_the_filter(world, over_80):
    saved_filter_update(saved_filter=over_80, actor=over_80.owner, is_shared=True)
    outsider = user_for_role_in_tree(Role.COMMITTEE_WORKER, world.tree)
    outsider.memberships.update(division=world.tree.committee(2, 1, 1))
    client = client_for(outsider)
    assert client.get(f"/registry/filters/{over_80.pk}/").status_code == 404
    assert client.get(f"/api/v1/registry/filters/{over_80.pk}/people").status_code == 404
    assert client.get(f"/registry/filters/{over_80.pk}/export.csv").status_code == 404


def test_the_page_and_api_list_people_masked(world, worker, over_80):
    html = client_for(worker).get(f"/registry/filters/{over_80.pk}/").content.decode()
    assert "张**" in html
    assert "张三丰" not in html
    assert world.elder.id_number not in html
    assert "13800138000" not in html
    page = client_for(worker).get(f"/api/v1/registry/filters/{over_80.pk}/people").json()
    assert page["count"] == 1
    row = page["items"][0]
    assert (row["name"], row["mobile"], row["age"]) == ("张**", "138****8000", 80)
    assert row["id_number"] != world.elder.id_number
    counts = client_for(worker).get(f"/api/v1/registry/filters/{over_80.pk}/counts").json()
    assert counts == [
        {
            "committee": world.tree.committee(1, 1, 1).code,
            "name": world.tree.committee(1, 1, 1).name,
            "count": 1,
        }
    ]


def test_the_people_api_costs_the_same_queries_whatever_the_page_size(world, worker):
    saved = saved_filter_create(
        name="全部", division=world.tree.committee(1, 1, 1), criteria={}, actor=worker
    )
    for n in range(12):
        person_in(
            world.owned,
            name=f"居民{n}",
            id_number=make_id("310101", date(1960, 1, 1 + n), f"{200 + n}"),
            birth=date(1960, 1, 1 + n),
            mobile=f"1390000{n:04d}",
        )
    client = client_for(worker)

    def queries(size: int) -> int:
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(f"/api/v1/registry/filters/{saved.pk}/people", {"page_size": size})
        assert response.status_code == 200
        assert len(response.json()["items"]) == min(size, 15)
        return len(ctx.captured_queries)

    assert queries(2) == queries(15)


def test_the_export_is_masked_by_default(world, worker, over_80):
    response = client_for(worker).get(f"/registry/filters/{over_80.pk}/export.csv")
    assert response.status_code == 200
    text = response.content.decode("utf-8-sig")
    assert "张**" in text
    assert "138****8000" in text
    assert "张三丰" not in text
    assert world.elder.id_number not in text
    assert not AccessLog.objects.exists()
    assert Event.objects.get(type="SAVED_FILTER_EXPORTED").data["unmasked_rows"] == 0


def test_an_unmasked_export_needs_the_right_and_a_purpose_and_logs_every_person(world, worker, head, over_80):
    saved_filter_update(saved_filter=over_80, actor=worker, criteria={"age_min": 30}, is_shared=True)
    url = f"/registry/filters/{over_80.pk}/export.csv"
    refused = client_for(worker).post(url, {"unmasked": "1", "purpose": "高龄补贴发放"})
    assert refused.status_code == 403
    no_purpose = client_for(head).post(url, {"unmasked": "1", "purpose": ""})
    assert no_purpose.status_code == 302
    assert not AccessLog.objects.exists()
    response = client_for(head).post(url, {"unmasked": "1", "purpose": "高龄补贴发放"})
    assert response.status_code == 200
    text = response.content.decode("utf-8-sig")
    assert "张三丰" in text
    assert world.elder.id_number in text
    assert "13912345678" in text
    logs = AccessLog.objects.order_by("data_subject_id")
    assert sorted(int(log.data_subject_id) for log in logs) == sorted(
        [world.elder.pk, world.head.pk, world.spouse.pk]
    )
    assert {log.purpose for log in logs} == {"高龄补贴发放"}
    assert all(log.actor == head for log in logs)


def test_the_api_creates_updates_and_deletes_filters(world, worker):
    client = client_for(worker)
    created = client.post(
        "/api/v1/registry/filters",
        {
            "name": "独居老人",
            "division": world.tree.committee(1, 1, 1).code,
            "criteria": {"age_min": 60, "lives_alone": True},
        },
        content_type="application/json",
    )
    assert created.status_code == 201, created.content
    filter_id = created.json()["id"]
    bad = client.patch(
        f"/api/v1/registry/filters/{filter_id}",
        {"criteria": {"age_min": "old"}},
        content_type="application/json",
    )
    assert bad.status_code == 422
    patched = client.patch(
        f"/api/v1/registry/filters/{filter_id}", {"name": "独居长者"}, content_type="application/json"
    )
    assert patched.json()["name"] == "独居长者"
    assert client.get(f"/api/v1/registry/filters/{filter_id}/people").json()["count"] == 1
    assert client.delete(f"/api/v1/registry/filters/{filter_id}").status_code == 204
    assert not SavedFilter.objects.exists()
    assert Event.objects.filter(type="SAVED_FILTER_DELETED").exists()


def test_the_create_page_saves_a_filter_from_the_form(world, worker):
    client = client_for(worker)
    assert client.get("/registry/filters/new/").status_code == 200
    response = client.post(
        "/registry/filters/new/",
        {
            "name": "老人",
            "node": world.tree.committee(1, 1, 1).pk,
            "age_min": "80",
            "status": "living_here",
            "lives_alone": "true",
        },
    )
    assert response.status_code == 302
    saved = SavedFilter.objects.get()
    assert saved.criteria == {"age_min": 80, "lives_alone": True}
    assert names(saved, worker) == {"张三丰"}
    edit = client.get(f"/registry/filters/{saved.pk}/edit/")
    assert edit.status_code == 200
    assert 'value="80"' in edit.content.decode()
    listed = client.get("/registry/filters/").content.decode()
    assert "老人" in listed
