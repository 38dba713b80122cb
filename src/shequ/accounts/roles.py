"""Which node each role is held at (DOMAIN.md §1–§2).

A membership = user + role + node. A role only makes sense at certain nodes: a committee worker
at a committee, a grid worker at a grid, a property manager at a property company. The table below
is the one place that says so; ``membership_grant`` refuses anything else with a clear message.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from shequ.places.models import DivisionLevel

from .models import OrganisationKind, Role


@dataclass(frozen=True)
class NodeRule:
    """Where a role may be held: divisions of these levels, a grid, organisations of these kinds."""

    division_levels: frozenset[str] = frozenset()
    grid: bool = False
    organisation_kinds: frozenset[str] = frozenset()
    description: str | Promise = ""


_COMMITTEE = frozenset({DivisionLevel.COMMITTEE.value})
_STREET = frozenset({DivisionLevel.STREET.value})
_DISTRICT = frozenset({DivisionLevel.DISTRICT.value})
_CITY = frozenset({DivisionLevel.CITY.value})
_DEPARTMENTS = frozenset(
    {
        OrganisationKind.DEPARTMENT.value,
        OrganisationKind.DEPARTMENT_BRANCH.value,
        OrganisationKind.UTILITY.value,
    }
)

ROLE_NODES: dict[str, NodeRule] = {
    Role.RESIDENT: NodeRule(division_levels=_COMMITTEE, description=_("居村委")),
    Role.COMMITTEE_WORKER: NodeRule(division_levels=_COMMITTEE, description=_("居村委")),
    Role.COMMITTEE_HEAD: NodeRule(division_levels=_COMMITTEE, description=_("居村委")),
    Role.GRID_WORKER: NodeRule(grid=True, description=_("网格")),
    Role.STREET_OFFICER: NodeRule(division_levels=_STREET, description=_("街镇")),
    Role.STREET_DISPATCHER: NodeRule(division_levels=_STREET, description=_("街镇")),
    Role.DISTRICT_OFFICER: NodeRule(division_levels=_DISTRICT, description=_("区")),
    Role.CIVIL_AFFAIRS_OFFICER: NodeRule(division_levels=_DISTRICT | _STREET, description=_("区或街镇")),
    Role.DEPARTMENT_HANDLER: NodeRule(
        organisation_kinds=_DEPARTMENTS, description=_("职能部门、部门派出机构或公用事业单位")
    ),
    Role.DEPARTMENT_HEAD: NodeRule(
        organisation_kinds=_DEPARTMENTS, description=_("职能部门、部门派出机构或公用事业单位")
    ),
    Role.PROPERTY_MANAGER: NodeRule(
        organisation_kinds=frozenset({OrganisationKind.PROPERTY_COMPANY.value}), description=_("物业公司")
    ),
    Role.OWNERS_COMMITTEE_MEMBER: NodeRule(
        organisation_kinds=frozenset({OrganisationKind.OWNERS_COMMITTEE.value}), description=_("业主委员会")
    ),
    Role.VOLUNTEER: NodeRule(
        division_levels=_COMMITTEE | _STREET,
        organisation_kinds=frozenset({OrganisationKind.SOCIAL_ORGANISATION.value}),
        description=_("居村委、街镇或社会组织"),
    ),
    Role.PETITION_OFFICER: NodeRule(
        division_levels=_CITY | _DISTRICT | _STREET, description=_("市、区或街镇")
    ),
    Role.CITY_ADMIN: NodeRule(division_levels=_CITY, description=_("市")),
}
