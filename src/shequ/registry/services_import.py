"""Writes of the ledger import (居村台账导入): upload, validate, confirm, apply, cancel.

The job is a small state machine::

    uploaded → validating → validated → importing → imported
                         ↘ invalid               ↘ failed
    (uploaded | validating | validated | invalid) → cancelled

- Validation reads the whole file and checks every row before anything is written; its preview
  (one ``ImportRow`` per row: new / changed with the field diff / unchanged / error) is what the
  committee confirms. A file with any bad row can never be applied; its error report is the same file
  with an error column (错误说明).
- Apply happens in one transaction under a row lock on the job. It re-plans the import from the stored
  rows (repeating only the checks that read the database) and goes ahead only if the plan equals the
  confirmed preview; otherwise the preview is refreshed and the job waits for a new confirmation.
  Writes are bulk operations (on PostgreSQL new rows go in with ``COPY``), so a file of a million
  residents is loaded without per-row queries.
- Re-importing the same file changes nothing: every row is "unchanged" and only the job is written.
- Files of ``INLINE_MAX_ROWS`` rows or more are validated and applied by background tasks
  (``tasks_import``); smaller ones run right after the request's transaction commits.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import date, timedelta
from typing import IO, Any, cast

from django.core.files.base import ContentFile, File
from django.db import connection, models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from shequ.core.errors import ApiError
from shequ.core.events import event_record
from shequ.core.models import Event
from shequ.core.privacy import masked_changes, masked_for_record
from shequ.places.models import Division, DivisionLevel, House

from . import ledger
from .models import (
    AttributeProvenance,
    CorrectionOrigin,
    CorrectionRequest,
    Household,
    HouseholdMember,
    ImportJob,
    ImportRow,
    ImportStatus,
    Person,
    PersonStatus,
    PopulationKind,
    Relation,
    RowAction,
    Sex,
    Source,
    TagAssignment,
)
from .permissions import can_import
from .selectors_import import (
    ERROR,
    NOT_LIVING,
    PERSON_ATTRIBUTES,
    WARNING,
    Plan,
    PlannedRow,
    committee_street_code,
    import_plan,
    row_check,
)

logger = logging.getLogger(__name__)

INLINE_MAX_ROWS = 2000
MAX_FILE_BYTES = 300 * 1024 * 1024
PROGRESS_EVERY = 5000
BATCH_SIZE = 5000

REGISTRY_IMPORT_UPLOADED = "REGISTRY_IMPORT_UPLOADED"
REGISTRY_IMPORT_VALIDATED = "REGISTRY_IMPORT_VALIDATED"
REGISTRY_IMPORT_CONFIRMED = "REGISTRY_IMPORT_CONFIRMED"
REGISTRY_IMPORT_APPLIED = "REGISTRY_IMPORT_APPLIED"
REGISTRY_IMPORT_REPLANNED = "REGISTRY_IMPORT_REPLANNED"
REGISTRY_IMPORT_FAILED = "REGISTRY_IMPORT_FAILED"
REGISTRY_IMPORT_CANCELLED = "REGISTRY_IMPORT_CANCELLED"
REGISTRY_PERSON_IMPORTED = "REGISTRY_PERSON_IMPORTED"
REGISTRY_PERSON_IMPORT_UPDATED = "REGISTRY_PERSON_IMPORT_UPDATED"
REGISTRY_CORRECTION_REQUESTED = "REGISTRY_CORRECTION_REQUESTED"

PENDING = frozenset(
    {ImportStatus.UPLOADED, ImportStatus.VALIDATING, ImportStatus.VALIDATED, ImportStatus.IMPORTING}
)
CANCELLABLE = frozenset(
    {ImportStatus.UPLOADED, ImportStatus.VALIDATING, ImportStatus.VALIDATED, ImportStatus.INVALID}
)
PROVENANCE_ATTRIBUTES = PERSON_ATTRIBUTES
_PERSON_ATTRIBUTE_SET = frozenset(PERSON_ATTRIBUTES)


# --- Guards ------------------------------------------------------------------------------------


def can_confirm(job: ImportJob) -> bool:
    return job.status == ImportStatus.VALIDATED


def can_cancel(job: ImportJob) -> bool:
    return job.status in CANCELLABLE


def is_running(job: ImportJob) -> bool:
    return job.status in (ImportStatus.UPLOADED, ImportStatus.VALIDATING, ImportStatus.IMPORTING)


def _require_import_right(actor: Any, path: str) -> None:
    if not can_import(actor, path):
        raise ApiError(_("您无权向该居村导入台账。"), code="forbidden", status=403)


# --- Bulk insertion --------------------------------------------------------------------------


def _allocate_ids(model: type[models.Model], count: int) -> list[int]:
    """Primary keys for ``count`` new rows, taken before inserting them (inside the transaction)."""
    if count == 0:
        return []
    table = model._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)", [table, count]
            )
            return [row[0] for row in cursor.fetchall()]
        # SQLite: the write transaction holds the database lock, so the maximum cannot move.
        cursor.execute(f'SELECT COALESCE(MAX("id"), 0) FROM "{table}"')  # noqa: S608 - a model's table
        start = int(cursor.fetchone()[0]) + 1
    return list(range(start, start + count))


def json_text(value: Any) -> str:
    """A JSON column's database value (text on SQLite; ``COPY`` parses it into ``jsonb``)."""
    return _JSON_DUMPS(value)


