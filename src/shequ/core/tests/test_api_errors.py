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
