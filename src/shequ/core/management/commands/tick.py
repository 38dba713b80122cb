"""``shequ tick``: the periodic sweep. Run it every minute or so (cron, systemd timer, or a scheduler).

It marks deadline reminders (80 %) and overdue timers, then runs each registered periodic job whose
period has elapsed (computed tags, back-flow expiry, retention …). Running it twice changes nothing
the second time."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from shequ.core.services_clock import deadlines_tick
from shequ.core.ticks import periodic_jobs_run


class Command(BaseCommand):
    help = "标记到达提醒点（80%）和已超期的时限，并运行到期的定时任务；重复运行不会重复处理。"

    def handle(self, *args: Any, **options: Any) -> None:
        result = deadlines_tick()
        self.stdout.write(f"reminded={len(result.reminded)} overdue={len(result.overdue)}")
        jobs = periodic_jobs_run()
        for name in jobs.ran:
            self.stdout.write(f"ran {name}")
        for name, error in jobs.failed.items():
            self.stderr.write(f"failed {name}: {error}")
