"""Retention of registry records: archive, then purge (DOMAIN.md §14; PIPL Art. 19, 47).

- Archive: a person who moved out or died leaves the working registry once
  ``SHEQU_RETENTION_ARCHIVE_DAYS`` (default 365) have passed since the status changed
  (``status_changed_at``; records without that date never start the clock and are left alone).
  Archiving sets ``archived_at``; archived persons disappear from every working list.
- Purge: archived persons are deleted ``SHEQU_RETENTION_PURGE_DAYS`` (default 730) after archiving,
  or ``SHEQU_RETENTION_DELETION_PURGE_DAYS`` (default 30) after a resident's deletion request was
  approved. The purge removes the person with everything that hangs from them — household
  memberships, tag assignments, provenance, correction and deletion requests, the resident link —
  clears the personal content of import preview rows that point at them, and unlinks back-flow rows
  (which belong to the publishing department's dataset and are purged at its expiry).
- Audit: every archive and purge writes an event per person carrying no personal data (the person's
  id, street code and reason only). The access log (``core.AccessLog``) is never touched: it is a
  security log kept at least six months (Cybersecurity Law Art. 21), and it holds no personal
  attributes, only who read which record, when and why.

Both steps are idempotent and run in chunks, each chunk in its own transaction: the command
``shequ registry_retention --archive --purge [--dry-run]`` and the task in ``tasks_retention``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import ProtectedError, Q, QuerySet

from shequ.core.events import events_bulk_record
from shequ.core.models import Event

from .models import DeletionRequest, HouseholdMember, ImportRow, Person, PersonStatus, RequestStatus

PERSON_ARCHIVED = "PERSON_ARCHIVED"
PERSON_PURGED = "PERSON_PURGED"

ARCHIVE_DAYS_DEFAULT = 365
PURGE_DAYS_DEFAULT = 730
DELETION_PURGE_DAYS_DEFAULT = 30
CHUNK = 500

REASON_RETENTION = "retention"
REASON_DELETION_REQUEST = "deletion_request"


def archive_period() -> timedelta:
    return timedelta(days=int(getattr(settings, "SHEQU_RETENTION_ARCHIVE_DAYS", ARCHIVE_DAYS_DEFAULT)))


def purge_period() -> timedelta:
    return timedelta(days=int(getattr(settings, "SHEQU_RETENTION_PURGE_DAYS", PURGE_DAYS_DEFAULT)))


def deletion_purge_period() -> timedelta:
    return timedelta(
        days=int(getattr(settings, "SHEQU_RETENTION_DELETION_PURGE_DAYS", DELETION_PURGE_DAYS_DEFAULT))
    )


@dataclass
class RetentionResult:
    dry_run: bool
    archived: int = 0
    purged: int = 0
    # Persons that could not be purged because another record still protects them.
    kept: list[int] = field(default_factory=list)


def _street_path(path: str) -> str:
    parts = [p for p in path.split("/") if p]
    return "".join(f"{p}/" for p in parts[:3])


def _chunks(ids: list[int]) -> Iterator[list[int]]:
    for start in range(0, len(ids), CHUNK):
        yield ids[start : start + CHUNK]


def archive_candidates(*, now: datetime) -> QuerySet[Person]:
    """Moved-out and deceased persons whose status changed more than the archive period ago."""
    return Person.objects.filter(
        status__in=[PersonStatus.MOVED_OUT, PersonStatus.DECEASED],
        archived_at__isnull=True,
        status_changed_at__lte=now - archive_period(),
    )


def purge_candidates(*, now: datetime) -> QuerySet[Person]:
    """Archived persons past the purge period, or past the shorter period after an approved deletion."""
    approved = DeletionRequest.objects.filter(
        status=RequestStatus.ACCEPTED, decided_at__lte=now - deletion_purge_period()
    ).values("person_id")
    return Person.objects.filter(archived_at__isnull=False).filter(
        Q(archived_at__lte=now - purge_period()) | Q(pk__in=approved)
    )


def _event(
    *, person_id: int, street_code: str, path: str, type_: str, data: dict[str, Any], now: datetime
) -> Event:
    return Event(
        occurred_at=now,
        actor=None,
        subject_type=Person._meta.label_lower,
        subject_id=str(person_id),
        type=type_,
        data={"person_id": person_id, "street_code": street_code, **data},
        scope_path=_street_path(path),
    )


def retention_archive(*, now: datetime, dry_run: bool = False) -> RetentionResult:
    """Archive moved-out and deceased persons past the archive period."""
    result = RetentionResult(dry_run=dry_run)
    ids = list(archive_candidates(now=now).order_by("pk").values_list("pk", flat=True))
    if dry_run:
        result.archived = len(ids)
        return result
    for chunk in _chunks(ids):
        with transaction.atomic():
            rows = list(
                archive_candidates(now=now)
                .filter(pk__in=chunk)
                .select_for_update()
                .values_list("pk", "street_code", "path", "status")
            )
            Person.objects.filter(pk__in=[r[0] for r in rows]).update(archived_at=now)
            events_bulk_record(
                [
                    _event(
                        person_id=pk,
                        street_code=street_code,
                        path=path,
                        type_=PERSON_ARCHIVED,
                        data={"reason": REASON_RETENTION, "status": status},
                        now=now,
                    )
                    for pk, street_code, path, status in rows
                ]
            )
            result.archived += len(rows)
    return result


def _purge_reasons(ids: list[int], *, now: datetime) -> dict[int, str]:
    deleted_on_request = set(
        DeletionRequest.objects.filter(
            person_id__in=ids, status=RequestStatus.ACCEPTED, decided_at__lte=now - deletion_purge_period()
        ).values_list("person_id", flat=True)
    )
    return {pk: REASON_DELETION_REQUEST if pk in deleted_on_request else REASON_RETENTION for pk in ids}


def _purge_rows(rows: list[tuple[int, str, str]], *, now: datetime) -> None:
    """Delete these persons and their dependent rows; one event each, without personal data."""
    ids = [r[0] for r in rows]
    reasons = _purge_reasons(ids, now=now)
    HouseholdMember.objects.filter(person_id__in=ids).delete()
    ImportRow.objects.filter(person_id__in=ids).update(person=None, data={}, changes={})
    # Cascades to tags, provenance, corrections, deletion requests and the resident link; back-flow
    # rows and household heads are set to null by their foreign keys.
    Person.objects.filter(pk__in=ids).delete()
    events_bulk_record(
        [
            _event(
                person_id=pk,
                street_code=street_code,
                path=path,
                type_=PERSON_PURGED,
                data={"reason": reasons[pk]},
                now=now,
            )
            for pk, street_code, path in rows
        ]
    )


def retention_purge(*, now: datetime, dry_run: bool = False) -> RetentionResult:
    """Delete archived persons past their purge date, with their dependent rows."""
    result = RetentionResult(dry_run=dry_run)
    ids = list(purge_candidates(now=now).order_by("pk").values_list("pk", flat=True))
    if dry_run:
        result.purged = len(ids)
        return result
    for chunk in _chunks(ids):
        try:
            with transaction.atomic():
                rows = list(
                    purge_candidates(now=now)
                    .filter(pk__in=chunk)
                    .select_for_update()
                    .values_list("pk", "street_code", "path")
                )
                _purge_rows(rows, now=now)
                result.purged += len(rows)
        except ProtectedError:
            # Another record still needs one of these persons: purge the others one by one.
            for pk in chunk:
                try:
                    with transaction.atomic():
                        rows = list(
                            purge_candidates(now=now)
                            .filter(pk=pk)
                            .select_for_update()
                            .values_list("pk", "street_code", "path")
                        )
                        _purge_rows(rows, now=now)
                        result.purged += len(rows)
                except ProtectedError:
                    result.kept.append(pk)
    return result
