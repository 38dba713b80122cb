"""Two transitions on one case cannot both win (issue 4 item 11).

On PostgreSQL each service locks the case row (``SELECT … FOR UPDATE``) before it checks the state
and the version: two real threads race, the loser waits for the winner's commit and is refused with
409 ``invalid_state`` (the state moved on) or ``conflict`` (the version it saw is stale); exactly one
event row is written. SQLite has no row locks: there the version check alone keeps the second writer
out, which the tests at the end show without threads.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection, connections
from django.db.models import F

from shequ.cases import services_transitions
from shequ.cases.models import Case, CaseState
from shequ.cases.services_transitions import (
    case_accept,
    case_dispatch,
    case_merge,
    case_register,
    case_return_request,
    case_verify,
)
from shequ.cases.tests.factories import CaseWorld, case_world
from shequ.core.errors import ApiError
from shequ.core.models import Event

SH = ZoneInfo("Asia/Shanghai")

on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="row locks and concurrent writers need PostgreSQL"
)
# How long the winner holds the row lock after taking it: long enough that the other thread is
# certainly waiting on the lock rather than arriving after the commit.
HOLD_SECONDS = 0.3


@pytest.fixture
def clock() -> Iterator[time_machine.Coordinates]:
    with time_machine.travel(datetime(2026, 3, 2, 10, 0, tzinfo=SH), tick=True) as traveller:
        yield traveller


@pytest.fixture
def slow_writes(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Make every transition pause inside its transaction, holding the row lock, just before it
    writes its event row. Returns the instants at which event rows were written."""
    written: list[float] = []
    real = services_transitions.record

    def record(*args: Any, **kwargs: Any) -> None:
        time.sleep(HOLD_SECONDS)
        real(*args, **kwargs)
        written.append(time.monotonic())

    monkeypatch.setattr(services_transitions, "record", record)
    return written


def race(*calls: Callable[[], Case]) -> list[Case | BaseException]:
    """Run ``calls`` in real threads started together; each thread has its own connection."""
    barrier = threading.Barrier(len(calls))
    outcomes: list[Case | BaseException | None] = [None] * len(calls)

    def run(index: int, call: Callable[[], Case]) -> None:
        try:
            barrier.wait(timeout=10)
            outcomes[index] = call()
        except BaseException as exc:  # handed back to the test
            outcomes[index] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in threads)
    return [outcome for outcome in outcomes if outcome is not None]


def one_winner(outcomes: list[Case | BaseException], codes: set[str]) -> tuple[int, ApiError]:
    assert len(outcomes) == 2
    won = [i for i, outcome in enumerate(outcomes) if isinstance(outcome, Case)]
    lost = [outcome for outcome in outcomes if not isinstance(outcome, Case)]
    assert len(won) == 1, outcomes
    assert len(lost) == 1
    error = lost[0]
    assert isinstance(error, ApiError), repr(error)
    assert error.http_status == 409
    assert error.code in codes
    return won[0], error


def rows(case: Case, *types: str) -> list[Event]:
    return list(Event.objects.filter(subject_type="cases.case", subject_id=str(case.pk), type__in=types))


