"""A committee worker links a resident's account to the resident's record after checking identity."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from shequ.accounts.models import Role
from shequ.accounts.tests.factories import small_tree, user_with_role
from shequ.core.events import events_for_subject
from shequ.registry.models import ResidentLink
from shequ.registry.services_resident import resident_link_create

from .test_resident_pages import client_for, make_id, person_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def tree():
    return small_tree()


@pytest.fixture
def person(tree):
    return person_in(tree.compound(1, 1, 1), name="孙大圣", id_number=make_id("19700101", "005"))


@pytest.fixture
def worker(tree):
    return user_with_role(Role.COMMITTEE_WORKER, division=tree.committee(1, 1, 1))


def test_worker_links_a_resident_of_the_committee(tree, person, worker):
    account = user_with_role(Role.RESIDENT, division=tree.committee(1, 1, 1), username="sun")
    link = resident_link_create(user=account, person=person, actor=worker)
    assert link.verified_by == worker
    event = events_for_subject(person).get()
    assert event.type == "RESIDENT_LINKED"
    assert event.data == {"user_id": account.pk}
    with pytest.raises(ValidationError):
        resident_link_create(user=account, person=person, actor=worker)


def test_an_account_of_another_committee_cannot_be_linked(tree, person, worker):
    elsewhere = user_with_role(Role.RESIDENT, division=tree.committee(1, 1, 2))
    with pytest.raises(ValidationError):
        resident_link_create(user=elsewhere, person=person, actor=worker)
    assert not ResidentLink.objects.exists()


def test_only_editors_may_link(tree, person):
    account = user_with_role(Role.RESIDENT, division=tree.committee(1, 1, 1))
    officer = user_with_role(Role.STREET_OFFICER, division=tree.street(1, 1))
    with pytest.raises(PermissionDenied):
        resident_link_create(user=account, person=person, actor=officer)


def test_link_page_and_api(tree, person, worker):
    user_with_role(Role.RESIDENT, division=tree.committee(1, 1, 1), username="sun")
    client = client_for(worker)
    url = reverse("registry:person_link_resident", args=[person.pk])
    assert client.get(url).status_code == 200
    refused = client.post(url, {"username": "sun"})  # identity check not confirmed
    assert refused.status_code == 200
    assert not ResidentLink.objects.exists()
    response = client.post(url, {"username": "sun", "verified": "on"})
    assert response.status_code == 302
    assert ResidentLink.objects.get().person == person
    other = person_in(tree.compound(1, 1, 1), name="猪八戒", id_number=make_id("19700101", "007"))
    user_with_role(Role.RESIDENT, division=tree.committee(1, 1, 1), username="zhu")
    api = client.post(
        f"/api/v1/registry/persons/{other.pk}/resident-link",
        {"username": "zhu"},
        content_type="application/json",
    )
    assert api.status_code == 201
    unknown = client.post(
        f"/api/v1/registry/persons/{other.pk}/resident-link",
        {"username": "nobody"},
        content_type="application/json",
    )
    assert unknown.status_code == 422


def test_another_committees_person_is_404(tree, worker):
    foreign = person_in(tree.compound(1, 1, 2), name="沙和尚", id_number=make_id("19700101", "009"))
    client = client_for(worker)
    assert client.get(reverse("registry:person_link_resident", args=[foreign.pk])).status_code == 404
    response = client.post(
        f"/api/v1/registry/persons/{foreign.pk}/resident-link",
        {"username": "x"},
        content_type="application/json",
    )
    assert response.status_code == 404
