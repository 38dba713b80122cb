"""Reads behind the case pages, each a fixed number of queries whatever the page size:

- ``case_timelines``: the events of a page of cases, in one query;
- ``latest_event_data``: per case, the data of the latest event of some types (the intake's routing
  suggestion and possible duplicates, a pending return or extension request, the resident's answer);
- ``dispatch_board``: the street dispatch board with its state and overdue filters;
- ``unit_choices`` / ``unit_from_value``: the units a dispatcher may pick for a case (the department
  branches, street offices and utilities of its district and above, the property company of its
  compound, the street itself as 属地, the committee for its own small matters);
- ``unit_labels``: names of the units written in event data (``org:<id>`` or a division code);
- places a reporter may choose: ``home_places`` (the user's own area), ``place_search`` (by name) and
  ``place_from_value``; the report map's root (``map_root``);
- ``access_subscription_by_token``: the follower behind a feedback link;
- ``draft_duplicates``: open cases like a report that is not yet submitted.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from shequ.accounts.models import CompoundService, CompoundServiceKind, Organisation, OrganisationKind
from shequ.accounts.visibility import scope_of
from shequ.core.errors import ApiError
from shequ.core.models import Event
from shequ.core.texts import with_detail
from shequ.places.models import Compound, Division, DivisionLevel

from . import selectors
from .duplicates import DuplicateCandidate, duplicate_candidates
from .models import OPEN_STATES, Case, CaseState, CaseSubscription, Category, ResponsibleKind
from .routing import ROUTABLE_ORG_KINDS

SUBJECT_TYPE = "cases.case"
PLACE_SEARCH_LIMIT = 10
HOME_PLACES_LIMIT = 200


# --- Timelines and event data --------------------------------------------------------------------


def case_timelines(cases: Sequence[Case]) -> dict[int, list[Event]]:
    """The events of each case, oldest first, with their actors (one query)."""
    timelines: dict[int, list[Event]] = {case.pk: [] for case in cases}
    if not timelines:
        return timelines
    rows = (
        Event.objects.filter(subject_type=SUBJECT_TYPE, subject_id__in=[str(pk) for pk in timelines])
        .select_related("actor")
        .order_by("occurred_at", "pk")
    )
    for event in rows:
        timelines[int(event.subject_id)].append(event)
    return timelines


def latest_event_data(cases: Sequence[Case], types: Iterable[str]) -> dict[int, dict[str, dict[str, Any]]]:
    """``{case id: {event type: data of the latest such event}}`` (one query)."""
    found: dict[int, dict[str, dict[str, Any]]] = {case.pk: {} for case in cases}
    if not found:
        return found
    rows = (
        Event.objects.filter(
            subject_type=SUBJECT_TYPE, subject_id__in=[str(pk) for pk in found], type__in=list(types)
        )
        .order_by("occurred_at", "pk")
        .values_list("subject_id", "type", "data")
    )
    for subject_id, type_, data in rows:
        found[int(subject_id)][type_] = data or {}
    return found


# --- The dispatch board --------------------------------------------------------------------------

BOARD_STATES = tuple(state for state in CaseState if state in OPEN_STATES)


def dispatch_board(
    user: Any, *, state: str = "", overdue: bool = False, now: datetime | None = None
) -> QuerySet[Case]:
    """The board's queue: by default the cases waiting for the centre (``selectors.dispatch_queue``);
    with ``state`` the open cases in that state (handling cases to suspend or supervise …); with
    ``overdue`` only those past their handling deadline. Earliest deadline first."""
    if state and state in OPEN_STATES:
        queryset = selectors.open_cases(user).filter(state=state).order_by("due_at", "reported_at", "pk")
    else:
        queryset = selectors.dispatch_queue(user)
    if overdue:
        queryset = queryset.filter(due_at__lt=now or timezone.now())
    return queryset


# --- Units a dispatcher may pick -----------------------------------------------------------------


@dataclass(frozen=True)
class UnitChoice:
    value: str  # "org:<id>" or "div:<id>"
    label: str


def _ancestor_codes(path: str) -> list[str]:
    return [part for part in path.split("/") if part and not part.startswith("g")]


def unit_choices(cases: Sequence[Case]) -> dict[int, list[UnitChoice]]:
    """For each case the units it may be dispatched to, by hand (two queries for the whole page)."""
    choices: dict[int, list[UnitChoice]] = {case.pk: [] for case in cases}
    if not choices:
        return choices
    district_paths = {case.district.path for case in cases}
    ancestor_codes = {code for case in cases for code in _ancestor_codes(case.path)}
    area = Q(division__isnull=True) | Q(division__code__in=sorted(ancestor_codes))
    for path in sorted(district_paths):
        area |= Q(division__path__startswith=path)
    orgs = list(
        Organisation.objects.filter(area, is_active=True, kind__in=ROUTABLE_ORG_KINDS)
        .exclude(kind=OrganisationKind.PROPERTY_COMPANY)
        .select_related("division")
        .order_by("kind", "name", "pk")
    )
    compound_ids = {case.compound_id for case in cases if case.compound_id is not None}
    today = timezone.localdate()
    property_companies: dict[int, list[Organisation]] = {}
    if compound_ids:
        links = (
            CompoundService.objects.filter(
                compound_id__in=sorted(compound_ids),
                kind=CompoundServiceKind.PROPERTY_MANAGEMENT,
                organisation__is_active=True,
            )
            .filter(
                Q(starts_on__isnull=True) | Q(starts_on__lte=today),
                Q(ends_on__isnull=True) | Q(ends_on__gte=today),
            )
            .select_related("organisation")
            .order_by("organisation__name")
        )
        for link in links:
            property_companies.setdefault(link.compound_id, []).append(link.organisation)
    for case in cases:
        rows = choices[case.pk]
        for org in orgs:
            division = org.division
            if division is not None and not (
                case.path.startswith(division.path) or division.path.startswith(case.district.path)
            ):
                continue
            rows.append(UnitChoice(f"org:{org.pk}", with_detail(org.name, org.get_kind_display())))
        for org in property_companies.get(case.compound_id or 0, []):
            rows.append(UnitChoice(f"org:{org.pk}", with_detail(org.name, org.get_kind_display())))
        rows.append(
            UnitChoice(f"div:{case.street_id}", _("%(name)s城运中心（属地）") % {"name": case.street.name})
        )
        if case.committee is not None and case.category.responsible_kind == ResponsibleKind.COMMITTEE:
            rows.append(
                UnitChoice(
                    f"div:{case.committee_id}", _("%(name)s（居村委自办）") % {"name": case.committee.name}
                )
            )
    return choices


def unit_from_value(value: str) -> tuple[Organisation | None, Division | None]:
    """The organisation or division named by a unit choice (``org:<id>`` / ``div:<id>``); the caller
    has checked that the value is one of the case's ``unit_choices``."""
    kind, _sep, raw = (value or "").partition(":")
    if not raw.isdigit():
        return None, None
    if kind == "org":
        return Organisation.objects.filter(pk=int(raw)).first(), None
    if kind == "div":
        return None, Division.objects.filter(pk=int(raw)).first()
    return None, None


