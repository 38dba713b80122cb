"""The outcome dashboard page and the metrics API, per seat, over the fixture of ``metric_stories``."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from shequ.accounts.models import OrganisationKind, Role, User
from shequ.accounts.tests.factories import login, organisation_create, user_with_role
from shequ.cases import selectors_metrics
from shequ.cases.metrics import INDICATORS, case_metrics_fill
from shequ.cases.tests.metric_stories import JUNE, STREET_11, World, world_full

pytestmark = pytest.mark.django_db

JUNE_QUERY = {"period": "custom", "start": "2025-06-01", "end": "2025-06-30"}


@pytest.fixture
def full() -> World:
    world = world_full()
    case_metrics_fill()
    return world


def seat(world: World, role: str) -> User:
    tree = world.tree
    places: dict[str, dict[str, Any]] = {
        Role.CITY_ADMIN: {"division": tree.city},
        Role.DISTRICT_OFFICER: {"division": tree.district(1)},
        Role.STREET_OFFICER: {"division": tree.street(1, 1)},
        Role.STREET_DISPATCHER: {"division": tree.street(1, 1)},
        Role.COMMITTEE_WORKER: {"division": tree.committee(1, 1, 1)},
        Role.COMMITTEE_HEAD: {"division": tree.committee(1, 1, 1)},
        Role.DEPARTMENT_HANDLER: {"organisation": world.branch},
        Role.DEPARTMENT_HEAD: {"organisation": world.branch},
        Role.RESIDENT: {"division": tree.committee(1, 1, 1)},
        Role.GRID_WORKER: {"grid": tree.grid},
    }
    return user_with_role(role, **places[role])


def page(client: Client, user: User, **params: str) -> Any:
    login(client, user)
    return client.get(reverse("cases:dashboards"), {**JUNE_QUERY, **params})


@pytest.mark.parametrize(
    ("role", "level", "node_of", "ranked"),
    [
        (Role.CITY_ADMIN, "city", lambda w: w.tree.city, "district"),
        (Role.DISTRICT_OFFICER, "district", lambda w: w.tree.district(1), "street"),
        (Role.STREET_OFFICER, "street", lambda w: w.tree.street(1, 1), "committee"),
        (Role.STREET_DISPATCHER, "street", lambda w: w.tree.street(1, 1), "committee"),
        (Role.COMMITTEE_WORKER, "committee", lambda w: w.tree.committee(1, 1, 1), None),
        (Role.COMMITTEE_HEAD, "committee", lambda w: w.tree.committee(1, 1, 1), None),
        (Role.DEPARTMENT_HANDLER, "department", lambda w: w.branch, None),
        (Role.DEPARTMENT_HEAD, "department", lambda w: w.branch, None),
    ],
)
def test_each_seat_opens_the_dashboard_of_its_own_node(
    client: Client, full: World, role: str, level: str, node_of: Any, ranked: str | None
) -> None:
    response = page(client, seat(full, role))
    assert response.status_code == 200
    board = response.context["board"]
    node = node_of(full)
    assert board.node.level == level
    assert board.node.name == node.name
    assert (board.ranking.level if board.ranking else None) == ranked
    html = response.content.decode()
    assert f"{node.name} 办件成效" in html
    for indicator in INDICATORS:
        assert str(indicator.label) in html
    assert 'id="chart-trend"' in html
    assert "/static/vendor/echarts/echarts.min.js" in html
    assert "//cdn" not in html


def test_the_street_dashboard_shows_the_hand_counted_figures(client: Client, full: World) -> None:
    response = page(client, seat(full, Role.STREET_DISPATCHER))
    cards = {card.code: (card.numerator, card.denominator) for card in response.context["cards"]}
    assert cards == STREET_11
    html = response.content.decode()
    assert "66.7%" in html  # 结案率 4 / 6
    assert "4 / 6" in html
    # The ranking table beside the chart: committee (1, 1, 1) has 5 cases due, below the minimum of 30.
    ranking = response.context["board"].ranking
    assert not ranking.rows
    assert [row.node for row in ranking.too_small] == [
        full.tree.committee(1, 1, 1).code,
        full.tree.committee(1, 1, 2).code,
    ]
    assert "本期没有达到最低案件量的下级单位" in html


def test_the_ranking_table_lists_the_units_with_enough_volume(
    client: Client, full: World, settings: Any
) -> None:
    settings.SHEQU_RANKING_MIN_VOLUME = 2
    response = page(client, seat(full, Role.STREET_OFFICER))
    rows = response.context["board"].ranking.rows
    assert [(row.node, row.rank, row.volume) for row in rows] == [(full.tree.committee(1, 1, 1).code, 1, 5)]
    html = response.content.decode()
    assert 'id="chart-ranking"' in html
    assert f"node={full.tree.committee(1, 1, 1).code}" in html


def test_an_officer_drills_down_inside_the_district(client: Client, full: World) -> None:
    officer = seat(full, Role.DISTRICT_OFFICER)
    street = full.tree.street(1, 1)
    response = page(client, officer, level="street", node=street.code)
    assert response.status_code == 200
    assert response.context["board"].node.node == street.code
    assert [a.node for a in response.context["ancestors"]] == [full.tree.district(1).code]
    branch = page(client, officer, level="department", node=full.branch_node)
    assert branch.status_code == 200  # the branch serves district 1


@pytest.mark.parametrize(
    ("role", "params_of"),
    [
        (Role.RESIDENT, lambda w: {}),
        (Role.GRID_WORKER, lambda w: {}),
        (Role.DISTRICT_OFFICER, lambda w: {"level": "street", "node": w.tree.street(2, 1).code}),
        (Role.DISTRICT_OFFICER, lambda w: {"level": "city", "node": w.tree.city.code}),
        (Role.STREET_OFFICER, lambda w: {"level": "committee", "node": w.tree.committee(1, 2, 1).code}),
        (Role.STREET_OFFICER, lambda w: {"level": "street", "node": "310101099000"}),
        (Role.STREET_OFFICER, lambda w: {"level": "committee", "node": w.tree.street(1, 1).code}),
        (Role.COMMITTEE_WORKER, lambda w: {"level": "department", "node": w.branch_node}),
        (Role.DEPARTMENT_HANDLER, lambda w: {"level": "department", "node": w.office_node}),
        (Role.DEPARTMENT_HANDLER, lambda w: {"level": "department", "node": "org:x"}),
    ],
)
def test_a_node_outside_the_seat_is_not_found(client: Client, full: World, role: str, params_of: Any) -> None:
    assert page(client, seat(full, role), **params_of(full)).status_code == 404


def test_another_districts_branch_is_not_found(client: Client, full: World) -> None:
    other = organisation_create(kind=OrganisationKind.DEPARTMENT_BRANCH, division=full.tree.district(2))
    response = page(client, seat(full, Role.DISTRICT_OFFICER), level="department", node=f"org:{other.pk}")
    assert response.status_code == 404


def test_signed_out_visitors_are_sent_to_sign_in(client: Client, full: World) -> None:
    response = client.get(reverse("cases:dashboards"))
    assert response.status_code == 302


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"start": "2025-06-30", "end": "2025-06-01"}, "开始日期不能晚于结束日期"),
        ({"start": "2024-01-01", "end": "2025-06-01"}, "统计期间最长 366 天"),
        ({"start": "not-a-date"}, "有效"),
    ],
)
def test_a_wrong_period_is_refused_with_the_reason(
    client: Client, full: World, params: dict[str, str], message: str
) -> None:
    response = page(client, seat(full, Role.STREET_OFFICER), **params)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert "board" not in response.context


def test_the_presets_and_the_category_filter(client: Client, full: World) -> None:
    user = seat(full, Role.STREET_OFFICER)
    response = page(client, user, period="7")
    assert response.context["board"].period.days == 7
    response = page(client, user, category=full.b.code)
    cards = {card.code: (card.numerator, card.denominator) for card in response.context["cards"]}
    assert cards["closed_rate"] == (1, 2)
    assert cards["extension_rate"] == (1, 2)


def test_the_default_period_is_the_last_thirty_days(client: Client, full: World) -> None:
    login(client, seat(full, Role.STREET_OFFICER))
    response = client.get(reverse("cases:dashboards"))
    assert response.status_code == 200
    assert response.context["board"].period.days == 30


def test_the_dashboard_reads_a_fixed_number_of_queries(full: World, django_assert_num_queries: Any) -> None:
    node = selectors_metrics.MetricNode(level="street", node=full.tree.street(1, 1).code, name="")
    # The parent, its children, the node's days (summed for the cards), and the children's sums:
    # whole months from the monthly table, days from the daily table, or both when the period has
    # whole months and days at its edges.
    periods = {
        4: [
            selectors_metrics.Period(*JUNE),
            selectors_metrics.Period(date(2024, 7, 1), date(2025, 6, 30)),
            selectors_metrics.Period(date(2025, 6, 2), date(2025, 6, 20)),
        ],
        5: [selectors_metrics.Period(date(2024, 6, 20), date(2025, 6, 19))],
    }
    for count, spans in periods.items():
        for period in spans:
            with django_assert_num_queries(count):
                selectors_metrics.dashboard(node, period)


# --- the API ---------------------------------------------------------------------------------------

URL = "/api/v1/cases/metrics"


def api(client: Client, user: User | None, path: str = URL, **params: str) -> Any:
    if user is not None:
        login(client, user)
    return client.get(path, {"start": "2025-06-01", "end": "2025-06-30", **params})


def test_the_api_gives_every_indicator_with_its_parts(client: Client, full: World) -> None:
    response = api(
        client, seat(full, Role.DISTRICT_OFFICER), level="street", node=full.tree.street(1, 1).code
    )
    assert response.status_code == 200
    body = response.json()
    assert body["node"] == {
        "level": "street",
        "node": full.tree.street(1, 1).code,
        "name": full.tree.street(1, 1).name,
    }
    got = {i["code"]: (i["numerator"], i["denominator"]) for i in body["indicators"]}
    assert got == STREET_11
    closed = next(i for i in body["indicators"] if i["code"] == "closed_rate")
    assert closed["value"] == pytest.approx(4 / 6)
    assert (body["start"], body["end"]) == ("2025-06-01", "2025-06-30")


def test_the_api_defaults_to_the_callers_node_and_answers_null_over_zero(client: Client, full: World) -> None:
    response = api(client, seat(full, Role.COMMITTEE_WORKER), category=full.b.code, start="2025-06-20")
    body = response.json()
    assert body["node"]["node"] == full.tree.committee(1, 1, 1).code
    assert all(i["value"] is None and i["denominator"] == 0 for i in body["indicators"])


def test_the_api_trend_and_ranking(client: Client, full: World) -> None:
    user = seat(full, Role.STREET_DISPATCHER)
    trend = api(client, user, path=f"{URL}/trend").json()
    assert len(trend["days"]) == 30
    june_12 = next(d for d in trend["days"] if d["day"] == "2025-06-12")
    closed = next(i for i in june_12["indicators"] if i["code"] == "closed_rate")
    assert (closed["numerator"], closed["denominator"]) == (1, 1)
    ranking = api(client, user, path=f"{URL}/ranking", min_volume="2").json()
    assert ranking["level"] == "committee"
    assert [(r["node"], r["rank"], r["band"]) for r in ranking["ranked"]] == [
        (full.tree.committee(1, 1, 1).code, 1, 1)
    ]
    assert [r["node"] for r in ranking["too_small"]] == [full.tree.committee(1, 1, 2).code]
    department = api(client, seat(full, Role.DEPARTMENT_HANDLER), path=f"{URL}/ranking").json()
    assert department["level"] is None
    assert department["ranked"] == []


@pytest.mark.parametrize(
    ("params_of", "status", "code"),
    [
        (lambda w: {"level": "street", "node": w.tree.street(2, 1).code}, 404, "not_found"),
        (lambda w: {"node": "310101099000"}, 404, "not_found"),
        (lambda w: {"start": "2025-06-30", "end": "2025-06-01"}, 422, "invalid"),
        (lambda w: {"start": "2024-01-01"}, 422, "invalid"),
        (lambda w: {"start": "yesterday"}, 422, "invalid"),
    ],
)
def test_the_api_refuses_what_it_cannot_answer(
    client: Client, full: World, params_of: Any, status: int, code: str
) -> None:
    response = api(client, seat(full, Role.DISTRICT_OFFICER), **params_of(full))
    assert response.status_code == status
    assert response.json()["code"] == code


def test_the_api_ranking_checks_its_options(client: Client, full: World) -> None:
    user = seat(full, Role.STREET_OFFICER)
    assert api(client, user, path=f"{URL}/ranking", indicator="clicks").status_code == 422
    assert api(client, user, path=f"{URL}/ranking", band="stars").status_code == 422


def test_the_api_needs_a_signed_in_caller_with_a_seat(client: Client, full: World) -> None:
    assert api(client, None).status_code == 401
    assert api(client, seat(full, Role.RESIDENT)).status_code == 404
