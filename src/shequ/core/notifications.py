"""Notifications: an outbox written with the change, delivered after commit, and the in-app inbox.

Writing (inside the service's transaction, next to the event row)::

    from shequ.core.notifications import notify, notify_user

    notify_user(
        user=reporter,
        kind="case.dispatched",
        title=_("您反映的问题已派遣"),
        body=_("编号 %(number)s 已派至 %(unit)s。") % {...},
        link=reverse("cases:case", args=[case.number]),
        subject=case,
        phone=case.contact_phone,  # optional: an SMS as well
    )
    notify(address=case.contact_phone, channel="sms", kind="case.confirm", title=..., link=..., subject=case)

``notify`` writes one ``Notification`` row; ``notify_user`` writes the in-app row (always), an email row
(when the user has an address) and an SMS row (when a phone number is given). Rows of the external
channels are handed to the task ``notifications_deliver`` with ``transaction.on_commit`` (with
django-tasks' database queue, in the same transaction: the task row commits with the outbox rows):
nothing leaves the building when the transaction rolls back. In-app rows need no delivery: the row
*is* the inbox entry and is written as sent.

Delivery (``notifications_send``) claims each row before sending it: in one short transaction, under
``SELECT … FOR UPDATE SKIP LOCKED`` on PostgreSQL, it takes only rows still pending or failed, below the
attempt limit and due, counts the attempt and sets a lease (``next_attempt_at``) so no other worker
takes the row while it is being sent. Success marks the row sent; a failure records the error (personal
values masked) and the time of the next try. The periodic job ``core.notifications_retry`` (every
5 minutes) hands due rows to the task again, up to ``SHEQU_NOTIFICATION_MAX_ATTEMPTS`` attempts.

Channels: email through Django's mail backend (console in development); SMS through the backend named
by ``SHEQU_SMS_BACKEND`` (``shequ.core.sms``); webhook as a JSON POST to the row's address (a URL).
Links are sent absolute, on ``SHEQU_SITE_URL``.
"""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import send_mail
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, transaction
from django.db.models import F, Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from .masking import mask_mobile, mask_text
from .models import DeliveryState, Notification, NotificationChannel
from .rows import rows_insert, rows_on_flush
from .sms import sms_backend

logger = logging.getLogger(__name__)

# A row being sent is not taken by another worker for this long (longer than any channel's timeout).
DELIVERY_LEASE = timedelta(minutes=5)
# Pending rows younger than this are left to the task their own transaction scheduled.
RETRY_GRACE = timedelta(minutes=1)
# After the n-th failure the row waits RETRY_BACKOFF × 2^(n-1) (5, 10, 20, 40 minutes …).
RETRY_BACKOFF = timedelta(minutes=5)
RETRY_BATCH = 500
TASK_CHUNK = 100
SMS_MAX_CHARS = 300
LAST_ERROR_MAX = 500

RETRYABLE_STATES = (DeliveryState.PENDING, DeliveryState.FAILED)
EXTERNAL_CHANNELS = (NotificationChannel.EMAIL, NotificationChannel.SMS, NotificationChannel.WEBHOOK)


class DeliveryError(Exception):
    """A row could not be delivered (no address, a refused webhook, an unsupported URL)."""


# --- Writing --------------------------------------------------------------------------------


def _subject_ref(subject: models.Model | None) -> tuple[str, str]:
    if subject is None:
        return "", ""
    return subject._meta.label_lower, str(subject.pk)


def _one_line(text: str, limit: int) -> str:
    return " ".join(str(text).split())[:limit]


def _build(
    *,
    recipient: Any | None,
    address: str,
    channel: str,
    kind: str,
    title: str,
    body: str,
    link: str,
    subject: models.Model | None,
) -> Notification:
    if channel not in NotificationChannel.values:
        raise ValueError(f"unknown notification channel {channel!r}")
    address = (address or "").strip()
    if recipient is None and not address:
        raise ValueError("a notification needs a recipient or an address")
    if channel == NotificationChannel.IN_APP and recipient is None:
        raise ValueError("an in-app notification needs a recipient")
    if channel == NotificationChannel.WEBHOOK and not address:
        raise ValueError("a webhook notification needs the URL as its address")
    subject_type, subject_id = _subject_ref(subject)
    in_app = channel == NotificationChannel.IN_APP
    return Notification(
        recipient=recipient,
        address=address,
        channel=channel,
        kind=kind,
        title=_one_line(title, 200),
        body=str(body or ""),
        link=str(link or "")[:500],
        subject_type=subject_type,
        subject_id=subject_id,
        # The in-app row is the inbox entry: delivered by being written.
        state=DeliveryState.SENT if in_app else DeliveryState.PENDING,
        sent_at=timezone.now() if in_app else None,
    )


