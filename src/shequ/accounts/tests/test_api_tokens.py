"""Personal API tokens: created from a verified session (raw value shown once), only the SHA-256
digest stored, act with the owner's scope, revocable at once (DOMAIN.md §14)."""

from __future__ import annotations

import hashlib

import pytest
from django.db import connection
from django.test import Client

from shequ.accounts import services
from shequ.accounts.models import ApiToken, OrganisationKind, Role
from shequ.core.events import events_for_subject

from .factories import login, organisation_create, user_with_role

pytestmark = pytest.mark.django_db


def _bearer(raw: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {raw}"}


def _all_text_in_the_database() -> str:
    """Every value of every column of the token table, as the database holds it."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {ApiToken._meta.db_table}")  # noqa: S608 - our own table name
        return " ".join(str(value) for row in cursor.fetchall() for value in row)


def test_only_the_digest_is_stored(staff):
    token, raw = services.api_token_create(user=staff, name="区平台对接")

    assert raw.startswith("shq_")
    assert len(raw) > 40
    stored = _all_text_in_the_database()
    assert raw not in stored
    assert raw[12:] not in stored
    assert hashlib.sha256(raw.encode()).hexdigest() in stored
    assert events_for_subject(token).get().type == "API_TOKEN_CREATED"


def test_the_page_shows_the_raw_token_once(staff):
    client = Client()
    login(client, staff)

    created = client.post("/accounts/tokens/", {"name": "区平台对接"})

    raw = created.context["raw_token"]
    assert raw.startswith("shq_")
    assert raw in created.content.decode()
    assert created["Cache-Control"] == "no-store"
    listed = client.get("/accounts/tokens/")
    assert raw not in listed.content.decode()
    assert "区平台对接" in listed.content.decode()


def test_the_page_revokes_a_token(staff):
    client = Client()
    login(client, staff)
    token, raw = services.api_token_create(user=staff, name="t")

    response = client.post(f"/accounts/tokens/{token.pk}/revoke/")

    assert response.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert Client().get("/api/v1/accounts/me", headers=_bearer(raw)).status_code == 401


def test_someone_elses_token_cannot_be_revoked(staff, tree):
    other = user_with_role(Role.COMMITTEE_WORKER, division=tree.committee(1, 1, 1))
    token, _raw = services.api_token_create(user=other, name="theirs")
    client = Client()
    login(client, staff)

    assert client.post(f"/accounts/tokens/{token.pk}/revoke/").status_code == 404
    assert client.delete(f"/api/v1/accounts/tokens/{token.pk}").status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None


def test_a_token_acts_with_its_owners_scope(tree):
    bureau = organisation_create(kind=OrganisationKind.DEPARTMENT, division=tree.district(1), name="区城管局")
    organisation_create(kind=OrganisationKind.DEPARTMENT, division=tree.district(2), name="徐汇城管局")
    officer = user_with_role(Role.STREET_OFFICER, division=tree.street(1, 1), username="officer")
    _token, raw = services.api_token_create(user=officer, name="t")
    client = Client()

    me = client.get("/api/v1/accounts/me", headers=_bearer(raw))
    organisations = client.get("/api/v1/accounts/organisations", headers=_bearer(raw)).json()

    assert me.status_code == 200
    assert me.json()["username"] == "officer"
    assert [o["name"] for o in organisations["results"]] == ["区城管局"]
    assert client.get(f"/api/v1/accounts/organisations/{bureau.pk}", headers=_bearer(raw)).status_code == 200


def test_revoked_and_unknown_tokens_get_401_json(staff):
    token, raw = services.api_token_create(user=staff, name="t")
    services.api_token_revoke(token=token, actor=staff)

    for value in (raw, "shq_not-a-real-token", "nonsense"):
        response = Client().get("/api/v1/accounts/me", headers=_bearer(value))
        assert response.status_code == 401
        assert response.json()["code"] == "unauthenticated"


def test_a_deactivated_owner_makes_the_token_useless(staff):
    _token, raw = services.api_token_create(user=staff, name="t")
    staff.is_active = False
    staff.save(update_fields=["is_active"])

    assert Client().get("/api/v1/accounts/me", headers=_bearer(raw)).status_code == 401


def test_api_creates_a_token_from_a_verified_session(staff):
    client = Client()
    login(client, staff)

    response = client.post("/api/v1/accounts/tokens", {"name": "脚本"}, content_type="application/json")

    assert response.status_code == 201
    raw = response.json()["token"]
    assert Client().get("/api/v1/accounts/me", headers=_bearer(raw)).status_code == 200
    listed = client.get("/api/v1/accounts/tokens").json()
    assert [t["name"] for t in listed] == ["脚本"]
    assert "token" not in listed[0]


def test_api_token_creation_needs_csrf_with_a_session(staff):
    client = Client(enforce_csrf_checks=True)
    login(client, staff)

    response = client.post("/api/v1/accounts/tokens", {"name": "x"}, content_type="application/json")

    assert response.status_code == 403
    assert not ApiToken.objects.exists()

    client.get("/accounts/tokens/")  # sets the CSRF cookie
    csrf = client.cookies["csrftoken"].value
    response = client.post(
        "/api/v1/accounts/tokens",
        {"name": "x"},
        content_type="application/json",
        headers={"X-CSRFToken": csrf},
    )
    assert response.status_code == 201


def test_a_token_cannot_mint_another_token(staff):
    _token, raw = services.api_token_create(user=staff, name="t")

    response = Client().post(
        "/api/v1/accounts/tokens", {"name": "more"}, content_type="application/json", headers=_bearer(raw)
    )

    assert response.status_code == 401
    assert ApiToken.objects.count() == 1


def test_an_unverified_staff_session_cannot_create_tokens(staff):
    client = Client()
    login(client, staff, verified=False)

    response = client.post("/api/v1/accounts/tokens", {"name": "x"}, content_type="application/json")

    assert response.status_code == 401
    assert not ApiToken.objects.exists()


def test_api_revokes_a_token(staff):
    token, raw = services.api_token_create(user=staff, name="t")

    response = Client().delete(f"/api/v1/accounts/tokens/{token.pk}", headers=_bearer(raw))

    assert response.status_code == 204
    assert Client().get("/api/v1/accounts/me", headers=_bearer(raw)).status_code == 401
    assert [e.type for e in events_for_subject(token)] == ["API_TOKEN_CREATED", "API_TOKEN_REVOKED"]


def test_a_blank_name_is_refused(staff):
    client = Client()
    login(client, staff)

    response = client.post("/api/v1/accounts/tokens", {"name": ""}, content_type="application/json")

    assert response.status_code == 422
    assert not ApiToken.objects.exists()


def test_a_token_in_use_is_refused_at_once_after_revocation(staff):
    token, raw = services.api_token_create(user=staff, name="t")
    client = Client()
    assert client.get("/api/v1/accounts/me", headers=_bearer(raw)).status_code == 200  # kept by the process
    services.api_token_revoke(token=token, actor=staff)
    assert client.get("/api/v1/accounts/me", headers=_bearer(raw)).status_code == 401


def test_an_owner_deactivated_while_the_token_is_in_use_is_refused_at_once(staff):
    _token, raw = services.api_token_create(user=staff, name="t")
    client = Client()
    assert client.get("/api/v1/accounts/me", headers=_bearer(raw)).status_code == 200
    staff.is_active = False
    staff.save(update_fields=["is_active"])
    assert client.get("/api/v1/accounts/me", headers=_bearer(raw)).status_code == 401


def test_a_kept_token_costs_no_query_and_each_request_gets_its_own_user(staff):
    from django.db import connection
    from django.http import HttpRequest
    from django.test.utils import CaptureQueriesContext

    from shequ.accounts.api_auth import BearerTokenAuth
    from shequ.core.revisions import revisions_pinned

    _token, raw = services.api_token_create(user=staff, name="t")
    auth = BearerTokenAuth()
    first, second = HttpRequest(), HttpRequest()
    with revisions_pinned():
        assert auth.authenticate(first, f"Bearer {raw}") == staff  # loads it, notes the use
    with revisions_pinned(), CaptureQueriesContext(connection) as captured:
        assert auth.authenticate(second, f"Bearer {raw}") == staff
    assert len(captured) == 1  # the revision tokens only
    assert first.user is not second.user  # request-level caches on the user are never shared
    first.user.cached_marker = True  # type: ignore[attr-defined]
    assert not hasattr(second.user, "cached_marker")
