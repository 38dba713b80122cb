"""End-to-end tests in headless Chromium (Debian's /usr/bin/chromium) against the live test server.

Playwright's sync API runs an event loop in the test thread; Django's ORM refuses to run inside one
unless told that it is safe, which it is here (one test thread, the server in its own thread).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.servers.basehttp import WSGIServer
from django.test.testcases import LiveServerThread

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("SHEQU_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS, "headless": True}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict[str, Any]) -> dict[str, Any]:
    # A phone first: committee workers use the platform on their phones.
    return {
        **browser_context_args,
        "viewport": PHONE,
        "device_scale_factor": 2,
        "is_mobile": True,
        "has_touch": True,
        "locale": "zh-CN",
    }


@pytest.fixture
def screenshot_dir(request: pytest.FixtureRequest) -> Path:
    path = Path(request.config.rootpath) / "var" / "screenshots"
    path.mkdir(parents=True, exist_ok=True)
    return path


class _OneRequestAtATime(WSGIServer):
    """The live server without threads: it shares the test's in-memory SQLite connection, and two
    requests of one page (an htmx fragment, a map's data, the inbox badge — each saving the session)
    served at once would interleave their transactions on that one connection."""

    def __init__(self, *args: Any, connections_override: Any = None, **kwargs: Any) -> None:
        # The serving thread already uses the shared connections (``LiveServerThread.run``).
        super().__init__(*args, **kwargs)


@pytest.fixture(scope="session", autouse=True)
def _live_server_serves_one_request_at_a_time() -> Iterator[None]:
    threaded = LiveServerThread.server_class  # type: ignore[attr-defined]
    LiveServerThread.server_class = _OneRequestAtATime  # type: ignore[attr-defined]
    yield
    LiveServerThread.server_class = threaded  # type: ignore[attr-defined]
