"""Writing and reading the shared event log (ARCHITECTURE.md: "Events")."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.db import models
from django.db.models import QuerySet
from django.utils import timezone

from .models import Event


def subject_label(obj: models.Model) -> str:
    return obj._meta.label_lower


def event_record(
    *,
    subject: models.Model,
    type: str,  # noqa: A002 - the domain word
    actor: Any | None,
    data: dict[str, Any] | None = None,
    scope_path: str = "",
    occurred_at: datetime | None = None,
) -> Event:
    """Append one event row for ``subject``. Call it inside the service's transaction."""
    return Event.objects.create(
        occurred_at=occurred_at or timezone.now(),
        actor=actor if actor is not None and getattr(actor, "pk", None) else None,
        subject_type=subject_label(subject),
        subject_id=str(subject.pk),
        type=type,
        data=data or {},
        scope_path=scope_path,
    )


def events_bulk_record(events: Iterable[Event]) -> list[Event]:
    """Append many event rows at once (imports): each must be a new, unsaved ``Event``."""
    return Event.objects.bulk_create(list(events), batch_size=2000)


def diff(old: dict[str, Any], new: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The ``{"field": {"old": …, "new": …}}`` data of an update event, for fields that changed."""
    return {key: {"old": old.get(key), "new": value} for key, value in new.items() if old.get(key) != value}


def events_for_subject(subject: models.Model) -> QuerySet[Event]:
    return Event.objects.filter(subject_type=subject_label(subject), subject_id=str(subject.pk)).order_by(
        "occurred_at", "pk"
    )
