"""Writing and reading the shared event log (ARCHITECTURE.md: "Events")."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connection, models
from django.db.models import QuerySet
from django.utils import timezone

from .models import Event
from .rows import rows_insert


def subject_label(obj: models.Model) -> str:
    return obj._meta.label_lower


@dataclass
class _Batch:
    held: list[Event]  # every event of the block, in order (written or not yet)
    depth: int  # the savepoints open when the block began


# Events held back by ``events_batched`` until the block ends (None: written at once).
_batch: ContextVar[_Batch | None] = ContextVar("shequ_events_batch", default=None)


@contextmanager
def events_batched() -> Iterator[list[Event]]:
    """Within the block the event rows are written together when it ends, in one statement (a
    service that records several events in one transaction); the list yields them, saved, after the
    block. Use it inside the service's transaction, around code that does not read its own events.
    An event recorded inside a savepoint opened within the block is written at once, after those
    held so far, so that a rollback to the savepoint takes it away and the order stays."""
    if _batch.get() is not None:  # an outer block writes them
        yield []
        return
    batch = _Batch(held=[], depth=len(connection.savepoint_ids))
    reset = _batch.set(batch)
    try:
        yield batch.held
    finally:
        _batch.reset(reset)
    _write_held(batch)


def _write_held(batch: _Batch) -> None:
    pending = [event for event in batch.held if event.pk is None]
    if pending:
        rows_insert(pending)


def _hold(events: list[Event]) -> bool:
    """Hold ``events`` in the enclosing block; False when they must be written at once."""
    batch = _batch.get()
    if batch is None:
        return False
    if len(connection.savepoint_ids) != batch.depth:
        _write_held(batch)  # what came before the savepoint goes first
        rows_insert(events)
    batch.held.extend(events)
    return True


def event_record(
    *,
    subject: models.Model,
    type: str,  # noqa: A002 - the domain word
    actor: Any | None,
    data: dict[str, Any] | None = None,
    scope_path: str = "",
    occurred_at: datetime | None = None,
) -> Event:
    """Append one event row for ``subject``. Call it inside the service's transaction. Within
    ``events_batched`` the row is written when the block ends (the returned event has no id yet)."""
    event = Event(
        occurred_at=occurred_at or timezone.now(),
        actor=actor if actor is not None and getattr(actor, "pk", None) else None,
        subject_type=subject_label(subject),
        subject_id=str(subject.pk),
        type=type,
        data=data or {},
        scope_path=scope_path,
    )
    if not _hold([event]):
        event.save(force_insert=True)
    return event


def events_bulk_record(events: Iterable[Event]) -> list[Event]:
    """Append many event rows at once (imports): each must be a new, unsaved ``Event``. Within
    ``events_batched`` they join the block's rows."""
    rows = list(events)
    if _hold(rows):
        return rows
    return Event.objects.bulk_create(rows, batch_size=2000)


def diff(old: dict[str, Any], new: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The ``{"field": {"old": …, "new": …}}`` data of an update event, for fields that changed."""
    return {key: {"old": old.get(key), "new": value} for key, value in new.items() if old.get(key) != value}


def events_for_subject(subject: models.Model) -> QuerySet[Event]:
    return Event.objects.filter(subject_type=subject_label(subject), subject_id=str(subject.pk)).order_by(
        "occurred_at", "pk"
    )
