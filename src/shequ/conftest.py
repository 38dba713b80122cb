"""Shared fixtures for the whole suite."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture(autouse=True)
def _english_off(settings: Any) -> None:  # keep tests language-stable: zh-hans is the default
    settings.LANGUAGE_CODE = "zh-hans"
