"""Reads of the committee worker's registry: the search list, the person sheet (一人一表), the household
file (一户一档), the house view and the correction requests.

Everything goes through the visibility module first and then through the registry's view rule: a
record outside the user's scope, or one the user holds no registry role for (property managers,
department staff, residents looking at someone else), is a 404 exactly like a missing one, and lists
leave it out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db.models import Prefetch, Q, QuerySet
from django.http import Http404

from shequ.accounts.visibility import access_by_id, visible
from shequ.places.models import House

from . import permissions
from .filters import PersonCriteria, path_prefix_q, persons_matching
from .models import (
    AttributeProvenance,
    CorrectionRequest,
    Household,
    HouseholdMember,
    Person,
    RequestStatus,
)


def _under(paths: tuple[str, ...] | None, lookup: str = "path") -> Q | None:
    """``None`` when the paths cover everything (superusers), else the prefix filter."""
    if paths is None:
        return None
    q = Q(pk__in=[])
    for path in paths:
        q |= path_prefix_q(path, lookup)
    return q


def _registry_visible(queryset: QuerySet[Any], user: Any, lookup: str = "path") -> QuerySet[Any]:
    """``visible()`` narrowed further to where the user holds a registry viewing role."""
    narrowed = visible(queryset, user)
    q = _under(permissions.registry_view_paths(user), lookup)
    return narrowed if q is None else narrowed.filter(q)


def person_search(*, user: Any, criteria: PersonCriteria, as_of: date) -> QuerySet[Person]:
    """The committee worker's search: the persons the user may see that match ``criteria``, by compound
    (place path) and then name, with what the list shows joined in (a fixed number of queries whatever
    the page size).

    Ordering by path first matters at scale: ordered by name alone, PostgreSQL may walk the whole name
    index looking for the first page of a rare match instead of reading the scope's few thousand rows
    through the path index."""
    scoped = _registry_visible(Person.objects.all(), user)
    return (
        persons_matching(scoped, criteria, user=user, as_of=as_of)
        .select_related("house__building__compound")
        .order_by("path", "name", "pk")
    )


def access_person(*, user: Any, pk: Any) -> Person:
    person = access_by_id(
        Person.objects.select_related("house__building__compound", "registered_division"), pk, user
    )
    if not permissions.can_view_registry(user, person.path):
        raise Http404
    return person


def access_household(*, user: Any, pk: Any) -> Household:
    household = access_by_id(Household.objects.select_related("house__building__compound", "head"), pk, user)
    if not permissions.can_view_registry(user, household.path):
        raise Http404
    return household


def access_house(*, user: Any, pk: Any) -> House:
    house = access_by_id(House.objects.select_related("building__compound__committee"), pk, user)
    if not permissions.can_view_registry(user, house.building.compound.path):
        raise Http404
    return house


def access_correction_request(*, user: Any, pk: Any) -> CorrectionRequest:
    request = access_by_id(CorrectionRequest.objects.select_related("person", "requested_by"), pk, user)
    if not (
        permissions.can_view_registry(user, request.path)
        or permissions.can_decide_correction(user, routed_to=request.routed_to, path=request.path)
    ):
        raise Http404
    return request


@dataclass(frozen=True)
class PersonSheet:
    """一人一表: a person with the provenance of each attribute and the households they belong to."""

    person: Person
    provenance: dict[str, AttributeProvenance]
    memberships: list[HouseholdMember]
    pending_corrections: list[CorrectionRequest]


def person_sheet(*, person: Person) -> PersonSheet:
    provenance = {
        p.attribute: p
        for p in AttributeProvenance.objects.filter(person=person).select_related("confirmed_by")
    }
    memberships = list(
        HouseholdMember.objects.filter(person=person)
        .select_related("household__house__building__compound")
        .order_by("household_id")
    )
    pending = list(
        CorrectionRequest.objects.filter(person=person, status=RequestStatus.PENDING).order_by("requested_at")
    )
    return PersonSheet(
        person=person, provenance=provenance, memberships=memberships, pending_corrections=pending
    )


def household_members(*, household: Household) -> list[HouseholdMember]:
    """The members, head first, with their person records."""
    members = HouseholdMember.objects.filter(household=household).select_related("person")
    return sorted(members, key=lambda m: (m.relation != "head", m.person.name, m.pk))


def house_households(*, user: Any, house: House) -> list[Household]:
    """The households living in ``house`` that the user may see, with their members."""
    members = HouseholdMember.objects.select_related("person").order_by("pk")
    return list(
        _registry_visible(Household.objects.filter(house=house), user)
        .select_related("head")
        .prefetch_related(Prefetch("members", queryset=members))
        .order_by("pk")
    )


def house_residents(*, user: Any, house: House) -> list[Person]:
    """Everyone recorded as actually living in ``house`` (实有人口), living here or not archived."""
    return list(
        _registry_visible(Person.objects.filter(house=house, archived_at__isnull=True), user).order_by(
            "name", "pk"
        )
    )


def correction_requests(
    *, user: Any, status: str | None = RequestStatus.PENDING
) -> QuerySet[CorrectionRequest]:
    """Correction requests in the user's registry scope, and those routed to the user's department
    (newest first)."""
    qs = visible(CorrectionRequest.objects.all(), user)
    view_q = _under(permissions.registry_view_paths(user), "path")
    if view_q is not None:
        sources = permissions.correction_sources_of(user)
        qs = qs.filter(view_q | Q(routed_to__in=sorted(sources))) if sources else qs.filter(view_q)
    if status:
        qs = qs.filter(status=status)
    return qs.select_related("person", "requested_by").order_by("-requested_at", "-pk")
