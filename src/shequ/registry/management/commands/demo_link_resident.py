"""``shequ demo_link_resident``: link the demo resident to a synthetic person (demo set-up only)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from shequ.registry.demo import demo_resident_link


class Command(BaseCommand):
    help = "演示：把 demo_resident 账号绑定到其居委会的一位合成居民。"

    def handle(self, *args: Any, **options: Any) -> None:
        link = demo_resident_link()
        if link is None:
            self.stdout.write("未绑定：缺少演示账号或合成居民。")
        else:
            self.stdout.write(
                f"demo_resident 已绑定到合成居民 #{link.person_id}（{link.person.name[:1]}*）。"
            )
