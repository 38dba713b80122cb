"""One case through every transition of the state machine (DOMAIN.md §5), and every exception path.

Each transition must write exactly one event row of its type (plus the closing row where a path ends
in 结案), carrying the old and new state and the snapshot the metrics job folds into its tables:
category, district, street, committee, handler (``org:<id>`` or a division code) and the handling
deadline. The expected values are written out here, by hand, from the fixture and the frozen clock.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

from shequ.accounts.models import User
from shequ.cases.models import Case, CaseState, CaseSubscription, CaseUpdate, Channel, Feedback, Outcome
from shequ.cases.services_intake import case_follow, case_report
from shequ.cases.services_transitions import (
    case_accept,
    case_check_fail,
    case_check_pass,
    case_check_start,
    case_close,
    case_confirm,
    case_dispatch,
    case_extension_grant,
    case_extension_refuse,
    case_extension_request,
    case_handle,
    case_merge,
    case_petition_link,
    case_redispatch,
    case_redo,
    case_register,
    case_reject,
    case_reopen,
    case_reroute,
    case_resume,
    case_return_refuse,
    case_return_request,
    case_self_handle,
    case_supervise,
    case_suspend,
    case_verify,
)
from shequ.cases.tests.factories import CaseWorld, case_world
from shequ.core.errors import ApiError
from shequ.core.models import Deadline, DeadlineState, Event, Notification, Supervision

pytestmark = pytest.mark.django_db

SH = ZoneInfo("Asia/Shanghai")
# Monday 2 March 2026, an ordinary working week (no holiday or adjusted day until April).
START = datetime(2026, 3, 2, 9, 30, tzinfo=SH)


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=SH)


@pytest.fixture
def world(settings: Any, tmp_path: Any) -> CaseWorld:
    settings.MEDIA_ROOT = str(tmp_path)
    return case_world()


@pytest.fixture
def clock() -> Iterator[time_machine.Coordinates]:
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


# --- reading what a transition wrote --------------------------------------------------------------


def case_events(case: Case, *, after: int = 0) -> list[Event]:
    """The case's own event rows (the timers' DEADLINE_* rows on the same subject left aside)."""
    return list(
        Event.objects.filter(subject_type="cases.case", subject_id=str(case.pk), pk__gt=after)
        .exclude(type__startswith="DEADLINE_")
        .order_by("pk")
    )


def last_event_pk() -> int:
    return Event.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def act(service: Callable[..., Case], case: Case, **kwargs: Any) -> tuple[Case, list[Event]]:
    """Run one transition service; return the case as stored and the case's new event rows. The
    version goes up by one for every row the service changed the case in."""
    before = last_event_pk()
    result = service(case=case, **kwargs)
    stored = Case.objects.select_related("handler_division").get(pk=case.pk)
    assert result.state == stored.state
    assert result.version == stored.version
    return stored, case_events(case, after=before)


def handler_of(case: Case) -> str | None:
    if case.handler_org_id is not None:
        return f"org:{case.handler_org_id}"
    return case.handler_division.code if case.handler_division_id else None


def check_event(
    event: Event,
    *,
    type_: str,
    old: str | None,
    new: str,
    actor: User | None,
    world: CaseWorld,
    case: Case,
    category: str | None = None,
    handler: str | None = None,
    due_at: datetime | None = None,
) -> None:
    """The row is of ``type_``, moves ``old`` → ``new``, names the actor and carries the snapshot."""
    assert event.type == type_
    assert event.data["state"] == {"old": old, "new": new}
    assert event.actor_id == (actor.pk if actor is not None else None)
    assert event.scope_path == case.path
    snap = event.data["snap"]
    assert snap["category"] == (category or world.department_work.code)
    assert snap["district"] == world.tree.district(1).code
    assert snap["street"] == world.tree.street(1, 1).code
    assert snap["committee"] == world.tree.committee(1, 1, 1).code
    assert snap["handler"] == handler
    if due_at is None:
        assert snap["due_at"] is None
    else:
        assert datetime.fromisoformat(snap["due_at"]) == due_at


def open_timer(case: Case, kind: str) -> Deadline | None:
    return Deadline.objects.filter(
        subject_type="cases.case",
        subject_id=str(case.pk),
        kind=kind,
        state__in=[DeadlineState.RUNNING, DeadlineState.PAUSED],
    ).first()


def told(user: User, kind: str, case: Case) -> int:
    return Notification.objects.filter(
        recipient=user, channel="in_app", kind=kind, subject_type="cases.case", subject_id=str(case.pk)
    ).count()


def jpeg(name: str = "after.jpg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, b"\xff\xd8\xff\xe0fake-jpeg", content_type="image/jpeg")


# --- the walk -------------------------------------------------------------------------------------


def test_one_case_walks_through_every_transition(world: CaseWorld, clock: time_machine.Coordinates) -> None:
    w = world
    branch = f"org:{w.branch.pk}"
    company = f"org:{w.property_company.pk}"

    # 受理: the resident's report. Routing only suggests (the 城管 branch of the district).
    case = w.report()
    events = case_events(case)
    assert len(events) == 1
    check_event(
        events[0], type_="CASE_REPORTED", old=None, new="reported", actor=w.resident, world=w, case=case
    )
    assert events[0].data["channel"] == Channel.RESIDENT_WEB
    assert events[0].data["suggested_handler"] == branch
    assert case.number.startswith("SQ20260302")
    assert case.version == 1
    assert case.path == w.tree.committee(1, 1, 1).path
    assert case.grid_id == w.tree.grid.pk
    assert CaseSubscription.objects.get(case=case).user == w.resident
    assert told(w.resident, "case_reported", case) == 1
    registration = open_timer(case, "case_registration")
    assert registration is not None
    assert registration.due_at == at(2026, 3, 2, 11, 30)  # 2 工作时

    # 核实 by the committee worker.
    clock.shift(timedelta(minutes=10))
    case, events = act(case_verify, case, actor=w.committee_worker, note="去现场看一下")
    assert [e.type for e in events] == ["CASE_VERIFICATION_STARTED"]
    check_event(
        events[0],
        type_=events[0].type,
        old="reported",
        new="verifying",
        actor=w.committee_worker,
        world=w,
        case=case,
    )
    assert case.version == 2

    # 立案 by the dispatcher at 09:50: handling 1 工作日 → Tuesday 09:50; dispatch 1 工作时.
    clock.shift(timedelta(minutes=10))
    case, events = act(case_register, case, actor=w.dispatcher)
    assert [e.type for e in events] == ["CASE_REGISTERED"]
    handling_due = at(2026, 3, 3, 9, 50)
    check_event(
        events[0],
        type_="CASE_REGISTERED",
        old="verifying",
        new="registered",
        actor=w.dispatcher,
        world=w,
        case=case,
        due_at=handling_due,
    )
    assert case.registered_at == at(2026, 3, 2, 9, 50)
    assert case.due_at == handling_due
    registration.refresh_from_db()
    assert registration.state == DeadlineState.MET
    assert open_timer(case, "case_dispatch").due_at == at(2026, 3, 2, 10, 50)
    assert open_timer(case, "case_handling").due_at == handling_due
    assert told(w.resident, "case_registered", case) == 1

    # 派遣 without naming a unit: the routing rules choose the district's 城管 branch.
    clock.shift(timedelta(minutes=10))
    case, events = act(case_dispatch, case, actor=w.dispatcher, note="请尽快处置")
    assert [e.type for e in events] == ["CASE_DISPATCHED"]
    check_event(
        events[0],
        type_="CASE_DISPATCHED",
        old="registered",
        new="dispatched",
        actor=w.dispatcher,
        world=w,
        case=case,
        handler=branch,
        due_at=handling_due,
    )
    assert events[0].data["note"] == "请尽快处置"
    assert case.handler_org == w.branch
    assert case.dispatched_at == at(2026, 3, 2, 10, 0)
    assert open_timer(case, "case_dispatch") is None
    assert open_timer(case, "case_sign_for").due_at == at(2026, 3, 2, 12, 0)
    assert told(w.handler, "case_dispatched", case) == 1
    assert told(w.department_head, "case_dispatched", case) == 1

    # 退单: the branch disputes with grounds.
    clock.shift(timedelta(minutes=10))
    case, events = act(case_return_request, case, actor=w.handler, grounds="垃圾堆在小区内，属物业管理范围")
    assert [e.type for e in events] == ["CASE_RETURN_REQUESTED"]
    check_event(
        events[0],
        type_=events[0].type,
        old="dispatched",
        new="return_requested",
        actor=w.handler,
        world=w,
        case=case,
        handler=branch,
        due_at=handling_due,
    )
    assert events[0].data["grounds"] == "垃圾堆在小区内，属物业管理范围"

    # 改派: the centre agrees and sends it to the compound's property company (counts as 回退).
    clock.shift(timedelta(minutes=10))
    case, events = act(case_redispatch, case, actor=w.dispatcher, org=w.property_company)
    assert [e.type for e in events] == ["CASE_REDISPATCHED"]
    check_event(
        events[0],
        type_=events[0].type,
        old="return_requested",
        new="dispatched",
        actor=w.dispatcher,
        world=w,
        case=case,
        handler=company,
        due_at=handling_due,
    )
    assert events[0].data["returned"] is True
    assert case.return_count == 1
    assert case.handler_org == w.property_company
    # A fresh sign-for timer from 10:20: 1 h 40 before lunch, the last 20 minutes after it.
    assert open_timer(case, "case_sign_for").due_at == at(2026, 3, 2, 13, 20)
    assert told(w.property_manager, "case_dispatched", case) == 1

    # 签收 by the property manager, in time.
    clock.shift(timedelta(minutes=10))
    case, events = act(case_accept, case, actor=w.property_manager)
    assert [e.type for e in events] == ["CASE_ACCEPTED"]
    check_event(
        events[0],
        type_=events[0].type,
        old="dispatched",
        new="handling",
        actor=w.property_manager,
        world=w,
        case=case,
        handler=company,
        due_at=handling_due,
    )
    assert events[0].data["on_time"] is True
    assert case.accepted_at == case.first_response_at == at(2026, 3, 2, 10, 30)
    assert told(w.resident, "case_accepted", case) == 1

    # 延期 requested (1 工作日) and granted: the handling deadline moves a working day.
    clock.shift(timedelta(minutes=10))
    case, events = act(
        case_extension_request, case, actor=w.property_manager, amount=1, reason="需协调清运车辆"
    )
    assert [e.type for e in events] == ["CASE_EXTENSION_REQUESTED"]
    check_event(
        events[0],
        type_=events[0].type,
        old="handling",
        new="extension_requested",
        actor=w.property_manager,
        world=w,
        case=case,
        handler=company,
        due_at=handling_due,
    )
    assert events[0].data["amount"] == "1"
    clock.shift(timedelta(minutes=10))
    case, events = act(case_extension_grant, case, actor=w.dispatcher)
    assert [e.type for e in events] == ["CASE_EXTENSION_GRANTED"]
    extended_due = at(2026, 3, 4, 9, 50)
    check_event(
        events[0],
        type_=events[0].type,
        old="extension_requested",
        new="handling",
        actor=w.dispatcher,
        world=w,
        case=case,
        handler=company,
        due_at=extended_due,
    )
    assert events[0].data["reason"] == "需协调清运车辆"
    assert case.extension_count == 1
    assert case.due_at == extended_due
    assert open_timer(case, "case_handling").due_at == extended_due
    extended = Notification.objects.get(recipient=w.resident, kind="case_extended", channel="in_app")
    assert extended.body == "需协调清运车辆"  # the reason is shown to the resident

    # 督办 by hand (the street officer): the level rises, the unit is told; state unchanged.
    clock.shift(timedelta(minutes=10))
    case, events = act(case_supervise, case, actor=w.street_officer, level="ordinary", reason="群众反映强烈")
    assert [e.type for e in events] == ["CASE_SUPERVISED"]
    check_event(
        events[0],
        type_=events[0].type,
        old="handling",
        new="handling",
        actor=w.street_officer,
        world=w,
        case=case,
        handler=company,
        due_at=extended_due,
    )
    assert case.supervision_level == "ordinary"
    supervision = Supervision.objects.get(subject_id=str(case.pk))
    assert (supervision.level, supervision.target, supervision.automatic) == ("ordinary", company, False)
    assert told(w.property_manager, "case_supervised", case) == 1

    # 信访: a petition on the same matter is linked by its number; the case is flagged, state unchanged.
    case, events = act(case_petition_link, case, actor=w.dispatcher, petition_ref="XF-2026-000321")
    assert [e.type for e in events] == ["CASE_PETITION_LINKED"]
    assert events[0].data["petition"] == "XF-2026-000321"
    assert events[0].data["state"] == {"old": "handling", "new": "handling"}
    assert case.petition_ref == "XF-2026-000321"

    # 挂账 at 11:10 until Wednesday; the handling clock stops.
    clock.shift(timedelta(minutes=10))
    case, events = act(
        case_suspend, case, actor=w.dispatcher, reason="等待业主大会决议", review_on=date(2026, 3, 4)
    )
    assert [e.type for e in events] == ["CASE_SUSPENDED"]
    check_event(
        events[0],
        type_=events[0].type,
        old="handling",
        new="suspended",
        actor=w.dispatcher,
        world=w,
        case=case,
        handler=company,
        due_at=extended_due,
    )
    assert events[0].data["review_on"] == "2026-03-04"
    assert open_timer(case, "case_handling").state == DeadlineState.PAUSED
    assert case.suspend_review_on == date(2026, 3, 4)

    # 恢复 on Wednesday 09:00 by the unit. 46 h 40 min of working-day time were left at 11:10 on
    # Monday (to Wednesday 09:50): due Friday 07:40.
    clock.move_to(at(2026, 3, 4, 9, 0))
    case, events = act(case_resume, case, actor=w.property_manager)
    resumed_due = at(2026, 3, 6, 7, 40)
    assert [e.type for e in events] == ["CASE_RESUMED"]
    check_event(
        events[0],
        type_=events[0].type,
        old="suspended",
        new="handling",
        actor=w.property_manager,
        world=w,
        case=case,
        handler=company,
        due_at=resumed_due,
    )
    assert case.due_at == resumed_due
    assert case.suspend_review_on is None

    # 处置 with evidence: the category needs an on-site check.
    clock.shift(timedelta(minutes=10))
    case, events = act(case_handle, case, actor=w.property_manager, result="已清运", evidence=[jpeg()])
    assert [e.type for e in events] == ["CASE_HANDLED"]
    check_event(
        events[0],
        type_=events[0].type,
        old="handling",
        new="handled",
        actor=w.property_manager,
        world=w,
        case=case,
        handler=company,
        due_at=resumed_due,
    )
    assert events[0].data == {
        **events[0].data,
        "outcome": "resolved",
        "on_time": True,
        "rework": False,
        "evidence": 1,
    }
    assert case.attachments.filter(stage="handling").count() == 1
    assert open_timer(case, "case_handling") is None
    assert open_timer(case, "case_check").due_at == at(2026, 3, 5, 9, 10)

    # 核查 by the grid worker fails: 返工 with a fresh handling deadline.
    clock.shift(timedelta(minutes=10))
    case, events = act(case_check_start, case, actor=w.grid_worker)
    assert [e.type for e in events] == ["CASE_CHECK_STARTED"]
    check_event(
        events[0],
        type_=events[0].type,
        old="handled",
        new="checking",
        actor=w.grid_worker,
        world=w,
        case=case,
        handler=company,
        due_at=resumed_due,
    )
    clock.shift(timedelta(minutes=10))
    case, events = act(case_check_fail, case, actor=w.grid_worker, reason="仍有残留垃圾")
    rework_due = at(2026, 3, 5, 9, 30)
    assert [e.type for e in events] == ["CASE_REWORK_ORDERED"]
    check_event(
        events[0],
        type_=events[0].type,
        old="checking",
        new="handling",
        actor=w.grid_worker,
        world=w,
        case=case,
        handler=company,
        due_at=rework_due,
    )
    assert events[0].data["reason"] == "仍有残留垃圾"
    assert case.rework_count == 1
    assert told(w.property_manager, "case_rework", case) == 1

    # Handled again (a rework), checked by the dispatcher, passed: the resident is asked.
    clock.shift(timedelta(minutes=10))
    case, events = act(case_handle, case, actor=w.property_manager, result="已彻底清理")
    assert events[0].data["rework"] is True
    clock.shift(timedelta(minutes=10))
    case, events = act(case_check_start, case, actor=w.dispatcher)
    clock.shift(timedelta(minutes=10))
    case, events = act(case_check_pass, case, actor=w.dispatcher, note="现场已清理干净")
    assert [e.type for e in events] == ["CASE_CHECK_PASSED"]
    check_event(
        events[0],
        type_=events[0].type,
        old="checking",
        new="confirming",
        actor=w.dispatcher,
        world=w,
        case=case,
        handler=company,
        due_at=rework_due,
    )
    asked = Notification.objects.get(recipient=w.resident, kind="case_confirm", channel="in_app")
    token = CaseSubscription.objects.get(case=case, user=w.resident).token
    assert token in asked.link  # answerable from the link, without signing in
    assert open_timer(case, "case_confirmation").due_at == at(2026, 3, 9, 10, 0)  # 3 工作日 over a weekend

    # "Not solved": the case waits for the centre, which orders 重办.
    clock.shift(timedelta(minutes=10))
    case, events = act(
        case_confirm,
        case,
        actor=w.resident,
        solved=False,
        feedback=Feedback.UNSATISFIED,
        comment="还是有味道",
    )
    assert [e.type for e in events] == ["CASE_CONFIRMED"]
    check_event(
        events[0],
        type_=events[0].type,
        old="confirming",
        new="confirming",
        actor=w.resident,
        world=w,
        case=case,
        handler=company,
        due_at=rework_due,
    )
    assert events[0].data["solved"] is False
    assert events[0].data["via_token"] is False
    assert (case.state, case.resident_solved, case.feedback) == ("confirming", False, "unsatisfied")
    clock.shift(timedelta(minutes=10))
    case, events = act(case_redo, case, actor=w.dispatcher, reason="居民反映仍有异味")
    redo_due = at(2026, 3, 5, 10, 20)
    assert [e.type for e in events] == ["CASE_REDO_ORDERED"]
    check_event(
        events[0],
        type_=events[0].type,
        old="confirming",
        new="handling",
        actor=w.dispatcher,
        world=w,
        case=case,
        handler=company,
        due_at=redo_due,
    )
    assert (case.redo_count, case.resident_solved, case.feedback) == (1, None, "")
    assert told(w.property_manager, "case_redo", case) == 1

    # Handled, checked, and this time the resident says solved and satisfied: 结案.
    clock.shift(timedelta(minutes=10))
    case, _e = act(case_handle, case, actor=w.property_manager, result="已消杀除味")
    clock.shift(timedelta(minutes=10))
    case, _e = act(case_check_start, case, actor=w.grid_worker)
    clock.shift(timedelta(minutes=10))
    case, _e = act(case_check_pass, case, actor=w.grid_worker)
    clock.shift(timedelta(minutes=10))
    case, events = act(case_confirm, case, actor=w.resident, solved=True, feedback=Feedback.SATISFIED)
    assert [e.type for e in events] == ["CASE_CONFIRMED", "CASE_CLOSED"]
    closed_at = at(2026, 3, 4, 11, 0)
    check_event(
        events[1],
        type_="CASE_CLOSED",
        old="confirming",
        new="closed",
        actor=w.resident,
        world=w,
        case=case,
        handler=company,
        due_at=redo_due,
    )
    assert events[1].data["reason"] == "confirmed"
    assert events[1].data["resident_solved"] is True
    assert events[1].data["feedback"] == "satisfied"
    assert events[1].data["outcome"] == "resolved"
    assert (case.state, case.closed_at, case.outcome) == ("closed", closed_at, "resolved")
    assert told(w.resident, "case_closed", case) == 1
    assert not Deadline.objects.filter(
        subject_id=str(case.pk), state__in=[DeadlineState.RUNNING, DeadlineState.PAUSED]
    ).exists()

    # Reopened by the resident three days later (inside the 7-day window): back to the same unit.
    clock.move_to(at(2026, 3, 7, 11, 0))
    case, events = act(case_reopen, case, actor=w.resident, reason="垃圾又堆起来了")
    reopen_due = at(2026, 3, 10, 0, 0)  # a Saturday start counts from Monday 00:00
    assert [e.type for e in events] == ["CASE_REOPENED"]
    check_event(
        events[0],
        type_=events[0].type,
        old="closed",
        new="handling",
        actor=w.resident,
        world=w,
        case=case,
        handler=company,
        due_at=reopen_due,
    )
    assert (case.reopen_count, case.closed_at, case.resident_solved) == (1, None, None)
    assert told(w.property_manager, "case_reopened", case) == 1

    # … handled, checked, and confirmed solved from the link by someone without an account.
    clock.move_to(at(2026, 3, 9, 10, 0))
    case, _e = act(case_handle, case, actor=w.property_manager, result="已设置垃圾临时堆放点")
    case, _e = act(case_check_start, case, actor=w.grid_worker)
    case, _e = act(case_check_pass, case, actor=w.grid_worker)
    case, events = act(case_confirm, case, actor=None, token=token, solved=True, feedback=Feedback.BASICALLY)
    assert [e.type for e in events] == ["CASE_CONFIRMED", "CASE_CLOSED"]
    assert events[0].actor_id is None
    assert events[0].data["via_token"] is True
    assert case.state == CaseState.CLOSED

    # The whole timeline: one row per transition, in order.
    assert [e.type for e in case_events(case)] == [
        "CASE_REPORTED",
        "CASE_VERIFICATION_STARTED",
        "CASE_REGISTERED",
        "CASE_DISPATCHED",
        "CASE_RETURN_REQUESTED",
        "CASE_REDISPATCHED",
        "CASE_ACCEPTED",
        "CASE_EXTENSION_REQUESTED",
        "CASE_EXTENSION_GRANTED",
        "CASE_SUPERVISED",
        "CASE_PETITION_LINKED",
        "CASE_SUSPENDED",
        "CASE_RESUMED",
        "CASE_HANDLED",
        "CASE_CHECK_STARTED",
        "CASE_REWORK_ORDERED",
        "CASE_HANDLED",
        "CASE_CHECK_STARTED",
        "CASE_CHECK_PASSED",
        "CASE_CONFIRMED",
        "CASE_REDO_ORDERED",
        "CASE_HANDLED",
        "CASE_CHECK_STARTED",
        "CASE_CHECK_PASSED",
        "CASE_CONFIRMED",
        "CASE_CLOSED",
        "CASE_REOPENED",
        "CASE_HANDLED",
        "CASE_CHECK_STARTED",
        "CASE_CHECK_PASSED",
        "CASE_CONFIRMED",
        "CASE_CLOSED",
    ]
    # Every row after the report came with one change of the case row, each bumping its version.
    assert case.version == 32


# --- exception paths ------------------------------------------------------------------------------


def registered(w: CaseWorld, **kwargs: Any) -> Case:
    case = w.report(**kwargs)
    return case_register(case=case, actor=w.dispatcher)


def dispatched(w: CaseWorld, **kwargs: Any) -> Case:
    return case_dispatch(case=registered(w, **kwargs), actor=w.dispatcher, org=w.branch)


def handling(w: CaseWorld, **kwargs: Any) -> Case:
    return case_accept(case=dispatched(w, **kwargs), actor=w.handler)


def confirming(w: CaseWorld, **kwargs: Any) -> Case:
    case = case_handle(case=handling(w, **kwargs), actor=w.handler, result="已清理")
    case = case_check_start(case=case, actor=w.grid_worker)
    return case_check_pass(case=case, actor=w.grid_worker)


def refused(call: Callable[[], Any]) -> ApiError:
    with pytest.raises(ApiError) as caught:
        call()
    return caught.value


def test_reject_tells_the_reporter_the_legal_route(world: CaseWorld, clock: Any) -> None:
    w = world
    case = w.report(description="房东拒不退还押金，要求平台处理")
    clock.shift(timedelta(minutes=5))
    case, events = act(
        case_reject,
        case,
        actor=w.dispatcher,
        reason="属民事合同纠纷，不属于城市管理事项",
        route="可向人民法院提起民事诉讼，或申请人民调解",
        outcome=Outcome.NOT_RESPONSIBLE,
    )
    assert [e.type for e in events] == ["CASE_REJECTED"]
    check_event(
        events[0],
        type_="CASE_REJECTED",
        old="reported",
        new="rejected",
        actor=w.dispatcher,
        world=w,
        case=case,
    )
    assert events[0].data["route"] == "可向人民法院提起民事诉讼，或申请人民调解"
    assert events[0].data["outcome"] == "not_responsible"
    assert (case.state, case.outcome) == ("rejected", "not_responsible")
    assert case.redirect_route == "可向人民法院提起民事诉讼，或申请人民调解"
    assert case.closed_at == START + timedelta(minutes=5)
    told_row = Notification.objects.get(recipient=w.resident, kind="case_rejected", channel="in_app")
    assert "人民法院" in told_row.body
    # The registration timer stops; nothing else can happen to the case.
    assert open_timer(case, "case_registration") is None
    error = refused(lambda: case_register(case=case, actor=w.dispatcher))
    assert (error.http_status, error.code) == (409, "invalid_state")
    # A reason is required, and "rejected" is only invalid or not-responsible.
    other = w.report(description="另一件事")
    assert refused(lambda: case_reject(case=other, actor=w.dispatcher, reason=" ")).code == "required"
    error = refused(
        lambda: case_reject(case=other, actor=w.dispatcher, reason="理由", outcome=Outcome.RESOLVED)
    )
    assert error.field == "outcome"
    assert case_events(other)[-1].type == "CASE_REPORTED"


def test_merge_moves_every_follower_to_the_master_and_tells_them(world: CaseWorld, clock: Any) -> None:
    w = world
    master = w.report()
    clock.shift(timedelta(minutes=5))
    duplicate = w.report(actor=w.other_resident, description="小区门口的垃圾好几天没人清了", contact_phone="")
    walk_in = case_report(
        actor=w.committee_worker,
        channel=Channel.COUNTER,
        category=w.department_work,
        description="门口垃圾没人清理",
        place=w.compound,
        contact_phone="13900001111",
    )
    clock.shift(timedelta(minutes=5))
    duplicate, events = act(case_merge, duplicate, actor=w.dispatcher, master=master)
    assert [e.type for e in events] == ["CASE_MERGED"]
    check_event(
        events[0],
        type_="CASE_MERGED",
        old="reported",
        new="merged",
        actor=w.dispatcher,
        world=w,
        case=duplicate,
    )
    assert events[0].data["master"] == master.number
    assert events[0].data["followers"] == 1
    assert (duplicate.master_id, duplicate.outcome) == (master.pk, "duplicate")
    assert told(w.other_resident, "case_merged", duplicate) == 1
    walk_in, _e = act(case_merge, walk_in, actor=w.dispatcher, master=master)
    sms = Notification.objects.get(address="13900001111", kind="case_merged", channel="sms")
    assert master.number in sms.title

    followers = CaseSubscription.objects.filter(case=master)
    assert {(s.user_id, s.phone, s.via_case_id) for s in followers} == {
        (w.resident.pk, "13812345678", None),
        (w.other_resident.pk, "", duplicate.pk),
        (None, "13900001111", walk_in.pk),
    }
    # From now on the master's news reaches all three.
    clock.shift(timedelta(minutes=5))
    case_register(case=master, actor=w.dispatcher)
    assert told(w.resident, "case_registered", master) == 1
    assert told(w.other_resident, "case_registered", master) == 1
    assert Notification.objects.filter(address="13900001111", kind="case_registered").count() == 1
    # The duplicate's clock stopped; it cannot be merged twice, nor into a closed case, nor into itself.
    assert open_timer(duplicate, "case_registration") is None
    third = w.report(description="第三次反映")
    assert (
        refused(lambda: case_merge(case=duplicate, actor=w.dispatcher, master=master)).code == "invalid_state"
    )
    assert (
        refused(lambda: case_merge(case=third, actor=w.dispatcher, master=duplicate)).code == "invalid_state"
    )
    assert refused(lambda: case_merge(case=third, actor=w.dispatcher, master=third)).field == "master"


def test_merge_carries_a_petition_link_to_the_master(world: CaseWorld, clock: Any) -> None:
    """One matter is not handled twice: the master is flagged with the duplicate's petition."""
    w = world
    master = w.report()
    duplicate = w.report(actor=w.other_resident, description="门口垃圾问题已向信访办反映")
    Case.objects.filter(pk=duplicate.pk).update(petition_ref="XF-2026-000123")
    duplicate.refresh_from_db()
    clock.shift(timedelta(minutes=5))
    duplicate, events = act(case_merge, duplicate, actor=w.dispatcher, master=master)
    assert [e.type for e in events] == ["CASE_MERGED"]
    master.refresh_from_db()
    assert (master.petition_ref, master.version) == ("XF-2026-000123", 2)
    linked = case_events(master)[-1]
    assert linked.type == "CASE_PETITION_LINKED"
    assert linked.data["petition"] == "XF-2026-000123"
    assert linked.data["via"] == duplicate.number
    assert linked.data["state"] == {"old": "reported", "new": "reported"}


