"""The 12345 hotline import page, for street dispatch centres and district officers.

/cases/imports/12345/              the upload form; POST checks the file, keeps it aside and shows the
                                   preview (new / already imported / errors, the bad rows by line)
/cases/imports/12345/confirm       POST: load the previewed file (checked again: all or nothing)
/cases/imports/12345/template.csv  the header row and an example ticket

The previewed file waits in the media storage under a random name known only to the uploader's
session; confirming (or uploading another file) removes it. Loading runs in the request, which is
fine up to a few thousand tickets (``importing.MAX_ROWS``); larger exports are split.
"""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from shequ.cases import importing, permissions
from shequ.cases.services_import import HotlineImport, hotline_import, hotline_import_check
from shequ.core.errors import ApiError

SESSION_KEY = "cases_hotline_import"
STORAGE_DIR = "cases/imports/12345"
ISSUES_SHOWN = 200
TEMPLATE_ROWS = (
    list(importing.COLUMNS.values()),
    [
        "2025060100001",
        "2025-06-01 09:30",
        "E0101",
        "小区门口垃圾堆放多日无人清理",
        "黄浦区云南中路 100 号",
        "121.4800",
        "31.2350",
        "WGS84",
        "310101002000",
        "310101002001",
        "张先生",
        "13800138000",
        "",
    ],
)


class UploadForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("12345 工单文件（CSV）"),
        help_text=gettext_lazy("UTF-8 或 GB18030 编码；每个文件不超过 5000 条。"),
    )


def _may_import(request: HttpRequest) -> None:
    if permissions.hotline_import_paths(request.user) == ():
        raise PermissionDenied


def _forget(request: HttpRequest) -> None:
    """Remove the file waiting for confirmation, if any."""
    pending = request.session.pop(SESSION_KEY, None)
    if pending and default_storage.exists(pending["path"]):
        default_storage.delete(pending["path"])


def _keep(request: HttpRequest, content: bytes, name: str) -> str:
    _forget(request)
    token = secrets.token_urlsafe(16)
    stored = default_storage.save(f"{STORAGE_DIR}/{token}.csv", ContentFile(content))
    request.session[SESSION_KEY] = {
        "token": token,
        "path": stored,
        "name": name,
        "sha256": hashlib.sha256(content).hexdigest(),
    }
    return token


def _context(result: HotlineImport, **extra: Any) -> dict[str, Any]:
    return {
        "result": result,
        "issues": result.issues[:ISSUES_SHOWN],
        "issues_hidden": max(0, len(result.issues) - ISSUES_SHOWN),
        "max_rows": importing.MAX_ROWS,
        **extra,
    }


@login_required
@require_http_methods(["GET", "POST"])
def hotline_import_page(request: HttpRequest) -> HttpResponse:
    _may_import(request)
    form = UploadForm(request.POST or None, request.FILES or None)
    context: dict[str, Any] = {"form": form, "max_rows": importing.MAX_ROWS}
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        content = upload.read()
        try:
            result = hotline_import_check(content=content, actor=request.user)
        except ApiError as exc:
            form.add_error("file", exc.message)
        else:
            token = _keep(request, content, upload.name) if result.checked.ok and result.new else ""
            context.update(_context(result, token=token, name=upload.name))
    return render(request, "cases/imports/hotline.html", context)


@login_required
@require_POST
def hotline_import_confirm(request: HttpRequest) -> HttpResponse:
    _may_import(request)
    pending = request.session.get(SESSION_KEY)
    if not pending or pending.get("token") != request.POST.get("token", ""):
        messages.error(request, _("预览已失效（文件可能已经导入），请重新上传。"))
        return redirect("cases:hotline_import")
    with default_storage.open(pending["path"], "rb") as stream:
        content = stream.read()
    try:
        result = hotline_import(content=content, actor=request.user)
    except ApiError as exc:
        messages.error(request, exc.message)
        return redirect("cases:hotline_import")
    finally:
        _forget(request)
    context = _context(result, name=pending["name"], form=UploadForm(), done=result.loaded)
    return render(request, "cases/imports/hotline.html", context, status=200 if not result.issues else 422)


@login_required
@require_GET
def hotline_import_template(request: HttpRequest) -> HttpResponse:
    _may_import(request)
    lines = [",".join(row) for row in TEMPLATE_ROWS]
    response = HttpResponse(
        ("\ufeff" + "\r\n".join(lines) + "\r\n").encode("utf-8"), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = 'attachment; filename="12345-template.csv"'
    return response
