"""A committee worker signs in with a password and a TOTP code, browses district → street → their
committee and sees its compounds; a worker of another committee gets the not-found page there."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from django_otp.oath import totp
from playwright.sync_api import Browser, Page, expect
from pytest_django.live_server_helper import LiveServer

from shequ.accounts.models import Role, User
from shequ.accounts.tests.factories import (
    DEFAULT_PASSWORD,
    compound_create,
    small_tree,
    totp_device_confirmed,
    user_with_role,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _sign_in(page: Page, base_url: str, user: User, path: str = "/") -> None:
    page.goto(base_url + path)
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    page.fill('input[name="username"]', user.username)
    page.fill('input[name="password"]', DEFAULT_PASSWORD)
    page.click('main form button[type="submit"]')
    expect(page).to_have_url(re.compile(r"/accounts/otp/verify/"))
    device = totp_device_confirmed(user)
    code = totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=device.drift)
    page.fill('input[name="token"]', f"{code:0{device.digits}d}")
    page.click('main form button[type="submit"]')


def test_committee_worker_browses_to_their_committee_and_others_cannot(
    page: Page,
    browser: Browser,
    browser_context_args: dict[str, Any],
    live_server: LiveServer,
    screenshot_dir: Path,
) -> None:
    tree = small_tree()
    committee = tree.committee(1, 1, 1)
    compound_create(code="C-WUTONG", name="梧桐花园", committee=committee, household_count=420)
    worker = user_with_role(Role.COMMITTEE_WORKER, division=committee, display_name="王芳")
    other = user_with_role(Role.COMMITTEE_WORKER, division=tree.committee(1, 1, 2), display_name="李强")
    totp_device_confirmed(worker)
    totp_device_confirmed(other)

    _sign_in(page, live_server.url, worker)

    expect(page).to_have_url(live_server.url + "/")
    expect(page.locator("h1")).to_contain_text("王芳")
    expect(page.locator("main")).to_contain_text(committee.name)
    page.screenshot(path=screenshot_dir / "home-phone.png", full_page=True)

    page.get_by_role("navigation", name="主导航").get_by_role("link", name="辖区").click()
    expect(page).to_have_url(f"{live_server.url}/places/{tree.city.code}/")
    page.get_by_role("link", name=re.compile("黄浦区")).first.click()
    expect(page.locator("h1")).to_have_text("黄浦区")
    page.get_by_role("link", name=re.compile("黄浦区第1街道")).first.click()
    expect(page.locator("h1")).to_have_text("黄浦区第1街道")
    page.get_by_role("link", name=re.compile(committee.name)).click()

    expect(page).to_have_url(f"{live_server.url}/places/{committee.code}/")
    expect(page.locator("h1")).to_have_text(committee.name)
    children = page.locator("#children")
    expect(children).to_contain_text("梧桐花园")
    expect(children).to_contain_text(tree.compound(1, 1, 1).name)
    expect(page.get_by_role("navigation", name="位置")).to_contain_text("黄浦区第1街道")
    page.screenshot(path=screenshot_dir / "committee-phone.png", full_page=True)

    # htmx filter: the list is replaced in place.
    page.fill("#children-q", "梧桐")
    expect(children.get_by_role("link")).to_have_count(1)
    expect(children).to_contain_text("梧桐花园")

    page.get_by_role("link", name=re.compile("梧桐花园")).click()
    expect(page.locator("h1")).to_have_text("梧桐花园")
    expect(page.locator("main")).to_contain_text("420")
    page.screenshot(path=screenshot_dir / "compound-phone.png", full_page=True)

    committee_url = f"{live_server.url}/places/{committee.code}/"
    other_context = browser.new_context(**browser_context_args)
    other_page = other_context.new_page()
    try:
        _sign_in(other_page, live_server.url, other)
        expect(other_page.locator("h1")).to_contain_text("李强")
        response = other_page.goto(committee_url)
        assert response is not None
        assert response.status == 404
        expect(other_page.locator("h1")).to_have_text("页面不存在")
        expect(other_page.locator("main")).not_to_contain_text("梧桐花园")
    finally:
        other_context.close()


def test_language_switch_to_english_and_back(
    page: Page, live_server: LiveServer, screenshot_dir: Path
) -> None:
    tree = small_tree()
    worker = user_with_role(Role.COMMITTEE_WORKER, division=tree.committee(1, 1, 1), display_name="王芳")
    totp_device_confirmed(worker)
    _sign_in(page, live_server.url, worker)
    expect(page.get_by_role("navigation", name="主导航")).to_contain_text("首页")

    page.click('button[name="language"][value="en"]')

    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("navigation", name="Main navigation")).to_contain_text("Home")
    page.goto(f"{live_server.url}/places/{tree.street(1, 1).code}/")
    expect(page.locator("#children")).to_contain_text("1 compound")
    page.screenshot(path=screenshot_dir / "street-phone-en.png", full_page=True)
    page.click('button[name="language"][value="zh-hans"]')
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")


def _square(lon: float, lat: float) -> dict[str, Any]:
    ring = [[lon, lat], [lon + 0.1, lat], [lon + 0.1, lat + 0.08], [lon, lat + 0.08], [lon, lat]]
    return {"type": "Polygon", "coordinates": [ring]}


def test_boundary_map_draws_district_outlines_without_tiles(
    page: Page, live_server: LiveServer, screenshot_dir: Path
) -> None:
    tree = small_tree()
    for d, lon in ((1, 121.45), (2, 121.40)):
        district = tree.district(d)
        district.boundary = _square(lon, 31.20 - 0.1 * (d - 1))
        district.save(update_fields=["boundary"])
    admin = user_with_role(Role.CITY_ADMIN, division=tree.city, display_name="市管理员")
    totp_device_confirmed(admin)
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))

    _sign_in(page, live_server.url, admin, path=f"/places/{tree.city.code}/")

    expect(page.locator("h1")).to_have_text("上海市")
    outlines = page.locator(".boundary-map path.leaflet-interactive")
    expect(outlines).to_have_count(2)
    page.screenshot(path=screenshot_dir / "city-map-phone.png", full_page=True)
    assert requested
    assert all(url.startswith(live_server.url) for url in requested), "only our own server is contacted"
    assert not [url for url in requested if "tile" in url]

    outlines.first.click()
    expect(page.locator("h1")).to_have_text("黄浦区")
