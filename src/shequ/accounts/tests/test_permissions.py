"""The accounts permission rules as a role × target grid (STYLE.md rule 8): who may grant which role
where, who may manage which organisation; "may X" and "which objects" always agree."""

from __future__ import annotations

import pytest

from shequ.accounts import permissions
from shequ.accounts.models import Membership, OrganisationKind, Role

from .factories import UserFactory, organisation_create, user_with_role

pytestmark = pytest.mark.django_db


def _holder(tree, role):
    if role == "superuser":
        return UserFactory(is_superuser=True)
    where = {
        Role.CITY_ADMIN: {"division": tree.city},
        Role.DISTRICT_OFFICER: {"division": tree.district(1)},
        Role.STREET_OFFICER: {"division": tree.street(1, 1)},
        Role.COMMITTEE_HEAD: {"division": tree.committee(1, 1, 1)},
        Role.COMMITTEE_WORKER: {"division": tree.committee(1, 1, 1)},
        Role.RESIDENT: {"division": tree.committee(1, 1, 1)},
    }[role]
    return user_with_role(role, **where)


# (target role, node name) → holders who may grant it there.
GRANTS = {
    (Role.COMMITTEE_WORKER, "committee_111"): {
        "superuser",
        Role.CITY_ADMIN,
        Role.DISTRICT_OFFICER,
        Role.STREET_OFFICER,
        Role.COMMITTEE_HEAD,
    },
    (Role.COMMITTEE_WORKER, "committee_112"): {
        "superuser",
        Role.CITY_ADMIN,
        Role.DISTRICT_OFFICER,
        Role.STREET_OFFICER,
    },
    (Role.COMMITTEE_WORKER, "committee_211"): {"superuser", Role.CITY_ADMIN},
    (Role.GRID_WORKER, "grid"): {
        "superuser",
        Role.CITY_ADMIN,
        Role.DISTRICT_OFFICER,
        Role.STREET_OFFICER,
        Role.COMMITTEE_HEAD,
    },
    (Role.COMMITTEE_HEAD, "committee_111"): {
        "superuser",
        Role.CITY_ADMIN,
        Role.DISTRICT_OFFICER,
        Role.STREET_OFFICER,
    },
    (Role.STREET_OFFICER, "street_11"): {"superuser", Role.CITY_ADMIN, Role.DISTRICT_OFFICER},
    (Role.DISTRICT_OFFICER, "district_1"): {"superuser", Role.CITY_ADMIN},
    (Role.CITY_ADMIN, "city"): {"superuser", Role.CITY_ADMIN},
}
HOLDERS = [
    "superuser",
    Role.CITY_ADMIN,
    Role.DISTRICT_OFFICER,
    Role.STREET_OFFICER,
    Role.COMMITTEE_HEAD,
    Role.COMMITTEE_WORKER,
    Role.RESIDENT,
]


def _target_node(tree, name):
    return {
        "committee_111": {"division": tree.committee(1, 1, 1)},
        "committee_112": {"division": tree.committee(1, 1, 2)},
        "committee_211": {"division": tree.committee(2, 1, 1)},
        "grid": {"grid": tree.grid},
        "street_11": {"division": tree.street(1, 1)},
        "district_1": {"division": tree.district(1)},
        "city": {"division": tree.city},
    }[name]


@pytest.mark.parametrize("holder_role", HOLDERS)
@pytest.mark.parametrize(("target", "node"), list(GRANTS))
def test_grant_grid(tree, holder_role, target, node):
    holder = _holder(tree, holder_role)
    where = _target_node(tree, node)
    expected = holder_role in GRANTS[(target, node)]

    assert permissions.can_grant_membership(holder, role=target, **where) is expected

    # "Which objects" agrees with "may": an existing membership there is listed iff it may be revoked.
    existing = Membership.objects.create(user=UserFactory(), role=target, **where)
    assert permissions.can_revoke_membership(holder, existing) is expected
    assert permissions.memberships_manageable(holder).filter(pk=existing.pk).exists() is expected


def test_department_head_grants_handlers_in_the_department_and_its_branches(tree):
    bureau = organisation_create(kind=OrganisationKind.DEPARTMENT, division=tree.district(1))
    branch = organisation_create(
        kind=OrganisationKind.DEPARTMENT_BRANCH, division=tree.street(1, 1), parent=bureau
    )
    other = organisation_create(kind=OrganisationKind.DEPARTMENT, division=tree.district(1))
    head = user_with_role(Role.DEPARTMENT_HEAD, organisation=bureau)

    assert permissions.can_grant_membership(head, role=Role.DEPARTMENT_HANDLER, organisation=bureau)
    assert permissions.can_grant_membership(head, role=Role.DEPARTMENT_HANDLER, organisation=branch)
    assert not permissions.can_grant_membership(head, role=Role.DEPARTMENT_HANDLER, organisation=other)
    assert not permissions.can_grant_membership(head, role=Role.DEPARTMENT_HEAD, organisation=bureau)


ORG_KINDS = [
    (OrganisationKind.PROPERTY_COMPANY, "street_11"),
    (OrganisationKind.OWNERS_COMMITTEE, "committee_111"),
    (OrganisationKind.OWNERS_COMMITTEE, "committee_112"),
    (OrganisationKind.DEPARTMENT, "district_1"),
    (OrganisationKind.DEPARTMENT, "district_2"),
]
MANAGE = {
    (OrganisationKind.PROPERTY_COMPANY, "street_11"): {
        "superuser",
        Role.CITY_ADMIN,
        Role.DISTRICT_OFFICER,
        Role.STREET_OFFICER,
    },
    (OrganisationKind.OWNERS_COMMITTEE, "committee_111"): {
        "superuser",
        Role.CITY_ADMIN,
        Role.DISTRICT_OFFICER,
        Role.STREET_OFFICER,
        Role.COMMITTEE_HEAD,
    },
    (OrganisationKind.OWNERS_COMMITTEE, "committee_112"): {
        "superuser",
        Role.CITY_ADMIN,
        Role.DISTRICT_OFFICER,
        Role.STREET_OFFICER,
    },
    (OrganisationKind.DEPARTMENT, "district_1"): {"superuser", Role.CITY_ADMIN, Role.DISTRICT_OFFICER},
    (OrganisationKind.DEPARTMENT, "district_2"): {"superuser", Role.CITY_ADMIN},
}


@pytest.mark.parametrize("holder_role", HOLDERS)
@pytest.mark.parametrize(("kind", "node"), ORG_KINDS)
def test_organisation_grid(tree, holder_role, kind, node):
    holder = _holder(tree, holder_role)
    division = {
        "street_11": tree.street(1, 1),
        "committee_111": tree.committee(1, 1, 1),
        "committee_112": tree.committee(1, 1, 2),
        "district_1": tree.district(1),
        "district_2": tree.district(2),
    }[node]
    expected = holder_role in MANAGE[(kind, node)]
    organisation = organisation_create(kind=kind, division=division)

    assert permissions.can_create_organisation(holder, kind=kind, division=division) is expected
    assert permissions.can_manage_organisation(holder, organisation) is expected
    assert permissions.organisations_manageable(holder).filter(pk=organisation.pk).exists() is expected
