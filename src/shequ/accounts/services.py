"""Writes of the accounts app: second-factor devices, memberships, API tokens."""

from __future__ import annotations

import base64
import secrets
from typing import Any

import segno
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from shequ.core.events import event_record

from .api_auth import TOKEN_PREFIX, token_digest
from .models import ApiToken

TOTP_DEVICE_NAME = "default"


def confirmed_totp_device(*, user: Any) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).first()


def totp_device_pending(*, user: Any) -> TOTPDevice:
    """The user's unconfirmed device, created on first visit to the enrolment page."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=TOTP_DEVICE_NAME, confirmed=False)
    return device


def totp_secret_base32(device: TOTPDevice) -> str:
    return base64.b32encode(device.bin_key).decode()


def totp_qr_svg(device: TOTPDevice) -> str:
    return segno.make(device.config_url, error="m").svg_inline(scale=4)


@transaction.atomic
def totp_device_confirm(*, request: HttpRequest, device: TOTPDevice, token: str) -> bool:
    if not device.verify_token(token):
        return False
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    otp_login(request, device)
    event_record(subject=request.user, type="SECOND_FACTOR_ENROLLED", actor=request.user)  # type: ignore[arg-type]
    return True


def otp_verify_login(*, request: HttpRequest, device: TOTPDevice, token: str) -> bool:
    if not device.verify_token(token):
        return False
    otp_login(request, device)
    return True


@transaction.atomic
def api_token_create(*, user: Any, name: str) -> tuple[ApiToken, str]:
    """Create a token; the raw value is returned once and never stored."""
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(user=user, name=name, prefix=raw[:12], digest=token_digest(raw))
    event_record(subject=token, type="API_TOKEN_CREATED", actor=user, data={"name": name})
    return token, raw


@transaction.atomic
def api_token_revoke(*, token: ApiToken, actor: Any) -> ApiToken:
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        event_record(subject=token, type="API_TOKEN_REVOKED", actor=actor)
    return token
