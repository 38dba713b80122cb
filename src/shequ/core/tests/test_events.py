"""core.events: one row per event; ``events_batched`` writes a service's events in one statement."""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from shequ.core.events import event_record, events_batched, events_bulk_record, events_for_subject
from shequ.core.models import Event
from shequ.places.models import Division

pytestmark = pytest.mark.django_db


@pytest.fixture
def subject() -> Division:
    return Division.objects.create(code="990000000000", name="测试", level="city", path="990000000000/")


def test_an_event_is_written_at_once_outside_a_batch(subject):
    event = event_record(subject=subject, type="THING_HAPPENED", actor=None, data={"a": 1})
    assert event.pk is not None
    assert list(events_for_subject(subject).values_list("type", "data")) == [("THING_HAPPENED", {"a": 1})]


def test_a_batch_writes_its_events_together_when_it_ends(subject):
    with transaction.atomic():
        with CaptureQueriesContext(connection) as captured, events_batched() as written:
            first = event_record(subject=subject, type="FIRST", actor=None)
            events_bulk_record(
                [
                    Event(
                        occurred_at=timezone.now(),
                        subject_type="places.division",
                        subject_id=str(subject.pk),
                        type="SECOND",
                    )
                ]
            )
            assert first.pk is None
            assert not events_for_subject(subject).exists()
        inserts = [q["sql"] for q in captured.captured_queries if q["sql"].startswith("INSERT")]
    assert len(inserts) == 1
    assert [e.type for e in written] == ["FIRST", "SECOND"]
    assert all(e.pk is not None for e in written)
    assert list(events_for_subject(subject).values_list("type", flat=True)) == ["FIRST", "SECOND"]


def test_a_nested_batch_leaves_the_writing_to_the_outer_one(subject):
    with events_batched() as outer:
        with events_batched() as inner:
            event_record(subject=subject, type="INNER", actor=None)
        assert inner == []
        assert not events_for_subject(subject).exists()
    assert [e.type for e in outer] == ["INNER"]
    assert events_for_subject(subject).count() == 1


def _record_then_fail(subject: Division) -> None:
    with transaction.atomic(), events_batched():
        event_record(subject=subject, type="LOST", actor=None)
        raise RuntimeError


def test_a_failing_block_writes_nothing(subject):
    with pytest.raises(RuntimeError):
        _record_then_fail(subject)
    assert not events_for_subject(subject).exists()


class _UndoError(Exception):
    pass


def test_an_event_inside_a_savepoint_of_the_batch_is_written_at_once_and_rolled_back_with_it(subject):
    with transaction.atomic(), events_batched() as written:
        event_record(subject=subject, type="BEFORE", actor=None)
        with transaction.atomic():  # a savepoint that stays
            event_record(subject=subject, type="KEPT", actor=None)
        try:
            with transaction.atomic():  # a savepoint rolled back
                event_record(subject=subject, type="UNDONE", actor=None)
                raise _UndoError
        except _UndoError:
            pass
        event_record(subject=subject, type="AFTER", actor=None)
    assert list(events_for_subject(subject).values_list("type", flat=True)) == ["BEFORE", "KEPT", "AFTER"]
    assert [e.type for e in written] == ["BEFORE", "KEPT", "UNDONE", "AFTER"]  # what the block recorded
