"""core.tasks_queue.DatabaseBackend: the library's database queue, its rows written by rows_insert."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tasks import task_backends
from django_tasks_db.models import DBTaskResult, get_date_max

from shequ.core.models import Notification
from shequ.core.notifications import notify
from shequ.core.tasks_notifications import notifications_deliver

pytestmark = pytest.mark.django_db(transaction=True)

PRODUCTION = {"default": {"BACKEND": "shequ.core.tasks_queue.DatabaseBackend"}}
LIBRARY = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
COMPARED = ("status", "args_kwargs", "priority", "task_path", "worker_ids", "queue_name", "backend_name")
COMPARED += ("run_after", "return_value", "exception_class_path", "traceback", "started_at", "finished_at")


def _queued(settings, backends: dict, **using) -> DBTaskResult:
    settings.TASKS = backends  # the settings fixture's signal resets django-tasks' backends
    result = notifications_deliver.using(**using).enqueue([7, 8])
    return DBTaskResult.objects.get(pk=result.id)


@pytest.mark.parametrize("using", [{}, {"priority": 10, "queue_name": "default"}])
def test_rows_are_the_ones_the_library_writes(settings, using):
    ours = _queued(settings, PRODUCTION, **using)
    theirs = _queued(settings, LIBRARY, **using)

    assert {f: getattr(ours, f) for f in COMPARED} == {f: getattr(theirs, f) for f in COMPARED}
    assert ours.args_kwargs == {"args": [[7, 8]], "kwargs": {}}
    assert ours.run_after == get_date_max()  # what the library's receiver sets for "now"
    assert ours.enqueued_at is not None
    assert ours.pk != theirs.pk


def test_a_deferred_task_keeps_its_time(settings):
    later = timezone.now() + timedelta(hours=1)
    row = _queued(settings, PRODUCTION, run_after=later)
    assert row.run_after == later


def test_the_outbox_row_and_its_task_row_commit_together_and_the_worker_runs_it(settings):
    settings.TASKS = PRODUCTION
    assert type(task_backends["default"]).__module__ == "shequ.core.tasks_queue"
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.create_user(username="r", email="r@example.org", password=None)
    with CaptureQueriesContext(connection) as captured, transaction.atomic():
        notify(recipient=user, channel="email", kind="k", title="受理回执")
    inserts = [q["sql"] for q in captured if q["sql"].startswith("INSERT")]
    assert len(inserts) == 2  # the outbox row and the task row, which commit together
    assert mail.outbox == []

    call_command("db_worker", batch=True, interval=0, no_startup_delay=True, verbosity=0)

    assert [m.subject for m in mail.outbox] == ["受理回执"]
    assert Notification.objects.get().state == "sent"
    assert DBTaskResult.objects.get().status == "SUCCESSFUL"
