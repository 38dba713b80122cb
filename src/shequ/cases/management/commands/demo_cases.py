"""``shequ demo_cases``: demo cases in every stage of the loop (after ``seed`` and ``demo_accounts``)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from shequ.cases.demo import demo_cases_ensure


class Command(BaseCommand):
    help = "Create demo cases in the demo street, walked through the real services (idempotent)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--count", type=int, default=40)

    def handle(self, *args: Any, **options: Any) -> None:
        report = demo_cases_ensure(count=options["count"])
        if report.existing:
            self.stdout.write(f"demo cases already present: {report.existing}")
        else:
            self.stdout.write(f"demo cases created: {report.created}")
        from shequ.cases.metrics import case_metrics_fill

        self.stdout.write(f"metric events folded: {case_metrics_fill()}")
