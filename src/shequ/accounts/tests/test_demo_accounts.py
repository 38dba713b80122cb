"""`shequ demo_accounts`: one demo account per role at sensible nodes, idempotent, passwords that pass
the validators, printed in a table."""

from __future__ import annotations

import re
from io import StringIO

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.management import CommandError, call_command

from shequ.accounts.demo import demo_accounts_ensure, demo_password
from shequ.accounts.models import CompoundService, Membership, Organisation, OrganisationKind, Role, User
from shequ.places.models import DivisionLevel, Grid

pytestmark = pytest.mark.django_db


def _run(**env: str) -> str:
    out = StringIO()
    call_command("demo_accounts", stdout=out)
    return out.getvalue()


def test_one_demo_account_per_role_at_the_expected_nodes(tree):
    # The small tree uses the real codes: street (1, 2) is 310101002000, as 南京东路街道 is.
    street = tree.street(1, 2)
    assert street.code == "310101002000"

    accounts = demo_accounts_ensure(seed=None)

    assert {a.username for a in accounts} == {f"demo_{role.value}" for role in Role}
    first_committee = tree.committee(1, 2, 1)
    expected_division = {
        Role.RESIDENT: first_committee,
        Role.COMMITTEE_WORKER: first_committee,
        Role.COMMITTEE_HEAD: first_committee,
        Role.VOLUNTEER: first_committee,
        Role.STREET_OFFICER: street,
        Role.STREET_DISPATCHER: street,
        Role.DISTRICT_OFFICER: tree.district(1),
        Role.CIVIL_AFFAIRS_OFFICER: tree.district(1),
        Role.PETITION_OFFICER: tree.district(1),
        Role.CITY_ADMIN: tree.city,
    }
    for role, division in expected_division.items():
        membership = Membership.objects.get(user__username=f"demo_{role.value}")
        assert membership.division == division, role
    grid_worker = Membership.objects.get(user__username="demo_grid_worker")
    assert grid_worker.grid.division == first_committee
    org_kinds = {
        Role.DEPARTMENT_HANDLER: OrganisationKind.DEPARTMENT_BRANCH,
        Role.DEPARTMENT_HEAD: OrganisationKind.DEPARTMENT,
        Role.PROPERTY_MANAGER: OrganisationKind.PROPERTY_COMPANY,
        Role.OWNERS_COMMITTEE_MEMBER: OrganisationKind.OWNERS_COMMITTEE,
    }
    for role, kind in org_kinds.items():
        membership = Membership.objects.get(user__username=f"demo_{role.value}")
        assert membership.organisation.kind == kind, role
    squadron = Membership.objects.get(user__username="demo_department_handler").organisation
    assert squadron.sector == "城管"
    assert squadron.division == street
    assert squadron.parent.division == tree.district(1)


def test_the_demo_compound_gets_a_property_company_and_an_owners_committee(tree):
    demo_accounts_ensure(seed=None)

    links = CompoundService.objects.filter(compound=tree.compound(1, 2, 1))
    assert {link.organisation.kind for link in links} == {
        OrganisationKind.PROPERTY_COMPANY,
        OrganisationKind.OWNERS_COMMITTEE,
    }


def test_running_twice_creates_nothing_new(tree):
    demo_accounts_ensure(seed=None)
    counts = (
        User.objects.count(),
        Membership.objects.count(),
        Organisation.objects.count(),
        Grid.objects.count(),
    )

    demo_accounts_ensure(seed=None)

    assert counts == (
        User.objects.count(),
        Membership.objects.count(),
        Organisation.objects.count(),
        Grid.objects.count(),
    )


def test_printed_passwords_work_and_pass_the_validators(tree):
    output = _run()

    rows = [line.split() for line in output.splitlines() if line.startswith("demo_")]
    assert len(rows) == len(Role)
    for username, password, *_rest in rows:
        validate_password(password)
        assert len(password) >= 12
        assert User.objects.get(username=username).check_password(password)
    assert "TOTP" in output


def test_passwords_derive_from_the_seed_when_set(tree, monkeypatch):
    monkeypatch.setenv("SHEQU_DEMO_PASSWORD", "a shared demo seed")

    first = _run()
    second = _run()

    assert first == second
    password = re.search(r"^demo_committee_worker\s+(\S+)", first, re.MULTILINE).group(1)
    assert password == demo_password(username="demo_committee_worker", seed="a shared demo seed")
    assert User.objects.get(username="demo_committee_worker").check_password(password)


def test_random_passwords_differ_per_account(tree):
    accounts = demo_accounts_ensure(seed=None)

    assert len({a.password for a in accounts}) == len(accounts)


def test_staff_accounts_are_marked_for_totp(tree):
    accounts = {a.username: a for a in demo_accounts_ensure(seed=None)}

    assert not accounts["demo_resident"].is_staff_role
    assert not accounts["demo_volunteer"].is_staff_role
    assert accounts["demo_committee_worker"].is_staff_role
    assert accounts["demo_city_admin"].is_staff_role


def test_without_the_imported_tree_the_command_says_what_to_do(db):
    with pytest.raises(CommandError, match="import_divisions"):
        _run()


def test_demo_accounts_sign_in(tree, client):
    accounts = {a.username: a for a in demo_accounts_ensure(seed=None)}

    resident = client.post(
        "/accounts/login/", {"username": "demo_resident", "password": accounts["demo_resident"].password}
    )
    assert resident["Location"] == "/"
    client.post("/accounts/logout/")
    worker = client.post(
        "/accounts/login/",
        {"username": "demo_committee_worker", "password": accounts["demo_committee_worker"].password},
    )
    assert worker["Location"].startswith("/accounts/otp/enrol/")
    assert tree.committee(1, 2, 1).level == DivisionLevel.COMMITTEE