def test_merge_into_a_case_outside_the_dispatchers_area_is_refused(world: CaseWorld) -> None:
    w = world
    elsewhere = w.report(place=w.tree.compound(2, 1, 1), description="徐汇区的垃圾")
    case = w.report()
    error = refused(lambda: case_merge(case=case, actor=w.dispatcher, master=elsewhere))
    assert (error.http_status, error.code) == (403, "forbidden")
    case.refresh_from_db()
    assert case.state == CaseState.REPORTED


def test_refused_return_makes_the_unit_first_responsible(world: CaseWorld, clock: Any) -> None:
    w = world
    case = dispatched(w)
    clock.shift(timedelta(minutes=30))
    case = case_return_request(case=case, actor=w.handler, grounds="非本单位职责")
    clock.shift(timedelta(minutes=30))
    case, events = act(case_return_refuse, case, actor=w.dispatcher, reason="属城管职责，请首办负责")
    assert [e.type for e in events] == ["CASE_RETURN_REFUSED"]
    check_event(
        events[0],
        type_="CASE_RETURN_REFUSED",
        old="return_requested",
        new="handling",
        actor=w.dispatcher,
        world=w,
        case=case,
        handler=f"org:{w.branch.pk}",
        due_at=at(2026, 3, 3, 9, 30),
    )
    assert events[0].data["on_time"] is True  # the sign-for timer (2 工作时 from 09:30) met at 10:30
    assert case.first_responsible is True
    assert case.handler_org == w.branch
    assert case.return_count == 0  # a refused return is not 回退
    assert case.accepted_at == at(2026, 3, 2, 10, 30)
    assert told(w.handler, "case_return_refused", case) == 1
    # The unit must now handle it: a second return is not possible from handling.
    error = refused(lambda: case_return_request(case=case, actor=w.handler, grounds="再退"))
    assert error.code == "invalid_state"


