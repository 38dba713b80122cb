"""A committee worker imports a small ledger with one bad row, sees the error, fixes it, re-imports,
finds a resident, reveals the phone number with a purpose; the resident then sees that access on their
own page."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from django_otp.oath import totp
from playwright.sync_api import Browser, Page, expect
from pytest_django.live_server_helper import LiveServer

from shequ.accounts.models import Role, User
from shequ.accounts.tests.factories import DEFAULT_PASSWORD, totp_device_confirmed, user_with_role
from shequ.core.models import AccessLog
from shequ.registry.models import Person
from shequ.registry.services_resident import resident_link_create
from shequ.registry.tests.test_import_support import World, household, ledger_csv

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PURPOSE = "高龄老人电话回访"


def _sign_in(page: Page, base_url: str, user: User, *, second_factor: bool) -> None:
    page.goto(base_url + "/accounts/login/")
    page.fill('input[name="username"]', user.username)
    page.fill('input[name="password"]', DEFAULT_PASSWORD)
    page.click('main form button[type="submit"]')
    if second_factor:
        expect(page).to_have_url(re.compile(r"/accounts/otp/verify/"))
        device = totp_device_confirmed(user)
        code = totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=device.drift)
        page.fill('input[name="token"]', f"{code:0{device.digits}d}")
        page.click('main form button[type="submit"]')
    expect(page).to_have_url(base_url + "/")


def _upload(page: Page, base_url: str, path: Path) -> None:
    page.goto(base_url + "/registry/imports/")
    page.set_input_files('input[name="file"]', str(path))
    page.click('main form[enctype="multipart/form-data"] button[type="submit"]')
    expect(page).to_have_url(re.compile(r"/registry/imports/\d+/"))


def test_worker_imports_fixes_finds_and_reveals_and_the_resident_sees_it(
    page: Page,
    browser: Browser,
    browser_context_args: dict[str, Any],
    live_server: LiveServer,
    tmp_path: Path,
    screenshot_dir: Path,
) -> None:
    world = World()
    worker = world.worker
    totp_device_confirmed(worker)
    resident_user = user_with_role(Role.RESIDENT, division=world.committee, username="zhang_resident")

    rows = household()
    bad = [dict(r) for r in rows]
    bad[2]["mobile"] = "12345"  # not a mobile number
    bad_file = tmp_path / "台账.csv"
    bad_file.write_bytes(ledger_csv(bad))
    good_file = tmp_path / "台账-已更正.csv"
    good_file.write_bytes(ledger_csv(rows))

    _sign_in(page, live_server.url, worker, second_factor=True)

    # 1. The ledger with a bad row: the error is shown on its row and nothing is loaded.
    _upload(page, live_server.url, bad_file)
    expect(page.locator("main")).to_contain_text("有错误")
    error_row = page.locator("tr.row-error")
    expect(error_row).to_have_count(1)
    expect(error_row).to_contain_text("手机号")
    expect(page.locator("main")).not_to_contain_text("确认导入")
    page.screenshot(path=screenshot_dir / "import-error-phone.png", full_page=True)
    assert not Person.objects.exists()

    # 2. The fixed ledger validates; confirming imports it.
    _upload(page, live_server.url, good_file)
    expect(page.locator("main")).to_contain_text("待确认")
    page.click('main form button:has-text("确认导入")')
    expect(page.locator("main")).to_contain_text("已导入")
    assert Person.objects.count() == 3

    # 3. Find the resident by name; the list shows masked numbers only.
    page.goto(live_server.url + "/registry/")
    page.fill('input[name="text"]', "张建国")
    page.click('form[role="search"] button[type="submit"]')
    results = page.locator("main")
    expect(results).to_contain_text("138****8000")
    expect(results).not_to_contain_text("13800138000")
    page.get_by_role("link", name=re.compile("张")).first.click()
    expect(page).to_have_url(re.compile(r"/registry/persons/\d+/"))

    # 4. Reveal the phone number with a purpose.
    reveal = page.locator("#reveal-mobile")
    reveal.locator('input[name="purpose"]').fill(PURPOSE)
    reveal.locator('button[type="submit"]').click()
    expect(page.locator("main")).to_contain_text("13800138000")
    page.screenshot(path=screenshot_dir / "person-revealed.png", full_page=True)
    person = Person.objects.get(name="张建国")
    log = AccessLog.objects.get(subject_id=str(person.pk))
    assert log.fields == ["mobile"]
    assert log.purpose == PURPOSE

    # 5. The committee links the resident's account; the resident sees who read their number and why.
    resident_link_create(user=resident_user, person=person, actor=worker)
    context = browser.new_context(**browser_context_args)
    resident_page = context.new_page()
    _sign_in(resident_page, live_server.url, resident_user, second_factor=False)
    resident_page.goto(live_server.url + "/registry/me/access-log/")
    expect(resident_page.locator("main")).to_contain_text(PURPOSE)
    resident_page.screenshot(path=screenshot_dir / "resident-access-log.png", full_page=True)
    context.close()
