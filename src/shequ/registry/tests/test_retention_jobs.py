"""Retention: moved-out and deceased persons are archived after the archive period and purged after the
purge period, with an event per person that carries no personal data; the access log stays."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone

from shequ.accounts.models import OrganisationKind, Role
from shequ.accounts.tests.factories import organisation_create, small_tree, user_with_role
from shequ.core.models import AccessLog, Event
from shequ.core.privacy import reveal
from shequ.registry.models import (
    AttributeProvenance,
    BackflowRow,
    CorrectionRequest,
    Household,
    HouseholdMember,
    Person,
    PersonStatus,
    Relation,
    ResidentLink,
    Source,
    TagAssignment,
    TagDefinition,
)
from shequ.registry.services_backflow import backflow_publish
from shequ.registry.services_resident import correction_request_from_resident
from shequ.registry.services_retention import retention_archive, retention_purge
from shequ.registry.tasks_retention import registry_retention_task

from .test_resident_pages import make_id, person_in, resident_of

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
MOVED = datetime(2023, 1, 10, 9, 0, tzinfo=SHANGHAI)


@pytest.fixture
def tree():
    return small_tree()


@pytest.fixture
def moved_out(tree):
    return person_in(
        tree.compound(1, 1, 1),
        name="陈迁出",
        id_number=make_id("19600101", "021"),
        room="201",
        mobile="13600136000",
        status=PersonStatus.MOVED_OUT,
        status_changed_at=MOVED,
    )


@pytest.fixture
def living(tree):
    return person_in(
        tree.compound(1, 1, 1), name="林在住", id_number=make_id("19600101", "023"), status_changed_at=MOVED
    )


def test_archive_waits_for_the_archive_period(moved_out, living):
    before = MOVED + timedelta(days=364)
    assert retention_archive(now=before).archived == 0
    after = MOVED + timedelta(days=366)
    with time_machine.travel(after, tick=False):
        result = retention_archive(now=timezone.now())
    assert result.archived == 1
    moved_out.refresh_from_db()
    living.refresh_from_db()
    assert moved_out.archived_at == after
    assert living.archived_at is None
    event = Event.objects.get(type="PERSON_ARCHIVED")
    assert event.subject_id == str(moved_out.pk)
    assert "陈迁出" not in str(event.data)
    # Idempotent.
    assert retention_archive(now=after + timedelta(days=1)).archived == 0


def test_archive_period_is_a_setting(settings, moved_out):
    settings.SHEQU_RETENTION_ARCHIVE_DAYS = 30
    assert retention_archive(now=MOVED + timedelta(days=31)).archived == 1


def test_dry_run_changes_nothing(moved_out):
    result = retention_archive(now=MOVED + timedelta(days=400), dry_run=True)
    assert result.archived == 1
    moved_out.refresh_from_db()
    assert moved_out.archived_at is None
    assert not Event.objects.exists()


def test_purge_deletes_the_person_and_dependents_keeps_access_log_and_events(tree, moved_out, living):
    worker = user_with_role(Role.COMMITTEE_WORKER, division=tree.committee(1, 1, 1))
    household = Household.objects.create(
        house=moved_out.house, head=moved_out, street_code=moved_out.street_code, path=moved_out.path
    )
    HouseholdMember.objects.create(
        household=household, person=moved_out, relation=Relation.HEAD, street_code=moved_out.street_code
    )
    HouseholdMember.objects.create(
        household=household, person=living, relation=Relation.SPOUSE, street_code=moved_out.street_code
    )
    tag = TagDefinition.objects.create(code="civilised_family", name="文明家庭")
    TagAssignment.objects.create(
        person=moved_out, tag=tag, assigned_at=MOVED, path=moved_out.path, street_code=moved_out.street_code
    )
    AttributeProvenance.objects.create(
        person=moved_out, attribute="mobile", source=Source.SELF_REPORT, confirmed_at=MOVED
    )
    resident = resident_of(moved_out)
    correction_request_from_resident(
        person=moved_out, attribute="mobile", proposed_value="13900139000", reason="", actor=resident
    )
    reveal(actor=worker, subject=moved_out, fields=["mobile"], purpose="迁出核实")
    department = organisation_create(
        kind=OrganisationKind.DEPARTMENT, division=tree.district(1), sector="民政"
    )
    handler = user_with_role(Role.DEPARTMENT_HEAD, organisation=department)
    backflow_publish(
        publisher=department,
        name="名单",
        purpose="走访关爱老人",
        expires_at=timezone.now() + timedelta(days=3650),
        rows=[{"id_number": moved_out.id_number, "name": "陈迁出"}],
        actor=handler,
    )
    pk = moved_out.pk
    archived_on = MOVED + timedelta(days=366)
    retention_archive(now=archived_on)
    assert retention_purge(now=archived_on + timedelta(days=729)).purged == 0
    result = retention_purge(now=archived_on + timedelta(days=731))
    assert result.purged == 1
    assert not Person.objects.filter(pk=pk).exists()
    assert Person.objects.filter(pk=living.pk).exists()
    assert list(HouseholdMember.objects.values_list("person_id", flat=True)) == [living.pk]
    household.refresh_from_db()
    assert household.head_id is None
    assert not TagAssignment.objects.exists()
    assert not AttributeProvenance.objects.exists()
    assert not CorrectionRequest.objects.exists()
    assert not ResidentLink.objects.exists()
    assert BackflowRow.objects.get().person_id is None
    # The access log is a security log: kept.
    assert AccessLog.objects.filter(data_subject_id=str(pk)).count() == 1
    purged = Event.objects.get(type="PERSON_PURGED")
    assert purged.subject_id == str(pk)
    assert purged.data == {"person_id": pk, "street_code": "310101001000", "reason": "retention"}
    assert purged.scope_path == "310000000000/310101000000/310101001000/"
    # Idempotent.
    assert retention_purge(now=archived_on + timedelta(days=800)).purged == 0


def test_an_approved_deletion_is_purged_after_the_shorter_period(tree, living):
    from shequ.registry.services_resident import deletion_request_create, deletion_request_decide

    resident = resident_of(living)
    head = user_with_role(Role.COMMITTEE_HEAD, division=tree.committee(1, 1, 1))
    decided_at = datetime(2025, 3, 1, 10, 0, tzinfo=SHANGHAI)
    request = deletion_request_create(
        person=living, ground="purpose_fulfilled", explanation="", actor=resident
    )
    with time_machine.travel(decided_at, tick=False):
        deletion_request_decide(request=request, approve=True, note="", actor=head)
    assert retention_purge(now=decided_at + timedelta(days=29)).purged == 0
    assert retention_purge(now=decided_at + timedelta(days=31)).purged == 1
    assert Event.objects.get(type="PERSON_PURGED").data["reason"] == "deletion_request"


def test_command_and_task(moved_out, capsys):
    with time_machine.travel(MOVED + timedelta(days=400), tick=False):
        call_command("registry_retention", "--archive", "--purge", "--dry-run")
        moved_out.refresh_from_db()
        assert moved_out.archived_at is None
        call_command("registry_retention", "--archive")
        moved_out.refresh_from_db()
        assert moved_out.archived_at is not None
    with time_machine.travel(MOVED + timedelta(days=400 + 731), tick=False):
        result = registry_retention_task.enqueue().return_value
    assert result == {"archived": 0, "purged": 1}
    assert not Person.objects.filter(pk=moved_out.pk).exists()
