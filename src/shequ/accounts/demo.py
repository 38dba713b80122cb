"""Demo accounts: one account per role at sensible nodes of the real Shanghai tree.

Runs after ``shequ import_divisions --shanghai``. Committee-level roles sit at the first committee of
黄浦区 南京东路街道, street roles at that street, district roles at 黄浦区, the city administrator at
上海市; departments are a 黄浦 城管 bureau and its 南京东路 squadron; a property company and an owners'
committee serve the first compound of the committee when compounds exist. Everything is created
through the services and found again by code or username, so running it twice changes nothing but
the passwords (which are printed each time).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from shequ.places.models import Compound, Division, DivisionLevel, Grid
from shequ.places.services import grid_create

from . import services
from .models import (
    CompoundService,
    CompoundServiceKind,
    Membership,
    Organisation,
    OrganisationKind,
    Role,
    User,
)
from .security import NON_STAFF_ROLES

DEMO_PREFIX = "demo_"
CITY_CODE = "310000000000"
DISTRICT_CODE = "310101000000"  # 黄浦区
STREET_CODE = "310101002000"  # 南京东路街道
DEMO_GRID_SUFFIX = "DEMO1"


class DemoTreeMissingError(Exception):
    """The Shanghai divisions have not been imported yet."""


@dataclass(frozen=True)
class DemoAccount:
    username: str
    password: str
    role: str
    node: str
    is_staff_role: bool


def demo_password(*, username: str, seed: str | None) -> str:
    """A random password, or one derived from ``seed`` (SHEQU_DEMO_PASSWORD) so that a shared demo
    machine keeps the same passwords across rebuilds. Either way ≥ 12 characters and not common."""
    if seed:
        digest = hmac.new(seed.encode(), username.encode(), hashlib.sha256).digest()
        return "Sq-" + base64.urlsafe_b64encode(digest).decode()[:17]
    return "Sq-" + secrets.token_urlsafe(15)


def _division(code: str) -> Division:
    division = Division.objects.filter(code=code, is_active=True).first()
    if division is None:
        raise DemoTreeMissingError(
            _("找不到区划 %(code)s：请先运行 shequ import_divisions --shanghai。") % {"code": code}
        )
    return division


def _organisation(
    *,
    code: str,
    name: str,
    kind: str,
    division: Division,
    parent: Organisation | None = None,
    sector: str = "",
) -> Organisation:
    existing = Organisation.objects.filter(code=code).first()
    if existing is not None:
        return existing
    return services.organisation_create(
        name=name, kind=kind, code=code, division=division, parent=parent, sector=sector, actor=None
    )


def _link(*, compound: Compound, organisation: Organisation, kind: str) -> None:
    if not CompoundService.objects.filter(compound=compound, organisation=organisation, kind=kind).exists():
        services.compound_service_link(compound=compound, organisation=organisation, kind=kind, actor=None)


def _demo_grid(committee: Division) -> Grid:
    grid = Grid.objects.filter(division=committee).order_by("code").first()
    if grid is not None:
        return grid
    return grid_create(
        code=f"{committee.code}{DEMO_GRID_SUFFIX}", name=_("示范网格"), division=committee, actor=None
    )


@transaction.atomic
def demo_accounts_ensure(*, seed: str | None = None) -> list[DemoAccount]:
    """Create (or find) the demo organisations and one demo account per role; return the table."""
    city = _division(CITY_CODE)
    district = _division(DISTRICT_CODE)
    street = _division(STREET_CODE)
    committee = (
        Division.objects.filter(parent=street, level=DivisionLevel.COMMITTEE, is_active=True)
        .order_by("code")
        .first()
    )
    if committee is None:
        raise DemoTreeMissingError(_("南京东路街道下没有居委会：请先导入区划。"))
    grid = _demo_grid(committee)

    bureau = _organisation(
        code="DEMO-HP-CGJ",
        name=_("黄浦区城市管理行政执法局（示范）"),
        kind=OrganisationKind.DEPARTMENT,
        division=district,
        sector="城管",
    )
    squadron = _organisation(
        code="DEMO-HP-CG-NJDL",
        name=_("黄浦区城管执法局南京东路中队（示范）"),
        kind=OrganisationKind.DEPARTMENT_BRANCH,
        division=street,
        parent=bureau,
        sector="城管",
    )
    property_company = _organisation(
        code="DEMO-WY-01",
        name=_("示范物业服务有限公司"),
        kind=OrganisationKind.PROPERTY_COMPANY,
        division=district,
        sector="物业",
    )
    owners_committee = _organisation(
        code="DEMO-YWH-01",
        name=_("%(committee)s示范小区业主委员会") % {"committee": committee.name},
        kind=OrganisationKind.OWNERS_COMMITTEE,
        division=committee,
    )
    compound = (
        Compound.objects.filter(committee=committee).order_by("code").first()
        or Compound.objects.filter(path__startswith=street.path).order_by("code").first()
    )
    if compound is not None:
        _link(compound=compound, organisation=property_company, kind=CompoundServiceKind.PROPERTY_MANAGEMENT)
        _link(compound=compound, organisation=owners_committee, kind=CompoundServiceKind.OWNERS_COMMITTEE)

    nodes: dict[str, Division | Grid | Organisation] = {
        Role.RESIDENT: committee,
        Role.COMMITTEE_WORKER: committee,
        Role.COMMITTEE_HEAD: committee,
        Role.GRID_WORKER: grid,
        Role.STREET_OFFICER: street,
        Role.STREET_DISPATCHER: street,
        Role.DISTRICT_OFFICER: district,
        Role.CIVIL_AFFAIRS_OFFICER: district,
        Role.DEPARTMENT_HANDLER: squadron,
        Role.DEPARTMENT_HEAD: bureau,
        Role.PROPERTY_MANAGER: property_company,
        Role.OWNERS_COMMITTEE_MEMBER: owners_committee,
        Role.VOLUNTEER: committee,
        Role.PETITION_OFFICER: district,
        Role.CITY_ADMIN: city,
    }
    accounts: list[DemoAccount] = []
    for role in Role:
        node = nodes[role]
        username = f"{DEMO_PREFIX}{role.value}"
        password = demo_password(username=username, seed=seed)
        user = User.objects.filter(username=username).first()
        if user is None:
            user = services.user_create(
                username=username,
                password=password,
                display_name=_("示范%(role)s") % {"role": role.label},
                actor=None,
            )
        else:
            services.user_password_change(user=user, new_password=password, actor=None)
        division = node if isinstance(node, Division) else None
        grid_node = node if isinstance(node, Grid) else None
        organisation = node if isinstance(node, Organisation) else None
        if not Membership.objects.filter(
            user=user, role=role, is_active=True, division=division, grid=grid_node, organisation=organisation
        ).exists():
            try:
                services.membership_grant(
                    user=user,
                    role=role,
                    actor=None,
                    division=division,
                    grid=grid_node,
                    organisation=organisation,
                )
            except ValidationError as exc:  # pragma: no cover - the table above fits ROLE_NODES
                raise DemoTreeMissingError("; ".join(exc.messages)) from exc
        accounts.append(
            DemoAccount(
                username=username,
                password=password,
                role=str(role.label),
                node=str(node),
                is_staff_role=role.value not in NON_STAFF_ROLES,
            )
        )
    return accounts
