"""``rows_insert``: new rows on hot write paths, without compiling the INSERT every time.

Intake writes half a dozen rows per report (the case, its events, timer, change-feed row, follower,
notifications). Through ``Model.objects.create`` each costs the ORM's statement compilation — on a
small server several times what the database spends inserting the row. ``rows_insert`` builds the
statement once per model, vendor and row count, and per call only converts the values the way the
ORM does (each field's ``pre_save`` and ``get_db_prep_save``: defaults, ``auto_now``, JSON, time
zones), then sets the primary keys the database returns.

What it does not do, and so refuses: models with ``pre_save``/``post_save`` receivers (it sends no
signals — ``save()`` is not called either, so a model's own ``save()`` logic must not matter for a
new row), multi-table inheritance, and values that are expressions.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any, TypeVar

from django.db import connections, router
from django.db.models import Model
from django.db.models.signals import post_save, pre_save

M = TypeVar("M", bound=Model)


@lru_cache(maxsize=256)
def _statement(model: type[Model], alias: str, vendor: str, count: int) -> tuple[str, tuple[Any, ...], Any]:
    meta = model._meta
    if meta.parents:
        raise TypeError(f"rows_insert does not handle multi-table inheritance ({meta.label}).")
    connection = connections[alias]
    quote = connection.ops.quote_name
    pk = meta.pk
    # An auto-incremented key comes back from the database.
    generated = pk is not None and bool(getattr(pk, "db_returning", False))
    fields = tuple(f for f in meta.local_concrete_fields if not (generated and f is pk))
    columns = ", ".join(quote(f.column) for f in fields)
    row = "(" + ", ".join(["%s"] * len(fields)) + ")"
    sql = f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES {', '.join([row] * count)}"  # noqa: S608
    if generated:
        sql += f" RETURNING {quote(pk.column)}"
    return sql, fields, pk if generated else None


BATCH = 500  # rows per statement (well under SQLite's and PostgreSQL's parameter limits)


def rows_insert(objs: Sequence[M], *, using: str | None = None) -> Sequence[M]:
    """Insert new, unsaved instances of one model (one statement per ``BATCH`` rows); their primary
    keys are set."""
    for start in range(0, len(objs), BATCH):
        _insert(objs[start : start + BATCH], using)
    return objs


def _insert(objs: Sequence[M], using: str | None) -> None:
    if not objs:
        return
    model = type(objs[0])
    if pre_save.has_listeners(model) or post_save.has_listeners(model):
        raise TypeError(f"{model._meta.label} has save signals: use the ORM, which sends them.")
    alias = using or router.db_for_write(model)
    connection = connections[alias]
    sql, fields, pk = _statement(model, alias, connection.vendor, len(objs))
    values: list[Any] = []
    for obj in objs:
        if type(obj) is not model:
            raise TypeError("rows_insert takes instances of one model.")
        for field in fields:
            value = field.pre_save(obj, True)
            if hasattr(value, "resolve_expression"):
                raise TypeError(f"rows_insert takes values, not expressions ({field.name}).")
            values.append(field.get_db_prep_save(value, connection=connection))
    with connection.cursor() as cursor:
        cursor.execute(sql, values)
        keys = cursor.fetchall() if pk is not None else ()
    if pk is not None:
        for obj, (key,) in zip(objs, keys, strict=True):
            setattr(obj, pk.attname, key)
    for obj in objs:
        obj._state.adding = False
        obj._state.db = alias
