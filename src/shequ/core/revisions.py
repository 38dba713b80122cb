"""Revisions: in-process copies of reference data, reloaded only after a change (ARCHITECTURE.md).

Reference data that every request reads and few requests change — the locate index, the working
calendar, the case catalogue, the routing data, API tokens and seats — is kept in memory by each
process. Each kind has a key and a row in ``core.Revision`` whose token every change replaces, in the
changing transaction (``revision_bump``). A process reads all tokens in one query and compares:

- ``revision_tokens()`` — the current tokens. Within a request (``RevisionsMiddleware``) or a
  ``revisions_pinned()`` block they are read once, on first use; elsewhere on every call.
- ``RevisionCache(keys, load)`` — a value built by ``load()``, rebuilt when a token of ``keys`` has
  changed. ``LookupCache(keys)`` — a dictionary filled on demand, emptied when a token has changed.

Ordering makes it safe: the token is read before the data, so a copy is never older than the token it
is kept under; a change committed in between only makes a copy newer than its token, and the next
read of the new token reloads it. ``revision_bump`` forgets the pinned token of this request, so a
request sees its own changes.

Who bumps: the services that change the data, in their transaction; model signals registered by the
owning app (``revision_watch``) for rows saved or deleted one by one anywhere else (admin, shell,
fixtures); bulk writes (``bulk_create``, ``update()``) call ``revision_bump`` themselves.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from functools import lru_cache
from typing import Any, Generic, TypeVar

from django.db import connection
from django.db.models import Model
from django.db.models.signals import post_delete, post_save
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from .models.revisions import Revision

T = TypeVar("T")
K = TypeVar("K")
V = TypeVar("V")


class _Pin:
    """The tokens of one request or block, read on first use."""

    __slots__ = ("bumped", "tokens")

    def __init__(self) -> None:
        self.tokens: dict[str, str] | None = None
        self.bumped = False  # a revision was bumped within: read, don't pin (see revision_bump)


_pin: ContextVar[_Pin | None] = ContextVar("shequ_revisions_pin", default=None)


@lru_cache(maxsize=4)
def _select_sql(vendor: str) -> str:
    table = connection.ops.quote_name(Revision._meta.db_table)
    return f"SELECT key, token FROM {table}"  # noqa: S608 - fixed identifiers only


@lru_cache(maxsize=4)
def _bump_sql(vendor: str) -> str:
    table = connection.ops.quote_name(Revision._meta.db_table)
    return (
        f"INSERT INTO {table} (key, token, changed_at) VALUES (%s, %s, %s) "  # noqa: S608
        "ON CONFLICT (key) DO UPDATE SET token = excluded.token, changed_at = excluded.changed_at"
    )


def _read() -> dict[str, str]:
    """Every token: one query without the ORM's per-query work."""
    with connection.cursor() as cursor:
        cursor.execute(_select_sql(connection.vendor))
        return {str(key): str(token) for key, token in cursor.fetchall()}


def revision_tokens() -> Mapping[str, str]:
    """The current token of every key (a key never bumped is absent: its token is "")."""
    pin = _pin.get()
    if pin is None or pin.bumped:
        return _read()
    if pin.tokens is None:
        pin.tokens = _read()
    return pin.tokens


def revision_token(key: str) -> str:
    return revision_tokens().get(key, "")


@contextmanager
def revisions_pinned() -> Iterator[None]:
    """Within the block the tokens are read once (nested blocks share the outer one's)."""
    if _pin.get() is not None:
        yield
        return
    reset = _pin.set(_Pin())
    try:
        yield
    finally:
        _pin.reset(reset)


