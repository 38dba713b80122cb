"""Who may make which transition of a case (STYLE.md rule 8): one place, read by services, views,
API and the role × state matrix test.

A transition (``machine.TRANSITIONS``) names the roles that may make it and how the actor must be
related to the case:

- ``area``: a staff membership with one of the roles at a division or grid whose subtree holds the case;
- ``handler``: a membership with one of the roles at the responsible unit (the organisation, or the
  division the case is routed to — the committee for small matters, the street for 属地兜底);
- ``reporter``: the reporter or a follower of the case (residents), or staff with one of the roles in
  the case's area (a dispatcher recording an answer given by phone);
- ``area_or_handler``: either of the first two.

Superusers may make every transition. Seeing a case (``selectors.access_case_by_id``) comes first:
a case outside the user's visibility is a 404 before any of this is asked.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db.models import Q
from django.utils import timezone

from shequ.accounts.models import Membership
from shequ.accounts.reference import SEATS_REVISION
from shequ.core.revisions import LookupCache
from shequ.places.lookups import ROWS_REVISION

from .machine import TRANSITIONS, Transition
from .models import Case


@dataclass(frozen=True)
class _Seat:
    role: str
    path: str  # place path of the node (division or grid); "" for organisations without an area
    organisation_id: int | None
    division_id: int | None
    grid_id: int | None
    # Path of the division whose staff the seat belongs to (a grid's committee or street); "" for
    # organisations. A case routed to a division is handled by the staff of that division or above.
    unit_path: str = ""


_SEATS_ATTR = "_shequ_case_seats"


# The membership rows of a user, kept per process until a seat or the division rows change.
_SeatRow = tuple[_Seat, date | None, date | None]
_seat_rows: LookupCache[int, tuple[_SeatRow, ...]] = LookupCache(
    (SEATS_REVISION, ROWS_REVISION), max_size=50_000
)


def _seat_rows_load(user_id: int) -> tuple[_SeatRow, ...]:
    rows = (
        Membership.objects.filter(user_id=user_id, is_active=True)
        .select_related("division", "grid__division")
        .only(
            "role",
            "division__path",
            "grid__path",
            "grid__division__path",
            "organisation_id",
            "starts_on",
            "ends_on",
        )
    )
    out = []
    for m in rows:
        path = m.division.path if m.division else (m.grid.path if m.grid else "")
        unit_path = m.division.path if m.division else (m.grid.division.path if m.grid else "")
        seat = _Seat(m.role, path, m.organisation_id, m.division_id, m.grid_id, unit_path)
        out.append((seat, m.starts_on, m.ends_on))
    return tuple(out)


def _seats(user: Any) -> tuple[_Seat, ...]:
    """The user's active memberships with their node, cached on the user for the request."""
    if user is None or not getattr(user, "is_authenticated", False):
        return ()
    cached = getattr(user, _SEATS_ATTR, None)
    if cached is not None:
        return cached
    today = timezone.localdate()
    rows = _seat_rows.get(user.pk, _seat_rows_load) or ()
    result = tuple(
        seat
        for seat, starts_on, ends_on in rows
        if not (starts_on and starts_on > today) and not (ends_on and ends_on < today)
    )
    setattr(user, _SEATS_ATTR, result)
    return result


def _in_area(seats: tuple[_Seat, ...], roles: frozenset[str], case: Case) -> bool:
    for seat in seats:
        if seat.role not in roles or not seat.path:
            continue
        if seat.grid_id is not None:
            # A grid seat covers the cases located in that grid.
            if case.grid_id == seat.grid_id:
                return True
            continue
        if case.path.startswith(seat.path):
            return True
    return False


def _is_handler(seats: tuple[_Seat, ...], roles: frozenset[str], case: Case) -> bool:
    for seat in seats:
        if seat.role not in roles:
            continue
        if case.handler_org_id is not None and seat.organisation_id == case.handler_org_id:
            return True
        if case.handler_division_id is not None and seat.unit_path:
            # Staff of the responsible division or of a division above it (a street officer for
            # the committee's small matter), never of one below: street work is not pushed down.
            handler_path = case.handler_division.path if case.handler_division else ""
            if handler_path and handler_path.startswith(seat.unit_path):
                return True
    return False


def _is_reporter(user: Any, case: Case) -> bool:
    if case.reporter_id is not None and case.reporter_id == user.pk:
        return True
    return case.subscriptions.filter(user_id=user.pk).exists()


def can_transition(user: Any, case: Case, name: str) -> bool:
    """May ``user`` make transition ``name`` on ``case`` now (its state and the user's seat)?"""
    transition = TRANSITIONS[name]
    if case.state not in transition.sources:
        return False
    return may_act(user, case, transition)


