"""The tree API under /api/v1/places/: scoped divisions, boundaries and compounds."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from shequ.accounts.models import Role
from shequ.accounts.tests.factories import (
    building_create,
    compound_create,
    division_create,
    login,
    small_tree,
    user_for_role_in_tree,
)
from shequ.places.models import DivisionLevel

pytestmark = pytest.mark.django_db

API = "/api/v1/places"
SQUARE = {"type": "Polygon", "coordinates": [[[121.4, 31.2], [121.5, 31.2], [121.5, 31.3], [121.4, 31.2]]]}


@pytest.fixture
def tree():
    return small_tree()


def _client_for(role, tree) -> Client:
    client = Client()
    login(client, user_for_role_in_tree(role, tree))
    return client


def test_divisions_without_parent_are_the_top_of_the_visible_tree(tree):
    client = _client_for(Role.COMMITTEE_WORKER, tree)

    body = client.get(f"{API}/divisions").json()

    assert body["count"] == 1
    [city] = body["items"]
    assert (city["code"], city["level"], city["parent"]) == (tree.city.code, "city", None)
    assert (city["child_count"], city["compound_count"]) == (1, 1)
    assert city["household_count"] == tree.compound(1, 1, 1).household_count


def test_divisions_of_a_parent_carry_visible_counts(tree):
    client = _client_for(Role.DISTRICT_OFFICER, tree)

    body = client.get(f"{API}/divisions", {"parent": tree.district(1).code}).json()

    assert [item["code"] for item in body["items"]] == [tree.street(1, 1).code, tree.street(1, 2).code]
    first = body["items"][0]
    assert first["parent"] == tree.district(1).code
    assert (first["child_count"], first["compound_count"]) == (2, 2)
    expected = tree.compound(1, 1, 1).household_count + tree.compound(1, 1, 2).household_count
    assert first["household_count"] == expected


def test_division_detail_names_its_visible_ancestors(tree):
    client = _client_for(Role.COMMITTEE_WORKER, tree)
    committee = tree.committee(1, 1, 1)

    body = client.get(f"{API}/divisions/{committee.code}").json()

    assert body["name"] == committee.name
    assert body["level"] == "committee"
    assert body["kind"] == "residents_committee"
    assert body["parent"] == tree.street(1, 1).code
    assert [a["code"] for a in body["ancestors"]] == [
        tree.city.code,
        tree.district(1).code,
        tree.street(1, 1).code,
    ]


def test_boundary_is_an_empty_collection_while_boundaries_are_unknown(tree):
    client = _client_for(Role.CITY_ADMIN, tree)

    body = client.get(f"{API}/divisions/{tree.city.code}/boundary").json()

    assert body == {"type": "FeatureCollection", "features": []}


def test_boundary_collects_the_visible_children_outlines(tree):
    for d in (1, 2):
        district = tree.district(d)
        district.boundary = SQUARE
        district.save(update_fields=["boundary"])
    client = _client_for(Role.DISTRICT_OFFICER, tree)

    body = client.get(f"{API}/divisions/{tree.city.code}/boundary").json()

    assert body["type"] == "FeatureCollection"
    [feature] = body["features"]  # the other district is outside the officer's scope
    assert feature["type"] == "Feature"
    assert feature["properties"] == {"code": tree.district(1).code, "name": "黄浦区", "level": "district"}
    assert feature["geometry"] == SQUARE


def test_boundary_of_a_node_whose_children_have_none_is_its_own(tree):
    district = tree.district(1)
    district.boundary = SQUARE
    district.save(update_fields=["boundary"])
    client = _client_for(Role.DISTRICT_OFFICER, tree)

    body = client.get(f"{API}/divisions/{district.code}/boundary").json()

    assert [f["properties"]["code"] for f in body["features"]] == [district.code]


def test_compounds_of_a_committee(tree):
    client = _client_for(Role.STREET_OFFICER, tree)
    committee = tree.committee(1, 1, 2)

    body = client.get(f"{API}/compounds", {"committee": committee.code}).json()

    assert body["count"] == 1
    [item] = body["items"]
    assert item["code"] == tree.compound(1, 1, 2).code
    assert item["committee"] == committee.code
    assert item["building_count"] == 1
    assert item["household_count"] == tree.compound(1, 1, 2).household_count


def test_compound_detail_has_profile_entrances_and_buildings(tree):
    client = _client_for(Role.GRID_WORKER, tree)
    compound = tree.compound(1, 1, 1)
    compound.entrances = [{"name": "南门", "open": True}]
    compound.lat, compound.lon = 31.23, 121.47
    compound.save(update_fields=["entrances", "lat", "lon"])
    building_create(compound=compound, number="2", floors=11, units=2)

    body = client.get(f"{API}/compounds/{compound.code}").json()

    assert body["committee"] == {
        "code": tree.committee(1, 1, 1).code,
        "name": tree.committee(1, 1, 1).name,
        "level": "committee",
    }
    assert body["grid"] == tree.grid.code
    assert body["entrances"] == [{"name": "南门", "open": True}]
    assert (body["lat"], body["lon"]) == (31.23, 121.47)
    assert [(b["number"], b["floors"], b["house_count"]) for b in body["buildings"]] == [
        ("1", 6, 0),
        ("2", 11, 0),
    ]


def test_pages_and_page_size(tree):
    client = _client_for(Role.CITY_ADMIN, tree)

    first = client.get(f"{API}/compounds", {"page_size": 3}).json()
    last = client.get(f"{API}/compounds", {"page_size": 3, "page": 3}).json()

    assert first["count"] == 8
    assert len(first["items"]) == 3
    assert len(last["items"]) == 2
    assert client.get(f"{API}/compounds", {"page_size": 201}).status_code == 422
    assert client.get(f"{API}/divisions", {"parent": "31"}).json()["code"] == "invalid"


def test_api_requires_a_verified_session_or_a_token(tree):
    user = user_for_role_in_tree(Role.COMMITTEE_WORKER, tree)
    unverified = Client()
    login(unverified, user, verified=False)

    assert Client().get(f"{API}/divisions").status_code == 401
    assert unverified.get(f"{API}/divisions").status_code == 401


def _queries(client, url, params) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, params)
    assert response.status_code == 200
    return len(ctx)


def test_division_list_query_count_does_not_grow_with_page_size(tree):
    street = tree.street(1, 1)
    for n in range(3, 30):
        committee = division_create(
            code=f"{street.code[:9]}{n:03d}", name=f"居委会{n}", level=DivisionLevel.COMMITTEE, parent=street
        )
        compound_create(code=f"CQ{n}", name=f"小区{n}", committee=committee)
    client = _client_for(Role.STREET_OFFICER, tree)
    url = f"{API}/divisions"

    small = _queries(client, url, {"parent": street.code, "page_size": 2})
    large = _queries(client, url, {"parent": street.code, "page_size": 50})

    assert small == large
    assert client.get(url, {"parent": street.code, "page_size": 50}).json()["count"] == 29


def test_compound_list_query_count_does_not_grow_with_page_size(tree):
    committee = tree.committee(1, 1, 1)
    for n in range(30):
        compound = compound_create(code=f"CP{n}", name=f"小区{n}", committee=committee)
        building_create(compound=compound, number="1")
    for role in (Role.COMMITTEE_WORKER, Role.PROPERTY_MANAGER):
        client = _client_for(role, tree)
        url = f"{API}/compounds"
        params = {"committee": committee.code} if role == Role.COMMITTEE_WORKER else {}

        small = _queries(client, url, {**params, "page_size": 2})
        large = _queries(client, url, {**params, "page_size": 50})

        assert small == large, role
