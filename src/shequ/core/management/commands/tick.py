"""``shequ tick``: mark deadline reminders (80 %) and overdue timers. Run it every minute or so."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from shequ.core.services_clock import deadlines_tick


class Command(BaseCommand):
    help = "标记到达提醒点（80%）和已超期的时限；重复运行不会重复标记。"

    def handle(self, *args: Any, **options: Any) -> None:
        result = deadlines_tick()
        self.stdout.write(f"reminded={len(result.reminded)} overdue={len(result.overdue)}")
