"""Masking holds for every role: no page or API answer of the committee worker's registry carries a clear
name, ID number, mobile number or registered address unless it was revealed (DOMAIN.md §4, §14)."""

from __future__ import annotations

import pytest
from django.test import Client

from shequ.accounts.models import Role
from shequ.accounts.tests.factories import login, user_for_role_in_tree
from shequ.registry.models import Person

from .test_people_world import World, build_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def world() -> World:
    return build_world()


def _urls(world: World) -> list[str]:
    elder = world.elder
    return [
        "/registry/",
        "/registry/?text=" + elder.mobile,
        "/registry/?text=" + elder.id_number,
        f"/registry/persons/{elder.pk}/",
        f"/registry/persons/{elder.pk}/edit/",
        f"/registry/households/{world.alone.pk}/",
        f"/registry/houses/{world.owned.pk}/",
        "/registry/corrections/?status=",
        "/api/v1/registry/persons",
        f"/api/v1/registry/persons?text={elder.mobile}",
        f"/api/v1/registry/persons/{elder.pk}",
        f"/api/v1/registry/households/{world.alone.pk}",
        f"/api/v1/registry/houses/{world.owned.pk}",
        "/api/v1/registry/corrections?status=",
    ]


def _clear_values(person: Person) -> list[str]:
    return [person.name, person.id_number, person.mobile, person.registered_address]


@pytest.mark.parametrize("role", list(Role))
def test_no_role_sees_clear_personal_data_without_a_reveal(world, role):
    # A pending correction carries clear values too: it must be masked as well.
    from shequ.registry.services_people import person_update

    committee_worker = user_for_role_in_tree(Role.COMMITTEE_WORKER, world.tree)
    person_update(person=world.elder, changes={"name": "张三峰"}, actor=committee_worker)
    client = Client()
    login(client, user_for_role_in_tree(role, world.tree))
    clear = [*_clear_values(world.elder), "张三峰"]
    seen_elder = False
    for url in _urls(world):
        response = client.get(url)
        assert response.status_code in (200, 403, 404), url
        content = response.content.decode()
        # A search echoes the user's own query (the search box): only that value may appear.
        for value in (v for v in clear if v not in url):
            assert value not in content, f"{role}: {url} shows {value}"
        seen_elder = seen_elder or ("张**" in content)
    # The roles that view the registry see the person, masked; the others see nothing of them.
    viewers = {
        Role.COMMITTEE_WORKER,
        Role.COMMITTEE_HEAD,
        Role.GRID_WORKER,
        Role.STREET_OFFICER,
        Role.DISTRICT_OFFICER,
        Role.CIVIL_AFFAIRS_OFFICER,
        Role.CITY_ADMIN,
    }
    assert seen_elder == (role in viewers)