def test_return_after_the_window_is_refused(world: CaseWorld, clock: Any) -> None:
    w = world
    case = dispatched(w)
    clock.move_to(at(2026, 3, 3, 9, 31))  # 1 工作日 after the dispatch at 09:30
    error = refused(lambda: case_return_request(case=case, actor=w.handler, grounds="非本单位职责"))
    assert (error.http_status, error.code) == (409, "return_window_passed")


def test_redispatch_to_the_same_unit_is_refused(world: CaseWorld) -> None:
    w = world
    case = case_return_request(case=dispatched(w), actor=w.handler, grounds="非本单位职责")
    error = refused(lambda: case_redispatch(case=case, actor=w.dispatcher, org=w.branch))
    assert error.code == "same_unit"


def test_refused_extension_keeps_the_deadline(world: CaseWorld, clock: Any) -> None:
    w = world
    case = handling(w)
    due = case.due_at
    case = case_extension_request(case=case, actor=w.handler, amount=2, reason="人手不足")
    case, events = act(case_extension_refuse, case, actor=w.dispatcher, reason="一日内可完成")
    assert [e.type for e in events] == ["CASE_EXTENSION_REFUSED"]
    check_event(
        events[0],
        type_="CASE_EXTENSION_REFUSED",
        old="extension_requested",
        new="handling",
        actor=w.dispatcher,
        world=w,
        case=case,
        handler=f"org:{w.branch.pk}",
        due_at=due,
    )
    assert (case.state, case.due_at, case.extension_count) == ("handling", due, 0)
    assert open_timer(case, "case_handling").due_at == due
    assert told(w.handler, "case_extension_refused", case) == 1


