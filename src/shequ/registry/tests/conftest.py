"""Fixtures of the registry tests: a slice of Shanghai's real division tree.

The rows are copied from the 2023 statistical division codes (统计用区划代码): the city, its 16
districts, three residents' committees of 南京东路街道 (黄浦区), and a residents' committee and a
village committee of 佘山镇 (松江区).
"""

from __future__ import annotations

import csv
import io

import pytest

from shequ.places.models import Division, DivisionKind, DivisionLevel

DIVISIONS_CSV = """\
level,code,name,parent_code
city,310000000000,上海市,
district,310101000000,黄浦区,310000000000
district,310104000000,徐汇区,310000000000
district,310105000000,长宁区,310000000000
district,310106000000,静安区,310000000000
district,310107000000,普陀区,310000000000
district,310109000000,虹口区,310000000000
district,310110000000,杨浦区,310000000000
district,310112000000,闵行区,310000000000
district,310113000000,宝山区,310000000000
district,310114000000,嘉定区,310000000000
district,310115000000,浦东新区,310000000000
district,310116000000,金山区,310000000000
district,310117000000,松江区,310000000000
district,310118000000,青浦区,310000000000
district,310120000000,奉贤区,310000000000
district,310151000000,崇明区,310000000000
street,310101002000,南京东路街道,310101000000
street,310117103000,佘山镇,310117000000
committee,310101002001,云南中路居委会,310101002000
committee,310101002002,龙泉园路居委会,310101002000
committee,310101002003,贵州路居委会,310101002000
committee,310117103001,陈坊社区居委会,310117103000
committee,310117103201,江秋村村委会,310117103000
"""

NANJING_EAST_ROAD = "310101002000"
SHESHAN_TOWN = "310117103000"
SHESHAN_RESIDENTS_COMMITTEE = "310117103001"
JIANGQIU_VILLAGE = "310117103201"


def _kind(level: str, name: str) -> str:
    if level in ("city", "district"):
        return level
    for suffix, kind in (
        ("村委会", DivisionKind.VILLAGE_COMMITTEE),
        ("居委会", DivisionKind.RESIDENTS_COMMITTEE),
        ("街道", DivisionKind.SUBDISTRICT),
        ("镇", DivisionKind.TOWN),
        ("乡", DivisionKind.TOWNSHIP),
    ):
        if name.endswith(suffix):
            return kind
    return DivisionKind.OTHER


def load_divisions(*, skip: frozenset[str] = frozenset()) -> dict[str, Division]:
    created: dict[str, Division] = {}
    for row in csv.DictReader(io.StringIO(DIVISIONS_CSV)):  # parents come before children
        if row["code"] in skip:
            continue
        parent = created.get(row["parent_code"])
        created[row["code"]] = Division.objects.create(
            code=row["code"],
            name=row["name"],
            level=DivisionLevel(row["level"]),
            kind=_kind(row["level"], row["name"]),
            parent=parent,
            path=f"{parent.path if parent else ''}{row['code']}/",
        )
    return created


@pytest.fixture
def divisions(db) -> dict[str, Division]:
    return load_divisions()


@pytest.fixture
def village_only(db) -> dict[str, Division]:
    """佘山镇 with its village committee only: the smallest street to seed."""
    return load_divisions(skip=frozenset({SHESHAN_RESIDENTS_COMMITTEE}))
