"""The task queue shequ runs on: django-tasks' database backend, its rows written by ``rows_insert``.

Work queued inside a transaction (the delivery of the notifications a service wrote) commits or
rolls back with it. The library's backend writes each queued task through
``DBTaskResult.objects.create``, whose statement compilation cost more than the insert itself on the
intake path (one task per report); this backend builds the same row and inserts it with
``core.rows.rows_insert`` (one prepared statement). Everything else — the worker, results, pruning —
is the library's.
"""

from __future__ import annotations

from typing import Any

from django_tasks.base import Task
from django_tasks.utils import normalize_json
from django_tasks_db.backend import DatabaseBackend as LibraryDatabaseBackend

from .rows import rows_insert


class DatabaseBackend(LibraryDatabaseBackend):
    def _task_to_db_task(self, task: Task, args: Any, kwargs: Any) -> Any:
        from django_tasks_db.models import DBTaskResult, get_date_max

        row: DBTaskResult = DBTaskResult(
            id=self._get_id(),
            args_kwargs=normalize_json({"args": args, "kwargs": kwargs}),
            priority=task.priority,
            task_path=task.module_path,
            queue_name=task.queue_name,
            # What the library's pre_save receiver (``set_run_after``) does for a task without a time.
            run_after=task.run_after if task.run_after is not None else get_date_max(),
            backend_name=self.alias,
        )
        rows_insert([row], receivers_applied=True)
        return row
