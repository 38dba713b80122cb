"""The outcome metrics (DOMAIN.md §5) folded from event rows, against the hand-computed values of the
fixture in ``metric_stories`` (its docstring tells each case's story)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import pytest
import time_machine

from shequ.accounts.tests.factories import division_create
from shequ.cases import metrics
from shequ.cases.metrics import (
    FILL_JOB,
    FILL_NAME,
    case_contribution,
    case_metrics_fill,
    case_metrics_rebuild,
    register_metric_jobs,
)
from shequ.cases.models import CaseMetricDay, CaseMetricMonth, Channel
from shequ.cases.selectors_metrics import indicators, ranking, totals, trend
from shequ.cases.services_intake import case_report
from shequ.cases.services_transitions import (
    case_accept,
    case_check_pass,
    case_check_start,
    case_dispatch,
    case_handle,
    case_self_handle,
)
from shequ.cases.tests.factories import case_world
from shequ.cases.tests.metric_stories import (
    JUNE,
    SH,
    STREET_11,
    World,
    at,
    world_create,
    world_full,
    write_first_half,
    write_second_half,
)
from shequ.core.models import Event, MetricFillState
from shequ.core.ticks import periodic_jobs

pytestmark = pytest.mark.django_db


@pytest.fixture
def world() -> World:
    return world_create()


@pytest.fixture
def full() -> World:
    return world_full()


def table(
    model: type[CaseMetricDay | CaseMetricMonth] = CaseMetricDay,
) -> dict[tuple[Any, ...], dict[str, int]]:
    """Every non-zero row of the daily (or monthly) table."""
    out = {}
    for row in model.objects.all():
        counts = {name: getattr(row, name) for name in metrics.COUNTERS if getattr(row, name)}
        if counts:
            when = row.day if isinstance(row, CaseMetricDay) else row.month
            out[(row.level, row.node, row.category_code, when)] = counts
    return out


def tables() -> tuple[dict[tuple[Any, ...], dict[str, int]], dict[tuple[Any, ...], dict[str, int]]]:
    return table(CaseMetricDay), table(CaseMetricMonth)


def parts(
    level: str, node: str, start: date = JUNE[0], end: date = JUNE[1], category: str | None = None
) -> dict[str, tuple[int, int]]:
    return {
        code: (v.numerator, v.denominator)
        for code, v in indicators(level, node, start, end, category).items()
    }


def test_every_indicator_of_a_street_matches_the_hand_count(full: World) -> None:
    assert case_metrics_fill() == Event.objects.filter(subject_type="cases.case").count()
    assert parts("street", full.tree.street(1, 1).code) == STREET_11


def test_explained_is_not_solved_and_no_response_is_left_out(full: World) -> None:
    case_metrics_fill()
    street = full.tree.street(1, 1).code
    counts = totals("street", street, *JUNE)
    # Case 3 (explained, resident said "solved") is not solved; case 4 (no response) is in neither.
    assert (counts["solved"], counts["not_solved"], counts["explained"], counts["no_response"]) == (
        2,
        1,
        1,
        1,
    )
    category_b = totals("street", street, *JUNE, category=full.b.code)
    assert (category_b["solved"], category_b["not_solved"], category_b["explained"]) == (0, 1, 1)
    # The no-response case still counts as closed (late) in its due cohort.
    committee_2 = totals("committee", full.tree.committee(1, 1, 2).code, *JUNE)
    assert (committee_2["due"], committee_2["due_closed"], committee_2["due_closed_on_time"]) == (1, 1, 0)
    assert committee_2["no_response"] == 1
    solved = indicators("committee", full.tree.committee(1, 1, 2).code, *JUNE)["solved_rate"]
    assert (solved.numerator, solved.denominator, solved.value, solved.percent) == (0, 0, None, "—")


def test_an_extension_moves_the_case_to_its_new_due_day(full: World) -> None:
    case_metrics_fill()
    street = full.tree.street(1, 1).code
    by_day = {point.day: point.due for point in trend("street", street, *JUNE)}
    # Case 3 was due 6-06 and is due 6-12 after the extension; case 2 moved 6-06 → 6-08 → 6-10.
    assert by_day[date(2025, 6, 6)] == 0
    assert by_day[date(2025, 6, 12)] == 1
    due_days = {day.day: n for day, n in by_day.items() if n}
    assert due_days == {5: 1, 7: 1, 8: 1, 9: 1, 10: 1, 12: 1}  # cases 1, 4, 9, 7, 2, 3
    # Case 9 (due 6-04) was reopened with a new deadline 6-08: nothing is due on 6-04 any more.
    assert by_day[date(2025, 6, 4)] == 0
    closed_12 = totals("street", street, date(2025, 6, 12), date(2025, 6, 12))
    assert (closed_12["due"], closed_12["due_closed"], closed_12["due_closed_on_time"]) == (1, 1, 1)
    first_week = parts("street", street, date(2025, 6, 1), date(2025, 6, 7))
    assert first_week["closed_rate"] == (2, 2)  # cases 1 (6-05) and 4 (6-07)
    assert first_week["closed_on_time_rate"] == (1, 2)


def test_city_district_committee_department_and_category_rows(full: World) -> None:
    case_metrics_fill()
    tree = full.tree
    city = totals("city", tree.city.code, *JUNE)
    assert (city["reported"], city["registered"], city["due"], city["due_closed"]) == (9, 7, 7, 5)
    assert (city["solved"], city["not_solved"], city["unsatisfied"]) == (3, 1, 1)
    district_2 = totals("district", tree.district(2).code, *JUNE)
    assert (district_2["reported"], district_2["registered"], district_2["due"]) == (1, 0, 0)
    committee_1 = parts("committee", tree.committee(1, 1, 1).code)
    assert committee_1["closed_rate"] == (3, 5)
    assert committee_1["repeat_rate"] == (0, 5)
    # The branch: cases now in its hands are 1, 2, 3, 7, 9; case 4's first dispatch and its return
    # stay with the branch, its later handling with the street office.
    branch = parts("department", full.branch_node)
    assert branch["closed_rate"] == (3, 5)
    assert branch["return_rate"] == (1, 6)
    assert branch["signed_in_time_rate"] == (3, 6)
    assert branch["rework_rate"] == (1, 6)
    office = parts("department", full.office_node)
    assert (office["closed_rate"], office["signed_in_time_rate"], office["return_rate"]) == (
        (1, 1),
        (1, 1),
        (0, 1),
    )
    # The committee handling case 6 itself: first contact at once, handled and closed late.
    own = parts("department", tree.committee(1, 2, 1).code)
    assert (own["response_rate"], own["handled_on_time_rate"], own["closed_on_time_rate"]) == (
        (1, 1),
        (0, 1),
        (0, 1),
    )
    category_b = parts("street", tree.street(1, 1).code, category=full.b.code)
    assert (category_b["closed_rate"], category_b["extension_rate"]) == ((1, 2), (1, 2))


def test_the_monthly_rows_are_the_daily_rows_summed_by_month(full: World) -> None:
    case_metrics_fill()
    daily = table(CaseMetricDay)
    by_month: dict[tuple[Any, ...], dict[str, int]] = {}
    for (level, node, code, day), counts in daily.items():
        total = by_month.setdefault((level, node, code, day.replace(day=1)), {})
        for name, count in counts.items():
            total[name] = total.get(name, 0) + count
    assert table(CaseMetricMonth) == by_month
    # A period across month ends reads June from the monthly rows and the edges from the daily ones.
    street = full.tree.street(1, 1).code
    across = totals("street", street, date(2025, 5, 20), date(2025, 7, 10))
    assert across == totals("street", street, *JUNE)
    assert (across["due"], across["due_closed"], across["reported"]) == (6, 4, 7)
    partial = totals("street", street, date(2025, 6, 5), date(2025, 7, 31))  # days 5-30, then July
    assert (partial["due"], partial["reported"]) == (6, 1)  # due 6-05 … 6-12; case 7 reported 6-05


def test_a_second_fill_changes_nothing(full: World) -> None:
    case_metrics_fill()
    before = tables()
    assert case_metrics_fill() == 0
    assert tables() == before


def test_filling_in_two_steps_equals_filling_once(world: World) -> None:
    write_first_half(world)
    case_metrics_fill(batch=7)
    halfway = totals("street", world.tree.street(1, 1).code, *JUNE)
    assert (halfway["due"], halfway["due_closed"]) == (5, 2)  # cases 1, 2, 3, 4, 9; 1 and 9 closed
    write_second_half(world)
    case_metrics_fill(batch=7)
    incremental = tables()
    case_metrics_rebuild()
    assert tables() == incremental
    assert parts("street", world.tree.street(1, 1).code) == STREET_11


def test_an_interrupted_fill_resumes_where_it_stopped(full: World, monkeypatch: pytest.MonkeyPatch) -> None:
    case_metrics_fill()
    expected = tables()
    MetricFillState.objects.filter(name=FILL_NAME).update(last_event_id=0)
    CaseMetricDay.objects.all().delete()
    CaseMetricMonth.objects.all().delete()
    real_upsert = metrics.upsert
    calls = {"n": 0}

    def failing(rows: Any, *, table: str = "day") -> None:
        calls["n"] += 1
        if calls["n"] == 6:  # the third batch's monthly rows, after its daily rows
            raise RuntimeError("database went away")
        real_upsert(rows, table=table)

    monkeypatch.setattr(metrics, "upsert", failing)
    with pytest.raises(RuntimeError):
        case_metrics_fill(batch=8)
    cursor = MetricFillState.objects.get(name=FILL_NAME).last_event_id
    ids = list(Event.objects.filter(subject_type="cases.case").order_by("pk").values_list("pk", flat=True))
    assert cursor == ids[15]  # two batches of 8 committed, the third rolled back
    monkeypatch.setattr(metrics, "upsert", real_upsert)
    assert case_metrics_fill(batch=8) == len(ids) - 16
    assert tables() == expected


def test_the_periodic_job_reads_only_settled_events(full: World) -> None:
    register_metric_jobs()
    assert FILL_JOB in {job.name for job in periodic_jobs()}
    total = Event.objects.filter(subject_type="cases.case").count()
    start = datetime(2025, 7, 1, 9, tzinfo=SH)
    assert metrics._run_fill(start) == 0  # first run: marks the newest id, reads nothing yet
    late = full.story(10).reported(20)
    assert metrics._run_fill(start + timedelta(seconds=30)) == 0  # the mark is not settled yet
    assert metrics._run_fill(start + timedelta(minutes=5)) == total  # up to the mark, not case 10
    assert totals("street", full.tree.street(1, 1).code, *JUNE)["reported"] == 7
    assert metrics._run_fill(start + timedelta(minutes=10)) == len(late.events)
    assert totals("street", full.tree.street(1, 1).code, *JUNE)["reported"] == 8


def test_the_upsert_adds_to_existing_rows(world: World) -> None:
    key = ("street", "310101001000", "", date(2025, 6, 1))
    row = [0] * len(metrics.COUNTERS)
    row[metrics.COUNTERS.index("reported")] = 2
    metrics.upsert({key: row})
    metrics.upsert({key: row})
    negative = [0] * len(metrics.COUNTERS)
    negative[metrics.COUNTERS.index("reported")] = -1
    metrics.upsert({key: negative})
    stored = CaseMetricDay.objects.get(
        level="street", node="310101001000", category_code="", day=date(2025, 6, 1)
    )
    assert stored.reported == 3


def test_a_case_contribution_without_place_counts_nothing() -> None:
    assert not case_contribution([("CASE_REPORTED", at(1), {"state": {"new": "reported"}})])


def test_a_sign_without_on_time_falls_back_to_the_sign_deadline() -> None:
    snap = {"category": "E9901", "district": "310101000000", "street": "310101001000", "committee": None,
            "handler": "org:1", "due_at": at(5, 17).isoformat()}  # fmt: skip
    events = [
        ("CASE_REPORTED", at(1), {"snap": {**snap, "handler": None}}),
        ("CASE_REGISTERED", at(1, 11), {"snap": {**snap, "handler": None}}),
        ("CASE_DISPATCHED", at(1, 12), {"snap": snap}),
        ("CASE_ACCEPTED", at(2, 9), {"snap": snap, "sign_due_at": at(1, 17).isoformat()}),
    ]
    out = case_contribution(events)
    keys = {key[0] for key in out}
    assert {"dispatched", "signed", "due"} <= keys
    assert "signed_in_time" not in keys
    assert "responded_in_time" not in keys


def test_cases_closed_with_nobody_to_ask_count_as_closed_and_stay_out_of_the_answers() -> None:
    """Through the services: a patrol finding handled by the committee (handling → closed) and one
    checked on site (checking → closed). Both close on time; neither has an answer, so 解决率 and 满意率
    have nothing to count, and neither is a "no response"."""
    with time_machine.travel(datetime(2026, 3, 2, 9, 30, tzinfo=SH), tick=False) as clock:
        w = case_world()

        def patrol(category: Any) -> Any:
            return case_report(
                actor=w.grid_worker,
                channel=Channel.GRID_PATROL,
                category=category,
                description="巡查发现楼道堆物",
                place=w.compound,
                register=True,
            )

        small = case_self_handle(case=patrol(w.small_matter), actor=w.committee_worker)
        checked = patrol(w.department_work)
        checked = case_accept(
            case=case_dispatch(case=checked, actor=w.dispatcher, org=w.branch), actor=w.handler
        )
        clock.shift(timedelta(hours=1))
        case_handle(case=small, actor=w.committee_worker, result="已清理")
        checked = case_handle(case=checked, actor=w.handler, result="已清运")
        case_check_pass(case=case_check_start(case=checked, actor=w.grid_worker), actor=w.grid_worker)

    case_metrics_fill()
    street = w.tree.street(1, 1).code
    counts = totals("street", street, date(2026, 3, 1), date(2026, 3, 31))
    assert (counts["due"], counts["due_handled"], counts["due_closed"], counts["due_closed_on_time"]) == (
        2,
        2,
        2,
        2,
    )
    answers = ("solved", "not_solved", "no_response", "satisfied", "basically", "unsatisfied")
    assert {name: counts[name] for name in answers} == dict.fromkeys(answers, 0)
    values = indicators("street", street, date(2026, 3, 1), date(2026, 3, 31))
    assert (values["solved_rate"].denominator, values["solved_rate"].value) == (0, None)
    assert (values["satisfaction_rate"].denominator, values["satisfaction_rate"].value) == (0, None)
    closed_on_time = values["closed_on_time_rate"]
    assert (closed_on_time.numerator, closed_on_time.denominator) == (2, 2)


# --- ranking ---------------------------------------------------------------------------------------


def test_ranking_leaves_out_nodes_below_the_minimum_volume(full: World) -> None:
    case_metrics_fill()
    street = full.tree.street(1, 1).code
    ranked = ranking("committee", street, *JUNE, min_volume=2)
    assert [(r.node, r.rank, r.volume) for r in ranked.rows] == [(full.tree.committee(1, 1, 1).code, 1, 5)]
    assert [(r.node, r.volume) for r in ranked.too_small] == [(full.tree.committee(1, 1, 2).code, 1)]
    by_default = ranking("committee", street, *JUNE)  # SHEQU_RANKING_MIN_VOLUME: 30
    assert by_default.min_volume == 30
    assert not by_default.rows
    assert len(by_default.too_small) == 2


def test_ranking_compares_within_volume_bands(world: World, settings: Any) -> None:
    """Ten committees under one street: the nine with enough volume fall into three bands (equal
    volumes always in the same band) and are ranked best first within each band; ties share a rank."""
    settings.SHEQU_RANKING_MIN_VOLUME = 25
    street = world.tree.street(2, 2)
    # committee number: (due, closed)
    volumes = {1: (30, 30), 2: (30, 15), 3: (10, 10), 4: (40, 20), 5: (50, 50), 6: (60, 30),
               7: (100, 90), 8: (200, 100), 9: (300, 150), 10: (40, 10)}  # fmt: skip
    for n, (due, closed) in volumes.items():
        code = f"{street.code[:9]}{100 + n:03d}"
        division_create(code=code, name=f"第{n}居委", level="committee", parent=street)
        counts = [0] * len(metrics.COUNTERS)
        counts[metrics.COUNTERS.index("due")] = due
        counts[metrics.COUNTERS.index("due_closed")] = closed
        rows = {("committee", code, "", date(2025, 6, 10)): counts}
        metrics.upsert(rows)
        metrics.upsert(metrics.month_rows(rows), table="month")
    result = ranking("committee", street.code, *JUNE)
    assert [(b.number, b.low, b.high) for b in result.bands] == [(1, 30, 40), (2, 50, 60), (3, 100, 300)]
    assert [(r.band, r.rank, int(r.node[-3:]) - 100) for r in result.rows] == [
        (1, 1, 1),  # 100%
        (1, 2, 4),  # 50%, the larger volume listed first
        (1, 2, 2),  # 50%
        (1, 4, 10),  # 25% (volume 40 like committee 4: same band)
        (2, 1, 5),
        (2, 2, 6),
        (3, 1, 7),  # 90%
        (3, 2, 9),
        (3, 2, 8),
    ]
    # Committee 3 (volume 10 < 25) and the street's two committees without cases are not ranked.
    assert [r.node for r in result.too_small] == [
        f"{street.code[:9]}103",
        world.tree.committee(2, 2, 1).code,
        world.tree.committee(2, 2, 2).code,
    ]
    single = ranking("committee", street.code, *JUNE, band="none")
    assert {r.band for r in single.rows} == {1}
    assert [r.rank for r in single.rows][:2] == [1, 1]  # committees 1 and 5: both 100%
    lower = ranking("committee", street.code, *JUNE, indicator="return_rate", min_volume=1)
    assert lower.indicator.lower_is_better
    assert not lower.rows  # nothing was dispatched: no volume
    assert not ranking("committee", "999999999999", *JUNE).rows


def test_ranking_of_districts_in_the_city(full: World) -> None:
    case_metrics_fill()
    ranked = ranking("district", full.tree.city.code, *JUNE, indicator="repeat_rate", min_volume=1)
    assert [(r.node, r.value.numerator, r.value.denominator) for r in ranked.rows] == [
        (full.tree.district(2).code, 0, 1),
        (full.tree.district(1).code, 1, 8),
    ]
