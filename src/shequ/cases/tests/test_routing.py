"""Routing: location + category → the responsible unit (precedence of rules, units found by sector
along the path, the compound's property company, the committee's own small matters, 属地兜底),
manual overrides (``can_route_to``), the query budget, and the rule services with their checks and
events."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

import pytest
import time_machine
from django.core.exceptions import PermissionDenied

from shequ.accounts.models import (
    CompoundService,
    CompoundServiceKind,
    Organisation,
    OrganisationKind,
    Role,
    User,
)
from shequ.accounts.tests.factories import SmallTree, organisation_create, small_tree, user_with_role
from shequ.cases.catalogue import catalogue_seed
from shequ.cases.models import Category, CategoryKind, ResponsibleKind, RoutingRule
from shequ.cases.reference import ROUTING_REVISION
from shequ.cases.routing import RoutePlanner, can_route_to, place_of, route_case
from shequ.cases.selectors_catalogue import categories_routable
from shequ.cases.services_routing import (
    ROUTING_RULE_CHANGED,
    ROUTING_RULE_CREATED,
    ROUTING_RULE_DEACTIVATED,
    routing_rule_create,
    routing_rule_deactivate,
    routing_rule_update,
)
from shequ.core.errors import ApiError
from shequ.core.models import Event
from shequ.core.revisions import revision_bump, revision_caches_clear, revisions_pinned
from shequ.places.lookups import ROWS_REVISION
from shequ.places.models import Division

pytestmark = pytest.mark.django_db

TODAY = datetime(2025, 6, 2, 10, 0, tzinfo=UTC)


@dataclass
class World:
    tree: SmallTree
    garbage: Category  # E0101 暴露垃圾: 绿化市容 department branch
    manhole: Category  # P0101 上水井盖: 水务 utility
    neighbours: Category  # E0801 邻里纠纷调解: the committee's own
    property_service: Category  # E0601 物业服务不到位: the property company
    other: Category  # E0901 其他诉求: the street office
    greenery_district: Organisation  # 绿化市容所, district 1
    greenery_street: Organisation  # 绿化市容 at street (1, 1)
    water_city: Organisation  # 水务 utility serving the city
    city_management: Organisation  # 城管中队, district 1
    district_officer: User  # district 1
    other_district_officer: User  # district 2
    city_admin: User


@pytest.fixture
def world() -> World:
    catalogue_seed()
    tree = small_tree()
    branch = OrganisationKind.DEPARTMENT_BRANCH
    return World(
        tree=tree,
        garbage=Category.objects.get(code="E0101"),
        manhole=Category.objects.get(code="P0101"),
        neighbours=Category.objects.get(code="E0801"),
        property_service=Category.objects.get(code="E0601"),
        other=Category.objects.get(code="E0901"),
        greenery_district=organisation_create(
            kind=branch, division=tree.district(1), sector="绿化市容", name="黄浦区绿化市容所"
        ),
        greenery_street=organisation_create(
            kind=branch, division=tree.street(1, 1), sector="绿化市容", name="第1街道环卫所"
        ),
        water_city=organisation_create(
            kind=OrganisationKind.UTILITY, division=tree.city, sector="水务", name="城投水务"
        ),
        city_management=organisation_create(
            kind=branch, division=tree.district(1), sector="城管", name="黄浦城管中队"
        ),
        district_officer=user_with_role(Role.DISTRICT_OFFICER, division=tree.district(1)),
        other_district_officer=user_with_role(Role.DISTRICT_OFFICER, division=tree.district(2)),
        city_admin=user_with_role(Role.CITY_ADMIN, division=tree.city),
    )


def at(world: World, d: int, s: int, c: int | None = None, *, compound: bool = False) -> dict:
    """``route_case`` place arguments for street (d, s), optionally its committee c and compound."""
    tree = world.tree
    place = {"district": tree.district(d), "street": tree.street(d, s), "committee": None, "compound": None}
    if c is not None:
        place["committee"] = tree.committee(d, s, c)
        if compound:
            place["compound"] = tree.compound(d, s, c)
    return place


def rule(world: World, *, division: Division | None, **values) -> RoutingRule:
    """A rule written straight to the table (the services' checks are tested on their own)."""
    return RoutingRule.objects.create(division=division, **values)


# --- Defaults: units found along the path --------------------------------------------------------


def test_a_department_branch_is_the_nearest_of_its_sector_on_the_path(world):
    decision = route_case(category=world.garbage, **at(world, 1, 1))
    assert decision.org == world.greenery_street
    assert decision.rule is None
    assert "类别默认" in decision.reason
    assert route_case(category=world.garbage, **at(world, 1, 2)).org == world.greenery_district


def test_a_utility_is_found_by_sector_up_to_the_city(world):
    assert route_case(category=world.manhole, **at(world, 2, 1)).org == world.water_city
    local = organisation_create(
        kind=OrganisationKind.UTILITY, division=world.tree.district(2), sector="水务", name="徐汇供水所"
    )
    assert route_case(category=world.manhole, **at(world, 2, 1)).org == local
    assert route_case(category=world.manhole, **at(world, 1, 1)).org == world.water_city
    organisation_create(kind=OrganisationKind.UTILITY, division=world.tree.district(1), sector="电力")
    assert route_case(category=world.manhole, **at(world, 1, 1)).org == world.water_city  # not 电力


def test_an_inactive_unit_is_never_chosen(world):
    Organisation.objects.filter(pk=world.greenery_street.pk).update(is_active=False)
    revision_bump(ROUTING_REVISION)  # a bulk write bumps for itself
    assert route_case(category=world.garbage, **at(world, 1, 1)).org == world.greenery_district


def test_no_unit_of_the_sector_here_falls_back_to_the_street(world):
    decision = route_case(category=world.garbage, **at(world, 2, 1))
    assert (decision.org, decision.division, decision.rule) == (None, world.tree.street(2, 1), None)
    assert decision.fallback
    assert decision.reason.startswith("属地兜底")
    assert "绿化市容" in decision.reason
    assert decision.handler == world.tree.street(2, 1).code


def test_the_street_office_when_registered_else_the_street(world):
    decision = route_case(category=world.other, **at(world, 1, 1))
    assert (decision.org, decision.division, decision.fallback) == (None, world.tree.street(1, 1), False)
    office = organisation_create(
        kind=OrganisationKind.STREET_OFFICE, division=world.tree.street(1, 1), name="第1街道办事处"
    )
    decision = route_case(category=world.other, **at(world, 1, 1))
    assert decision.org == office
    assert decision.handler == f"org:{office.pk}"
    assert route_case(category=world.other, **at(world, 1, 2)).division == world.tree.street(1, 2)


def test_the_committee_handles_its_own_small_matters(world):
    decision = route_case(category=world.neighbours, **at(world, 1, 1, 2))
    assert (decision.org, decision.division) == (None, world.tree.committee(1, 1, 2))
    without_committee = route_case(category=world.neighbours, **at(world, 1, 1))
    assert without_committee.fallback
    assert "未定位到居村委" in without_committee.reason


# --- The compound's property company -------------------------------------------------------------


def _contract(world: World, **dates) -> Organisation:
    company = organisation_create(kind=OrganisationKind.PROPERTY_COMPANY, name="锦江物业")
    CompoundService.objects.create(
        compound=world.tree.compound(1, 1, 1),
        organisation=company,
        kind=CompoundServiceKind.PROPERTY_MANAGEMENT,
        **dates,
    )
    return company


@time_machine.travel(TODAY, tick=False)
def test_the_property_company_comes_from_the_compound_s_current_contract(world):
    company = _contract(world, starts_on=date(2024, 1, 1), ends_on=date(2026, 12, 31))
    decision = route_case(category=world.property_service, **at(world, 1, 1, 1, compound=True))
    assert decision.org == company
    # An owners' committee link is not a property contract.
    owners = organisation_create(kind=OrganisationKind.OWNERS_COMMITTEE, name="业委会")
    CompoundService.objects.create(
        compound=world.tree.compound(1, 1, 2), organisation=owners, kind=CompoundServiceKind.OWNERS_COMMITTEE
    )
    assert route_case(category=world.property_service, **at(world, 1, 1, 2, compound=True)).fallback


@time_machine.travel(TODAY, tick=False)
def test_an_expired_or_future_contract_falls_back_to_the_street(world):
    _contract(world, starts_on=date(2023, 1, 1), ends_on=date(2025, 6, 1))
    _contract(world, starts_on=date(2025, 6, 3))
    decision = route_case(category=world.property_service, **at(world, 1, 1, 1, compound=True))
    assert decision.fallback
    assert decision.division == world.tree.street(1, 1)
    assert "小区无有效的物业服务合同" in decision.reason
    assert "未定位到小区" in route_case(category=world.property_service, **at(world, 1, 1, 1)).reason


@time_machine.travel(TODAY, tick=False)
def test_a_contract_ending_today_still_counts_and_the_newest_wins(world):
    _contract(world, starts_on=date(2020, 1, 1), ends_on=date(2025, 6, 2))
    newer = _contract(world, starts_on=date(2025, 1, 1))
    assert route_case(category=world.property_service, **at(world, 1, 1, 1, compound=True)).org == newer


# --- Rules and their precedence ------------------------------------------------------------------


def test_a_city_wide_rule_applies_in_every_district(world):
    special = organisation_create(
        kind=OrganisationKind.DEPARTMENT_BRANCH, division=world.tree.city, sector="绿化市容", name="市环卫"
    )
    city_rule = rule(
        world,
        division=None,
        category=world.garbage,
        responsible_kind="department_branch",
        organisation=special,
    )
    for d in (1, 2):
        decision = route_case(category=world.garbage, **at(world, d, 1))
        assert (decision.org, decision.rule) == (special, city_rule)
        assert "全市" in decision.reason
    # A rule at the city node itself is city-wide too.
    city_rule.division = world.tree.city
    city_rule.save(update_fields=["division"])
    assert route_case(category=world.garbage, **at(world, 2, 2)).rule == city_rule


def test_street_over_district_over_city(world):
    city_rule = rule(
        world,
        division=None,
        category=world.garbage,
        responsible_kind="department_branch",
        organisation=world.city_management,
    )
    district_rule = rule(world, division=world.tree.district(1), responsible_kind="street_office")
    street_rule = rule(
        world,
        division=world.tree.street(1, 1),
        kind=CategoryKind.EVENT,
        responsible_kind="department_branch",
        responsible_sector="绿化市容",
    )
    # The street's rule wins in its street even though it is broader in what it covers.
    assert route_case(category=world.garbage, **at(world, 1, 1)).rule == street_rule
    assert route_case(category=world.garbage, **at(world, 1, 2)).rule == district_rule
    assert route_case(category=world.garbage, **at(world, 2, 1)).rule == city_rule
    # A committee's own cases at that street follow the street's rule too.
    assert route_case(category=world.garbage, **at(world, 1, 1, 1)).rule == street_rule


def test_category_over_major_over_kind_over_everything(world):
    district = world.tree.district(1)
    everything = rule(world, division=district, responsible_kind="street_office")
    kind = rule(world, division=district, kind=CategoryKind.EVENT, responsible_kind="street_office")
    major = rule(
        world, division=district, kind=CategoryKind.EVENT, major_code="01", responsible_kind="street_office"
    )
    single = rule(world, division=district, category=world.garbage, responsible_kind="street_office")
    place = at(world, 1, 2)
    assert route_case(category=world.garbage, **place).rule == single
    single.delete()
    assert route_case(category=world.garbage, **place).rule == major
    assert route_case(category=Category.objects.get(code="E0201"), **place).rule == kind
    assert route_case(category=world.manhole, **place).rule == everything
    # A 大类 rule of parts does not apply to events of the same number.
    rule(world, division=district, kind=CategoryKind.PART, major_code="01", responsible_kind="street_office")
    assert route_case(category=world.garbage, **place).rule == major


def test_then_the_lowest_priority_then_the_oldest(world):
    district = world.tree.district(1)
    first = rule(
        world, division=district, category=world.garbage, responsible_kind="street_office", priority=50
    )
    rule(
        world,
        division=district,
        category=world.garbage,
        responsible_kind="department_branch",
        responsible_sector="城管",
        priority=10,
    )
    assert route_case(category=world.garbage, **at(world, 1, 2)).org == world.city_management
    RoutingRule.objects.filter(priority=10).update(priority=50)
    revision_bump(ROUTING_REVISION)  # a bulk write bumps for itself
    assert route_case(category=world.garbage, **at(world, 1, 2)).rule == first


def test_inactive_rules_and_rules_of_other_places_do_not_apply(world):
    rule(
        world,
        division=world.tree.district(1),
        category=world.garbage,
        responsible_kind="street_office",
        is_active=False,
    )
    rule(world, division=world.tree.street(1, 2), category=world.garbage, responsible_kind="street_office")
    rule(world, division=world.tree.district(2), category=world.garbage, responsible_kind="street_office")
    decision = route_case(category=world.garbage, **at(world, 1, 1))
    assert (decision.rule, decision.org) == (None, world.greenery_street)


def test_a_rule_whose_unit_is_missing_gives_way_to_the_next(world):
    district_rule = rule(
        world,
        division=world.tree.district(1),
        category=world.garbage,
        responsible_kind="department_branch",
        responsible_sector="城管",
    )
    rule(
        world,
        division=world.tree.street(1, 1),
        category=world.garbage,
        responsible_kind="utility",
        responsible_sector="燃气",
    )
    decision = route_case(category=world.garbage, **at(world, 1, 1))
    assert (decision.org, decision.rule) == (world.city_management, district_rule)
    assert "燃气" in decision.reason  # says why the street's rule was passed over


def test_a_rule_naming_a_deactivated_unit_gives_way_to_the_default(world):
    gone = organisation_create(
        kind=OrganisationKind.DEPARTMENT_BRANCH,
        division=world.tree.district(1),
        sector="绿化市容",
        is_active=False,
    )
    rule(
        world,
        division=world.tree.district(1),
        category=world.garbage,
        responsible_kind="department_branch",
        organisation=gone,
    )
    decision = route_case(category=world.garbage, **at(world, 1, 2))
    assert (decision.org, decision.rule) == (world.greenery_district, None)
    assert "已停用" in decision.reason


# --- Department work is not pushed down to committees -------------------------------------------


def test_a_committee_rule_never_takes_department_work(world):
    # Written straight to the table: the services refuse such a rule (tested below).
    rule(world, division=world.tree.street(1, 1), kind=CategoryKind.EVENT, responsible_kind="committee")
    garbage = route_case(category=world.garbage, **at(world, 1, 1, 1))
    assert garbage.division != world.tree.committee(1, 1, 1)
    assert garbage.org == world.greenery_street
    assert "部门职责事项不得派给居村委" in garbage.reason
    small = route_case(category=world.neighbours, **at(world, 1, 1, 1))
    assert small.division == world.tree.committee(1, 1, 1)
    assert small.rule is not None


def test_manual_override_to_a_committee_is_refused_for_department_work(world):
    committee = world.tree.committee(1, 1, 1)
    with pytest.raises(ApiError) as refused:
        can_route_to(world.garbage, division=committee)
    assert (refused.value.code, refused.value.http_status) == ("committee_refused", 422)
    assert can_route_to(world.neighbours, division=committee) is None
    assert can_route_to(world.garbage, division=world.tree.street(1, 1)) is None
    assert can_route_to(world.garbage, org=world.city_management) is None


@pytest.mark.parametrize(
    "case",
    ["both", "neither", "district", "inactive_org", "owners_committee", "retired_street"],
)
def test_manual_overrides_that_are_refused(world, case):
    tree = world.tree
    arguments = {
        "both": {"org": world.city_management, "division": tree.street(1, 1)},
        "neither": {},
        "district": {"division": tree.district(1)},
        "inactive_org": {"org": organisation_create(kind=OrganisationKind.UTILITY, is_active=False)},
        "owners_committee": {"org": organisation_create(kind=OrganisationKind.OWNERS_COMMITTEE)},
        "retired_street": {"division": tree.street(2, 2)},
    }[case]
    if case == "retired_street":
        Division.objects.filter(pk=tree.street(2, 2).pk).update(is_active=False)
        revision_bump(ROWS_REVISION)  # a bulk write bumps for itself
        arguments["division"].refresh_from_db()
    with pytest.raises(ApiError):
        can_route_to(world.garbage, **arguments)


# --- Cost ----------------------------------------------------------------------------------------


@time_machine.travel(TODAY, tick=False)
def test_a_route_reads_the_routing_data_once_per_process_then_only_the_revisions(
    world, django_assert_max_num_queries
):
    _contract(world)
    rule(
        world,
        division=world.tree.district(1),
        kind=CategoryKind.EVENT,
        major_code="06",
        responsible_kind="property_company",
    )
    place = at(world, 1, 1, 1, compound=True)
    revision_caches_clear()
    # Cold: the revision tokens, the rules, the path organisations, the compound's contracts.
    with django_assert_max_num_queries(4):
        decision = route_case(category=world.property_service, **place)
    assert decision.org is not None
    # Warm: only the tokens (read once per request in a request, once per call outside one).
    with django_assert_max_num_queries(1):
        again = route_case(category=world.property_service, **place)
    assert again.org == decision.org
    with revisions_pinned(), django_assert_max_num_queries(1):
        route_case(category=world.garbage, **place)
        route_case(category=world.property_service, **place)


def test_a_rule_saved_anywhere_is_applied_by_the_next_route(world):
    place = at(world, 1, 1)
    before = route_case(category=world.garbage, **place)
    assert before.rule is None
    added = RoutingRule.objects.create(  # as the admin would: the model signal bumps the revision
        division=world.tree.street(1, 1), category=world.garbage, responsible_kind="street_office"
    )
    assert route_case(category=world.garbage, **place).rule == added
    added.delete()
    assert route_case(category=world.garbage, **place).rule is None


def test_a_planner_routes_the_whole_catalogue_in_four_queries(world, django_assert_max_num_queries):
    categories = list(categories_routable())
    rule(world, division=world.tree.district(1), category=world.garbage, responsible_kind="street_office")
    revision_caches_clear()
    planner = RoutePlanner(**at(world, 1, 1, 1, compound=True))
    with django_assert_max_num_queries(4):
        decisions = [planner.route(category) for category in categories]
    assert len(decisions) >= 40
    assert all(d.org is not None or d.division is not None for d in decisions)


def test_place_of_finds_street_and_district_from_the_deepest_node(world):
    tree = world.tree
    place = place_of(compound=tree.compound(2, 1, 2))
    assert (place["district"], place["street"], place["committee"]) == (
        tree.district(2),
        tree.street(2, 1),
        tree.committee(2, 1, 2),
    )
    assert place_of(street=tree.street(1, 2))["district"] == tree.district(1)
    with pytest.raises(ApiError):
        place_of()


# --- Rule services -------------------------------------------------------------------------------


def test_a_district_officer_creates_changes_and_deactivates_a_rule_with_events(world):
    street = world.tree.street(1, 2)
    created = routing_rule_create(
        actor=world.district_officer,
        division=street,
        category=world.garbage,
        responsible_kind="department_branch",
        organisation=world.city_management,
        note="第2街道暴露垃圾由城管中队处置",
    )
    assert created.responsible_sector == "城管"  # taken from the unit
    assert created.created_by == world.district_officer
    assert route_case(category=world.garbage, **at(world, 1, 2)).rule == created
    routing_rule_update(actor=world.district_officer, rule=created, priority=20)
    routing_rule_deactivate(actor=world.district_officer, rule=created)
    created.refresh_from_db()
    assert (created.priority, created.is_active) == (20, False)
    events = list(
        Event.objects.filter(subject_type="cases.routingrule", subject_id=str(created.pk)).order_by("pk")
    )
    assert [e.type for e in events] == [ROUTING_RULE_CREATED, ROUTING_RULE_CHANGED, ROUTING_RULE_DEACTIVATED]
    assert events[0].data["division"] == street.code
    assert events[0].data["category"] == "E0101"
    assert events[0].data["organisation"] == world.city_management.pk
    assert events[0].scope_path == street.path
    assert events[1].data == {"priority": {"old": 100, "new": 20}}
    assert events[2].actor == world.district_officer
    assert route_case(category=world.garbage, **at(world, 1, 2)).rule is None


def test_an_update_that_changes_nothing_writes_no_event(world):
    created = routing_rule_create(
        actor=world.city_admin, division=None, kind=CategoryKind.PART, responsible_kind="street_office"
    )
    routing_rule_update(actor=world.city_admin, rule=created, priority=100)
    assert Event.objects.filter(type=ROUTING_RULE_CHANGED).count() == 0


def test_choosing_a_category_replaces_a_major(world):
    created = routing_rule_create(
        actor=world.district_officer,
        division=world.tree.district(1),
        kind=CategoryKind.EVENT,
        major_code="01",
        responsible_kind="street_office",
    )
    routing_rule_update(actor=world.district_officer, rule=created, category=world.garbage)
    created.refresh_from_db()
    assert (created.category, created.kind, created.major_code) == (world.garbage, "", "")


def test_who_may_edit_the_rules(world):
    tree = world.tree
    values = {"category": world.garbage, "responsible_kind": "street_office"}
    with pytest.raises(PermissionDenied):
        routing_rule_create(actor=world.other_district_officer, division=tree.street(1, 1), **values)
    with pytest.raises(PermissionDenied):
        routing_rule_create(actor=world.district_officer, division=None, **values)
    committee_worker = user_with_role(Role.COMMITTEE_WORKER, division=tree.committee(1, 1, 1))
    with pytest.raises(PermissionDenied):
        routing_rule_create(actor=committee_worker, division=tree.district(1), **values)
    city_wide = routing_rule_create(actor=world.city_admin, division=None, **values)
    with pytest.raises(PermissionDenied):
        routing_rule_update(actor=world.district_officer, rule=city_wide, priority=1)
    with pytest.raises(PermissionDenied):
        routing_rule_deactivate(actor=world.district_officer, rule=city_wide)
    own = routing_rule_create(actor=world.district_officer, division=tree.street(1, 1), **values)
    with pytest.raises(PermissionDenied):
        routing_rule_update(actor=world.district_officer, rule=own, division=tree.street(2, 1))
    with pytest.raises(PermissionDenied):
        routing_rule_deactivate(actor=world.other_district_officer, rule=own)
    routing_rule_update(actor=world.city_admin, rule=own, division=tree.street(2, 1))


def test_committee_targets_only_for_the_committee_s_own_categories(world):
    district = world.tree.district(1)
    officer = world.district_officer
    with pytest.raises(ApiError) as refused:
        routing_rule_create(
            actor=officer, division=district, category=world.garbage, responsible_kind="committee"
        )
    assert refused.value.code == "committee_refused"
    with pytest.raises(ApiError):  # events in general include department work
        routing_rule_create(
            actor=officer, division=district, kind=CategoryKind.EVENT, responsible_kind="committee"
        )
    allowed = routing_rule_create(
        actor=officer, division=district, category=world.neighbours, responsible_kind="committee"
    )
    assert allowed.responsible_kind == ResponsibleKind.COMMITTEE
    # 邻里事务 (E08) holds only the committee's own matters.
    routing_rule_create(
        actor=officer,
        division=district,
        kind=CategoryKind.EVENT,
        major_code="08",
        responsible_kind="committee",
    )
    with pytest.raises(ApiError) as changed:
        routing_rule_update(actor=officer, rule=allowed, category=world.garbage)
    assert changed.value.code == "committee_refused"


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"division": "a_committee", "category": "garbage", "responsible_kind": "street_office"}, "division"),
        ({"category": "fire", "responsible_kind": "street_office"}, "category"),
        ({"major_code": "01", "responsible_kind": "street_office"}, "kind"),
        ({"kind": "event", "major_code": "42", "responsible_kind": "street_office"}, "major_code"),
        ({"category": "garbage", "responsible_kind": "nobody"}, "responsible_kind"),
        ({"category": "garbage", "responsible_kind": "utility"}, "responsible_sector"),
        (
            {"category": "garbage", "responsible_kind": "utility", "organisation": "branch_elsewhere"},
            "organisation",
        ),
        (
            {"category": "garbage", "responsible_kind": "department_branch", "organisation": "elsewhere"},
            "organisation",
        ),
        (
            {"category": "garbage", "responsible_kind": "department_branch", "organisation": "inactive"},
            "organisation",
        ),
        (
            {"category": "neighbours", "responsible_kind": "committee", "organisation": "branch"},
            "organisation",
        ),
        ({"category": "garbage", "responsible_kind": "street_office", "priority": 40000}, "priority"),
    ],
)
def test_invalid_rules_are_refused_with_the_field(world, values, field):
    tree = world.tree
    objects = {
        "garbage": world.garbage,
        "neighbours": world.neighbours,
        "fire": Category.objects.get(code="E0401"),
        "a_committee": tree.committee(1, 1, 1),
        "branch": world.city_management,
        "branch_elsewhere": world.city_management,
        "elsewhere": organisation_create(
            kind=OrganisationKind.DEPARTMENT_BRANCH, division=tree.district(2), sector="城管"
        ),
        "inactive": organisation_create(
            kind=OrganisationKind.DEPARTMENT_BRANCH, division=tree.district(1), sector="城管", is_active=False
        ),
    }
    arguments = {"division": tree.district(1)}
    for name, value in values.items():
        arguments[name] = objects.get(value, value) if isinstance(value, str) else value
    with pytest.raises(ApiError) as refused:
        routing_rule_create(actor=world.district_officer, **arguments)
    assert refused.value.field == field


def test_a_city_level_unit_may_serve_a_district_rule(world):
    created = routing_rule_create(
        actor=world.district_officer,
        division=world.tree.street(1, 1),
        category=world.manhole,
        responsible_kind="utility",
        organisation=world.water_city,
    )
    assert created.responsible_sector == "水务"


def test_an_inactive_rule_cannot_be_edited(world):
    created = routing_rule_create(
        actor=world.district_officer,
        division=world.tree.district(1),
        category=world.garbage,
        responsible_kind="street_office",
    )
    routing_rule_deactivate(actor=world.district_officer, rule=created)
    with pytest.raises(ApiError) as refused:
        routing_rule_update(actor=world.district_officer, rule=created, priority=3)
    assert refused.value.code == "inactive"
    assert routing_rule_deactivate(actor=world.district_officer, rule=created).is_active is False
    assert Event.objects.filter(type=ROUTING_RULE_DEACTIVATED).count() == 1
