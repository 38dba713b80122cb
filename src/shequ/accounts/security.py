"""Second factor and session rules (DOMAIN.md §14: TOTP for every staff role)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from .models import Role

# Roles that are not staff: they sign in with a password alone.
NON_STAFF_ROLES = frozenset({Role.RESIDENT, Role.VOLUNTEER})


def is_staff_user(user: Any) -> bool:
    """A user holding any staff role (everything but resident and volunteer) must use TOTP."""
    from .visibility import scope_of

    if getattr(user, "is_superuser", False):
        return True
    return bool(scope_of(user).roles - NON_STAFF_ROLES)


def second_factor_satisfied(request: HttpRequest, user: Any) -> bool:
    if not is_staff_user(user):
        return True
    is_verified = getattr(user, "is_verified", None)
    return bool(is_verified and is_verified())
