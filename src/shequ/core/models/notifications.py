"""The notification outbox and the in-app inbox (ARCHITECTURE.md "Notifications").

A ``Notification`` row is written in the same transaction as the change it reports (through
``shequ.core.notifications.notify``); a task delivers it after commit over its channel (in-app needs no
delivery: the row *is* the inbox entry; email through Django's mail backend; SMS through the pluggable
backend named by ``SHEQU_SMS_BACKEND``; webhooks). Delivery state is kept per row.
"""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class NotificationChannel(models.TextChoices):
    IN_APP = "in_app", _("站内消息")
    EMAIL = "email", _("电子邮件")
    SMS = "sms", _("短信")
    WEBHOOK = "webhook", _("接口推送")


class DeliveryState(models.TextChoices):
    PENDING = "pending", _("待发送")
    SENT = "sent", _("已发送")
    FAILED = "failed", _("发送失败")


class Notification(models.Model):
    channel = models.CharField(_("渠道"), max_length=16, choices=NotificationChannel.choices)
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("接收人"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="notifications",
    )
    # Email address, mobile number or webhook URL when the recipient has no account (a reporter who
    # left only a phone number). Personal data: masked wherever shown.
    address = models.CharField(_("地址"), max_length=255, blank=True, default="")
    kind = models.CharField(_("类别"), max_length=64)
    subject_type = models.CharField(_("对象类型"), max_length=64, blank=True, default="")
    subject_id = models.CharField(_("对象编号"), max_length=64, blank=True, default="")
    title = models.CharField(_("标题"), max_length=200)
    body = models.TextField(_("内容"), blank=True, default="")
    link = models.CharField(_("链接"), max_length=500, blank=True, default="")
    state = models.CharField(
        _("发送状态"), max_length=16, choices=DeliveryState.choices, default=DeliveryState.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("尝试次数"), default=0)
    last_error = models.CharField(_("错误"), max_length=500, blank=True, default="")
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True, db_index=True)
    sent_at = models.DateTimeField(_("发送时间"), null=True, blank=True)
    # Not before this time is the row (re)tried: a lease while one worker delivers it, then the backoff
    # after a failure. Empty: due at once.
    next_attempt_at = models.DateTimeField(_("下次尝试时间"), null=True, blank=True)
    read_at = models.DateTimeField(_("阅读时间"), null=True, blank=True)

    PERSONAL_FIELDS: ClassVar[dict[str, str]] = {"address": "text"}

    class Meta:
        ordering: ClassVar = ["-created_at", "-pk"]
        verbose_name = _("通知")
        verbose_name_plural = _("通知")
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=Q(channel__in=NotificationChannel.values), name="core_notification_channel_valid"
            ),
            models.CheckConstraint(
                condition=Q(state__in=DeliveryState.values), name="core_notification_state_valid"
            ),
            models.CheckConstraint(
                condition=Q(recipient__isnull=False) | ~Q(address=""), name="core_notification_has_recipient"
            ),
        ]
        indexes: ClassVar = [
            models.Index(fields=["recipient", "channel", "read_at"], name="core_notif_inbox_idx"),
            models.Index(fields=["state", "channel"], name="core_notif_outbox_idx"),
            models.Index(fields=["subject_type", "subject_id"], name="core_notif_subject_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.channel}:{self.kind} {self.title}"