def notifications_write(rows: Sequence[Notification]) -> list[Notification]:
    """Insert outbox rows built by ``notify``/``notify_user`` and schedule the delivery of the external
    ones for after the surrounding transaction commits (one task for the batch)."""
    created = list(rows_insert(list(rows)))
    external = [row for row in created if row.channel != NotificationChannel.IN_APP]
    if external:
        # The task needs the rows' ids: within ``rows_pipelined`` they come with the next flush.
        rows_on_flush(lambda: _enqueue([row.pk for row in external]))
    return created


def _enqueue(ids: list[int]) -> None:
    if _queue_is_transactional():
        # The database queue writes the task row in this transaction: the outbox rows and their
        # delivery task commit together (one commit, not two) and a rollback drops both.
        notifications_enqueue(ids=ids)
    else:
        transaction.on_commit(lambda: notifications_enqueue(ids=ids), robust=True)


def _queue_is_transactional() -> bool:
    """Whether the task queue is django-tasks' database backend on the default database."""
    from django_tasks import task_backends
    from django_tasks_db.backend import DatabaseBackend

    return (
        isinstance(task_backends["default"], DatabaseBackend) and transaction.get_connection().in_atomic_block
    )


def notify(
    *,
    recipient: Any | None = None,
    address: str = "",
    channel: str,
    kind: str,
    title: str,
    body: str = "",
    link: str = "",
    subject: models.Model | None = None,
) -> Notification:
    """Write one notification row in the caller's transaction; deliver it after commit.

    ``recipient`` is a user; ``address`` an email address, a mobile number or a webhook URL for someone
    without an account (or to override the user's own address)."""
    row = _build(
        recipient=recipient,
        address=address,
        channel=channel,
        kind=kind,
        title=title,
        body=body,
        link=link,
        subject=subject,
    )
    return notifications_write([row])[0]


def notify_user(
    *,
    user: Any,
    kind: str,
    title: str,
    body: str = "",
    link: str = "",
    subject: models.Model | None = None,
    channels: Iterable[str] = (NotificationChannel.IN_APP, NotificationChannel.EMAIL),
    phone: str = "",
) -> list[Notification]:
    """Tell a user about something: in the inbox always; by email when the user has an address (and
    ``channels`` names email); by SMS when ``phone`` is given, or when ``channels`` names SMS and the
    user has a mobile number."""
    wanted = set(channels)
    common: dict[str, Any] = {"kind": kind, "title": title, "body": body, "link": link, "subject": subject}
    rows = [_build(recipient=user, address="", channel=NotificationChannel.IN_APP, **common)]
    if NotificationChannel.EMAIL in wanted and (getattr(user, "email", "") or "").strip():
        rows.append(_build(recipient=user, address="", channel=NotificationChannel.EMAIL, **common))
    phone = (phone or "").strip()
    if phone or (NotificationChannel.SMS in wanted and (getattr(user, "mobile", "") or "").strip()):
        rows.append(_build(recipient=user, address=phone, channel=NotificationChannel.SMS, **common))
    return notifications_write(rows)


def notifications_enqueue(*, ids: Sequence[int]) -> None:
    """Hand rows to the delivery task, in chunks."""
    from .tasks_notifications import notifications_deliver

    for start in range(0, len(ids), TASK_CHUNK):
        notifications_deliver.enqueue(list(ids[start : start + TASK_CHUNK]))


# --- Masking ----------------------------------------------------------------------------------


def mask_email(value: str) -> str:
    """``zhangsan@example.com`` → ``z***@example.com``."""
    value = (value or "").strip()
    local, at, domain = value.rpartition("@")
    if not at:
        return mask_text(value)
    return f"{local[:1]}***@{domain}"


def mask_url(value: str) -> str:
    """A webhook URL without its path and query (they may carry tokens): ``https://host/…``."""
    parts = urlsplit((value or "").strip())
    if not parts.scheme or not parts.netloc:
        return mask_text(value)
    return f"{parts.scheme}://{parts.hostname or ''}/…"


def address_masked(channel: str, address: str) -> str:
    """The display form of a notification address."""
    if not address:
        return ""
    if channel == NotificationChannel.SMS:
        return mask_mobile(address)
    if channel == NotificationChannel.EMAIL:
        return mask_email(address)
    if channel == NotificationChannel.WEBHOOK:
        return mask_url(address)
    return mask_text(address)


