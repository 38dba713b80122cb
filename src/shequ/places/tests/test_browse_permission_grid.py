"""The role × record grid of the place browser and the tree API (DOMAIN.md §2).

Every role gets a membership where it works in a small tree (2 districts × 2 streets × 2 committees
× 1 compound). Its own records answer 200; records of another committee, another street and another
district answer 404 — through the pages and through the API alike, indistinguishable from missing.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.test import Client

from shequ.accounts.models import Role
from shequ.accounts.tests.factories import (
    COMMITTEE_ROLES,
    COMPOUND_ORG_ROLES,
    DEPARTMENT_ROLES,
    DISTRICT_ROLES,
    STREET_ROLES,
    SmallTree,
    login,
    small_tree,
    user_for_role_in_tree,
)

pytestmark = pytest.mark.django_db


@dataclass(frozen=True)
class Expectation:
    own_divisions: list[str]
    own_compounds: list[str]
    foreign_divisions: list[str]  # another committee, another street, another district
    foreign_compounds: list[str]


def _compounds_within(tree: SmallTree, *prefix: int) -> list[str]:
    return sorted(c.code for key, c in tree.compounds.items() if key[: len(prefix)] == prefix)


def _all_visible_compounds(role: str, tree: SmallTree) -> list[str]:
    if role == Role.CITY_ADMIN:
        return _compounds_within(tree)
    if role in DISTRICT_ROLES or role in DEPARTMENT_ROLES:
        return _compounds_within(tree, 1)
    if role in STREET_ROLES:
        return _compounds_within(tree, 1, 1)
    return _compounds_within(tree, 1, 1, 1)


def _expectation(role: str, tree: SmallTree) -> Expectation:
    committee_111 = [tree.district(1), tree.street(1, 1), tree.committee(1, 1, 1)]
    beyond_street = [tree.street(1, 2), tree.committee(1, 2, 1)]
    beyond_district = [tree.district(2), tree.street(2, 1), tree.committee(2, 1, 1)]
    if role in COMMITTEE_ROLES or role == Role.GRID_WORKER:
        return Expectation(
            own_divisions=[d.code for d in committee_111],
            own_compounds=[tree.compound(1, 1, 1).code],
            foreign_divisions=[d.code for d in [tree.committee(1, 1, 2), *beyond_street, *beyond_district]],
            foreign_compounds=[tree.compound(*k).code for k in [(1, 1, 2), (1, 2, 1), (2, 1, 1)]],
        )
    if role in STREET_ROLES:
        return Expectation(
            own_divisions=[d.code for d in [*committee_111, tree.committee(1, 1, 2)]],
            own_compounds=[tree.compound(*k).code for k in [(1, 1, 1), (1, 1, 2)]],
            foreign_divisions=[d.code for d in [*beyond_street, *beyond_district]],
            foreign_compounds=[tree.compound(*k).code for k in [(1, 2, 1), (2, 1, 1)]],
        )
    if role in DISTRICT_ROLES or role in DEPARTMENT_ROLES:
        return Expectation(
            own_divisions=[d.code for d in [*committee_111, tree.committee(1, 1, 2), *beyond_street]],
            own_compounds=[tree.compound(*k).code for k in [(1, 1, 1), (1, 1, 2), (1, 2, 1)]],
            foreign_divisions=[d.code for d in beyond_district],
            foreign_compounds=[tree.compound(2, 1, 1).code],
        )
    if role in COMPOUND_ORG_ROLES:
        return Expectation(
            own_divisions=[],
            own_compounds=[tree.compound(1, 1, 1).code],
            foreign_divisions=[d.code for d in [tree.committee(1, 1, 2), *beyond_street, *beyond_district]],
            foreign_compounds=[tree.compound(*k).code for k in [(1, 1, 2), (1, 2, 1), (2, 1, 1)]],
        )
    if role == Role.CITY_ADMIN:
        everything = [tree.city, *committee_111, *beyond_street, *beyond_district]
        return Expectation(
            own_divisions=[d.code for d in everything],
            own_compounds=[c.code for c in tree.compounds.values()],
            foreign_divisions=[],
            foreign_compounds=[],
        )
    raise AssertionError(f"role {role} has no expectation: add it to the grid")


@pytest.fixture
def tree() -> SmallTree:
    return small_tree()


def _signed_in(role: str, tree: SmallTree) -> Client:
    client = Client()
    login(client, user_for_role_in_tree(role, tree))
    return client


def test_every_role_is_in_the_grid():
    placed = (
        COMMITTEE_ROLES | STREET_ROLES | DISTRICT_ROLES | DEPARTMENT_ROLES | set(COMPOUND_ORG_ROLES)
    ) | {Role.GRID_WORKER, Role.CITY_ADMIN}
    assert placed == set(Role)


@pytest.mark.parametrize("role", list(Role.values))
def test_pages_show_own_records_and_hide_others_as_missing(role, tree):
    client = _signed_in(role, tree)
    expect = _expectation(role, tree)

    for code in expect.own_divisions:
        assert client.get(f"/places/{code}/").status_code == 200, code
    for code in expect.own_compounds:
        assert client.get(f"/places/compound/{code}/").status_code == 200, code
    for code in expect.foreign_divisions:
        assert client.get(f"/places/{code}/").status_code == 404, code
    for code in expect.foreign_compounds:
        assert client.get(f"/places/compound/{code}/").status_code == 404, code

    # Outside the scope looks exactly like missing.
    assert client.get("/places/310199999999/").status_code == 404
    assert client.get("/places/compound/C000000000000/").status_code == 404


@pytest.mark.parametrize("role", list(Role.values))
def test_api_shows_own_records_and_hides_others_as_missing(role, tree):
    client = _signed_in(role, tree)
    expect = _expectation(role, tree)
    api = "/api/v1/places"

    for code in expect.own_divisions:
        assert client.get(f"{api}/divisions/{code}").status_code == 200, code
        assert client.get(f"{api}/divisions/{code}/boundary").status_code == 200, code
        assert client.get(f"{api}/divisions", {"parent": code}).status_code == 200, code
    for code in expect.own_compounds:
        response = client.get(f"{api}/compounds/{code}")
        assert response.status_code == 200, code
        assert response.json()["code"] == code
    for code in expect.foreign_divisions:
        for url, params in [
            (f"{api}/divisions/{code}", {}),
            (f"{api}/divisions/{code}/boundary", {}),
            (f"{api}/divisions", {"parent": code}),
            (f"{api}/compounds", {"committee": code}),
        ]:
            response = client.get(url, params)
            assert response.status_code == 404, (url, params)
            assert response.json()["code"] == "not_found"
    for code in expect.foreign_compounds:
        response = client.get(f"{api}/compounds/{code}")
        assert response.status_code == 404, code
        assert response.json() == client.get(f"{api}/compounds/C000000000000").json()


@pytest.mark.parametrize("role", list(Role.values))
def test_api_lists_only_visible_compounds(role, tree):
    client = _signed_in(role, tree)
    expect = _expectation(role, tree)

    body = client.get("/api/v1/places/compounds", {"page_size": 200}).json()

    expected = _all_visible_compounds(role, tree)
    assert sorted(item["code"] for item in body["items"]) == expected
    assert body["count"] == len(expected)
    assert set(expect.own_compounds) <= set(expected)
    assert not set(expect.foreign_compounds) & set(expected)
