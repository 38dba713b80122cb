"""``shequ registry_tags_refresh [--as-of YYYY-MM-DD]``: bring computed tags (高龄老人 …) up to date."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from shequ.registry.services_tags import computed_tags_refresh


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise CommandError(f"--as-of: not a date (YYYY-MM-DD): {text!r}") from None


class Command(BaseCommand):
    help = "按出生日期等规则更新自动计算的标签（如高龄老人）；重复运行不会重复标注。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--as-of", type=_day, default=None, help="按这一天计算（默认今天）")

    def handle(self, *args: Any, **options: Any) -> None:
        as_of = options["as_of"] or timezone.localdate()
        report = computed_tags_refresh(as_of=as_of)
        self.stdout.write(
            f"as_of={as_of.isoformat()} assigned={report.total_assigned} ended={report.total_ended}"
        )
        for code in sorted(report.assigned):
            self.stdout.write(f"  {code}: +{report.assigned[code]} -{report.ended[code]}")
