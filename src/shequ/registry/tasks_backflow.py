"""Background task of the data back-flow: purge expired datasets (schedule it hourly)."""

from __future__ import annotations

from django.utils import timezone
from django_tasks import task

from .services_backflow import backflow_purge_expired


@task()
def backflow_purge_expired_task() -> list[int]:
    """Purge every dataset past its expiry; returns the ids of the datasets purged."""
    return [dataset.pk for dataset in backflow_purge_expired(now=timezone.now())]
