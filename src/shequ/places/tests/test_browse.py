"""The place browser pages: the tree as the user may see it, counts, fragments, compound profile."""

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
from shequ.places import views
from shequ.places.models import DivisionLevel, HousingType

pytestmark = pytest.mark.django_db

SQUARE = {"type": "Polygon", "coordinates": [[[121.4, 31.2], [121.5, 31.2], [121.5, 31.3], [121.4, 31.2]]]}


@pytest.fixture
def tree():
    return small_tree()


def _client_for(role, tree) -> Client:
    client = Client()
    login(client, user_for_role_in_tree(role, tree))
    return client


def test_anonymous_visitor_is_sent_to_sign_in(tree):
    response = Client().get(f"/places/{tree.city.code}/")

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_browser_opens_at_the_top_of_the_visible_tree(tree):
    client = _client_for(Role.COMMITTEE_WORKER, tree)

    response = client.get("/places/")

    assert response.status_code == 302
    assert response["Location"] == f"/places/{tree.city.code}/"


def test_city_page_of_a_committee_worker_lists_only_the_way_down_to_the_committee(tree):
    client = _client_for(Role.COMMITTEE_WORKER, tree)

    response = client.get(f"/places/{tree.city.code}/")

    assert response.status_code == 200
    districts = list(response.context["page"].object_list)
    assert [d.code for d in districts] == [tree.district(1).code]
    # Counts are of what the worker may see: one street, one compound and its households.
    assert districts[0].child_count == 1
    assert districts[0].compound_count == 1
    assert districts[0].household_total == tree.compound(1, 1, 1).household_count
    assert "徐汇区" not in response.content.decode()


def test_street_page_counts_compounds_and_households_per_committee(tree):
    client = _client_for(Role.STREET_OFFICER, tree)

    response = client.get(f"/places/{tree.street(1, 1).code}/")

    rows = {d.code: d for d in response.context["page"].object_list}
    assert set(rows) == {tree.committee(1, 1, 1).code, tree.committee(1, 1, 2).code}
    second = rows[tree.committee(1, 1, 2).code]
    assert (second.compound_count, second.household_total) == (1, tree.compound(1, 1, 2).household_count)
    body = response.content.decode()
    assert "黄浦区第1街道第2居委会" in body
    assert f'href="/places/{tree.committee(1, 1, 2).code}/"' in body


def test_committee_page_lists_its_compounds_with_breadcrumbs(tree):
    client = _client_for(Role.COMMITTEE_WORKER, tree)
    committee = tree.committee(1, 1, 1)
    compound_create(code="C9", name="梧桐花园", committee=committee, household_count=321)

    response = client.get(f"/places/{committee.code}/")

    assert response.status_code == 200
    body = response.content.decode()
    assert [c.name for c in response.context["page"].object_list] == [tree.compound(1, 1, 1).name, "梧桐花园"]
    assert 'href="/places/compound/C9/"' in body
    assert "321" in body
    assert [a.code for a in response.context["ancestors"]] == [
        tree.city.code,
        tree.district(1).code,
        tree.street(1, 1).code,
    ]
    assert 'aria-current="page">黄浦区第1街道第1居委会</span>' in body


def test_grid_worker_sees_only_the_compounds_of_the_grid(tree):
    client = _client_for(Role.GRID_WORKER, tree)
    committee = tree.committee(1, 1, 1)
    compound_create(code="C-OUTSIDE", name="网格外小区", committee=committee)

    response = client.get(f"/places/{committee.code}/")

    assert [c.code for c in response.context["page"].object_list] == [tree.compound(1, 1, 1).code]
    assert client.get("/places/compound/C-OUTSIDE/").status_code == 404


def test_htmx_request_gets_only_the_child_list_fragment(tree):
    client = _client_for(Role.CITY_ADMIN, tree)

    full = client.get(f"/places/{tree.district(1).code}/")
    fragment = client.get(f"/places/{tree.district(1).code}/", headers={"HX-Request": "true"})

    assert "<html" in full.content.decode()
    assert fragment.templates[0].name == "places/_children.html"
    body = fragment.content.decode()
    assert "<html" not in body
    assert "黄浦区第1街道" in body
    assert "HX-Request" in fragment["Vary"]


def test_history_restore_gets_the_full_page(tree):
    client = _client_for(Role.CITY_ADMIN, tree)

    response = client.get(
        f"/places/{tree.district(1).code}/",
        headers={"HX-Request": "true", "HX-History-Restore-Request": "true"},
    )

    assert "<html" in response.content.decode()


def test_search_narrows_the_child_list(tree):
    client = _client_for(Role.CITY_ADMIN, tree)

    response = client.get(f"/places/{tree.city.code}/", {"q": "徐汇"}, headers={"HX-Request": "true"})

    assert [d.code for d in response.context["page"].object_list] == [tree.district(2).code]


