"""Background delivery of the notification outbox: a thin wrapper over the service (STYLE.md rule 14)."""

from __future__ import annotations

from django_tasks import task

from .notifications import notifications_send


@task()
def notifications_deliver(ids: list[int]) -> dict[str, int]:
    """Deliver the outbox rows ``ids`` (those still due; the others are skipped)."""
    return notifications_send(ids=ids).as_dict()