_JSON_DUMPS = json.JSONEncoder(ensure_ascii=False).encode


def db_datetime(value: Any) -> Any:
    """A timestamp's database value (adapted once, then shared by every row written with it)."""
    return connection.ops.adapt_datetimefield_value(value)


def _preparer(field: models.Field[Any, Any], now: Any) -> Callable[[Any], Any] | None:
    """A fast ``value → database value`` for one field; ``None`` when the value passes through
    (plain text, numbers, keys). Timestamps (mostly one shared "now") are adapted once per value."""
    if isinstance(field, models.DateTimeField):
        cache: dict[Any, Any] = {}
        auto = field.auto_now or field.auto_now_add

        def prep_datetime(value: Any) -> Any:
            if value is None and auto:
                value = now
            if value not in cache:
                cache[value] = field.get_db_prep_save(value, connection)
            return cache[value]

        return prep_datetime
    if isinstance(field, models.DateField):
        return connection.ops.adapt_datefield_value
    if isinstance(field, models.JSONField):
        return json_text
    if isinstance(
        field,
        models.CharField | models.TextField | models.IntegerField | models.BooleanField | models.ForeignKey,
    ):
        return None
    return lambda value: field.get_db_prep_save(value, connection)


def _prepared_rows(
    rows: Iterable[Sequence[Any]], preparers: list[Callable[[Any], Any] | None], defaults: tuple[Any, ...]
) -> Iterator[tuple[Any, ...]]:
    """Rows with their values adapted where a field needs it, the defaulted columns appended."""
    active = [(i, prep) for i, prep in enumerate(preparers) if prep is not None]
    if not active:
        if defaults:
            for row in rows:
                yield (*row, *defaults)
        else:
            for row in rows:
                yield tuple(row)
        return
    for row in rows:
        values = list(row)
        for i, prep in active:
            values[i] = prep(values[i])
        yield (*values, *defaults)


