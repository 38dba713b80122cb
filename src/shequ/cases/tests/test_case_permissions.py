"""Who may make which transition of a case, in which state and scope: the role × state matrix.

The expected answers come from the table below, written out by hand from DOMAIN.md §5 and the
design of the case loop — not from ``machine.TRANSITIONS`` — so that a change to the machine or to the
permission rules shows up here as a difference to be explained.

For every transition, every state and every role of ``accounts.Role`` two users are asked: one *in
scope* (seated at a node whose area holds the case, at the unit the case is routed to, or the
reporter) and one *out of scope* (the same role in the other district, at another organisation of
the same kind, or a neighbour who neither reported nor follows the case).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from shequ.accounts.models import Membership, Organisation, OrganisationKind, Role, User
from shequ.accounts.tests.factories import grid_create, organisation_create, user_with_role
from shequ.cases.machine import TRANSITIONS
from shequ.cases.models import Case, CaseState, Channel
from shequ.cases.permissions import can_transition, transitions_for
from shequ.cases.services_intake import case_follow, case_report
from shequ.cases.services_transitions import (
    case_accept,
    case_dispatch,
    case_handle,
    case_register,
    case_self_handle,
    case_verify,
)
from shequ.cases.tests.factories import CaseWorld, case_world
from shequ.core.errors import ApiError
from shequ.places.models import Division

pytestmark = pytest.mark.django_db

# --- the table ------------------------------------------------------------------------------------

CENTRE = {"street_dispatcher", "street_officer", "district_officer", "city_admin"}  # 城运中心 and above
COMMITTEE_STAFF = {"committee_worker", "committee_head", "grid_worker"}
UNIT_STAFF = {"department_handler", "department_head", "property_manager", "street_officer"} | COMMITTEE_STAFF
CHECKERS = {"street_dispatcher", "grid_worker", "street_officer"}
RESIDENT = {"resident"}

OPEN = {
    "reported",
    "verifying",
    "registered",
    "dispatched",
    "return_requested",
    "handling",
    "extension_requested",
    "suspended",
    "handled",
    "checking",
    "confirming",
}

AREA = "area"  # staff whose division or grid holds the case
UNIT = "unit"  # staff of the unit the case is routed to (or of a division above it)
AREA_OR_UNIT = "area or unit"
REPORTER = "reporter"  # the reporter or a follower; staff of the area for the listed staff roles

# transition: (from states, roles, relation)
TABLE: dict[str, tuple[set[str], set[str], str]] = {
    "verify": ({"reported"}, CENTRE | COMMITTEE_STAFF, AREA),
    "register": ({"reported", "verifying"}, CENTRE | COMMITTEE_STAFF, AREA),
    "reject": ({"reported", "verifying"}, CENTRE | COMMITTEE_STAFF, AREA),
    "merge": ({"reported", "verifying", "registered"}, CENTRE, AREA),
    "dispatch": ({"registered"}, CENTRE, AREA),
    "self_handle": ({"registered"}, COMMITTEE_STAFF, AREA),
    "accept": ({"dispatched"}, UNIT_STAFF, UNIT),
    "return_request": ({"dispatched"}, UNIT_STAFF, UNIT),
    "redispatch": ({"return_requested"}, CENTRE, AREA),
    "return_refuse": ({"return_requested"}, CENTRE, AREA),
    "extension_request": ({"handling"}, UNIT_STAFF, UNIT),
    "extension_grant": ({"extension_requested"}, CENTRE, AREA),
    "extension_refuse": ({"extension_requested"}, CENTRE, AREA),
    "suspend": ({"handling"}, CENTRE, AREA),
    "resume": ({"suspended"}, CENTRE | UNIT_STAFF, AREA_OR_UNIT),
    "handle": ({"handling"}, UNIT_STAFF, UNIT),
    "check_start": ({"handled"}, CHECKERS, AREA),
    "check_pass": ({"checking"}, CHECKERS, AREA),
    "check_fail": ({"checking"}, CHECKERS, AREA),
    "confirm": ({"confirming"}, RESIDENT | CENTRE | COMMITTEE_STAFF, REPORTER),
    "redo": ({"confirming"}, CENTRE, AREA),
    "close": ({"confirming"}, CENTRE, AREA),
    "reopen": ({"closed"}, RESIDENT | CENTRE, REPORTER),
    "supervise": (OPEN, CENTRE, AREA),
    # 信访干部 of the area may link the petition they hold to the case on the same matter.
    "link_petition": (OPEN, CENTRE | {"petition_officer"}, AREA),
    "reroute": (
        {"dispatched", "return_requested", "handling", "extension_requested", "suspended"},
        CENTRE,
        AREA,
    ),
}

ORGANISATION_ROLES = {"department_handler", "department_head", "property_manager", "owners_committee_member"}


def expected_in_scope(name: str, state: str, role: str) -> bool:
    """The answer for a user seated where the case is, at the unit it is routed to (or its reporter)."""
    states, roles, relation = TABLE[name]
    if state not in states or role not in roles:
        return False
    has_area = role not in ORGANISATION_ROLES and role != "resident"
    if relation == AREA:
        return has_area
    if relation == UNIT:
        return True
    if relation == AREA_OR_UNIT:
        return True
    assert relation == REPORTER
    return role == "resident" or has_area


def test_the_table_covers_every_transition_and_role() -> None:
    assert set(TABLE) == set(TRANSITIONS)
    mentioned = set().union(*(roles for _s, roles, _r in TABLE.values())) | ORGANISATION_ROLES | {"volunteer"}
    assert mentioned | {"civil_affairs_officer", "petition_officer"} == set(Role.values)


# --- the seats ------------------------------------------------------------------------------------


class Seats:
    """One user in scope and one out of scope for every role, and the unit each in-scope user
    belongs to (the case is routed there when that user is asked)."""

    def __init__(self, w: CaseWorld) -> None:
        tree = w.tree
        self.w = w
        far_grid = grid_create(
            code=f"{tree.committee(2, 1, 1).code}01", name="远处网格", division=tree.committee(2, 1, 1)
        )
        owners = organisation_create(kind=OrganisationKind.OWNERS_COMMITTEE, name="业委会")
        far_branch = organisation_create(
            kind=OrganisationKind.DEPARTMENT_BRANCH,
            division=tree.district(2),
            sector="城管",
            name="徐汇城管中队",
        )
        homes: dict[str, tuple[dict[str, Any], dict[str, Any], Division | Organisation]] = {}
        for role in ("resident", "committee_worker", "committee_head", "volunteer"):
            homes[role] = (
                {"division": tree.committee(1, 1, 1)},
                {"division": tree.committee(2, 1, 1)},
                tree.committee(1, 1, 1),
            )
        homes["grid_worker"] = ({"grid": tree.grid}, {"grid": far_grid}, tree.committee(1, 1, 1))
        for role in ("street_officer", "street_dispatcher"):
            homes[role] = (
                {"division": tree.street(1, 1)},
                {"division": tree.street(2, 1)},
                tree.street(1, 1),
            )
        for role in ("district_officer", "civil_affairs_officer", "petition_officer"):
            homes[role] = ({"division": tree.district(1)}, {"division": tree.district(2)}, tree.district(1))
        homes["city_admin"] = ({"division": tree.city}, {"division": tree.city}, tree.city)
        for role in ("department_handler", "department_head"):
            homes[role] = ({"organisation": w.branch}, {"organisation": far_branch}, w.branch)
        homes["property_manager"] = (
            {"organisation": w.property_company},
            {"organisation": organisation_create(kind=OrganisationKind.PROPERTY_COMPANY, name="另一物业")},
            w.property_company,
        )
        homes["owners_committee_member"] = (
            {"organisation": owners},
            {"organisation": organisation_create(kind=OrganisationKind.OWNERS_COMMITTEE, name="另一业委会")},
            owners,
        )
        assert set(homes) == set(Role.values)
        self.inside: dict[str, User] = {}
        self.outside: dict[str, User] = {}
        self.unit: dict[str, Division | Organisation] = {}
        for role, (inside, outside, unit) in homes.items():
            self.inside[role] = user_with_role(role, **inside)
            self.outside[role] = user_with_role(role, **outside)
            self.unit[role] = unit
        # The city has no "elsewhere": out of scope is a city seat that ended yesterday.
        Membership.objects.filter(user=self.outside["city_admin"]).update(
            ends_on=timezone.localdate() - timedelta(days=1)
        )
        # The in-scope resident reported the case; the out-of-scope one lives in the same committee.
        self.case = case_report(
            actor=self.inside["resident"],
            channel=Channel.RESIDENT_WEB,
            category=w.department_work,
            description="小区门口垃圾堆放",
            place=w.compound,
        )
        self.outside["resident"] = user_with_role("resident", division=tree.committee(1, 1, 1))

    def case_for(self, role: str, state: str) -> Case:
        """The case, in ``state``, routed to the unit of the in-scope user of ``role``."""
        case = Case.objects.select_related("handler_division").get(pk=self.case.pk)
        unit = self.unit[role]
        if isinstance(unit, Organisation):
            case.handler_org, case.handler_division = unit, None
        else:
            case.handler_org, case.handler_division = None, unit
        case.state = state
        return case


@pytest.fixture
def seats() -> Seats:
    return Seats(case_world())


@pytest.mark.parametrize("name", sorted(TABLE))
def test_role_by_state_matrix(seats: Seats, name: str) -> None:
    wrong: list[str] = []
    for role in Role.values:
        for state in CaseState.values:
            case = seats.case_for(role, state)
            expected = expected_in_scope(name, state, role)
            if can_transition(seats.inside[role], case, name) != expected:
                wrong.append(f"{role} in scope, {state}: expected {expected}")
            if can_transition(seats.outside[role], case, name):
                wrong.append(f"{role} out of scope, {state}: expected False")
    assert wrong == []


# --- the relations, one by one --------------------------------------------------------------------


def test_a_superuser_may_make_every_transition_from_its_states(seats: Seats) -> None:
    root = User.objects.create_superuser(username="root", password="x" * 16)
    for name, (states, _roles, _relation) in TABLE.items():
        for state in CaseState.values:
            case = seats.case_for("street_dispatcher", state)
            assert can_transition(root, case, name) == (state in states), (name, state)


def test_inactive_users_and_anonymous_visitors_may_do_nothing(seats: Seats) -> None:
    dispatcher = seats.inside["street_dispatcher"]
    dispatcher.is_active = False
    case = seats.case_for("street_dispatcher", "registered")
    assert not can_transition(dispatcher, case, "dispatch")
    assert not can_transition(None, case, "dispatch")
    from django.contrib.auth.models import AnonymousUser

    assert not can_transition(AnonymousUser(), case, "dispatch")


def test_committee_staff_do_not_handle_cases_routed_to_their_street(seats: Seats) -> None:
    """属地兜底 makes the street the handler; that work is not pushed down to the committees."""
    case = seats.case_for("street_officer", "dispatched")
    assert case.handler_division == seats.w.tree.street(1, 1)
    assert can_transition(seats.inside["street_officer"], case, "accept")
    for role in ("committee_worker", "committee_head", "grid_worker"):
        assert not can_transition(seats.inside[role], case, "accept"), role


def test_street_staff_may_handle_the_committees_small_matters(seats: Seats) -> None:
    case = seats.case_for("committee_worker", "handling")
    assert case.handler_division == seats.w.tree.committee(1, 1, 1)
    assert can_transition(seats.inside["street_officer"], case, "handle")
    assert not can_transition(seats.inside["street_dispatcher"], case, "handle")  # not a handler role


def test_a_grid_worker_acts_in_the_grid_only(seats: Seats) -> None:
    w = seats.w
    grid_worker = seats.inside["grid_worker"]
    in_grid = seats.case_for("grid_worker", "reported")
    assert can_transition(grid_worker, in_grid, "verify")
    # The same committee, but reported against the committee itself (no grid): not the grid's.
    outside_grid = case_report(
        actor=seats.inside["resident"],
        channel=Channel.RESIDENT_WEB,
        category=w.department_work,
        description="居委会附近道路破损",
        place=w.tree.committee(1, 1, 1),
    )
    assert outside_grid.grid_id is None
    assert not can_transition(grid_worker, outside_grid, "verify")
    assert can_transition(seats.inside["committee_worker"], outside_grid, "verify")


def test_a_follower_may_answer_but_a_neighbour_may_not(seats: Seats) -> None:
    neighbour = seats.outside["resident"]
    case = seats.case_for("resident", "confirming")
    assert not can_transition(neighbour, case, "confirm")
    case_follow(case=case, actor=neighbour)
    assert can_transition(neighbour, case, "confirm")
    assert can_transition(neighbour, seats.case_for("resident", "closed"), "reopen")


def test_organisation_staff_act_only_on_what_is_routed_to_them(seats: Seats) -> None:
    handler = seats.inside["department_handler"]
    routed_elsewhere = seats.case_for("property_manager", "dispatched")
    assert not can_transition(handler, routed_elsewhere, "accept")
    assert can_transition(seats.inside["property_manager"], routed_elsewhere, "accept")
    # … and never in the area sense, even for a case in their district.
    assert not can_transition(handler, seats.case_for("department_handler", "reported"), "verify")


def test_buttons_on_the_case_page(seats: Seats) -> None:
    case = seats.case_for("department_handler", "handling")
    assert transitions_for(seats.inside["department_handler"], case) == ["extension_request", "handle"]
    assert transitions_for(seats.inside["street_dispatcher"], case) == [
        "suspend",
        "supervise",
        "reroute",
        "link_petition",
    ]
    assert transitions_for(seats.inside["petition_officer"], case) == ["link_petition"]
    assert transitions_for(seats.inside["resident"], case) == []


# --- the services ask the same rules --------------------------------------------------------------


def test_services_refuse_out_of_scope_users_and_wrong_states(seats: Seats) -> None:
    w = seats.w
    case = seats.case
    for actor in (
        seats.outside["street_dispatcher"],
        seats.inside["department_handler"],
        seats.inside["resident"],
    ):
        with pytest.raises(ApiError) as caught:
            case_verify(case=case, actor=actor)
        assert (caught.value.http_status, caught.value.code) == (403, "forbidden")
    with pytest.raises(ApiError) as caught:
        case_dispatch(case=case, actor=seats.inside["street_dispatcher"], org=w.branch)
    assert (caught.value.http_status, caught.value.code) == (409, "invalid_state")
    case = case_register(case=case, actor=seats.inside["committee_worker"])
    case = case_dispatch(case=case, actor=seats.inside["street_dispatcher"], org=w.branch)
    with pytest.raises(ApiError) as caught:
        case_accept(case=case, actor=seats.outside["department_handler"])
    assert caught.value.code == "forbidden"
    with pytest.raises(ApiError) as caught:
        case_self_handle(case=case, actor=seats.inside["committee_worker"])
    assert caught.value.code == "invalid_state"
    case = case_accept(case=case, actor=seats.inside["department_head"])
    with pytest.raises(ApiError) as caught:
        case_handle(case=case, actor=seats.inside["property_manager"], result="不是我们的")
    assert caught.value.code == "forbidden"
    case.refresh_from_db()
    assert case.state == CaseState.HANDLING


def test_a_seat_granted_or_revoked_counts_from_the_next_request(seats: Seats) -> None:
    """Seats are kept per process; a change to a membership is seen by the next request at once."""
    from shequ.accounts.services import membership_grant, membership_revoke

    case = seats.case_for("street_dispatcher", "registered")
    newcomer = User.objects.create_user(username="newcomer", password="x" * 16)
    assert not can_transition(User.objects.get(pk=newcomer.pk), case, "dispatch")
    root = User.objects.create_superuser(username="root", password="x" * 16)
    membership = membership_grant(
        user=newcomer, role=Role.STREET_DISPATCHER, actor=root, division=seats.w.tree.street(1, 1)
    )
    assert can_transition(User.objects.get(pk=newcomer.pk), case, "dispatch")
    membership_revoke(membership=membership, actor=root)
    assert not can_transition(User.objects.get(pk=newcomer.pk), case, "dispatch")
