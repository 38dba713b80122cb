"""Exporting the registry as a ledger: masked by default for every role, unmasked only for entitled
exporters with a purpose (one access record per person), scoped, and re-importable."""

from __future__ import annotations

import io

import pytest
from django.test import Client
from openpyxl import load_workbook

from shequ.accounts.models import Role
from shequ.accounts.tests.factories import login, user_with_role
from shequ.core.models import AccessLog
from shequ.registry import ledger
from shequ.registry.models import Person, TagAssignment

from .test_import_support import LI, WANG, ZHANG, World, household, run_import, upload

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(db) -> World:
    return World()


# The export page (``/registry/export``) and ``GET /api/v1/registry/persons/export`` call the same
# service with the same filters; these tests go through the page.
EXPORT = "/registry/export"


def _client(user) -> Client:
    client = Client()
    login(client, user)
    return client


def _export(client: Client, **params: str):
    return client.get(EXPORT, {"download": "1", **params}, REMOTE_ADDR="10.0.0.9")


def _refused(response) -> bool:
    return response.status_code in (200, 403, 422) and "Content-Disposition" not in response


def _csv_rows(response) -> list[list[str]]:
    content = b"".join(response.streaming_content) if response.streaming else response.content
    return list(ledger.iter_raw_rows(io.BytesIO(content), ledger.CSV))


@pytest.fixture
def registered(world):
    run_import(world, household())
    civil = user_with_role(Role.CIVIL_AFFAIRS_OFFICER, division=world.tree.district(1), username="civil")
    TagAssignment.objects.create(
        person=Person.objects.get(id_number=LI),
        tag=world.tags["low_income"],
        assigned_by=civil,
        assigned_at=Person.objects.get(id_number=LI).created_at,
        path=world.compound.path,
        street_code=world.tree.street(1, 1).code,
    )
    return world


@pytest.mark.parametrize(
    "role",
    [Role.COMMITTEE_WORKER, Role.GRID_WORKER, Role.STREET_OFFICER, Role.DISTRICT_OFFICER, Role.CITY_ADMIN],
)
def test_exports_are_masked_for_every_role_without_the_right(registered, role):
    from shequ.accounts.tests.factories import user_for_role_in_tree

    world = registered
    client = _client(user_for_role_in_tree(role, world.tree))
    masked = _csv_rows(_export(client, format="csv"))
    assert len(masked) == 4
    ids = {r[ledger.KEYS.index("id_number")] for r in masked[1:]}
    assert ZHANG not in ids
    assert all("*" in i for i in ids)
    assert all("*" in r[ledger.KEYS.index("name")] for r in masked[1:])
    assert _refused(_export(client, format="csv", unmasked="true", purpose="核对台账"))
    assert not AccessLog.objects.exists()


def test_an_unmasked_export_writes_one_access_record_per_person(registered):
    world = registered
    client = _client(world.head)
    response = _export(client, format="csv", unmasked="true", purpose="年度台账核对")
    rows = _csv_rows(response)
    assert {r[ledger.KEYS.index("id_number")] for r in rows[1:]} == {ZHANG, LI, WANG}
    logs = AccessLog.objects.order_by("subject_id")
    assert logs.count() == 3
    assert {log.data_subject_id for log in logs} == {str(p.pk) for p in Person.objects.all()}
    assert {(log.purpose, log.actor_id, log.subject_type, log.ip_address) for log in logs} == {
        ("年度台账核对", world.head.pk, "registry.person", "10.0.0.9")
    }
    assert logs[0].fields == list(Person.PERSONAL_FIELDS)


def test_an_unmasked_export_without_a_purpose_is_refused(registered):
    response = _export(_client(registered.head), format="csv", unmasked="true")
    assert _refused(response)
    assert "用途" in response.content.decode()
    assert not AccessLog.objects.exists()


def test_sensitive_tags_are_exported_only_to_roles_that_see_them(registered):
    world = registered
    tags = ledger.KEYS.index("tags")
    worker_rows = _csv_rows(_export(_client(world.worker), format="csv"))
    head_rows = _csv_rows(_export(_client(world.head), format="csv"))
    assert "low_income" not in "".join(r[tags] for r in worker_rows)
    assert "low_income" in "".join(r[tags] for r in head_rows)


def test_another_committee_exports_none_of_these_residents(registered):
    rows = _csv_rows(_export(_client(registered.other_worker), format="csv"))
    assert rows == [ledger.header_row()]


def test_an_unmasked_export_re_imports_as_unchanged(registered):
    world = registered
    response = _export(_client(world.head), format="xlsx", unmasked="true", purpose="台账往返核对")
    content = b"".join(response.streaming_content)
    sheet = load_workbook(io.BytesIO(content), read_only=True).worksheets[0]
    assert list(next(sheet.iter_rows(values_only=True))) == ledger.header_row()
    job = upload(world, content, name="export.xlsx", actor=world.head)
    assert job.status == "validated", list(job.rows.values_list("errors", flat=True))
    assert job.counts == {"new": 0, "changed": 0, "unchanged": 3, "error": 0, "corrections": 0}


def test_the_export_page_downloads_a_file(registered):
    client = _client(registered.worker)
    assert client.get("/registry/export").status_code == 200
    response = _export(client, format="csv")
    assert response["Content-Disposition"].endswith('-masked.csv"')
    assert len(_csv_rows(response)) == 4


@pytest.mark.parametrize("role", list(Role))
def test_a_default_export_never_contains_clear_identifiers_for_any_role(registered, role):
    """Every role: the default export is masked (or empty for roles without the registry), and writes
    no access record."""
    from shequ.accounts.tests.factories import user_for_role_in_tree

    response = _export(_client(user_for_role_in_tree(role, registered.tree)), format="csv")
    rows = _csv_rows(response) if "Content-Disposition" in response else []
    body = "\n".join(",".join(r) for r in rows)
    for clear in (ZHANG, LI, WANG, "13800138000", "张建国"):
        assert clear not in body
    assert not AccessLog.objects.exists()
