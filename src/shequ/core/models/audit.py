"""Append-only audit rows: the event log every workflow writes, and the access log of unmasked reads.

Both tables refuse updates and deletes through the ORM (model ``save``/``delete`` and queryset
``update``/``delete``); on PostgreSQL a trigger refuses them at the database too (migration 0002).
Security logs are kept at least six months (Cybersecurity Law Art. 21(3)); retention beyond that is a
separate, logged archive job, never an ad-hoc delete.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.conf import settings
from django.db import models


class AppendOnlyError(Exception):
    """Raised when code tries to change or remove an audit row."""


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs: Any) -> int:
        raise AppendOnlyError(f"{self.model.__name__} rows are append-only; update() is refused.")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError(f"{self.model.__name__} rows are append-only; delete() is refused.")

    def bulk_update(self, objs: Any, fields: Any, batch_size: int | None = None) -> int:
        raise AppendOnlyError(f"{self.model.__name__} rows are append-only; bulk_update() is refused.")

    def update_or_create(self, *args: Any, **kwargs: Any) -> Any:
        raise AppendOnlyError(f"{self.model.__name__} rows are append-only; update_or_create() is refused.")


class AppendOnlyModel(models.Model):
    objects: ClassVar[AppendOnlyQuerySet] = AppendOnlyQuerySet.as_manager()  # type: ignore[assignment]

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AppendOnlyError(f"{type(self).__name__} rows are append-only; they cannot be changed.")
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError(f"{type(self).__name__} rows are append-only; they cannot be deleted.")


class Event(AppendOnlyModel):
    """One thing that happened to one subject. Types are past tense (``CASE_DISPATCHED``).

    ``scope_path`` is the place path of the subject when it has one, so that timelines and metrics
    can be scoped and aggregated without joining back to the subject's table.
    """

    occurred_at = models.DateTimeField(db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    subject_type = models.CharField(max_length=64)
    subject_id = models.CharField(max_length=64)
    type = models.CharField(max_length=64)
    data = models.JSONField(default=dict, blank=True)
    scope_path = models.CharField(max_length=255, blank=True, default="", db_index=True)

    class Meta:
        indexes: ClassVar = [
            models.Index(fields=["subject_type", "subject_id", "occurred_at"], name="core_event_subject_idx"),
            models.Index(fields=["type", "occurred_at"], name="core_event_type_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.subject_type}:{self.subject_id} @ {self.occurred_at:%Y-%m-%d %H:%M}"


class AccessLog(AppendOnlyModel):
    """One read of unmasked personal data: who, which record, which fields, why, when (PIPL Art. 51;
    DOMAIN.md §14). Written only by ``shequ.core.privacy.reveal``."""

    accessed_at = models.DateTimeField(db_index=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    subject_type = models.CharField(max_length=64)
    subject_id = models.CharField(max_length=64)
    fields = models.JSONField(default=list)
    purpose = models.CharField(max_length=255)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    # The person whose data was read, when the subject is (or belongs to) a person: residents read
    # their own access log through this.
    data_subject_id = models.CharField(max_length=64, blank=True, default="", db_index=True)

    class Meta:
        indexes: ClassVar = [
            models.Index(
                fields=["subject_type", "subject_id", "accessed_at"], name="core_access_subject_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.actor_id} read {self.subject_type}:{self.subject_id} {self.fields} ({self.purpose})"
