"""Who may do what in the accounts app, as named rules (STYLE.md rule 8).

Each rule answers both questions a policy must answer: "may this user do X to this object"
(``can_*``) and "which objects may this user do X to" (``*_manageable``, a queryset for list pages
and the admin). Both are computed from the same table of powers, so a list never shows a row the
detail would refuse.

Powers come from active staff memberships (DOMAIN.md §2):

==================  ==============================  =========================================
holder              may grant/revoke these roles     may create and edit organisations
==================  ==============================  =========================================
city administrator  every role, anywhere             every kind, anywhere
district officer    every role but city admin and    every kind, in the district
                    district officer, in district
street officer      committee, grid, dispatcher,     property companies, owners' committees,
                    resident, volunteer, property,   social organisations, area units, the
                    owners'-committee roles, street  street office, in the street
committee head      committee worker, grid worker,   owners' committees and social
                    resident, volunteer, owners'-    organisations, in the committee
                    committee member, committee
department head     department handler, in the       branches of the department; edit the
                    department and its branches      department itself
==================  ==============================  =========================================

Superusers (platform operators, behind TOTP) may do everything.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from .models import Membership, Organisation, OrganisationKind, Role

ALL_ROLES = frozenset(Role.values)
ALL_KINDS = frozenset(OrganisationKind.values)


@dataclass(frozen=True)
class Power:
    """One grant of power held through one membership: below ``path`` (a place subtree) or within
    ``organisation_id`` (an organisation and its branches)."""

    roles: frozenset[str]
    organisation_kinds: frozenset[str]
    path: str = ""
    organisation_id: int | None = None
    # A department head may edit the department itself, not only create branches.
    edit_own_organisation: bool = False


_POWERS_BY_ROLE: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    Role.CITY_ADMIN: (ALL_ROLES, ALL_KINDS),
    Role.DISTRICT_OFFICER: (ALL_ROLES - {Role.CITY_ADMIN, Role.DISTRICT_OFFICER}, ALL_KINDS),
    Role.STREET_OFFICER: (
        frozenset(
            {
                Role.COMMITTEE_WORKER,
                Role.COMMITTEE_HEAD,
                Role.GRID_WORKER,
                Role.STREET_DISPATCHER,
                Role.RESIDENT,
                Role.VOLUNTEER,
                Role.PROPERTY_MANAGER,
                Role.OWNERS_COMMITTEE_MEMBER,
            }
        ),
        frozenset(
            {
                OrganisationKind.PROPERTY_COMPANY,
                OrganisationKind.OWNERS_COMMITTEE,
                OrganisationKind.SOCIAL_ORGANISATION,
                OrganisationKind.RESIDENT_UNIT,
                OrganisationKind.STREET_OFFICE,
            }
        ),
    ),
    Role.COMMITTEE_HEAD: (
        frozenset(
            {
                Role.COMMITTEE_WORKER,
                Role.GRID_WORKER,
                Role.RESIDENT,
                Role.VOLUNTEER,
                Role.OWNERS_COMMITTEE_MEMBER,
            }
        ),
        frozenset({OrganisationKind.OWNERS_COMMITTEE, OrganisationKind.SOCIAL_ORGANISATION}),
    ),
    Role.DEPARTMENT_HEAD: (
        frozenset({Role.DEPARTMENT_HANDLER}),
        frozenset({OrganisationKind.DEPARTMENT_BRANCH}),
    ),
}

_POWERS_ATTR = "_shequ_account_powers"


def powers_of(user: Any) -> tuple[Power, ...]:
    """The user's powers over memberships and organisations, cached on the user for the request."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return ()
    cached = getattr(user, _POWERS_ATTR, None)
    if cached is not None:
        return tuple(cached)
    today = timezone.localdate()
    rows = (
        Membership.objects.filter(user=user, is_active=True, role__in=list(_POWERS_BY_ROLE))
        .filter(
            Q(starts_on__isnull=True) | Q(starts_on__lte=today),
            Q(ends_on__isnull=True) | Q(ends_on__gte=today),
        )
        .select_related("division", "organisation")
    )
    powers: list[Power] = []
    for m in rows:
        roles, kinds = _POWERS_BY_ROLE[m.role]
        if m.division is not None:
            powers.append(Power(roles=roles, organisation_kinds=kinds, path=m.division.path))
        elif m.organisation is not None:
            powers.append(
                Power(
                    roles=roles,
                    organisation_kinds=kinds,
                    organisation_id=m.organisation.pk,
                    edit_own_organisation=True,
                )
            )
    setattr(user, _POWERS_ATTR, tuple(powers))
    return tuple(powers)