def bulk_insert_values(
    model: type[models.Model], names: Sequence[str], rows: Iterable[Sequence[Any]], *, ready: bool = False
) -> int:
    """Insert rows given as value tuples (in the order of ``names``, attribute names such as
    ``person_id``): ``COPY`` on PostgreSQL, ``executemany`` in large batches elsewhere. Fields left out
    take their model default (``auto_now`` timestamps: one shared "now"). No signals, no returned keys.

    With ``ready`` the values are database values already (dates as ISO text, timestamps through
    ``db_datetime``, JSON through ``json_text``) and go in as they are: the fast path of the import."""
    by_attname = {f.attname: f for f in model._meta.concrete_fields}
    named = [by_attname[n] for n in names]
    rest = [f for f in model._meta.concrete_fields if f.attname not in names and not f.primary_key]
    now = timezone.now()
    defaults = []
    for f in rest:
        value = now if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False) else f.get_default()
        prep = _preparer(f, now)
        defaults.append(value if prep is None else prep(value))
    preparers = [None if ready else _preparer(f, now) for f in named]
    prepared = _prepared_rows(rows, preparers, tuple(defaults))
    fields = named + rest
    table = connection.ops.quote_name(model._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    count = 0
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            raw = cursor.cursor  # the psycopg cursor under Django's wrapper
            with raw.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                write = copy.write_row
                for row in prepared:
                    write(row)
                    count += 1
            return count
        placeholders = ", ".join(["%s"] * len(fields))
        sql = f"INSERT INTO {table} ({columns}) VALUES ({placeholders})"  # noqa: S608 - quoted names
        # One statement for all rows: sqlite3 steps through the generator without building a list.
        cursor.executemany(sql, prepared)  # type: ignore[arg-type]
        return max(cursor.rowcount, 0)


def bulk_insert(model: type[models.Model], objs: Sequence[models.Model]) -> None:
    """Insert new instances in bulk (see ``bulk_insert_values``). Instances either all carry their
    primary key (see ``_allocate_ids``) or none does."""
    if not objs:
        return
    with_pk = objs[0].pk is not None
    names = [f.attname for f in model._meta.concrete_fields if with_pk or not f.primary_key]
    bulk_insert_values(model, names, ([getattr(obj, n) for n in names] for obj in objs))


# --- Upload ------------------------------------------------------------------------------------


def _sha256(stream: IO[bytes]) -> str:
    digest = hashlib.sha256()
    stream.seek(0)
    while chunk := stream.read(1 << 20):
        digest.update(chunk)
    stream.seek(0)
    return digest.hexdigest()


def import_job_create(
    *, committee: Division, actor: Any, upload: File, name: str, idempotency_key: str = ""
) -> ImportJob:
    """Store an uploaded ledger as a new job and start its validation (after commit).

    Idempotent: the same file uploaded again by the same user while a job for it is pending, or the
    same ``idempotency_key`` from the same user, returns the existing job."""
    if committee.level != DivisionLevel.COMMITTEE:
        raise ApiError(_("台账只能导入到居村委。"), code="invalid", field="committee", status=422)
    _require_import_right(actor, committee.path)
    fmt = ledger.detect_format(name or getattr(upload, "name", "") or "")
    if upload.size is not None and upload.size > MAX_FILE_BYTES:
        raise ApiError(_("文件过大。"), code="too_large", field="file", status=413)
    digest = _sha256(upload)
    key = (idempotency_key or "").strip()[:200]
    with transaction.atomic():
        # One upload at a time per committee: the duplicate checks below cannot race.
        Division.objects.select_for_update().only("pk").get(pk=committee.pk)
        if key:
            earlier = (
                Event.objects.filter(type=REGISTRY_IMPORT_UPLOADED, actor=actor, data__idempotency_key=key)
                .values_list("subject_id", flat=True)
                .first()
            )
            if earlier is not None:
                job = ImportJob.objects.get(pk=int(earlier))
                if job.file_sha256 != digest:
                    raise ApiError(_("该幂等键已用于另一个文件。"), code="idempotency_conflict", status=409)
                return job
        pending = (
            ImportJob.objects.filter(
                division=committee, created_by=actor, file_sha256=digest, status__in=PENDING
            )
            .order_by("-pk")
            .first()
        )
        if pending is not None:
            return pending
        try:
            total = ledger.count_rows(upload, fmt)
        except ledger.LedgerError as exc:
            raise ApiError(str(exc), code="invalid", field="file", status=422) from exc
        job = ImportJob(
            division=committee,
            created_by=actor,
            original_name=(name or "ledger")[:255],
            file_sha256=digest,
            status=ImportStatus.UPLOADED,
            total_rows=total,
            path=committee.path,
        )
        upload.seek(0)
        job.file.save(f"ledger-{digest[:16]}.{fmt}", upload, save=False)
        job.save()
        event_record(
            subject=job,
            type=REGISTRY_IMPORT_UPLOADED,
            actor=actor,
            data={"name": job.original_name, "rows": total, "sha256": digest, "idempotency_key": key},
            scope_path=committee.path,
        )
        transaction.on_commit(lambda: _start_validation(job))
    return job


def _start_validation(job: ImportJob) -> None:
    if job.total_rows < INLINE_MAX_ROWS:
        import_job_validate(job_id=job.pk)
        return
    from .tasks_import import import_validate_task

    import_validate_task.enqueue(job.pk)


# --- Validation --------------------------------------------------------------------------------


def _set_progress(job_id: int, processed: int) -> str:
    """Record progress (outside any transaction, so the progress bar sees it) and return the status."""
    ImportJob.objects.filter(pk=job_id).update(processed_rows=processed)
    return ImportJob.objects.filter(pk=job_id).values_list("status", flat=True).get()


def _fail(job_id: int, message: str, actor: Any = None) -> ImportJob:
    with transaction.atomic():
        job = ImportJob.objects.select_for_update().get(pk=job_id)
        job.status = ImportStatus.FAILED
        job.message = message[:2000]
        job.finished_at = timezone.now()
        job.save(update_fields=["status", "message", "finished_at"])
        event_record(
            subject=job,
            type=REGISTRY_IMPORT_FAILED,
            actor=actor,
            data={"message": job.message},
            scope_path=job.path,
        )
    return job


def checked_rows(
    stream: IO[bytes], fmt: str, *, today: date, progress: Callable[[int], bool] | None = None
) -> list[tuple[int, dict[str, Any], list[dict[str, str]]]]:
    """Every data row of the file, normalised and checked without the database. ``progress`` is called
    every ``PROGRESS_EVERY`` rows; returning False stops the reading (cancellation)."""
    rows: list[tuple[int, dict[str, Any], list[dict[str, str]]]] = []
    for raw in ledger.iter_ledger_rows(stream, fmt):
        data, issues = row_check(raw.values, today=today)
        rows.append((raw.number, data, issues))
        if progress is not None and len(rows) % PROGRESS_EVERY == 0 and not progress(len(rows)):
            break
    return rows


def row_error_text(issues: Iterable[dict[str, str]]) -> str:
    return "；".join(
        f"{ledger.HEADERS.get(i['field'], i['field'])}：{i['message']}"
        for i in issues
        if i.get("level") == ERROR
    )


_PERSON_COLUMNS = (
    "id",
    "name",
    "document_type",
    "id_number",
    "birth_date",
    "sex",
    "mobile",
    "registered_address",
    "population_kind",
    "status",
    "house_id",
    "street_code",
    "path",
    "created_at",
    "updated_at",
    "status_changed_at",
)
_PROVENANCE_COLUMNS = ("person_id", "attribute", "source", "confirmed_at", "confirmed_by_id")
_HOUSEHOLD_COLUMNS = ("id", "house_id", "head_id", "street_code", "path", "created_at")
_MEMBER_COLUMNS = ("household_id", "person_id", "relation", "street_code")
_EVENT_COLUMNS = ("occurred_at", "actor_id", "subject_type", "subject_id", "type", "data", "scope_path")
_PREVIEW_COLUMNS = ("job_id", "row_number", "action", "person_id", "errors", "changes", "data")


def _preview_values(job: ImportJob, plan: Plan) -> Iterator[tuple[Any, ...]]:
    """The preview rows of ``plan`` as database values (see ``_PREVIEW_COLUMNS``)."""
    job_id = job.pk
    for row in plan.rows:
        yield (
            job_id,
            row.number,
            row.action,
            row.person_id,
            json_text(row.issues) if row.issues else "[]",
            json_text(row.changes) if row.changes else "{}",
            json_text(row.data),
        )


def _store_preview(job: ImportJob, plan: Plan) -> dict[str, int]:
    """Replace the job's preview rows with ``plan``; store the error report. Inside a transaction."""
    ImportRow.objects.filter(job=job).delete()
    bulk_insert_values(ImportRow, _PREVIEW_COLUMNS, _preview_values(job, plan), ready=True)
    counts = plan.counts()
    job.counts = counts
    job.total_rows = len(plan.rows)
    job.processed_rows = len(plan.rows)
    errors = {row.number: row_error_text(row.issues) for row in plan.rows if row.action == RowAction.ERROR}
    if job.error_report:
        job.error_report.delete(save=False)
    if errors:
        fmt = ledger.detect_format(job.file.name)
        with job.file.open("rb") as stream:
            report = ledger.error_report_bytes(stream, fmt, errors)
        job.error_report.save(f"errors-{job.pk}.{fmt}", ContentFile(report), save=False)
    else:
        job.error_report = None
    job.status = ImportStatus.INVALID if errors else ImportStatus.VALIDATED
    return counts


def import_job_validate(*, job_id: int) -> ImportJob:
    """Check every row of the job's file and store the preview. Runs once per job (idempotent)."""
    with transaction.atomic():
        job = ImportJob.objects.select_for_update().select_related("division", "created_by").get(pk=job_id)
        if job.status != ImportStatus.UPLOADED:
            return job
        job.status = ImportStatus.VALIDATING
        job.processed_rows = 0
        job.save(update_fields=["status", "processed_rows"])
    today = timezone.localdate()
    fmt = ledger.detect_format(job.file.name)
    try:
        with job.file.open("rb") as stream:
            rows = checked_rows(
                stream,
                fmt,
                today=today,
                progress=lambda n: _set_progress(job_id, n) == ImportStatus.VALIDATING,
            )
        if _set_progress(job_id, len(rows)) != ImportStatus.VALIDATING:
            return ImportJob.objects.get(pk=job_id)
        if not rows:
            raise ledger.LedgerError(_("文件中没有数据行。"))
        plan = import_plan(committee=job.division, actor=job.created_by, rows=rows)
    except ledger.LedgerError as exc:
        with transaction.atomic():
            job = ImportJob.objects.select_for_update().get(pk=job_id)
            if job.status == ImportStatus.VALIDATING:
                job.status = ImportStatus.INVALID
                job.message = str(exc)
                job.counts = {}
                job.save(update_fields=["status", "message", "counts"])
        return job
    except Exception:
        logger.exception("Ledger validation failed (job %s)", job_id)
        return _fail(job_id, _("校验时出现内部错误，已记录。"))
    with transaction.atomic():
        job = ImportJob.objects.select_for_update().get(pk=job_id)
        if job.status != ImportStatus.VALIDATING:  # cancelled meanwhile
            return job
        counts = _store_preview(job, plan)
        job.message = ""
        job.save(
            update_fields=["status", "counts", "total_rows", "processed_rows", "error_report", "message"]
        )
        event_record(
            subject=job, type=REGISTRY_IMPORT_VALIDATED, actor=None, data=counts, scope_path=job.path
        )
    return job


# --- Confirm, apply, cancel ------------------------------------------------------------------------


def import_job_confirm(*, job: ImportJob, actor: Any) -> ImportJob:
    """The committee confirms the preview: the job is applied (now, or by a task for large files)."""
    with transaction.atomic():
        job = ImportJob.objects.select_for_update().get(pk=job.pk)
        _require_import_right(actor, job.path)
        if not can_confirm(job):
            raise ApiError(_("只有校验通过、待确认的导入才能执行。"), code="invalid_state", status=409)
        job.status = ImportStatus.IMPORTING
        job.processed_rows = 0
        job.message = ""
        job.save(update_fields=["status", "processed_rows", "message"])
        event_record(subject=job, type=REGISTRY_IMPORT_CONFIRMED, actor=actor, data={}, scope_path=job.path)
        actor_id = actor.pk
        transaction.on_commit(lambda: _start_apply(job, actor_id))
    return job


def _start_apply(job: ImportJob, actor_id: int) -> None:
    if job.total_rows < INLINE_MAX_ROWS:
        from shequ.accounts.models import User

        import_job_apply(job_id=job.pk, actor=User.objects.get(pk=actor_id))
        return
    from .tasks_import import import_apply_task

    import_apply_task.enqueue(job.pk, actor_id)


def _stored_rows(job: ImportJob) -> tuple[list[tuple[int, dict[str, Any], list[dict[str, str]]]], list[Any]]:
    """The confirmed preview: the rows to re-plan (number, data, row warnings) and, per row, what it
    was to do (number, action, person, the changes as stored JSON text). Read with one plain query:
    the JSON is decoded here once, and the changes only where a row has any."""
    rows: list[tuple[int, dict[str, Any], list[dict[str, str]]]] = []
    signature: list[tuple[int, str, int | None, str]] = []
    loads = json.loads
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT row_number, action, person_id, data, errors, changes FROM registry_importrow "
            "WHERE job_id = %s ORDER BY row_number",
            [job.pk],
        )
        while chunk := cursor.fetchmany(BATCH_SIZE):
            for number, action, person_id, data, errors, changes in chunk:
                # Row-level problems were found at validation and need no database: keep the warnings.
                warnings = (
                    [e for e in loads(errors) if e.get("level") == WARNING]
                    if errors and errors != "[]"
                    else []
                )
                rows.append((number, loads(data), warnings))
                signature.append((number, action, person_id, changes))
    return rows, signature


