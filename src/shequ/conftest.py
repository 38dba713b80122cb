"""Shared fixtures for the whole suite."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture(autouse=True)
def _english_off(settings: Any) -> None:  # keep tests language-stable: zh-hans is the default
    settings.LANGUAGE_CODE = "zh-hans"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Only browser tests may use Playwright's fixtures. A test parameter that happens to be named
    ``page`` or ``browser`` would silently pull in the browser and reorder the suite around the
    transactional browser tests, whose database flush then removes migration-seeded rows (the
    calendar, the tag dictionary) from under later tests."""
    for item in items:
        callspec = getattr(item, "callspec", None)
        uses_browser = "browser_name" in getattr(item, "fixturenames", ()) or (
            callspec is not None and "browser_name" in callspec.params
        )
        if uses_browser and item.get_closest_marker("browser") is None:
            raise pytest.UsageError(
                f"{item.nodeid} uses a Playwright fixture but is not marked as a browser test; "
                "rename a parameter called page/browser/context, or mark the test @pytest.mark.browser."
            )
