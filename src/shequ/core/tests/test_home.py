"""The home page: each user sees their posts (membership nodes) and what their roles let them do."""

from __future__ import annotations

import pytest
from django.test import Client

from shequ.accounts.models import Role
from shequ.accounts.tests.factories import (
    UserFactory,
    login,
    membership_create,
    small_tree,
    user_for_role_in_tree,
)
from shequ.core.views import ROLE_ACTIONS

pytestmark = pytest.mark.django_db


@pytest.fixture
def tree():
    return small_tree()


def _home(role, tree):
    client = Client()
    user = user_for_role_in_tree(role, tree)
    login(client, user)
    return client.get("/"), user


def test_anonymous_visitor_is_sent_to_sign_in():
    response = Client().get("/")

    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/"


def test_every_role_has_something_to_do():
    assert set(ROLE_ACTIONS) == set(Role.values)
    assert all(ROLE_ACTIONS[role] for role in Role.values)


@pytest.mark.parametrize("role", list(Role.values))
def test_home_lists_the_role_and_its_actions(role, tree):
    response, _ = _home(role, tree)

    assert response.status_code == 200
    body = response.content.decode()
    assert str(Role(role).label) in body
    for action in ROLE_ACTIONS[role]:
        assert str(action.title) in body


def test_committee_worker_sees_their_committee(tree):
    response, _ = _home(Role.COMMITTEE_WORKER, tree)

    body = response.content.decode()
    committee = tree.committee(1, 1, 1)
    assert committee.name in body
    assert f'href="/places/{committee.code}/"' in body
    assert 'href="/places/"' in body  # the browser is in the navigation


def test_street_officer_sees_their_street(tree):
    response, _ = _home(Role.STREET_OFFICER, tree)

    assert f'href="/places/{tree.street(1, 1).code}/"' in response.content.decode()


def test_city_admin_sees_the_city_and_the_api_documentation(tree):
    response, _ = _home(Role.CITY_ADMIN, tree)

    body = response.content.decode()
    assert f'href="/places/{tree.city.code}/"' in body
    assert 'href="/api/v1/docs"' in body


def test_grid_worker_sees_the_grid_linked_to_its_committee(tree):
    response, _ = _home(Role.GRID_WORKER, tree)

    body = response.content.decode()
    assert "第一网格" in body
    assert f'href="/places/{tree.committee(1, 1, 1).code}/"' in body


def test_holder_of_two_posts_sees_both(tree):
    client = Client()
    user = user_for_role_in_tree(Role.COMMITTEE_WORKER, tree)
    membership_create(user=user, role=Role.VOLUNTEER, division=tree.committee(1, 1, 2))
    login(client, user)

    body = client.get("/").content.decode()

    assert tree.committee(1, 1, 1).name in body
    assert tree.committee(1, 1, 2).name in body
    assert str(Role.VOLUNTEER.label) in body
    # The sections follow the order of the roles, not of the memberships.
    assert body.index(str(Role.COMMITTEE_WORKER.label)) < body.index(str(Role.VOLUNTEER.label))


def test_user_without_posts_is_told_to_ask_for_one():
    client = Client()
    login(client, UserFactory())

    body = client.get("/").content.decode()

    assert "尚未分配岗位" in body
    assert 'href="/places/"' not in body


def test_layout_has_skip_link_language_switch_and_sign_out(tree):
    response, _ = _home(Role.COMMITTEE_WORKER, tree)

    body = response.content.decode()
    assert '<a class="skip-link" href="#main">' in body
    assert '<main id="main"' in body
    assert 'action="/i18n/setlang/"' in body
    assert 'name="language" value="en"' in body
    assert 'action="/accounts/logout/"' in body
    assert "django_htmx/htmx-2.min.js" in body
    assert '<html lang="zh-hans">' in body


def _nav(body: str) -> str:
    start = body.index('<nav class="mainnav"')
    return body[start : body.index("</nav>", start)]


def test_navigation_follows_the_roles(tree):
    resident, _ = _home(Role.RESIDENT, tree)
    worker, _ = _home(Role.COMMITTEE_WORKER, tree)
    admin, _ = _home(Role.CITY_ADMIN, tree)

    resident_nav, worker_nav, admin_nav = (_nav(r.content.decode()) for r in (resident, worker, admin))
    assert 'href="/places/"' in resident_nav
    assert 'href="/accounts/organisations/"' not in resident_nav
    assert 'href="/accounts/organisations/"' in worker_nav
    assert 'href="/calendar/"' not in worker_nav
    assert 'href="/calendar/"' in admin_nav
    assert 'aria-current="page"' in worker_nav


def test_home_links_to_the_account_pages(tree):
    response, _ = _home(Role.COMMITTEE_WORKER, tree)

    body = response.content.decode()
    assert 'href="/accounts/password/"' in body
    assert 'href="/accounts/tokens/"' in body
