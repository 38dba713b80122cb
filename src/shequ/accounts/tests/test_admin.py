"""The Django admin: behind the second factor, and its writes go through the services (validated,
with event rows)."""

from __future__ import annotations

import pytest
from django.test import Client

from shequ.accounts.models import ApiToken, Membership, Organisation, OrganisationKind, Role
from shequ.accounts.services import api_token_create
from shequ.core.events import events_for_subject
from shequ.core.models import Event

from .factories import UserFactory, login, user_with_role

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator_client():
    client = Client()
    login(client, UserFactory(username="operator", is_superuser=True, is_staff=True))
    return client


@pytest.mark.parametrize("model", ["user", "organisation", "membership", "compoundservice", "apitoken"])
def test_every_accounts_model_is_registered(operator_client, model):
    assert operator_client.get(f"/admin/accounts/{model}/").status_code == 200


def test_adding_an_organisation_calls_the_service(operator_client, tree):
    response = operator_client.post(
        "/admin/accounts/organisation/add/",
        {
            "name": "区房管局",
            "kind": OrganisationKind.DEPARTMENT,
            "code": "HP-FG",
            "division": tree.district(1).pk,
            "sector": "房管",
            "is_active": "on",
        },
    )

    assert response.status_code == 302, response.context["adminform"].form.errors
    organisation = Organisation.objects.get(code="HP-FG")
    assert events_for_subject(organisation).get().type == "ORGANISATION_CREATED"


def test_the_admin_shows_service_validation_errors(operator_client, tree):
    response = operator_client.post(
        "/admin/accounts/organisation/add/",
        {
            "name": "业委会",
            "kind": OrganisationKind.OWNERS_COMMITTEE,
            "code": "Y1",
            "division": tree.street(1, 1).pk,
        },
    )

    assert response.status_code == 200
    assert "division" in response.context["adminform"].form.errors
    assert not Organisation.objects.filter(code="Y1").exists()


def test_granting_a_membership_in_the_admin_validates_the_node(operator_client, tree):
    user = UserFactory()

    refused = operator_client.post(
        "/admin/accounts/membership/add/",
        {"user": user.pk, "role": Role.STREET_OFFICER, "division": tree.committee(1, 1, 1).pk},
    )
    granted = operator_client.post(
        "/admin/accounts/membership/add/",
        {"user": user.pk, "role": Role.COMMITTEE_WORKER, "division": tree.committee(1, 1, 1).pk},
    )

    assert refused.status_code == 200
    assert granted.status_code == 302
    membership = Membership.objects.get(user=user)
    assert membership.role == Role.COMMITTEE_WORKER
    assert events_for_subject(membership).get().type == "MEMBERSHIP_GRANTED"


def test_the_revoke_action_calls_the_service(operator_client, tree):
    worker = user_with_role(Role.COMMITTEE_WORKER, division=tree.committee(1, 1, 1))
    membership = worker.memberships.get()

    operator_client.post(
        "/admin/accounts/membership/", {"action": "revoke", "_selected_action": [membership.pk]}
    )

    membership.refresh_from_db()
    assert not membership.is_active
    assert Event.objects.filter(type="MEMBERSHIP_REVOKED", subject_id=str(membership.pk)).exists()


def test_the_token_revoke_action_calls_the_service(operator_client, staff):
    token, _raw = api_token_create(user=staff, name="t")

    operator_client.post("/admin/accounts/apitoken/", {"action": "revoke", "_selected_action": [token.pk]})

    token.refresh_from_db()
    assert token.revoked_at is not None
    assert (
        "digest" not in operator_client.get(f"/admin/accounts/apitoken/{token.pk}/change/").content.decode()
    )
    assert ApiToken.objects.count() == 1


def test_resetting_the_second_factor_makes_the_user_enrol_again(operator_client, staff, password):
    from .factories import totp_device_confirmed

    totp_device_confirmed(staff)

    operator_client.post(
        "/admin/accounts/user/", {"action": "reset_second_factor", "_selected_action": [staff.pk]}
    )

    response = Client().post("/accounts/login/", {"username": "worker", "password": password})
    assert response["Location"].startswith("/accounts/otp/enrol/")
    assert Event.objects.filter(type="SECOND_FACTOR_RESET", subject_id=str(staff.pk)).exists()
