"""Person and household services: provenance decides whether an edit applies or becomes a correction
request to the owning source; validation names the field; households keep one head."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError

from shequ.accounts.models import OrganisationKind, Role
from shequ.accounts.tests.factories import organisation_create, user_for_role_in_tree, user_with_role
from shequ.core.events import events_for_subject
from shequ.registry.models import (
    AttributeProvenance,
    CorrectionOrigin,
    CorrectionRequest,
    HouseholdMember,
    Person,
    PersonStatus,
    Relation,
    RequestStatus,
    Source,
)
from shequ.registry.services_people import (
    CORRECTION_ACCEPTED,
    CORRECTION_REQUESTED,
    PERSON_UPDATED,
    correction_request_decide,
    household_create,
    household_head_set,
    household_member_add,
    household_member_remove,
    person_confirm_attribute,
    person_create,
    person_update,
)

from .test_people_world import World, build_world, make_id

pytestmark = pytest.mark.django_db


@pytest.fixture
def world() -> World:
    return build_world()


NOW = datetime(2025, 6, 16, 2, 30, tzinfo=UTC)


@pytest.fixture
def worker(world):
    return user_for_role_in_tree(Role.COMMITTEE_WORKER, world.tree)


def police_handler(world):
    """A handler of the district's public-security branch (decides 公安 corrections)."""
    branch = organisation_create(
        kind=OrganisationKind.DEPARTMENT_BRANCH, division=world.tree.district(1), sector="公安"
    )
    return user_with_role(Role.DEPARTMENT_HANDLER, organisation=branch)


def test_a_committee_edit_of_a_police_owned_attribute_becomes_a_correction_request(world, worker):
    result = person_update(person=world.elder, changes={"name": "张三峰"}, actor=worker, reason="户口本为峰")
    world.elder.refresh_from_db()
    assert world.elder.name == "张三丰"
    assert result.changed == {}
    [request] = result.corrections
    assert (request.attribute, request.current_value, request.proposed_value) == ("name", "张三丰", "张三峰")
    assert request.routed_to == Source.PUBLIC_SECURITY
    assert request.origin == CorrectionOrigin.COMMITTEE_EDIT
    assert request.status == RequestStatus.PENDING
    assert request.path == world.elder.path
    assert request.requested_by == worker
    assert [e.type for e in events_for_subject(request)] == [CORRECTION_REQUESTED]
    assert not events_for_subject(world.elder).filter(type=PERSON_UPDATED).exists()


def test_a_second_edit_updates_the_pending_request(world, worker):
    person_update(person=world.elder, changes={"name": "张三峰"}, actor=worker)
    second = person_update(person=world.elder, changes={"name": "张三锋"}, actor=worker)
    request = CorrectionRequest.objects.get()
    assert second.corrections == [request]
    assert request.proposed_value == "张三锋"


def test_an_edit_with_a_pending_resident_request_is_refused_naming_the_field(world, worker):
    CorrectionRequest.objects.create(
        person=world.elder,
        attribute="name",
        current_value="张三丰",
        proposed_value="张山丰",
        origin=CorrectionOrigin.RESIDENT,
        routed_to=Source.PUBLIC_SECURITY,
        requested_by=worker,
        path=world.elder.path,
        street_code=world.elder.street_code,
    )
    with pytest.raises(ValidationError) as error:
        person_update(person=world.elder, changes={"name": "张三峰"}, actor=worker)
    assert "name" in error.value.message_dict


def test_an_edit_of_a_committee_attribute_applies_with_provenance_and_an_event(world, worker):
    with time_machine.travel(NOW, tick=False):
        result = person_update(
            person=world.elder, changes={"mobile": "139-0000-1234", "sex": "male"}, actor=worker
        )
    world.elder.refresh_from_db()
    assert world.elder.mobile == "13900001234"
    assert result.changed == {"mobile": {"old": "13800138000", "new": "13900001234"}}
    provenance = AttributeProvenance.objects.get(person=world.elder, attribute="mobile")
    assert (provenance.source, provenance.confirmed_at, provenance.confirmed_by) == (
        Source.COMMITTEE,
        NOW,
        worker,
    )
    # An attribute without provenance gets one when it changes; an unchanged one is left alone.
    assert not AttributeProvenance.objects.filter(person=world.elder, attribute="sex").exists()
    [event] = events_for_subject(world.elder).filter(type=PERSON_UPDATED)
    # Event rows outlive purges: personal values are kept masked in them.
    assert event.data["changes"] == {"mobile": {"old": "138****8000", "new": "139****1234"}}
    assert event.actor == worker


def test_the_owning_source_itself_applies_its_attribute(world, worker):
    result = person_update(
        person=world.elder, changes={"name": "张三峰"}, actor=worker, source=Source.PUBLIC_SECURITY
    )
    world.elder.refresh_from_db()
    assert world.elder.name == "张三峰"
    assert result.corrections == []


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"id_number": "310101194506150011"}, "id_number"),  # bad checksum
        ({"id_number": "310101194513150012"}, "id_number"),  # month 13
        ({"mobile": "12345678901"}, "mobile"),
        ({"birth_date": "2999-01-01"}, "birth_date"),
        ({"status": "vanished"}, "status"),
        ({"name": "  "}, "name"),
        ({"path": "/"}, "path"),
    ],
)
def test_invalid_values_are_refused_naming_the_field(world, worker, changes, field):
    with pytest.raises(ValidationError) as error:
        person_update(person=world.head, changes=changes, actor=worker)
    assert field in error.value.message_dict
    world.head.refresh_from_db()
    assert world.head.mobile == "13912345678"


