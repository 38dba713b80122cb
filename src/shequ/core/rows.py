"""``rows_insert``: new rows on hot write paths, without compiling the INSERT every time.

Intake writes half a dozen rows per report (the case, its events, timer, change-feed row, follower,
notifications). Through ``Model.objects.create`` each costs the ORM's statement compilation — on a
small server several times what the database spends inserting the row. ``rows_insert`` builds the
statement once per model, vendor and row count, and per call only converts the values the way the
ORM does (each field's ``pre_save`` and ``get_db_prep_save``: defaults, ``auto_now``, JSON, time
zones), then sets the primary keys the database returns.

Two shortcuts keep the per-row work small, neither changing what is written:

- Values of plain text, integer and boolean columns (and foreign keys to integer keys) that already
  have the column's Python type are passed on as they are: for them the ORM's conversion is the
  identity. Any other value (a lazy string, an enum member of an integer field, a date, JSON …) goes
  through the field's own conversion.
- On PostgreSQL the statement is sent with server-side parameters (``$1, $2 …``) through the same
  connection and Django's cursor wrapper (so it is logged, counted and its errors are Django's), and
  is a prepared statement when the connection allows them (``prepare_threshold`` in the database
  ``OPTIONS``, which ``settings.base`` sets; ``SHEQU_DB_PREPARE_THRESHOLD=off`` turns them off for a
  pooler that cannot keep them). Django's own queries keep client-side binding.

What it does not do, and so refuses: models with ``pre_save``/``post_save`` receivers (it sends no
signals — ``save()`` is not called either, so a model's own ``save()`` logic must not matter for a
new row), multi-table inheritance, and values that are expressions.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from functools import lru_cache
from typing import Any, TypeVar

from django.db import connections, models, router
from django.db.models import Model
from django.db.models.signals import post_save, pre_save

M = TypeVar("M", bound=Model)

BATCH = 500  # rows per statement (well under SQLite's and PostgreSQL's parameter limits)

# Field classes whose ``pre_save`` is the attribute and whose ``get_db_prep_save`` returns a value of
# the accepted type unchanged (exact classes: a subclass may convert).
_TEXT = (models.CharField, models.TextField, models.EmailField, models.SlugField, models.URLField)
_INTEGER = (
    models.IntegerField,
    models.BigIntegerField,
    models.SmallIntegerField,
    models.PositiveIntegerField,
    models.PositiveSmallIntegerField,
    models.PositiveBigIntegerField,
    models.AutoField,
    models.BigAutoField,
    models.SmallAutoField,
)


def _passes(field: models.Field) -> type | None:
    """The Python type whose values ``field`` writes unchanged, or None (always convert)."""
    kind = type(field)
    if kind in _TEXT:
        return str
    if kind in _INTEGER:
        return int
    if kind is models.BooleanField:
        return bool
    if kind in (models.ForeignKey, models.OneToOneField):
        return _passes(field.target_field)  # type: ignore[attr-defined]
    return None


@dataclass(frozen=True)
class _Plan:
    sql: str  # with %s placeholders (Django's cursor)
    server_sql: str  # with $n placeholders (PostgreSQL server-side parameters)
    fields: tuple[models.Field, ...]
    passes: tuple[tuple[str, type] | None, ...]  # per field: (attname, type written unchanged)
    pk: models.Field | None  # set from RETURNING


@lru_cache(maxsize=256)
def _plan(model: type[Model], alias: str, vendor: str, count: int, keyed: bool = False) -> _Plan:
    meta = model._meta
    if meta.parents:
        raise TypeError(f"rows_insert does not handle multi-table inheritance ({meta.label}).")
    quote = connections[alias].ops.quote_name
    pk = meta.pk
    # An auto-incremented key comes back from the database, unless the rows already have theirs
    # (``keyed``: drawn from the key's sequence beforehand).
    generated = pk is not None and bool(getattr(pk, "db_returning", False)) and not keyed
    fields = tuple(f for f in meta.local_concrete_fields if not (generated and f is pk))
    columns = ", ".join(quote(f.column) for f in fields)
    head = f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES "  # noqa: S608
    width = len(fields)
    client_row = "(" + ", ".join(["%s"] * width) + ")"
    server_rows = ("(" + ", ".join(f"${n * width + i + 1}" for i in range(width)) + ")" for n in range(count))
    tail = f" RETURNING {quote(pk.column)}" if generated and pk is not None else ""
    passes = tuple((f.attname, kind) if (kind := _passes(f)) is not None else None for f in fields)
    return _Plan(
        sql=head + ", ".join([client_row] * count) + tail,
        server_sql=head + ", ".join(server_rows) + tail,
        fields=fields,
        passes=passes,
        pk=pk if generated else None,
    )


def rows_insert(
    objs: Sequence[M], *, using: str | None = None, receivers_applied: bool = False
) -> Sequence[M]:
    """Insert new, unsaved instances of one model (one statement per ``BATCH`` rows); their primary
    keys are set — at once, or inside ``rows_pipelined`` at the next flush (rows that all have their
    key already, drawn from its sequence, are inserted with it). ``receivers_applied``:
    the caller has already done what the model's ``pre_save``/``post_save`` receivers do for a new
    row (otherwise such a model is refused)."""
    for start in range(0, len(objs), BATCH):
        _insert(objs[start : start + BATCH], using, receivers_applied)
    return objs


def _values(plan: _Plan, objs: Sequence[Model], connection: Any) -> list[Any]:
    model = type(objs[0])
    values: list[Any] = []
    append = values.append
    for obj in objs:
        if type(obj) is not model:
            raise TypeError("rows_insert takes instances of one model.")
        # As save() and bulk_create() do: refuse a row that points at an unsaved object, and take
        # the key of one saved since it was assigned.
        obj._prepare_related_fields_for_save(operation_name="rows_insert")  # type: ignore[attr-defined]
        for field, passes in zip(plan.fields, plan.passes, strict=True):
            if passes is not None:
                value = getattr(obj, passes[0])
                if value is None or _unchanged(value, passes[1]):
                    append(value)
                    continue
            value = field.pre_save(obj, True)
            if hasattr(value, "resolve_expression"):
                raise TypeError(f"rows_insert takes values, not expressions ({field.name}).")
            append(field.get_db_prep_save(value, connection=connection))
    return values


def _unchanged(value: Any, kind: type) -> bool:
    # bool is an int: only an exact int passes as an integer (the field's ``int()`` is then the
    # identity); a str subclass (a TextChoices member) passes as the ORM passes it.
    return type(value) is int if kind is int else isinstance(value, kind)


def _insert(objs: Sequence[M], using: str | None, receivers_applied: bool) -> None:
    if not objs:
        return
    model = type(objs[0])
    if not receivers_applied and (pre_save.has_listeners(model) or post_save.has_listeners(model)):
        raise TypeError(f"{model._meta.label} has save signals: use the ORM, which sends them.")
    alias = using or router.db_for_write(model)
    connection = connections[alias]
    keyed = objs[0].pk is not None
    if any((obj.pk is not None) is not keyed for obj in objs):
        raise TypeError("rows_insert takes rows that all have their key, or none that has one.")
    plan = _plan(model, alias, connection.vendor, len(objs), keyed)
    values = _values(plan, objs, connection)
    pipe = _pipeline.get()
    # Held only at the block's own level: inside a savepoint opened within the block, a row is
    # written at once, so that rolling back to the savepoint takes it away.
    if pipe is not None and pipe.alias == alias and len(connection.savepoint_ids) == pipe.depth:
        pipe.queued.append(_Queued(plan=plan, objs=objs, values=values))
        return
    keys = statement_run(plan.sql, values, using=alias, server_sql=plan.server_sql, fetch=plan.pk is not None)
    _keyed(plan, objs, keys, alias)


def _keyed(plan: _Plan, objs: Sequence[Model], keys: Sequence[tuple[Any, ...]], alias: str) -> None:
    if plan.pk is not None:
        for obj, (key,) in zip(objs, keys, strict=True):
            setattr(obj, plan.pk.attname, key)
    for obj in objs:
        obj._state.adding = False
        obj._state.db = alias


# --- Pipelined rows (PostgreSQL) ------------------------------------------------------------------


@dataclass
class _Queued:
    plan: _Plan
    objs: Sequence[Model]
    values: list[Any]


@dataclass
class _Pipeline:
    alias: str
    depth: int  # the savepoints open when the block began
    queued: list[_Queued] = dataclass_field(default_factory=list)
    after: list[Callable[[], None]] = dataclass_field(default_factory=list)


_pipeline: ContextVar[_Pipeline | None] = ContextVar("shequ_rows_pipeline", default=None)


@contextmanager
def rows_pipelined(*, using: str = "default") -> Iterator[None]:
    """Within the block, on PostgreSQL, ``rows_insert`` holds its rows back and sends every held
    statement together — one round trip to the server instead of one each — at ``rows_flush()`` or
    when the block ends; the keys are set then, and the callbacks of ``rows_on_flush`` run.

    Use it inside the transaction, around writes that do not read back what they insert (held rows
    are not in the database before the flush): a service that needs a key at once calls
    ``rows_flush()`` first. Rows inserted inside a savepoint opened within the block are written at
    once (a rollback to the savepoint must take them away). An error of a held statement is raised by
    the flush. On other databases
    (SQLite runs in this process: a statement costs no round trip) rows are inserted at once, as
    without the block."""
    connection = connections[using]
    if connection.vendor != "postgresql" or _pipeline.get() is not None:
        yield
        return
    if not connection.in_atomic_block:
        raise RuntimeError("rows_pipelined holds a transaction's writes: open the transaction first.")
    pipe = _Pipeline(alias=using, depth=len(connection.savepoint_ids))
    reset = _pipeline.set(pipe)
    try:
        yield
        while pipe.queued or pipe.after:  # callbacks may hold more rows
            _flush(pipe)
    finally:
        _pipeline.reset(reset)


def rows_flush() -> None:
    """Send the rows held by the enclosing ``rows_pipelined`` now (nothing outside one)."""
    pipe = _pipeline.get()
    if pipe is not None:
        _flush(pipe)


def rows_on_flush(callback: Callable[[], None]) -> None:
    """Run ``callback`` once the rows inserted so far have their keys: at once outside
    ``rows_pipelined`` (or when nothing is held), else after the next flush."""
    pipe = _pipeline.get()
    if pipe is None or not pipe.queued:
        callback()
        return
    pipe.after.append(callback)


def _flush(pipe: _Pipeline) -> None:
    queued, pipe.queued = pipe.queued, []
    after, pipe.after = pipe.after, []
    if len(queued) == 1:  # one statement: no pipeline to set up
        (item,) = queued
        fetch = item.plan.pk is not None
        keys = statement_run(
            item.plan.sql, item.values, using=pipe.alias, server_sql=item.plan.server_sql, fetch=fetch
        )
        _keyed(item.plan, item.objs, keys, pipe.alias)
    elif queued:
        connection = connections[pipe.alias]
        sent = []
        try:
            with connection.wrap_database_errors, _connected(connection).pipeline():  # answers at its end
                for item in queued:
                    raw, cursor = _server_cursor(connection)
                    sent.append((raw, item))
                    cursor.execute(item.plan.server_sql, item.values)
            for raw, item in sent:
                keys = raw.fetchall() if item.plan.pk is not None else []
                _keyed(item.plan, item.objs, keys, pipe.alias)
        finally:
            for raw, _item in sent:
                raw.close()
    for callback in after:
        callback()


# --- Statements on hot paths ----------------------------------------------------------------------


def statement_run(
    sql: str,
    params: Sequence[Any],
    *,
    using: str = "default",
    server_sql: str | None = None,
    fetch: bool = True,
) -> list[tuple[Any, ...]]:
    """Run one statement written once for a hot path and return its rows (``fetch``).

    ``sql`` uses ``%s`` placeholders. On PostgreSQL the statement goes with server-side parameters
    (``server_sql``, with ``$1 …``; derived from ``sql`` when not given) and is prepared when the
    connection allows it; when it opens a transaction, the ``BEGIN`` travels with it (one round
    trip, not two). Elsewhere it runs through Django's cursor as it is."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall() if fetch else []
    pg = _connected(connection)
    raw, cursor = _server_cursor(connection)
    try:
        if not pg.autocommit and pg.info.transaction_status == _idle():
            with connection.wrap_database_errors, pg.pipeline():
                cursor.execute(server_sql or _server_placeholders(sql), params)
        else:
            cursor.execute(server_sql or _server_placeholders(sql), params)
        return raw.fetchall() if fetch else []
    finally:
        raw.close()


