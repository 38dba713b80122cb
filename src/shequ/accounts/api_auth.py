"""API authentication: the web session (with CSRF) or a personal bearer token."""

from __future__ import annotations

import hashlib
from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from ninja.security import APIKeyHeader, SessionAuth

from .models import ApiToken

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
        token = (
            ApiToken.objects.select_related("user")
            .filter(digest=token_digest(raw.strip()), revoked_at__isnull=True, user__is_active=True)
            .first()
        )
        if token is None:
            return None
        now = timezone.now()
        if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        request.user = token.user
        request.api_token = token  # type: ignore[attr-defined]
        return token.user


class VerifiedSessionAuth(SessionAuth):
    """The browser session; staff sessions count only once the second factor is verified."""

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        user = super().authenticate(request, key)
        if user is None:
            return None
        from .security import second_factor_satisfied

        return user if second_factor_satisfied(request, user) else None


api_auth = [BearerTokenAuth(), VerifiedSessionAuth()]
