"""Benchmark ``cases_intake``: ``POST /api/v1/cases/`` end to end against a raw insert of the same rows.

Each database runs in its own process (``python -m bench.cases_intake --backend sqlite|postgresql``)
on a throwaway database built by the project's migrations and the real data commands:
``import_divisions --shanghai``, ``import_boundaries --district-polygons`` and ``seed --scale street``
(南京东路街道: its committees and 46 compounds with their location points, which is what ``locate``
needs to place a point in a street and a committee). SQLite: a file in a temporary directory;
PostgreSQL: a database ``shequ_bench_intake`` created and dropped on the server of ``DATABASE_URL``
(PostgreSQL runs when ``DATABASE_URL`` points at PostgreSQL or ``SHEQU_BENCH_PG=1``; the server then
defaults to ``postgres://postgres@127.0.0.1:5432``).

The API path: a machine client with a personal token posts reports one after another through Django's
test ``Client`` (URL routing, middleware, token authentication, validation, ``locate``, routing,
duplicate check against the open cases of the street, the case, its event, follower, change-feed,
timer and notification rows in one transaction, and the delivery task queued after commit in the
database task queue, as in production). The timed reports go back to back; then as many reports
again, each followed by a probe of the highest id of every table, so that the rows each of them wrote
are known exactly (the probe would disturb the timing of the next report, so those are not timed).

The raw path: the same rows again, copied table by table (new ids; the case's number and the
follower's token made unique; the row of the daily number counter bumped), one transaction per
request, through a plain ``psycopg`` connection (PostgreSQL) or ``sqlite3`` (SQLite): no Django, no
reads, no Python work besides the driver's.
"""

from __future__ import annotations

import argparse
import io
import json
import math
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from bench import Figures, register

REQUESTS = int(os.environ.get("SHEQU_BENCH_INTAKE_REQUESTS", "1000"))
WARM_UP = int(os.environ.get("SHEQU_BENCH_INTAKE_WARM_UP", "300"))
SERVICE_CALLS = min(REQUESTS, 300)
SEED = 20_250_604
PG_DATABASE = "shequ_bench_intake"
STREET = "310101002000"  # 南京东路街道, the default of ``seed --scale street``
TARGET_RATIO = 0.30
TARGET_P95_MS = 50.0
ROOT = Path(__file__).resolve().parent.parent

PLACES = ("{compound}门口", "{compound}{b}号楼下", "{compound}后门", "{road}{n}号门口", "{road}公交站旁边")
ROADS = ("南京东路", "九江路", "汉口路", "福州路", "河南中路", "山东中路", "福建中路", "浙江中路")
PROBLEMS = (
    "有一堆垃圾没人清理",
    "路灯不亮",
    "井盖松动踩上去会响",
    "人行道砖块松动",
    "共享单车乱停乱放",
    "有人占道摆摊",
    "晚上施工噪声很大",
    "楼道里堆满杂物",
    "绿化带里的树被砍了",
    "路面有大片油污",
)
TAILS = ("", "已经好几天了", "希望尽快处理", "请相关部门管一管", "影响通行", "老人走路不安全")


# --- The parent: one process per backend ------------------------------------------------------


def _pg_server() -> str | None:
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith(("postgres://", "postgresql://")):
        return url
    if os.environ.get("SHEQU_BENCH_PG") == "1":
        return "postgres://postgres@127.0.0.1:5432/postgres"
    return None