def test_child_list_is_paginated(tree, monkeypatch):
    monkeypatch.setattr(views, "PAGE_SIZE", 1)
    client = _client_for(Role.CITY_ADMIN, tree)

    first = client.get(f"/places/{tree.city.code}/")
    second = client.get(f"/places/{tree.city.code}/", {"page": 2}, headers={"HX-Request": "true"})

    assert [d.code for d in first.context["page"].object_list] == [tree.district(1).code]
    assert [d.code for d in second.context["page"].object_list] == [tree.district(2).code]
    assert 'hx-get="?page=2"' in first.content.decode()


def test_division_page_costs_the_same_queries_however_many_children(tree):
    client = _client_for(Role.CITY_ADMIN, tree)
    street = tree.street(1, 1)
    client.get(f"/places/{street.code}/")  # warm the session
    with CaptureQueriesContext(connection) as few:
        client.get(f"/places/{street.code}/")
    for n in range(3, 13):
        committee = division_create(
            code=f"{street.code[:9]}{n:03d}",
            name=f"新居委会{n}",
            level=DivisionLevel.COMMITTEE,
            parent=street,
        )
        compound_create(code=f"CX{n}", name=f"新小区{n}", committee=committee, household_count=n)
    with CaptureQueriesContext(connection) as many:
        response = client.get(f"/places/{street.code}/")

    assert len(response.context["page"].object_list) == 12
    assert len(many) == len(few)


def test_committee_page_costs_the_same_queries_however_many_compounds(tree):
    client = _client_for(Role.COMMITTEE_WORKER, tree)
    committee = tree.committee(1, 1, 1)
    client.get(f"/places/{committee.code}/")
    with CaptureQueriesContext(connection) as few:
        client.get(f"/places/{committee.code}/")
    for n in range(10):
        compound = compound_create(code=f"CY{n}", name=f"小区{n}", committee=committee)
        building_create(compound=compound, number="1")
    with CaptureQueriesContext(connection) as many:
        response = client.get(f"/places/{committee.code}/")

    assert len(response.context["page"].object_list) == 11
    assert len(many) == len(few)


def test_map_is_left_out_while_no_boundary_is_known(tree):
    client = _client_for(Role.CITY_ADMIN, tree)

    response = client.get(f"/places/{tree.city.code}/")

    assert response.context["has_map"] is False
    assert "data-boundary-map" not in response.content.decode()
    assert "leaflet.js" not in response.content.decode()


def test_map_is_drawn_from_the_boundary_endpoint_once_districts_have_boundaries(tree):
    district = tree.district(1)
    district.boundary = SQUARE
    district.save(update_fields=["boundary"])
    client = _client_for(Role.CITY_ADMIN, tree)

    body = client.get(f"/places/{tree.city.code}/").content.decode()

    assert f'data-src="/api/v1/places/divisions/{tree.city.code}/boundary"' in body
    assert "/static/vendor/leaflet/leaflet.js" in body
    assert "/static/vendor/leaflet/leaflet.css" in body


def test_compound_page_shows_the_profile_and_buildings(tree):
    client = _client_for(Role.COMMITTEE_HEAD, tree)
    compound = tree.compound(1, 1, 1)
    compound.housing_type = HousingType.OLD
    compound.is_walled = False
    compound.entrances = [{"name": "南门", "open": True}, {"name": "北门", "open": False}]
    compound.save(update_fields=["housing_type", "is_walled", "entrances"])
    building_create(compound=compound, number="2", floors=18, units=3)

    response = client.get(f"/places/compound/{compound.code}/")

    body = response.content.decode()
    assert response.status_code == 200
    assert [b.number for b in response.context["buildings"]] == ["1", "2"]
    for text in ("老旧小区", "开放式", "南门", "北门", "2 号楼", "18", "第一网格"):
        assert text in body
    assert [a.code for a in response.context["ancestors"]][-1] == tree.committee(1, 1, 1).code


def test_property_manager_finds_the_served_compound_from_the_browser_index(tree):
    client = _client_for(Role.PROPERTY_MANAGER, tree)

    response = client.get("/places/")

    assert response.status_code == 200
    assert [c.code for c in response.context["page"].object_list] == [tree.compound(1, 1, 1).code]
    assert f'href="/places/compound/{tree.compound(1, 1, 1).code}/"' in response.content.decode()


def test_out_of_scope_page_is_the_friendly_not_found_page(tree):
    client = _client_for(Role.COMMITTEE_WORKER, tree)

    response = client.get(f"/places/{tree.committee(2, 1, 1).code}/")

    assert response.status_code == 404
    body = response.content.decode()
    assert "页面不存在" in body
    assert "徐汇区" not in body
