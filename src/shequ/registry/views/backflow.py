"""Data back-flow pages: the committee's list of datasets and rows in its area, and the department's
CSV upload. Rows are shown masked; a matched registry person is linked."""

from __future__ import annotations

import csv
import io
from datetime import datetime, time
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from shequ.accounts.models import Organisation
from shequ.core.privacy import masked_value
from shequ.registry import selectors_backflow, services_backflow

from .resident import add_service_errors

ROWS_PAGE_SIZE = 100
MAX_UPLOAD_BYTES = 20 * 1024 * 1024


def person_url(person_id: int | None) -> str:
    """The registry's person sheet."""
    if person_id is None:
        return ""
    return reverse("registry:person", args=[person_id])


def read_csv_rows(upload: Any) -> list[dict[str, str]]:
    """Rows of an uploaded CSV (UTF-8, with or without BOM, or GB18030 as saved by Excel)."""
    raw = upload.read()
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise ValidationError({"file": _("无法识别文件编码，请保存为 UTF-8 编码的 CSV。")})
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames:
        raise ValidationError({"file": _("文件没有表头。")})
    return [{(k or "").strip(): (v or "").strip() for k, v in row.items()} for row in reader]


class PublishForm(forms.Form):
    publisher = forms.ModelChoiceField(label=gettext_lazy("发布部门"), queryset=Organisation.objects.none())
    name = forms.CharField(label=gettext_lazy("数据集名称"), max_length=200)
    purpose = forms.CharField(
        label=gettext_lazy("用途"),
        max_length=255,
        help_text=gettext_lazy("居村只能为此用途使用这些数据，例如：独居老人走访关爱。"),
    )
    expires_on = forms.DateField(
        label=gettext_lazy("到期日"),
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=gettext_lazy("到期后数据自动从各居村清除。"),
    )
    file = forms.FileField(
        label=gettext_lazy("CSV 文件"),
        help_text=gettext_lazy("表头：身份证号、姓名、居村代码，其余各列原样下发。"),
    )

    def __init__(self, *args: Any, organisations: list[Organisation], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["publisher"]
        assert isinstance(field, forms.ModelChoiceField)  # noqa: S101 - narrowing for the type checker
        field.queryset = Organisation.objects.filter(pk__in=[o.pk for o in organisations])
        if len(organisations) == 1:
            field.initial = organisations[0].pk

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise ValidationError(_("文件过大（不超过 20 MB）。"))
        return upload

    def expires_at(self) -> datetime:
        """End of the chosen day, local time."""
        return timezone.make_aware(datetime.combine(self.cleaned_data["expires_on"], time(23, 59, 59)))


@login_required
@require_GET
def backflow_list(request: HttpRequest) -> HttpResponse:
    entries = selectors_backflow.backflow_datasets_for(user=request.user, now=timezone.now())
    context = {
        "entries": entries,
        "may_publish": bool(selectors_backflow.publishable_organisations(user=request.user)),
    }
    return render(request, "registry/backflow/list.html", context)


@login_required
@require_GET
def backflow_detail(request: HttpRequest, dataset_id: int) -> HttpResponse:
    now = timezone.now()
    entry = selectors_backflow.access_backflow_dataset(user=request.user, dataset_id=dataset_id, now=now)
    page = Paginator(
        selectors_backflow.backflow_dataset_rows(dataset=entry.dataset, user=request.user, now=now),
        ROWS_PAGE_SIZE,
    ).get_page(request.GET.get("page"))
    rows = [
        {
            "row": row,
            "name": masked_value(row, "name"),
            "id_number": masked_value(row, "id_number"),
            "person_url": person_url(row.person_id),
        }
        for row in page.object_list
    ]
    data_keys = sorted({key for item in rows for key in item["row"].data})
    for item in rows:
        item["values"] = [item["row"].data.get(key, "") for key in data_keys]
    context = {"entry": entry, "dataset": entry.dataset, "page": page, "rows": rows, "data_keys": data_keys}
    return render(request, "registry/backflow/detail.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def backflow_publish(request: HttpRequest) -> HttpResponse:
    organisations = selectors_backflow.publishable_organisations(user=request.user)
    if not organisations:
        raise Http404
    form = PublishForm(request.POST or None, request.FILES or None, organisations=organisations)
    result = None
    if request.method == "POST" and form.is_valid():
        try:
            result = services_backflow.backflow_publish(
                publisher=form.cleaned_data["publisher"],
                name=form.cleaned_data["name"],
                purpose=form.cleaned_data["purpose"],
                expires_at=form.expires_at(),
                rows=read_csv_rows(form.cleaned_data["file"]),
                actor=request.user,
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(
                request,
                _("已发布 %(rows)d 行（匹配登记人员 %(matched)d 人），%(rejected)d 行未通过校验。")
                % {
                    "rows": result.dataset.row_count,
                    "matched": result.dataset.matched_count,
                    "rejected": len(result.rejected),
                },
            )
            form = PublishForm(organisations=organisations)
    return render(request, "registry/backflow/publish.html", {"form": form, "result": result})


urlpatterns: list[URLPattern] = [
    path("backflow/", backflow_list, name="backflow_list"),
    path("backflow/publish/", backflow_publish, name="backflow_publish"),
    path("backflow/<int:dataset_id>/", backflow_detail, name="backflow_detail"),
]