def test_extensions_are_limited(world: CaseWorld, clock: Any, settings: Any) -> None:
    w = world
    settings.SHEQU_CASE_MAX_EXTENSIONS = 2
    case = handling(w)
    for _round in range(2):
        case = case_extension_request(case=case, actor=w.handler, amount=1, reason="需要更多时间")
        case = case_extension_grant(case=case, actor=w.dispatcher)
    assert case.extension_count == 2
    assert case.due_at == at(2026, 3, 5, 9, 30)  # 1 + 1 + 1 工作日 from Monday 09:30
    before = last_event_pk()
    error = refused(lambda: case_extension_request(case=case, actor=w.handler, amount=1, reason="再延一次"))
    assert (error.http_status, error.code) == (409, "extension_limit")
    assert case_events(case, after=before) == []
    case.refresh_from_db()
    assert case.state == CaseState.HANDLING
    # Amounts must be positive numbers and the reason is required.
    assert (
        refused(lambda: case_extension_request(case=case, actor=w.handler, amount=0, reason="x")).field
        == "amount"
    )
    assert refused(
        lambda: case_extension_request(case=case, actor=w.handler, amount="两天", reason="x")
    ).field == ("amount")
    assert refused(lambda: case_extension_request(case=case, actor=w.handler, amount=1, reason="")).code == (
        "required"
    )


