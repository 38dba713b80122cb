"""What the case loop stores or sends to other people is written in the site's language (zh-hans),
whatever language the acting user reads their pages in: the public change feed, the notifications to
followers, units and supervisors, the reasons kept on timers and supervisions, the 12345 time-limit
line of an imported description. What answers the acting user — an error — stays in their language.

Every test acts as a user whose pages are in English (``translation.override("en")``).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext

from shequ.cases.jobs import cases_escalate
from shequ.cases.models import Case, CaseUpdate, Channel
from shequ.cases.services_import import hotline_import
from shequ.cases.services_intake import case_report
from shequ.cases.services_transitions import (
    case_accept,
    case_dispatch,
    case_merge,
    case_register,
    case_supervise,
)
from shequ.cases.tests.factories import CaseWorld, case_world
from shequ.cases.tests.test_import_12345 import csv_bytes, row
from shequ.core.errors import ApiError
from shequ.core.models import Deadline, DeadlineState, Event, Notification, Supervision
from shequ.core.services_clock import deadlines_tick

pytestmark = pytest.mark.django_db

SH = ZoneInfo("Asia/Shanghai")


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=SH)


@pytest.fixture
def world() -> CaseWorld:
    return case_world()


@pytest.fixture
def english() -> Iterator[None]:
    # The URLconf is loaded first, as a running server has it loaded before most requests.
    reverse("core:home")
    with translation.override("en"):
        yield


@pytest.fixture
def clock() -> Iterator[time_machine.Coordinates]:
    # Monday 2 March 2026, an ordinary working week.
    with time_machine.travel(at(2026, 3, 2, 10, 0), tick=False) as traveller:
        yield traveller


def feed_rows(case: Case) -> list[str]:
    return list(CaseUpdate.objects.filter(case=case).order_by("pk").values_list("description", flat=True))


def titles(kind: str, case: Case) -> set[str]:
    """The titles of the notifications of ``kind`` about ``case``, whoever got them and how."""
    return set(
        Notification.objects.filter(
            kind=kind, subject_type="cases.case", subject_id=str(case.pk)
        ).values_list("title", flat=True)
    )


def test_an_english_reader_would_read_these_messages_in_english(english: None) -> None:
    # Otherwise the tests below would prove nothing: the messages are translated.
    assert gettext("已受理") == "Received"
    assert gettext("已立案") == "Registered"
    assert gettext("案件 %(n)s 已立案") == "Case %(n)s registered"
    assert gettext("新派遣案件 %(n)s") != "新派遣案件 %(n)s"


def test_intake_and_transitions_by_english_users_feed_and_notify_in_chinese(
    world: CaseWorld, clock: Any, english: None
) -> None:
    w = world
    case = w.report()  # the resident's pages are in English too
    n = case.number
    case = case_register(case=case, actor=w.dispatcher)
    case = case_dispatch(case=case, actor=w.dispatcher, org=w.branch)
    case = case_accept(case=case, actor=w.handler)

    assert feed_rows(case) == ["已受理", "已立案", "已派遣至责任单位", "责任单位已签收，正在处置"]
    assert titles("case_reported", case) == {f"您反映的问题已受理，编号 {n}"}
    assert titles("case_registered", case) == {f"案件 {n} 已立案"}
    assert titles("case_dispatched", case) == {f"新派遣案件 {n}"}
    assert titles("case_accepted", case) == {f"案件 {n} 已由责任单位签收"}
    # The unit picked by hand is noted in Chinese on the case and its event.
    case.refresh_from_db()
    assert case.route_note == "人工指定"
    dispatched = Event.objects.get(subject_id=str(case.pk), type="CASE_DISPATCHED")
    assert dispatched.data["route"] == "人工指定"


def test_an_error_raised_to_the_same_english_user_stays_in_english(
    world: CaseWorld, clock: Any, english: None
) -> None:
    w = world
    case = case_register(case=w.report(), actor=w.dispatcher)
    with pytest.raises(ApiError) as caught:
        case_register(case=case, actor=w.dispatcher)
    assert caught.value.message == 'The case is now "Registered"; this action is not possible.'
    # The refused action wrote nothing in either language.
    assert feed_rows(case) == ["已受理", "已立案"]


def test_a_merge_tells_followers_and_keeps_its_timer_reason_in_chinese(
    world: CaseWorld, clock: Any, english: None
) -> None:
    w = world
    master = w.report()
    duplicate = w.report(actor=w.other_resident, contact_phone="13900001111")
    case_merge(case=duplicate, master=master, actor=w.dispatcher)

    assert feed_rows(duplicate)[-1] == f"已并入案件 {master.number}"
    assert titles("case_merged", duplicate) == {f"您反映的问题已并入案件 {master.number} 一并办理"}
    cancelled = Deadline.objects.get(subject_id=str(duplicate.pk), state=DeadlineState.CANCELLED)
    assert cancelled.kind == "case_registration"
    cancel = Event.objects.get(
        type="DEADLINE_CANCELLED", subject_type="cases.case", subject_id=str(duplicate.pk)
    )
    assert cancel.data["reason"] == "并单"


def test_supervision_by_an_english_dispatcher_tells_the_unit_in_chinese(
    world: CaseWorld, clock: Any, english: None
) -> None:
    w = world
    case = w.in_hands()
    case_supervise(case=case, actor=w.dispatcher, level="yellow", reason="群众反映强烈")

    assert titles("case_supervised", case) == {f"案件 {case.number} 被黄牌督办"}


def test_reminders_and_escalation_under_an_english_request_are_in_chinese(
    world: CaseWorld, clock: time_machine.Coordinates, english: None, django_capture_on_commit_callbacks: Any
) -> None:
    w = world
    case = w.in_hands()
    # 1 工作日 from Monday 10:00: due Tuesday 10:00, reminded at 80 % of it. The tick and the
    # escalation job run in whatever language the process happens to have active.
    clock.move_to(at(2026, 3, 3, 9, 0))
    with django_capture_on_commit_callbacks(execute=True):
        assert deadlines_tick(now=at(2026, 3, 3, 9, 0)).reminded
    assert titles("case_deadline_reminded", case) == {f"案件 {case.number} 即将到期"}

    clock.move_to(at(2026, 3, 3, 11, 0))
    assert cases_escalate(now=at(2026, 3, 3, 11, 0)) == 1
    supervision = Supervision.objects.get(subject_id=str(case.pk))
    assert supervision.reason.startswith("处置超期 ")
    assert supervision.reason.endswith(" 个工作日")
    assert titles("case_escalated", case) == {f"案件 {case.number} 超期督办"}


def test_the_12345_time_limit_line_is_written_in_chinese_for_an_english_importer(
    world: CaseWorld, english: None
) -> None:
    # The ticket names its street instead of a point.
    street = world.tree.street(1, 1).code
    content = csv_bytes([row(world, lon="", lat="", crs="", street=street, time_limit="2025/6/6 17:00")])

    with time_machine.travel(datetime(2025, 6, 4, 2, 0, tzinfo=UTC), tick=False):
        result = hotline_import(content=content, actor=world.dispatcher)

    assert result.loaded
    (case,) = result.created
    assert case.description == "小区门口垃圾堆放多日无人清理\n（12345 办理时限：2025-06-06 17:00）"
    assert feed_rows(case)[:2] == ["已受理", "已立案"]
    assert titles("case_reported", case) == {f"您反映的问题已受理，编号 {case.number}"}


def test_a_counter_registration_in_english_reaches_the_resident_in_chinese(
    world: CaseWorld, clock: Any, english: None
) -> None:
    w = world
    case = case_report(
        actor=w.committee_worker,
        channel=Channel.COUNTER,
        category=w.department_work,
        description="门口路灯不亮",
        place=w.compound,
        contact_phone="13900002222",
        register=True,
    )
    sms = Notification.objects.get(address="13900002222", kind="case_reported", channel="sms")
    assert sms.title == f"您反映的问题已受理，编号 {case.number}"
    assert titles("case_registered", case) == {f"案件 {case.number} 已立案"}


def test_routing_reasons_kept_on_the_case_are_in_chinese_for_english_users(
    world: CaseWorld, clock: Any, english: None
) -> None:
    w = world
    case = w.report()
    reported = Event.objects.get(subject_id=str(case.pk), type="CASE_REPORTED")
    assert reported.data["route_reason"]
    assert not any(ch.isascii() and ch.isalpha() for ch in reported.data["route_reason"].replace("#", ""))
    case = case_register(case=case, actor=w.dispatcher)
    case = case_dispatch(case=case, actor=w.dispatcher)  # the routing rules decide
    case.refresh_from_db()
    assert case.route_note
    assert not any(ch.isascii() and ch.isalpha() for ch in case.route_note)
    # The same decision shown to this user on a page ("try a route") is in English.
    from shequ.cases.routing import route_case

    shown = route_case(
        category=case.category, district=case.district, street=case.street, committee=case.committee
    )
    assert any(ch.isascii() and ch.isalpha() for ch in str(shown.reason))
