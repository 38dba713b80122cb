"""The routing-rule pages and API: a district's rules with the effective route of every category, the
htmx create/edit/deactivate forms, the "try a route" form, and who may see and change what (another
district's officer gets a 404 for its pages and rules, a 403 for creating rules there)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from shequ.accounts.models import (
    CompoundService,
    CompoundServiceKind,
    Organisation,
    OrganisationKind,
    Role,
    User,
)
from shequ.accounts.tests.factories import SmallTree, login, organisation_create, small_tree, user_with_role
from shequ.cases.catalogue import catalogue_seed
from shequ.cases.models import Category, RoutingRule
from shequ.cases.services_routing import routing_rule_create
from shequ.core.models import Event
from shequ.core.revisions import revision_caches_clear

pytestmark = pytest.mark.django_db

API = "/api/v1/cases"


@dataclass
class World:
    tree: SmallTree
    garbage: Category
    neighbours: Category
    greenery: Organisation  # 绿化市容, district 1
    city_management: Organisation  # 城管, district 1
    company: Organisation  # the property company of compound (1, 1, 1)
    officer: User  # district officer, district 1
    other_officer: User  # district officer, district 2
    city_admin: User

    @property
    def district(self):
        return self.tree.district(1)


@pytest.fixture
def world() -> World:
    catalogue_seed()
    tree = small_tree()
    company = organisation_create(kind=OrganisationKind.PROPERTY_COMPANY, name="锦江物业")
    CompoundService.objects.create(
        compound=tree.compound(1, 1, 1), organisation=company, kind=CompoundServiceKind.PROPERTY_MANAGEMENT
    )
    return World(
        tree=tree,
        garbage=Category.objects.get(code="E0101"),
        neighbours=Category.objects.get(code="E0801"),
        greenery=organisation_create(
            kind=OrganisationKind.DEPARTMENT_BRANCH,
            division=tree.district(1),
            sector="绿化市容",
            name="黄浦区绿化市容所",
        ),
        city_management=organisation_create(
            kind=OrganisationKind.DEPARTMENT_BRANCH,
            division=tree.district(1),
            sector="城管",
            name="黄浦城管中队",
        ),
        company=company,
        officer=user_with_role(Role.DISTRICT_OFFICER, division=tree.district(1)),
        other_officer=user_with_role(Role.DISTRICT_OFFICER, division=tree.district(2)),
        city_admin=user_with_role(Role.CITY_ADMIN, division=tree.city),
    )


def client_for(user) -> Client:
    client = Client()
    login(client, user)
    return client


def page_url(world: World, suffix: str = "") -> str:
    return f"/cases/routing/{world.district.code}/{suffix}"


def form_data(**values) -> dict:
    data = {
        "place": "",
        "applies_to": "*",
        "responsible_kind": "street_office",
        "responsible_sector": "",
        "organisation": "",
        "priority": "100",
        "note": "",
    }
    data.update(values)
    return data


# --- The district page ---------------------------------------------------------------------------


def test_a_district_officer_lands_on_their_district(world):
    response = client_for(world.officer).get("/cases/routing/")
    assert response.status_code == 302
    assert response["Location"] == page_url(world)


def test_a_city_administrator_picks_a_district(world):
    response = client_for(world.city_admin).get("/cases/routing/")
    assert response.status_code == 200
    html = response.content.decode()
    assert world.tree.district(1).name in html
    assert world.tree.district(2).name in html


def test_the_district_page_lists_rules_and_the_effective_route_of_every_category(world):
    city_wide = routing_rule_create(
        actor=world.city_admin,
        division=None,
        category=Category.objects.get(code="E0201"),
        responsible_kind="department_branch",
        responsible_sector="城管",
    )
    own = routing_rule_create(
        actor=world.officer,
        division=world.tree.street(1, 1),
        category=world.garbage,
        responsible_kind="department_branch",
        organisation=world.city_management,
        note="试点",
    )
    client = client_for(world.officer)
    response = client.get(page_url(world), {"street": world.tree.street(1, 1).code})
    assert response.status_code == 200
    html = response.content.decode()
    assert f"#{own.pk}" in html
    assert f"#{city_wide.pk}" in html
    assert "由市级维护" in html  # the district officer cannot change the city-wide rule
    assert f"/rules/{own.pk}/edit/" in html
    assert f"/rules/{city_wide.pk}/edit/" not in html
    # Effective routes at street (1, 1): the garbage rule, the default elsewhere, per-case targets named.
    assert "黄浦城管中队" in html
    assert "黄浦区绿化市容所" in html
    assert "案件所在居村委" in html
    assert "案件所在小区的物业公司" in html
    assert "属地兜底" in html  # e.g. 水务 has no unit in this district


def test_the_district_page_costs_the_same_queries_whatever_the_rules(world):
    client = client_for(world.officer)
    client.get(page_url(world))  # the session settles

    def queries() -> int:
        revision_caches_clear()  # measured cold: the rules and organisations are read each time
        with CaptureQueriesContext(connection) as captured:
            assert client.get(page_url(world)).status_code == 200
        return len(captured)

    few = queries()
    for street in (world.tree.street(1, 1), world.tree.street(1, 2)):
        for code in ("E0101", "E0102", "E0201"):
            routing_rule_create(
                actor=world.officer,
                division=street,
                category=Category.objects.get(code=code),
                responsible_kind="department_branch",
                organisation=world.city_management,
            )
    assert queries() == few
    assert few <= 25


def test_another_district_s_officer_gets_404s(world):
    own = routing_rule_create(
        actor=world.officer, division=world.district, category=world.garbage, responsible_kind="street_office"
    )
    client = client_for(world.other_officer)
    assert client.get(page_url(world)).status_code == 404
    assert client.get(page_url(world, "rules/new/")).status_code == 404
    assert client.get(page_url(world, f"rules/{own.pk}/edit/")).status_code == 404
    assert client.post(page_url(world, f"rules/{own.pk}/deactivate/")).status_code == 404
    assert client.get(page_url(world, "try/"), {"category": "E0101"}).status_code == 404
    # Through their own district's pages, a rule of district 1 is not there either.
    other = f"/cases/routing/{world.tree.district(2).code}/rules/{own.pk}/edit/"
    assert client.get(other).status_code == 404
    own.refresh_from_db()
    assert own.is_active


@pytest.mark.parametrize("role", [Role.COMMITTEE_WORKER, Role.STREET_DISPATCHER, Role.RESIDENT])
def test_people_who_do_not_manage_rules_get_404s(world, role):
    node = world.tree.committee(1, 1, 1) if role != Role.STREET_DISPATCHER else world.tree.street(1, 1)
    client = client_for(user_with_role(role, division=node))
    assert client.get("/cases/routing/").status_code == 404
    assert client.get(page_url(world)).status_code == 404


# --- Creating, editing and deactivating -----------------------------------------------------------


def test_creating_a_rule_with_htmx_refreshes_the_table(world):
    client = client_for(world.officer)
    editor = client.get(page_url(world, "rules/new/"), HTTP_HX_REQUEST="true")
    assert editor.status_code == 200
    assert 'id="rule-editor"' in editor.content.decode()
    assert "<html" not in editor.content.decode()
    response = client.post(
        page_url(world, "rules/new/"),
        form_data(
            place=world.tree.street(1, 2).code,
            applies_to="cat:E0101",
            responsible_kind="department_branch",
            organisation=str(world.city_management.pk),
            note="第2街道试点",
        ),
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert 'hx-swap-oob="true"' in html
    assert "第2街道试点" in html
    rule = RoutingRule.objects.get()
    assert (rule.division, rule.category, rule.organisation) == (
        world.tree.street(1, 2),
        world.garbage,
        world.city_management,
    )
    assert Event.objects.filter(type="ROUTING_RULE_CREATED", actor=world.officer).count() == 1


def test_creating_a_rule_without_htmx_redirects_to_the_district(world):
    response = client_for(world.officer).post(
        page_url(world, "rules/new/"),
        form_data(place=world.district.code, applies_to="major:event:08", responsible_kind="committee"),
    )
    assert response.status_code == 302
    assert response["Location"] == page_url(world)
    rule = RoutingRule.objects.get()
    assert (rule.kind, rule.major_code, rule.responsible_kind) == ("event", "08", "committee")


def test_routing_department_work_to_committees_is_refused_on_the_form(world):
    client = client_for(world.officer)
    data = form_data(place=world.district.code, applies_to="cat:E0101", responsible_kind="committee")
    page = client.post(page_url(world, "rules/new/"), data)
    assert page.status_code == 422
    assert "部门职责事项不得派给居村委" in page.content.decode()
    fragment = client.post(page_url(world, "rules/new/"), data, HTTP_HX_REQUEST="true")
    assert fragment.status_code == 200
    assert "部门职责事项不得派给居村委" in fragment.content.decode()
    assert not RoutingRule.objects.exists()


def test_a_district_officer_cannot_choose_city_wide_or_another_district(world):
    client = client_for(world.officer)
    for place in ("city", world.tree.street(2, 1).code):
        response = client.post(page_url(world, "rules/new/"), form_data(place=place))
        assert response.status_code == 422
    assert not RoutingRule.objects.exists()
    admin = client_for(world.city_admin)
    assert admin.post(page_url(world, "rules/new/"), form_data(place="city")).status_code == 302
    assert RoutingRule.objects.get().division is None


def test_editing_and_deactivating_a_rule(world):
    rule = routing_rule_create(
        actor=world.officer, division=world.district, category=world.garbage, responsible_kind="street_office"
    )
    client = client_for(world.officer)
    edit = client.get(page_url(world, f"rules/{rule.pk}/edit/"))
    assert edit.status_code == 200
    assert 'value="cat:E0101" selected' in edit.content.decode()
    response = client.post(
        page_url(world, f"rules/{rule.pk}/edit/"),
        form_data(place=world.district.code, applies_to="cat:E0101", priority="7"),
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    rule.refresh_from_db()
    assert rule.priority == 7
    response = client.post(page_url(world, f"rules/{rule.pk}/deactivate/"), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert f"#{rule.pk}" not in response.content.decode()
    rule.refresh_from_db()
    assert not rule.is_active
    assert list(
        Event.objects.filter(subject_type="cases.routingrule").order_by("pk").values_list("type", flat=True)
    ) == ["ROUTING_RULE_CREATED", "ROUTING_RULE_CHANGED", "ROUTING_RULE_DEACTIVATED"]


def test_a_district_officer_may_not_change_a_city_wide_rule(world):
    city_wide = routing_rule_create(
        actor=world.city_admin, division=None, category=world.garbage, responsible_kind="street_office"
    )
    client = client_for(world.officer)
    assert client.post(page_url(world, f"rules/{city_wide.pk}/deactivate/")).status_code == 403
    city_wide.refresh_from_db()
    assert city_wide.is_active


# --- Try a route ----------------------------------------------------------------------------------


def test_trying_a_route_answers_with_the_unit_and_the_reason(world):
    client = client_for(world.officer)
    compound = world.tree.compound(1, 1, 1)
    answer = client.get(
        page_url(world, "try/"), {"category": "E0601", "compound": compound.code}, HTTP_HX_REQUEST="true"
    )
    assert answer.status_code == 200
    html = answer.content.decode()
    assert "<html" not in html
    assert "锦江物业" in html
    committee = client.get(
        page_url(world, "try/"), {"category": "E0801", "committee": world.tree.committee(1, 2, 1).code}
    )
    assert committee.status_code == 200
    assert world.tree.committee(1, 2, 1).name in committee.content.decode()
    fallback = client.get(
        page_url(world, "try/"), {"category": "P0101", "street": world.tree.street(1, 2).code}
    )
    assert "属地兜底" in fallback.content.decode()


def test_trying_a_route_needs_a_place_in_the_district(world):
    client = client_for(world.officer)
    missing = client.get(page_url(world, "try/"), {"category": "E0101"})
    assert missing.status_code == 422
    assert "请选择街镇或居村委" in missing.content.decode()
    elsewhere = client.get(
        page_url(world, "try/"), {"category": "E0101", "compound": world.tree.compound(2, 1, 1).code}
    )
    assert elsewhere.status_code == 422
    mismatch = client.get(
        page_url(world, "try/"),
        {
            "category": "E0101",
            "committee": world.tree.committee(1, 1, 2).code,
            "compound": world.tree.compound(1, 1, 1).code,
        },
    )
    assert mismatch.status_code == 422
    assert "该小区不属于所选居村委" in mismatch.content.decode()


# --- API ------------------------------------------------------------------------------------------


def test_rules_over_the_api(world):
    api = client_for(world.officer)
    created = api.post(
        f"{API}/routing-rules",
        {
            "division": world.tree.street(1, 1).code,
            "category": "E0101",
            "responsible_kind": "department_branch",
            "responsible_sector": "城管",
            "priority": 20,
        },
        content_type="application/json",
    )
    assert created.status_code == 201
    body = created.json()
    assert (body["division"], body["category"], body["responsible_sector"], body["priority"]) == (
        world.tree.street(1, 1).code,
        "E0101",
        "城管",
        20,
    )
    rule_id = body["id"]
    listed = api.get(f"{API}/routing-rules", {"district": world.district.code}).json()
    assert [item["id"] for item in listed["items"]] == [rule_id]
    patched = api.patch(
        f"{API}/routing-rules/{rule_id}",
        {"organisation": world.city_management.pk, "note": "改派城管中队"},
        content_type="application/json",
    )
    assert patched.status_code == 200
    assert (patched.json()["organisation"], patched.json()["organisation_name"]) == (
        world.city_management.pk,
        "黄浦城管中队",
    )
    assert api.get(f"{API}/routing-rules/{rule_id}").json()["note"] == "改派城管中队"
    gone = api.post(f"{API}/routing-rules/{rule_id}/deactivate")
    assert gone.json()["is_active"] is False
    assert api.get(f"{API}/routing-rules").json()["count"] == 0
    assert api.get(f"{API}/routing-rules", {"include_inactive": True}).json()["count"] == 1


def test_the_rules_api_refuses_other_districts_and_committee_routing(world):
    own = routing_rule_create(
        actor=world.officer, division=world.district, category=world.garbage, responsible_kind="street_office"
    )
    other = client_for(world.other_officer)
    assert other.get(f"{API}/routing-rules/{own.pk}").status_code == 404
    assert (
        other.patch(
            f"{API}/routing-rules/{own.pk}", {"priority": 1}, content_type="application/json"
        ).status_code
        == 404
    )
    assert other.post(f"{API}/routing-rules/{own.pk}/deactivate").status_code == 404
    assert other.get(f"{API}/routing-rules", {"district": world.district.code}).status_code == 404
    assert [r["id"] for r in other.get(f"{API}/routing-rules").json()["items"]] == []
    forbidden = other.post(
        f"{API}/routing-rules",
        {"division": world.district.code, "category": "E0101", "responsible_kind": "street_office"},
        content_type="application/json",
    )
    assert (forbidden.status_code, forbidden.json()["code"]) == (403, "forbidden")
    refused = client_for(world.officer).post(
        f"{API}/routing-rules",
        {"division": world.district.code, "category": "E0101", "responsible_kind": "committee"},
        content_type="application/json",
    )
    assert (refused.status_code, refused.json()["code"], refused.json()["field"]) == (
        422,
        "committee_refused",
        "division",
    )
    unknown = client_for(world.officer).post(
        f"{API}/routing-rules",
        {"division": world.district.code, "category": "Z9999", "responsible_kind": "street_office"},
        content_type="application/json",
    )
    assert (unknown.status_code, unknown.json()["field"]) == (422, "category")
    worker = client_for(user_with_role(Role.COMMITTEE_WORKER, division=world.tree.committee(1, 1, 1)))
    assert worker.get(f"{API}/routing-rules").status_code == 403


def test_trying_a_route_over_the_api(world):
    api = client_for(world.officer)
    answer = api.get(
        f"{API}/routing/route", {"category": "E0601", "compound": world.tree.compound(1, 1, 1).code}
    ).json()
    assert answer["org"]["name"] == "锦江物业"
    assert answer["handler"] == f"org:{world.company.pk}"
    assert (answer["rule"], answer["fallback"]) == (None, False)
    street = world.tree.street(1, 2)
    fallback = api.get(f"{API}/routing/route", {"category": "P0101", "street": street.code}).json()
    assert (fallback["division"]["code"], fallback["fallback"]) == (street.code, True)
    elsewhere = api.get(f"{API}/routing/route", {"category": "E0101", "street": world.tree.street(2, 1).code})
    assert elsewhere.status_code == 404
    assert api.get(f"{API}/routing/route", {"category": "E0101"}).status_code == 422
