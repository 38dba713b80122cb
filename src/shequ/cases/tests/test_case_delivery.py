"""Delivery to external systems, kept apart from the case's state: a hotline ticket opens a pending
delivery; the hotline reports sent / acknowledged / failed through the API; each change is an event."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from shequ.accounts.tests.factories import login
from shequ.cases.models import CaseDelivery, Channel, ExternalDeliveryState, ExternalSystem
from shequ.cases.services_delivery import case_delivery_mark
from shequ.cases.tests.factories import CaseWorld, case_world
from shequ.core.errors import ApiError
from shequ.core.models import Event

pytestmark = pytest.mark.django_db


@pytest.fixture
def world() -> CaseWorld:
    return case_world()


def _ticket(world: CaseWorld, ref: str = "12345-2026-0001"):
    return world.report(actor=None, channel=Channel.HOTLINE, source_ref=ref)


def test_a_hotline_ticket_opens_a_pending_delivery_apart_from_the_state(world: CaseWorld) -> None:
    case = _ticket(world)
    delivery = CaseDelivery.objects.get(case=case)
    assert (delivery.system, delivery.external_id, delivery.state) == (
        ExternalSystem.HOTLINE,
        "12345-2026-0001",
        ExternalDeliveryState.PENDING,
    )
    # A resident's own report has nobody outside to tell.
    assert not CaseDelivery.objects.filter(case=world.report()).exists()


def test_the_delivery_moves_sent_then_acknowledged_with_one_event_each(world: CaseWorld) -> None:
    case = _ticket(world)
    case_delivery_mark(case=case, system="hotline_12345", state="sent", actor=world.dispatcher)
    case_delivery_mark(case=case, system="hotline_12345", state="acknowledged", actor=world.dispatcher)
    assert CaseDelivery.objects.get(case=case).state == ExternalDeliveryState.ACKNOWLEDGED
    changes = [
        e.data["delivery"]
        for e in Event.objects.filter(subject_id=str(case.pk), type="CASE_DELIVERY_UPDATED").order_by("pk")
    ]
    assert changes == [{"old": "pending", "new": "sent"}, {"old": "sent", "new": "acknowledged"}]
    case.refresh_from_db()
    assert case.state == "reported"  # the case's own state is untouched


def test_refused_delivery_changes(world: CaseWorld) -> None:
    case = _ticket(world)
    with pytest.raises(ApiError) as no_reason:
        case_delivery_mark(case=case, system="hotline_12345", state="failed", actor=world.dispatcher)
    assert no_reason.value.field == "error"
    case_delivery_mark(case=case, system="hotline_12345", state="acknowledged", actor=world.dispatcher)
    with pytest.raises(ApiError) as backwards:
        case_delivery_mark(case=case, system="hotline_12345", state="sent", actor=world.dispatcher)
    assert backwards.value.http_status == 409
    with pytest.raises(ApiError) as unknown:
        case_delivery_mark(case=case, system="fax", state="sent", actor=world.dispatcher)
    assert unknown.value.field == "system"


def test_the_api_takes_reports_from_the_area_and_shows_deliveries_to_staff(world: CaseWorld) -> None:
    case = _ticket(world)
    dispatcher = Client()
    login(dispatcher, world.dispatcher)
    url = f"/api/v1/cases/{case.number}/deliveries/hotline_12345"
    failed = dispatcher.post(
        url, json.dumps({"state": "failed", "error": "对方接口超时"}), content_type="application/json"
    )
    assert failed.status_code == 200, failed.content
    assert failed.json()["state"] == "failed"
    detail = dispatcher.get(f"/api/v1/cases/{case.number}").json()
    assert detail["deliveries"][0]["state"] == "failed"
    assert detail["deliveries"][0]["last_error"] == "对方接口超时"

    # A dispatcher of another district cannot see the case at all: the same 404 as a missing one.
    other = Client()
    login(other, world.other_dispatcher)
    assert other.post(url, json.dumps({"state": "sent"}), content_type="application/json").status_code == 404
