"""``shequ cases_import_12345 FILE --user USERNAME [--dry-run]``: load a 12345 hotline export, a thin
wrapper over ``services_import.hotline_import`` (all or nothing; tickets loaded before are skipped)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _
from tqdm import tqdm

from shequ.cases.importing import MAX_ROWS
from shequ.cases.services_import import hotline_import
from shequ.core.errors import ApiError


class Command(BaseCommand):
    help = (
        f"导入 12345 热线工单（CSV，UTF-8 或 GB18030）：先逐行校验，全部无误才导入；已导入的工单跳过。"
        f"每个文件不超过 {MAX_ROWS} 条。"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="CSV 文件路径")
        parser.add_argument(
            "--user", required=True, help="以该账号导入并立案（须为街镇调度员、街镇或区级干部）"
        )
        parser.add_argument("--dry-run", action="store_true", help="只校验，不导入")
        parser.add_argument("--no-progress", action="store_true", help="不显示进度条")

    def handle(self, *args: Any, **options: Any) -> None:
        user = get_user_model().objects.filter(username=options["user"], is_active=True).first()
        if user is None:
            raise CommandError(_("没有这个账号：%(name)s") % {"name": options["user"]})
        try:
            content = Path(options["file"]).read_bytes()
        except OSError as exc:
            raise CommandError(str(exc)) from exc
        bar: tqdm[Any] | None = None

        def on_ticket(done: int, total: int) -> None:
            nonlocal bar
            if bar is None:
                bar = tqdm(
                    total=total, unit=_("件"), disable=options["no_progress"] or None, file=self.stderr._out
                )
            bar.update(1)

        try:
            result = hotline_import(
                content=content, actor=user, dry_run=options["dry_run"], on_ticket=on_ticket
            )
        except ApiError as exc:
            raise CommandError(exc.message) from exc
        finally:
            if bar is not None:
                bar.close()
        self.stdout.write(
            _("共 %(rows)d 条：新工单 %(new)d 条，已导入过 %(old)d 条，错误 %(errors)d 处。")
            % {
                "rows": result.rows,
                "new": result.new,
                "old": result.already_imported,
                "errors": len(result.issues),
            }
        )
        if result.issues:
            for issue in result.issues:
                column = f" [{issue.column}]" if issue.column else ""
                self.stderr.write(
                    _("第 %(line)d 行%(column)s：%(message)s")
                    % {
                        "line": issue.line,
                        "column": column,
                        "message": issue.message,
                    }
                )
            raise CommandError(_("文件有错误，未导入任何工单。"))
        if options["dry_run"]:
            self.stdout.write(self.style.SUCCESS(_("校验通过（未导入）。")))
        elif result.loaded:
            self.stdout.write(self.style.SUCCESS(_("已导入并立案 %(n)d 件。") % {"n": len(result.created)}))
        else:
            self.stdout.write(self.style.SUCCESS(_("无新工单：文件中的工单均已导入。")))
