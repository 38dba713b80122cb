"""Writes of saved population filters ("政策找人", DOMAIN.md §4): a named ``PersonCriteria`` over a node
of the user's jurisdiction, kept by its owner and optionally shared with colleagues in the node.

The criteria are validated through ``filters.PersonCriteria`` (shape) and ``filters.criteria_validate``
(tags the owner may see, known divisions) and stored as JSON. Each change writes an event row.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from shequ.accounts.visibility import path_visible, scope_of
from shequ.core.errors import ApiError
from shequ.core.events import diff, event_record
from shequ.core.models import AccessLog
from shequ.core.privacy import PURPOSE_MIN_LENGTH, client_ip, masked_value
from shequ.places.models import Division

from . import permissions
from .filters import PersonCriteria, age_on, criteria_validate
from .models import Person, SavedFilter

SAVED_FILTER_CREATED = "SAVED_FILTER_CREATED"
SAVED_FILTER_CHANGED = "SAVED_FILTER_CHANGED"
SAVED_FILTER_DELETED = "SAVED_FILTER_DELETED"

NAME_MAX_LENGTH = 100


def _check_division(division: Division, actor: Any) -> None:
    """The filter's node must lie in the actor's jurisdiction, where they may read the registry."""
    in_scope = getattr(actor, "is_superuser", False) or path_visible(scope_of(actor), division.path)
    if not (in_scope and permissions.can_view_registry(actor, division.path)):
        raise ApiError(_("只能在您的辖区内保存人群筛选。"), code="invalid", field="division", status=422)


def _criteria_json(criteria: PersonCriteria | Mapping[str, Any], actor: Any) -> dict[str, Any]:
    parsed = criteria if isinstance(criteria, PersonCriteria) else PersonCriteria.parse(criteria)
    return criteria_validate(parsed, user=actor).to_json()


def _clean_name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise ApiError(_("请填写名称。"), code="invalid", field="name", status=422)
    if len(name) > NAME_MAX_LENGTH:
        raise ApiError(_("名称太长。"), code="invalid", field="name", status=422)
    return name


def _snapshot(saved_filter: SavedFilter) -> dict[str, Any]:
    return {
        "name": saved_filter.name,
        "description": saved_filter.description,
        "division": saved_filter.division.code,
        "criteria": saved_filter.criteria,
        "is_shared": saved_filter.is_shared,
    }


@transaction.atomic
def saved_filter_create(
    *,
    name: str,
    division: Division,
    criteria: PersonCriteria | Mapping[str, Any],
    actor: Any,
    description: str = "",
    is_shared: bool = False,
) -> SavedFilter:
    """Save a filter over ``division`` (a node in the actor's scope). Invalid criteria raise Django's
    ``ValidationError`` naming the criteria field."""
    _check_division(division, actor)
    saved_filter = SavedFilter.objects.create(
        name=_clean_name(name),
        description=(description or "").strip(),
        owner=actor,
        division=division,
        criteria=_criteria_json(criteria, actor),
        is_shared=bool(is_shared),
        path=division.path,
    )
    event_record(
        subject=saved_filter,
        type=SAVED_FILTER_CREATED,
        actor=actor,
        data=_snapshot(saved_filter),
        scope_path=saved_filter.path,
    )
    return saved_filter


def _require_owner(saved_filter: SavedFilter, actor: Any) -> None:
    if saved_filter.owner_id != getattr(actor, "pk", None) and not getattr(actor, "is_superuser", False):
        raise PermissionDenied(_("只有创建人可以修改或删除这个筛选。"))


@transaction.atomic
def saved_filter_update(
    *,
    saved_filter: SavedFilter,
    actor: Any,
    name: str | None = None,
    description: str | None = None,
    division: Division | None = None,
    criteria: PersonCriteria | Mapping[str, Any] | None = None,
    is_shared: bool | None = None,
) -> SavedFilter:
    """Change the given fields (``None`` leaves a field as it is); owner only."""
    saved_filter = SavedFilter.objects.select_for_update().select_related("division").get(pk=saved_filter.pk)
    _require_owner(saved_filter, actor)
    old = _snapshot(saved_filter)
    if name is not None:
        saved_filter.name = _clean_name(name)
    if description is not None:
        saved_filter.description = description.strip()
    if division is not None:
        _check_division(division, actor)
        saved_filter.division = division
        saved_filter.path = division.path
    if criteria is not None:
        saved_filter.criteria = _criteria_json(criteria, actor)
    if is_shared is not None:
        saved_filter.is_shared = is_shared
    changed = diff(old, _snapshot(saved_filter))
    if not changed:
        return saved_filter
    fields = {"division": ["division", "path"]}
    update_fields = [f for name_ in changed for f in fields.get(name_, [name_])]
    saved_filter.save(update_fields=[*update_fields, "updated_at"])
    event_record(
        subject=saved_filter,
        type=SAVED_FILTER_CHANGED,
        actor=actor,
        data=changed,
        scope_path=saved_filter.path,
    )
    return saved_filter


@transaction.atomic
def saved_filter_delete(*, saved_filter: SavedFilter, actor: Any) -> None:
    """Delete a saved filter (owner only); the event keeps what it was."""
    saved_filter = SavedFilter.objects.select_for_update().select_related("division").get(pk=saved_filter.pk)
    _require_owner(saved_filter, actor)
    event_record(
        subject=saved_filter,
        type=SAVED_FILTER_DELETED,
        actor=actor,
        data=_snapshot(saved_filter),
        scope_path=saved_filter.path,
    )
    saved_filter.delete()


# --- Export --------------------------------------------------------------------------------------

SAVED_FILTER_EXPORTED = "SAVED_FILTER_EXPORTED"
EXPORT_FIELDS = ("name", "id_number", "mobile")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> str:
    """A CSV cell that spreadsheet programs will not run as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


@dataclass
class FilterExport:
    filename: str
    content: bytes
    rows: int
    unmasked_rows: int


@transaction.atomic
def saved_filter_export(
    *,
    saved_filter: SavedFilter,
    actor: Any,
    as_of: date,
    unmasked: bool = False,
    purpose: str = "",
    request: HttpRequest | None = None,
) -> FilterExport:
    """The live list as CSV (UTF-8 with BOM, for spreadsheet programs). Masked by default. With
    ``unmasked`` the exporter states a purpose; rows are unmasked only where the exporter is entitled
    (``permissions.can_export_unmasked`` at the person's place), every unmasked row writing one
    access-log record (written in bulk), the others staying masked."""
    from .selectors_filters import saved_filter_people  # reads of this area

    purpose = (purpose or "").strip()
    if unmasked:
        if not permissions.paths_with_roles(actor, permissions.EXPORT_UNMASKED_ROLES) and not getattr(
            actor, "is_superuser", False
        ):
            raise PermissionDenied(_("您无权导出未脱敏的名单。"))
        if len(purpose) < PURPOSE_MIN_LENGTH:
            raise ApiError(
                _("导出未脱敏名单须说明用途。"), code="purpose_required", field="purpose", status=422
            )
    people = saved_filter_people(saved_filter=saved_filter, user=actor, as_of=as_of)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(
        [
            _("姓名"),
            _("性别"),
            _("年龄"),
            _("证件类型"),
            _("证件号码"),
            _("手机号"),
            _("小区"),
            _("楼栋"),
            _("房间"),
            _("居村代码"),
            _("状态"),
        ]
    )
    now = timezone.now()
    ip = client_ip(request)
    logs: list[AccessLog] = []
    rows = 0
    for person in people.iterator(chunk_size=2000):
        rows += 1
        clear = unmasked and permissions.can_export_unmasked(actor, person.path)
        values = {
            name: getattr(person, name) if clear else masked_value(person, name) for name in EXPORT_FIELDS
        }
        if clear:
            logs.append(
                AccessLog(
                    accessed_at=now,
                    actor=actor,
                    subject_type=Person._meta.label_lower,
                    subject_id=str(person.pk),
                    fields=list(EXPORT_FIELDS),
                    purpose=purpose[:255],
                    ip_address=ip,
                    data_subject_id=person.personal_data_subject_id(),
                )
            )
        house = person.house
        writer.writerow(
            [
                _cell(values["name"]),
                person.get_sex_display(),
                age_on(person.birth_date, as_of) if person.birth_date else "",
                person.get_document_type_display(),
                _cell(values["id_number"]),
                _cell(values["mobile"]),
                _cell(house.building.compound.name) if house else "",
                _cell(house.building.number) if house else "",
                _cell(f"{house.unit}{house.room}") if house else "",
                person.path.strip("/").split("/")[3] if person.path.count("/") >= 4 else "",
                person.get_status_display(),
            ]
        )
    AccessLog.objects.bulk_create(logs, batch_size=2000)
    event_record(
        subject=saved_filter,
        type=SAVED_FILTER_EXPORTED,
        actor=actor,
        data={
            "as_of": as_of.isoformat(),
            "rows": rows,
            "unmasked_rows": len(logs),
            "purpose": purpose[:255],
        },
        scope_path=saved_filter.path,
    )
    filename = f"filter-{saved_filter.pk}-{as_of.isoformat()}.csv"
    return FilterExport(
        filename=filename,
        content=("\ufeff" + buffer.getvalue()).encode("utf-8"),
        rows=rows,
        unmasked_rows=len(logs),
    )
