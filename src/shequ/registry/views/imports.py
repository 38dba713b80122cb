"""The import wizard and the ledger export pages.

/registry/imports/                     the committee's jobs and the upload form
/registry/imports/<id>/                progress (htmx polling every second), preview, confirm, cancel
/registry/imports/<id>/progress        the progress fragment
/registry/imports/<id>/apply|cancel    POST
/registry/imports/<id>/error-report    the file with its error column
/registry/imports/template.<fmt>       the empty template
/registry/export                       the export form and download

Jobs are fetched through the visibility module (``selectors_import``): another committee's job is a
404 like a missing one. All writes go through ``services_import``.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import URLPattern, path
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from shequ.core.errors import ApiError
from shequ.registry import exporting, ledger
from shequ.registry.api.imports import row_out
from shequ.registry.filters import PersonCriteria
from shequ.registry.models import ImportJob, RowAction
from shequ.registry.selectors_import import (
    access_import_job_by_id,
    access_importable_committee,
    import_jobs,
    import_rows,
    importable_committees,
)
from shequ.registry.services_import import (
    can_cancel,
    can_confirm,
    import_job_cancel,
    import_job_confirm,
    import_job_create,
    is_running,
    template_file,
)

PAGE_SIZE = 50


class UploadForm(forms.Form):
    committee = forms.ChoiceField(label=_("居村委"))
    file = forms.FileField(label=_("台账文件（.xlsx 或 .csv）"))

    def __init__(self, *args: Any, committees: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["committee"].choices = committees  # type: ignore[attr-defined]


class ExportForm(forms.Form):
    format = forms.ChoiceField(label=_("格式"), choices=[("xlsx", "Excel (.xlsx)"), ("csv", "CSV")])
    unmasked = forms.BooleanField(label=_("导出明文（须有权限并说明用途，将记录访问日志）"), required=False)
    purpose = forms.CharField(label=_("用途"), required=False, max_length=255)


def _wants_fragment(request: HttpRequest) -> bool:
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.history_restore_request  # type: ignore[union-attr]


def _committee_choices(request: HttpRequest) -> list[tuple[str, str]]:
    return [(d.code, d.name) for d in importable_committees(user=request.user)]


def _download(content: bytes, name: str, fmt: str) -> HttpResponse:
    content_type = (
        "text/csv; charset=utf-8"
        if fmt == ledger.CSV
        else "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@login_required
@require_http_methods(["GET", "POST"])
def import_list(request: HttpRequest) -> HttpResponse:
    committees = _committee_choices(request)
    form = UploadForm(request.POST or None, request.FILES or None, committees=committees)
    if request.method == "POST":
        if not committees:
            raise Http404
        if form.is_valid():
            committee = access_importable_committee(user=request.user, code=form.cleaned_data["committee"])
            upload = form.cleaned_data["file"]
            try:
                job = import_job_create(
                    committee=committee,
                    actor=request.user,
                    upload=upload,
                    name=upload.name,
                    idempotency_key=request.POST.get("idempotency_key", ""),
                )
            except (ApiError, ledger.LedgerError) as exc:
                form.add_error("file", getattr(exc, "message", str(exc)))
            else:
                return redirect("registry:import_detail", job_id=job.pk)
    page = Paginator(import_jobs(user=request.user), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request, "registry/imports/list.html", {"form": form, "page": page, "can_upload": bool(committees)}
    )


def _detail_context(request: HttpRequest, job: ImportJob) -> dict[str, Any]:
    action = request.GET.get("action", "")
    if action not in RowAction.values:
        action = ""
    rows = Paginator(import_rows(job=job, action=action), PAGE_SIZE).get_page(request.GET.get("page"))
    total = job.total_rows or 0
    return {
        "job": job,
        "action": action,
        "actions": RowAction.choices,
        "rows": rows,
        "row_views": [row_out(r) for r in rows.object_list],
        "running": is_running(job),
        "can_confirm": can_confirm(job),
        "can_cancel": can_cancel(job),
        "progress": min(100, round(100 * job.processed_rows / total)) if total else 0,
    }


@login_required
@require_GET
def import_detail(request: HttpRequest, job_id: int) -> HttpResponse:
    job = access_import_job_by_id(user=request.user, job_id=job_id)
    context = _detail_context(request, job)
    template = "registry/imports/_rows.html" if _wants_fragment(request) else "registry/imports/detail.html"
    response = render(request, template, context)
    patch_vary_headers(response, ("HX-Request",))
    return response


@login_required
@require_GET
def import_progress(request: HttpRequest, job_id: int) -> HttpResponse:
    job = access_import_job_by_id(user=request.user, job_id=job_id)
    context = _detail_context(request, job)
    response = render(request, "registry/imports/_progress.html", context)
    if not context["running"] and _wants_fragment(request):
        response["HX-Refresh"] = "true"  # finished: reload the page with the preview
    return response


@login_required
@require_POST
def import_apply(request: HttpRequest, job_id: int) -> HttpResponse:
    job = access_import_job_by_id(user=request.user, job_id=job_id)
    try:
        import_job_confirm(job=job, actor=request.user)
    except ApiError as exc:
        messages.error(request, exc.message)
    return redirect("registry:import_detail", job_id=job.pk)


@login_required
@require_POST
def import_cancel(request: HttpRequest, job_id: int) -> HttpResponse:
    job = access_import_job_by_id(user=request.user, job_id=job_id)
    try:
        import_job_cancel(job=job, actor=request.user)
    except ApiError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("导入已取消。"))
    return redirect("registry:import_detail", job_id=job.pk)


@login_required
@require_GET
def import_error_report(request: HttpRequest, job_id: int) -> HttpResponse:
    job = access_import_job_by_id(user=request.user, job_id=job_id)
    if not job.error_report:
        raise Http404
    fmt = ledger.detect_format(job.error_report.name)
    with job.error_report.open("rb") as stream:
        content = stream.read()
    return _download(content, f"errors-{job.pk}.{fmt}", fmt)


@login_required
@require_GET
def ledger_template(request: HttpRequest, fmt: str) -> HttpResponse:
    content, name = template_file(fmt)
    return _download(content, name, fmt)


@login_required
@require_GET
def registry_export(request: HttpRequest) -> HttpResponseBase:
    """The export form; with ``download`` the file, filtered like the registry search."""
    form = ExportForm(request.GET if "download" in request.GET else None)
    if form.is_valid():
        try:
            criteria = PersonCriteria.from_querydict(request.GET)
            export = exporting.registry_export_prepare(
                user=request.user,
                criteria=criteria,
                fmt=form.cleaned_data["format"],
                purpose=form.cleaned_data["purpose"],
                unmasked=form.cleaned_data["unmasked"],
                request=request,
            )
        except ApiError as exc:
            form.add_error(exc.field or None, exc.message)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            response: HttpResponseBase
            if export.fmt == ledger.CSV:
                response = StreamingHttpResponse(
                    exporting.export_csv_stream(export, user=request.user), content_type=export.content_type
                )
            else:
                response = FileResponse(
                    exporting.export_xlsx_file(export, user=request.user), content_type=export.content_type
                )
            response["Content-Disposition"] = f'attachment; filename="{export.filename}"'
            return response
    filters = {k: v for k, v in request.GET.items() if k in PersonCriteria.model_fields}
    return render(request, "registry/imports/export.html", {"form": form, "filters": filters})


urlpatterns: list[URLPattern] = [
    path("imports/", import_list, name="import_list"),
    path("imports/<int:job_id>/", import_detail, name="import_detail"),
    path("imports/<int:job_id>/progress", import_progress, name="import_progress"),
    path("imports/<int:job_id>/apply", import_apply, name="import_apply"),
    path("imports/<int:job_id>/cancel", import_cancel, name="import_cancel"),
    path("imports/<int:job_id>/error-report", import_error_report, name="import_error_report"),
    path("imports/template.<str:fmt>", ledger_template, name="ledger_template"),
    path("export", registry_export, name="export"),
]
