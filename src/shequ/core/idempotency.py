"""``Idempotency-Key``: a retried POST returns the first answer instead of acting twice.

A client that may retry (a phone on a bad network, a 12345 or Open311 integration) sends a fresh key
with each new request — ``Idempotency-Key: 5f0c…`` — and the same key when it repeats one. HTML forms
carry it in the hidden field ``idempotency_key`` (``{% load idempotency %}{% idempotency_field %}``).

- The first request with a key inserts its ``IdempotencyKey`` row *before* the handler runs, in its own
  transaction; the unique constraint on (client, key) makes a concurrent duplicate fail that insert, and
  it is answered ``409 {"code": "in_progress"}``.
- When the handler has answered, the status code, body, content type (and a ``Location`` header) are
  stored on the row. A retry with the same key and the same request (method, path, query and body, hashed)
  gets that stored answer, with the header ``Idempotent-Replayed: true``.
- The same key with a different request is refused: ``422 {"code": "idempotency_key_reused",
  "field": "Idempotency-Key"}``.
- An answer of 500 or more (or an exception) releases the key, so the retry really runs again.
- Keys are per client: the signed-in user's id, ``anon:<ip>`` without an account, or what the caller's
  ``client`` function returns (an API client's key digest). Rows older than ``SHEQU_IDEMPOTENCY_TTL_HOURS``
  (24 by default) no longer count and are purged by the daily job ``core.idempotency_purge``.

Usage. On a django-ninja operation, put ``@idempotent`` under the route decorator (errors come out in the
API's ``{code, message, field}`` format)::

    from ninja import Status
    from shequ.core.idempotency import idempotent

    @router.post("/cases", response={201: CaseOut})
    @idempotent
    def case_create(request: HttpRequest, payload: CaseIn) -> Status:
        case = case_report(actor=request.user, channel=Channel.API, **payload.dict())
        return Status(201, case_out(case))

Open311 clients authenticate with an ``api_key`` rather than a session, so the client is derived from it::

    def open311_client(request: HttpRequest) -> str:
        return "key:" + hashlib.sha256(request.POST.get("api_key", "").encode()).hexdigest()[:32]

    @router.post("/requests.json")
    @idempotent(client=open311_client)
    def request_create(request: HttpRequest, ...) -> ...: ...

On a plain Django view (an HTML form that redirects after the POST; the replay repeats the redirect)::

    @login_required
    @require_http_methods(["GET", "POST"])
    @idempotent
    def case_report_form(request: HttpRequest) -> HttpResponse: ...

Only unsafe methods are concerned (GET, HEAD and OPTIONS pass through), and only when a key is sent.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja.decorators import decorate_view

from .errors import ApiError
from .models import IdempotencyKey

HEADER = "Idempotency-Key"
FORM_FIELD = "idempotency_key"
REPLAYED_HEADER = "Idempotent-Replayed"
KEY_MAX_LENGTH = 255
# Response headers kept for the replay.
KEPT_HEADERS = ("Location", "Content-Disposition", "Content-Language")
# Form fields that differ between two submissions of the same form and are left out of the hash.
UNHASHED_FIELDS = frozenset({"csrfmiddlewaretoken", FORM_FIELD})
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
# A key whose first request never finished (its process died) is given up after this long.
ABANDONED_AFTER = timedelta(minutes=10)
PURGE_CHUNK = 5000

# Request attributes linking the operation wrapper and the run wrapper of a django-ninja operation.
_DEFERRED = "_shequ_idempotency_deferred"
_CLAIM = "_shequ_idempotency_claim"

ClientOf = Callable[[HttpRequest], str]
View = TypeVar("View", bound=Callable[..., Any])


def ttl() -> timedelta:
    return timedelta(hours=float(getattr(settings, "SHEQU_IDEMPOTENCY_TTL_HOURS", 24)))


@dataclass(frozen=True)
class Claim:
    """This request holds the key: its answer will be stored on row ``row_id``."""

    row_id: int


# --- Reading the request ----------------------------------------------------------------------


def _is_form(request: HttpRequest) -> bool:
    return request.content_type in ("multipart/form-data", "application/x-www-form-urlencoded")


def request_key(request: HttpRequest) -> str:
    """The key sent with the request: the header, or the form field of an HTML form."""
    key = request.headers.get(HEADER, "")
    if not key and _is_form(request):
        key = request.POST.get(FORM_FIELD, "")
    key = key.strip()
    if len(key) > KEY_MAX_LENGTH:
        raise ApiError(
            _("幂等键过长（不超过 %(max)s 个字符）。") % {"max": KEY_MAX_LENGTH},
            code="invalid",
            field=HEADER,
            status=422,
        )
    return key


def request_fingerprint(request: HttpRequest) -> str:
    """A digest of what the request asks: method, path, query string and body (for forms, the fields
    but the CSRF token and the key, and each file's name and content)."""
    digest = hashlib.sha256()

    def add(value: str | bytes) -> None:
        data = value.encode() if isinstance(value, str) else value
        digest.update(str(len(data)).encode() + b":" + data)

    add(request.method or "")
    add(request.path)
    add(request.META.get("QUERY_STRING", ""))
    if _is_form(request):
        for name in sorted(request.POST):
            if name not in UNHASHED_FIELDS:
                add(name)
                for value in request.POST.getlist(name):
                    add(value)
        for name in sorted(request.FILES):
            for upload in request.FILES.getlist(name):
                add(name)
                add(upload.name or "")
                content = hashlib.sha256()
                for chunk in upload.chunks():
                    content.update(chunk)
                upload.seek(0)
                add(content.hexdigest())
    else:
        add(request.content_type or "")
        add(request.body)
    return digest.hexdigest()


def request_client(request: HttpRequest, client: ClientOf | str | None = None) -> tuple[str, Any]:
    """Whose key it is (the namespace of keys) and the signed-in user, if any."""
    user = getattr(request, "user", None)
    if not getattr(user, "is_authenticated", False):
        user = None
    if client is not None:
        value = client if isinstance(client, str) else client(request)
        if value:
            return str(value)[:100], user
    if user is not None:
        return str(user.pk), user
    from shequ.accounts.security import client_ip

    return f"anon:{client_ip(request) or 'unknown'}", None


# --- Claiming, finishing, replaying --------------------------------------------------------------


def _replay(row: IdempotencyKey) -> HttpResponse:
    assert row.status_code is not None  # noqa: S101 - only finished rows are replayed
    response = HttpResponse(bytes(row.body), status=row.status_code, content_type=row.content_type or None)
    for name, value in (row.headers or {}).items():
        response[name] = value
    response[REPLAYED_HEADER] = "true"
    return response


def _stale(row: IdempotencyKey, now: datetime) -> bool:
    if row.created_at < now - ttl():
        return True
    return row.status_code is None and row.created_at < now - ABANDONED_AFTER


def idempotency_begin(
    request: HttpRequest, *, client: ClientOf | str | None = None
) -> Claim | HttpResponse | None:
    """Before the handler: ``None`` when the request carries no key (or is safe), the stored answer
    when it is a retry, else the claim on the key. Raises ``ApiError`` 409 while the first request
    with the key is still running, 422 when the key was used for a different request."""
    if (request.method or "").upper() in SAFE_METHODS:
        return None
    key = request_key(request)
    if not key:
        return None
    client_id, user = request_client(request, client)
    fingerprint = request_fingerprint(request)
    for _attempt in range(3):
        try:
            with transaction.atomic():
                row = IdempotencyKey.objects.create(
                    client=client_id,
                    key=key,
                    method=(request.method or "")[:8],
                    path=request.path[:255],
                    request_hash=fingerprint,
                    user=user,
                )
            return Claim(row_id=row.pk)
        except IntegrityError:
            existing = IdempotencyKey.objects.filter(client=client_id, key=key).first()
        if existing is None:  # released meanwhile by a failed first request: claim it now
            continue
        if _stale(existing, timezone.now()):
            IdempotencyKey.objects.filter(pk=existing.pk, created_at=existing.created_at).delete()
            continue
        if existing.request_hash != fingerprint:
            raise ApiError(
                _("该幂等键已用于另一个请求，请为新的请求使用新的幂等键。"),
                code="idempotency_key_reused",
                field=HEADER,
                status=422,
            )
        if existing.status_code is None:
            break
        return _replay(existing)
    raise ApiError(_("相同的请求正在处理中，请稍后重试。"), code="in_progress", field=HEADER, status=409)


def idempotency_release(claim: Claim) -> None:
    """Give the key up (the request failed): a retry runs again."""
    IdempotencyKey.objects.filter(pk=claim.row_id, status_code__isnull=True).delete()


def idempotency_finish(claim: Claim, response: HttpResponseBase) -> None:
    """Store the answer for replays, or release the key when the request failed (5xx) or the answer
    cannot be stored (a stream)."""
    if response.status_code >= 500 or response.streaming or not isinstance(response, HttpResponse):
        idempotency_release(claim)
        return
    IdempotencyKey.objects.filter(pk=claim.row_id).update(
        status_code=response.status_code,
        content_type=response.get("Content-Type", "")[:100],
        body=response.content,
        headers={name: response[name] for name in KEPT_HEADERS if response.has_header(name)},
    )


def idempotency_keys_purge(*, now: datetime | None = None) -> int:
    """Delete keys older than the TTL (the daily job), in chunks; the number deleted."""
    cutoff = (now or timezone.now()) - ttl()
    deleted = 0
    while True:
        ids = list(
            IdempotencyKey.objects.filter(created_at__lt=cutoff).values_list("pk", flat=True)[:PURGE_CHUNK]
        )
        if not ids:
            return deleted
        deleted += IdempotencyKey.objects.filter(pk__in=ids).delete()[0]


# --- The decorator -----------------------------------------------------------------------------


def _refusal(request: HttpRequest, error: ApiError) -> HttpResponse:
    """A refused request of a plain Django view: JSON for machines, a page for browsers."""
    body: dict[str, str] = {"code": error.code, "message": error.message}
    if error.field:
        body["field"] = error.field
    accept = request.headers.get("Accept", "")
    if "text/html" in accept and "application/json" not in accept:
        return render(request, "core/idempotency_refused.html", body, status=error.http_status)
    return JsonResponse(body, status=error.http_status, json_dumps_params={"ensure_ascii": False})


def _settle_after_run(run: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """Wraps a django-ninja operation's ``run`` (which turns the handler's result or exception into
    the final response) to store that response on the key the handler claimed."""

    @functools.wraps(run)
    def settled(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        setattr(request, _DEFERRED, True)
        try:
            response = run(request, *args, **kwargs)
        except BaseException:
            claim = getattr(request, _CLAIM, None)
            if claim is not None:
                idempotency_release(claim)
            raise
        claim = getattr(request, _CLAIM, None)
        if claim is not None:
            delattr(request, _CLAIM)
            idempotency_finish(claim, response)
        return response

    return settled


def _finish_when_rendered(claim: Claim, response: HttpResponseBase) -> None:
    render_later = getattr(response, "add_post_render_callback", None)
    if callable(render_later) and not getattr(response, "is_rendered", True):
        render_later(lambda rendered: idempotency_finish(claim, rendered))
    else:
        idempotency_finish(claim, response)


def idempotent(view: View | None = None, *, client: ClientOf | str | None = None) -> Any:
    """Make a POST handler honour ``Idempotency-Key`` (see the module documentation). Use it bare
    (``@idempotent``) or with a client function (``@idempotent(client=…)``); on django-ninja operations
    place it under the route decorator. Synchronous handlers only."""

    def decorate(func: View) -> View:
        @functools.wraps(func)
        def handler(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
            in_ninja = getattr(request, _DEFERRED, False)
            try:
                outcome = idempotency_begin(request, client=client)
            except ApiError as error:
                if in_ninja:
                    raise  # the API's exception handler answers in its error format
                return _refusal(request, error)
            if outcome is None or isinstance(outcome, HttpResponseBase):
                return func(request, *args, **kwargs) if outcome is None else outcome
            if in_ninja:
                setattr(request, _CLAIM, outcome)  # settled by _settle_after_run
                return func(request, *args, **kwargs)
            try:
                response = func(request, *args, **kwargs)
            except BaseException:
                idempotency_release(outcome)
                raise
            _finish_when_rendered(outcome, response)
            return response

        # django-ninja reads the handler's signature with the wrapper's module globals: resolve the
        # string annotations (``from __future__ import annotations``) in the handler's own module.
        # Names only known to type checkers cannot be resolved: the signature is then left as is.
        with contextlib.suppress(NameError, TypeError, SyntaxError):
            handler.__signature__ = inspect.signature(func, eval_str=True)  # type: ignore[attr-defined]
        # Picked up by django-ninja when the function is registered as an operation; inert otherwise.
        decorate_view(_settle_after_run)(handler)
        return handler  # type: ignore[return-value]

    return decorate(view) if view is not None else decorate
