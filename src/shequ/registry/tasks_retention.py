"""Background task of registry retention: archive, then purge (schedule it daily)."""

from __future__ import annotations

from django.utils import timezone
from django_tasks import task

from .services_retention import retention_archive, retention_purge


@task()
def registry_retention_task(*, archive: bool = True, purge: bool = True) -> dict[str, int]:
    """Run the retention steps; returns the counts archived and purged."""
    now = timezone.now()
    archived = retention_archive(now=now).archived if archive else 0
    purged = retention_purge(now=now).purged if purge else 0
    return {"archived": archived, "purged": purged}