def _plan_matches(plan: Plan, confirmed: list[tuple[int, str, int | None, str]]) -> bool:
    """Whether the new plan does, row for row, what the confirmed preview said."""
    if len(plan.rows) != len(confirmed):
        return False
    for row, (number, action, person_id, changes) in zip(plan.rows, confirmed, strict=True):
        if row.number != number or row.action != action or row.person_id != person_id:
            return False
        if not row.changes:
            if changes not in ("{}", None) and json.loads(changes):
                return False
        elif changes in ("{}", None) or json.loads(changes) != row.changes:
            return False
    return True


def import_job_apply(*, job_id: int, actor: Any) -> ImportJob:
    """Load a confirmed job, all or nothing, in one transaction."""
    replanned = False
    try:
        with transaction.atomic():
            job = ImportJob.objects.select_for_update().select_related("division").get(pk=job_id)
            if job.status != ImportStatus.IMPORTING:
                return job  # applied already, or never confirmed: a retried task changes nothing
            _require_import_right(actor, job.path)
            rows, confirmed = _stored_rows(job)
            plan = import_plan(committee=job.division, actor=actor, rows=rows)
            if not _plan_matches(plan, confirmed):
                # The registry changed since the preview: show the new preview, ask again.
                counts = _store_preview(job, plan)
                job.message = _("校验后登记数据发生了变化，已按最新数据重新生成预览，请重新确认。")
                job.save(
                    update_fields=[
                        "status",
                        "counts",
                        "total_rows",
                        "processed_rows",
                        "error_report",
                        "message",
                    ]
                )
                event_record(
                    subject=job, type=REGISTRY_IMPORT_REPLANNED, actor=actor, data=counts, scope_path=job.path
                )
                replanned = True
            else:
                summary = _execute(job=job, plan=plan, actor=actor)
                job.status = ImportStatus.IMPORTED
                job.processed_rows = len(plan.rows)
                job.finished_at = timezone.now()
                job.save(update_fields=["status", "processed_rows", "finished_at"])
                event_record(
                    subject=job,
                    type=REGISTRY_IMPORT_APPLIED,
                    actor=actor,
                    data={**job.counts, **summary},
                    scope_path=job.path,
                )
    except ApiError:
        raise
    except Exception:
        logger.exception("Ledger import failed (job %s)", job_id)
        return _fail(job_id, _("导入失败，未写入任何数据；错误已记录。"), actor)
    job.refresh_from_db()
    if replanned:
        logger.info("Ledger import %s re-planned before apply", job_id)
    return job


