"""Periodic jobs, deadline handlers and navigation of the cases app (filled in by each area)."""

from __future__ import annotations


def register_all() -> None:
    return None