def _connected(connection: Any) -> Any:
    """The driver connection, opened (and health-checked) as ``connection.cursor()`` would."""
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    return connection.connection


def _server_cursor(connection: Any) -> tuple[Any, Any]:
    """A server-side-parameters cursor on the open connection, and Django's wrapper around it (the
    query log, ``execute_wrapper`` hooks, Django's errors) — what ``connection.cursor()`` wraps its
    own cursor in."""
    connection.validate_thread_sharing()
    raw = _prepared_cursor_class()(connection.connection)
    wrapped = connection.make_debug_cursor(raw) if connection.queries_logged else connection.make_cursor(raw)
    return raw, wrapped


@lru_cache(maxsize=1)
def _idle() -> Any:
    from psycopg.pq import TransactionStatus

    return TransactionStatus.IDLE


@lru_cache(maxsize=256)
def _server_placeholders(sql: str) -> str:
    """``%s`` → ``$1, $2 …`` (``%%`` → ``%``), for statements without literal ``$n``."""
    parts = sql.split("%%")
    count = 0
    out = []
    for part in parts:
        pieces = part.split("%s")
        rebuilt = pieces[0]
        for piece in pieces[1:]:
            count += 1
            rebuilt += f"${count}" + piece
        out.append(rebuilt)
    return "%".join(out)


@lru_cache(maxsize=1)
def _prepared_cursor_class() -> type:
    import psycopg

    class PreparedCursor(psycopg.RawCursor):
        """Server-side parameters; prepared when the connection has a ``prepare_threshold``."""

        def execute(
            self, query: Any, params: Any = None, *, prepare: bool | None = None, **kwargs: Any
        ) -> Any:
            return super().execute(query, params, prepare=True if prepare is None else prepare, **kwargs)

        def _send_query_prepared(self, name: bytes, pgq: Any, **kwargs: Any) -> None:
            # psycopg leaves ``cursor.query`` unset when it runs a prepared statement; Django's query
            # log (and ``assertNumQueries``' report) reads the statement from there.
            self._query = pgq
            super()._send_query_prepared(name, pgq, **kwargs)

    return PreparedCursor