def import_job_cancel(*, job: ImportJob, actor: Any) -> ImportJob:
    with transaction.atomic():
        job = ImportJob.objects.select_for_update().get(pk=job.pk)
        _require_import_right(actor, job.path)
        if not can_cancel(job):
            raise ApiError(_("该导入已无法取消。"), code="invalid_state", status=409)
        job.status = ImportStatus.CANCELLED
        job.finished_at = timezone.now()
        job.save(update_fields=["status", "finished_at"])
        event_record(subject=job, type=REGISTRY_IMPORT_CANCELLED, actor=actor, data={}, scope_path=job.path)
    return job


# --- Execution of a plan -------------------------------------------------------------------------


def _record_events(values: list[tuple[Any, ...]]) -> None:
    """Append the import's event rows (columns ``_EVENT_COLUMNS``, database values) in bulk: the same
    rows ``shequ.core.events`` writes, without a model instance per row."""
    bulk_insert_values(Event, _EVENT_COLUMNS, values, ready=True)


def _create_houses(plan: Plan) -> dict[tuple[int, str, str], int]:
    """Houses named in the file but unknown in a known building; returns every house key → pk."""
    keys = {key: pk for key, (pk, _tenure) in plan.houses.items()}
    if plan.new_houses:
        houses = [
            House(
                building_id=building_id,
                unit=unit,
                room=room,
                floor=_floor_of(room),
                tenure=tenure or House._meta.get_field("tenure").default,
            )
            for (building_id, unit, room), tenure in plan.new_houses.items()
        ]
        for house in House.objects.bulk_create(houses, batch_size=BATCH_SIZE):
            keys[(house.building_id, house.unit, house.room)] = house.pk
    if plan.tenure_changes:
        changed = list(House.objects.filter(pk__in=list(plan.tenure_changes)).only("pk", "tenure"))
        for house in changed:
            house.tenure = plan.tenure_changes[house.pk]
        House.objects.bulk_update(changed, ["tenure"], batch_size=BATCH_SIZE)
    return keys