# --- Delivery ---------------------------------------------------------------------------------


def max_attempts() -> int:
    return int(getattr(settings, "SHEQU_NOTIFICATION_MAX_ATTEMPTS", 5))


def _due(now: datetime) -> Q:
    return Q(state__in=RETRYABLE_STATES, attempts__lt=max_attempts()) & (
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
    )


def retry_delay(attempts: int) -> timedelta:
    """How long a row waits after its ``attempts``-th failed attempt."""
    return RETRY_BACKOFF * (2 ** max(attempts - 1, 0))


def absolute_link(link: str) -> str:
    if not link or link.startswith(("http://", "https://")):
        return link
    base = str(getattr(settings, "SHEQU_SITE_URL", "")).rstrip("/")
    return f"{base}{link if link.startswith('/') else '/' + link}"


def destination(notification: Notification) -> str:
    """Where a row goes: its own address, else the recipient's address for that channel."""
    if notification.address:
        return notification.address
    user = notification.recipient
    if user is None:
        return ""
    if notification.channel == NotificationChannel.EMAIL:
        return (user.email or "").strip()
    if notification.channel == NotificationChannel.SMS:
        return (getattr(user, "mobile", "") or "").strip()
    return ""


def _email_text(notification: Notification) -> str:
    parts = [notification.body.strip()] if notification.body.strip() else []
    if notification.link:
        parts.append(absolute_link(notification.link))
    return "\n\n".join(parts) or notification.title


def _sms_text(notification: Notification) -> str:
    text = notification.title
    if notification.body.strip():
        text = f"{text}：{_one_line(notification.body, SMS_MAX_CHARS)}"
    text = text[:SMS_MAX_CHARS]
    if notification.link:
        text = f"{text} {absolute_link(notification.link)}"
    return text


def webhook_payload(notification: Notification) -> dict[str, Any]:
    return {
        "id": notification.pk,
        "kind": notification.kind,
        "title": notification.title,
        "body": notification.body,
        "link": absolute_link(notification.link),
        "subject": {"type": notification.subject_type, "id": notification.subject_id},
        "created_at": notification.created_at,
    }


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A webhook that answers with a redirect failed: urllib would repeat a POST as a bodiless GET."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def _webhook_post(url: str, notification: Notification) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise DeliveryError(_("接口推送地址必须是 http 或 https 网址。"))
    data = json.dumps(webhook_payload(notification), cls=DjangoJSONEncoder, ensure_ascii=False).encode()
    request = urllib.request.Request(  # noqa: S310 - the scheme is checked above
        url,
        data=data,
        method="POST",
        headers={
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": "shequ-notifications/1",
            # The receiver can drop a retried delivery it has already taken.
            "Idempotency-Key": f"notification-{notification.pk}",
        },
    )
    timeout = float(getattr(settings, "SHEQU_WEBHOOK_TIMEOUT_SECONDS", 10))
    opener = urllib.request.build_opener(_NoRedirects)
    with opener.open(request, timeout=timeout) as response:
        status = response.status
    if not 200 <= status < 300:
        raise DeliveryError(f"HTTP {status}")


def _send(notification: Notification) -> None:
    to = destination(notification)
    if not to:
        raise DeliveryError(_("没有可用的接收地址。"))
    channel = notification.channel
    if channel == NotificationChannel.EMAIL:
        send_mail(
            subject=notification.title,
            message=_email_text(notification),
            from_email=None,
            recipient_list=[to],
            fail_silently=False,
        )
    elif channel == NotificationChannel.SMS:
        sms_backend().send(to, _sms_text(notification))
    elif channel == NotificationChannel.WEBHOOK:
        _webhook_post(to, notification)
    else:
        raise DeliveryError(f"channel {channel!r} is not delivered")


