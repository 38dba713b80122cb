"""``shequ demo_accounts``: one demo account per role on the imported Shanghai tree."""

from __future__ import annotations

import os
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from shequ.accounts.demo import DemoTreeMissingError, demo_accounts_ensure


class Command(BaseCommand):
    help = "Create (idempotently) one demo account per role and print their usernames and passwords."

    def handle(self, *args: Any, **options: Any) -> None:
        seed = os.environ.get("SHEQU_DEMO_PASSWORD") or None
        try:
            accounts = demo_accounts_ensure(seed=seed)
        except DemoTreeMissingError as exc:
            raise CommandError(str(exc)) from exc
        rows = [(_("用户名"), _("密码"), _("角色"), _("节点"))]
        rows += [(a.username, a.password, a.role, a.node) for a in accounts]
        widths = [max(_display_width(row[i]) for row in rows) for i in range(4)]
        for number, row in enumerate(rows):
            self.stdout.write("  ".join(_pad(cell, widths[i]) for i, cell in enumerate(row)).rstrip())
            if number == 0:
                self.stdout.write("  ".join("-" * w for w in widths))
        self.stdout.write("")
        self.stdout.write(
            _("工作人员账户（居民、志愿者以外）首次登录时须绑定 TOTP 动态验证码（手机验证器应用扫码）。")
        )
        if seed:
            self.stdout.write(_("密码由环境变量 SHEQU_DEMO_PASSWORD 推导，重复运行保持不变。"))
        else:
            self.stdout.write(_("密码为随机生成，每次运行都会重置；设置 SHEQU_DEMO_PASSWORD 可使其固定。"))


def _display_width(text: str) -> int:
    # CJK characters take two columns in a terminal.
    return sum(2 if ord(ch) > 0x2E7F else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _display_width(text))
