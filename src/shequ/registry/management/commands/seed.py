"""``shequ seed --scale demo|street|district|city``: fill the registry with a synthetic population."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _
from tqdm import tqdm

from shequ.registry.selectors import SeedScale
from shequ.registry.services import CommitteeSeedResult, synthetic_population_seed


class Command(BaseCommand):
    help = "生成合成（虚构）人口数据：小区、楼栋、房屋、户与居民。所有记录均标记为合成数据。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--scale", choices=[s.value for s in SeedScale], default=SeedScale.DEMO.value)
        parser.add_argument("--seed", type=int, default=1, help="随机种子：同一种子生成相同的数据。")
        parser.add_argument(
            "--street", dest="street_code", help="街镇代码（--scale street），默认南京东路街道。"
        )
        parser.add_argument(
            "--district", dest="district_code", help="区代码（--scale district），默认黄浦区。"
        )
        parser.add_argument(
            "--reset", action="store_true", help="先删除所涉居村委的合成数据（不触及真实数据）。"
        )
        parser.add_argument("--as-of", dest="as_of", type=date.fromisoformat, help="年龄计算的基准日期。")
        parser.add_argument("--no-progress", action="store_true", help="不显示进度条。")

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(
            self.style.WARNING(
                _("注意：本命令生成的人口、房屋与户籍记录均为程序合成的虚构数据，不对应任何真实个人。")
            )
        )
        bar: tqdm[Any] | None = None

        def on_start(total: int) -> None:
            nonlocal bar
            if total == 0:
                raise CommandError(_("没有找到居村委。请先导入区划代码（shequ import_divisions）。"))
            bar = tqdm(
                total=total, unit=_("居村"), disable=options["no_progress"] or None, file=self.stderr._out
            )

        def on_committee(result: CommitteeSeedResult) -> None:
            if bar is not None:
                bar.update(1)
                bar.set_postfix_str(result.committee_code, refresh=False)

        try:
            report = synthetic_population_seed(
                scale=SeedScale(options["scale"]),
                seed=options["seed"],
                street_code=options["street_code"],
                district_code=options["district_code"],
                reset=options["reset"],
                as_of=options["as_of"],
                on_start=on_start,
                on_committee=on_committee,
            )
        finally:
            if bar is not None:
                bar.close()
        counts = report.counts
        self.stdout.write(
            _(
                "合成数据已生成：居村委 %(seeded)d 个（跳过 %(skipped)d 个），"
                "小区 %(compounds)d 个，楼栋 %(buildings)d 栋，"
                "房屋 %(houses)d 套，户 %(households)d 户，人员 %(persons)d 人。"
            )
            % {
                "seeded": report.seeded,
                "skipped": report.skipped,
                "compounds": counts.get("compounds", 0),
                "buildings": counts.get("buildings", 0),
                "houses": counts.get("houses", 0),
                "households": counts.get("households", 0),
                "persons": counts.get("persons", 0),
            }
        )
        self.stdout.write(
            _("用时 %(seconds).1f 秒，峰值内存 %(rss).0f MB。")
            % {"seconds": report.seconds, "rss": report.peak_rss_mb}
        )
