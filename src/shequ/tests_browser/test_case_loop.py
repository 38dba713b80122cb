"""The case loop end to end (issue 4, acceptance): a resident reports a problem and is shown a possible
duplicate; reports anyway; the dispatcher registers and routes it; the department signs and handles
it; the checker fails it (rework); the department handles it again; the checker passes it; the
resident confirms it solved from the feedback link; after the metrics job has run, the dashboard shows
it in 返工率 and 结案率."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.utils import timezone
from django_otp.oath import totp
from playwright.sync_api import Browser, BrowserContext, Locator, Page, expect
from pytest_django.live_server_helper import LiveServer

from shequ.accounts.models import User
from shequ.accounts.tests.factories import DEFAULT_PASSWORD, totp_device_confirmed
from shequ.cases.catalogue import catalogue_seed
from shequ.cases.metrics import case_metrics_fill
from shequ.cases.models import Case, CaseState, CaseSubscription
from shequ.cases.tests.factories import case_world

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

EXISTING = "小区南门口垃圾堆放很久了，没人清理"
REPORT = "小区南门口垃圾堆放多日无人清理，气味很大"


def _quiet(page: Page) -> None:
    """Wait until the page has no request in flight: the live server shares the test's in-memory
    database connection, so the test reads the database only while the browser is idle."""
    page.wait_for_load_state("networkidle")


def _sign_in(page: Page, base_url: str, user: User, *, second_factor: bool) -> None:
    # ``body > main``: the page's own form (a fragment loaded into the header must not be clicked).
    page.goto(base_url + "/accounts/login/")
    page.fill('body > main input[name="username"]', user.username)
    page.fill('body > main input[name="password"]', DEFAULT_PASSWORD)
    page.click('body > main form button[type="submit"]')
    if second_factor:
        expect(page).to_have_url(re.compile(r"/accounts/otp/verify/"))
        _quiet(page)
        device = totp_device_confirmed(user)
        code = totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=device.drift)
        page.fill('body > main input[name="token"]', f"{code:0{device.digits}d}")
        page.press('body > main input[name="token"]', "Enter")
    expect(page).to_have_url(base_url + "/")
    _quiet(page)


def _as(
    browser: Browser, args: dict[str, Any], base_url: str, user: User, *, staff: bool = True
) -> tuple[BrowserContext, Page]:
    context = browser.new_context(**args)
    page = context.new_page()
    _sign_in(page, base_url, user, second_factor=staff)
    return context, page


def _row(page: Page, number: str) -> Locator:
    return page.locator(f"#case-{number}")


def _press(page: Page, number: str, label: str) -> None:
    """A button without a form (签收, 立案, 开始核查) in the case's row."""
    _row(page, number).get_by_role("button", name=label).click()
    expect(page.locator(".message-success")).to_be_visible()


def _open(page: Page, number: str, label: str) -> Locator:
    """Open a button with a form (派遣, 提交处置结果 …) in the case's row; returns its form."""
    action = _row(page, number).locator("details.action", has=page.locator("summary", has_text=label))
    action.locator("summary").click()
    return action.locator("form")


def _state(page: Page, number: str) -> str:
    _quiet(page)
    return Case.objects.values_list("state", flat=True).get(number=number)