def test_an_id_number_held_by_someone_else_is_refused(world, worker):
    with pytest.raises(ValidationError) as error:
        person_update(person=world.head, changes={"id_number": world.spouse.id_number}, actor=worker)
    assert "id_number" in error.value.message_dict


def test_status_change_starts_the_retention_clock(world, worker):
    with time_machine.travel(NOW, tick=False):
        person_update(person=world.spouse, changes={"status": PersonStatus.MOVED_OUT}, actor=worker)
    world.spouse.refresh_from_db()
    assert (world.spouse.status, world.spouse.status_changed_at) == (PersonStatus.MOVED_OUT, NOW)


def test_roles_without_the_edit_rule_are_refused(world):
    officer = user_for_role_in_tree(Role.STREET_OFFICER, world.tree)
    with pytest.raises(PermissionDenied):
        person_update(person=world.head, changes={"mobile": "13900001234"}, actor=officer)


def test_confirming_an_attribute_refreshes_its_confirmation(world, worker):
    with time_machine.travel(NOW, tick=False):
        provenance = person_confirm_attribute(person=world.elder, attribute="name", actor=worker)
    assert (provenance.source, provenance.confirmed_at) == (Source.PUBLIC_SECURITY, NOW)


def test_the_source_department_accepts_a_correction_and_the_value_applies(world, worker):
    [request] = person_update(person=world.elder, changes={"name": "张三峰"}, actor=worker).corrections
    with pytest.raises(PermissionDenied):  # the committee does not decide for 公安
        correction_request_decide(request=request, accept=True, note="", actor=worker)
    handler = police_handler(world)
    with time_machine.travel(NOW, tick=False):
        decided = correction_request_decide(request=request, accept=True, note="已核实", actor=handler)
    world.elder.refresh_from_db()
    assert world.elder.name == "张三峰"
    assert (decided.status, decided.decided_by, decided.decided_at) == (RequestStatus.ACCEPTED, handler, NOW)
    provenance = AttributeProvenance.objects.get(person=world.elder, attribute="name")
    assert (provenance.source, provenance.confirmed_at) == (Source.PUBLIC_SECURITY, NOW)
    assert {e.type for e in events_for_subject(decided)} == {CORRECTION_REQUESTED, CORRECTION_ACCEPTED}
    with pytest.raises(ValidationError):
        correction_request_decide(request=request, accept=False, note="", actor=handler)


def test_a_rejected_correction_leaves_the_value(world, worker):
    [request] = person_update(person=world.elder, changes={"name": "张三峰"}, actor=worker).corrections
    correction_request_decide(request=request, accept=False, note="与户籍不符", actor=police_handler(world))
    world.elder.refresh_from_db()
    assert world.elder.name == "张三丰"
    request.refresh_from_db()
    assert (request.status, request.decision_note) == (RequestStatus.REJECTED, "与户籍不符")


def test_the_committee_decides_a_residents_request_for_its_own_attribute(world, worker):
    request = CorrectionRequest.objects.create(
        person=world.head,
        attribute="mobile",
        current_value=world.head.mobile,
        proposed_value="13911112222",
        origin=CorrectionOrigin.RESIDENT,
        routed_to=Source.COMMITTEE,
        requested_by=worker,
        path=world.head.path,
        street_code=world.head.street_code,
    )
    correction_request_decide(request=request, accept=True, note="", actor=worker)
    world.head.refresh_from_db()
    assert world.head.mobile == "13911112222"


def test_person_create_records_provenance_and_place(world, worker):
    person = person_create(
        actor=worker,
        name="周九九",
        house=world.rented,
        id_number=make_id("310101", date(2001, 5, 5), "052"),
        birth_date=date(2001, 5, 5),
        source=Source.SELF_REPORT,
    )
    assert (person.path, person.street_code) == (
        world.rented.building.compound.path,
        world.tree.street(1, 1).code,
    )
    assert set(AttributeProvenance.objects.filter(person=person).values_list("attribute", "source")) == {
        ("name", Source.SELF_REPORT),
        ("id_number", Source.SELF_REPORT),
        ("birth_date", Source.SELF_REPORT),
        ("house", Source.SELF_REPORT),
    }


def test_households_keep_exactly_one_head(world, worker):
    newcomer = Person.objects.create(
        name="吴十", street_code=world.head.street_code, path=world.head.path, house=world.rented
    )
    household = household_create(house=world.rented, actor=worker, head=newcomer)
    assert household.head == newcomer
    household_member_add(household=world.couple, person=newcomer, relation=Relation.SIBLING, actor=worker)
    with pytest.raises(ValidationError) as error:
        household_member_add(household=household, person=world.spouse, relation=Relation.HEAD, actor=worker)
    assert "relation" in error.value.message_dict
    household_head_set(
        household=world.couple, person=world.spouse, actor=worker, former_head_relation=Relation.SPOUSE
    )
    relations = dict(
        HouseholdMember.objects.filter(household=world.couple).values_list("person__name", "relation")
    )
    assert relations == {"李四海": "spouse", "王五娘": "head", "吴十": "sibling"}
    household_member_remove(household=world.couple, person=world.spouse, actor=worker)
    world.couple.refresh_from_db()
    assert world.couple.head is None
