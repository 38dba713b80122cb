"""Hooks the cases app registers with the kernel at start-up: visibility rules, periodic jobs,
deadline handlers, navigation entries."""

from __future__ import annotations

from django.db.models import Q

from shequ.accounts.visibility import ScopeRule, register_scope


def _personal(uid: int) -> Q:
    from .models import CaseSubscription

    return Q(reporter_id=uid) | Q(pk__in=CaseSubscription.objects.filter(user_id=uid).values("case_id"))


def register_case_scopes() -> None:
    from .models import Case

    # Staff see the cases of their area (path prefix, or their grid); a department, utility or property
    # company sees the cases routed to it; a resident sees the cases they reported or follow.
    register_scope(
        Case,
        ScopeRule(
            path="path",
            grid="grid_id",
            organisation=lambda ids: Q(handler_org_id__in=ids),
            personal=_personal,
        ),
    )


def register_cases() -> None:
    register_case_scopes()
    # Each area module registers its own hooks; imported here so that app loading stays in one place.
    from . import hooks

    hooks.register_all()