def test_a_reported_problem_goes_round_the_loop_and_shows_on_the_dashboard(  # noqa: PLR0915 - one story
    page: Page,
    browser: Browser,
    browser_context_args: dict[str, Any],
    live_server: LiveServer,
    screenshot_dir: Path,
) -> None:
    base = live_server.url
    catalogue_seed()
    world = case_world()
    world.compound.lon, world.compound.lat = 121.4800, 31.2300
    world.compound.save(update_fields=["lon", "lat"])
    for staff in (world.dispatcher, world.handler, world.grid_worker):
        totp_device_confirmed(staff)
    existing = world.report(actor=world.other_resident, description=EXISTING)
    category = world.department_work

    # 1. The resident reports: category search, their compound, the description; a duplicate is shown.
    _sign_in(page, base, world.resident, second_factor=False)
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="我要反映").click()
    expect(page).to_have_url(base + "/cases/report/")
    expect(page.locator("main")).to_contain_text("承办人员仍然可以看到您的联系方式")
    page.fill("#category-q", category.name)
    page.check(f"#category-{category.code}")
    page.check(f"#place-compound{world.compound.pk}")
    page.fill("#id_description", REPORT)
    page.fill("#id_contact_phone", "13812345678")
    check = page.locator("#report-check")
    expect(check).to_contain_text("附近可能已有人反映过同一问题")
    expect(check.get_by_role("button", name=re.compile("关注这个案件"))).to_have_count(1)
    expect(check).to_contain_text(existing.number)
    page.screenshot(path=screenshot_dir / "case-report-duplicate.png", full_page=True)

    # 2. It is another matter as far as the resident knows: report anyway.
    check.get_by_role("button", name="不是同一问题，仍然提交").click()
    expect(page).to_have_url(re.compile(r"/cases/report/done/SQ\d+/"))
    number = page.locator("[data-tracking-number]").inner_text().strip()
    assert _state(page, number) == CaseState.REPORTED
    assert Case.objects.get(number=number).reporter == world.resident

    # 3. The dispatcher sees the suggestion and the possible duplicate, registers and routes it.
    dispatch_context, board = _as(browser, browser_context_args, base, world.dispatcher)
    board.goto(base + "/cases/dispatch/")
    row = _row(board, number)
    expect(row).to_contain_text(world.branch.name)
    expect(row).to_contain_text(existing.number)
    board.screenshot(path=screenshot_dir / "case-dispatch-board.png", full_page=True)
    _press(board, number, "立案")
    assert _state(board, number) == CaseState.REGISTERED
    _open(board, number, "派遣").get_by_role("button", name="确定派遣").click()
    expect(board.locator(".message-success")).to_contain_text("已派遣")
    _quiet(board)
    case = Case.objects.get(number=number)
    assert case.state == CaseState.DISPATCHED
    assert case.handler_org == world.branch

    # 4. The department signs for it and handles it.
    handler_context, queue = _as(browser, browser_context_args, base, world.handler)
    queue.goto(base + "/cases/queue/")
    _press(queue, number, "签收")
    assert _state(queue, number) == CaseState.HANDLING
    form = _open(queue, number, "提交处置结果")
    queue.screenshot(path=screenshot_dir / "case-queue-handle.png", full_page=True)
    form.get_by_label("处置情况").fill("已安排环卫清运")
    form.get_by_role("button", name="确定提交处置结果").click()
    expect(queue.locator(".message-success")).to_contain_text("处置结果已提交")
    assert _state(queue, number) == CaseState.HANDLED

    # 5. The checker finds it not done: rework.
    check_context, checks = _as(browser, browser_context_args, base, world.grid_worker)
    checks.goto(base + "/cases/checks/")
    _press(checks, number, "开始核查")
    form = _open(checks, number, "核查不通过（返工）")
    form.get_by_label("不通过的原因").fill("南门口仍有垃圾残留")
    form.get_by_role("button", name="确定核查不通过（返工）").click()
    expect(checks.locator(".message-success")).to_contain_text("已退回返工")
    assert _state(checks, number) == CaseState.HANDLING

    # 6. The department handles it again; the checker passes it.
    queue.goto(base + "/cases/queue/")
    expect(_row(queue, number)).to_contain_text("返工 1 次")
    form = _open(queue, number, "提交处置结果")
    form.get_by_label("处置情况").fill("残留垃圾已全部清运，地面已冲洗")
    form.get_by_role("button", name="确定提交处置结果").click()
    expect(queue.locator(".message-success")).to_be_visible()
    checks.goto(base + "/cases/checks/")
    _press(checks, number, "开始核查")
    _open(checks, number, "核查通过").get_by_role("button", name="确定核查通过").click()
    expect(checks.locator(".message-success")).to_contain_text("核查通过")
    assert _state(checks, number) == CaseState.CONFIRMING

    # 7. The resident answers from the link in the message, without signing in.
    _quiet(page)
    token = CaseSubscription.objects.get(case__number=number, user=world.resident).token
    answer_context = browser.new_context(**browser_context_args)
    answer = answer_context.new_page()
    answer.goto(f"{base}/cases/feedback/{token}/")
    expect(answer.locator("main")).to_contain_text("残留垃圾已全部清运")
    answer.get_by_label("已解决").check()
    answer.get_by_label("满意", exact=True).check()
    answer.get_by_role("button", name="提交评价").click()
    expect(answer.locator("main")).to_contain_text("感谢您的评价")
    _quiet(answer)
    case.refresh_from_db()
    assert case.state == CaseState.CLOSED
    assert case.rework_count == 1
    answer.screenshot(path=screenshot_dir / "case-feedback-done.png", full_page=True)

    # The resident's own page tells the story.
    page.goto(base + "/cases/mine/")
    mine = page.locator(f"article:has-text('{number}')")
    for label in ("受理", "立案", "派遣", "签收", "核查不通过，返工", "核查通过", "回访评价", "结案"):
        expect(mine).to_contain_text(label)

    for context in (dispatch_context, handler_context, check_context, answer_context):
        context.close()

    # 8. A few days on (the case's deadline has come, so it is in the cohort of cases due), the metrics
    #    job has run and the street's dashboard shows the rework and the closing.
    _quiet(page)
    with time_machine.travel(timezone.now() + timedelta(days=14), tick=True):
        case_metrics_fill()
        dashboard_context, dashboard = _as(browser, browser_context_args, base, world.dispatcher)
        dashboard.goto(base + "/cases/dashboards/")
        cards = dashboard.locator(".metric-card")
        rework = cards.filter(has=dashboard.locator(".metric-label", has_text="返工率"))
        closed = cards.filter(has=dashboard.locator(".metric-label", has_text=re.compile(r"^结案率$")))
        expect(rework.locator(".metric-parts")).to_contain_text("1 / 2")
        expect(closed.locator(".metric-parts")).to_contain_text("1 / 1")
        expect(closed.locator(".metric-value")).to_contain_text("100")
        dashboard.screenshot(path=screenshot_dir / "case-dashboard.png", full_page=True)
        dashboard_context.close()
