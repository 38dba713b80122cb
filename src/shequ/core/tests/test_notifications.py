"""The notification outbox: rows written with the change, delivered after commit over each channel,
failures recorded and retried by the periodic job, never sent twice."""

from __future__ import annotations

import json
import logging
import threading
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from smtplib import SMTPRecipientsRefused
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.db import transaction
from django.utils import timezone

from shequ.accounts.tests.factories import UserFactory
from shequ.core import ticks
from shequ.core.models import DeliveryState, Notification, NotificationChannel
from shequ.core.notifications import (
    DELIVERY_LEASE,
    address_masked,
    notifications_retry,
    notifications_send,
    notify,
    notify_user,
)
from shequ.core.sms import ConsoleSmsBackend, MemorySmsBackend, SmsBackend, sms_backend
from shequ.core.tasks_notifications import notifications_deliver

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 11, 30, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.fixture(autouse=True)
def _memory_sms(settings):
    settings.SHEQU_SMS_BACKEND = "shequ.core.sms.MemorySmsBackend"
    settings.SHEQU_SITE_URL = "https://shequ.example.cn"
    MemorySmsBackend.outbox.clear()
    FlakySmsBackend.failures_left = 0
    yield
    MemorySmsBackend.outbox.clear()


class FlakySmsBackend:
    """Fails ``failures_left`` times, then sends into the memory outbox."""

    failures_left = 0

    def send(self, phone: str, text: str) -> None:
        if FlakySmsBackend.failures_left > 0:
            FlakySmsBackend.failures_left -= 1
            raise ConnectionError(f"gateway refused {phone}")
        MemorySmsBackend().send(phone, text)


class RefusingEmailBackend(BaseEmailBackend):
    def send_messages(self, email_messages):
        recipients = [r for m in email_messages for r in m.to]
        raise SMTPRecipientsRefused(dict.fromkeys(recipients, (550, b"no such user")))


@pytest.fixture
def resident():
    return UserFactory(email="zhang.san@example.com", mobile="13912345678")


def _committed(django_capture_on_commit_callbacks, write):
    """Run ``write`` in a transaction and its on-commit callbacks after it, as a real commit would."""
    with django_capture_on_commit_callbacks(execute=True) as callbacks, transaction.atomic():
        result = write()
    return result, callbacks


# --- Writing ---------------------------------------------------------------------------------


def test_an_in_app_notification_is_the_inbox_entry_and_needs_no_delivery(
    resident, django_capture_on_commit_callbacks
):
    row, callbacks = _committed(
        django_capture_on_commit_callbacks,
        lambda: notify(recipient=resident, channel="in_app", kind="case.dispatched", title="已派遣"),
    )

    row.refresh_from_db()
    assert row.state == DeliveryState.SENT
    assert row.sent_at is not None
    assert callbacks == []  # nothing to hand to the task


def test_notify_user_writes_in_app_and_email_and_sms_when_a_phone_is_given(
    resident, django_capture_on_commit_callbacks
):
    rows, _ = _committed(
        django_capture_on_commit_callbacks,
        lambda: notify_user(
            user=resident,
            kind="case.confirm",
            title="问题已处理，请评价",
            body="编号 2026-0001 已处理完毕。",
            link="/cases/2026-0001/",
            subject=resident,
            phone="13800138000",
        ),
    )

    assert [r.channel for r in rows] == ["in_app", "email", "sms"]
    assert {r.subject_type for r in rows} == {"accounts.user"}
    assert {r.subject_id for r in rows} == {str(resident.pk)}
    assert Notification.objects.filter(state=DeliveryState.SENT).count() == 3
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["zhang.san@example.com"]
    assert mail.outbox[0].subject == "问题已处理，请评价"
    assert "编号 2026-0001 已处理完毕。" in mail.outbox[0].body
    assert "https://shequ.example.cn/cases/2026-0001/" in mail.outbox[0].body
    [sms] = MemorySmsBackend.outbox
    assert sms.phone == "13800138000"
    assert sms.text.startswith("问题已处理，请评价：编号 2026-0001 已处理完毕。")
    assert sms.text.endswith("https://shequ.example.cn/cases/2026-0001/")


def test_notify_user_skips_email_without_an_address_and_sms_without_a_phone(
    django_capture_on_commit_callbacks,
):
    user = UserFactory(email="", mobile="13912345678")

    rows, _ = _committed(
        django_capture_on_commit_callbacks, lambda: notify_user(user=user, kind="k", title="t")
    )

    assert [r.channel for r in rows] == ["in_app"]
    assert mail.outbox == []
    assert MemorySmsBackend.outbox == []


