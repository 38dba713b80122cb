"""Benchmark ``cases_duplicates``: the duplicate suggestion made while a problem is reported, against a
street holding 20,000 open cases.

Each database runs in its own process (``python -m bench.cases_duplicates --backend sqlite|postgresql``)
on a throwaway database: a SQLite file in a temporary directory, or a PostgreSQL database
``shequ_bench_duplicates`` created and dropped on the server of ``DATABASE_URL`` (PostgreSQL runs when
``DATABASE_URL`` points at PostgreSQL or ``SHEQU_BENCH_PG=1``; the server then defaults to
``postgres://postgres@127.0.0.1:5432``). The schema comes from the project's migrations; the cases are a
fixture written with ``bulk_create`` (not the intake path), their descriptions generated from templates.

Measured: ``shequ.cases.duplicates.duplicate_candidates`` exactly as the report form calls it, with
the suggested cases read, for random new reports (a point and a text, or an address only); nothing is
kept between calls.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from bench import Figures, register

OPEN_CASES = int(os.environ.get("SHEQU_BENCH_DUP_CASES", "20000"))
CLOSED_CASES = 5_000  # closed cases of the same street: the state filter must skip them
NEIGHBOUR_CASES = 5_000  # open cases of the next street: the street filter must skip them
CHECKS = 500
ADDRESS_ONLY_SHARE = 0.1  # of the cases and of the checks
SEED = 20_250_602
PG_DATABASE = "shequ_bench_duplicates"
TARGET_P95_MS = 50.0
ROOT = Path(__file__).resolve().parent.parent

# The street: a box of 1.6 km × 1.25 km (2 km²) around a point of central Shanghai.
CENTRE = (121.4800, 31.2350)
WIDTH_M, HEIGHT_M = 1600.0, 1250.0
COMMITTEES = 6
COMPOUNDS_PER_COMMITTEE = 3

# (code, kind, 大类, 小类, duplicate radius in metres, share of the cases): frequent 小类 of the dispatch
# catalogue (``shequ.cases.catalogue``, seeded by the migrations; the values here only fill in a
# category that is missing).
CATEGORIES = (
    ("E0101", "event", "市容环境", "暴露垃圾", 100, 0.20),
    ("E0103", "event", "市容环境", "积存渣土", 100, 0.08),
    ("E0102", "event", "市容环境", "道路不洁", 100, 0.10),
    ("P0106", "part", "公用设施", "路灯", 100, 0.09),
    ("P0102", "part", "公用设施", "污水雨水井盖", 50, 0.06),
    ("P0201", "part", "道路交通", "道路破损", 100, 0.08),
    ("E0501", "event", "街面秩序", "占道经营", 100, 0.09),
    ("E0503", "event", "街面秩序", "非机动车乱停放", 100, 0.10),
    ("E0301", "event", "施工管理", "违法搭建", 250, 0.05),
    ("E0703", "event", "噪声扰民", "装修噪声", 500, 0.07),
    ("P0402", "part", "园林绿化", "绿地损坏", 250, 0.04),
    ("E0603", "event", "物业管理", "楼道堆物（有物业）", 50, 0.04),
)

ROADS = (
    "南京东路", "九江路", "汉口路", "福州路", "广东路", "河南中路", "山东中路", "山西南路",
    "福建中路", "浙江中路", "湖北路", "北京东路", "天津路", "宁波路", "江西中路", "四川中路",
)  # fmt: skip
COMPOUND_NAMES = (
    "海华花园", "金桥公寓", "新昌小区", "福兴里", "长兴坊", "瑞福苑", "同福里", "荣华公寓",
    "东方小区", "永安里", "宝兴苑", "康乐小区", "天宝大楼", "明德里", "和平公寓", "春晖苑",
    "锦绣小区", "德兴坊",
)  # fmt: skip
PLACES = (
    "{road}与{road2}路口",
    "{road}与{road2}交叉口东北角",
    "{road}{n}号门口",
    "{road}{n}号对面",
    "{road}公交站旁边",
    "{compound}门口",
    "{compound}{b}号楼下",
    "{compound}后门",
    "{compound}旁边的弄堂里",
    "{road}{compound}附近",
    "我家楼下",
    "十字路口",
)
PROBLEMS: dict[str, tuple[str, ...]] = {
    "E0101": ("有一堆垃圾没人清理", "垃圾堆放很久了", "垃圾桶满了没人清运", "有人乱扔生活垃圾",
              "垃圾散落一地", "有一堆装修垃圾", "垃圾箱周围脏乱"),
    "E0103": ("渣土堆积没人运走", "建筑垃圾堆了很多", "积存了大量渣土", "工地渣土堆在路边"),
    "E0102": ("路面很脏", "人行道上都是泥浆", "地上有很多油污", "路面有大片污渍没人扫", "落叶堆积没人扫"),
    "P0106": ("路灯不亮", "路灯坏了", "路灯一闪一闪的", "好几盏路灯都不亮", "路灯白天也亮着"),
    "P0102": ("井盖缺失", "井盖松动踩上去会响", "井盖破损", "窨井盖下沉", "井盖移位了"),
    "P0201": ("路面坑坑洼洼", "人行道砖块松动", "路面塌陷一个坑", "道路破损很严重", "路沿石断了"),
    "E0501": ("有人占道摆摊", "小贩占用人行道卖水果", "店家把货物摆到人行道上", "早点摊占道经营"),
    "E0503": ("共享单车乱停乱放", "电动车把盲道堵了", "自行车堆满人行道", "共享单车倒了一地"),
    "E0301": ("有人私自搭建彩钢棚", "屋顶在搞违章搭建", "底楼住户违建围墙", "有人乱搭乱建"),
    "E0703": ("半夜有人装修很吵", "楼上装修电钻声很大", "周末一大早就在装修", "中午休息时间还在敲墙"),
    "P0402": ("绿地被踩坏了", "有人在绿化带里种菜", "树木被人砍了", "草坪被车轧坏了"),
    "E0603": ("楼道里堆满杂物", "楼道堆放纸箱有火灾隐患", "消防通道被杂物堵住", "楼道里堆了很多旧家具"),
}  # fmt: skip
DURATIONS = ("", "已经好几天了", "一个多星期了", "从昨天开始就这样", "反映过好几次", "很长时间了")
IMPACTS: dict[str, tuple[str, ...]] = {
    "E0101": ("气味很大", "苍蝇蚊子很多", "影响市容"),
    "E0103": ("扬尘很大", "影响通行"),
    "E0102": ("走路容易滑倒", "影响市容"),
    "P0106": ("晚上很黑", "老人走路不安全"),
    "P0102": ("很危险", "小孩容易掉下去"),
    "P0201": ("下雨天积水", "骑车容易摔跤"),
    "E0501": ("行人只能走到马路上", "影响通行"),
    "E0503": ("轮椅过不去", "影响通行"),
    "E0301": ("影响采光", "存在安全隐患"),
    "E0703": ("影响休息", "老人孩子睡不着"),
    "P0402": ("影响环境", "很可惜"),
    "E0603": ("存在消防隐患", "上下楼不方便"),
}
REQUESTS = (
    "",
    "希望尽快处理",
    "请相关部门管一管",
    "麻烦尽快派人来看看",
    "请尽快解决，谢谢",
    "希望有关部门重视",
)


# --- The parent: run each backend in its own process ------------------------------------------


def _pg_server() -> str | None:
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith(("postgres://", "postgresql://")):
        return url
    if os.environ.get("SHEQU_BENCH_PG") == "1":
        return "postgres://postgres@127.0.0.1:5432/postgres"
    return None


def _child(backend: str, cases: int, pg_server: str | None) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "src"), str(ROOT)])
    env["DJANGO_SETTINGS_MODULE"] = "shequ.config.settings.test"
    args = [sys.executable, "-m", "bench.cases_duplicates", "--backend", backend, "--cases", str(cases)]
    if pg_server:
        args += ["--server", pg_server]
    done = subprocess.run(  # noqa: S603 - our own module, fixed arguments
        args, cwd=ROOT, env=env, check=True, stdout=subprocess.PIPE, text=True
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def _ms(value: float) -> str:
    return f"{value:.1f} ms"


@register("cases_duplicates")
def run() -> Figures:
    results = {"SQLite": _child("sqlite", OPEN_CASES, None)}
    server = _pg_server()
    if server:
        results["PostgreSQL"] = _child("postgresql", OPEN_CASES, server)
    first = next(iter(results.values()))
    figures = Figures(
        title="Duplicate suggestion",
        description=(
            f"The check made while a problem is reported (`shequ.cases.duplicates.duplicate_candidates`: "
            f"open cases of the same category in the same street within the category's radius, text "
            f"similarity by character n-grams and rapidfuzz, then the suggested cases read) against one "
            f"street holding {first['open_cases']:,} open cases of {first['categories']} categories spread "
            f"over {WIDTH_M / 1000:.1f} km × {HEIGHT_M / 1000:.2f} km ({WIDTH_M * HEIGHT_M / 1e6:.1f} km²; "
            f"{first['address_only']:,} of them address-only), beside {first['closed_cases']:,} closed "
            f"cases of the same street and {first['neighbour_cases']:,} open cases of the next street, "
            f"written into a throwaway database built by the project's migrations. {CHECKS} checks: new "
            f"reports of a random category (drawn by the cases' own mix) with a generated description, "
            f"half of them within 150 m of an open case of that category and half anywhere in the street; "
            f"{ADDRESS_ONLY_SHARE:.0%} of them address-only (text matched within the compound). Times "
            f"are wall-clock per check, one process, one connection, nothing kept between checks."
        ),
    )
    for backend, result in results.items():
        figures.add(f"{backend}: load {result['total_cases']:,} cases", f"{result['load_seconds']:.1f} s")
        for path, stats in result["paths"].items():
            figures.add(
                f"{backend}: {path} ({stats['checks']} checks)",
                f"p50 {_ms(stats['p50'])}, p95 **{_ms(stats['p95'])}**, p99 {_ms(stats['p99'])}",
            )
        overall = result["overall"]
        verdict = "met" if overall["p95"] < TARGET_P95_MS else "NOT met"
        figures.add(
            f"{backend}: all {CHECKS} checks",
            f"p50 {_ms(overall['p50'])}, p95 **{_ms(overall['p95'])}**, p99 {_ms(overall['p99'])}, "
            f"max {_ms(overall['max'])} — target p95 < 50 ms {verdict}",
        )
        figures.add(
            f"{backend}: p95 by the category's radius",
            ", ".join(
                f"{radius} m {_ms(stats['p95'])} ({stats['checks']} checks)"
                for radius, stats in result["by_radius"].items()
            ),
        )
        figures.add(
            f"{backend}: queries per check",
            f"{result['queries_per_check']} (one for the candidate rows, one for the suggested cases)",
        )
    figures.add(
        "Cases with a point in the first query's box (same street, open, same category)",
        f"mean {first['box_rows_mean']:.0f}, p95 {first['box_rows_p95']:.0f}, max {first['box_rows_max']}",
    )
    figures.add(
        "Suggestions per check",
        f"mean {first['suggested_mean']:.1f} (limit 5); {first['with_suggestion']:.0%} of the checks "
        f"have at least one",
    )
    figures.notes.append(
        "The cases: 60% of the points gathered around the street's 18 compounds (Gaussian, σ 120 m), "
        "40% uniform over the street; 12 categories of the seeded dispatch catalogue in plausible "
        f"proportions (暴露垃圾 20% … 楼道堆物 4%), each with the catalogue's duplicate radius "
        f"({first['radii']}); descriptions composed from place, problem, duration, impact and "
        "request phrases (about 15–60 characters). Every row is written with `bulk_create`; "
        "statistics refreshed with `ANALYZE` before the checks. The first query is served by the "
        "`(street_code, state, category)` index with the latitude/longitude box as a filter on the "
        "rows it yields; the exact distance and the text similarity run in Python over the rows in "
        "the box only."
    )
    figures.notes.append(
        "The street is dense on purpose (10,000 open cases per km², several times a real street's "
        "backlog) so that the box holds many rows; with so many open cases of the same category "
        "nearby, almost every check finds something to suggest."
    )
    return figures


# --- The child: build, load, measure -----------------------------------------------------------


def _setup_django(backend: str, server: str | None, workdir: Path) -> str:
    if backend == "sqlite":
        url = f"sqlite:///{workdir / 'duplicates.sqlite3'}"
    else:
        assert server, "PostgreSQL needs a server URL"
        parts = urlsplit(server)
        admin_url = urlunsplit(parts._replace(path="/postgres"))
        import psycopg

        with psycopg.connect(_libpq(admin_url), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{PG_DATABASE}"')
            conn.execute(f'CREATE DATABASE "{PG_DATABASE}"')
        url = urlunsplit(parts._replace(path=f"/{PG_DATABASE}"))
    os.environ["DATABASE_URL"] = url
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return url


def _libpq(url: str) -> str:
    return url.replace("postgres://", "postgresql://", 1)


def _drop(backend: str, server: str | None) -> None:
    from django.db import connections

    connections.close_all()
    if backend == "postgresql" and server:
        import psycopg

        admin_url = urlunsplit(urlsplit(server)._replace(path="/postgres"))
        with psycopg.connect(_libpq(admin_url), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{PG_DATABASE}"')


_M_PER_DEG = 6_371_008.8 * math.pi / 180.0
_KX = _M_PER_DEG * math.cos(math.radians(CENTRE[1]))


def _lonlat(x_m: float, y_m: float) -> tuple[float, float]:
    """Metres east/north of the street's centre → WGS-84."""
    return CENTRE[0] + x_m / _KX, CENTRE[1] + y_m / _M_PER_DEG