def test_the_committee_handles_a_small_matter_itself(world: CaseWorld, clock: Any) -> None:
    w = world
    committee = w.tree.committee(1, 1, 1)
    case = w.report(category=w.small_matter, description="楼上漏水，邻里协商不成")
    case = case_register(case=case, actor=w.committee_worker)
    clock.shift(timedelta(minutes=10))
    case, events = act(case_self_handle, case, actor=w.committee_worker)
    due = at(2026, 3, 4, 9, 30)  # 2 工作日 from registration
    assert [e.type for e in events] == ["CASE_SELF_HANDLED"]
    check_event(
        events[0],
        type_="CASE_SELF_HANDLED",
        old="registered",
        new="handling",
        actor=w.committee_worker,
        world=w,
        case=case,
        category=w.small_matter.code,
        handler=committee.code,
        due_at=due,
    )
    assert case.handler_division == committee
    assert case.accepted_at == at(2026, 3, 2, 9, 40)
    # No on-site check for this category: handled → the resident's confirmation at once.
    clock.shift(timedelta(minutes=10))
    case, events = act(case_handle, case, actor=w.committee_worker, result="已调解，双方达成维修协议")
    assert [e.type for e in events] == ["CASE_HANDLED"]
    check_event(
        events[0],
        type_="CASE_HANDLED",
        old="handling",
        new="confirming",
        actor=w.committee_worker,
        world=w,
        case=case,
        category=w.small_matter.code,
        handler=committee.code,
        due_at=due,
    )
    assert open_timer(case, "case_check") is None
    assert open_timer(case, "case_confirmation") is not None
    assert told(w.resident, "case_confirm", case) == 1


