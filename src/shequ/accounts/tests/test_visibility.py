"""The visibility module's account-side rules: residents get no subtree of records, organisations see
their area only where a model opts in, memberships outside their dates give no scope."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db.models import Q
from django.utils import timezone

from shequ.accounts.models import Membership, OrganisationKind, Role
from shequ.accounts.visibility import ScopeRule, scope_of, scope_q, visible
from shequ.places.models import Building, Compound, House

from .factories import UserFactory, membership_create, organisation_create, user_with_role

pytestmark = pytest.mark.django_db


def test_a_resident_sees_the_place_tree_of_home_but_no_subtree_of_records(tree):
    resident = user_with_role(Role.RESIDENT, division=tree.committee(1, 1, 1))
    scope = scope_of(resident)

    assert scope.division_paths == ()
    assert scope.home_paths == (tree.committee(1, 1, 1).path,)
    assert list(visible(Compound.objects.all(), resident)) == [tree.compound(1, 1, 1)]
    # A rule without ``home_area`` (people's records, cases …) gives residents nothing by place.
    people_like = ScopeRule(path="path")
    assert not Compound.objects.filter(scope_q(scope, people_like)).exists()


def test_a_resident_sees_their_own_records_through_the_personal_rule(tree):
    resident = user_with_role(Role.RESIDENT, division=tree.committee(1, 1, 1))
    other = user_with_role(Role.RESIDENT, division=tree.committee(1, 1, 1))

    own = list(visible(Membership.objects.all(), resident))

    assert [m.user for m in own] == [resident]
    assert not visible(Membership.objects.filter(user=other), resident).exists()


def test_staff_see_the_memberships_of_their_subtree(tree):
    head = user_with_role(Role.COMMITTEE_HEAD, division=tree.committee(1, 1, 1))
    gridder = user_with_role(Role.GRID_WORKER, grid=tree.grid)
    owners = organisation_create(kind=OrganisationKind.OWNERS_COMMITTEE, division=tree.committee(1, 1, 1))
    member = user_with_role(Role.OWNERS_COMMITTEE_MEMBER, organisation=owners)
    outsider = user_with_role(Role.COMMITTEE_WORKER, division=tree.committee(1, 1, 2))

    users = {m.user for m in visible(Membership.objects.all(), head)}

    assert users == {head, gridder, member}
    assert outsider not in users


def test_organisation_area_is_only_for_models_that_opt_in(tree):
    bureau = organisation_create(kind=OrganisationKind.DEPARTMENT, division=tree.district(1))
    handler = user_with_role(Role.DEPARTMENT_HANDLER, organisation=bureau)
    scope = scope_of(handler)

    assert visible(Compound.objects.all(), handler).count() == 4  # place records: the area
    routed_only = ScopeRule(path="path", organisation=lambda ids: Q(pk__in=[]))
    assert not Compound.objects.filter(scope_q(scope, routed_only)).exists()


def test_memberships_outside_their_dates_give_no_scope(tree):
    today = timezone.localdate()
    future = UserFactory()
    Membership.objects.create(
        user=future,
        role=Role.COMMITTEE_WORKER,
        division=tree.committee(1, 1, 1),
        starts_on=today + timedelta(days=1),
    )
    ended = UserFactory()
    Membership.objects.create(
        user=ended,
        role=Role.COMMITTEE_WORKER,
        division=tree.committee(1, 1, 1),
        ends_on=today - timedelta(days=1),
    )
    current = UserFactory()
    Membership.objects.create(
        user=current, role=Role.COMMITTEE_WORKER, division=tree.committee(1, 1, 1), ends_on=today
    )

    assert scope_of(future).is_empty
    assert scope_of(ended).is_empty
    assert not scope_of(current).is_empty


def test_a_grid_worker_sees_the_grid_and_not_the_committee(tree):
    gridder = user_with_role(Role.GRID_WORKER, grid=tree.grid)

    assert list(visible(Compound.objects.all(), gridder)) == [tree.compound(1, 1, 1)]
    assert visible(Building.objects.all(), gridder).count() == 1
    assert not visible(House.objects.all(), gridder).exclude(building__compound__grid=tree.grid).exists()


def test_a_property_company_sees_only_the_compounds_it_serves(tree):
    from shequ.accounts.models import CompoundServiceKind
    from shequ.accounts.services import compound_service_link

    company = organisation_create(kind=OrganisationKind.PROPERTY_COMPANY)
    compound_service_link(
        compound=tree.compound(1, 1, 2),
        organisation=company,
        kind=CompoundServiceKind.PROPERTY_MANAGEMENT,
        actor=None,
    )
    manager = UserFactory()
    membership_create(user=manager, role=Role.PROPERTY_MANAGER, organisation=company)

    assert list(visible(Compound.objects.all(), manager)) == [tree.compound(1, 1, 2)]


def test_unregistered_models_raise_instead_of_leaking(tree):
    from shequ.accounts.models import ApiToken

    worker = user_with_role(Role.COMMITTEE_WORKER, division=tree.committee(1, 1, 1))

    with pytest.raises(LookupError):
        visible(ApiToken.objects.all(), worker)


def test_compound_served_by_two_of_the_users_organisations_is_listed_once():
    from shequ.accounts.models import CompoundService, Membership, Organisation, OrganisationKind, Role, User
    from shequ.places.models import Compound, Division

    city = Division.objects.create(code="310000000000", name="上海市", level="city", path="310000000000/")
    district = Division.objects.create(
        code="310101000000", name="黄浦区", level="district", parent=city, path=city.path + "310101000000/"
    )
    street = Division.objects.create(
        code="310101002000",
        name="南京东路街道",
        level="street",
        parent=district,
        path=district.path + "310101002000/",
    )
    committee = Division.objects.create(
        code="310101002001",
        name="云南中路居委会",
        level="committee",
        parent=street,
        path=street.path + "310101002001/",
    )
    compound = Compound.objects.create(
        code="310101002001001", name="示范小区", committee=committee, path=committee.path + "310101002001001/"
    )
    company = Organisation.objects.create(name="物业", kind=OrganisationKind.PROPERTY_COMPANY, code="PM1")
    owners = Organisation.objects.create(name="业委会", kind=OrganisationKind.OWNERS_COMMITTEE, code="OC1")
    CompoundService.objects.create(compound=compound, organisation=company, kind="property_management")
    CompoundService.objects.create(compound=compound, organisation=owners, kind="owners_committee")
    user = User.objects.create_user(username="both", password="a-long-password-123")
    Membership.objects.create(user=user, role=Role.PROPERTY_MANAGER, organisation=company)
    Membership.objects.create(user=user, role=Role.OWNERS_COMMITTEE_MEMBER, organisation=owners)
    assert list(visible(Compound.objects.all(), user)) == [compound]
