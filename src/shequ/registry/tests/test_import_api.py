"""The import API and the wizard pages: scoped jobs, idempotent uploads, previews, error reports."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from shequ.accounts.tests.factories import login
from shequ.registry import ledger
from shequ.registry.models import ImportJob, Person

from .test_import_support import OTHER_ID, World, household, ledger_csv, row

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(db) -> World:
    return World()


API = "/api/v1/registry"


def _client(user) -> Client:
    client = Client()
    login(client, user)
    return client


def _post(client, world, content: bytes, *, committee=None, key: str = "", name: str = "ledger.csv"):
    headers = {"Idempotency-Key": key} if key else {}
    return client.post(
        f"{API}/imports",
        {"file": SimpleUploadedFile(name, content), "committee": (committee or world.committee).code},
        headers=headers,
    )


def test_upload_preview_and_apply_through_the_api(world, django_capture_on_commit_callbacks):
    client = _client(world.worker)
    with django_capture_on_commit_callbacks(execute=True):
        response = _post(client, world, ledger_csv(household()))
    assert response.status_code == 200, response.content
    job = client.get(f"{API}/imports/{response.json()['id']}").json()
    assert (job["status"], job["counts"]["new"], job["progress"]) == ("validated", 3, 100)

    rows = client.get(f"{API}/imports/{job['id']}/rows").json()
    assert rows["count"] == 3
    assert rows["items"][0]["name"] == "张**"
    assert "*" in rows["items"][0]["id_number"]

    with django_capture_on_commit_callbacks(execute=True):
        applied = client.post(f"{API}/imports/{job['id']}/apply")
    assert applied.status_code == 200
    assert client.get(f"{API}/imports/{job['id']}").json()["status"] == "imported"
    assert Person.objects.count() == 3


def test_error_rows_and_the_error_report_through_the_api(world, django_capture_on_commit_callbacks):
    client = _client(world.worker)
    with django_capture_on_commit_callbacks(execute=True):
        posted = _post(
            client, world, ledger_csv([*household(), row(id_number=OTHER_ID, name="赵六", mobile="1")])
        )
    job = client.get(f"{API}/imports/{posted.json()['id']}").json()
    assert job["status"] == "invalid"
    errors = client.get(f"{API}/imports/{job['id']}/rows", {"action": "error"}).json()
    assert [r["row_number"] for r in errors["items"]] == [5]
    assert errors["items"][0]["errors"][0]["column"] == "手机号"
    report = client.get(f"{API}/imports/{job['id']}/error-report")
    assert report.status_code == 200
    lines = report.content.decode("utf-8-sig").splitlines()
    assert lines[0].endswith(ledger.ERROR_HEADER)
    assert "手机号" in lines[4]
    refused = client.post(f"{API}/imports/{job['id']}/apply")
    assert refused.status_code == 409
    assert not Person.objects.exists()


def test_the_same_idempotency_key_returns_the_same_job(world, django_capture_on_commit_callbacks):
    client = _client(world.worker)
    content = ledger_csv(household())
    with django_capture_on_commit_callbacks(execute=True):
        first = _post(client, world, content, key="retry-1").json()
    client.post(f"{API}/imports/{first['id']}/cancel")
    with django_capture_on_commit_callbacks(execute=True):
        again = _post(client, world, content, key="retry-1").json()
    assert again["id"] == first["id"]
    assert ImportJob.objects.count() == 1
    conflict = _post(client, world, ledger_csv(household()[:1]), key="retry-1")
    assert conflict.status_code == 409


def test_another_committees_jobs_are_invisible(world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        job = _post(_client(world.worker), world, ledger_csv(household())).json()
    other = _client(world.other_worker)
    for url in (f"{API}/imports/{job['id']}", f"{API}/imports/{job['id']}/rows"):
        assert other.get(url).status_code == 404
    assert other.post(f"{API}/imports/{job['id']}/apply").status_code == 404
    assert other.get(f"{API}/imports").json()["count"] == 0
    # Uploading into a committee outside one's scope is a 404 too.
    assert _post(other, world, ledger_csv(household())).status_code == 404
    assert other.get(f"/registry/imports/{job['id']}/").status_code == 404


def test_the_template_downloads_in_both_formats(world):
    client = _client(world.worker)
    csv_template = client.get(f"{API}/ledger-template", {"format": "csv"})
    assert csv_template.content.decode("utf-8-sig").strip() == ",".join(ledger.header_row())
    xlsx = client.get("/registry/imports/template.xlsx")
    assert xlsx.status_code == 200
    assert xlsx.content[:2] == b"PK"


def test_the_wizard_pages_upload_preview_and_confirm(world, django_capture_on_commit_callbacks):
    client = _client(world.worker)
    page = client.get("/registry/imports/")
    assert page.status_code == 200
    assert world.committee.name in page.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/registry/imports/",
            {
                "committee": world.committee.code,
                "file": SimpleUploadedFile("ledger.csv", ledger_csv(household())),
            },
        )
    job = ImportJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/registry/imports/{job.pk}/"
    detail = client.get(f"/registry/imports/{job.pk}/").content.decode()
    assert "确认导入" in detail
    assert "张**" in detail
    progress = client.get(f"/registry/imports/{job.pk}/progress", headers={"HX-Request": "true"})
    assert progress["HX-Refresh"] == "true"
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/registry/imports/{job.pk}/apply")
    job.refresh_from_db()
    assert job.status == "imported"


def test_the_preview_costs_the_same_queries_whatever_the_page(world, django_assert_max_num_queries):
    from .test_import_support import upload

    job = upload(world, ledger_csv(household()))
    client = _client(world.worker)
    client.get(f"{API}/imports/{job.pk}/rows")
    with django_assert_max_num_queries(12):
        client.get(f"{API}/imports/{job.pk}/rows", {"page_size": 1})
    with django_assert_max_num_queries(12):
        client.get(f"{API}/imports/{job.pk}/rows", {"page_size": 200})
