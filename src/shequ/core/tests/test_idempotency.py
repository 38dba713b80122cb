"""``Idempotency-Key`` on django-ninja operations and plain Django views, through real requests.

The module is its own URL configuration (``pytest.mark.urls``): the project's URLs plus a small API and
a few views that count how often they really act.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.test import Client
from django.urls import path
from django.views.decorators.http import require_http_methods, require_POST
from ninja import Form, NinjaAPI, Schema, Status
from ninja.errors import ValidationError as NinjaValidationError

from shequ.accounts.api_auth import api_auth
from shequ.accounts.tests.factories import UserFactory, login
from shequ.config.api import _api_error, _not_found, _unexpected, _validation_error
from shequ.config.urls import urlpatterns as project_urlpatterns
from shequ.core.errors import ApiError
from shequ.core.idempotency import ABANDONED_AFTER, idempotency_keys_purge, idempotent
from shequ.core.models import IdempotencyKey

pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]

T0 = datetime(2026, 11, 30, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))

CALLS: list[str] = []
NESTED: dict[str, Any] = {}

# --- A small API and views under test -----------------------------------------------------------

# The project API's authentication and error format.
api = NinjaAPI(urls_namespace="idempotency-test", auth=api_auth, docs_url=None)
api.add_exception_handler(ApiError, _api_error)
api.add_exception_handler(NinjaValidationError, _validation_error)
api.add_exception_handler(Http404, _not_found)
api.add_exception_handler(Exception, _unexpected)


class ThingIn(Schema):
    name: str


class ThingOut(Schema):
    id: int
    name: str


@api.post("/things", response={201: ThingOut})
@idempotent
def thing_create(request: HttpRequest, payload: ThingIn) -> Status:
    CALLS.append(payload.name)
    return Status(201, {"id": len(CALLS), "name": payload.name})


@api.post("/other-things", response={201: ThingOut})
@idempotent
def other_thing_create(request: HttpRequest, payload: ThingIn) -> Status:
    CALLS.append(payload.name)
    return Status(201, {"id": len(CALLS), "name": payload.name})


@api.post("/public-things", response={201: ThingOut}, auth=None)
@idempotent
def public_thing_create(request: HttpRequest, payload: ThingIn) -> Status:
    CALLS.append(payload.name)
    return Status(201, {"id": len(CALLS), "name": payload.name})


@api.post("/keyed-things", response={201: ThingOut}, auth=None)
@idempotent(client=lambda request: "key:" + request.headers.get("X-Api-Key", ""))
def keyed_thing_create(request: HttpRequest, payload: ThingIn) -> Status:
    CALLS.append(payload.name)
    return Status(201, {"id": len(CALLS), "name": payload.name})


def open311_client(request: HttpRequest) -> str:
    return "key:" + request.POST.get("api_key", "")


@api.post("/requests.json", response={201: ThingOut}, auth=None)
@idempotent(client=open311_client)
def open311_request_create(request: HttpRequest, api_key: Form[str], description: Form[str]) -> Status:
    """Open311 posts form fields and names its client by the API key."""
    CALLS.append(description)
    return Status(201, {"id": len(CALLS), "name": description})


@api.post("/boom")
@idempotent
def boom(request: HttpRequest, payload: ThingIn) -> dict[str, str]:
    CALLS.append(payload.name)
    raise RuntimeError("database went away")


@api.post("/refuse")
@idempotent
def refuse(request: HttpRequest, payload: ThingIn) -> dict[str, str]:
    CALLS.append(payload.name)
    raise ApiError("该类别不受理。", code="invalid", field="category", status=422)


@api.post("/slow", response={201: ThingOut})
@idempotent
def slow(request: HttpRequest, payload: ThingIn) -> Status:
    """While this runs, the same request arrives again (a client that timed out and retried)."""
    CALLS.append(payload.name)
    NESTED["response"] = NESTED["client"].post(
        "/t/api/slow",
        {"name": payload.name},
        content_type="application/json",
        headers={"Idempotency-Key": request.headers["Idempotency-Key"]},
    )
    return Status(201, {"id": len(CALLS), "name": payload.name})


@require_http_methods(["GET", "POST"])
@idempotent
def form_view(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return HttpResponse(str(len(CALLS)))
    CALLS.append(request.POST["name"])
    return redirect(f"/t/done/{len(CALLS)}/")


@require_POST
@idempotent
def broken_form_view(request: HttpRequest) -> HttpResponse:
    CALLS.append(request.POST["name"])
    raise RuntimeError("disk full")


@require_POST
@idempotent
def slow_form_view(request: HttpRequest) -> HttpResponse:
    CALLS.append(request.POST["name"])
    NESTED["response"] = NESTED["client"].post(
        "/t/slow-form/",
        {"name": request.POST["name"], "idempotency_key": request.POST["idempotency_key"]},
        headers=NESTED.get("headers", {}),
    )
    return HttpResponse("saved", status=201)


urlpatterns = [
    path("t/api/", api.urls),
    path("t/form/", form_view),
    path("t/broken-form/", broken_form_view),
    path("t/slow-form/", slow_form_view),
    *project_urlpatterns,
]


@pytest.fixture(autouse=True)
def _reset():
    CALLS.clear()
    NESTED.clear()
    yield
    CALLS.clear()
    NESTED.clear()


@pytest.fixture
def user():
    return UserFactory()


@pytest.fixture
def signed_in(user):
    client = Client()
    login(client, user)
    return client


def _post(client: Client, url: str, body: dict[str, Any], key: str = "", **headers: str):
    if key:
        headers["Idempotency-Key"] = key
    return client.post(url, body, content_type="application/json", headers=headers)


# --- django-ninja operations ------------------------------------------------------------------


def test_a_retry_returns_the_first_answer_without_acting_again(signed_in, user):
    first = _post(signed_in, "/t/api/things", {"name": "路灯不亮"}, key="k-1")
    retry = _post(signed_in, "/t/api/things", {"name": "路灯不亮"}, key="k-1")

    assert first.status_code == retry.status_code == 201
    assert first.json() == retry.json() == {"id": 1, "name": "路灯不亮"}
    assert retry["Content-Type"] == first["Content-Type"]
    assert retry["Idempotent-Replayed"] == "true"
    assert not first.has_header("Idempotent-Replayed")
    assert CALLS == ["路灯不亮"]
    row = IdempotencyKey.objects.get()
    assert (row.client, row.key, row.method, row.path, row.status_code, row.user) == (
        str(user.pk),
        "k-1",
        "POST",
        "/t/api/things",
        201,
        user,
    )


def test_without_a_key_every_request_acts(signed_in):
    _post(signed_in, "/t/api/things", {"name": "a"})
    _post(signed_in, "/t/api/things", {"name": "a"})

    assert CALLS == ["a", "a"]
    assert not IdempotencyKey.objects.exists()


def test_the_same_key_with_another_body_is_refused(signed_in):
    _post(signed_in, "/t/api/things", {"name": "路灯不亮"}, key="k-1")
    response = _post(signed_in, "/t/api/things", {"name": "井盖缺失"}, key="k-1")

    assert response.status_code == 422
    body = response.json()
    assert (body["code"], body["field"]) == ("idempotency_key_reused", "Idempotency-Key")
    assert body["message"]
    assert CALLS == ["路灯不亮"]


def test_the_same_key_on_another_endpoint_is_refused(signed_in):
    _post(signed_in, "/t/api/things", {"name": "a"}, key="k-1")
    response = _post(signed_in, "/t/api/other-things", {"name": "a"}, key="k-1")

    assert response.status_code == 422
    assert response.json()["code"] == "idempotency_key_reused"


def test_keys_belong_to_each_user(signed_in):
    someone_else = Client()
    login(someone_else, UserFactory())

    mine = _post(signed_in, "/t/api/things", {"name": "a"}, key="shared")
    theirs = _post(someone_else, "/t/api/things", {"name": "a"}, key="shared")

    assert mine.json()["id"] == 1
    assert theirs.json()["id"] == 2
    assert not theirs.has_header("Idempotent-Replayed")


def test_anonymous_keys_belong_to_each_address():
    here = _post(Client(REMOTE_ADDR="10.0.0.1"), "/t/api/public-things", {"name": "a"}, key="k")
    there = _post(Client(REMOTE_ADDR="10.0.0.2"), "/t/api/public-things", {"name": "a"}, key="k")
    again = _post(Client(REMOTE_ADDR="10.0.0.1"), "/t/api/public-things", {"name": "a"}, key="k")

    assert (here.json()["id"], there.json()["id"], again.json()["id"]) == (1, 2, 1)
    assert again["Idempotent-Replayed"] == "true"
    assert set(IdempotencyKey.objects.values_list("client", flat=True)) == {"anon:10.0.0.1", "anon:10.0.0.2"}


def test_the_caller_may_name_the_client():
    client = Client()
    first = _post(client, "/t/api/keyed-things", {"name": "a"}, key="k", **{"X-Api-Key": "alpha"})
    other = _post(client, "/t/api/keyed-things", {"name": "a"}, key="k", **{"X-Api-Key": "beta"})
    retry = _post(client, "/t/api/keyed-things", {"name": "a"}, key="k", **{"X-Api-Key": "alpha"})

    assert (first.json()["id"], other.json()["id"], retry.json()["id"]) == (1, 2, 1)
    assert set(IdempotencyKey.objects.values_list("client", flat=True)) == {"key:alpha", "key:beta"}


def test_a_form_encoded_operation_replays_per_api_key():
    client = Client()
    form = {"api_key": "city-ops", "description": "道路积水"}

    first = client.post("/t/api/requests.json", form, headers={"Idempotency-Key": "o-1"})
    retry = client.post("/t/api/requests.json", form, headers={"Idempotency-Key": "o-1"})
    changed = client.post(
        "/t/api/requests.json", {**form, "description": "道路结冰"}, headers={"Idempotency-Key": "o-1"}
    )

    assert first.status_code == retry.status_code == 201
    assert retry.json() == first.json()
    assert retry["Idempotent-Replayed"] == "true"
    assert changed.status_code == 422
    assert CALLS == ["道路积水"]
    assert IdempotencyKey.objects.get().client == "key:city-ops"


def test_a_duplicate_arriving_while_the_first_runs_gets_409(signed_in):
    NESTED["client"] = signed_in

    first = _post(signed_in, "/t/api/slow", {"name": "a"}, key="k-slow")

    duplicate = NESTED["response"]
    assert duplicate.status_code == 409
    assert duplicate.json()["code"] == "in_progress"
    assert duplicate.json()["field"] == "Idempotency-Key"
    assert first.status_code == 201
    assert CALLS == ["a"]
    retry = _post(signed_in, "/t/api/slow", {"name": "a"}, key="k-slow")
    assert (retry.status_code, retry.json(), retry["Idempotent-Replayed"]) == (201, first.json(), "true")


def test_a_failed_request_does_not_keep_its_key(signed_in):
    first = _post(signed_in, "/t/api/boom", {"name": "a"}, key="k-boom")
    retry = _post(signed_in, "/t/api/boom", {"name": "a"}, key="k-boom")

    assert first.status_code == retry.status_code == 500
    assert retry.json()["code"] == "server_error"
    assert not retry.has_header("Idempotent-Replayed")
    assert CALLS == ["a", "a"]
    assert not IdempotencyKey.objects.exists()


def test_a_refusal_is_kept_and_replayed(signed_in):
    first = _post(signed_in, "/t/api/refuse", {"name": "a"}, key="k-no")
    retry = _post(signed_in, "/t/api/refuse", {"name": "a"}, key="k-no")

    assert first.status_code == retry.status_code == 422
    assert (
        retry.json() == first.json() == {"code": "invalid", "message": "该类别不受理。", "field": "category"}
    )
    assert retry["Idempotent-Replayed"] == "true"
    assert CALLS == ["a"]


def test_an_invalid_body_is_answered_before_the_key_is_taken(signed_in):
    response = _post(signed_in, "/t/api/things", {"title": "no name"}, key="k-bad")

    assert response.status_code == 422
    assert not IdempotencyKey.objects.exists()
    assert _post(signed_in, "/t/api/things", {"name": "a"}, key="k-bad").status_code == 201


def test_an_overlong_key_is_refused(signed_in):
    response = _post(signed_in, "/t/api/things", {"name": "a"}, key="x" * 256)

    assert response.status_code == 422
    assert (response.json()["code"], response.json()["field"]) == ("invalid", "Idempotency-Key")
    assert CALLS == []


def test_unauthenticated_requests_are_refused_before_the_key_is_taken():
    response = _post(Client(), "/t/api/things", {"name": "a"}, key="k")

    assert response.status_code == 401
    assert not IdempotencyKey.objects.exists()


# --- Expiry ---------------------------------------------------------------------------------------


def _signed_in_now(user) -> Client:
    """A fresh session (sessions expire across the hours these tests travel)."""
    client = Client()
    login(client, user)
    return client


def test_a_key_older_than_the_ttl_no_longer_counts(user, settings):
    settings.SHEQU_IDEMPOTENCY_TTL_HOURS = 24
    with time_machine.travel(T0, tick=False):
        _post(_signed_in_now(user), "/t/api/things", {"name": "a"}, key="k-old")
    with time_machine.travel(T0 + timedelta(hours=23), tick=False):
        replay = _post(_signed_in_now(user), "/t/api/things", {"name": "a"}, key="k-old")
        assert replay.has_header("Idempotent-Replayed")
    with time_machine.travel(T0 + timedelta(hours=25), tick=False):
        later = _post(_signed_in_now(user), "/t/api/things", {"name": "a"}, key="k-old")

    assert not later.has_header("Idempotent-Replayed")
    assert CALLS == ["a", "a"]


def test_an_abandoned_first_request_frees_its_key(user):
    with time_machine.travel(T0, tick=False):
        IdempotencyKey.objects.create(
            client=str(user.pk), key="k-dead", method="POST", path="/t/api/things", request_hash="0" * 64
        )
        refused = _post(_signed_in_now(user), "/t/api/things", {"name": "a"}, key="k-dead")
    with time_machine.travel(T0 + ABANDONED_AFTER + timedelta(seconds=1), tick=False):
        response = _post(_signed_in_now(user), "/t/api/things", {"name": "a"}, key="k-dead")

    assert refused.status_code == 422  # still held (by a request for something else)

    assert response.status_code == 201
    assert CALLS == ["a"]


def test_the_daily_purge_deletes_expired_keys(user, settings):
    settings.SHEQU_IDEMPOTENCY_TTL_HOURS = 24
    for hours, key in ((0, "old"), (23, "young")):
        with time_machine.travel(T0 + timedelta(hours=hours), tick=False):
            IdempotencyKey.objects.create(
                client=str(user.pk), key=key, method="POST", path="/", request_hash=""
            )

    assert idempotency_keys_purge(now=T0 + timedelta(hours=24, minutes=1)) == 1
    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["young"]


# --- Plain Django views (HTML forms) ----------------------------------------------------------------


def test_a_resubmitted_form_repeats_the_first_redirect(signed_in):
    first = signed_in.post(
        "/t/form/", {"name": "噪音扰民", "idempotency_key": "f-1", "csrfmiddlewaretoken": "a"}
    )
    again = signed_in.post(
        "/t/form/", {"name": "噪音扰民", "idempotency_key": "f-1", "csrfmiddlewaretoken": "b"}
    )

    assert first.status_code == again.status_code == 302
    assert first["Location"] == again["Location"] == "/t/done/1/"
    assert again["Idempotent-Replayed"] == "true"
    assert CALLS == ["噪音扰民"]


def test_a_form_with_other_fields_under_the_same_key_is_refused(signed_in):
    signed_in.post("/t/form/", {"name": "噪音扰民", "idempotency_key": "f-1"})
    response = signed_in.post("/t/form/", {"name": "占道经营", "idempotency_key": "f-1"})

    assert response.status_code == 422
    assert response.json()["code"] == "idempotency_key_reused"


def test_a_safe_request_is_not_concerned(signed_in):
    signed_in.get("/t/form/", headers={"Idempotency-Key": "g-1"})

    assert not IdempotencyKey.objects.exists()


def test_a_view_that_fails_releases_its_key(signed_in):
    client = Client(raise_request_exception=False)
    login(client, UserFactory())

    first = client.post("/t/broken-form/", {"name": "a", "idempotency_key": "b-1"})
    retry = client.post("/t/broken-form/", {"name": "a", "idempotency_key": "b-1"})

    assert first.status_code == retry.status_code == 500
    assert CALLS == ["a", "a"]
    assert not IdempotencyKey.objects.exists()


def test_a_duplicate_form_while_the_first_runs_gets_409(signed_in):
    NESTED["client"] = signed_in

    first = signed_in.post("/t/slow-form/", {"name": "a", "idempotency_key": "s-1"})

    assert first.status_code == 201
    assert NESTED["response"].status_code == 409
    assert NESTED["response"].json()["code"] == "in_progress"
    assert CALLS == ["a"]


def test_a_browser_sees_the_refusal_as_a_page(signed_in):
    NESTED["client"] = signed_in
    NESTED["headers"] = {"Accept": "text/html,application/xhtml+xml"}

    signed_in.post("/t/slow-form/", {"name": "a", "idempotency_key": "s-2"})

    page = NESTED["response"]
    assert page.status_code == 409
    assert page["Content-Type"].startswith("text/html")
    assert "相同的请求正在处理中，请稍后重试。" in page.content.decode()


def test_the_wrapped_operation_keeps_its_documented_parameters():
    schema = Client().get("/t/api/openapi.json").json()

    things = schema["paths"]["/t/api/things"]["post"]
    assert things["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("/ThingIn")
    assert "201" in things["responses"]
    form = schema["paths"]["/t/api/requests.json"]["post"]["requestBody"]["content"]
    assert set(form["application/x-www-form-urlencoded"]["schema"]["properties"]) == {
        "api_key",
        "description",
    }


def test_the_form_field_tag_gives_each_rendering_a_fresh_key():
    from django.template import Context, Template

    template = Template("{% load idempotency %}{% idempotency_field %}")
    first, second = (template.render(Context()) for _ in range(2))

    pattern = r'<input type="hidden" name="idempotency_key" value="[0-9a-f]{32}">'
    assert re.fullmatch(pattern, first)
    assert re.fullmatch(pattern, second)
    assert first != second
