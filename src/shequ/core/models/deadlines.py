"""Pausable timers on any subject (ARCHITECTURE.md "The shared kernel — Clock").

A ``Deadline`` belongs to one subject (a case, a summons, a petition …) named the way event rows
name theirs: ``subject_type`` is the model's ``label_lower`` and ``subject_id`` is ``str(pk)``.
Its ``due_at`` and ``remind_at`` come from the clock (``shequ.core.clock``); paused intervals are
``DeadlinePause`` rows with their reasons and do not count. Writes go through
``shequ.core.deadlines`` only.
"""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from .calendar import Unit


class DeadlineState(models.TextChoices):
    RUNNING = "running", _("计时中")
    PAUSED = "paused", _("已暂停")
    MET = "met", _("按期完成")
    MISSED = "missed", _("超期完成")
    CANCELLED = "cancelled", _("已取消")


OPEN_STATES = (DeadlineState.RUNNING, DeadlineState.PAUSED)


class Deadline(models.Model):
    subject_type = models.CharField(_("对象类型"), max_length=64)
    subject_id = models.CharField(_("对象编号"), max_length=64)
    # Free text chosen by the workflow: "handling", "sign_for", "objection" …
    kind = models.CharField(_("时限类别"), max_length=64)
    unit = models.CharField(_("单位"), max_length=20, choices=Unit.choices)
    amount = models.DecimalField(_("时限"), max_digits=10, decimal_places=4)
    started_at = models.DateTimeField(_("开始时间"))
    due_at = models.DateTimeField(_("到期时间"))
    # The instant at which the reminder share (80 %) of the working time is used up.
    remind_at = models.DateTimeField(_("提醒时间"))
    state = models.CharField(
        _("状态"), max_length=16, choices=DeadlineState.choices, default=DeadlineState.RUNNING
    )
    # Computed over a year without an official calendar (weekends only).
    flagged = models.BooleanField(_("日历待定"), default=False)
    unknown_years = models.JSONField(_("缺少日历的年份"), default=list, blank=True)
    reminded_at = models.DateTimeField(_("已提醒时间"), null=True, blank=True)
    overdue_at = models.DateTimeField(_("标记超期时间"), null=True, blank=True)
    ended_at = models.DateTimeField(_("结束时间"), null=True, blank=True)
    scope_path = models.CharField(_("辖区路径"), max_length=255, blank=True, default="", db_index=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("时限")
        verbose_name_plural = _("时限")
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=Q(state__in=DeadlineState.values), name="core_deadline_state_valid"
            ),
            models.CheckConstraint(condition=Q(unit__in=Unit.values), name="core_deadline_unit_valid"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="core_deadline_amount_positive"),
            models.CheckConstraint(
                condition=Q(due_at__gte=F("started_at")), name="core_deadline_due_after_start"
            ),
            models.CheckConstraint(
                condition=Q(ended_at__isnull=True) | ~Q(state__in=[s.value for s in OPEN_STATES]),
                name="core_deadline_open_not_ended",
            ),
        ]
        indexes: ClassVar = [
            models.Index(fields=["subject_type", "subject_id"], name="core_deadline_subject_idx"),
            models.Index(fields=["state", "due_at"], name="core_deadline_due_idx"),
            models.Index(fields=["state", "remind_at"], name="core_deadline_remind_idx"),
        ]

    def __str__(self) -> str:
        return (
            f"{self.kind} {self.subject_type}:{self.subject_id} → {self.due_at:%Y-%m-%d %H:%M} ({self.state})"
        )

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES


class DeadlinePause(models.Model):
    """One interval during which a deadline's clock stood still (挂账, hearing, waiting for the
    resident …). At most one pause per deadline is open (``ended_at`` empty)."""

    deadline = models.ForeignKey(Deadline, on_delete=models.CASCADE, related_name="pauses")
    started_at = models.DateTimeField(_("暂停时间"))
    ended_at = models.DateTimeField(_("恢复时间"), null=True, blank=True)
    reason = models.CharField(_("暂停原因"), max_length=500)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("暂停人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    resumed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("恢复人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        ordering: ClassVar = ["started_at", "pk"]
        verbose_name = _("时限暂停")
        verbose_name_plural = _("时限暂停")
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["deadline"], condition=Q(ended_at__isnull=True), name="core_deadlinepause_one_open"
            ),
            models.CheckConstraint(
                condition=Q(ended_at__isnull=True) | Q(ended_at__gte=F("started_at")),
                name="core_deadlinepause_ends_after_start",
            ),
            models.CheckConstraint(condition=~Q(reason=""), name="core_deadlinepause_reason_required"),
        ]

    def __str__(self) -> str:
        return f"{self.deadline_id} paused {self.started_at:%Y-%m-%d %H:%M}: {self.reason}"