def may_act(user: Any, case: Case, transition: Transition) -> bool:
    """The seat half of ``can_transition`` (state aside)."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if user.is_superuser:
        return True
    seats = _seats(user)
    scope = transition.scope
    if scope == "area":
        return _in_area(seats, transition.roles, case)
    if scope == "handler":
        return _is_handler(seats, transition.roles, case)
    if scope == "area_or_handler":
        return _in_area(seats, transition.roles, case) or _is_handler(seats, transition.roles, case)
    if scope == "reporter":
        staff_roles = transition.roles - {"resident"}
        return _is_reporter(user, case) or _in_area(seats, frozenset(staff_roles), case)
    raise ValueError(scope)


def transitions_for(user: Any, case: Case) -> list[str]:
    """Names of the transitions ``user`` may make on ``case`` now (buttons on the case page)."""
    return [name for name in TRANSITIONS if can_transition(user, case, name)]


def can_report_for_others(user: Any) -> bool:
    """Committee and grid staff register requests made at the counter or on patrol."""
    registrars = {"committee_worker", "committee_head", "grid_worker", "street_dispatcher"}
    return any(seat.role in registrars for seat in _seats(user))


# --- intake channels, contact details, hotline imports -------------------------------------------

REGISTRAR_ROLES = frozenset({"committee_worker", "committee_head", "grid_worker", "street_dispatcher"})
DISPATCH_ROLES = frozenset({"street_dispatcher", "street_officer", "district_officer", "city_admin"})
CONTACT_ROLES = frozenset(
    {"committee_worker", "committee_head", "grid_worker", "street_officer", "street_dispatcher"}
    | {"district_officer", "city_admin"}
)


def report_channels(user: Any, *, machine: bool = False) -> frozenset[str]:
    """The channels ``user`` may report through: everyone signed in as a resident (``resident_web``);
    committee and grid staff (and dispatchers) for requests taken at the counter or on patrol;
    dispatchers and officers for matters assigned by a superior (上级交办); a machine client with a
    personal token as ``api``."""
    if user is None or not getattr(user, "is_authenticated", False):
        return frozenset()
    channels = {"resident_web"}
    roles = {seat.role for seat in _seats(user)}
    if user.is_superuser or roles & REGISTRAR_ROLES:
        channels |= {"counter", "grid_patrol"}
    if user.is_superuser or roles & DISPATCH_ROLES:
        channels.add("assigned")
    if machine:
        channels.add("api")
    return frozenset(channels)


def can_reveal_contact(user: Any, case: Case) -> bool:
    """The reporter's contact details in clear (each reveal is logged by ``core.privacy.reveal``): for
    the responsible unit's staff and the staff of the case's area who register, dispatch or check it
    (the report form tells the resident that handlers see them)."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if user.is_superuser:
        return True
    seats = _seats(user)
    return _in_area(seats, CONTACT_ROLES, case) or _is_handler(seats, TRANSITIONS["handle"].roles, case)


def is_case_staff(user: Any) -> bool:
    """Whether ``user`` works on cases (any seat but resident or volunteer): staff see who acted in a
    timeline and the contact fields (masked); residents see neither of other people."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    return bool(user.is_superuser) or any(seat.role not in {"resident", "volunteer"} for seat in _seats(user))


def hotline_import_paths(user: Any) -> tuple[str, ...] | None:
    """Where ``user`` may load 12345 hotline tickets: the areas of their dispatcher and officer seats
    (street dispatch centres, street and district officers, the city). ``None``: everywhere
    (superusers); an empty tuple: nowhere."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return ()
    if user.is_superuser:
        return None
    return tuple(sorted({seat.path for seat in _seats(user) if seat.role in DISPATCH_ROLES and seat.path}))


def can_report_delivery(user: Any, case: Case) -> bool:
    """The integration accounts of the dispatch centres, districts and the city (dispatcher and officer
    seats whose area holds the case) report the delivery state of a case to an external system."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    return bool(user.is_superuser) or _in_area(_seats(user), DISPATCH_ROLES, case)


def in_hands_of(user: Any) -> Q:
    """The cases ``user`` handles, as a filter: the same relation as ``_is_handler`` — members of the
    responsible organisation, or staff of the responsible division or a division above it (a grid
    seat counts as its committee's staff)."""
    seats = [s for s in _seats(user) if s.role in TRANSITIONS["handle"].roles]
    q = Q(handler_org_id__in={s.organisation_id for s in seats if s.organisation_id})
    for path in {s.unit_path for s in seats if s.unit_path}:
        q |= Q(handler_division__path__startswith=path)
    return q


# --- Who keeps the routing rules -----------------------------------------------------------------

ROUTING_ROLES = frozenset({"district_officer", "city_admin"})


def routing_seats(user: Any) -> tuple[tuple[str, str], ...]:
    """(role, division path) of the user's district-officer and city-administrator seats (from the
    seats cached for the request)."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return ()
    return tuple(
        (s.role, s.path) for s in _seats(user) if s.role in ROUTING_ROLES and s.division_id is not None
    )


def is_city_routing_admin(user: Any) -> bool:
    if getattr(user, "is_superuser", False) and getattr(user, "is_active", False):
        return True
    return any(role == "city_admin" for role, _path in routing_seats(user))


def can_manage_routing(user: Any) -> bool:
    """Whether the user manages the routing rules of at least one district."""
    return is_city_routing_admin(user) or bool(routing_seats(user))


def can_edit_routing_rules(user: Any, division: Any) -> bool:
    """May ``user`` create or change rules applying in ``division`` (None: the whole city)? District
    officers: their district and the streets under it; city administrators: everywhere."""
    if is_city_routing_admin(user):
        return True
    if division is None:
        return False
    return any(division.path.startswith(path) for _role, path in routing_seats(user))
