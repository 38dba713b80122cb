"""The JSON API under /api/v1/ (django-ninja). Each app contributes a router from its ``api.py``.

Errors are always JSON ``{"code": "...", "message": "...", "field": optional}``, never an HTML 500.
"""

from __future__ import annotations

import logging

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError

from shequ.accounts.api import router as accounts_router
from shequ.accounts.api_auth import api_auth
from shequ.cases.api import router as cases_router
from shequ.core.api import router as core_router
from shequ.core.api_inbox import router as inbox_router
from shequ.core.errors import ApiError
from shequ.places.api import router as places_router
from shequ.registry.api import router as registry_router

logger = logging.getLogger(__name__)

api = NinjaAPI(
    title="shequ API",
    version="1",
    description=(
        "社区云 — community governance platform. Session auth for the web, personal tokens for machines."
    ),
    urls_namespace="api",
    auth=api_auth,
)


def _error(request: HttpRequest, status: int, code: str, message: str, **extra: object) -> HttpResponse:
    return api.create_response(request, {"code": code, "message": message, **extra}, status=status)


@api.exception_handler(ApiError)
def _api_error(request: HttpRequest, exc: ApiError) -> HttpResponse:
    extra = {"field": exc.field} if exc.field else {}
    return _error(request, exc.http_status, exc.code, exc.message, **extra)


@api.exception_handler(NinjaValidationError)
def _validation_error(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    first = exc.errors[0] if exc.errors else {}
    raw = [str(p) for p in first.get("loc", [])]
    if len(raw) > 2 and raw[0] == "body":
        raw = raw[2:]  # a JSON body is checked under the handler's parameter name: name the field sent
    loc = [p for p in raw if p not in ("query", "body", "path", "form")]
    field = ".".join(loc)
    message = first.get("msg", "invalid input")
    return _error(
        request, 422, "invalid", f"{field}: {message}" if field else message, field=field, errors=exc.errors
    )


@api.exception_handler(ValidationError)
def _django_validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    if hasattr(exc, "error_dict"):
        field, errors = next(iter(exc.message_dict.items()))
        return _error(request, 422, "invalid", f"{field}: {errors[0]}", field=field)
    return _error(request, 422, "invalid", "; ".join(exc.messages))


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return _error(request, 404, "not_found", "Not found.")


@api.exception_handler(PermissionDenied)
def _forbidden(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    return _error(request, 403, "forbidden", str(exc) or "Forbidden.")


@api.exception_handler(AuthenticationError)
def _unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return _error(request, 401, "unauthenticated", "Authentication required.")


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    return _error(request, exc.status_code, "error", str(exc))


@api.exception_handler(Exception)
def _unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
    logger.exception("Unhandled API error", exc_info=exc)
    return _error(request, 500, "server_error", "Internal error; it has been logged.")


api.add_router("/", core_router)
api.add_router("/", inbox_router)
api.add_router("/places/", places_router)
api.add_router("/accounts/", accounts_router)
api.add_router("/registry/", registry_router)
api.add_router("/cases/", cases_router)
