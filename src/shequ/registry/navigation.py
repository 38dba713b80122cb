"""The registry's entries in the main navigation (registered in ``RegistryConfig.ready``)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from shequ.accounts.models import Role
from shequ.accounts.visibility import scope_of
from shequ.core.navigation import nav_entry_register

from .permissions import DEPARTMENT_ROLES, IMPORT_ROLES, VIEW_ROLES, roles_anywhere


def _registry_staff(user: Any) -> bool:
    return bool(roles_anywhere(user) & VIEW_ROLES)


def _importer(user: Any) -> bool:
    return bool(roles_anywhere(user) & IMPORT_ROLES)


def _resident(user: Any) -> bool:
    return Role.RESIDENT in scope_of(user).roles


def _backflow(user: Any) -> bool:
    return bool(roles_anywhere(user) & (VIEW_ROLES | DEPARTMENT_ROLES))


def register_registry_navigation() -> None:
    nav_entry_register(
        order=20, label=_("居民信息"), url_name="registry:person_list", shown_to=_registry_staff
    )
    nav_entry_register(order=21, label=_("台账导入"), url_name="registry:import_list", shown_to=_importer)
    nav_entry_register(order=22, label=_("数据回流"), url_name="registry:backflow_list", shown_to=_backflow)
    nav_entry_register(order=25, label=_("我的信息"), url_name="registry:me", shown_to=_resident)