def _description(code: str, rng: Any, compounds: list[str]) -> str:
    def pick(options: tuple[str, ...]) -> str:
        return options[int(rng.integers(len(options)))]

    road, road2 = (ROADS[int(i)] for i in rng.choice(len(ROADS), 2, replace=False))
    place = pick(PLACES).format(
        road=road,
        road2=road2,
        compound=compounds[int(rng.integers(len(compounds)))],
        n=int(rng.integers(1, 600)),
        b=int(rng.integers(1, 30)),
    )
    extras = (pick(DURATIONS), pick(IMPACTS[code]) if rng.random() < 0.7 else "", pick(REQUESTS))
    parts = [place + pick(PROBLEMS[code]), *(extra for extra in extras if extra)]
    return "，".join(parts) + "。"


def _load(open_cases: int) -> dict[str, Any]:  # noqa: PLR0915 - one linear recipe
    import numpy as np
    from django.db import connection, transaction

    from shequ.cases.models import Case, CaseState, Category, Channel
    from shequ.places.models import Compound, Division, DivisionKind, DivisionLevel

    rng = np.random.default_rng(SEED)
    started = time.perf_counter()

    with transaction.atomic():
        city = Division.objects.get_or_create(
            code="310000000000",
            defaults={
                "name": "上海市",
                "level": DivisionLevel.CITY,
                "kind": DivisionKind.CITY,
                "path": "310000000000/",
            },
        )[0]
        district = Division.objects.get_or_create(
            code="310101000000",
            defaults={
                "name": "黄浦区",
                "level": DivisionLevel.DISTRICT,
                "kind": DivisionKind.DISTRICT,
                "parent": city,
                "path": f"{city.path}310101000000/",
            },
        )[0]
        streets = []
        for s, name in ((901, "基准街道"), (902, "邻近街道")):
            code = f"310101{s:03d}000"
            streets.append(
                Division.objects.create(
                    code=code,
                    name=name,
                    level=DivisionLevel.STREET,
                    kind=DivisionKind.SUBDISTRICT,
                    parent=district,
                    path=f"{district.path}{code}/",
                )
            )
        street, neighbour = streets
        Division.objects.bulk_create(
            Division(
                code=f"{st.code[:9]}{c + 1:03d}",
                name=f"{st.name}第{c + 1}居委会",
                level=DivisionLevel.COMMITTEE,
                kind=DivisionKind.RESIDENTS_COMMITTEE,
                parent=st,
                path=f"{st.path}{st.code[:9]}{c + 1:03d}/",
            )
            for st in streets
            for c in range(COMMITTEES)
        )
        committees = list(Division.objects.filter(level=DivisionLevel.COMMITTEE, parent__in=streets))
        committees.sort(key=lambda d: d.code)
        # Compounds on a 6 × 3 grid over the street's box (the neighbour street reuses the layout,
        # 3 km further east).
        compound_xy: list[tuple[float, float]] = []
        compound_rows = []
        for ci, committee in enumerate(committees):
            local = ci % COMMITTEES
            for k in range(COMPOUNDS_PER_COMMITTEE):
                x = -WIDTH_M / 2 + (local + 0.5) * WIDTH_M / COMMITTEES
                y = -HEIGHT_M / 2 + (k + 0.5) * HEIGHT_M / COMPOUNDS_PER_COMMITTEE
                if ci >= COMMITTEES:
                    x += 3000.0
                lon, lat = _lonlat(x, y)
                compound_xy.append((x, y))
                code = f"C{committee.code}{k + 1:02d}"
                compound_rows.append(
                    Compound(
                        code=code,
                        name=COMPOUND_NAMES[(local * COMPOUNDS_PER_COMMITTEE + k) % len(COMPOUND_NAMES)],
                        committee=committee,
                        path=f"{committee.path}{code}/",
                        lon=lon,
                        lat=lat,
                        is_synthetic=True,
                    )
                )
        Compound.objects.bulk_create(compound_rows)
        compounds = list(Compound.objects.filter(committee__in=committees).order_by("code"))
        compound_names = [c.name for c in compounds]

        categories = []
        for code, kind, major_name, name, radius, _share in CATEGORIES:
            categories.append(
                Category.objects.get_or_create(
                    code=code,
                    defaults={
                        "kind": kind,
                        "major_code": code[1:3],
                        "major_name": major_name,
                        "minor_code": code[3:5],
                        "name": name,
                        "duplicate_radius_m": radius,
                    },
                )[0]
            )
        shares = np.array([c[5] for c in CATEGORIES])
        shares = shares / shares.sum()
        open_states = [
            CaseState.REPORTED, CaseState.REGISTERED, CaseState.DISPATCHED, CaseState.HANDLING,
            CaseState.HANDLING, CaseState.HANDLING, CaseState.HANDLED, CaseState.CHECKING,
            CaseState.SUSPENDED, CaseState.CONFIRMING,
        ]  # fmt: skip
        channels = [Channel.RESIDENT_WEB, Channel.GRID_PATROL, Channel.HOTLINE, Channel.COUNTER]
        base = datetime(2025, 6, 1, 8, 0, tzinfo=UTC)
        plan = (
            [(street, "open")] * open_cases
            + [(street, "closed")] * CLOSED_CASES
            + [(neighbour, "open")] * NEIGHBOUR_CASES
        )
        cxy = np.array(compound_xy)
        rows = []
        for n, (st, status) in enumerate(plan):
            cat = int(rng.choice(len(categories), p=shares))
            offset_x = 3000.0 if st is neighbour else 0.0
            if rng.random() < 0.6:
                # Around one of the street's own compounds (the neighbour is the same layout shifted).
                centre = cxy[int(rng.integers(COMMITTEES * COMPOUNDS_PER_COMMITTEE))]
                x = float(np.clip(rng.normal(centre[0], 120.0), -WIDTH_M / 2, WIDTH_M / 2))
                y = float(np.clip(rng.normal(centre[1], 120.0), -HEIGHT_M / 2, HEIGHT_M / 2))
            else:
                x = float(rng.uniform(-WIDTH_M / 2, WIDTH_M / 2))
                y = float(rng.uniform(-HEIGHT_M / 2, HEIGHT_M / 2))
            x += offset_x
            nearest = int(np.argmin((cxy[:, 0] - x) ** 2 + (cxy[:, 1] - y) ** 2))
            compound = compounds[nearest]
            committee = committees[nearest // COMPOUNDS_PER_COMMITTEE]
            lon, lat = _lonlat(x, y)
            address_only = rng.random() < ADDRESS_ONLY_SHARE
            reported = base - timedelta(minutes=int(rng.integers(0, 60 * 24 * 90)))
            closed = status == "closed"
            rows.append(
                Case(
                    number=f"SQB{n + 1:09d}",
                    channel=channels[int(rng.integers(len(channels)))],
                    category=categories[cat],
                    description=_description(categories[cat].code, rng, compound_names),
                    lon=None if address_only else lon,
                    lat=None if address_only else lat,
                    address=f"{compound.name}" if address_only else "",
                    district=district,
                    street=st,
                    committee=committee,
                    compound=compound,
                    path=committee.path,
                    street_code=st.code,
                    state=CaseState.CLOSED if closed else open_states[int(rng.integers(len(open_states)))],
                    reported_at=reported,
                    closed_at=reported + timedelta(days=3) if closed else None,
                    updated_at=reported,
                    is_synthetic=True,
                )
            )
        Case.objects.bulk_create(rows, batch_size=2000)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    load_seconds = time.perf_counter() - started
    open_in_street = [r for r in rows if r.street_code == street.code and r.state != CaseState.CLOSED]
    return {
        "radii": ", ".join(f"{c.name} {c.duplicate_radius_m} m" for c in categories),
        "street_code": street.code,
        "categories": len(categories),
        "open_cases": len(open_in_street),
        "address_only": sum(1 for r in open_in_street if r.lon is None),
        "closed_cases": CLOSED_CASES,
        "neighbour_cases": NEIGHBOUR_CASES,
        "total_cases": len(rows),
        "load_seconds": load_seconds,
        "shares": shares.tolist(),
        "category_ids": [c.pk for c in categories],
        "compound_names": compound_names,
        "compound_ids": [c.pk for c in compounds[: COMMITTEES * COMPOUNDS_PER_COMMITTEE]],
        "committee_of_compound": [c.committee_id for c in compounds[: COMMITTEES * COMPOUNDS_PER_COMMITTEE]],
        # (category id, lon, lat) of the street's open cases with a point, for the checks near them.
        "points": [(r.category_id, r.lon, r.lat) for r in open_in_street if r.lon is not None],
    }


def _measure(info: dict[str, Any]) -> dict[str, Any]:
    import numpy as np
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from shequ.cases.duplicates import duplicate_candidates
    from shequ.cases.models import Category

    rng = np.random.default_rng(SEED + 1)
    categories = Category.objects.in_bulk(info["category_ids"])
    category_list = [categories[pk] for pk in info["category_ids"]]
    points_by_category: dict[int, list[tuple[float, float]]] = {}
    for cat_id, case_lon, case_lat in info["points"]:
        points_by_category.setdefault(cat_id, []).append((case_lon, case_lat))
    arrays = {k: np.array(v) for k, v in points_by_category.items()}

    times: dict[str, list[float]] = {"point near a case": [], "point anywhere": [], "address only": []}
    by_radius: dict[int, list[float]] = {}
    box_rows: list[int] = []
    suggested: list[int] = []
    query_counts: set[int] = set()
    for _ in range(CHECKS):
        category = category_list[int(rng.choice(len(category_list), p=info["shares"]))]
        text = _description(category.code, rng, info["compound_names"])
        compound_index = int(rng.integers(len(info["compound_ids"])))
        compound_id = info["compound_ids"][compound_index]
        lon: float | None
        lat: float | None
        if rng.random() < ADDRESS_ONLY_SHARE:
            kind, lon, lat = "address only", None, None
        elif rng.random() < 0.5:
            kind = "point near a case"
            pool = points_by_category[category.pk]
            base_lon, base_lat = pool[int(rng.integers(len(pool)))]
            angle, dist = rng.uniform(0, 2 * math.pi), rng.uniform(0, 150)
            lon = base_lon + dist * math.cos(angle) / _KX
            lat = base_lat + dist * math.sin(angle) / _M_PER_DEG
        else:
            kind = "point anywhere"
            lon, lat = _lonlat(
                rng.uniform(-WIDTH_M / 2, WIDTH_M / 2), rng.uniform(-HEIGHT_M / 2, HEIGHT_M / 2)
            )
        if lon is not None and lat is not None:
            radius = float(category.duplicate_radius_m)
            dlat = radius * 1.01 / _M_PER_DEG
            dlon = radius * 1.01 / (_M_PER_DEG * math.cos(math.radians(lat)))
            pts = arrays[category.pk]
            box_rows.append(int(((abs(pts[:, 0] - lon) <= dlon) & (abs(pts[:, 1] - lat) <= dlat)).sum()))
        with CaptureQueriesContext(connection) as queries:
            t0 = time.perf_counter()
            found = duplicate_candidates(
                category=category,
                lon=lon,
                lat=lat,
                text=text,
                street_code=info["street_code"],
                committee_id=info["committee_of_compound"][compound_index],
                compound_id=compound_id,
            )
            shown = [(c.case.number, c.case.state, c.case.reported_at, round(c.score, 2)) for c in found]
            elapsed = (time.perf_counter() - t0) * 1000
        query_counts.add(len(queries))
        suggested.append(len(shown))
        times[kind].append(elapsed)
        by_radius.setdefault(category.duplicate_radius_m, []).append(elapsed)
    everything = [t for values in times.values() for t in values]
    return {
        "paths": {
            kind: {
                "checks": len(values),
                "p50": _pct(values, 50),
                "p95": _pct(values, 95),
                "p99": _pct(values, 99),
            }
            for kind, values in times.items()
        },
        "overall": {
            "p50": _pct(everything, 50),
            "p95": _pct(everything, 95),
            "p99": _pct(everything, 99),
            "max": max(everything),
        },
        "by_radius": {
            str(radius): {"checks": len(values), "p95": _pct(values, 95)}
            for radius, values in sorted(by_radius.items())
        },
        "queries_per_check": "/".join(str(n) for n in sorted(query_counts)),
        "box_rows_mean": statistics.mean(box_rows),
        "box_rows_p95": _pct([float(v) for v in box_rows], 95),
        "box_rows_max": max(box_rows),
        "suggested_mean": statistics.mean(suggested),
        "with_suggestion": sum(1 for n in suggested if n) / len(suggested),
    }


def _pct(values: list[float], q: int) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.cases_duplicates")
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--cases", type=int, default=OPEN_CASES)
    parser.add_argument("--server", default=None, help="PostgreSQL server URL (any database name)")
    parser.add_argument("--pg", action="store_true", help="also run PostgreSQL (parent mode)")
    parser.add_argument("--parent", action="store_true", help="run both backends and print the figures")
    parser.add_argument("--keep", action="store_true", help="keep the PostgreSQL database (to inspect plans)")
    args = parser.parse_args(argv)
    if args.parent or args.pg:
        if args.pg:
            os.environ.setdefault("SHEQU_BENCH_PG", "1")
        figures = run()
        for label, value in figures.rows:
            print(f"{label}: {value}")
        return 0
    with tempfile.TemporaryDirectory(prefix="shequ-bench-duplicates-") as workdir:
        _setup_django(args.backend, args.server, Path(workdir))
        try:
            info = _load(args.cases)
            print(
                f"[{args.backend}] loaded {info['total_cases']:,} cases in {info['load_seconds']:.1f} s",
                file=sys.stderr,
                flush=True,
            )
            measured = _measure(info)
        finally:
            _drop(args.backend, None if args.keep else args.server)
    keep = ("radii", "categories", "open_cases", "address_only", "closed_cases", "neighbour_cases",
            "total_cases", "load_seconds")  # fmt: skip
    print(json.dumps({**{k: info[k] for k in keep}, **measured}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
