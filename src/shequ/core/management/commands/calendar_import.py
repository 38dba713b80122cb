"""``shequ calendar_import YEAR``: take a year's official schedule from the installed
``chinesecalendar`` package, once the package knows it."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from shequ.core.errors import ApiError
from shequ.core.services_clock import calendar_year_import


class Command(BaseCommand):
    help = "从 chinesecalendar 数据包导入某一年的节假日和调休上班日，并标记该年日历完整。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("year", type=int)

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            row = calendar_year_import(year=options["year"])
        except ApiError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(f"{row.year}: {row.get_source_display()}")
