"""Second factor rules (DOMAIN.md §14: TOTP for every staff role)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest

from .models import Role

# Roles that are not staff: they sign in with a password alone.
NON_STAFF_ROLES = frozenset({Role.RESIDENT.value, Role.VOLUNTEER.value})


def is_staff_user(user: Any) -> bool:
    """Anyone holding a staff role (everything but resident and volunteer), and anyone who may open
    the Django admin, must use TOTP."""
    from .visibility import scope_of

    if not getattr(user, "is_authenticated", False):
        return False
    if getattr(user, "is_superuser", False) or getattr(user, "is_staff", False):
        return True
    return bool(scope_of(user).roles - NON_STAFF_ROLES)


def second_factor_satisfied(request: HttpRequest, user: Any) -> bool:
    """Whether this request's session has done everything sign-in asks of ``user``."""
    if not is_staff_user(user):
        return True
    is_verified = getattr(user, "is_verified", None)
    return bool(is_verified and is_verified())


def client_ip(request: HttpRequest) -> str | None:
    """The client's address for the lockout key (per username and IP). Behind ``SHEQU_PROXY_COUNT``
    trusted proxies it is the entry that the outermost of them appended to X-Forwarded-For; entries
    further left were written by the client and are never trusted."""
    proxies = int(getattr(settings, "SHEQU_PROXY_COUNT", 0))
    if proxies > 0:
        forwarded = [
            part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()
        ]
        if len(forwarded) >= proxies:
            return forwarded[-proxies]
    return request.META.get("REMOTE_ADDR")
