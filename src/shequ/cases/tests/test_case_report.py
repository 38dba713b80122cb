"""Intake (``services_intake.case_report``): numbering, validation, idempotent source references and
what the intake event keeps for the dispatcher."""

from __future__ import annotations

import re

import pytest

from shequ.cases.models import Case, CaseState, Channel
from shequ.cases.tests.factories import CaseWorld, case_world
from shequ.core.errors import ApiError
from shequ.core.models import Deadline, Event

pytestmark = pytest.mark.django_db


@pytest.fixture
def world() -> CaseWorld:
    return case_world()


def test_a_report_gets_a_tracking_number_a_timer_and_one_event(world: CaseWorld) -> None:
    first = world.report()
    second = world.report(description="路灯不亮")
    assert re.fullmatch(r"SQ\d{8}\d{6}", first.number)
    assert int(second.number[-6:]) == int(first.number[-6:]) + 1
    assert first.state == CaseState.REPORTED
    assert first.street == world.tree.street(1, 1)
    assert first.committee == world.tree.committee(1, 1, 1)
    assert first.path == world.tree.committee(1, 1, 1).path
    events = Event.objects.filter(subject_type="cases.case", subject_id=str(first.pk))
    # The case's own event and the registration timer's start (the timer writes on the same subject).
    assert sorted(e.type for e in events) == ["CASE_REPORTED", "DEADLINE_STARTED"]
    assert Deadline.objects.filter(
        subject_id=str(first.pk), kind="case_registration", state="running"
    ).exists()


def test_the_intake_event_keeps_the_route_and_the_possible_duplicates(world: CaseWorld) -> None:
    existing = world.report(description="小区门口垃圾堆放很久了没人清理")
    # No coordinates: the new report is matched within its compound by text.
    new = world.report(description="小区门口有一堆垃圾没人清理")
    data = Event.objects.get(subject_type="cases.case", subject_id=str(new.pk), type="CASE_REPORTED").data
    assert data["possible_duplicates"] == [existing.number]
    assert data["suggested_handler"] == f"org:{world.branch.pk}"
    assert new.route_note


def test_the_same_source_reference_gives_back_the_same_case(world: CaseWorld) -> None:
    first = world.report(channel=Channel.HOTLINE, source_ref="12345-0001", actor=None)
    again = world.report(channel=Channel.HOTLINE, source_ref="12345-0001", actor=None)
    assert again.pk == first.pk
    assert Case.objects.count() == 1
    # Another channel may use the same reference.
    other = world.report(channel=Channel.API, source_ref="12345-0001")
    assert other.pk != first.pk


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"description": "  "}, "description"),
        ({"description": "字" * 4001}, "description"),
        ({"contact_phone": "12345"}, "contact_phone"),
        ({"contact_email": "not-an-address"}, "contact_email"),
        ({"channel": "pigeon"}, "channel"),
        ({"place": None}, "location"),
        ({"place": None, "lon": 121.47}, "lat"),
    ],
)
def test_bad_input_is_refused_naming_the_field_and_nothing_is_written(
    world: CaseWorld, kwargs: dict, field: str
) -> None:
    with pytest.raises(ApiError) as refused:
        world.report(**kwargs)
    assert refused.value.field == field
    assert refused.value.http_status == 422
    assert not Case.objects.exists()
    assert not Event.objects.filter(subject_type="cases.case").exists()


def test_counter_registration_is_registered_at_once_and_keeps_the_worker(world: CaseWorld) -> None:
    case = world.report(
        actor=world.committee_worker, channel=Channel.COUNTER, register=True, contact_phone="13900001111"
    )
    assert case.state == CaseState.REGISTERED
    assert case.registered_by == world.committee_worker
    assert case.reporter is None
    # The resident who came to the counter follows the case by phone.
    assert case.subscriptions.filter(phone="13900001111", is_reporter=True).exists()
