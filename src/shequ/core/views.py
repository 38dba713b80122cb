"""The web shell: the home page that shows each user what their roles let them do."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from shequ.accounts.models import Membership, Role
from shequ.accounts.visibility import scope_of
from shequ.core.templatetags.shequ_ui import url_or_empty


@dataclass(frozen=True)
class Action:
    """One thing a role does on the platform; ``url_name`` links it when the page exists."""

    title: str | Promise
    description: str | Promise
    url_name: str = ""


_BROWSE = "places:browse"

# What each role does here, in the words of the role (DOMAIN.md §2). Only working pages are linked.
ROLE_ACTIONS: dict[str, tuple[Action, ...]] = {
    Role.RESIDENT: (Action(_("我的小区"), _("查看所在居村和小区的基本情况。"), _BROWSE),),
    Role.COMMITTEE_WORKER: (Action(_("本居村辖区"), _("浏览本居村的小区、楼栋和户数。"), _BROWSE),),
    Role.COMMITTEE_HEAD: (
        Action(_("本居村辖区"), _("浏览本居村的小区、楼栋和户数。"), _BROWSE),
        Action(_("居村概况"), _("掌握本居村的小区构成：物业、围合、老旧小区。"), _BROWSE),
    ),
    Role.GRID_WORKER: (Action(_("本网格"), _("浏览网格内的小区和楼栋，用于巡查走访。"), _BROWSE),),
    Role.STREET_OFFICER: (Action(_("本街镇辖区"), _("浏览本街镇的居村、小区和户数。"), _BROWSE),),
    Role.STREET_DISPATCHER: (
        Action(_("本街镇辖区"), _("查看本街镇的居村和小区，作为派单处置的依据。"), _BROWSE),
    ),
    Role.DISTRICT_OFFICER: (Action(_("本区辖区"), _("浏览本区的街镇、居村和小区。"), _BROWSE),),
    Role.CIVIL_AFFAIRS_OFFICER: (Action(_("居村建设"), _("查看本辖区居村委会的分布和规模。"), _BROWSE),),
    Role.DEPARTMENT_HANDLER: (Action(_("服务区域"), _("查看本部门服务区域内的街镇和小区。"), _BROWSE),),
    Role.DEPARTMENT_HEAD: (Action(_("服务区域"), _("查看本部门服务区域内的街镇和小区。"), _BROWSE),),
    Role.PROPERTY_MANAGER: (Action(_("服务的小区"), _("查看本公司服务的小区概况和楼栋。"), _BROWSE),),
    Role.OWNERS_COMMITTEE_MEMBER: (Action(_("本小区"), _("查看业委会所在小区的概况和楼栋。"), _BROWSE),),
    Role.VOLUNTEER: (Action(_("服务的居村"), _("查看所服务居村的小区，参与志愿服务。"), _BROWSE),),
    Role.PETITION_OFFICER: (Action(_("辖区"), _("查看本辖区的街镇和居村，便于信访事项属地办理。"), _BROWSE),),
    Role.CITY_ADMIN: (
        Action(_("全市辖区"), _("浏览全市的区、街镇、居村和小区。"), _BROWSE),
        Action(_("工作日历"), _("维护法定节假日和调休上班日，所有时限据此计算。"), "core:calendar"),
        Action(_("接口文档"), _("查看开放接口（REST / OpenAPI）的说明。"), "api:openapi-view"),
    ),
}


@dataclass(frozen=True)
class RoleSection:
    role: str
    label: str | Promise
    actions: list[tuple[Action, str]]


@dataclass(frozen=True)
class MembershipNode:
    role_label: str | Promise
    name: str
    detail: str | Promise
    url: str


def _role_sections(roles: frozenset[str]) -> list[RoleSection]:
    sections = []
    for role in Role:  # the order of the Role choices, not of the memberships
        if role.value not in roles:
            continue
        actions = [
            (a, url_or_empty(a.url_name) if a.url_name else "") for a in ROLE_ACTIONS.get(role.value, ())
        ]
        sections.append(RoleSection(role=role.value, label=role.label, actions=actions))
    return sections


def _membership_nodes(user: Any) -> list[MembershipNode]:
    """The user's own membership nodes, each linked to its page in the place browser."""
    rows = (
        Membership.objects.filter(user=user, is_active=True)
        .select_related("division", "grid__division", "organisation__division")
        .defer(
            "division__boundary",
            "grid__boundary",
            "grid__division__boundary",
            "organisation__division__boundary",
        )
        .order_by("pk")
    )
    nodes = []
    browse = reverse(_BROWSE)
    for m in rows:
        role_label = Role(m.role).label if m.role in Role.values else m.role
        if m.division is not None:
            url = reverse("places:division", kwargs={"code": m.division.code})
            nodes.append(MembershipNode(role_label, m.division.name, m.division.get_level_display(), url))
        elif m.grid is not None:
            url = reverse("places:division", kwargs={"code": m.grid.division.code})
            detail = _("网格，属%(division)s") % {"division": m.grid.division.name}
            nodes.append(MembershipNode(role_label, m.grid.name, detail, url))
        elif m.organisation is not None:
            org = m.organisation
            if org.division is not None:
                url = reverse("places:division", kwargs={"code": org.division.code})
            else:
                url = browse
            nodes.append(MembershipNode(role_label, org.name, org.get_kind_display(), url))
    return nodes


@login_required
def home(request: HttpRequest) -> HttpResponse:
    scope = scope_of(request.user)
    context = {
        "sections": _role_sections(scope.roles),
        "nodes": _membership_nodes(request.user),
        "account_links": [
            (label, url)
            for label, url in (
                (_("修改密码"), url_or_empty("accounts:password_change")),
                (_("API 令牌"), url_or_empty("accounts:tokens")),
            )
            if url
        ],
    }
    return render(request, "core/home.html", context)
