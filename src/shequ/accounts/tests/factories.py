"""Shared test helpers: places, users with memberships, and sign-in with a verified second factor.

Keep this module additive: other apps' tests import from it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import factory
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from shequ.accounts.models import (
    CompoundService,
    CompoundServiceKind,
    Membership,
    Organisation,
    OrganisationKind,
    Role,
    User,
)
from shequ.places.models import Building, Compound, Division, DivisionKind, DivisionLevel, Grid

DEFAULT_PASSWORD = "correct-horse-battery-staple"

# --- Places ----------------------------------------------------------------------------------

_KIND_OF_LEVEL = {
    DivisionLevel.CITY: DivisionKind.CITY,
    DivisionLevel.DISTRICT: DivisionKind.DISTRICT,
    DivisionLevel.STREET: DivisionKind.SUBDISTRICT,
    DivisionLevel.COMMITTEE: DivisionKind.RESIDENTS_COMMITTEE,
}


def division_create(
    *, code: str, name: str, level: str, parent: Division | None = None, **extra: Any
) -> Division:
    """A division with its materialised path (parent path + own code + "/")."""
    path = f"{parent.path if parent else ''}{code}/"
    extra.setdefault("kind", _KIND_OF_LEVEL.get(DivisionLevel(level), DivisionKind.OTHER))
    return Division.objects.create(code=code, name=name, level=level, parent=parent, path=path, **extra)


def grid_create(*, code: str, name: str, division: Division) -> Grid:
    return Grid.objects.create(code=code, name=name, division=division, path=f"{division.path}g{code}/")


def compound_create(
    *, code: str, name: str, committee: Division, grid: Grid | None = None, **extra: Any
) -> Compound:
    return Compound.objects.create(
        code=code, name=name, committee=committee, grid=grid, path=f"{committee.path}{code}/", **extra
    )


def building_create(*, compound: Compound, number: str, **extra: Any) -> Building:
    return Building.objects.create(compound=compound, number=number, **extra)


@dataclass
class SmallTree:
    """2 districts × 2 streets × 2 committees × 1 compound, under one city.

    Codes: district ``d`` (1, 2), street ``s`` (1, 2), committee ``c`` (1, 2). Lookups by those
    indexes: ``tree.district(1)``, ``tree.street(1, 2)``, ``tree.committee(2, 1, 1)``,
    ``tree.compound(1, 1, 2)``. A grid covers the compound of committee (1, 1, 1).
    """

    city: Division
    districts: dict[tuple[int], Division] = field(default_factory=dict)
    streets: dict[tuple[int, int], Division] = field(default_factory=dict)
    committees: dict[tuple[int, int, int], Division] = field(default_factory=dict)
    compounds: dict[tuple[int, int, int], Compound] = field(default_factory=dict)
    grid: Grid | None = None

    def district(self, d: int) -> Division:
        return self.districts[(d,)]

    def street(self, d: int, s: int) -> Division:
        return self.streets[(d, s)]

    def committee(self, d: int, s: int, c: int) -> Division:
        return self.committees[(d, s, c)]

    def compound(self, d: int, s: int, c: int) -> Compound:
        return self.compounds[(d, s, c)]


_DISTRICT_NAMES = {1: "黄浦区", 2: "徐汇区"}
_DISTRICT_CODES = {1: "310101", 2: "310104"}


def small_tree() -> SmallTree:
    city = division_create(code="310000000000", name="上海市", level=DivisionLevel.CITY)
    tree = SmallTree(city=city)
    for d in (1, 2):
        dcode = _DISTRICT_CODES[d]
        district = division_create(
            code=f"{dcode}000000", name=_DISTRICT_NAMES[d], level=DivisionLevel.DISTRICT, parent=city
        )
        tree.districts[(d,)] = district
        for s in (1, 2):
            street = division_create(
                code=f"{dcode}{s:03d}000",
                name=f"{_DISTRICT_NAMES[d]}第{s}街道",
                level=DivisionLevel.STREET,
                parent=district,
            )
            tree.streets[(d, s)] = street
            for c in (1, 2):
                committee = division_create(
                    code=f"{dcode}{s:03d}{c:03d}",
                    name=f"{street.name}第{c}居委会",
                    level=DivisionLevel.COMMITTEE,
                    parent=street,
                )
                tree.committees[(d, s, c)] = committee
                grid = None
                if (d, s, c) == (1, 1, 1):
                    grid = grid_create(code=f"{committee.code}01", name="第一网格", division=committee)
                    tree.grid = grid
                compound = compound_create(
                    code=f"C{committee.code}01",
                    name=f"{committee.name}小区",
                    committee=committee,
                    grid=grid,
                    household_count=100 * d + 10 * s + c,
                )
                tree.compounds[(d, s, c)] = compound
                building_create(compound=compound, number="1", floors=6, units=2)
    return tree


# --- Users, memberships, organisations -------------------------------------------------------


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n:03d}")
    display_name = factory.Sequence(lambda n: f"用户{n:03d}")
    password = factory.django.Password(DEFAULT_PASSWORD)


def organisation_create(
    *, kind: str, division: Division | None = None, name: str = "", code: str = "", **extra: Any
) -> Organisation:
    count = Organisation.objects.count() + 1
    return Organisation.objects.create(
        kind=kind, division=division, name=name or f"单位{count}", code=code or f"ORG{count:05d}", **extra
    )


def membership_create(
    *,
    user: User,
    role: str,
    division: Division | None = None,
    grid: Grid | None = None,
    organisation: Organisation | None = None,
) -> Membership:
    return Membership.objects.create(
        user=user, role=role, division=division, grid=grid, organisation=organisation
    )


def user_with_role(
    role: str,
    *,
    division: Division | None = None,
    grid: Grid | None = None,
    organisation: Organisation | None = None,
    **user_fields: Any,
) -> User:
    """A new user holding one membership."""
    user = UserFactory(**user_fields)
    membership_create(user=user, role=role, division=division, grid=grid, organisation=organisation)
    return user


# Where each role sits in ``small_tree()``: its own committee is (1, 1, 1), its street (1, 1), its
# district 1; organisations serve district 1 (departments) or the compound of (1, 1, 1).
COMMITTEE_ROLES = frozenset({Role.RESIDENT, Role.COMMITTEE_WORKER, Role.COMMITTEE_HEAD, Role.VOLUNTEER})
STREET_ROLES = frozenset({Role.STREET_OFFICER, Role.STREET_DISPATCHER})
DISTRICT_ROLES = frozenset({Role.DISTRICT_OFFICER, Role.CIVIL_AFFAIRS_OFFICER, Role.PETITION_OFFICER})
DEPARTMENT_ROLES = frozenset({Role.DEPARTMENT_HANDLER, Role.DEPARTMENT_HEAD})
COMPOUND_ORG_ROLES = {
    Role.PROPERTY_MANAGER: (OrganisationKind.PROPERTY_COMPANY, CompoundServiceKind.PROPERTY_MANAGEMENT),
    Role.OWNERS_COMMITTEE_MEMBER: (OrganisationKind.OWNERS_COMMITTEE, CompoundServiceKind.OWNERS_COMMITTEE),
}


def user_for_role_in_tree(role: str, tree: SmallTree, **user_fields: Any) -> User:
    """A user holding ``role`` at the node of ``small_tree()`` where that role works."""
    places: dict[str, dict[str, Any]] = {
        **{r: {"division": tree.committee(1, 1, 1)} for r in COMMITTEE_ROLES},
        **{r: {"division": tree.street(1, 1)} for r in STREET_ROLES},
        **{r: {"division": tree.district(1)} for r in DISTRICT_ROLES},
        Role.GRID_WORKER: {"grid": tree.grid},
        Role.CITY_ADMIN: {"division": tree.city},
    }
    if role in places:
        return user_with_role(role, **places[role], **user_fields)
    if role in DEPARTMENT_ROLES:
        branch = organisation_create(
            kind=OrganisationKind.DEPARTMENT_BRANCH, division=tree.district(1), sector="城管"
        )
        return user_with_role(role, organisation=branch, **user_fields)
    if role in COMPOUND_ORG_ROLES:
        kind, service = COMPOUND_ORG_ROLES[Role(role)]
        org = organisation_create(kind=kind)
        CompoundService.objects.create(compound=tree.compound(1, 1, 1), organisation=org, kind=service)
        return user_with_role(role, organisation=org, **user_fields)
    raise ValueError(f"no place in the small tree for role {role!r}")


# --- Signing in ------------------------------------------------------------------------------


def totp_device_confirmed(user: User) -> TOTPDevice:
    """The user's confirmed TOTP device (created if missing)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="default", confirmed=True)
    return device


def login(client: Client, user: User, *, verified: bool = True) -> None:
    """Sign ``user`` in on ``client``; with ``verified`` the second factor counts as passed, the way
    ``django_otp.login`` records it in the session."""
    client.force_login(user)
    if verified:
        device = totp_device_confirmed(user)
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