def dispatched(w: CaseWorld) -> Case:
    case = case_register(case=w.report(), actor=w.dispatcher)
    return case_dispatch(case=case, actor=w.dispatcher, org=w.branch)


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_accept_and_return_request_cannot_both_win(clock: Any, slow_writes: list[float]) -> None:
    w = case_world()
    case = dispatched(w)
    slow_writes.clear()
    outcomes = race(
        lambda: case_accept(case=Case.objects.get(pk=case.pk), actor=w.handler),
        lambda: case_return_request(
            case=Case.objects.get(pk=case.pk), actor=w.department_head, grounds="非本单位职责"
        ),
    )
    winner, error = one_winner(outcomes, {"invalid_state", "conflict"})
    assert error.code == "invalid_state"  # the loser waited for the lock, then saw the new state
    case.refresh_from_db()
    assert case.state == (CaseState.HANDLING if winner == 0 else CaseState.RETURN_REQUESTED)
    assert len(rows(case, "CASE_ACCEPTED", "CASE_RETURN_REQUESTED")) == 1
    assert len(slow_writes) == 1
    assert case.version == 4  # reported 1, registered 2, dispatched 3, and one of the two


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_two_dispatchers_dispatching_at_once(clock: Any, slow_writes: list[float]) -> None:
    w = case_world()
    case = case_register(case=w.report(), actor=w.dispatcher)
    seen = case.version
    outcomes = race(
        lambda: case_dispatch(case=case, actor=w.dispatcher, org=w.branch, expected_version=seen),
        lambda: case_dispatch(
            case=case, actor=w.street_officer, org=w.property_company, expected_version=seen
        ),
    )
    winner, error = one_winner(outcomes, {"conflict", "invalid_state"})
    assert error.code == "conflict"  # the version the loser saw is gone
    case.refresh_from_db()
    assert case.handler_org == (w.branch if winner == 0 else w.property_company)
    dispatched_rows = rows(case, "CASE_DISPATCHED")
    assert len(dispatched_rows) == 1
    assert dispatched_rows[0].data["snap"]["handler"] == f"org:{case.handler_org_id}"
    assert case.version == seen + 1


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_the_same_transition_twice_at_once_happens_once(clock: Any) -> None:
    """Without any help to the race: two double-clicks on 签收 at the same instant, several times."""
    w = case_world()
    for _round in range(5):
        case = dispatched(w)
        outcomes = race(
            lambda case=case: case_accept(case=case, actor=w.handler),
            lambda case=case: case_accept(case=case, actor=w.handler),
        )
        one_winner(outcomes, {"invalid_state", "conflict"})
        assert len(rows(case, "CASE_ACCEPTED")) == 1


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_merging_a_pair_both_ways_at_once(clock: Any) -> None:
    """Each merge locks both cases: the lower id first, so the two wait instead of deadlocking."""
    w = case_world()
    for _round in range(3):
        first = w.report(description="小区门口垃圾堆放")
        second = w.report(actor=w.other_resident, description="小区门口垃圾没人清理")
        outcomes = race(
            lambda first=first, second=second: case_merge(case=first, master=second, actor=w.dispatcher),
            lambda first=first, second=second: case_merge(case=second, master=first, actor=w.street_officer),
        )
        winner, _error = one_winner(outcomes, {"invalid_state"})
        merged, master = (first, second) if winner == 0 else (second, first)
        merged.refresh_from_db()
        master.refresh_from_db()
        assert (merged.state, merged.master_id) == (CaseState.MERGED, master.pk)
        assert (master.state, master.master_id) == (CaseState.REPORTED, None)
        assert len(rows(merged, "CASE_MERGED")) == 1
        assert rows(master, "CASE_MERGED") == []


# --- the version check (every database, no threads) -----------------------------------------------


@pytest.mark.django_db
def test_a_stale_expected_version_is_refused(clock: Any) -> None:
    w = case_world()
    case = w.report()
    seen = case.version
    case_verify(case=case, actor=w.committee_worker, expected_version=seen)
    with pytest.raises(ApiError) as caught:
        case_register(case=case, actor=w.dispatcher, expected_version=seen)
    assert (caught.value.http_status, caught.value.code, caught.value.field) == (409, "conflict", "version")
    case.refresh_from_db()
    assert (case.state, case.version) == (CaseState.VERIFYING, seen + 1)
    assert rows(case, "CASE_REGISTERED") == []
    # With the version it now has, it goes through.
    case = case_register(case=case, actor=w.dispatcher, expected_version=seen + 1)
    assert case.state == CaseState.REGISTERED


@pytest.mark.django_db
def test_a_write_between_the_read_and_the_save_is_refused(
    clock: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What keeps SQLite (no row locks) safe: the save only lands on the version that was read."""
    w = case_world()
    case = dispatched(w)
    real_guard = services_transitions.guard

    def guard_then_someone_else_writes(locked: Case, name: str, actor: Any) -> None:
        real_guard(locked, name, actor)
        Case.objects.filter(pk=locked.pk).update(version=F("version") + 1)

    monkeypatch.setattr(services_transitions, "guard", guard_then_someone_else_writes)
    with pytest.raises(ApiError) as caught:
        case_accept(case=case, actor=w.handler)
    assert (caught.value.http_status, caught.value.code) == (409, "conflict")
    case.refresh_from_db()
    assert case.state == CaseState.DISPATCHED
    assert rows(case, "CASE_ACCEPTED") == []
