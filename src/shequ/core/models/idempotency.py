"""Stored first answers of POST requests sent with an ``Idempotency-Key`` header.

A retry with the same key (per client) returns the stored answer instead of acting again; the same key
with a different request body is refused (422). Keys expire after ``SHEQU_IDEMPOTENCY_TTL_HOURS``.
"""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class IdempotencyKey(models.Model):
    # Who sent it: the user's id, or "anon:<ip>"/"key:<api key prefix>" for clients without an account.
    client = models.CharField(_("客户端"), max_length=100)
    key = models.CharField(_("幂等键"), max_length=255)
    method = models.CharField(_("方法"), max_length=8)
    path = models.CharField(_("路径"), max_length=255)
    request_hash = models.CharField(_("请求摘要"), max_length=64)
    # Empty until the first request finishes; a concurrent retry meanwhile gets 409.
    status_code = models.PositiveSmallIntegerField(_("状态码"), null=True, blank=True)
    content_type = models.CharField(_("内容类型"), max_length=100, blank=True, default="")
    body = models.BinaryField(_("响应"), blank=True, default=b"")
    # Response headers a replay must repeat (Location of a redirect, Content-Disposition).
    headers = models.JSONField(_("响应头"), blank=True, default=dict)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )

    class Meta:
        verbose_name = _("幂等键")
        verbose_name_plural = _("幂等键")
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["client", "key"], name="core_idempotency_client_key_unique")
        ]

    def __str__(self) -> str:
        return f"{self.client}:{self.key}"
