"""The registry's people API: masked search with filters and a fixed query count, the person sheet,
reveal with a purpose (403 / 404 / 422 as JSON), edits returning correction requests, households,
houses and correction decisions."""

from __future__ import annotations

import json
from datetime import date

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from shequ.accounts.models import OrganisationKind, Role
from shequ.accounts.tests.factories import login, organisation_create, user_for_role_in_tree, user_with_role
from shequ.core.models import AccessLog
from shequ.registry.models import CorrectionRequest

from .test_people_world import World, build_world, make_id, person_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def world() -> World:
    return build_world()


API = "/api/v1/registry"


def client_for(user) -> Client:
    client = Client()
    login(client, user)
    return client


@pytest.fixture
def worker(world):
    return user_for_role_in_tree(Role.COMMITTEE_WORKER, world.tree)


@pytest.fixture
def api(worker) -> Client:
    return client_for(worker)


def test_search_is_masked_and_filtered(world, api):
    body = api.get(f"{API}/persons", {"tenure": "rented", "sex": "female"}).json()
    assert body["count"] == 1
    [item] = body["items"]
    assert item["id"] == world.spouse.pk
    assert item["name"] == "王**"
    assert item["mobile"] == "137****1111"
    assert item["id_number"].count("*") == 11
    assert item["house"]["tenure"] == "rented"


def test_search_by_tags_repeated_in_the_query(world):
    admin = client_for(user_for_role_in_tree(Role.CITY_ADMIN, world.tree))
    body = admin.get(f"{API}/persons?tags_all=t-elderly&age_min=80").json()
    assert {item["id"] for item in body["items"]} == {
        world.elder.pk,
        world.other_street.pk,
        world.other_district.pk,
    }


def test_a_tag_the_user_may_not_see_is_422_naming_the_field(world, api):
    response = api.get(f"{API}/persons", {"tags_any": "t-disabled"})
    assert response.status_code == 422
    assert response.json()["field"] == "tags_any"


def test_bad_criteria_are_422_naming_the_field(world, api):
    response = api.get(f"{API}/persons", {"age_min": "old"})
    assert response.status_code == 422
    assert response.json()["field"] == "age_min"


def test_list_query_count_does_not_grow_with_the_page_size(world, api):
    for i in range(40):
        person_in(
            world.owned,
            name=f"周{i:02d}",
            id_number=make_id("310101", date(1970, 2, 2), f"{200 + i:03d}"),
            birth=date(1970, 2, 2),
            mobile=f"1380001{i:04d}",
        )
    counts = []
    for size in (3, 40):
        with CaptureQueriesContext(connection) as queries:
            body = api.get(f"{API}/persons", {"page_size": size}).json()
        assert len(body["items"]) == size
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_person_detail_masked_with_provenance(world, api):
    body = api.get(f"{API}/persons/{world.elder.pk}").json()
    assert body["name"] == "张**"
    assert body["age"] is not None
    assert {p["attribute"]: p["source"] for p in body["provenance"]} == {
        "name": "public_security",
        "mobile": "committee",
    }
    assert body["households"] == [world.alone.pk]
    assert world.elder.mobile not in json.dumps(body, ensure_ascii=False)


def test_another_committees_person_household_and_house_are_404(world, api):
    for url in (
        f"{API}/persons/{world.other_street.pk}",
        f"{API}/houses/{world.other_street.house_id}",
        f"{API}/persons/999999",
    ):
        response = api.get(url)
        assert response.status_code == 404
        assert response.json()["code"] == "not_found"
    response = api.post(
        f"{API}/persons/{world.other_district.pk}/reveal",
        {"fields": ["mobile"], "purpose": "核对"},
        content_type="application/json",
    )
    assert response.status_code == 404


def test_reveal_returns_clear_values_and_writes_exactly_one_access_record(world, api, worker):
    response = api.post(
        f"{API}/persons/{world.elder.pk}/reveal",
        {"fields": ["mobile", "id_number"], "purpose": "高龄补贴核对"},
        content_type="application/json",
    )
    assert response.status_code == 200
    assert response.json()["values"] == {"mobile": "13800138000", "id_number": world.elder.id_number}
    row = AccessLog.objects.get()
    assert (row.actor, row.fields, row.purpose) == (worker, ["mobile", "id_number"], "高龄补贴核对")


def test_reveal_without_a_purpose_is_422_naming_the_field(world, api):
    response = api.post(
        f"{API}/persons/{world.elder.pk}/reveal", {"fields": ["mobile"]}, content_type="application/json"
    )
    assert response.status_code == 422
    assert response.json()["field"] == "purpose"
    assert not AccessLog.objects.exists()


