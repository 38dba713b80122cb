"""``shequ registry_backflow_purge``: delete the rows of every expired back-flow dataset."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.utils import timezone
from django.utils.translation import gettext as _

from shequ.registry.services_backflow import backflow_purge_expired


class Command(BaseCommand):
    help = "清除所有已到期的回流数据集（删除数据行并记录日志）；重复运行不会重复清除。"

    def handle(self, *args: Any, **options: Any) -> None:
        purged = backflow_purge_expired(now=timezone.now())
        self.stdout.write(_("已清除到期数据集 %(n)d 个。") % {"n": len(purged)})
