"""Large files run as background tasks (the immediate backend in tests) and report their progress."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from shequ.registry.models import ImportStatus, Person
from shequ.registry.services_import import import_job_confirm, import_job_create, upload_from_bytes

from .test_import_support import World, ledger_csv, resident_id, row

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(db) -> World:
    return World()


def _many(count: int) -> list[dict[str, str]]:
    start = date(1940, 1, 1)
    return [
        row(
            name=f"居民{i}",
            id_number=resident_id(start + timedelta(days=i // 400), i % 400 * 2 + 1),
            mobile="",
        )
        for i in range(count)
    ]


def test_a_large_file_is_validated_and_applied_by_tasks_with_progress(
    world, django_capture_on_commit_callbacks, monkeypatch
):
    from shequ.registry import services_import

    monkeypatch.setattr(services_import, "INLINE_MAX_ROWS", 50)
    monkeypatch.setattr(services_import, "PROGRESS_EVERY", 20)
    seen: list[int] = []
    original = services_import._set_progress

    def spy(job_id: int, processed: int) -> str:
        seen.append(processed)
        return original(job_id, processed)

    monkeypatch.setattr(services_import, "_set_progress", spy)
    content = ledger_csv(_many(120))
    with django_capture_on_commit_callbacks(execute=True):
        job = import_job_create(
            committee=world.committee,
            actor=world.worker,
            upload=upload_from_bytes(content, "big.csv"),
            name="big.csv",
        )
    job.refresh_from_db()
    assert job.status == ImportStatus.VALIDATED
    assert seen == [20, 40, 60, 80, 100, 120, 120]
    assert (job.processed_rows, job.total_rows) == (120, 120)
    with django_capture_on_commit_callbacks(execute=True):
        import_job_confirm(job=job, actor=world.worker)
    job.refresh_from_db()
    assert job.status == ImportStatus.IMPORTED
    assert job.processed_rows == 120
    assert Person.objects.count() == 120


def test_a_cancelled_validation_stops_and_loads_nothing(
    world, django_capture_on_commit_callbacks, monkeypatch
):
    from shequ.registry import services_import
    from shequ.registry.models import ImportJob

    monkeypatch.setattr(services_import, "INLINE_MAX_ROWS", 50)
    monkeypatch.setattr(services_import, "PROGRESS_EVERY", 20)
    original = services_import._set_progress

    def cancel_midway(job_id: int, processed: int) -> str:
        if processed == 40:
            ImportJob.objects.filter(pk=job_id).update(status=ImportStatus.CANCELLED)
        return original(job_id, processed)

    monkeypatch.setattr(services_import, "_set_progress", cancel_midway)
    with django_capture_on_commit_callbacks(execute=True):
        job = import_job_create(
            committee=world.committee,
            actor=world.worker,
            upload=upload_from_bytes(ledger_csv(_many(120)), "big.csv"),
            name="big.csv",
        )
    job.refresh_from_db()
    assert job.status == ImportStatus.CANCELLED
    assert job.processed_rows == 40
    assert not job.rows.exists()
    assert not Person.objects.exists()
