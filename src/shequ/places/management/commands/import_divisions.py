"""``shequ import_divisions FILE.csv`` / ``shequ import_divisions --shanghai``: a thin wrapper over
``places.services.divisions_import``."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from shequ.places.importers import (
    SHANGHAI_DIVISIONS,
    ImportFileError,
    division_rows_read,
    shanghai_division_rows,
)
from shequ.places.services import DivisionImportError, ImportReport, divisions_import


class Command(BaseCommand):
    help = "导入统计用区划代码（四列 CSV：level,code,name,parent_code）；幂等，缺失单位只报告不删除。"

    def add_arguments(self, parser: CommandParser) -> None:
        source = parser.add_mutually_exclusive_group(required=True)
        source.add_argument("file", nargs="?", help="CSV 文件路径")
        source.add_argument("--shanghai", action="store_true", help="导入随包附带的上海市 2023 年区划代码")
        parser.add_argument(
            "--retire-missing", action="store_true", help="将文件中缺失的单位标记为停用（is_active=False）"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            if options["shanghai"]:
                rows, source = shanghai_division_rows(), f"shequ.places.data/{SHANGHAI_DIVISIONS}"
            else:
                rows, source = division_rows_read(options["file"]), str(options["file"])
        except (OSError, ImportFileError) as exc:
            raise CommandError(str(exc)) from exc
        try:
            report = divisions_import(
                rows=rows, actor=None, retire_missing=options["retire_missing"], source=source
            )
        except DivisionImportError as exc:
            for error in exc.errors:
                self.stderr.write(str(error))
            raise CommandError(f"{len(exc.errors)} 处错误，未导入任何数据。") from exc
        self._print(report, retire=options["retire_missing"])

    def _print(self, report: ImportReport, *, retire: bool) -> None:
        self.stdout.write(
            f"{'level':<10}{'created':>9}{'updated':>9}{'unchanged':>11}{'missing':>9}{'retired':>9}"
        )
        for level, c in report.levels.items():
            self.stdout.write(
                f"{level:<10}{c.created:>9}{c.updated:>9}{c.unchanged:>11}{c.missing:>9}{c.retired:>9}"
            )
        missing = report.missing_codes
        if missing:
            shown = ", ".join(missing[:20]) + (" …" if len(missing) > 20 else "")
            hint = "" if retire else "（未停用；如需停用请加 --retire-missing）"
            self.stdout.write(f"文件中缺失 {len(missing)} 个单位{hint}：{shown}")
        if report.changed:
            self.stdout.write(self.style.SUCCESS("导入完成。"))
        else:
            self.stdout.write(self.style.SUCCESS("无变化：库中数据已与文件一致。"))
