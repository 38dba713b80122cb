"""Data back-flow (数据回流, DOMAIN.md §4): a department publishes a dataset to the committees, with a
purpose and an expiry; each committee sees only its own area's rows; at expiry the rows are purged.

Publishing places every row in a committee: by the 12-digit committee code given in the row, or else
by the place of the registry person whose resident ID number matches. An address alone is not
geocoded here: it is kept with the row's data, and a row with neither a known committee code nor a
matching person is rejected. Rejected rows (bad ID number, unknown committee, duplicate ID in the
dataset) are reported back with their reason and not stored; the other rows are published.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from shequ.accounts.models import Organisation
from shequ.core.events import event_record
from shequ.core.validators import check_id_number
from shequ.places.models import Division, DivisionLevel

from . import permissions
from .models import BackflowDataset, BackflowRow, DatasetStatus, DocumentType, Person

DATASET_PUBLISHED = "DATASET_PUBLISHED"
DATASET_PURGED = "DATASET_PURGED"

PURPOSE_MIN_LENGTH = 4
BATCH_SIZE = 2000
_LOOKUP_CHUNK = 1000

# Row keys with a meaning of their own; every other key is kept in the row's ``data``.
ID_KEYS = ("id_number", "身份证号", "身份证号码")
NAME_KEYS = ("name", "姓名")
COMMITTEE_KEYS = ("committee", "committee_code", "居村代码", "居委会代码")


@dataclass(frozen=True)
class RejectedRow:
    number: int  # 1-based position in the input
    id_number: str
    committee: str
    reason: str


@dataclass
class BackflowPublishResult:
    dataset: BackflowDataset
    rejected: list[RejectedRow] = field(default_factory=list)


@dataclass
class _Row:
    number: int
    id_number: str
    name: str
    committee_code: str
    data: dict[str, Any]


def _first(row: Mapping[str, Any], keys: tuple[str, ...]) -> str:
    for key in keys:
        value = row.get(key)
        if value not in (None, ""):
            return str(value).strip()
    return ""


def _parse(rows: Iterable[Mapping[str, Any]]) -> list[_Row]:
    parsed: list[_Row] = []
    known = {*ID_KEYS, *NAME_KEYS, *COMMITTEE_KEYS, "data"}
    for number, row in enumerate(rows, start=1):
        extra = row.get("data") if isinstance(row.get("data"), Mapping) else {}
        data = {str(k): v for k, v in row.items() if k not in known and v not in (None, "")}
        data.update({str(k): v for k, v in dict(extra or {}).items()})
        parsed.append(
            _Row(
                number=number,
                id_number=_first(row, ID_KEYS).replace(" ", "").upper(),
                name=_first(row, NAME_KEYS)[:64],
                committee_code=_first(row, COMMITTEE_KEYS),
                data=data,
            )
        )
    return parsed


def _matched_persons(numbers: list[str]) -> dict[str, tuple[int, str]]:
    """Registry persons (working records) by resident ID number: (pk, path)."""
    found: dict[str, tuple[int, str]] = {}
    for start in range(0, len(numbers), _LOOKUP_CHUNK):
        rows = Person.objects.filter(
            document_type=DocumentType.RESIDENT_ID,
            id_number__in=numbers[start : start + _LOOKUP_CHUNK],
            archived_at__isnull=True,
        ).values_list("id_number", "pk", "path")
        found.update({number: (pk, path) for number, pk, path in rows})
    return found


def _committees(codes: set[str]) -> dict[str, Division]:
    result: dict[str, Division] = {}
    wanted = sorted(codes)
    for start in range(0, len(wanted), _LOOKUP_CHUNK):
        for division in Division.objects.filter(
            code__in=wanted[start : start + _LOOKUP_CHUNK], level=DivisionLevel.COMMITTEE, is_active=True
        ).only("pk", "code", "path"):
            result[division.code] = division
    return result


def _committee_code_of(path: str) -> str:
    parts = [p for p in path.split("/") if p]
    return parts[3] if len(parts) > 3 else ""


def _check(*, publisher: Organisation, name: str, purpose: str, expires_at: datetime, actor: Any) -> None:
    if not permissions.can_publish_backflow(actor, publisher.pk):
        raise PermissionDenied(_("您无权以该部门名义发布回流数据。"))
    if not name.strip():
        raise ValidationError({"name": _("请填写数据集名称。")})
    if len(purpose.strip()) < PURPOSE_MIN_LENGTH:
        raise ValidationError(
            {"purpose": _("请说明数据的用途（至少 %(n)d 个字）。") % {"n": PURPOSE_MIN_LENGTH}}
        )
    if timezone.is_naive(expires_at):
        raise ValidationError({"expires_at": _("到期时间须带时区。")})
    if expires_at <= timezone.now():
        raise ValidationError({"expires_at": _("到期时间须晚于现在。")})


def backflow_publish(
    *,
    publisher: Organisation,
    name: str,
    purpose: str,
    expires_at: datetime,
    rows: Iterable[Mapping[str, Any]],
    actor: Any,
) -> BackflowPublishResult:
    """Publish a dataset to the committees its rows concern; returns it with the rejected rows."""
    _check(publisher=publisher, name=name, purpose=purpose, expires_at=expires_at, actor=actor)
    parsed = _parse(rows)
    if not parsed:
        raise ValidationError({"rows": _("数据集没有任何行。")})
    rejected: list[RejectedRow] = []
    seen: set[str] = set()
    valid: list[_Row] = []
    for row in parsed:
        reason = ""
        if row.id_number:
            check = check_id_number(row.id_number)
            if check.errors:
                reason = "; ".join(check.errors)
            elif row.id_number in seen:
                reason = _("身份证号码在本数据集中重复。")
            seen.add(row.id_number)
        elif not row.committee_code:
            reason = _("缺少身份证号码和居村代码。")
        if reason:
            rejected.append(RejectedRow(row.number, row.id_number, row.committee_code, str(reason)))
        else:
            valid.append(row)
    persons = _matched_persons([r.id_number for r in valid if r.id_number])
    committees = _committees(
        {r.committee_code for r in valid if r.committee_code}
        | {_committee_code_of(path) for _pk, path in persons.values()}
    )
    placed: list[BackflowRow] = []
    for row in valid:
        person = persons.get(row.id_number) if row.id_number else None
        code = row.committee_code or (_committee_code_of(person[1]) if person else "")
        committee = committees.get(code)
        if committee is None:
            reason = (
                _("居村代码 %(code)s 不是有效的居村委。") % {"code": code}
                if row.committee_code
                else _("无法确定所属居村：没有居村代码，也没有匹配到登记人员。")
            )
            rejected.append(RejectedRow(row.number, row.id_number, row.committee_code, str(reason)))
            continue
        # A matched person living in this committee places the row at their compound; otherwise the
        # row sits at the committee itself.
        path = person[1] if person and person[1].startswith(committee.path) else committee.path
        placed.append(
            BackflowRow(
                committee=committee,
                path=path,
                id_number=row.id_number,
                name=row.name,
                data=row.data,
                person_id=person[0] if person else None,
            )
        )
    if not placed:
        raise ValidationError({"rows": _("没有可发布的行：所有行均有错误。")})
    with transaction.atomic():
        dataset = BackflowDataset.objects.create(
            publisher=publisher,
            published_by=actor,
            name=name.strip()[:200],
            purpose=purpose.strip()[:255],
            published_at=timezone.now(),
            expires_at=expires_at,
            row_count=len(placed),
            matched_count=sum(1 for r in placed if r.person_id is not None),
        )
        for item in placed:
            item.dataset = dataset
        BackflowRow.objects.bulk_create(placed, batch_size=BATCH_SIZE)
        event_record(
            subject=dataset,
            type=DATASET_PUBLISHED,
            actor=actor,
            data={
                "publisher_id": publisher.pk,
                "name": dataset.name,
                "purpose": dataset.purpose,
                "expires_at": expires_at.isoformat(),
                "rows": dataset.row_count,
                "matched": dataset.matched_count,
                "rejected": len(rejected),
                "committees": len({r.committee_id for r in placed}),
            },
        )
    return BackflowPublishResult(dataset=dataset, rejected=rejected)


def backflow_purge_expired(*, now: datetime, actor: Any | None = None) -> list[BackflowDataset]:
    """Delete the rows of every dataset past its expiry and mark it purged. Idempotent: a purged
    dataset is never touched again."""
    purged: list[BackflowDataset] = []
    expired = list(
        BackflowDataset.objects.filter(status=DatasetStatus.ACTIVE, expires_at__lte=now)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    for pk in expired:
        with transaction.atomic():
            dataset = BackflowDataset.objects.select_for_update().get(pk=pk)
            if dataset.status != DatasetStatus.ACTIVE:
                continue
            deleted, _by_model = BackflowRow.objects.filter(dataset=dataset).delete()
            dataset.status = DatasetStatus.PURGED
            dataset.purged_at = now
            dataset.save(update_fields=["status", "purged_at"])
            event_record(
                subject=dataset,
                type=DATASET_PURGED,
                actor=actor,
                data={
                    "publisher_id": dataset.publisher_id,
                    "expires_at": dataset.expires_at.isoformat(),
                    "rows_deleted": deleted,
                },
                occurred_at=now,
            )
            purged.append(dataset)
    return purged
