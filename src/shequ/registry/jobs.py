"""The registry's periodic jobs, run by ``shequ tick`` (registered in ``RegistryConfig.ready``)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from shequ.core.ticks import periodic_job_register


def _computed_tags(now: datetime) -> bool:
    from .services_tags import computed_tags_refresh_request

    with transaction.atomic():
        return computed_tags_refresh_request(as_of=timezone.localdate(now))


def _backflow_expiry(now: datetime) -> int:
    from .services_backflow import backflow_purge_expired

    return len(backflow_purge_expired(now=now))


def _retention(now: datetime) -> dict[str, int]:
    from .services_retention import retention_archive, retention_purge

    archived = retention_archive(now=now)
    purged = retention_purge(now=now)
    return {"archived": archived.archived, "purged": purged.purged}


def register_registry_jobs() -> None:
    # Computed tags: asked for every hour; the service itself enqueues at most one refresh a day.
    periodic_job_register(name="registry.computed_tags", every=timedelta(hours=1), run=_computed_tags)
    # Expired back-flow datasets are already invisible; the purge deletes their rows promptly.
    periodic_job_register(name="registry.backflow_expiry", every=timedelta(minutes=10), run=_backflow_expiry)
    periodic_job_register(name="registry.retention", every=timedelta(days=1), run=_retention)
