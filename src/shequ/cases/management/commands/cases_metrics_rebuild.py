"""``shequ cases_metrics_rebuild``: recompute the case loop's daily metric table from the event log."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from shequ.cases.metrics import DEFAULT_BATCH, case_metrics_rebuild


class Command(BaseCommand):
    help = "按事件记录重新计算办件成效日统计表（一次事务，完成前仍显示旧数据）。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch", type=int, default=DEFAULT_BATCH, help="每批读取的事件数")

    def handle(self, *args: Any, **options: Any) -> None:
        folded = case_metrics_rebuild(batch=max(1, options["batch"]))
        self.stdout.write(f"已重新计算：{folded} 条案件事件。")
