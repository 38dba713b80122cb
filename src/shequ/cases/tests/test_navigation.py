"""The case loop's navigation entries per role (one table, read from the roles of the user's scope)."""

from __future__ import annotations

import pytest

from shequ.accounts.models import Role
from shequ.accounts.tests.factories import small_tree, user_for_role_in_tree
from shequ.core.navigation import nav_entries_for

pytestmark = pytest.mark.django_db

CASE_ENTRIES = {
    "cases:report",
    "cases:mine",
    "cases:register",
    "cases:dispatch",
    "cases:queue",
    "cases:checks",
    "cases:dashboards",
    "cases:hotline_import",
    "cases:catalogue",
    "cases:routing_home",
}

EXPECTED = {
    Role.RESIDENT: {"cases:report", "cases:mine"},
    Role.VOLUNTEER: set(),
    Role.COMMITTEE_WORKER: {"cases:register", "cases:queue", "cases:dashboards", "cases:catalogue"},
    Role.STREET_DISPATCHER: {
        "cases:dispatch",
        "cases:checks",
        "cases:dashboards",
        "cases:hotline_import",
        "cases:catalogue",
    },
    # A grid seat gives no division dashboard (the dashboard answers 404): no entry for it.
    Role.GRID_WORKER: {"cases:register", "cases:checks", "cases:catalogue"},
    Role.DEPARTMENT_HANDLER: {"cases:queue", "cases:dashboards", "cases:catalogue"},
    Role.DISTRICT_OFFICER: {
        "cases:dispatch",
        "cases:dashboards",
        "cases:hotline_import",
        "cases:catalogue",
        "cases:routing_home",
    },
}


@pytest.mark.parametrize("role", list(EXPECTED))
def test_each_role_sees_its_case_entries(role: str) -> None:
    user = user_for_role_in_tree(role, small_tree())
    shown = {entry.url_name for entry in nav_entries_for(user)} & CASE_ENTRIES
    assert shown == EXPECTED[role]