def test_notify_user_sends_sms_to_the_users_own_mobile_when_asked(
    resident, django_capture_on_commit_callbacks
):
    _committed(
        django_capture_on_commit_callbacks,
        lambda: notify_user(user=resident, kind="k", title="督办提醒", channels=("in_app", "sms")),
    )

    assert [m.phone for m in MemorySmsBackend.outbox] == ["13912345678"]
    assert mail.outbox == []


def test_nothing_is_sent_before_the_commit(resident, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        notify(recipient=resident, channel="email", kind="k", title="受理回执")
        assert mail.outbox == []
        assert Notification.objects.get().state == DeliveryState.PENDING
    assert len(mail.outbox) == 1


def test_nothing_is_sent_when_the_transaction_rolls_back(resident, django_capture_on_commit_callbacks):
    class RefusedError(Exception):
        pass

    def write_then_fail():
        with transaction.atomic():
            notify(recipient=resident, channel="email", kind="k", title="受理回执")
            notify(address="13800138000", channel="sms", kind="k", title="受理回执")
            raise RefusedError

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(RefusedError):
            write_then_fail()
        notify(recipient=resident, channel="in_app", kind="k", title="仅站内")

    assert callbacks == []
    assert mail.outbox == []
    assert MemorySmsBackend.outbox == []
    assert list(Notification.objects.values_list("channel", flat=True)) == ["in_app"]


def test_a_notification_needs_somewhere_to_go(resident):
    with pytest.raises(ValueError, match="recipient or an address"):
        notify(channel="email", kind="k", title="t")
    with pytest.raises(ValueError, match="unknown notification channel"):
        notify(recipient=resident, channel="pigeon", kind="k", title="t")
    with pytest.raises(ValueError, match="URL"):
        notify(recipient=resident, channel="webhook", kind="k", title="t")


# --- Channels --------------------------------------------------------------------------------


def test_an_address_overrides_the_users_own(resident, django_capture_on_commit_callbacks):
    _committed(
        django_capture_on_commit_callbacks,
        lambda: notify(recipient=resident, address="li.si@example.org", channel="email", kind="k", title="t"),
    )

    assert mail.outbox[0].to == ["li.si@example.org"]


def test_sms_to_a_reporter_without_an_account(django_capture_on_commit_callbacks):
    row, _ = _committed(
        django_capture_on_commit_callbacks,
        lambda: notify(address="13800138000", channel="sms", kind="case.reported", title="已受理"),
    )

    row.refresh_from_db()
    assert row.state == DeliveryState.SENT
    assert row.attempts == 1
    assert [(m.phone, m.text) for m in MemorySmsBackend.outbox] == [("13800138000", "已受理")]


def test_the_sms_backend_comes_from_the_setting(settings):
    settings.SHEQU_SMS_BACKEND = "shequ.core.sms.ConsoleSmsBackend"
    assert isinstance(sms_backend(), ConsoleSmsBackend)
    assert isinstance(sms_backend(), SmsBackend)
    settings.SHEQU_SMS_BACKEND = "shequ.core.tests.test_notifications.RefusingEmailBackend"
    with pytest.raises(TypeError, match="send"):
        sms_backend()


def test_the_console_sms_backend_logs_the_number_masked(caplog):
    with caplog.at_level(logging.INFO, logger="shequ.core.sms"):
        ConsoleSmsBackend().send("13800138000", "您的问题已受理")

    assert "138****8000" in caplog.text
    assert "13800138000" not in caplog.text
    assert "您的问题已受理" in caplog.text


@pytest.fixture
def webhook(monkeypatch):
    for name in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    state = SimpleNamespace(received=[], status=204, location="")

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self):
            length = int(self.headers["Content-Length"])
            state.received.append(
                {
                    "path": self.path,
                    "headers": dict(self.headers),
                    "body": json.loads(self.rfile.read(length)),
                }
            )
            self.send_response(state.status)
            if state.location:
                self.send_header("Location", state.location)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format, *args):  # noqa: A002 - the signature of the base class
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_port}/hooks/12345?token=s3cret"
    yield state
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def test_a_webhook_gets_the_notification_as_json(webhook, resident, django_capture_on_commit_callbacks):
    row, _ = _committed(
        django_capture_on_commit_callbacks,
        lambda: notify(
            address=webhook.url,
            channel="webhook",
            kind="case.closed",
            title="已结案",
            body="编号 2026-0001",
            link="/cases/2026-0001/",
            subject=resident,
        ),
    )

    row.refresh_from_db()
    assert row.state == DeliveryState.SENT
    [call] = webhook.received
    assert call["path"] == "/hooks/12345?token=s3cret"
    assert call["headers"]["Content-Type"] == "application/json; charset=utf-8"
    assert call["headers"]["Idempotency-Key"] == f"notification-{row.pk}"
    body = call["body"]
    assert body["id"] == row.pk
    assert body["kind"] == "case.closed"
    assert body["title"] == "已结案"
    assert body["link"] == "https://shequ.example.cn/cases/2026-0001/"
    assert body["subject"] == {"type": "accounts.user", "id": str(resident.pk)}


