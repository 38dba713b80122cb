"""What the case pages share: who counts as staff here, the page size, the ``next`` address a form
returns to, and putting a service's ``ApiError`` next to the field it names."""

from __future__ import annotations

from typing import Any

from django import forms
from django.http import HttpRequest
from django.utils.http import url_has_allowed_host_and_scheme

from shequ.accounts.models import Role
from shequ.accounts.security import is_staff_user
from shequ.accounts.visibility import scope_of
from shequ.cases.machine import CHECKERS, COMMITTEE, DISPATCH, HANDLERS
from shequ.core.errors import ApiError

PAGE_SIZE = 25

# Who works which page (the transitions themselves are checked per case by ``permissions``).
REGISTRARS = frozenset({Role.COMMITTEE_WORKER, Role.COMMITTEE_HEAD, Role.GRID_WORKER, Role.STREET_DISPATCHER})
COMMITTEE_REGISTRARS = COMMITTEE
BOARD_ROLES = DISPATCH
QUEUE_ROLES = HANDLERS
CHECK_ROLES = CHECKERS


def roles_of(user: Any) -> frozenset[str]:
    if not getattr(user, "is_authenticated", False):
        return frozenset()
    if user.is_superuser:
        return frozenset(Role.values)
    return scope_of(user).roles


def has_role(user: Any, roles: frozenset[str]) -> bool:
    return bool(roles_of(user) & roles)


def is_staff(user: Any) -> bool:
    return is_staff_user(user)


def safe_next(request: HttpRequest, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


def add_api_error(form: forms.Form, exc: ApiError, *, field_map: dict[str, str] | None = None) -> None:
    """Show a service's refusal next to the field it names (or above the form)."""
    name = (field_map or {}).get(exc.field, exc.field)
    form.add_error(name if name in form.fields else None, exc.message)


def version_of(request: HttpRequest) -> int | None:
    raw = request.POST.get("version", "")
    return int(raw) if raw.isdigit() else None
