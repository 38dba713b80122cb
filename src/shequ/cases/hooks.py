"""Periodic jobs, deadline handlers and navigation of the cases app."""

from __future__ import annotations


def register_all() -> None:
    from .jobs import register_case_jobs
    from .metrics import register_metric_jobs

    register_case_jobs()
    register_metric_jobs()
    from .navigation import register_case_navigation

    register_case_navigation()
