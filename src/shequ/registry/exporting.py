"""Exporting the registry as a committee ledger (the import's file format), .xlsx or .csv.

- The persons are those of the worker's registry search (``selectors_people.person_search``) with the
  same filters: the visibility module and the registry's view rule decide who is in the file.
- Masked by default (``shequ.core.privacy.masked_value``). Clear values only when the exporter may
  export unmasked (``permissions.can_export_unmasked``) for *every* person in the file and states a
  purpose; then one access-log row per exported person is written before the file is produced (the
  same fields ``reveal()`` writes), and one export event.
- Tags: only those the exporter may see there (sensitive tags per their roles), and never computed
  tags (they are derived, and cannot be imported). An unmasked export re-imports cleanly.
- Streaming: CSV is produced row by row; the workbook is written with openpyxl's write_only mode to a
  temporary file.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import IO, Any

from django.db import transaction
from django.db.models import Prefetch, Q, QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from shequ.core.errors import ApiError
from shequ.core.events import event_record
from shequ.core.models import AccessLog
from shequ.core.privacy import PURPOSE_MIN_LENGTH, client_ip, masked_value

from . import ledger, permissions
from .filters import PersonCriteria, criteria_validate
from .models import HouseholdMember, Person, TagAssignment
from .selectors_people import person_search

EXPORT_CHUNK = 2000
REGISTRY_PERSONS_EXPORTED = "REGISTRY_PERSONS_EXPORTED"
PERSONAL_FIELDS = tuple(Person.PERSONAL_FIELDS)


@dataclass
class Export:
    persons: QuerySet[Person]
    unmasked: bool
    fmt: str
    count: int

    @property
    def filename(self) -> str:
        stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
        return f"registry-{stamp}{'' if self.unmasked else '-masked'}.{self.fmt}"

    @property
    def content_type(self) -> str:
        if self.fmt == ledger.CSV:
            return "text/csv; charset=utf-8"
        return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def export_queryset(*, user: Any, criteria: PersonCriteria, as_of: date) -> QuerySet[Person]:
    """The persons of an export, with everything a ledger row shows joined or prefetched (a fixed
    number of queries per chunk)."""
    criteria_validate(criteria, user=user)
    members = HouseholdMember.objects.only("household_id", "person_id", "relation")
    tags = TagAssignment.objects.filter(ended_at__isnull=True, tag__rule="").select_related("tag")
    return (
        person_search(user=user, criteria=criteria, as_of=as_of)
        .select_related("house__building__compound")
        .prefetch_related(
            Prefetch("household_memberships", queryset=members, to_attr="export_memberships"),
            Prefetch("tag_assignments", queryset=tags, to_attr="export_tags"),
        )
        .order_by("path", "pk")
    )


def _entitled_everywhere(user: Any, persons: QuerySet[Person]) -> bool:
    """Whether ``can_export_unmasked`` holds for every person of the export."""
    paths = permissions.paths_with_roles(user, permissions.EXPORT_UNMASKED_ROLES)
    if paths is None:
        return True
    if not paths:
        return False
    covered = Q(pk__in=[])
    for path in paths:
        covered |= Q(path__startswith=path)
    return not persons.exclude(covered).exists()


def registry_export_prepare(
    *,
    user: Any,
    criteria: PersonCriteria,
    fmt: str,
    purpose: str = "",
    unmasked: bool = False,
    request: HttpRequest | None = None,
) -> Export:
    """Decide what an export contains; for an unmasked one, log every person's access first.

    Without ``unmasked`` (or without a purpose) the file is masked. Asking for an unmasked file
    without the right, or without a purpose, is refused (403 / 422) rather than silently masked."""
    if fmt not in ledger.FORMATS:
        raise ApiError(_("格式只能是 xlsx 或 csv。"), code="invalid", field="format", status=422)
    as_of = timezone.localdate()
    persons = export_queryset(user=user, criteria=criteria, as_of=as_of)
    purpose = (purpose or "").strip()
    if unmasked:
        if len(purpose) < PURPOSE_MIN_LENGTH:
            raise ApiError(
                _("导出明文数据须说明用途。"), code="purpose_required", field="purpose", status=422
            )
        if not _entitled_everywhere(user, persons):
            raise ApiError(_("您无权导出明文数据。"), code="forbidden", status=403)
    count = persons.count()
    with transaction.atomic():
        if unmasked:
            _access_logs_write(user=user, persons=persons, purpose=purpose, request=request)
        event_record(
            subject=user,
            type=REGISTRY_PERSONS_EXPORTED,
            actor=user,
            data={
                "count": count,
                "unmasked": unmasked,
                "purpose": purpose if unmasked else "",
                "format": fmt,
                "criteria": criteria.to_json(),
            },
        )
    return Export(persons=persons, unmasked=unmasked, fmt=fmt, count=count)


def _access_logs_write(
    *, user: Any, persons: QuerySet[Person], purpose: str, request: HttpRequest | None
) -> int:
    """One ``AccessLog`` row per exported person (what ``reveal()`` writes for one record)."""
    now = timezone.now()
    ip = client_ip(request)
    written = 0
    batch: list[AccessLog] = []
    for pk in persons.order_by().values_list("pk", flat=True).iterator(chunk_size=EXPORT_CHUNK):
        batch.append(
            AccessLog(
                accessed_at=now,
                actor=user,
                subject_type=Person._meta.label_lower,
                subject_id=str(pk),
                fields=list(PERSONAL_FIELDS),
                purpose=purpose[:255],
                ip_address=ip,
                data_subject_id=str(pk),
            )
        )
        if len(batch) >= EXPORT_CHUNK:
            AccessLog.objects.bulk_create(batch)
            written += len(batch)
            batch = []
    if batch:
        AccessLog.objects.bulk_create(batch)
        written += len(batch)
    return written


def export_rows(export: Export, *, user: Any) -> Iterator[list[Any]]:
    """The header and one ledger row per person."""
    yield ledger.header_row()
    visible_tags: dict[tuple[int, str], bool] = {}
    for person in export.persons.iterator(chunk_size=EXPORT_CHUNK):
        house = person.house
        building = house.building if house is not None else None
        compound = building.compound if building is not None else None
        memberships: list[HouseholdMember] = getattr(person, "export_memberships", [])
        membership = memberships[0] if memberships else None
        codes: list[str] = []
        for assignment in getattr(person, "export_tags", []):
            key = (assignment.tag_id, person.path)
            if key not in visible_tags:
                visible_tags[key] = permissions.can_see_tag(user, assignment.tag, person.path)
            if visible_tags[key]:
                codes.append(assignment.tag.code)

        def personal(name: str, p: Person = person) -> str:
            value = getattr(p, name)
            return ("" if value is None else str(value)) if export.unmasked else masked_value(p, name)

        values = {
            "compound": compound.code if compound is not None else "",
            "building": building.number if building is not None else "",
            "unit": house.unit if house is not None else "",
            "room": house.room if house is not None else "",
            "household": str(membership.household_id) if membership is not None else "",
            "relation": ledger.enum_label("relation", membership.relation) if membership is not None else "",
            "name": personal("name"),
            "document_type": ledger.enum_label("document_type", person.document_type),
            "id_number": personal("id_number"),
            "birth_date": person.birth_date.isoformat() if person.birth_date else "",
            "sex": ledger.enum_label("sex", person.sex),
            "mobile": personal("mobile"),
            "registered_address": personal("registered_address"),
            "status": ledger.enum_label("status", person.status),
            "population_kind": ledger.enum_label("population_kind", person.population_kind),
            "tenure": ledger.enum_label("tenure", house.tenure) if house is not None else "",
            "tags": ",".join(sorted(codes)),
        }
        yield [values[key] for key in ledger.KEYS]


def export_csv_stream(export: Export, *, user: Any) -> Iterator[bytes]:
    for line in ledger.csv_lines(export_rows(export, user=user)):
        yield line.encode("utf-8")


def export_xlsx_file(export: Export, *, user: Any) -> IO[bytes]:
    """The workbook in a temporary file (deleted when closed), positioned at its start."""
    out = tempfile.TemporaryFile()  # noqa: SIM115 - handed to the response, which closes it
    ledger.write_xlsx(export_rows(export, user=user), out, widths=[c.width for c in ledger.COLUMNS])
    out.seek(0)
    return out
