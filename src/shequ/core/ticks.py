"""Periodic jobs driven by ``shequ tick`` (ARCHITECTURE.md: "one periodic job finds what is due").

``core`` imports no domain app: apps register their jobs in ``AppConfig.ready()`` with
``periodic_job_register(name=…, every=…, run=…)``. Each tick runs the deadline sweep, then every job
whose period has elapsed since it last started. A job's start is claimed under a row lock, so two
schedulers calling ``tick`` at once never run the same job twice; a failing job is logged and does
not stop the others.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from .models import PeriodicJobRun

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PeriodicJob:
    name: str
    every: timedelta
    run: Callable[[datetime], Any]


_JOBS: dict[str, PeriodicJob] = {}


def periodic_job_register(*, name: str, every: timedelta, run: Callable[[datetime], Any]) -> None:
    _JOBS[name] = PeriodicJob(name=name, every=every, run=run)


def periodic_jobs() -> list[PeriodicJob]:
    return sorted(_JOBS.values(), key=lambda job: job.name)


@dataclass
class JobsReport:
    ran: dict[str, Any] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)


def _claim(job: PeriodicJob, now: datetime) -> bool:
    with transaction.atomic():
        run, _created = PeriodicJobRun.objects.select_for_update().get_or_create(name=job.name)
        if run.last_started_at is not None and now - run.last_started_at < job.every:
            return False
        run.last_started_at = now
        run.save(update_fields=["last_started_at"])
    return True


def periodic_jobs_run(*, now: datetime | None = None) -> JobsReport:
    """Run every registered job that is due at ``now``."""
    now = now or timezone.now()
    report = JobsReport()
    for job in periodic_jobs():
        if not _claim(job, now):
            report.skipped.append(job.name)
            continue
        try:
            # Jobs are services: each owns its transactions (large ones commit in chunks).
            report.ran[job.name] = job.run(now)
            error = ""
        except Exception as exc:  # one job's failure must not stop the others
            logger.exception("periodic job %s failed", job.name)
            error = f"{type(exc).__name__}: {exc}"
            report.failed[job.name] = error
        PeriodicJobRun.objects.filter(name=job.name).update(last_finished_at=timezone.now(), last_error=error)
    return report