def _error_text(notification: Notification, exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    to = destination(notification)
    if to:
        text = text.replace(to, address_masked(notification.channel, to))
    return text[:LAST_ERROR_MAX]


@dataclass
class DeliveryReport:
    sent: int = 0
    failed: int = 0
    skipped: int = 0

    def as_dict(self) -> dict[str, int]:
        return {"sent": self.sent, "failed": self.failed, "skipped": self.skipped}


def _claim(ids: list[int], now: datetime) -> list[Notification]:
    """Take the rows of ``ids`` that are due, count the attempt and lease them to this worker."""
    with transaction.atomic():
        rows = list(
            Notification.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("recipient")
            .filter(_due(now), pk__in=ids)
            .order_by("pk")
        )
        in_app = [row.pk for row in rows if row.channel == NotificationChannel.IN_APP]
        external = [row.pk for row in rows if row.channel != NotificationChannel.IN_APP]
        if in_app:
            Notification.objects.filter(pk__in=in_app).update(
                state=DeliveryState.SENT,
                sent_at=now,
                attempts=F("attempts") + 1,
                next_attempt_at=None,
                last_error="",
            )
        if external:
            Notification.objects.filter(pk__in=external).update(
                attempts=F("attempts") + 1, next_attempt_at=now + DELIVERY_LEASE
            )
    return rows


def notifications_send(*, ids: Iterable[int], now: datetime | None = None) -> DeliveryReport:
    """Deliver the rows of ``ids`` that are still due; rows already sent, given up or being sent by
    another worker are skipped, so running it twice never sends twice."""
    now = now or timezone.now()
    wanted = list(dict.fromkeys(int(pk) for pk in ids))
    claimed = _claim(wanted, now)
    report = DeliveryReport(skipped=len(wanted) - len(claimed))
    for row in claimed:
        if row.channel == NotificationChannel.IN_APP:
            report.sent += 1
            continue
        try:
            _send(row)
        except Exception as exc:  # any failure of a channel is recorded on the row and retried
            attempts = row.attempts + 1
            error = _error_text(row, exc)
            logger.warning("notification %s (%s) failed: %s", row.pk, row.channel, error)
            Notification.objects.filter(pk=row.pk).update(
                state=DeliveryState.FAILED,
                last_error=error,
                next_attempt_at=timezone.now() + retry_delay(attempts) if attempts < max_attempts() else None,
            )
            report.failed += 1
        else:
            Notification.objects.filter(pk=row.pk).update(
                state=DeliveryState.SENT, sent_at=timezone.now(), last_error="", next_attempt_at=None
            )
            report.sent += 1
    return report


def notifications_retry(*, now: datetime | None = None) -> int:
    """The periodic job: hand pending and failed rows that are due to the delivery task again. Rows
    younger than ``RETRY_GRACE`` that were never tried are left to their own commit's task."""
    now = now or timezone.now()
    never_tried_recently = Q(next_attempt_at__isnull=True, attempts=0, created_at__gt=now - RETRY_GRACE)
    ids = list(
        Notification.objects.filter(_due(now))
        .exclude(never_tried_recently)
        .order_by("pk")
        .values_list("pk", flat=True)[:RETRY_BATCH]
    )
    if ids:
        notifications_enqueue(ids=ids)
    return len(ids)


# --- The in-app inbox ------------------------------------------------------------------------

UNREAD_BADGE_CAP = 99


def inbox_notifications(*, user: Any, unread_only: bool = False) -> QuerySet[Notification]:
    """The user's inbox, newest first (only rows addressed to them, only the in-app channel)."""
    if not getattr(user, "is_authenticated", False):
        return Notification.objects.none()
    rows = Notification.objects.filter(recipient=user, channel=NotificationChannel.IN_APP)
    if unread_only:
        rows = rows.filter(read_at__isnull=True)
    return rows.order_by("-created_at", "-pk")


def inbox_unread_count(*, user: Any, cap: int | None = None) -> int:
    """Unread entries of the user's inbox; with ``cap``, counting stops past it (one cheap query)."""
    rows = inbox_notifications(user=user, unread_only=True)
    if cap is not None:
        return rows.order_by().values("pk")[: cap + 1].count()
    return rows.count()


def access_notification_by_id(*, user: Any, notification_id: int) -> Notification:
    """One entry of the user's own inbox; anybody else's, or none, is the same 404."""
    row = inbox_notifications(user=user).filter(pk=notification_id).first()
    if row is None:
        raise Http404("notification")
    return row


def notification_read(*, notification: Notification, actor: Any) -> Notification:
    """Mark one inbox entry read (a second call changes nothing)."""
    if notification.recipient_id != getattr(actor, "pk", None):
        raise Http404("notification")
    if notification.read_at is None:
        now = timezone.now()
        Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(read_at=now)
        notification.read_at = now
    return notification


def notifications_read_all(*, user: Any) -> int:
    """Mark every unread entry of the user's inbox read; the number marked."""
    return inbox_notifications(user=user, unread_only=True).update(read_at=timezone.now())
