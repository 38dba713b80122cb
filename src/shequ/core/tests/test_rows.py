"""core.rows.rows_insert: the ORM's values, one prepared statement, keys set, refusals."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from shequ.core.models import Deadline, Event, Revision
from shequ.core.rows import BATCH, rows_insert
from shequ.places.models import Division

pytestmark = pytest.mark.django_db


def _deadline(n: int = 0) -> Deadline:
    now = timezone.now()
    return Deadline(
        subject_type="test.thing",
        subject_id=str(n),
        kind="test",
        unit="work_days",
        amount=Decimal("1.5"),
        started_at=now,
        due_at=now + timedelta(days=2),
        remind_at=now + timedelta(days=1),
        unknown_years=[2031],
    )


def test_rows_get_their_keys_and_read_back_as_the_orm_wrote_them():
    rows = [_deadline(1), _deadline(2)]
    with CaptureQueriesContext(connection) as captured:
        rows_insert(rows)
    assert len(captured) == 1
    assert all(row.pk is not None and not row._state.adding for row in rows)
    stored = Deadline.objects.get(pk=rows[1].pk)
    assert stored.subject_id == "2"
    assert stored.amount == Decimal("1.5")
    assert stored.unknown_years == [2031]  # JSON
    assert stored.due_at == rows[1].due_at  # aware datetimes, time zone kept
    assert stored.state == Deadline._meta.get_field("state").default  # defaults applied
    assert stored.created_at is not None  # auto_now_add filled in as by save()


def test_json_and_foreign_keys_and_many_rows_in_batches():
    division = Division.objects.create(code="990000000000", name="测试", level="city", path="990000000000/")
    events = [
        Event(
            occurred_at=timezone.now(),
            subject_type="places.division",
            subject_id=str(division.pk),
            type="T",
            data={"n": n, "名": "值"},
        )
        for n in range(BATCH + 3)
    ]
    with CaptureQueriesContext(connection) as captured:
        rows_insert(events)
    assert len(captured) == 2  # one statement per batch
    assert len({e.pk for e in events}) == BATCH + 3
    assert Event.objects.get(pk=events[-1].pk).data == {"n": BATCH + 2, "名": "值"}
    assert list(
        Event.objects.filter(pk__in=[e.pk for e in events]).order_by("pk").values_list("data__n", flat=True)
    ) == list(range(BATCH + 3))


def test_a_model_whose_key_is_given():
    rows = [Revision(key="test.a", token="t" * 32, changed_at=timezone.now())]
    rows_insert(rows)
    assert rows[0].pk == "test.a"
    assert Revision.objects.get(pk="test.a").token == "t" * 32


def test_signals_expressions_and_mixed_models_are_refused():
    division = Division(code="990000000001", name="x", level="city", path="x/")
    with pytest.raises(TypeError, match="signals"):
        rows_insert([division])  # divisions bump a revision on save: the ORM must do it
    expression = _deadline()
    expression.subject_id = F("kind")  # type: ignore[assignment]
    with pytest.raises(TypeError, match="expressions"):
        rows_insert([expression])
    with pytest.raises(TypeError, match="one model"):
        rows_insert([_deadline(), Event(occurred_at=timezone.now(), type="T")])
    assert not Deadline.objects.exists()
