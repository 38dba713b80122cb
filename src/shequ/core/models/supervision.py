"""Supervision (督办) attached to any subject with a deadline (ARCHITECTURE.md "Supervision").

Levels rise ordinary → yellow card → red card (DOMAIN.md §5, [practice]: configurable, with the point
deductions of ``SHEQU_SUPERVISION_POINTS``). Each issue is a row; the subject keeps its current level.
"""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class SupervisionLevel(models.TextChoices):
    NONE = "none", _("无")
    ORDINARY = "ordinary", _("一般督办")
    YELLOW = "yellow", _("黄牌督办")
    RED = "red", _("红牌督办")


SUPERVISION_ORDER = [
    SupervisionLevel.NONE,
    SupervisionLevel.ORDINARY,
    SupervisionLevel.YELLOW,
    SupervisionLevel.RED,
]


class Supervision(models.Model):
    subject_type = models.CharField(_("对象类型"), max_length=64)
    subject_id = models.CharField(_("对象编号"), max_length=64)
    level = models.CharField(_("督办级别"), max_length=16, choices=SupervisionLevel.choices)
    reason = models.CharField(_("督办原因"), max_length=500)
    # Which unit is being supervised (an organisation id or a division code), for the burden and
    # ranking figures.
    target = models.CharField(_("被督办单位"), max_length=64, blank=True, default="")
    points = models.PositiveSmallIntegerField(_("扣分"), default=0)
    deadline = models.ForeignKey(
        "core.Deadline", null=True, blank=True, on_delete=models.SET_NULL, related_name="supervisions"
    )
    # Escalated to this division (street or district) for attention.
    escalated_to = models.CharField(_("上报至"), max_length=12, blank=True, default="")
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    issued_at = models.DateTimeField(_("督办时间"))
    automatic = models.BooleanField(_("系统自动"), default=False)
    scope_path = models.CharField(_("辖区路径"), max_length=255, blank=True, default="", db_index=True)

    class Meta:
        ordering: ClassVar = ["issued_at", "pk"]
        verbose_name = _("督办")
        verbose_name_plural = _("督办")
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=Q(level__in=SupervisionLevel.values) & ~Q(level=SupervisionLevel.NONE),
                name="core_supervision_level_valid",
            ),
            # One automatic issue per deadline and level: the escalation job is idempotent.
            models.UniqueConstraint(
                fields=["deadline", "level"],
                condition=Q(automatic=True),
                name="core_supervision_one_auto_per_level",
            ),
        ]
        indexes: ClassVar = [
            models.Index(fields=["subject_type", "subject_id"], name="core_supervision_subject_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.level} {self.subject_type}:{self.subject_id}"