def test_department_work_cannot_be_self_handled_or_pushed_to_the_committee(world: CaseWorld) -> None:
    w = world
    case = case_register(case=w.report(), actor=w.committee_worker)
    error = refused(lambda: case_self_handle(case=case, actor=w.committee_worker))
    assert (error.http_status, error.code) == (422, "department_work")
    error = refused(lambda: case_dispatch(case=case, actor=w.dispatcher, division=w.tree.committee(1, 1, 1)))
    assert error.code == "committee_refused"
    case.refresh_from_db()
    assert (case.state, case.handler_org_id, case.handler_division_id) == ("registered", None, None)
    assert [e.type for e in case_events(case)] == ["CASE_REPORTED", "CASE_REGISTERED"]


def test_no_check_needed_goes_straight_to_confirmation(world: CaseWorld, clock: Any) -> None:
    w = world
    world.department_work.check_required = False
    world.department_work.save(update_fields=["check_required"])
    case = handling(w)
    case, events = act(case_handle, case, actor=w.handler, result="已清理")
    assert [e.type for e in events] == ["CASE_HANDLED"]
    assert events[0].data["state"] == {"old": "handling", "new": "confirming"}
    assert case.state == CaseState.CONFIRMING
    assert open_timer(case, "case_check") is None


def test_without_a_reporter_the_case_closes_after_handling(world: CaseWorld, clock: Any) -> None:
    w = world
    # A patrol finding: nobody to ask "solved?".
    case = case_report(
        actor=w.grid_worker,
        channel=Channel.GRID_PATROL,
        category=w.small_matter,
        description="楼道堆物影响通行",
        place=w.compound,
        register=True,
    )
    assert case.state == CaseState.REGISTERED
    assert not CaseSubscription.objects.filter(case=case).exists()
    case = case_self_handle(case=case, actor=w.committee_worker)
    clock.shift(timedelta(hours=1))
    case, events = act(case_handle, case, actor=w.committee_worker, result="已清理楼道")
    # One transition, one event: handling → closed. The case was never in confirmation.
    assert [e.type for e in events] == ["CASE_HANDLED"]
    assert events[0].data["state"] == {"old": "handling", "new": "closed"}
    assert events[0].data["on_time"] is True
    assert events[0].data["closed"] == {"reason": "no_reporter", "on_time": True}
    assert (case.state, case.feedback, case.resident_solved) == ("closed", Feedback.NONE, None)
    assert case.closed_at == at(2026, 3, 2, 10, 30)
    assert not Deadline.objects.filter(subject_id=str(case.pk), kind="case_confirmation").exists()
    assert not Deadline.objects.filter(subject_id=str(case.pk), state=DeadlineState.RUNNING).exists()
    assert CaseUpdate.objects.filter(case=case).order_by("-pk").values_list("state", "status").first() == (
        "closed",
        "closed",
    )

    # The same after an on-site check.
    patrol = case_report(
        actor=w.grid_worker,
        channel=Channel.GRID_PATROL,
        category=w.department_work,
        description="道路积存渣土",
        place=w.compound,
        register=True,
    )
    patrol = case_accept(case=case_dispatch(case=patrol, actor=w.dispatcher), actor=w.handler)
    patrol = case_check_start(
        case=case_handle(case=patrol, actor=w.handler, result="已清运"), actor=w.grid_worker
    )
    clock.shift(timedelta(hours=1))
    patrol, events = act(case_check_pass, patrol, actor=w.grid_worker)
    assert [e.type for e in events] == ["CASE_CHECK_PASSED"]
    assert events[0].data["state"] == {"old": "checking", "new": "closed"}
    assert events[0].data["closed"] == {"reason": "no_reporter", "on_time": True}
    assert (patrol.state, patrol.feedback, patrol.resident_solved) == ("closed", Feedback.NONE, None)
    assert patrol.closed_at == at(2026, 3, 2, 11, 30)
    assert not Deadline.objects.filter(subject_id=str(patrol.pk), state=DeadlineState.RUNNING).exists()


