import json

import pytest
from django.test import RequestFactory

from shequ.config.api import api

pytestmark = pytest.mark.django_db


def test_openapi_schema_is_served(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["info"]["title"] == "shequ API"
    assert "/api/v1/health" in schema["paths"]


def test_health_needs_no_authentication(client):
    assert client.get("/api/v1/health").json() == {"status": "ok"}


def test_unauthenticated_request_gets_json_401(client):
    response = client.get("/api/v1/accounts/me")
    assert response.status_code == 401
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["code"] == "unauthenticated"


def test_unknown_api_path_is_json_404_or_plain_404(client):
    response = client.get("/api/v1/no-such-thing")
    assert response.status_code == 404


def test_unexpected_exception_becomes_json_500_not_html():
    request = RequestFactory().get("/api/v1/anything")
    response = api.on_exception(request, RuntimeError("boom"))
    assert response.status_code == 500
    body = json.loads(response.content)
    assert body["code"] == "server_error"
    assert "boom" not in body["message"]


@pytest.fixture
def resident_client(client):
    from shequ.accounts.models import User

    user = User.objects.create_user(username="resident", password="a-long-password-123")
    client.force_login(user)
    return client


def _check(client, **payload):
    return client.post("/api/v1/checks/identifiers", payload, content_type="application/json")


def test_identifier_check_accepts_valid_values(resident_client):
    response = _check(resident_client, id_number="11010519491231002x", mobile="+86 138 0013 8000")
    assert response.status_code == 200
    body = response.json()
    assert body["id_number"] == "11010519491231002X"
    assert body["birth_date"] == "1949-12-31"
    assert body["mobile"] == "13800138000"
    assert body["warnings"] == []


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"id_number": "110105194912310021"}, "id_number"),  # wrong check character
        ({"id_number": "31010119900230123X"}, "id_number"),  # 30 February
        ({"mobile": "12800138000"}, "mobile"),
        ({"id_number": "11010519491231002X", "mobile": "138"}, "mobile"),
        ({}, "id_number"),
    ],
)
def test_malformed_identifiers_are_422_naming_the_field(resident_client, payload, field):
    response = _check(resident_client, **payload)
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "invalid"
    assert body["field"] == field
    assert body["message"]


def test_unknown_place_code_is_a_warning_not_an_error(resident_client):
    from shequ.core.validators import id_check_char

    number = "00000019900101123" + id_check_char("00000019900101123")
    response = _check(resident_client, id_number=number)
    assert response.status_code == 200
    assert response.json()["warnings"]


def test_non_string_body_is_a_json_422(resident_client):
    response = resident_client.post("/api/v1/checks/identifiers", "not json", content_type="application/json")
    assert response.status_code in {400, 422}
    assert response["Content-Type"].startswith("application/json")
