"""Ledger import and export over the API.

- ``POST /registry/imports`` (multipart: ``file``, ``committee``) → the job. An ``Idempotency-Key``
  header makes a retried request return the same job (so does the same file while its job is pending).
- ``GET /registry/imports``, ``GET /registry/imports/{id}`` (status, progress, counts),
  ``GET /registry/imports/{id}/rows?action=error``, ``POST …/apply``, ``POST …/cancel``,
  ``GET …/error-report`` (the file with an error column), ``GET /registry/ledger-template``.
- ``GET /registry/persons/export?format=xlsx|csv&<search filters>&purpose=…&unmasked=true``: masked by
  default; unmasked only for entitled exporters with a purpose (one access record per person).

Jobs are fetched through the visibility module: another committee's job answers 404.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.paginator import Paginator
from django.http import FileResponse, HttpRequest, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.utils.translation import gettext as _
from ninja import Field, File, Form, Query, Router, Schema
from ninja.files import UploadedFile

from shequ.core.errors import ApiError
from shequ.core.masking import mask
from shequ.registry import exporting, ledger
from shequ.registry.filters import PersonCriteria
from shequ.registry.models import ImportJob, ImportRow, Person
from shequ.registry.selectors_import import (
    access_import_job_by_id,
    access_importable_committee,
    import_jobs,
    import_rows,
)
from shequ.registry.services_import import (
    import_job_cancel,
    import_job_confirm,
    import_job_create,
    template_file,
)

router = Router(tags=["registry"])

MAX_PAGE_SIZE = 200


class JobOut(Schema):
    id: int
    committee: str
    committee_name: str
    original_name: str
    status: str
    status_label: str
    total_rows: int
    processed_rows: int
    progress: int
    counts: dict[str, int]
    message: str
    created_at: datetime
    finished_at: datetime | None
    has_error_report: bool


class JobPage(Schema):
    count: int
    page: int
    page_size: int
    items: list[JobOut]


class IssueOut(Schema):
    field: str
    column: str
    message: str
    level: str


class RowOut(Schema):
    row_number: int
    action: str
    person_id: int | None
    name: str
    id_number: str
    errors: list[IssueOut]
    changes: dict[str, Any]


class RowPage(Schema):
    count: int
    page: int
    page_size: int
    items: list[RowOut]


class PageQuery(Schema):
    page: int = Field(1, ge=1)
    page_size: int = Field(50, ge=1, le=MAX_PAGE_SIZE)


class RowQuery(PageQuery):
    action: str = Field("", pattern=r"^(|new|changed|unchanged|error)$")


class TemplateQuery(Schema):
    format: str = Field("xlsx", pattern=r"^(xlsx|csv)$")


class ExportQuery(PersonCriteria):
    format: str = Field("xlsx", pattern=r"^(xlsx|csv)$")
    purpose: str = Field("", max_length=255)
    unmasked: bool = False

    def criteria(self) -> PersonCriteria:
        return PersonCriteria.model_validate(self.model_dump(exclude={"format", "purpose", "unmasked"}))


def job_out(job: ImportJob) -> dict[str, Any]:
    total = job.total_rows or 0
    return {
        "id": job.pk,
        "committee": job.division.code,
        "committee_name": job.division.name,
        "original_name": job.original_name,
        "status": job.status,
        "status_label": str(job.get_status_display()),
        "total_rows": total,
        "processed_rows": job.processed_rows,
        "progress": min(100, round(100 * job.processed_rows / total)) if total else 0,
        "counts": {k: int(v) for k, v in (job.counts or {}).items()},
        "message": job.message,
        "created_at": job.created_at,
        "finished_at": job.finished_at,
        "has_error_report": bool(job.error_report),
    }


def row_out(row: ImportRow) -> dict[str, Any]:
    data = row.data or {}
    return {
        "row_number": row.row_number,
        "action": row.action,
        "person_id": row.person_id,
        "name": mask("name", data.get("name", "")),
        "id_number": mask("id_number", data.get("id_number", "")),
        "errors": [
            {**issue, "column": ledger.HEADERS.get(issue.get("field", ""), issue.get("field", ""))}
            for issue in row.errors or []
        ],
        "changes": _masked_changes(row.changes or {}),
    }


def _masked_changes(changes: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, change in changes.items():
        kind = Person.PERSONAL_FIELDS.get(key)
        if kind and isinstance(change, dict):
            out[key] = {**change, "old": mask(kind, change.get("old")), "new": mask(kind, change.get("new"))}
        else:
            out[key] = change
    return out


def _download(content: bytes, name: str, fmt: str) -> HttpResponse:
    content_type = (
        "text/csv; charset=utf-8"
        if fmt == ledger.CSV
        else "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@router.post("/imports", response=JobOut, summary="Upload a committee ledger")
def import_create(request: HttpRequest, file: File[UploadedFile], committee: Form[str]) -> dict[str, Any]:
    division = access_importable_committee(user=request.user, code=committee)
    try:
        job = import_job_create(
            committee=division,
            actor=request.user,
            upload=file,
            name=file.name or "",
            idempotency_key=request.headers.get("Idempotency-Key", ""),
        )
    except ledger.LedgerError as exc:
        raise ApiError(str(exc), code="invalid", field="file", status=422) from exc
    return job_out(access_import_job_by_id(user=request.user, job_id=job.pk))


@router.get("/imports", response=JobPage, summary="Import jobs you may see")
def import_list(request: HttpRequest, query: Query[PageQuery]) -> dict[str, Any]:
    page = Paginator(import_jobs(user=request.user), query.page_size).get_page(query.page)
    return {
        "count": page.paginator.count,
        "page": page.number,
        "page_size": query.page_size,
        "items": [job_out(job) for job in page.object_list],
    }


@router.get("/imports/{job_id}", response=JobOut, summary="One import job: status, progress, counts")
def import_detail(request: HttpRequest, job_id: int) -> dict[str, Any]:
    return job_out(access_import_job_by_id(user=request.user, job_id=job_id))


@router.get("/imports/{job_id}/rows", response=RowPage, summary="The preview rows of a job")
def import_row_list(request: HttpRequest, job_id: int, query: Query[RowQuery]) -> dict[str, Any]:
    job = access_import_job_by_id(user=request.user, job_id=job_id)
    page = Paginator(import_rows(job=job, action=query.action), query.page_size).get_page(query.page)
    return {
        "count": page.paginator.count,
        "page": page.number,
        "page_size": query.page_size,
        "items": [row_out(row) for row in page.object_list],
    }


@router.post("/imports/{job_id}/apply", response=JobOut, summary="Confirm the preview and load the file")
def import_apply(request: HttpRequest, job_id: int) -> dict[str, Any]:
    job = access_import_job_by_id(user=request.user, job_id=job_id)
    import_job_confirm(job=job, actor=request.user)
    return job_out(access_import_job_by_id(user=request.user, job_id=job_id))


@router.post("/imports/{job_id}/cancel", response=JobOut, summary="Cancel a job before it is applied")
def import_cancel(request: HttpRequest, job_id: int) -> dict[str, Any]:
    job = access_import_job_by_id(user=request.user, job_id=job_id)
    import_job_cancel(job=job, actor=request.user)
    return job_out(access_import_job_by_id(user=request.user, job_id=job_id))


@router.get("/imports/{job_id}/error-report", summary="The file with an error column (错误说明)")
def import_error_report(request: HttpRequest, job_id: int) -> HttpResponse:
    job = access_import_job_by_id(user=request.user, job_id=job_id)
    if not job.error_report:
        raise ApiError(_("该导入没有错误报告。"), code="not_found", status=404)
    fmt = ledger.detect_format(job.error_report.name)
    with job.error_report.open("rb") as stream:
        content = stream.read()
    return _download(content, f"errors-{job.pk}.{fmt}", fmt)


@router.get("/ledger-template", summary="The empty ledger template")
def ledger_template(request: HttpRequest, query: Query[TemplateQuery]) -> HttpResponse:
    content, name = template_file(query.format)
    return _download(content, name, query.format)


@router.get("/persons/export", summary="Export the registry as a ledger (masked unless entitled)")
def person_export(request: HttpRequest, query: Query[ExportQuery]) -> HttpResponseBase:
    export = exporting.registry_export_prepare(
        user=request.user,
        criteria=query.criteria(),
        fmt=query.format,
        purpose=query.purpose,
        unmasked=query.unmasked,
        request=request,
    )
    if export.fmt == ledger.CSV:
        response: HttpResponseBase = StreamingHttpResponse(
            exporting.export_csv_stream(export, user=request.user), content_type=export.content_type
        )
    else:
        response = FileResponse(
            exporting.export_xlsx_file(export, user=request.user), content_type=export.content_type
        )
    response["Content-Disposition"] = f'attachment; filename="{export.filename}"'
    return response
