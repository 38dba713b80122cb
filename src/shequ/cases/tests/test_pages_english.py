"""Pages in English join their translated parts with English punctuation: the lists of case numbers,
a result after its outcome, a unit or category with its detail in brackets. Texts kept on the case
for others to read (the legal route told to the reporter) stay in the site's language."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings
from django.test import Client

from shequ.accounts.tests.factories import login
from shequ.cases.models import Case, CaseState
from shequ.cases.services_transitions import (
    case_handle,
    case_merge,
    case_register,
)
from shequ.cases.tests.factories import CaseWorld, case_world

pytestmark = pytest.mark.django_db

SH = ZoneInfo("Asia/Shanghai")
START = datetime(2026, 3, 4, 10, 0, tzinfo=SH)
CHINESE_PUNCTUATION = re.compile(r"[；：（），、]")


@pytest.fixture(autouse=True)
def clock() -> Iterator[time_machine.Coordinates]:
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


@pytest.fixture
def world() -> CaseWorld:
    return case_world()


def english_client(user: Any) -> Client:
    client = Client()
    login(client, user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def only(pattern: str, html: str) -> str:
    found = re.findall(pattern, html, flags=re.DOTALL)
    assert len(found) == 1, found
    return str(found[0])


def text_of(html: str) -> str:
    return re.sub(r"<[^>]+>", "", html).strip()


def test_the_board_in_english_lists_possible_duplicates_with_commas(world: CaseWorld) -> None:
    first = world.report(description="小区门口垃圾堆放多日无人清理")
    second = world.report(actor=world.other_resident, description="小区门口垃圾堆放了好几天")
    third = world.report(actor=world.other_resident, description="小区门口垃圾堆放很多天了")

    html = english_client(world.dispatcher).get("/cases/dispatch/").content.decode()

    assert '<html lang="en">' in html
    row = only(rf'id="case-{third.number}".*?</li>', html)
    duplicates = only(r"Possible duplicates: (.*?)</p>", row)
    assert sorted(text_of(duplicates).split(", ")) == sorted([first.number, second.number])
    assert not CHINESE_PUNCTUATION.search(duplicates)


def test_the_board_in_english_names_units_with_their_kind_in_brackets(world: CaseWorld) -> None:
    case = case_register(case=world.report(), actor=world.dispatcher)

    html = english_client(world.dispatcher).get("/cases/dispatch/").content.decode()

    row = only(rf'id="case-{case.number}".*?</li>', html)
    assert f"{world.branch.name} (Department branch)" in row
    assert f"{world.branch.name}（" not in row


def test_the_checkers_tasks_in_english_show_the_outcome_then_the_result(world: CaseWorld) -> None:
    case = world.in_hands()
    case_handle(case=case, actor=world.handler, result="已清理完毕")

    html = english_client(world.grid_worker).get("/cases/checks/").content.decode()

    row = only(rf'id="case-{case.number}".*?</li>', html)
    assert "Resolved: 已清理完毕" in row
    assert "Resolved：" not in row


def test_the_case_page_in_english_lists_merged_reports_with_commas(world: CaseWorld) -> None:
    master = world.report()
    merged = [world.report(actor=world.other_resident) for _ in range(2)]
    for case in merged:
        case_merge(case=case, master=master, actor=world.dispatcher)

    html = english_client(world.dispatcher).get(f"/cases/{master.number}/").content.decode()

    listed = only(r"<dd>((?:<a [^>]*>SQ\d+</a>[^<]*)+)</dd>", html)
    assert sorted(text_of(listed).split(", ")) == sorted(c.number for c in merged)
    assert not CHINESE_PUNCTUATION.search(listed)


def test_the_catalogue_in_english_puts_the_sector_in_brackets(world: CaseWorld) -> None:
    client = english_client(world.dispatcher)

    detail = client.get(f"/cases/catalogue/{world.department_work.code}/").content.decode()

    assert "Department branch (城管)" in detail
    assert "（城管）" not in detail


def test_a_rejection_by_an_english_dispatcher_keeps_the_legal_route_in_chinese(world: CaseWorld) -> None:
    case = world.report(description="房东拒不退还押金")
    client = english_client(world.dispatcher)

    response = client.post(
        f"/cases/{case.number}/do/reject/",
        {
            "version": str(case.version),
            "reject-reason": "属民事合同纠纷",
            "reject-outcome": "invalid",
            "reject-route": "litigation",
            "reject-route_detail": "向区人民法院起诉",
        },
    )

    assert response.status_code == 302
    case = Case.objects.get(pk=case.pk)
    assert case.state == CaseState.REJECTED
    # The reporter reads it, whatever language the dispatcher's pages were in.
    assert case.redirect_route == "向人民法院提起诉讼：向区人民法院起诉"