def unit_labels(keys: Iterable[str | None]) -> dict[str, str]:
    """Names of handlers as written in event data: ``org:<id>`` or a division code (two queries)."""
    wanted = {key for key in keys if key}
    org_ids = sorted(int(key[4:]) for key in wanted if key.startswith("org:") and key[4:].isdigit())
    codes = sorted(key for key in wanted if not key.startswith("org:"))
    labels: dict[str, str] = {}
    if org_ids:
        labels.update(
            (f"org:{pk}", name)
            for pk, name in Organisation.objects.filter(pk__in=org_ids).values_list("pk", "name")
        )
    if codes:
        labels.update(Division.objects.filter(code__in=codes).values_list("code", "name"))
    return labels


# --- Places a reporter may choose ----------------------------------------------------------------


@dataclass(frozen=True)
class PlaceChoice:
    value: str  # "compound:<id>" or "division:<id>"
    label: str
    detail: str


def _compound_choice(compound: Compound) -> PlaceChoice:
    return PlaceChoice(f"compound:{compound.pk}", compound.name, compound.committee.name)


def _division_choice(division: Division) -> PlaceChoice:
    parent = division.parent.name if division.parent is not None else ""
    return PlaceChoice(f"division:{division.pk}", division.name, parent)


def home_places(user: Any) -> list[PlaceChoice]:
    """The committees and compounds of the user's own area: where a resident lives, the committee or
    street a worker serves, the compounds of a grid worker's grid (three queries at most)."""
    scope = scope_of(user)
    paths = sorted(set(scope.home_paths) | set(scope.division_paths))
    out: list[PlaceChoice] = []
    if paths:
        where = Q(pk__in=[])
        for path in paths:
            where |= Q(path__startswith=path)
        committees = (
            Division.objects.filter(where, level=DivisionLevel.COMMITTEE, is_active=True)
            .select_related("parent")
            .order_by("code")[:HOME_PLACES_LIMIT]
        )
        out.extend(_division_choice(division) for division in committees)
        compounds = (
            Compound.objects.filter(where).select_related("committee").order_by("code")[:HOME_PLACES_LIMIT]
        )
        out.extend(_compound_choice(compound) for compound in compounds)
    if scope.grid_ids:
        compounds = (
            Compound.objects.filter(grid_id__in=scope.grid_ids).select_related("committee").order_by("code")
        )[:HOME_PLACES_LIMIT]
        out.extend(_compound_choice(compound) for compound in compounds)
    return list({choice.value: choice for choice in out}.values())