@pytest.mark.parametrize("role", [Role.STREET_OFFICER, Role.DISTRICT_OFFICER, Role.CITY_ADMIN])
def test_reveal_by_a_role_that_may_only_view_is_403(world, role):
    client = client_for(user_for_role_in_tree(role, world.tree))
    response = client.post(
        f"{API}/persons/{world.elder.pk}/reveal",
        {"fields": ["mobile"], "purpose": "核对信息"},
        content_type="application/json",
    )
    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"
    assert not AccessLog.objects.exists()


def test_patch_applies_and_returns_correction_requests(world, api):
    response = api.patch(
        f"{API}/persons/{world.elder.pk}",
        {"name": "张三峰", "mobile": "13900001234", "reason": "户口本核对"},
        content_type="application/json",
    )
    assert response.status_code == 200
    body = response.json()
    assert body["changed"] == ["mobile"]
    [correction] = body["corrections"]
    assert (correction["attribute"], correction["routed_to"], correction["proposed_value"]) == (
        "name",
        "public_security",
        "张**",
    )
    assert body["person"]["name"] == "张**"
    assert body["person"]["mobile"] == "139****1234"
    world.elder.refresh_from_db()
    assert world.elder.name == "张三丰"


def test_patch_with_a_bad_value_is_422_naming_the_field(world, api):
    response = api.patch(f"{API}/persons/{world.head.pk}", {"mobile": "999"}, content_type="application/json")
    assert response.status_code == 422
    assert response.json()["field"] == "mobile"
    response = api.patch(
        f"{API}/persons/{world.head.pk}",
        {"house": world.other_street.house_id},
        content_type="application/json",
    )
    assert response.status_code == 422
    assert response.json()["field"] == "house"


def test_patch_moves_a_person_to_another_house_in_scope(world, api):
    response = api.patch(
        f"{API}/persons/{world.spouse.pk}", {"house": world.owned.pk}, content_type="application/json"
    )
    assert response.status_code == 200
    assert response.json()["person"]["house"]["id"] == world.owned.pk


def test_household_and_house(world, api):
    household = api.get(f"{API}/households/{world.couple.pk}").json()
    assert household["head"] == world.head.pk
    assert [(m["name"], m["relation"]) for m in household["members"]] == [
        ("李**", "head"),
        ("王**", "spouse"),
    ]
    house = api.get(f"{API}/houses/{world.rented.pk}").json()
    assert house["tenure"] == "rented"
    assert [h["id"] for h in house["households"]] == [world.couple.pk]
    assert {r["id"] for r in house["residents"]} == {world.head.pk, world.spouse.pk}


def test_corrections_list_and_the_source_department_decides(world, api):
    api.patch(f"{API}/persons/{world.elder.pk}", {"name": "张三峰"}, content_type="application/json")
    request = CorrectionRequest.objects.get()
    listing = api.get(f"{API}/corrections").json()
    assert [item["id"] for item in listing["items"]] == [request.pk]
    refused = api.post(
        f"{API}/corrections/{request.pk}/decide", {"accept": True}, content_type="application/json"
    )
    assert refused.status_code == 403
    branch = organisation_create(
        kind=OrganisationKind.DEPARTMENT_BRANCH, division=world.tree.district(1), sector="公安"
    )
    handler = user_with_role(Role.DEPARTMENT_HANDLER, organisation=branch)
    # A 公安 branch of another district, and a 民政 branch of this one, cannot reach it (404).
    elsewhere = organisation_create(
        kind=OrganisationKind.DEPARTMENT_BRANCH, division=world.tree.district(2), sector="公安"
    )
    civil = organisation_create(
        kind=OrganisationKind.DEPARTMENT_BRANCH, division=world.tree.district(1), sector="民政"
    )
    for outsider in (
        user_with_role(Role.DEPARTMENT_HANDLER, organisation=elsewhere),
        user_with_role(Role.DEPARTMENT_HANDLER, organisation=civil),
    ):
        response = client_for(outsider).post(
            f"{API}/corrections/{request.pk}/decide", {"accept": True}, content_type="application/json"
        )
        assert response.status_code == 404
    # The owning department's branch for the area sees the request and decides it.
    handler_client = client_for(handler)
    assert [item["id"] for item in handler_client.get(f"{API}/corrections").json()["items"]] == [request.pk]
    response = handler_client.post(
        f"{API}/corrections/{request.pk}/decide",
        {"accept": True, "note": "核实"},
        content_type="application/json",
    )
    assert response.status_code == 200
    request.refresh_from_db()
    assert request.status == "accepted"
    world.elder.refresh_from_db()
    assert world.elder.name == "张三峰"