def _child(backend: str, server: str | None) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "src"), str(ROOT)])
    env["DJANGO_SETTINGS_MODULE"] = "shequ.config.settings.test"
    args = [sys.executable, "-m", "bench.cases_intake", "--backend", backend]
    if server:
        args += ["--server", server]
    print(f"  -- {backend}", flush=True)
    done = subprocess.run(  # noqa: S603 - our own module, fixed arguments
        args, cwd=ROOT, env=env, check=True, stdout=subprocess.PIPE, text=True
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def _ms(value: float) -> str:
    return f"{value:.1f} ms"


@register("cases_intake")
def run() -> Figures:
    results = {"SQLite": _child("sqlite", None)}
    server = _pg_server()
    if server:
        results["PostgreSQL"] = _child("postgresql", server)
    first = next(iter(results.values()))
    figures = Figures(
        title="Case intake",
        description=(
            f"`POST /api/v1/cases/` through Django's test `Client` with a personal token (channel "
            f"`api`): JSON validation, `locate` of the point, routing, the duplicate check against the "
            f"street's open cases, then the case, its event, follower, change-feed, timer and "
            f"notification rows in one transaction (`shequ.cases.services_intake.case_report`), and the "
            f"delivery task queued after commit in the database task queue. {REQUESTS:,} timed reports "
            f"one after another (after {WARM_UP:,} warm-up reports, which stay as open cases of the "
            f"street; then {REQUESTS:,} untimed ones whose rows the raw side copies), "
            f"each at a point within about 150 m of one of the {first['compounds']} compounds of "
            f"南京东路街道 (real divisions and district boundaries, `seed --scale street`), in one of "
            f"{first['categories']} public categories of the seeded catalogue, with a generated "
            f"description. Against it: the same rows inserted again with a plain driver connection, "
            f"one transaction per report (see the notes). One process, one connection, sequential; "
            f"the rate is reports per second of wall time, the latency that of each report at that rate."
        ),
    )
    for backend, result in results.items():
        api, raw = result["api"], result["raw"]
        ratio = api["rate"] / raw["rate"]
        figures.add(
            f"{backend}: rows written per report",
            ", ".join(f"{table} {count:g}" for table, count in result["rows_per_request"].items()),
        )
        figures.add(f"{backend}: queries per report (API path)", f"{result['queries']:.1f}")
        figures.add(
            f"{backend}: API path",
            f"**{api['rate']:,.0f} reports/s**; latency p50 {_ms(api['p50'])}, p95 **{_ms(api['p95'])}**, "
            f"p99 {_ms(api['p99'])}",
        )
        service = result["service"]
        figures.add(
            f"{backend}: `case_report` alone ({SERVICE_CALLS} calls, no HTTP or API layer)",
            f"{service['rate']:,.0f} reports/s; p50 {_ms(service['p50'])}, p95 {_ms(service['p95'])}",
        )
        figures.add(
            f"{backend}: raw insert of the same rows",
            f"{raw['rate']:,.0f} transactions/s; p50 {_ms(raw['p50'])}, p95 {_ms(raw['p95'])}",
        )
        verdict_ratio = "met" if ratio >= TARGET_RATIO else "NOT met"
        verdict_p95 = "met" if api["p95"] < TARGET_P95_MS else "NOT met"
        figures.add(
            f"{backend}: API rate / raw rate",
            f"**{ratio:.0%}** — target ≥ {TARGET_RATIO:.0%} {verdict_ratio}; p95 < 50 ms {verdict_p95}",
        )
    for backend, result in results.items():
        figures.add(
            f"{backend}: where an API report's time goes ({PROFILED} reports under cProfile)",
            ", ".join(
                f"{label} {share:.0%}"
                for label, share in sorted(result["phases"].items(), key=lambda item: -item[1])
            ),
        )
    figures.notes.append(
        "The raw rows are exactly the ones each report of the second, untimed run wrote (found by the "
        "highest id of every table before and after it): the case, the events (the report and the "
        "start of the registration timer), the registration timer, the change-feed row, the follower "
        "row and the notification rows (in-app and e-mail), plus the update of the day's number "
        "counter; the delivery task row (written in the same transaction by the database queue) is "
        "left out of the raw side. Copies get new ids from the database, the rows that point at the "
        "case point at its copy, and the case number and follower token are altered to stay unique. "
        "The API path's remaining cost is reading (the revision tokens, the duplicate candidates), "
        "`locate`, routing, the checks and Django itself."
    )
    figures.notes.append(
        f"Where the API path stands: {first['queries']:.0f} statements per report (see the figures), "
        "in 6 round trips to PostgreSQL. Reads of reference data cost no query once a process holds them: "
        "the token and its owner, the seats, the category, the divisions and compound, the routing "
        "rules, organisations and property contracts are kept per process and reloaded only after a "
        "change (`core.revisions`: one query per request reads every revision token, which also "
        "stands for the locate index and the calendar). The round trips: the revision tokens; the "
        "duplicate candidates; `BEGIN` with the day's number counter, which also draws the case's key "
        "from its sequence; the case, follower, change-feed row, notifications and registration timer "
        "together; the events and the delivery task together (`core.rows.rows_pipelined`, one "
        "psycopg pipeline each); `COMMIT`. On PostgreSQL these statements go with server-side "
        "parameters as prepared statements (`core.rows`; Django's own queries keep client-side "
        "binding), and the delivery task row is written by the same code (`core.tasks_queue`). "
        "SQLite runs in the process: there a statement costs no round trip, and rows are written one "
        "statement after another."
    )
    figures.notes.append(
        "The raw side itself moves by a third between runs on this shared "
        "two-core machine (its round trip to the local server is about 0.17 ms). What remains above "
        "the raw loop is the Python of Django's request handling, validation, locate, routing, the "
        "duplicate scoring and the answer, and the two reads that come before the transaction."
    )
    return figures


# --- The child: build, measure ------------------------------------------------------------------


def _libpq(url: str) -> str:
    return url.replace("postgres://", "postgresql://", 1)


def _setup(backend: str, server: str | None, workdir: Path) -> str:
    if backend == "sqlite":
        url = f"sqlite:///{workdir / 'intake.sqlite3'}"
    else:
        assert server, "PostgreSQL needs a server URL"
        parts = urlsplit(server)
        import psycopg

        with psycopg.connect(_libpq(urlunsplit(parts._replace(path="/postgres"))), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{PG_DATABASE}"')
            conn.execute(f'CREATE DATABASE "{PG_DATABASE}"')
        url = urlunsplit(parts._replace(path=f"/{PG_DATABASE}"))
    os.environ["DATABASE_URL"] = url
    os.environ["SHEQU_MEDIA_ROOT"] = str(workdir / "media")
    import django

    django.setup()
    from django.conf import settings

    # Production's task queue (the test settings run tasks inline, which would deliver the
    # notifications inside the request).
    from shequ.config.settings import base as production

    settings.TASKS = production.TASKS
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("import_divisions", shanghai=True, stdout=io.StringIO())
    call_command("import_boundaries", district_polygons=True, stdout=io.StringIO())
    call_command("seed", scale="street", no_progress=True, stdout=io.StringIO())
    return url


def _drop(backend: str, server: str | None) -> None:
    from django.db import connections

    connections.close_all()
    if backend == "postgresql" and server:
        import psycopg

        admin_url = urlunsplit(urlsplit(server)._replace(path="/postgres"))
        with psycopg.connect(_libpq(admin_url), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{PG_DATABASE}"')


def _client_and_places() -> tuple[Any, list[tuple[float, float, str]], list[str]]:
    from django.test import Client

    from shequ.accounts.models import Membership, Role, User
    from shequ.accounts.services import api_token_create
    from shequ.cases.models import Category
    from shequ.places.models import Compound, Division

    committee = Division.objects.filter(parent__code=STREET).order_by("code").first()
    assert committee is not None, "the street has no committees: did the division import run?"
    user = User.objects.create_user(username="bench-reporter", email="reporter@example.org", password=None)
    Membership.objects.create(user=user, role=Role.RESIDENT, division=committee)
    _token, raw = api_token_create(user=user, name="bench")
    rows = Compound.objects.filter(committee__parent__code=STREET).values_list("lon", "lat", "name")
    compounds = [(lon, lat, name) for lon, lat, name in rows if lon is not None and lat is not None]
    assert compounds, "the street has no compounds: did the seed run?"
    categories = list(
        Category.objects.filter(is_public=True, is_active=True, emergency_service="").values_list(
            "code", flat=True
        )
    )
    assert categories, "no categories: is the catalogue seeded (migration cases 0002)?"
    return Client(HTTP_AUTHORIZATION=f"Bearer {raw}"), compounds, categories


def _body(rng: random.Random, compounds: list[tuple[float, float, str]], categories: list[str]) -> str:
    lon, lat, name = compounds[rng.randrange(len(compounds))]
    angle, distance = rng.uniform(0, 2 * math.pi), rng.uniform(0, 150)
    m_per_deg = 111_195.0
    place = PLACES[rng.randrange(len(PLACES))].format(
        compound=name, road=ROADS[rng.randrange(len(ROADS))], n=rng.randint(1, 600), b=rng.randint(1, 30)
    )
    tail = TAILS[rng.randrange(len(TAILS))]
    description = place + PROBLEMS[rng.randrange(len(PROBLEMS))] + (f"，{tail}" if tail else "") + "。"
    return json.dumps(
        {
            "category": categories[rng.randrange(len(categories))],
            "description": description,
            "lon": lon + distance * math.cos(angle) / (m_per_deg * math.cos(math.radians(lat))),
            "lat": lat + distance * math.sin(angle) / m_per_deg,
            "contact_name": "王先生",
            "contact_phone": f"139{rng.randrange(10**8):08d}",
        },
        ensure_ascii=False,
    )


INTEGER_KEYS = frozenset({"AutoField", "BigAutoField", "SmallAutoField", "IntegerField", "BigIntegerField"})


def _id_tables() -> list[str]:
    """Every table with an integer ``id`` column (where a report's rows can be found by id). The
    task queue's rows have UUIDs: that one row per report is written after commit and not copied."""
    from django.db import connection

    introspection = connection.introspection
    tables = []
    with connection.cursor() as cursor:
        for table in introspection.table_names(cursor):
            description = introspection.get_table_description(cursor, table)
            if any(
                info.name == "id" and introspection.get_field_type(info.type_code, info) in INTEGER_KEYS
                for info in description
            ):
                tables.append(table)
    return tables


def _max_ids(tables: list[str]) -> dict[str, int]:
    from django.db import connection

    with connection.cursor() as cursor:
        union = " UNION ALL ".join(f"SELECT '{t}', MAX(id) FROM {t}" for t in tables)  # noqa: S608
        cursor.execute(union)
        return {table: int(value or 0) for table, value in cursor.fetchall()}


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(share * len(ordered)) - 1)]


def _stats(seconds: list[float]) -> dict[str, float]:
    ms = [s * 1000 for s in seconds]
    return {
        "rate": len(seconds) / sum(seconds),
        "p50": statistics.median(ms),
        "p95": _percentile(ms, 0.95),
        "p99": _percentile(ms, 0.99),
    }


def _measure_api(
    client: Any, compounds: list[tuple[float, float, str]], categories: list[str]
) -> tuple[list[float], list[dict[str, tuple[int, int]]], float]:
    from django.db import connection, reset_queries
    from django.test.utils import CaptureQueriesContext

    rng = random.Random(SEED)
    url = "/api/v1/cases/"
    for _ in range(WARM_UP):
        response = client.post(url, _body(rng, compounds, categories), content_type="application/json")
        assert response.status_code == 201, response.content
    # The timed run: reports back to back, nothing else in between.
    seconds: list[float] = []
    for _ in range(REQUESTS):
        body = _body(rng, compounds, categories)
        started = time.perf_counter()
        response = client.post(url, body, content_type="application/json")
        seconds.append(time.perf_counter() - started)
        assert response.status_code == 201, response.content
    # The same number of reports again, each followed by a probe of the highest id of every table:
    # the rows each report wrote, which the raw side copies (the probe is not timed, but it would
    # disturb the timing of the report after it, so these reports are not the timed ones).
    tables = _id_tables()
    spans: list[dict[str, tuple[int, int]]] = []
    before = _max_ids(tables)
    for _ in range(REQUESTS):
        response = client.post(url, _body(rng, compounds, categories), content_type="application/json")
        assert response.status_code == 201, response.content
        after = _max_ids(tables)
        spans.append({t: (before[t], after[t]) for t in tables if after[t] > before[t]})
        before = after
    queries: list[int] = []
    for _ in range(20):
        reset_queries()
        with CaptureQueriesContext(connection) as captured:
            client.post(url, _body(rng, compounds, categories), content_type="application/json")
        queries.append(len(captured))
    return seconds, spans, statistics.mean(queries)


# Where an API report's time goes: (label, file suffix, function) summed from a profile.
PHASES = (
    ("token check", "accounts/api_auth.py", "authenticate"),
    ("place (locate, division and compound rows)", "cases/services_intake.py", "_resolve_place"),
    ("tracking number", "cases/services_intake.py", "_number_and_key"),
    ("case row", "cases/services_intake.py", "_insert"),
    ("routing", "cases/routing.py", "route_case"),
    ("duplicate check", "cases/duplicates.py", "duplicate_numbers"),
    ("event rows", "cases/services_common.py", "record"),
    ("change-feed row", "cases/services_common.py", "feed"),
    ("registration timer", "cases/services_common.py", "start_stage"),
    ("follower row", "cases/services_common.py", "subscribe"),
    ("notification rows", "cases/services_common.py", "tell_followers"),
    ("commit", "django/db/backends/base/base.py", "commit"),
    ("delivery task queued after commit", "core/notifications.py", "notifications_enqueue"),
    ("the answer (case sheet)", "cases/api/cases.py", "case_out"),
)
PROFILED = 100


def _profile(
    client: Any, compounds: list[tuple[float, float, str]], categories: list[str]
) -> dict[str, float]:
    """Share of the wall time of ``PROFILED`` reports spent in each phase (under cProfile, which
    slows Python code more than database waits: a guide to where the time goes, not exact)."""
    import cProfile
    import pstats

    rng = random.Random(SEED + 2)
    bodies = [_body(rng, compounds, categories) for _ in range(PROFILED)]
    profile = cProfile.Profile()
    profile.enable()
    for body in bodies:
        client.post("/api/v1/cases/", body, content_type="application/json")
    profile.disable()
    stats = pstats.Stats(profile).stats  # type: ignore[attr-defined]
    total = sum(row[2] for row in stats.values())  # every function's own time
    shares: dict[str, float] = {}
    for label, suffix, name in PHASES:
        spent = sum(
            row[3]
            for (filename, _line, func), row in stats.items()
            if func == name and filename.endswith(suffix)
        )
        shares[label] = spent / total
    shares["case row"] -= shares["tracking number"]  # the number is drawn inside the case insert
    shares["everything else (HTTP, middleware, JSON validation, category, checks)"] = max(
        0.0, 1.0 - sum(shares.values())
    )
    return shares


def _measure_service(compounds: list[tuple[float, float, str]], categories: list[str]) -> list[float]:
    """``case_report`` called directly with the same kind of report (no HTTP, no API layer)."""
    from shequ.accounts.models import User
    from shequ.cases.models import Category, Channel
    from shequ.cases.services_intake import case_report

    user = User.objects.get(username="bench-reporter")
    by_code = {c.code: c for c in Category.objects.filter(code__in=categories)}
    rng = random.Random(SEED + 1)
    seconds = []
    for _ in range(SERVICE_CALLS):
        body = json.loads(_body(rng, compounds, categories))
        category = by_code[body.pop("category")]
        started = time.perf_counter()
        case_report(actor=user, channel=Channel.API, category=category, **body)
        seconds.append(time.perf_counter() - started)
    return seconds


class _Raw:
    """A plain driver connection, and the copies of one report's rows ready to insert."""

    def __init__(self, backend: str, url: str) -> None:
        self.backend = backend
        if backend == "sqlite":
            import sqlite3

            self.conn: Any = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
            # The pragmas of the project's SQLite connections (settings.base).
            for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON", "busy_timeout=5000"):
                self.conn.execute(f"PRAGMA {pragma}")
            self.mark = "?"
        else:
            import psycopg

            self.conn = psycopg.connect(_libpq(url))
            self.mark = "%s"
        self.columns: dict[str, list[str]] = {}

    def fetch(self, table: str, low: int, high: int) -> list[tuple[Any, ...]]:
        cursor = self.conn.cursor()
        cursor.execute(f"SELECT * FROM {table} WHERE id > {low} AND id <= {high} ORDER BY id")  # noqa: S608
        if table not in self.columns:
            self.columns[table] = [c[0] for c in cursor.description]
        rows = cursor.fetchall()
        if self.backend == "postgresql":
            from psycopg.types.json import Jsonb

            rows = [tuple(Jsonb(v) if isinstance(v, (dict, list)) else v for v in row) for row in rows]
        return rows

    def sql(self, table: str, *, returning: bool = False) -> tuple[str, list[int]]:
        """The INSERT of ``table`` without its id, and the positions of the kept columns."""
        keep = [i for i, name in enumerate(self.columns[table]) if name != "id"]
        names = ", ".join(f'"{self.columns[table][i]}"' for i in keep)
        marks = ", ".join([self.mark] * len(keep))
        tail = " RETURNING id" if returning else ""
        return f"INSERT INTO {table} ({names}) VALUES ({marks}){tail}", keep  # noqa: S608


def _prepare_raw(raw: _Raw, spans: list[dict[str, tuple[int, int]]]) -> list[list[tuple[str, list[Any]]]]:
    """Per report: [(table, rows)] with the case first; rows as lists (mutable copies)."""
    plans = []
    for span in spans:
        plan: list[tuple[str, list[Any]]] = []
        tables = sorted(span, key=lambda t: (t != "cases_case", t))
        for table in tables:
            low, high = span[table]
            plan.append((table, [list(row) for row in raw.fetch(table, low, high)]))
        plans.append(plan)
    return plans


def _measure_raw(raw: _Raw, plans: list[list[tuple[str, list[Any]]]], day: str) -> list[float]:
    statements = {
        table: raw.sql(table, returning=table == "cases_case") for plan in plans for table, _ in plan
    }
    bump = f"UPDATE cases_casesequence SET last = last + 1 WHERE day = {raw.mark}"  # noqa: S608
    seconds = []
    for n, plan in enumerate(plans):
        prepared: list[tuple[str, str, list[list[Any]]]] = []
        for table, rows in plan:
            sql, keep = statements[table]
            columns = raw.columns[table]
            values: list[list[Any]] = []
            for row in rows:
                copy = list(row)
                if table == "cases_case":
                    copy[columns.index("number")] = f"RB{n:014d}"
                if table == "cases_casesubscription":
                    copy[columns.index("token")] = f"{copy[columns.index('token')]}-raw"
                values.append([copy[i] for i in keep])
            prepared.append((table, sql, values))
        started = time.perf_counter()
        cursor = raw.conn.cursor()
        if raw.backend == "sqlite":
            cursor.execute("BEGIN IMMEDIATE")
        new_case = None
        for table, sql, values in prepared:
            if table == "cases_case":
                cursor.execute(sql, values[0])
                new_case = cursor.fetchone()[0] if raw.backend == "postgresql" else cursor.lastrowid
                continue
            names = [raw.columns[table][i] for i in statements[table][1]]
            if "case_id" in names:
                position = names.index("case_id")
                for value in values:
                    value[position] = new_case
            cursor.executemany(sql, values)
        cursor.execute(bump, (day,))
        if raw.backend == "sqlite":
            cursor.execute("COMMIT")
        else:
            raw.conn.commit()
        seconds.append(time.perf_counter() - started)
    return seconds


def _main(backend: str, server: str | None) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="shequ-bench-intake-") as workdir:
        url = _setup(backend, server, Path(workdir))
        try:
            from django.db import connections
            from django.utils import timezone

            client, compounds, categories = _client_and_places()
            seconds, spans, queries = _measure_api(client, compounds, categories)
            rows: dict[str, float] = {}
            for span in spans:
                for table, (low, high) in span.items():
                    rows[table] = rows.get(table, 0) + (high - low)
            rows_per_request = {t: round(c / len(spans), 2) for t, c in sorted(rows.items())}
            service = _measure_service(compounds, categories)
            phases = _profile(client, compounds, categories)
            day = timezone.localdate().isoformat()
            connections.close_all()
            raw = _Raw(backend, url)
            plans = _prepare_raw(raw, spans)
            raw_seconds = _measure_raw(raw, plans, day)
            raw.conn.close()
            return {
                "compounds": len(compounds),
                "categories": len(categories),
                "rows_per_request": rows_per_request,
                "queries": queries,
                "api": _stats(seconds),
                "service": _stats(service),
                "phases": phases,
                "raw": _stats(raw_seconds),
            }
        finally:
            _drop(backend, server)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], required=True)
    parser.add_argument("--server")
    options = parser.parse_args()
    print(json.dumps(_main(options.backend, options.server), ensure_ascii=False))
