"""membership_grant / membership_revoke: the role must fit the node, every change is an event, and
only those with the power may grant (DOMAIN.md §2)."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from shequ.accounts import services
from shequ.accounts.models import Membership, OrganisationKind, Role
from shequ.accounts.visibility import scope_of
from shequ.core.events import events_for_subject

from .factories import UserFactory, organisation_create, user_with_role

pytestmark = pytest.mark.django_db


def _node(tree, where: str):
    """Nodes of the small tree by a short name."""
    nodes = {
        "city": {"division": tree.city},
        "district": {"division": tree.district(1)},
        "street": {"division": tree.street(1, 1)},
        "committee": {"division": tree.committee(1, 1, 1)},
        "grid": {"grid": tree.grid},
    }
    if where in nodes:
        return nodes[where]
    kinds = {
        "department": OrganisationKind.DEPARTMENT,
        "branch": OrganisationKind.DEPARTMENT_BRANCH,
        "property_company": OrganisationKind.PROPERTY_COMPANY,
        "owners_committee": OrganisationKind.OWNERS_COMMITTEE,
        "social_organisation": OrganisationKind.SOCIAL_ORGANISATION,
    }
    return {"organisation": organisation_create(kind=kinds[where], division=tree.district(1))}


ALLOWED = {
    Role.RESIDENT: {"committee"},
    Role.COMMITTEE_WORKER: {"committee"},
    Role.COMMITTEE_HEAD: {"committee"},
    Role.GRID_WORKER: {"grid"},
    Role.STREET_OFFICER: {"street"},
    Role.STREET_DISPATCHER: {"street"},
    Role.DISTRICT_OFFICER: {"district"},
    Role.CIVIL_AFFAIRS_OFFICER: {"district", "street"},
    Role.DEPARTMENT_HANDLER: {"department", "branch"},
    Role.DEPARTMENT_HEAD: {"department", "branch"},
    Role.PROPERTY_MANAGER: {"property_company"},
    Role.OWNERS_COMMITTEE_MEMBER: {"owners_committee"},
    Role.VOLUNTEER: {"committee", "street", "social_organisation"},
    Role.PETITION_OFFICER: {"city", "district", "street"},
    Role.CITY_ADMIN: {"city"},
}
NODES = [
    "city",
    "district",
    "street",
    "committee",
    "grid",
    "department",
    "branch",
    "property_company",
    "owners_committee",
    "social_organisation",
]


def test_every_role_has_a_place():
    assert set(ALLOWED) == set(Role)


@pytest.mark.parametrize("node", NODES)
@pytest.mark.parametrize("role", list(Role))
def test_role_fits_only_its_nodes(tree, role, node):
    user = UserFactory()
    where = _node(tree, node)

    if node in ALLOWED[role]:
        membership = services.membership_grant(user=user, role=role, actor=None, **where)
        assert membership.role == role
    else:
        with pytest.raises(ValidationError) as excinfo:
            services.membership_grant(user=user, role=role, actor=None, **where)
        assert str(role.label) in " ".join(excinfo.value.messages)
        assert not Membership.objects.filter(user=user).exists()


def test_a_membership_needs_exactly_one_node(tree):
    user = UserFactory()

    with pytest.raises(ValidationError):
        services.membership_grant(user=user, role=Role.RESIDENT, actor=None)
    with pytest.raises(ValidationError):
        services.membership_grant(
            user=user, role=Role.GRID_WORKER, actor=None, division=tree.committee(1, 1, 1), grid=tree.grid
        )


def test_the_same_role_at_the_same_node_cannot_be_granted_twice(tree):
    user = UserFactory()
    committee = tree.committee(1, 1, 1)
    services.membership_grant(user=user, role=Role.COMMITTEE_WORKER, division=committee, actor=None)

    with pytest.raises(ValidationError):
        services.membership_grant(user=user, role=Role.COMMITTEE_WORKER, division=committee, actor=None)


def test_two_roles_are_recorded_separately(tree):
    user = UserFactory()
    owners = organisation_create(kind=OrganisationKind.OWNERS_COMMITTEE, division=tree.committee(1, 1, 1))

    services.membership_grant(
        user=user, role=Role.COMMITTEE_WORKER, division=tree.committee(1, 1, 1), actor=None
    )
    services.membership_grant(user=user, role=Role.OWNERS_COMMITTEE_MEMBER, organisation=owners, actor=None)

    assert Membership.objects.filter(user=user, is_active=True).count() == 2


def test_grant_writes_an_event_and_gives_scope_at_once(tree):
    head = user_with_role(Role.COMMITTEE_HEAD, division=tree.committee(1, 1, 1))
    user = UserFactory()
    assert scope_of(user).is_empty

    membership = services.membership_grant(
        user=user, role=Role.COMMITTEE_WORKER, division=tree.committee(1, 1, 1), actor=head
    )

    event = events_for_subject(membership).get()
    assert event.type == "MEMBERSHIP_GRANTED"
    assert event.actor == head
    assert event.scope_path == tree.committee(1, 1, 1).path
    assert scope_of(user).division_paths == (tree.committee(1, 1, 1).path,)


def test_revoke_ends_the_scope_and_keeps_the_row(tree):
    head = user_with_role(Role.COMMITTEE_HEAD, division=tree.committee(1, 1, 1))
    user = UserFactory()
    membership = services.membership_grant(
        user=user, role=Role.COMMITTEE_WORKER, division=tree.committee(1, 1, 1), actor=head
    )

    services.membership_revoke(membership=membership, actor=head)

    membership.refresh_from_db()
    assert not membership.is_active
    assert membership.ends_on is not None
    assert [e.type for e in events_for_subject(membership)] == ["MEMBERSHIP_GRANTED", "MEMBERSHIP_REVOKED"]
    user.refresh_from_db()
    assert scope_of(user).is_empty


def test_granting_outside_ones_power_is_refused(tree):
    head = user_with_role(Role.COMMITTEE_HEAD, division=tree.committee(1, 1, 1))
    user = UserFactory()

    with pytest.raises(PermissionDenied):  # another committee
        services.membership_grant(
            user=user, role=Role.COMMITTEE_WORKER, division=tree.committee(1, 1, 2), actor=head
        )
    with pytest.raises(PermissionDenied):  # a role above the committee head
        services.membership_grant(user=user, role=Role.STREET_OFFICER, division=tree.street(1, 1), actor=head)
    assert not Membership.objects.filter(user=user).exists()


def test_revoking_outside_ones_power_is_refused(tree):
    head = user_with_role(Role.COMMITTEE_HEAD, division=tree.committee(1, 1, 2))
    worker = user_with_role(Role.COMMITTEE_WORKER, division=tree.committee(1, 1, 1))

    with pytest.raises(PermissionDenied):
        services.membership_revoke(membership=worker.memberships.get(), actor=head)
    assert worker.memberships.get().is_active


def test_a_retired_division_takes_no_new_members(tree):
    committee = tree.committee(1, 1, 2)
    committee.is_active = False
    committee.save(update_fields=["is_active"])

    with pytest.raises(ValidationError):
        services.membership_grant(user=UserFactory(), role=Role.RESIDENT, division=committee, actor=None)