def _floor_of(room: str) -> int:
    digits = "".join(c for c in room if c.isdigit())
    return int(digits[:-2]) if len(digits) >= 3 else 1


def _person_place(plan: Plan, row: PlannedRow) -> str:
    """The place path of a row's person: their compound's, or the committee's without a house."""
    if row.house_key is None:
        return plan.committee.path
    building = plan.buildings[row.house_key[0]]
    return plan.compounds[building.compound_id].path


def _execute(*, job: ImportJob, plan: Plan, actor: Any) -> dict[str, int]:  # noqa: PLR0912, PLR0915
    now = timezone.now()
    today = timezone.localdate()
    street_code = committee_street_code(plan.committee)
    house_ids = _create_houses(plan)
    summary = {"houses_created": len(plan.new_houses), "tenure_changed": len(plan.tenure_changes)}
    active = [r for r in plan.rows if r.action in (RowAction.NEW, RowAction.CHANGED)]

    # New persons, with their primary keys taken up front (COPY returns none), written as value
    # tuples (no model instances: a million of them would cost more than the insert).
    new_rows = [r for r in active if r.action == RowAction.NEW]
    ids = _allocate_ids(Person, len(new_rows))
    now_db = db_datetime(now)
    person_values: list[tuple[Any, ...]] = []
    for row, pk in zip(new_rows, ids, strict=True):
        data = row.data
        status = data.get("status", PersonStatus.LIVING_HERE)
        living = status not in NOT_LIVING
        person_values.append(
            (
                pk,
                data.get("name", ""),
                data["document_type"],
                data.get("id_number", ""),
                data.get("birth_date"),  # ISO text: both databases read it as a date
                data.get("sex", Sex.UNKNOWN),
                data.get("mobile", ""),
                data.get("registered_address", ""),
                data.get("population_kind", PopulationKind.REGISTERED),
                status,
                house_ids[row.house_key] if living and row.house_key is not None else None,
                street_code,
                _person_place(plan, row),
                now_db,
                now_db,
                None if living else now_db,
            )
        )
        row.person_id = pk
    bulk_insert_values(Person, _PERSON_COLUMNS, person_values, ready=True)
    del person_values

    # Changed persons: attributes they do not owe to a source department are updated in place; the
    # others become correction requests to their source.
    changed_rows = [r for r in active if r.action == RowAction.CHANGED]
    current: dict[int, Person] = {}
    changed_ids = [r.person_id for r in changed_rows]
    for start in range(0, len(changed_ids), 900):
        current.update(Person.objects.in_bulk(changed_ids[start : start + 900]))
    updates: list[Person] = []
    update_fields: set[str] = set()
    corrections: list[CorrectionRequest] = []
    confirmed: list[tuple[int, str]] = []
    for row in changed_rows:
        assert row.person_id is not None  # noqa: S101 - changed rows match a person
        person = current[row.person_id]
        touched = False
        for attribute, change in row.changes.items():
            if attribute not in PERSON_ATTRIBUTES:
                continue
            if change.get("correction"):
                corrections.append(
                    CorrectionRequest(
                        person_id=row.person_id,
                        attribute=attribute,
                        current_value=str(change["old"])[:255],
                        proposed_value=str(change["new"])[:255],
                        reason=_("台账导入（任务 %(job)s，第 %(row)s 行）")
                        % {"job": job.pk, "row": row.number},
                        origin=CorrectionOrigin.COMMITTEE_EDIT,
                        routed_to=change["correction"],
                        requested_by=actor,
                        path=person.path,
                        street_code=person.street_code,
                    )
                )
                continue
            touched = True
            confirmed.append((row.person_id, attribute))
            if attribute == "house":
                living = row.data.get("status", person.status) not in NOT_LIVING
                person.house_id = house_ids[row.house_key] if living and row.house_key else None
                person.path = _person_place(plan, row) if person.house_id else person.path
                update_fields.update({"house", "path"})
            elif attribute == "birth_date":
                person.birth_date = date.fromisoformat(row.data["birth_date"])
                update_fields.add("birth_date")
            else:
                setattr(person, attribute, row.data[attribute])
                update_fields.add(attribute)
                if attribute == "status":
                    person.status_changed_at = now
                    update_fields.add("status_changed_at")
        if touched:
            person.updated_at = now
            updates.append(person)
    if updates:
        Person.objects.bulk_update(updates, sorted(update_fields | {"updated_at"}), batch_size=1000)
    if corrections:
        CorrectionRequest.objects.bulk_create(corrections, batch_size=BATCH_SIZE)

    # Provenance: what the committee collected, confirmed now.
    provenance: list[tuple[int, str, str, Any, int]] = []
    replaced: list[int] = []
    committee_source = str(Source.COMMITTEE)
    actor_id = actor.pk
    collected = [a for a in PROVENANCE_ATTRIBUTES if a != "house"]
    for row in new_rows:
        pid = cast(int, row.person_id)
        data = row.data
        provenance.extend(
            (pid, attribute, committee_source, now_db, actor_id)
            for attribute in collected
            if data.get(attribute)
        )
        if row.house_key is not None:
            provenance.append((pid, "house", committee_source, now_db, actor_id))
    for person_id, attribute in confirmed:
        existing = plan.provenance.get((person_id, attribute))
        if existing is not None:
            replaced.append(existing[0])
        provenance.append((person_id, attribute, committee_source, now_db, actor_id))
    for start in range(0, len(replaced), 900):
        AttributeProvenance.objects.filter(pk__in=replaced[start : start + 900]).delete()
    bulk_insert_values(AttributeProvenance, _PROVENANCE_COLUMNS, provenance, ready=True)
    del provenance

    # Households and members.
    member_count = _write_households(plan, active, house_ids, street_code, now)

    # Tags (added, never removed).
    review_months = {t.pk: t.review_months for t in plan.tags.values()}
    assignments = [
        TagAssignment(
            person_id=cast(int, row.person_id),
            tag_id=tag_id,
            assigned_by_id=actor.pk,
            assigned_at=now,
            review_due=_review_due(today, review_months.get(tag_id)),
            path=_person_place(plan, row)
            if row.action == RowAction.NEW
            else plan.existing[row.person_id].path,  # type: ignore[index]
            street_code=street_code,
        )
        for row in active
        for tag_id in row.new_tags
    ]
    bulk_insert(TagAssignment, assignments)

    # One event per person written, with old/new (personal fields masked).
    scope = plan.committee.path
    job_id = job.pk
    subject_type = Person._meta.label_lower
    event_values: list[tuple[Any, ...]] = []
    for row in active:
        if row.action == RowAction.NEW:
            event_data: dict[str, Any] = {
                "job": job_id,
                "row": row.number,
                "new": {
                    k: masked_for_record(Person, k, v)
                    for k, v in row.data.items()
                    if k in _PERSON_ATTRIBUTE_SET
                },
            }
            kind = REGISTRY_PERSON_IMPORTED
        else:
            event_data = {"job": job_id, "row": row.number, "changes": masked_changes(Person, row.changes)}
            kind = REGISTRY_PERSON_IMPORT_UPDATED
        event_values.append(
            (now_db, actor_id, subject_type, str(row.person_id), kind, json_text(event_data), scope)
        )
    event_values.extend(
        (
            now_db,
            actor_id,
            subject_type,
            str(c.person_id),
            REGISTRY_CORRECTION_REQUESTED,
            json_text({"attribute": c.attribute, "routed_to": c.routed_to, "job": job_id}),
            c.path,
        )
        for c in corrections
    )
    _record_events(event_values)
    summary.update(
        {
            "persons_created": len(new_rows),
            "persons_updated": len(updates),
            "corrections_requested": len(corrections),
            "members_written": member_count,
            "tags_assigned": len(assignments),
        }
    )
    return summary