def place_search(q: str) -> list[PlaceChoice]:
    """Compounds and committees whose name contains ``q`` (public names; two queries)."""
    q = " ".join((q or "").split())
    if len(q) < 2:  # one character matches half the city
        return []
    compounds = (
        Compound.objects.filter(name__icontains=q).select_related("committee").order_by("name", "code")
    )[:PLACE_SEARCH_LIMIT]
    committees = (
        Division.objects.filter(
            name__icontains=q, level__in=[DivisionLevel.COMMITTEE, DivisionLevel.STREET], is_active=True
        )
        .select_related("parent")
        .order_by("name", "code")
    )[:PLACE_SEARCH_LIMIT]
    return [*(_compound_choice(c) for c in compounds), *(_division_choice(d) for d in committees)]


def place_from_value(value: str) -> Compound | Division | None:
    """The compound or the committee/street named by a place choice, or None."""
    kind, _sep, raw = (value or "").partition(":")
    if not raw.isdigit():
        return None
    if kind == "compound":
        return Compound.objects.select_related("committee__parent").filter(pk=int(raw)).first()
    if kind == "division":
        return (
            Division.objects.select_related("parent")
            .filter(pk=int(raw), is_active=True, level__in=[DivisionLevel.COMMITTEE, DivisionLevel.STREET])
            .first()
        )
    return None


def place_value(node: Compound | Division) -> str:
    return f"compound:{node.pk}" if isinstance(node, Compound) else f"division:{node.pk}"


def place_choice(node: Compound | Division) -> PlaceChoice:
    return _compound_choice(node) if isinstance(node, Compound) else _division_choice(node)


def map_root() -> Division | None:
    """The division whose children's outlines the report map draws (the city)."""
    return Division.objects.filter(level=DivisionLevel.CITY, is_active=True).order_by("code").first()


# --- The feedback link ---------------------------------------------------------------------------


def access_subscription_by_token(token: str) -> CaseSubscription:
    """The follower behind a "solved? satisfied?" link, with its case; a 404 for an unknown token
    (the token is the only key: the page needs no account)."""
    sub = (
        CaseSubscription.objects.select_related("case__category", "case__committee", "case__street")
        .filter(token=token)
        .first()
    )
    if sub is None or not token:
        raise Http404
    return sub


# --- Duplicates of a report being written --------------------------------------------------------


def draft_duplicates(
    *,
    category: Category,
    text: str,
    place: Compound | Division | None = None,
    lon: float | None = None,
    lat: float | None = None,
) -> list[DuplicateCandidate]:
    """Open cases that may be the same matter as a report not yet submitted (a pin or a place)."""
    if category.is_emergency or not (text or "").strip():
        return []
    street_code = ""
    committee_id: int | None = None
    compound_id: int | None = None
    if lon is not None and lat is not None:
        from shequ.places.locate import locate

        try:
            answer = locate(lon=lon, lat=lat)
        except ApiError:
            answer = None
        if answer is not None and answer.street is not None:
            street_code = answer.street.code
            lon, lat = answer.wgs84_lon, answer.wgs84_lat
    if not street_code and place is not None:
        lon = lat = None
        if isinstance(place, Compound):
            compound_id, committee_id = place.pk, place.committee_id
            lon, lat = place.lon, place.lat
            street = place.committee.parent
        else:
            committee_id = place.pk if place.level == DivisionLevel.COMMITTEE else None
            street = place.parent if place.level == DivisionLevel.COMMITTEE else place
        street_code = street.code if street is not None else ""
    if not street_code:
        return []
    return duplicate_candidates(
        category=category,
        lon=lon,
        lat=lat,
        text=text,
        street_code=street_code,
        committee_id=committee_id,
        compound_id=compound_id,
    )
