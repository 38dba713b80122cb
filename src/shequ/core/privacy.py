"""The single place that unmasks personal data (DOMAIN.md §14; PIPL Art. 28–31, 51).

Models holding personal data declare ``PERSONAL_FIELDS = {"field": "<mask kind>"}`` (kinds in
``shequ.core.masking.MASKS``) and may define ``personal_data_subject_id() -> str`` naming the person the
data belong to. Everything else shows ``masked_value()``. ``reveal()`` returns clear values only
after writing an ``AccessLog`` row: who, which record, which fields, why, when.

Whether the actor is *entitled* to reveal is decided by the calling app's permission rules, before the
call; the record itself must have been fetched through an access function (so it is in scope).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import models, transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from .errors import ApiError
from .masking import mask
from .models import AccessLog

PURPOSE_MIN_LENGTH = 2


def personal_fields(model: type[models.Model] | models.Model) -> dict[str, str]:
    return dict(getattr(model, "PERSONAL_FIELDS", {}))


def masked_value(obj: models.Model, field_name: str) -> str:
    """The display value of a personal field: masked according to its declared kind."""
    kinds = personal_fields(obj)
    value = getattr(obj, field_name)
    if field_name not in kinds:
        return "" if value is None else str(value)
    return mask(kinds[field_name], value)


def masked_for_record(model: type[models.Model], name: str, value: Any) -> Any:
    """A value as it may be kept in an event row or a preview: a declared personal field of ``model``
    masked, anything else unchanged. Event rows are append-only and outlive purges, so they never hold
    clear personal values (the access log is the only place of clear reads)."""
    kinds = personal_fields(model)
    if name not in kinds or value in (None, ""):
        return value
    return mask(kinds[name], str(value))


def masked_changes(
    model: type[models.Model], changes: dict[str, dict[str, Any]]
) -> dict[str, dict[str, Any]]:
    """``{"field": {"old": …, "new": …, …}}`` with the old and new values of personal fields masked."""
    return {
        name: {
            **change,
            "old": masked_for_record(model, name, change.get("old")),
            "new": masked_for_record(model, name, change.get("new")),
        }
        for name, change in changes.items()
    }


def masked_dict(obj: models.Model, fields: Iterable[str] | None = None) -> dict[str, str]:
    names = list(fields) if fields is not None else list(personal_fields(obj))
    return {name: masked_value(obj, name) for name in names}


def client_ip(request: HttpRequest | None) -> str | None:
    if request is None:
        return None
    return request.META.get("REMOTE_ADDR") or None


@transaction.atomic
def reveal(
    *,
    actor: Any,
    subject: models.Model,
    fields: Iterable[str],
    purpose: str,
    request: HttpRequest | None = None,
) -> dict[str, str]:
    """Unmask ``fields`` of ``subject`` for ``actor`` with a stated ``purpose``, logging the read."""
    names = list(dict.fromkeys(fields))
    declared = personal_fields(subject)
    purpose = (purpose or "").strip()
    if not names:
        raise ApiError(_("请选择要查看的字段。"), code="invalid", field="fields", status=422)
    unknown = [n for n in names if n not in declared]
    if unknown:
        raise ApiError(
            _("这些字段不能查看：%(fields)s") % {"fields": ", ".join(unknown)},
            code="invalid",
            field="fields",
            status=422,
        )
    if len(purpose) < PURPOSE_MIN_LENGTH:
        raise ApiError(_("查看个人信息须说明用途。"), code="purpose_required", field="purpose", status=422)
    if actor is None or not getattr(actor, "pk", None):
        raise ApiError(_("需要登录。"), code="unauthenticated", status=401)
    subject_of = getattr(subject, "personal_data_subject_id", None)
    AccessLog.objects.create(
        accessed_at=timezone.now(),
        actor=actor,
        subject_type=subject._meta.label_lower,
        subject_id=str(subject.pk),
        fields=names,
        purpose=purpose[:255],
        ip_address=client_ip(request),
        data_subject_id=str(subject_of()) if callable(subject_of) else "",
    )
    return {name: "" if getattr(subject, name) is None else str(getattr(subject, name)) for name in names}


def access_log_for_data_subject(data_subject_id: str) -> models.QuerySet[AccessLog]:
    """Who read this person's unmasked data, when and why (the residents' transparency page)."""
    return (
        AccessLog.objects.filter(data_subject_id=data_subject_id)
        .select_related("actor")
        .order_by("-accessed_at")
    )
