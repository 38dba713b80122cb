"""The case loop's entries in the main navigation, per role (registered from ``hooks.register_all``)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from shequ.accounts.models import Role
from shequ.core.navigation import nav_entry_register

from .permissions import DISPATCH_ROLES
from .views.common import BOARD_ROLES, CHECK_ROLES, has_role
from .views.dashboards import register_dashboard_navigation

RESIDENTS = frozenset({Role.RESIDENT})
# Quick registration: the committee's and the grid's staff (dispatchers register on their board).
COUNTER_STAFF = frozenset({Role.COMMITTEE_WORKER, Role.COMMITTEE_HEAD, Role.GRID_WORKER})
# The responsible units' queue: departments, property companies, and committees for their own
# small matters.
QUEUE_STAFF = frozenset(
    {
        Role.DEPARTMENT_HANDLER,
        Role.DEPARTMENT_HEAD,
        Role.PROPERTY_MANAGER,
        Role.COMMITTEE_WORKER,
        Role.COMMITTEE_HEAD,
    }
)


# Routing rules are kept by district officers (their district) and city administrators.
ROUTING_EDITORS = frozenset({Role.DISTRICT_OFFICER, Role.CITY_ADMIN})


STAFF_ROLES = frozenset(Role.values) - {Role.RESIDENT, Role.VOLUNTEER}


def _shown_to(roles: frozenset[str]) -> Any:
    def shown(user: Any) -> bool:
        return has_role(user, roles)

    return shown


def register_case_navigation() -> None:
    nav_entry_register(order=30, label=_("我要反映"), url_name="cases:report", shown_to=_shown_to(RESIDENTS))
    nav_entry_register(order=31, label=_("我的诉求"), url_name="cases:mine", shown_to=_shown_to(RESIDENTS))
    nav_entry_register(
        order=32, label=_("登记诉求"), url_name="cases:register", shown_to=_shown_to(COUNTER_STAFF)
    )
    nav_entry_register(
        order=33, label=_("调度台"), url_name="cases:dispatch", shown_to=_shown_to(BOARD_ROLES)
    )
    nav_entry_register(order=34, label=_("待办案件"), url_name="cases:queue", shown_to=_shown_to(QUEUE_STAFF))
    nav_entry_register(
        order=35, label=_("核查任务"), url_name="cases:checks", shown_to=_shown_to(CHECK_ROLES)
    )
    # Every shown_to reads the roles of the user's scope, computed once per request: no query per page.
    # Dashboards: anyone with a division or organisation seat (the dashboard's own access rule).
    register_dashboard_navigation()
    nav_entry_register(
        order=37,
        label=_("12345 工单导入"),
        url_name="cases:hotline_import",
        shown_to=_shown_to(DISPATCH_ROLES),
    )
    nav_entry_register(
        order=38, label=_("派单目录"), url_name="cases:catalogue", shown_to=_shown_to(STAFF_ROLES)
    )
    nav_entry_register(
        order=39, label=_("派单规则"), url_name="cases:routing_home", shown_to=_shown_to(ROUTING_EDITORS)
    )