def test_a_refused_webhook_is_recorded_as_failed_without_the_url_secrets(
    webhook, django_capture_on_commit_callbacks
):
    webhook.status = 500
    with time_machine.travel(T0, tick=False):
        row, _ = _committed(
            django_capture_on_commit_callbacks,
            lambda: notify(address=webhook.url, channel="webhook", kind="k", title="t"),
        )

        row.refresh_from_db()
    assert row.state == DeliveryState.FAILED
    assert row.attempts == 1
    assert "500" in row.last_error
    assert "s3cret" not in row.last_error
    assert row.next_attempt_at == T0 + timedelta(minutes=5)


def test_a_webhook_answering_with_a_redirect_has_failed(webhook, django_capture_on_commit_callbacks):
    webhook.status = 302
    webhook.location = "http://127.0.0.1:9/elsewhere"

    row, _ = _committed(
        django_capture_on_commit_callbacks,
        lambda: notify(address=webhook.url, channel="webhook", kind="k", title="t"),
    )

    row.refresh_from_db()
    assert row.state == DeliveryState.FAILED
    assert "302" in row.last_error
    assert len(webhook.received) == 1


def test_a_webhook_must_be_an_http_url(django_capture_on_commit_callbacks):
    row, _ = _committed(
        django_capture_on_commit_callbacks,
        lambda: notify(address="file:///etc/passwd", channel="webhook", kind="k", title="t"),
    )

    row.refresh_from_db()
    assert row.state == DeliveryState.FAILED
    assert "http" in row.last_error


