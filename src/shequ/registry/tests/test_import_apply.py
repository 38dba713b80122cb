"""Applying a validated ledger: all or nothing, merge by ID in place, re-import changes nothing."""

from __future__ import annotations

import pytest

from shequ.core.models import Event
from shequ.registry.models import (
    AttributeProvenance,
    CorrectionRequest,
    Household,
    HouseholdMember,
    ImportStatus,
    Person,
    RowAction,
    Source,
    TagAssignment,
)

from .test_import_support import BABY, LI, WANG, ZHANG, World, household, ledger_csv, row, run_import, upload

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(db) -> World:
    return World()


def _table_counts() -> dict[str, int]:
    return {
        "persons": Person.objects.count(),
        "households": Household.objects.count(),
        "members": HouseholdMember.objects.count(),
        "tags": TagAssignment.objects.count(),
        "provenance": AttributeProvenance.objects.count(),
        "corrections": CorrectionRequest.objects.count(),
    }


def test_a_new_household_is_created_with_its_members_tags_and_provenance(world):
    job = run_import(world, household())

    assert job.status == ImportStatus.IMPORTED
    assert job.counts["new"] == 3
    head = Person.objects.get(id_number=ZHANG)
    assert head.name == "张建国"
    assert head.house == world.house
    assert head.sex == "male"
    assert head.birth_date.isoformat() == "1950-03-04"
    assert head.path == world.compound.path
    assert head.street_code == world.tree.street(1, 1).code
    family = Household.objects.get()
    assert family.head == head
    assert family.house == world.house
    assert dict(family.members.values_list("person__id_number", "relation")) == {
        ZHANG: "head",
        LI: "spouse",
        WANG: "child",
    }
    assert list(TagAssignment.objects.values_list("person__id_number", "tag__code")) == [
        (ZHANG, "living_alone")
    ]
    assert AttributeProvenance.objects.filter(
        person=head, source=Source.COMMITTEE, attribute="mobile"
    ).exists()
    assert Event.objects.filter(type="REGISTRY_IMPORT_APPLIED", subject_id=str(job.pk)).count() == 1
    assert Event.objects.filter(type="REGISTRY_PERSON_IMPORTED").count() == 3


def test_reimporting_the_same_file_changes_nothing(world):
    run_import(world, household())
    before = _table_counts()
    persons = list(Person.objects.order_by("pk").values())
    events = Event.objects.count()

    job = run_import(world, household())

    assert job.status == ImportStatus.IMPORTED
    assert job.counts == {"new": 0, "changed": 0, "unchanged": 3, "error": 0, "corrections": 0}
    assert _table_counts() == before
    assert list(Person.objects.order_by("pk").values()) == persons
    # Only the job's own events: uploaded, validated, confirmed, applied.
    assert Event.objects.count() == events + 4


def test_a_person_with_the_same_id_is_updated_in_place(world):
    run_import(world, household())
    head = Person.objects.get(id_number=ZHANG)

    job = run_import(world, [row(mobile="13700137000", registered_address="上海市黄浦区云南中路1号")])

    assert job.counts["changed"] == 1
    head.refresh_from_db()
    assert Person.objects.filter(id_number=ZHANG).count() == 1
    assert head.mobile == "13700137000"
    assert head.registered_address == "上海市黄浦区云南中路1号"
    preview = job.rows.get()
    assert preview.action == RowAction.CHANGED
    assert preview.changes["mobile"] == {"old": "13800138000", "new": "13700137000"}
    update = Event.objects.get(type="REGISTRY_PERSON_IMPORT_UPDATED")
    assert update.data["changes"]["mobile"] == {"old": "138****8000", "new": "137****7000"}


def test_a_source_owned_attribute_becomes_a_correction_request(world):
    run_import(world, household())
    head = Person.objects.get(id_number=ZHANG)
    AttributeProvenance.objects.filter(person=head, attribute="registered_address").delete()
    AttributeProvenance.objects.create(
        person=head,
        attribute="registered_address",
        source=Source.PUBLIC_SECURITY,
        confirmed_at=head.created_at,
    )

    job = run_import(world, [row(registered_address="上海市黄浦区贵州路2号")])

    head.refresh_from_db()
    assert head.registered_address == ""
    request = CorrectionRequest.objects.get()
    assert (request.attribute, request.proposed_value, request.routed_to, request.origin) == (
        "registered_address",
        "上海市黄浦区贵州路2号",
        Source.PUBLIC_SECURITY,
        "committee_edit",
    )
    assert job.rows.get().changes["registered_address"]["correction"] == Source.PUBLIC_SECURITY
    assert job.counts["corrections"] == 1
    # Importing the same file again asks nothing new.
    again = run_import(world, [row(registered_address="上海市黄浦区贵州路2号")])
    assert again.counts["unchanged"] == 1
    assert CorrectionRequest.objects.count() == 1


def test_an_existing_household_gets_a_new_member_in_place(world):
    run_import(world, household())
    newborn = row(household="9", relation="子女", name="张小宝", id_number=BABY, mobile="")
    job = run_import(world, [row(household="9", relation="户主"), newborn])

    assert job.counts == {"new": 1, "changed": 0, "unchanged": 1, "error": 0, "corrections": 0}
    assert Household.objects.count() == 1
    assert HouseholdMember.objects.count() == 4


def test_a_registry_change_after_validation_refreshes_the_preview_instead_of_applying(world):
    run_import(world, household())
    job = upload(world, ledger_csv([row(mobile="13700137000")]))
    assert job.rows.get().action == RowAction.CHANGED
    # Meanwhile someone records the same new mobile through the registry.
    Person.objects.filter(id_number=ZHANG).update(mobile="13700137000")
    from .test_import_support import apply

    job = apply(job, world.worker)

    assert job.status == ImportStatus.VALIDATED
    assert "重新确认" in job.message
    assert job.rows.get().action == RowAction.UNCHANGED


def test_a_failure_during_apply_loads_nothing(world, monkeypatch):
    from shequ.registry import services_import

    job = upload(world, ledger_csv(household()))

    def broken(events):
        raise RuntimeError("disk full")

    monkeypatch.setattr(services_import, "_record_events", broken)
    from .test_import_support import apply

    job = apply(job, world.worker)

    assert job.status == ImportStatus.FAILED
    assert _table_counts() == dict.fromkeys(_table_counts(), 0)