def test_emergency_categories_are_refused_at_intake(world: CaseWorld) -> None:
    w = world
    error = refused(lambda: w.report(category=w.emergency, description="楼道里着火了"))
    assert (error.http_status, error.code, error.field) == (422, "emergency", "category")
    assert "119" in error.message
    assert not Case.objects.exists()
    assert not Event.objects.filter(subject_type="cases.case").exists()
    # Nor can an ordinary report be re-categorised as an emergency at registration.
    case = w.report()
    error = refused(lambda: case_register(case=case, actor=w.dispatcher, category=w.emergency))
    assert error.code == "emergency"
    case.refresh_from_db()
    assert case.state == CaseState.REPORTED


def test_confirmation_from_the_link_without_an_account(world: CaseWorld, clock: Any) -> None:
    w = world
    # Registered at the counter for a resident without an account: followed by phone only.
    case = case_report(
        actor=w.committee_worker,
        channel=Channel.COUNTER,
        category=w.department_work,
        description="门口路灯不亮",
        place=w.compound,
        contact_name="张阿姨",
        contact_phone="13900002222",
    )
    case = case_register(case=case, actor=w.committee_worker)
    case = case_accept(case=case_dispatch(case=case, actor=w.dispatcher), actor=w.handler)
    case = case_check_start(
        case=case_handle(case=case, actor=w.handler, result="已修复"), actor=w.grid_worker
    )
    case = case_check_pass(case=case, actor=w.grid_worker)
    subscription = CaseSubscription.objects.get(case=case)
    assert subscription.user_id is None
    sms = Notification.objects.get(address="13900002222", kind="case_confirm", channel="sms")
    assert subscription.token in sms.link  # delivery puts the link into the text
    # A wrong token is no one.
    error = refused(lambda: case_confirm(case=case, token="wrong", solved=True, feedback=Feedback.SATISFIED))
    assert (error.http_status, error.code) == (403, "forbidden")
    # Not solved, then trying to answer again before the centre has reviewed it.
    case, events = act(
        case_confirm, case, token=subscription.token, solved=False, feedback=Feedback.UNSATISFIED
    )
    assert [e.type for e in events] == ["CASE_CONFIRMED"]
    assert events[0].actor_id is None
    assert events[0].data["via_token"] is True
    error = refused(
        lambda: case_confirm(case=case, token=subscription.token, solved=True, feedback=Feedback.SATISFIED)
    )
    assert error.code == "already_answered"
    # The centre reviews and closes it (the unit explained why it was fixed): 结案 by the centre.
    case, events = act(case_close, case, actor=w.dispatcher, note="已电话回访，路灯已亮")
    assert [e.type for e in events] == ["CASE_CLOSED"]
    assert events[0].data["reason"] == "centre"
    assert events[0].data["resident_solved"] is False
    assert case.state == CaseState.CLOSED
    # A feedback answer is one of the three.
    error = refused(lambda: case_confirm(case=case, token=subscription.token, solved=True, feedback="great"))
    assert error.field == "feedback"