def forget_powers(user: Any) -> None:
    if hasattr(user, _POWERS_ATTR):
        delattr(user, _POWERS_ATTR)


def _is_operator(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.is_active and user.is_superuser)


def node_path(*, division: Any = None, grid: Any = None, organisation: Any = None) -> str:
    """The place path of a membership node ("" for an organisation with no area)."""
    if division is not None:
        return str(division.path)
    if grid is not None:
        return str(grid.path)
    if organisation is not None and organisation.division is not None:
        return str(organisation.division.path)
    return ""


def _power_covers_node(power: Power, *, path: str, organisation: Any) -> bool:
    if power.organisation_id is not None:
        return organisation is not None and power.organisation_id in (organisation.pk, organisation.parent_id)
    return bool(path) and path.startswith(power.path)


# --- Memberships ------------------------------------------------------------------------------


def can_grant_membership(
    user: Any, *, role: str, division: Any = None, grid: Any = None, organisation: Any = None
) -> bool:
    """May ``user`` give ``role`` to someone at this node?"""
    if _is_operator(user):
        return True
    path = node_path(division=division, grid=grid, organisation=organisation)
    return any(
        role in p.roles and _power_covers_node(p, path=path, organisation=organisation)
        for p in powers_of(user)
    )


def can_revoke_membership(user: Any, membership: Membership) -> bool:
    """May ``user`` end this membership? The same power that could grant it."""
    return can_grant_membership(
        user,
        role=membership.role,
        division=membership.division,
        grid=membership.grid,
        organisation=membership.organisation,
    )


def memberships_manageable(user: Any) -> QuerySet[Membership]:
    """The memberships ``user`` may revoke (and so see in a management list)."""
    qs = Membership.objects.all()
    if _is_operator(user):
        return qs
    q = Q(pk__in=[])
    for p in powers_of(user):
        if p.organisation_id is not None:
            where = Q(organisation_id=p.organisation_id) | Q(organisation__parent_id=p.organisation_id)
        else:
            where = (
                Q(division__path__startswith=p.path)
                | Q(grid__path__startswith=p.path)
                | Q(organisation__division__path__startswith=p.path)
            )
        q |= Q(role__in=sorted(p.roles)) & where
    return qs.filter(q)


# --- Organisations ------------------------------------------------------------------------------


def can_create_organisation(user: Any, *, kind: str, division: Any = None, parent: Any = None) -> bool:
    """May ``user`` register an organisation of ``kind`` serving ``division`` under ``parent``?"""
    if _is_operator(user):
        return True
    path = str(division.path) if division is not None else ""
    for p in powers_of(user):
        if kind not in p.organisation_kinds:
            continue
        if p.organisation_id is not None:
            if parent is not None and parent.pk == p.organisation_id:
                return True
        elif path and path.startswith(p.path):
            return True
    return False


def can_manage_organisation(user: Any, organisation: Organisation) -> bool:
    """May ``user`` edit this organisation (name, area, sector, active)?"""
    if _is_operator(user):
        return True
    path = node_path(organisation=organisation)
    for p in powers_of(user):
        if p.organisation_id is not None:
            if organisation.pk == p.organisation_id and p.edit_own_organisation:
                return True
            if organisation.parent_id == p.organisation_id and organisation.kind in p.organisation_kinds:
                return True
        elif organisation.kind in p.organisation_kinds and path and path.startswith(p.path):
            return True
    return False


def organisations_manageable(user: Any) -> QuerySet[Organisation]:
    """The organisations ``user`` may edit: the same rule as ``can_manage_organisation``."""
    qs = Organisation.objects.all()
    if _is_operator(user):
        return qs
    q = Q(pk__in=[])
    for p in powers_of(user):
        if p.organisation_id is not None:
            q |= Q(pk=p.organisation_id) | Q(
                parent_id=p.organisation_id, kind__in=sorted(p.organisation_kinds)
            )
        else:
            q |= Q(division__path__startswith=p.path, kind__in=sorted(p.organisation_kinds))
    return qs.filter(q)


def can_manage_memberships_anywhere(user: Any) -> bool:
    """Whether to offer membership management at all (menus)."""
    return _is_operator(user) or bool(powers_of(user))
