"""core.rows.rows_insert: the ORM's values, one prepared statement, keys set, refusals."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from shequ.core.models import Deadline, Event, Revision
from shequ.core.rows import BATCH, rows_flush, rows_insert, rows_on_flush, rows_pipelined, statement_run
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


# --- rows_pipelined ---------------------------------------------------------------------------------

postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="pipelining is a PostgreSQL round-trip saving"
)


@postgresql_only
def test_held_rows_go_together_at_the_end_of_the_block_with_their_keys():
    division = Division.objects.create(code="990000000002", name="测试", level="city", path="x/")
    deadline = _deadline(3)
    event = Event(
        occurred_at=timezone.now(), subject_type="places.division", subject_id=str(division.pk), type="T"
    )
    with transaction.atomic():
        with CaptureQueriesContext(connection) as captured, rows_pipelined():
            rows_insert([deadline])
            rows_insert([event])
            held = (deadline.pk, event.pk, len(captured))
            assert not Deadline.objects.filter(subject_id="3").exists()  # not sent yet
        assert held == (None, None, 0)
        assert deadline.pk is not None
        assert event.pk is not None
        assert not deadline._state.adding
        sent = [q["sql"] for q in captured if q["sql"].startswith("INSERT")]
        assert len(sent) == 2  # both logged, with their statements
    assert Deadline.objects.get(pk=deadline.pk).subject_id == "3"
    assert Event.objects.get(pk=event.pk).subject_id == str(division.pk)


@postgresql_only
def test_a_flush_gives_keys_now_and_callbacks_run_once_keys_are_known():
    seen: list[object] = []
    deadline = _deadline(4)
    with transaction.atomic(), rows_pipelined():
        rows_insert([deadline])
        rows_on_flush(lambda: seen.append(deadline.pk))
        assert seen == []
        rows_flush()
        assert seen == [deadline.pk]
        assert deadline.pk is not None
        later = _deadline(5)
        rows_insert([later])
        rows_on_flush(lambda: rows_insert([_deadline(6)]))  # a callback may hold more rows
    assert set(Deadline.objects.values_list("subject_id", flat=True)) == {"4", "5", "6"}


@postgresql_only
def test_an_error_of_a_held_row_is_raised_by_the_flush_and_nothing_stays():
    Revision.objects.create(key="test.taken", token="t" * 32, changed_at=timezone.now())

    def report() -> None:
        with transaction.atomic(), rows_pipelined():
            rows_insert([_deadline(7)])
            rows_insert([Revision(key="test.taken", token="u" * 32, changed_at=timezone.now())])

    with pytest.raises(IntegrityError):
        report()  # the key is taken: the flush at the block's end raises, as Django's error
    assert not Deadline.objects.filter(subject_id="7").exists()
    assert Revision.objects.get(key="test.taken").token == "t" * 32


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_the_block_needs_a_transaction():
    with pytest.raises(RuntimeError, match="transaction"), rows_pipelined():
        pass


def test_outside_postgresql_or_outside_a_block_rows_are_written_at_once():
    seen: list[object] = []
    deadline = _deadline(8)
    rows_insert([deadline])
    rows_on_flush(lambda: seen.append(deadline.pk))
    assert seen == [deadline.pk]
    assert deadline.pk is not None
    if connection.vendor != "postgresql":
        with transaction.atomic(), rows_pipelined():
            held = _deadline(9)
            rows_insert([held])
            assert held.pk is not None  # SQLite: no round trip to save


def test_statement_run_returns_rows_and_logs_the_statement():
    with CaptureQueriesContext(connection) as captured, transaction.atomic():
        rows = statement_run("SELECT %s + 1, 'a%%b'", [41])
    assert rows == [(42, "a%b")]
    assert [q["sql"] for q in captured if "SELECT" in (q["sql"] or "")]


@postgresql_only
def test_rows_inside_a_savepoint_of_the_block_are_written_at_once_and_rolled_back_with_it():
    kept, dropped = _deadline(10), _deadline(11)

    class UndoError(Exception):
        pass

    with transaction.atomic(), rows_pipelined():
        rows_insert([kept])  # held until the block ends
        try:
            with transaction.atomic():  # a savepoint
                rows_insert([dropped])
                assert dropped.pk is not None  # written at once, inside the savepoint
                raise UndoError
        except UndoError:
            pass
        assert kept.pk is None
    assert set(Deadline.objects.values_list("subject_id", flat=True)) == {"10"}


def test_rows_that_have_their_keys_are_inserted_with_them():
    taken = Deadline.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    rows = [_deadline(20), _deadline(21)]
    rows[0].pk, rows[1].pk = taken + 1000, taken + 1001
    with CaptureQueriesContext(connection) as captured:
        rows_insert(rows)
    assert len(captured) == 1
    assert [r.pk for r in rows] == [taken + 1000, taken + 1001]
    assert Deadline.objects.get(pk=taken + 1001).subject_id == "21"
    mixed = [_deadline(22), _deadline(23)]
    mixed[0].pk = taken + 2000
    with pytest.raises(TypeError, match="key"):
        rows_insert(mixed)


def test_a_row_pointing_at_an_unsaved_object_is_refused():
    event = Event(occurred_at=timezone.now(), subject_type="x", subject_id="1", type="T")
    event.actor = get_user_model()(username="nobody-yet")
    with pytest.raises(ValueError, match="unsaved related object"):
        rows_insert([event])
    assert not Event.objects.filter(type="T", subject_type="x").exists()
