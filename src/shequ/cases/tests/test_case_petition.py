"""Linking a petition (信访件) on the same matter to a case (DOMAIN.md §5: one matter is not handled
twice): who may, what is recorded, how the flag shows, through the service, the API and the pages."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from shequ.accounts.models import Role
from shequ.accounts.tests.factories import login, user_with_role
from shequ.cases.models import Case
from shequ.cases.services_transitions import case_merge, case_petition_link, case_register
from shequ.cases.tests.factories import CaseWorld, case_world
from shequ.core.errors import ApiError
from shequ.core.events import events_for_subject
from shequ.core.models import Event

pytestmark = pytest.mark.django_db


@pytest.fixture
def world() -> CaseWorld:
    return case_world()


def linked_events(case: Case) -> list[Event]:
    return list(events_for_subject(case).filter(type="CASE_PETITION_LINKED"))


def refused(call: Any) -> ApiError:
    with pytest.raises(ApiError) as caught:
        call()
    return caught.value


def test_a_petition_officer_of_the_area_links_a_petition_and_the_case_is_flagged(world: CaseWorld) -> None:
    w = world
    officer = user_with_role(Role.PETITION_OFFICER, division=w.tree.street(1, 1))
    case = case_register(case=w.report(), actor=w.dispatcher)
    version = case.version

    case = case_petition_link(
        case=case, actor=officer, petition_ref=" XF-2026-000456 ", expected_version=version
    )

    assert (case.petition_ref, case.state, case.version) == ("XF-2026-000456", "registered", version + 1)
    (event,) = linked_events(case)
    assert event.actor_id == officer.pk
    assert event.data["petition"] == "XF-2026-000456"
    assert event.data["state"] == {"old": "registered", "new": "registered"}
    # The same number again changes nothing; another number replaces it, and the event says which.
    assert case_petition_link(case=case, actor=officer, petition_ref="XF-2026-000456").version == version + 1
    case = case_petition_link(case=case, actor=w.dispatcher, petition_ref="XF-2026-000789")
    assert [e.data.get("replaced") for e in linked_events(case)] == [None, "XF-2026-000456"]


def test_bad_numbers_outsiders_and_closed_cases_are_refused(world: CaseWorld) -> None:
    w = world
    case = w.report()
    assert refused(lambda: case_petition_link(case=case, actor=w.dispatcher, petition_ref=" ")).field == (
        "petition_ref"
    )
    bad = refused(lambda: case_petition_link(case=case, actor=w.dispatcher, petition_ref="XF 2026;drop"))
    assert (bad.field, bad.http_status) == ("petition_ref", 422)
    elsewhere = user_with_role(Role.PETITION_OFFICER, division=w.tree.street(2, 1))
    assert (
        refused(lambda: case_petition_link(case=case, actor=elsewhere, petition_ref="XF-1")).http_status
        == 403
    )
    assert (
        refused(lambda: case_petition_link(case=case, actor=w.handler, petition_ref="XF-1")).http_status
        == 403
    )
    stale = refused(
        lambda: case_petition_link(case=case, actor=w.dispatcher, petition_ref="XF-1", expected_version=0)
    )
    assert stale.http_status == 409
    master = w.report(description="同一处垃圾")
    case_merge(case=case, actor=w.dispatcher, master=master)
    assert refused(lambda: case_petition_link(case=case, actor=w.dispatcher, petition_ref="XF-1")).code == (
        "invalid_state"
    )
    assert linked_events(case) == []


def test_a_linked_petition_follows_a_merge(world: CaseWorld) -> None:
    w = world
    master = w.report()
    duplicate = case_petition_link(
        case=w.report(description="同一处垃圾"), actor=w.dispatcher, petition_ref="XF-9"
    )
    case_merge(case=duplicate, actor=w.dispatcher, master=master)
    master.refresh_from_db()
    assert master.petition_ref == "XF-9"


def _client(user: Any) -> Client:
    client = Client()
    login(client, user)  # signed in with the second factor staff need
    return client


def test_through_the_api_staff_see_the_link_and_the_resident_does_not(world: CaseWorld) -> None:
    w = world
    case = w.report()
    staff = _client(w.dispatcher)
    url = f"/api/v1/cases/{case.number}/transitions/link_petition"
    answer = staff.post(
        url,
        json.dumps({"petition_ref": "XF-2026-1", "version": case.version}),
        content_type="application/json",
    )
    assert answer.status_code == 200, answer.content
    assert answer.json()["petition_ref"] == "XF-2026-1"
    assert "link_petition" in answer.json()["transitions"]
    bad = staff.post(
        url, json.dumps({"petition_ref": "", "version": case.version + 1}), content_type="application/json"
    )
    assert bad.status_code == 422
    mine = _client(w.resident).get(f"/api/v1/cases/{case.number}")
    assert mine.status_code == 200
    assert mine.json()["petition_ref"] == ""
    assert "link_petition" not in mine.json()["transitions"]


def test_on_the_pages_the_button_links_and_the_flag_shows_to_staff(world: CaseWorld) -> None:
    w = world
    case = w.report()
    staff = _client(w.dispatcher)
    page = staff.get(f"/cases/{case.number}/")
    assert b'name="link_petition-petition_ref"' in page.content
    done = staff.post(
        f"/cases/{case.number}/do/link_petition/",
        {"link_petition-petition_ref": "XF-2026-2", "version": case.version},
    )
    assert done.status_code == 302
    case.refresh_from_db()
    assert case.petition_ref == "XF-2026-2"
    page = staff.get(f"/cases/{case.number}/")
    assert 'data-petition="XF-2026-2"' in page.content.decode()
    board = staff.get("/cases/dispatch/")
    assert "信访关联" in board.content.decode()
    resident_page = _client(w.resident).get(f"/cases/{case.number}/")
    assert "XF-2026-2" not in resident_page.content.decode()