def _review_due(today: date, months: int | None) -> date | None:
    return today + timedelta(days=round(30.44 * months)) if months else None


def _write_households(  # noqa: PLR0912
    plan: Plan,
    active: list[PlannedRow],
    house_ids: dict[tuple[int, str, str], int],
    street_code: str,
    now: Any,
) -> int:
    groups: dict[str, list[PlannedRow]] = {}
    for row in plan.rows:
        if row.data.get("household") and row.action != RowAction.ERROR:
            groups.setdefault(row.data["household"], []).append(row)
    new_numbers = [n for n, rows in groups.items() if plan.households.get(n) is None]
    ids = _allocate_ids(Household, len(new_numbers))
    now_db = db_datetime(now)
    households: list[tuple[Any, ...]] = []
    target: dict[str, int] = {}
    for number, pk in zip(new_numbers, ids, strict=True):
        rows = groups[number]
        head = next(r for r in rows if r.data.get("relation") == Relation.HEAD)
        house_key = next((r.house_key for r in rows if r.house_key is not None), None)
        if house_key is None:
            raise ApiError(_("新建的户须有房屋。"), code="invalid", status=422)
        building = plan.buildings[house_key[0]]
        households.append(
            (
                pk,
                house_ids[house_key],
                head.person_id,
                street_code,
                plan.compounds[building.compound_id].path,
                now_db,
            )
        )
        target[number] = pk
    bulk_insert_values(Household, _HOUSEHOLD_COLUMNS, households, ready=True)
    for number in groups:
        if number not in target:
            target[number] = plan.households[number]  # type: ignore[assignment]

    # Memberships that move or change relation are replaced (deleted first: one head per household).
    stale: list[int] = []
    members: list[tuple[Any, ...]] = []
    new_heads: list[Household] = []
    for number, rows in groups.items():
        for row in rows:
            if row.action == RowAction.NEW or "relation" in row.changes or "household" in row.changes:
                membership = plan.memberships.get(row.person_id) if row.person_id is not None else None
                if membership is not None:
                    stale.append(membership[0])
                members.append((target[number], row.person_id, row.data["relation"], street_code))
            if "head" in row.changes and plan.households.get(number) is not None:
                new_heads.append(Household(pk=target[number], head_id=row.person_id))
    for start in range(0, len(stale), 900):
        HouseholdMember.objects.filter(pk__in=stale[start : start + 900]).delete()
    bulk_insert_values(HouseholdMember, _MEMBER_COLUMNS, members, ready=True)
    if new_heads:
        Household.objects.bulk_update(new_heads, ["head"], batch_size=1000)
    return len(members)


def template_file(fmt: str) -> tuple[bytes, str]:
    """The empty ledger template and its file name."""
    if fmt not in ledger.FORMATS:
        raise ApiError(_("格式只能是 xlsx 或 csv。"), code="invalid", field="format", status=422)
    return ledger.template_bytes(fmt), f"ledger-template.{fmt}"


def upload_from_bytes(content: bytes, name: str) -> File:
    """A ``File`` over bytes (commands, tests and benchmarks upload without a request)."""
    return File(io.BytesIO(content), name=name)
