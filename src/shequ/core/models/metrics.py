"""Fill state of the incremental metric jobs (ARCHITECTURE.md "Metrics").

Each metric job reads event rows after ``last_event_id`` and folds them into its daily tables in one
transaction with the advance of this row, so a job that stops half-way leaves nothing counted twice.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class MetricFillState(models.Model):
    name = models.CharField(_("指标任务"), max_length=64, primary_key=True)
    last_event_id = models.BigIntegerField(_("已处理事件"), default=0)
    updated_at = models.DateTimeField(_("更新时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("指标进度")
        verbose_name_plural = _("指标进度")

    def __str__(self) -> str:
        return f"{self.name} @ {self.last_event_id}"
