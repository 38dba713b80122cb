"""The in-app inbox: the page, the nav badge and the API, each showing a user only their own entries."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from shequ.accounts.models import Role
from shequ.accounts.tests.factories import UserFactory, login, small_tree, user_for_role_in_tree
from shequ.core.models import Notification
from shequ.core.navigation import nav_entries_for
from shequ.core.notifications import notify

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 11, 30, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.fixture
def owner():
    return UserFactory(email="owner@example.com")


@pytest.fixture
def other():
    return UserFactory()


def _entries(user, count, *, start=T0, **fields):
    rows = []
    for i in range(count):
        with time_machine.travel(start + timedelta(minutes=i), tick=False):
            rows.append(
                notify(
                    recipient=user,
                    channel="in_app",
                    kind="case.status",
                    title=fields.get("title", f"消息{i:02d}"),
                    body=fields.get("body", ""),
                    link=fields.get("link", ""),
                )
            )
    return rows


def _client(user):
    client = Client()
    login(client, user)
    return client


def _nav(body: str) -> str:
    start = body.index('<nav class="mainnav"')
    return body[start : body.index("</nav>", start)]


# --- The page --------------------------------------------------------------------------------


def test_signing_in_is_required():
    response = Client().get("/inbox/")

    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/inbox/"


def test_the_inbox_lists_my_entries_newest_first_with_the_unread_in_bold(owner, other):
    first, _second, _third = _entries(owner, 3)
    _entries(other, 1, title="别人的消息")
    Notification.objects.filter(pk=first.pk).update(read_at=T0)
    # An email row to the same user is an outbox row, not an inbox entry.
    Notification.objects.create(recipient=owner, channel="email", kind="k", title="邮件副本")

    body = _client(owner).get("/inbox/").content.decode()

    titles = re.findall(r'<p class="row-title">(.*?)</p>', body)
    assert titles == [
        '<strong><span class="visually-hidden">未读：</span>消息02</strong>',
        '<strong><span class="visually-hidden">未读：</span>消息01</strong>',
        "消息00",
    ]
    assert "别人的消息" not in body
    assert "邮件副本" not in body


def test_the_nav_shows_the_entry_and_loads_the_unread_count_for_every_signed_in_user():
    tree = small_tree()
    for role in (Role.RESIDENT, Role.COMMITTEE_WORKER, Role.DEPARTMENT_HANDLER, Role.CITY_ADMIN):
        user = user_for_role_in_tree(role, tree)
        _entries(user, 2)
        assert "core:inbox" in [entry.url_name for entry in nav_entries_for(user)]
        client = _client(user)

        nav = _nav(client.get("/").content.decode())
        badge = client.get("/inbox/badge/", headers={"HX-Request": "true"}).content.decode()

        assert 'href="/inbox/"' in nav
        assert '<span id="inbox-unread" hx-get="/inbox/badge/" hx-trigger="load" hx-swap="outerHTML">' in nav
        assert badge == (
            '<span id="inbox-unread" class="tag tag-warn"><span class="visually-hidden">未读</span>2</span>\n'
        )


def test_pages_pay_no_query_for_the_badge(owner):
    _entries(owner, 3)
    client = _client(owner)

    with CaptureQueriesContext(connection) as queries:
        client.get("/")

    assert not [q for q in queries if "core_notification" in q["sql"]]


def test_the_badge_is_hidden_without_unread_entries_and_capped(owner):
    client = _client(owner)
    assert 'id="inbox-unread" class="tag tag-warn" hidden' in client.get("/inbox/badge/").content.decode()

    Notification.objects.bulk_create(
        Notification(recipient=owner, channel="in_app", kind="k", title="t", state="sent") for _ in range(120)
    )

    assert (
        '<span class="visually-hidden">未读</span>99+</span>' in client.get("/inbox/badge/").content.decode()
    )


def test_the_badge_is_empty_when_signed_out():
    response = Client().get("/inbox/badge/", headers={"HX-Request": "true"})

    assert (response.status_code, response.content) == (204, b"")


def test_marking_one_read_with_htmx_swaps_the_entry_and_the_badge(owner):
    entry, _second = _entries(owner, 2, link="/cases/2026-0001/")
    client = _client(owner)

    response = client.post(f"/inbox/{entry.pk}/read/", headers={"HX-Request": "true"})

    assert response.status_code == 200
    html = response.content.decode()
    assert html.startswith(f'<li id="inbox-entry-{entry.pk}"')
    assert "<strong>" not in html
    assert "已读" in html
    assert 'id="inbox-unread" class="tag tag-warn" hx-swap-oob="true"' in html
    assert '<span class="visually-hidden">未读</span>1</span>' in html
    entry.refresh_from_db()
    assert entry.read_at is not None


def test_marking_one_read_without_htmx_goes_back_to_the_inbox(owner):
    [entry] = _entries(owner, 1)

    response = _client(owner).post(f"/inbox/{entry.pk}/read/")

    assert (response.status_code, response["Location"]) == (302, "/inbox/")
    entry.refresh_from_db()
    assert entry.read_at is not None


def test_marking_all_read(owner, other):
    _entries(owner, 3)
    [theirs] = _entries(other, 1)
    client = _client(owner)

    response = client.post("/inbox/read-all/", headers={"HX-Request": "true"})

    html = response.content.decode()
    assert html.startswith('<div id="inbox">')
    assert "<strong>" not in html
    assert "全部标为已读" not in html
    assert 'id="inbox-unread" class="tag tag-warn" hidden hx-swap-oob="true"' in html
    assert not Notification.objects.filter(recipient=owner, read_at__isnull=True).exists()
    theirs.refresh_from_db()
    assert theirs.read_at is None
    assert client.post("/inbox/read-all/")["Location"] == "/inbox/"


def test_opening_an_entry_marks_it_read_and_follows_its_link(owner):
    [entry] = _entries(owner, 1, link="/cases/2026-0001/")

    response = _client(owner).post(f"/inbox/{entry.pk}/open/")

    assert (response.status_code, response["Location"]) == (302, "/cases/2026-0001/")
    entry.refresh_from_db()
    assert entry.read_at is not None


def test_opening_never_redirects_off_the_site(owner):
    [entry] = _entries(owner, 1, link="https://evil.example.com/phish")

    response = _client(owner).post(f"/inbox/{entry.pk}/open/")

    assert response["Location"] == "/inbox/"


def test_someone_elses_entry_is_not_found(owner, other):
    [theirs] = _entries(other, 1)
    client = _client(owner)

    assert client.post(f"/inbox/{theirs.pk}/read/").status_code == 404
    assert client.post(f"/inbox/{theirs.pk}/open/").status_code == 404
    assert client.post("/inbox/999999/read/").status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_marking_read_is_a_post(owner):
    [entry] = _entries(owner, 1)

    assert _client(owner).get(f"/inbox/{entry.pk}/read/").status_code == 405


def test_the_pages_of_the_inbox(owner):
    _entries(owner, 35)
    client = _client(owner)

    first = client.get("/inbox/").content.decode()
    second = client.get("/inbox/?page=2", headers={"HX-Request": "true"}).content.decode()

    assert first.count('class="row inbox-entry"') == 30
    assert "第 1 / 2 页" in first
    assert second.startswith('<div id="inbox">')
    assert second.count('class="row inbox-entry"') == 5
    assert "消息00" in second


def test_the_inbox_page_costs_the_same_queries_however_many_entries(owner):
    client = _client(owner)
    _entries(owner, 2)
    client.get("/inbox/")
    with CaptureQueriesContext(connection) as few:
        client.get("/inbox/")
    _entries(owner, 25, start=T0 + timedelta(days=1))
    with CaptureQueriesContext(connection) as many:
        response = client.get("/inbox/")

    assert response.content.decode().count('class="row inbox-entry"') == 27
    assert len(many) == len(few)


# --- The API ---------------------------------------------------------------------------------


def test_the_api_lists_my_entries_paginated(owner, other):
    rows = _entries(owner, 5, body="详情", link="/cases/1/")
    _entries(other, 2)
    Notification.objects.filter(pk=rows[0].pk).update(read_at=T0)

    data = _client(owner).get("/api/v1/inbox", {"page_size": 2, "page": 2}).json()

    assert (data["count"], data["unread"], data["page"], data["page_size"]) == (5, 4, 2, 2)
    assert [item["title"] for item in data["items"]] == ["消息02", "消息01"]
    item = data["items"][0]
    assert item["id"] == rows[2].pk
    assert (item["body"], item["link"], item["kind"], item["unread"]) == (
        "详情",
        "/cases/1/",
        "case.status",
        True,
    )


def test_the_api_lists_unread_only_on_request(owner):
    rows = _entries(owner, 3)
    Notification.objects.filter(pk=rows[2].pk).update(read_at=T0)

    data = _client(owner).get("/api/v1/inbox", {"unread": "true"}).json()

    assert [item["id"] for item in data["items"]] == [rows[1].pk, rows[0].pk]


def test_the_api_list_costs_the_same_queries_whatever_the_page_size(owner):
    _entries(owner, 40)
    client = _client(owner)
    counts = []
    for size in (5, 40):
        with CaptureQueriesContext(connection) as queries:
            data = client.get("/api/v1/inbox", {"page_size": size}).json()
        assert len(data["items"]) == size
        counts.append(len(queries))

    assert counts[0] == counts[1]
    assert counts[0] <= 12


def test_the_api_marks_one_read(owner):
    [entry] = _entries(owner, 1)

    response = _client(owner).post(f"/api/v1/inbox/{entry.pk}/read")

    assert response.status_code == 200
    assert response.json()["unread"] is False
    assert response.json()["read_at"] is not None
    entry.refresh_from_db()
    assert entry.read_at is not None


def test_the_api_marks_all_read(owner):
    _entries(owner, 3)

    data = _client(owner).post("/api/v1/inbox/read-all").json()

    assert data == {"marked": 3, "unread": 0}


def test_the_api_answers_404_for_someone_elses_entry(owner, other):
    [theirs] = _entries(other, 1)

    response = _client(owner).post(f"/api/v1/inbox/{theirs.pk}/read")

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_the_api_needs_authentication(owner):
    [entry] = _entries(owner, 1)

    assert Client().get("/api/v1/inbox").status_code == 401
    assert Client().post(f"/api/v1/inbox/{entry.pk}/read").status_code == 401