def revision_bump(*keys: str) -> None:
    """Mark that the data of ``keys`` has changed. Call inside the changing transaction: the new
    tokens become visible with the change itself, and a rolled-back change leaves the old ones."""
    now = timezone.now()
    with connection.cursor() as cursor:
        sql = _bump_sql(connection.vendor)
        for key in keys:
            cursor.execute(sql, [key, uuid.uuid4().hex, now])
    pin = _pin.get()
    if pin is not None:
        # This request sees its own change; and as that change may yet be rolled back, its tokens
        # are read afresh from now on rather than pinned (a pinned uncommitted token would keep
        # the rolled-back data in use for the rest of the request).
        pin.tokens = None
        pin.bumped = True


class RevisionsMiddleware:
    """Pins the tokens for the request: at most one token query per request, on first use."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        with revisions_pinned():
            return self.get_response(request)


# --- Caches ------------------------------------------------------------------------------------------

_registry: list[_Cache] = []


class _Cache:
    def __init__(self, keys: tuple[str, ...]) -> None:
        self.keys = keys
        self._lock = threading.Lock()
        _registry.append(self)

    def _token(self) -> tuple[str, ...]:
        tokens = revision_tokens()
        return tuple(tokens.get(key, "") for key in self.keys)

    def clear(self) -> None:
        raise NotImplementedError


class RevisionCache(_Cache, Generic[T]):
    """A value built by ``load()`` and kept until a token of ``keys`` changes."""

    def __init__(self, keys: tuple[str, ...], load: Callable[[], T]) -> None:
        super().__init__(keys)
        self._load = load
        self._entry: tuple[tuple[str, ...], T] | None = None

    def get(self) -> T:
        token = self._token()  # before the data: see the module's docstring
        entry = self._entry
        if entry is not None and entry[0] == token:
            return entry[1]
        with self._lock:
            entry = self._entry
            if entry is not None and entry[0] == token:
                return entry[1]
            value = self._load()
            self._entry = (token, value)
        return value

    def clear(self) -> None:
        self._entry = None


class LookupCache(_Cache, Generic[K, V]):
    """A dictionary filled on demand (``get(key, load)``), emptied when a token of ``keys`` changes or
    when it holds ``max_size`` entries. ``load`` answers None for a key that does not exist; None is
    not kept (a row created later is found)."""

    def __init__(self, keys: tuple[str, ...], *, max_size: int = 50_000) -> None:
        super().__init__(keys)
        self.max_size = max_size
        self._entry: tuple[tuple[str, ...], dict[K, V]] = ((), {})

    def get(self, key: K, load: Callable[[K], V | None]) -> V | None:
        token = self._token()
        current_token, values = self._entry
        if current_token != token:
            values = {}
            self._entry = (token, values)
        try:
            return values[key]
        except KeyError:
            pass
        value = load(key)
        if value is not None:
            if len(values) >= self.max_size:
                values.clear()
            values[key] = value
        return value

    def clear(self) -> None:
        self._entry = ((), {})


def revision_caches_clear() -> None:
    """Forget every in-process copy (tests; a management command that rewrote data in bulk)."""
    for cache in _registry:
        cache.clear()


# --- Signals -----------------------------------------------------------------------------------------


def revision_watch(model: type[Model], *keys: str, ignore: Iterable[str] = ()) -> None:
    """Bump ``keys`` whenever a row of ``model`` is saved or deleted one by one (admin, shell, fixtures,
    services). Bulk writes bypass signals and bump for themselves. A save of only ``ignore`` fields
    (``save(update_fields=…)``, such as the login's ``last_login``) changes nothing kept."""
    ignored = frozenset(ignore)

    def changed(sender: Any, update_fields: Iterable[str] | None = None, **kwargs: Any) -> None:
        if update_fields is not None and ignored and set(update_fields) <= ignored:
            return
        revision_bump(*keys)

    uid = f"shequ-revision-{model._meta.label}-{'+'.join(keys)}"
    post_save.connect(changed, sender=model, weak=False, dispatch_uid=uid + "-save")
    post_delete.connect(changed, sender=model, weak=False, dispatch_uid=uid + "-delete")
