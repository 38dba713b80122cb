"""Shared fixtures of the case tests: a small world with categories, units and one user per seat.

Test categories use 大类 99 so they never collide with the seeded catalogue (migration 0002).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from shequ.accounts.models import (
    CompoundService,
    CompoundServiceKind,
    Organisation,
    OrganisationKind,
    Role,
    User,
)
from shequ.accounts.tests.factories import SmallTree, organisation_create, small_tree, user_with_role
from shequ.cases.models import Case, Category, CategoryKind, Channel, ResponsibleKind, Urgency
from shequ.cases.services_intake import case_report
from shequ.cases.services_transitions import case_accept, case_dispatch, case_register
from shequ.core.models import Unit
from shequ.places.models import Compound


def category_create(
    *,
    minor: str,
    name: str,
    responsible_kind: str = ResponsibleKind.DEPARTMENT_BRANCH,
    sector: str = "城管",
    amount: Decimal | int = 1,
    unit: str = Unit.WORK_DAYS,
    check_required: bool = True,
    emergency_service: str = "",
    radius: int = 250,
) -> Category:
    category, _created = Category.objects.get_or_create(
        code=f"E99{minor}",
        defaults={
            "kind": CategoryKind.EVENT,
            "major_code": "99",
            "major_name": "测试大类",
            "minor_code": minor,
            "name": name,
            "keywords": name,
            "deadline_amount": Decimal(amount),
            "deadline_unit": unit,
            "urgency": Urgency.NORMAL,
            "responsible_kind": responsible_kind,
            "responsible_sector": sector,
            "check_required": check_required,
            "emergency_service": emergency_service,
            "duplicate_radius_m": radius,
        },
    )
    return category


@dataclass
class CaseWorld:
    tree: SmallTree
    compound: Compound
    department_work: Category  # 城管, checked on site, 1 工作日
    small_matter: Category  # the committee's own, no check, 2 工作日
    emergency: Category  # 119
    branch: Organisation  # 城管中队 in district 1
    street_office: Organisation
    property_company: Organisation
    dispatcher: User  # street (1, 1)
    street_officer: User
    district_officer: User
    committee_worker: User  # committee (1, 1, 1)
    grid_worker: User
    handler: User  # of the branch
    department_head: User
    property_manager: User
    resident: User  # lives in committee (1, 1, 1)
    other_resident: User
    other_dispatcher: User  # street (2, 1): another district
    city_admin: User

    def report(self, **kwargs: Any) -> Case:
        """A resident's report at the compound of committee (1, 1, 1) (kwargs override)."""
        params: dict[str, Any] = {
            "actor": self.resident,
            "channel": Channel.RESIDENT_WEB,
            "category": self.department_work,
            "description": "小区门口垃圾堆放多日无人清理",
            "place": self.compound,
            "contact_phone": "13812345678",
        }
        params.update(kwargs)
        return case_report(**params)

    def in_hands(self, **report: Any) -> Case:
        """A report (kwargs override) registered, dispatched to the 城管 branch and signed for, all at
        the current instant."""
        case = case_register(case=self.report(**report), actor=self.dispatcher)
        return case_accept(
            case=case_dispatch(case=case, actor=self.dispatcher, org=self.branch), actor=self.handler
        )


def case_world() -> CaseWorld:
    tree = small_tree()
    compound = tree.compound(1, 1, 1)
    branch = organisation_create(
        kind=OrganisationKind.DEPARTMENT_BRANCH, division=tree.district(1), sector="城管", name="黄浦城管中队"
    )
    street_office = organisation_create(
        kind=OrganisationKind.STREET_OFFICE, division=tree.street(1, 1), name="第1街道办"
    )
    property_company = organisation_create(kind=OrganisationKind.PROPERTY_COMPANY, name="物业公司")
    CompoundService.objects.create(
        compound=compound, organisation=property_company, kind=CompoundServiceKind.PROPERTY_MANAGEMENT
    )
    committee = tree.committee(1, 1, 1)
    return CaseWorld(
        tree=tree,
        compound=compound,
        department_work=category_create(minor="01", name="暴露垃圾测试"),
        small_matter=category_create(
            minor="02",
            name="邻里纠纷测试",
            responsible_kind=ResponsibleKind.COMMITTEE,
            sector="",
            amount=2,
            check_required=False,
        ),
        emergency=category_create(minor="03", name="火灾测试", emergency_service="119", sector="消防"),
        branch=branch,
        street_office=street_office,
        property_company=property_company,
        dispatcher=user_with_role(
            Role.STREET_DISPATCHER, division=tree.street(1, 1), email="disp@example.org"
        ),
        street_officer=user_with_role(Role.STREET_OFFICER, division=tree.street(1, 1)),
        district_officer=user_with_role(Role.DISTRICT_OFFICER, division=tree.district(1)),
        committee_worker=user_with_role(Role.COMMITTEE_WORKER, division=committee),
        grid_worker=user_with_role(Role.GRID_WORKER, grid=tree.grid),
        handler=user_with_role(Role.DEPARTMENT_HANDLER, organisation=branch),
        department_head=user_with_role(Role.DEPARTMENT_HEAD, organisation=branch),
        property_manager=user_with_role(Role.PROPERTY_MANAGER, organisation=property_company),
        resident=user_with_role(Role.RESIDENT, division=committee, email="resident@example.org"),
        other_resident=user_with_role(Role.RESIDENT, division=committee),
        other_dispatcher=user_with_role(Role.STREET_DISPATCHER, division=tree.street(2, 1)),
        city_admin=user_with_role(Role.CITY_ADMIN, division=tree.city),
    )