def test_no_answer_closes_the_case_as_no_response_on_the_tick(
    world: CaseWorld, clock: Any, django_capture_on_commit_callbacks: Any
) -> None:
    w = world
    case = confirming(w)
    timer = open_timer(case, "case_confirmation")
    assert timer.due_at == at(2026, 3, 5, 9, 30)  # 3 工作日
    clock.move_to(at(2026, 3, 5, 9, 31))
    before = last_event_pk()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("tick", stdout=open_devnull())
    case.refresh_from_db()
    assert (case.state, case.feedback, case.resident_solved) == ("closed", "no_response", None)
    events = case_events(case, after=before)
    assert [e.type for e in events] == ["CASE_CLOSED_NO_RESPONSE", "CASE_CLOSED"]
    assert events[0].data["state"] == {"old": "confirming", "new": "confirming"}
    assert events[1].data["reason"] == "no_response"
    assert events[1].data["feedback"] == "no_response"
    assert events[1].actor_id is None
    timer.refresh_from_db()
    assert timer.state == DeadlineState.CANCELLED
    # A second tick changes nothing.
    before = last_event_pk()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("tick", stdout=open_devnull())
    assert case_events(case, after=before) == []


def test_an_answer_in_time_leaves_nothing_for_the_tick(
    world: CaseWorld, clock: Any, django_capture_on_commit_callbacks: Any
) -> None:
    w = world
    case = confirming(w)
    case = case_confirm(case=case, actor=w.resident, solved=True, feedback=Feedback.SATISFIED)
    clock.move_to(at(2026, 3, 9, 9, 0))
    before = last_event_pk()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("tick", stdout=open_devnull())
    assert case_events(case, after=before) == []
    case.refresh_from_db()
    assert case.feedback == "satisfied"


def test_reopen_only_within_the_window(world: CaseWorld, clock: Any) -> None:
    w = world
    case = case_confirm(case=confirming(w), actor=w.resident, solved=True, feedback=Feedback.SATISFIED)
    closed_at = case.closed_at
    clock.move_to(closed_at + timedelta(days=7))
    error = refused(lambda: case_reopen(case=case, actor=w.resident, reason="又坏了"))
    assert (error.http_status, error.code) == (409, "reopen_window_passed")
    case.refresh_from_db()
    assert case.state == CaseState.CLOSED
    # One minute inside the window it works, for the dispatcher too.
    clock.move_to(closed_at + timedelta(days=7) - timedelta(minutes=1))
    case = case_reopen(case=case, actor=w.dispatcher, reason="居民来电反映复发")
    assert case.state == CaseState.HANDLING
    # Someone who neither reported nor follows it may not.
    case = case_confirm(
        case=case_check_pass(
            case=case_check_start(
                case=case_handle(case=case, actor=w.handler, result="再次清理"), actor=w.grid_worker
            ),
            actor=w.grid_worker,
        ),
        actor=w.resident,
        solved=True,
        feedback=Feedback.SATISFIED,
    )
    error = refused(lambda: case_reopen(case=case, actor=w.other_resident, reason="我也要"))
    assert (error.http_status, error.code) == (403, "forbidden")


def test_rerouting_a_case_in_hands(world: CaseWorld, clock: Any) -> None:
    w = world
    case = handling(w)
    clock.shift(timedelta(minutes=30))
    case = case_suspend(case=case, actor=w.dispatcher, reason="等待产权确认", review_on=date(2026, 3, 3))
    clock.move_to(at(2026, 3, 3, 9, 0))
    case, events = act(case_reroute, case, actor=w.dispatcher, org=w.property_company, note="产权属小区")
    assert [e.type for e in events] == ["CASE_REROUTED"]
    # The handling clock runs again: 1 工作日 from Monday 09:30 minus the 10:00 → 09:00 pause.
    check_event(
        events[0],
        type_="CASE_REROUTED",
        old="suspended",
        new="dispatched",
        actor=w.dispatcher,
        world=w,
        case=case,
        handler=f"org:{w.property_company.pk}",
        due_at=at(2026, 3, 4, 8, 30),
    )
    assert case.due_at == at(2026, 3, 4, 8, 30)
    assert open_timer(case, "case_handling").state == DeadlineState.RUNNING
    assert told(w.property_manager, "case_dispatched", case) == 1
    case = case_accept(case=case, actor=w.property_manager)
    assert case.state == CaseState.HANDLING


def test_following_an_open_case_instead_of_reporting(world: CaseWorld) -> None:
    w = world
    case = w.report()
    before = last_event_pk()
    case_follow(case=case, actor=w.other_resident)
    events = case_events(case, after=before)
    assert [e.type for e in events] == ["CASE_FOLLOWED"]
    assert events[0].actor_id == w.other_resident.pk
    assert CaseSubscription.objects.filter(case=case, user=w.other_resident, is_reporter=False).exists()
    case_follow(case=case, actor=None, phone="13900003333")
    assert CaseSubscription.objects.filter(case=case, phone="13900003333", user=None).exists()
    error = refused(lambda: case_follow(case=case, actor=None))
    assert error.code == "required"


def open_devnull() -> Any:
    import io

    return io.StringIO()
