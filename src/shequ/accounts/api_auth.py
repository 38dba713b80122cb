"""API authentication: the web session (with CSRF) or a personal bearer token."""

from __future__ import annotations

import hashlib
from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from ninja.security import APIKeyHeader, SessionAuth

from .models import ApiToken
from .reference import token_entry

TOKEN_PREFIX = "shq_"  # noqa: S105 - a public marker, not a secret


def token_digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class BearerTokenAuth(APIKeyHeader):
    """``Authorization: Bearer shq_…``; the token acts with its owner's scope."""

    param_name = "Authorization"
    openapi_scheme = "bearer"

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        if not key:
            return None
        scheme, _, raw = key.partition(" ")
        if scheme.lower() != "bearer" or not raw.startswith(TOKEN_PREFIX):
            return None
        entry = token_entry(token_digest(raw.strip()))
        if entry is None:
            return None
        now = timezone.now()
        if entry.last_used_at is None or (now - entry.last_used_at).total_seconds() > 60:
            ApiToken.objects.filter(pk=entry.token_id).update(last_used_at=now)
            entry.last_used_at = now
        user = entry.user()
        request.user = user
        request.api_token = entry  # type: ignore[attr-defined]
        return user


class VerifiedSessionAuth(SessionAuth):
    """The browser session; staff sessions count only once the second factor is verified."""

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        user = super().authenticate(request, key)
        if user is None:
            return None
        from .security import second_factor_satisfied

        return user if second_factor_satisfied(request, user) else None


api_auth = [BearerTokenAuth(), VerifiedSessionAuth()]
