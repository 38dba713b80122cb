"""``shequ registry_retention --archive --purge [--dry-run]``: archive moved-out and deceased persons
past the archive period and purge archived persons past the purge period."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from django.utils.translation import gettext as _

from shequ.registry.services_retention import retention_archive, retention_purge


class Command(BaseCommand):
    help = "按保存期限归档迁出、已故人员记录，并删除超过保存期限的已归档记录。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--archive", action="store_true", help="归档超过归档期限的迁出、已故人员。")
        parser.add_argument("--purge", action="store_true", help="删除超过保存期限的已归档人员。")
        parser.add_argument("--dry-run", action="store_true", help="只统计，不做任何修改。")

    def handle(self, *args: Any, **options: Any) -> None:
        if not (options["archive"] or options["purge"]):
            raise CommandError(_("请指定 --archive 和/或 --purge。"))
        now = timezone.now()
        dry_run = options["dry_run"]
        if options["archive"]:
            result = retention_archive(now=now, dry_run=dry_run)
            label = _("将归档") if dry_run else _("已归档")
            self.stdout.write(_("%(label)s %(n)d 人。") % {"label": label, "n": result.archived})
        if options["purge"]:
            result = retention_purge(now=now, dry_run=dry_run)
            label = _("将删除") if dry_run else _("已删除")
            self.stdout.write(_("%(label)s %(n)d 人。") % {"label": label, "n": result.purged})
            if result.kept:
                self.stdout.write(
                    self.style.WARNING(
                        _("%(n)d 人仍被其他记录引用，未删除：%(ids)s")
                        % {"n": len(result.kept), "ids": ", ".join(map(str, result.kept))}
                    )
                )
