"""The GeoReport v2 endpoints. Each view: parse (``params``) → selector or service → render
(``formats``); every refusal is answered in the specification's error format.

Reads are public (requests carry no personal data). ``POST requests`` needs an ``api_key`` and honours
``Idempotency-Key``: a retry with the same key returns the first answer (and the key also names the
case's source reference, so the same report never becomes two cases).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.files.storage import default_storage
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from shequ.cases.services_open311 import open311_request_create, open311_source_ref
from shequ.core.errors import ApiError
from shequ.core.idempotency import (
    idempotency_begin,
    idempotency_finish,
    idempotency_release,
    request_key,
)

from . import formats, params, selectors
from .params import Open311Error

View = Callable[..., HttpResponse]

# Our field names in errors raised by the intake, as the Open311 client knows them.
FIELD_NAMES = {
    "lon": "long",
    "lat": "lat",
    "location": "lat/long",
    "contact_phone": "phone",
    "contact_email": "email",
    "category": "service_code",
    "description": "description",
    "photos": "media_url",
}


def _api_error_response(fmt: str, error: ApiError) -> HttpResponse:
    status = error.http_status if error.http_status in {403, 404, 409} else 400
    field = FIELD_NAMES.get(error.field, error.field)
    description = f"{field}: {error.message}" if field and field not in error.message else error.message
    return formats.error_response(fmt, status, description)


def _answered(fmt: str, work: Callable[[], HttpResponse]) -> HttpResponse:
    """Run ``work``; refusals become error documents."""
    try:
        return work()
    except Open311Error as error:
        return formats.error_response(fmt, error.http_status, error.description)
    except ApiError as error:
        return _api_error_response(fmt, error)
    except Http404:
        return formats.error_response(fmt, 404, _("请求的资源不存在。"))


def endpoint(*methods: str) -> Callable[[View], View]:
    """An Open311 endpoint answering ``methods``: checks the format suffix, the method (405) and
    ``jurisdiction_id`` (404) before the view runs."""
    allowed = {*methods, "HEAD"} if "GET" in methods else set(methods)

    def decorate(view: View) -> View:
        @csrf_exempt
        @functools.wraps(view)
        def wrapped(request: HttpRequest, fmt: str, **kwargs: Any) -> HttpResponse:
            fmt = fmt.lower()
            try:
                params.check_format(fmt)
            except Open311Error as error:
                return formats.error_response("xml", error.http_status, error.description)
            method = (request.method or "").upper()
            if method not in allowed:
                response = formats.error_response(
                    fmt, 405, _("不支持的方法 %(method)s。") % {"method": method[:10]}
                )
                response["Allow"] = ", ".join(sorted(allowed))
                return response

            def work() -> HttpResponse:
                params.check_jurisdiction(request.POST if method == "POST" else request.GET)
                return view(request, fmt, **kwargs)

            return _answered(fmt, work)

        return wrapped

    return decorate


# --- discovery and services ------------------------------------------------------------------------


@endpoint("GET")
def discovery(request: HttpRequest, fmt: str) -> HttpResponse:
    document = formats.discovery_doc(
        url=request.build_absolute_uri(reverse("open311:discovery", kwargs={"fmt": fmt})).rsplit("/", 1)[0],
        contact=str(
            getattr(settings, "SHEQU_OPEN311_CONTACT", "") or _("如有问题请联系本市城市运行管理中心。")
        ),
        key_service=str(
            getattr(settings, "SHEQU_OPEN311_KEY_SERVICE", "")
            or _("提交服务请求需要 api_key，由系统管理员签发（shequ open311_client_create）。")
        ),
    )
    return formats.render(fmt, document, root="discovery")


@endpoint("GET")
def services(request: HttpRequest, fmt: str) -> HttpResponse:
    document = [formats.service_doc(category) for category in selectors.services_public()]
    return formats.render(fmt, document, root="services", item="service")


@endpoint("GET")
def service_definition(request: HttpRequest, fmt: str, code: str) -> HttpResponse:
    category = selectors.service_by_code(code)
    if category is None:
        raise Open311Error(404, _("service_code 不存在：%(code)s") % {"code": code[:40]})
    return formats.render(fmt, formats.service_definition_doc(category), root="service_definition")


# --- requests ----------------------------------------------------------------------------------------


def _file_url(request: HttpRequest) -> Callable[[str], str]:
    return lambda name: request.build_absolute_uri(default_storage.url(name))


def _requests_list(request: HttpRequest, fmt: str) -> HttpResponse:
    filters = params.request_filters(request.GET, now=timezone.now())
    file_url = _file_url(request)
    document = [
        formats.request_doc(case, extensions=filters.extensions, file_url=file_url)
        for case in selectors.requests_find(filters)
    ]
    return formats.render(fmt, document, root="service_requests", item="request")


def _request_create(request: HttpRequest, fmt: str) -> HttpResponse:
    client = params.api_client(request)
    claim = idempotency_begin(request, client=f"open311:{client.pk}")
    if isinstance(claim, HttpResponseBase):
        return claim  # the stored first answer
    source_ref = open311_source_ref(client=client, idempotency_key=request_key(request)) if claim else ""

    def create() -> HttpResponse:
        report = params.report_from_post(request.POST)
        case, token = open311_request_create(client=client, report=report, source_ref=source_ref)
        document = [
            formats.created_doc(case=case, token=token, account_id=request.POST.get("account_id", ""))
        ]
        return formats.render(fmt, document, root="service_requests", item="request")

    try:
        response = _answered(fmt, create)
    except BaseException:
        if claim is not None:
            idempotency_release(claim)
        raise
    if claim is not None:
        idempotency_finish(claim, response)
    return response


@endpoint("GET", "POST")
def requests(request: HttpRequest, fmt: str) -> HttpResponse:
    """``GET requests`` lists; ``POST requests`` creates."""
    if request.method == "POST":
        return _request_create(request, fmt)
    return _requests_list(request, fmt)


@endpoint("GET")
def request_detail(request: HttpRequest, fmt: str, number: str) -> HttpResponse:
    case = selectors.request_by_number(number)
    if case is None:
        raise Open311Error(404, _("service_request_id 不存在：%(id)s") % {"id": number[:40]})
    extensions = (request.GET.get("extensions") or "").lower() == "true"
    document = [formats.request_doc(case, extensions=extensions, file_url=_file_url(request))]
    return formats.render(fmt, document, root="service_requests", item="request")


@endpoint("GET")
def token_detail(request: HttpRequest, fmt: str, token: str) -> HttpResponse:
    found = selectors.token_find(token)
    if found is None:
        raise Open311Error(404, _("token 不存在：%(token)s") % {"token": token[:40]})
    return formats.render(fmt, [formats.token_doc(found)], root="service_requests", item="request")


@endpoint("GET")
def updates(request: HttpRequest, fmt: str) -> HttpResponse:
    """``GET servicerequestupdates``: the change feed (mySociety's extension of GeoReport v2)."""
    filters = params.update_filters(request.GET, now=timezone.now())
    document = [formats.update_doc(update) for update in selectors.updates_find(filters)]
    return formats.render(fmt, document, root="service_requests_updates", item="request_update")
