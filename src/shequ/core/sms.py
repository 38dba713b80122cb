"""The pluggable SMS interface used by the notification outbox.

A backend is any class with ``send(phone, text) -> None`` that raises on failure; the outbox records the
error and retries. The one in use is named by the setting ``SHEQU_SMS_BACKEND`` (a dotted path):

- ``shequ.core.sms.ConsoleSmsBackend`` (the default): writes the masked number and the text to the log,
  for development and the demo;
- ``shequ.core.sms.MemorySmsBackend``: keeps the messages in ``MemorySmsBackend.outbox``, for tests
  (like Django's ``mail.outbox``).

A gateway of an operator (China Mobile, Alibaba Cloud SMS, a government SMS platform) is one more class
with the same method, configured by its own environment variables.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import ClassVar, Protocol, runtime_checkable

from django.conf import settings
from django.utils.module_loading import import_string

from .masking import mask_mobile

logger = logging.getLogger(__name__)

DEFAULT_BACKEND = "shequ.core.sms.ConsoleSmsBackend"


@runtime_checkable
class SmsBackend(Protocol):
    def send(self, phone: str, text: str) -> None:
        """Send ``text`` to ``phone``; raise on failure."""


class ConsoleSmsBackend:
    """Logs the message (the number masked) instead of sending it."""

    def send(self, phone: str, text: str) -> None:
        logger.info("SMS to %s: %s", mask_mobile(phone), text)


@dataclass(frozen=True)
class SmsMessage:
    phone: str
    text: str


class MemorySmsBackend:
    """Keeps every message in the class-level ``outbox`` list (tests clear it)."""

    outbox: ClassVar[list[SmsMessage]] = []

    def send(self, phone: str, text: str) -> None:
        type(self).outbox.append(SmsMessage(phone=phone, text=text))


def sms_backend() -> SmsBackend:
    """An instance of the configured backend (read on every call, so settings overrides apply)."""
    path = getattr(settings, "SHEQU_SMS_BACKEND", "") or DEFAULT_BACKEND
    backend = import_string(path)()
    if not isinstance(backend, SmsBackend):
        raise TypeError(f"{path} has no send(phone, text) method")
    return backend