def test_a_refused_email_is_recorded_with_the_address_masked(
    settings, resident, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = "shequ.core.tests.test_notifications.RefusingEmailBackend"

    row, _ = _committed(
        django_capture_on_commit_callbacks,
        lambda: notify(recipient=resident, channel="email", kind="k", title="t"),
    )

    row.refresh_from_db()
    assert row.state == DeliveryState.FAILED
    assert row.last_error.startswith("SMTPRecipientsRefused")
    assert "z***@example.com" in row.last_error
    assert "zhang.san@example.com" not in row.last_error


def test_an_email_to_a_user_without_an_address_fails_clearly(django_capture_on_commit_callbacks):
    user = UserFactory(email="")

    row, _ = _committed(
        django_capture_on_commit_callbacks,
        lambda: notify(recipient=user, channel="email", kind="k", title="t"),
    )

    row.refresh_from_db()
    assert row.state == DeliveryState.FAILED
    assert "DeliveryError" in row.last_error


def test_addresses_are_masked_for_display():
    assert address_masked("sms", "13800138000") == "138****8000"
    assert address_masked("email", "zhang.san@example.com") == "z***@example.com"
    assert address_masked("webhook", "https://ops.example.cn/hook?token=abc") == "https://ops.example.cn/…"
    assert address_masked("in_app", "") == ""


# --- Retries and idempotent delivery --------------------------------------------------------------


def test_delivering_twice_sends_once(resident, django_capture_on_commit_callbacks):
    row, _ = _committed(
        django_capture_on_commit_callbacks,
        lambda: notify(recipient=resident, channel="email", kind="k", title="t"),
    )

    again = notifications_send(ids=[row.pk, row.pk])
    result = notifications_deliver.enqueue([row.pk])

    assert again.as_dict() == {"sent": 0, "failed": 0, "skipped": 1}
    assert result.return_value == {"sent": 0, "failed": 0, "skipped": 1}
    assert len(mail.outbox) == 1
    row.refresh_from_db()
    assert row.attempts == 1


def test_a_row_leased_to_another_worker_is_skipped(resident):
    with time_machine.travel(T0, tick=False):
        row = Notification.objects.create(
            recipient=resident,
            channel=NotificationChannel.EMAIL,
            kind="k",
            title="t",
            attempts=1,
            next_attempt_at=timezone.now() + DELIVERY_LEASE,
        )
        report = notifications_send(ids=[row.pk])
    assert report.skipped == 1
    assert mail.outbox == []
    with time_machine.travel(T0 + DELIVERY_LEASE + timedelta(seconds=1), tick=False):
        report = notifications_send(ids=[row.pk])
    assert report.sent == 1
    assert len(mail.outbox) == 1


def test_the_retry_job_sends_failed_rows_again_after_the_backoff(
    settings, django_capture_on_commit_callbacks
):
    settings.SHEQU_SMS_BACKEND = "shequ.core.tests.test_notifications.FlakySmsBackend"
    FlakySmsBackend.failures_left = 2
    start = T0

    with time_machine.travel(start, tick=False):
        row, _ = _committed(
            django_capture_on_commit_callbacks,
            lambda: notify(address="13800138000", channel="sms", kind="k", title="请评价"),
        )
    row.refresh_from_db()
    assert (row.state, row.attempts) == (DeliveryState.FAILED, 1)
    assert "138****8000" in row.last_error
    assert row.next_attempt_at == start + timedelta(minutes=5)

    assert notifications_retry(now=start + timedelta(minutes=4)) == 0  # not due yet
    with time_machine.travel(start + timedelta(minutes=5), tick=False):
        assert notifications_retry(now=timezone.now()) == 1
    row.refresh_from_db()
    assert (row.state, row.attempts) == (DeliveryState.FAILED, 2)
    assert row.next_attempt_at == start + timedelta(minutes=5) + timedelta(minutes=10)  # backoff doubles

    with time_machine.travel(start + timedelta(minutes=15), tick=False):
        assert notifications_retry(now=timezone.now()) == 1
    row.refresh_from_db()
    assert (row.state, row.attempts, row.last_error) == (DeliveryState.SENT, 3, "")
    assert [m.phone for m in MemorySmsBackend.outbox] == ["13800138000"]
    assert notifications_retry(now=start + timedelta(days=1)) == 0


def test_the_retry_job_gives_up_after_five_attempts(settings, django_capture_on_commit_callbacks):
    settings.SHEQU_SMS_BACKEND = "shequ.core.tests.test_notifications.FlakySmsBackend"
    FlakySmsBackend.failures_left = 100
    now = T0
    with time_machine.travel(now, tick=False):
        row, _ = _committed(
            django_capture_on_commit_callbacks,
            lambda: notify(address="13800138000", channel="sms", kind="k", title="t"),
        )
    for _ in range(10):
        now += timedelta(hours=2)
        with time_machine.travel(now, tick=False):
            notifications_retry(now=now)

    row.refresh_from_db()
    assert (row.state, row.attempts) == (DeliveryState.FAILED, 5)
    assert row.next_attempt_at is None
    assert FlakySmsBackend.failures_left == 95


def test_the_retry_job_picks_up_rows_whose_task_was_lost_but_leaves_fresh_ones(resident):
    with time_machine.travel(T0, tick=False):
        lost = Notification.objects.create(recipient=resident, channel="email", kind="k", title="lost")
    with time_machine.travel(T0 + timedelta(minutes=3), tick=False):
        fresh = Notification.objects.create(recipient=resident, channel="email", kind="k", title="fresh")
        assert notifications_retry() == 1

    lost.refresh_from_db()
    fresh.refresh_from_db()
    assert lost.state == DeliveryState.SENT
    assert fresh.state == DeliveryState.PENDING
    assert [m.subject for m in mail.outbox] == ["lost"]


def test_the_retry_and_purge_jobs_are_registered():
    jobs = {job.name: job for job in ticks.periodic_jobs()}

    assert jobs["core.notifications_retry"].every == timedelta(minutes=5)
    assert jobs["core.idempotency_purge"].every == timedelta(days=1)


def test_the_tick_runs_the_retry_job(resident):
    with time_machine.travel(T0, tick=False):
        Notification.objects.create(recipient=resident, channel="email", kind="k", title="t")
    with time_machine.travel(T0 + timedelta(minutes=10), tick=False):
        report = ticks.periodic_jobs_run()

    assert report.ran["core.notifications_retry"] == 1
    assert len(mail.outbox) == 1


def test_with_the_database_queue_the_delivery_task_commits_with_the_outbox(resident, settings):
    from django_tasks_db.models import DBTaskResult

    settings.TASKS = {"default": {"BACKEND": "shequ.core.tasks_queue.DatabaseBackend"}}

    class RefusedError(Exception):
        pass

    queued_inside = []

    def write_then_fail():
        with transaction.atomic():
            notify(recipient=resident, channel="email", kind="k", title="受理回执")
            # Queued in the open transaction, not after it: one commit carries both.
            queued_inside.append(DBTaskResult.objects.count())
            raise RefusedError

    with pytest.raises(RefusedError):
        write_then_fail()
    assert queued_inside == [1]
    assert DBTaskResult.objects.count() == 0
    assert not Notification.objects.exists()

    with transaction.atomic():
        notify(recipient=resident, channel="email", kind="k", title="受理回执")
    assert DBTaskResult.objects.count() == 1
    assert mail.outbox == []  # the worker sends it
