"""Reads of residents' self-service (PIPL Art. 44–47) and of the committee's deletion queue.

A resident reaches exactly one registry record: the one their account is linked to
(``ResidentLink``, verified in person by the committee). Everyone else gets a 404 from these
selectors, exactly as for a missing record.

Own data, unmasked, unlogged: a resident sees their own record in clear, because it is their own
(PIPL Art. 45: the right to consult and copy). Such reads are not third-party access and write no
``AccessLog`` row; the access-transparency page lists only other people's reads of the resident's
unmasked data. Other members of the household appear masked (surname only): their data are theirs.

Sensitive tags (PIPL Art. 28) never reach a resident: only non-sensitive, active, open tag
assignments are read here.

Archived records (moved out or deceased beyond the retention period, or deleted on request) leave
every working list: staff-facing selectors narrow persons with ``active_persons``. The resident's own
page still shows their archived record, with a notice, until it is purged.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.db.models import QuerySet

from shequ.accounts.models import Membership, Role
from shequ.accounts.visibility import access_by_id, access_by_lookup, visible
from shequ.core.masking import mask_name
from shequ.core.models import AccessLog
from shequ.core.privacy import access_log_for_data_subject

from . import permissions
from .models import (
    CorrectionRequest,
    DeletionRequest,
    Household,
    HouseholdMember,
    Person,
    RequestStatus,
    TagAssignment,
)
from .services_retention import deletion_purge_period, purge_period


def active_persons(queryset: QuerySet[Person]) -> QuerySet[Person]:
    """Persons still in the working registry: not archived by the retention job or a deletion."""
    return queryset.filter(archived_at__isnull=True)


# --- The resident's own record ------------------------------------------------------------------


def resident_person(*, user: Any) -> Person:
    """The registry record linked to ``user``; 404 for anyone without a verified link."""
    queryset = Person.objects.select_related("house__building__compound", "registered_division")
    return access_by_lookup(queryset, user, resident_link__user_id=getattr(user, "pk", None))


@dataclass(frozen=True)
class HouseholdMemberView:
    relation: str
    name: str
    is_self: bool


@dataclass(frozen=True)
class HouseholdView:
    household: Household
    address: str
    members: list[HouseholdMemberView] = field(default_factory=list)


def resident_households(*, person: Person, user: Any) -> list[HouseholdView]:
    """The households the resident belongs to, with the other members masked to their surname."""
    households = list(
        visible(Household.objects.filter(members__person=person), user)
        .select_related("house__building__compound")
        .order_by("pk")
    )
    members = (
        HouseholdMember.objects.filter(household__in=households)
        .select_related("person")
        .order_by("household_id", "pk")
    )
    by_household: dict[int, list[HouseholdMemberView]] = {h.pk: [] for h in households}
    for member in members:
        is_self = member.person_id == person.pk
        by_household[member.household_id].append(
            HouseholdMemberView(
                relation=str(member.get_relation_display()),
                name=member.person.name if is_self else mask_name(member.person.name),
                is_self=is_self,
            )
        )
    return [HouseholdView(household=h, address=str(h.house), members=by_household[h.pk]) for h in households]


def resident_purge_date(*, person: Person) -> datetime | None:
    """When an archived record will be purged: after an approved deletion request, or per policy."""
    if person.archived_at is None:
        return None
    decided = (
        DeletionRequest.objects.filter(person=person, status=RequestStatus.ACCEPTED, decided_at__isnull=False)
        .order_by("-decided_at")
        .values_list("decided_at", flat=True)
        .first()
    )
    if decided is not None:
        return decided + deletion_purge_period()
    return person.archived_at + purge_period()


def resident_tags(*, person: Person) -> QuerySet[TagAssignment]:
    """The resident's open tags that may be shown to them: never a sensitive one."""
    return (
        TagAssignment.objects.filter(
            person=person, ended_at__isnull=True, tag__is_sensitive=False, tag__is_active=True
        )
        .select_related("tag")
        .order_by("tag__code")
    )


def resident_corrections(*, person: Person, user: Any) -> QuerySet[CorrectionRequest]:
    """The correction requests the resident made about their record, newest first."""
    return visible(CorrectionRequest.objects.filter(person=person, requested_by_id=user.pk), user).order_by(
        "-requested_at", "-pk"
    )


def resident_deletion_requests(*, person: Person, user: Any) -> QuerySet[DeletionRequest]:
    return visible(DeletionRequest.objects.filter(person=person, requested_by_id=user.pk), user).order_by(
        "-requested_at", "-pk"
    )


# --- Access transparency --------------------------------------------------------------------------


@dataclass(frozen=True)
class AccessEntry:
    """One read of the resident's unmasked data, described without the viewer's personal details."""

    accessed_at: datetime
    viewer: str  # surname only
    role: str
    unit: str
    fields: list[str]
    purpose: str


def resident_access_log(*, person: Person) -> QuerySet[AccessLog]:
    """Every read of this person's unmasked data by someone else, newest first."""
    return access_log_for_data_subject(person.personal_data_subject_id())


def _field_label(name: str) -> str:
    try:
        field = Person._meta.get_field(name)
    except FieldDoesNotExist:
        return name
    return str(getattr(field, "verbose_name", name))


def _node(membership: Membership) -> tuple[str, str]:
    """(place path, unit name) of a membership's node."""
    if membership.division is not None:
        return membership.division.path, membership.division.name
    if membership.grid is not None:
        return membership.grid.division.path, f"{membership.grid.division.name} {membership.grid.name}"
    if membership.organisation is not None:
        org = membership.organisation
        return (org.division.path if org.division is not None else ""), org.name
    return "", ""


def access_entries(*, rows: list[AccessLog], person: Person) -> list[AccessEntry]:
    """Describe a page of access-log rows: the viewer's surname, role and unit — the membership
    whose node covers the person's place when there is one — but never the viewer's full name or
    contact details. One query for all viewers' memberships, whatever the page size."""
    actor_ids = {row.actor_id for row in rows}
    memberships: dict[int, list[Membership]] = {}
    for m in (
        Membership.objects.filter(user_id__in=actor_ids, is_active=True)
        .exclude(role__in=[Role.RESIDENT, Role.VOLUNTEER])
        .select_related("division", "grid__division", "organisation__division")
        .order_by("pk")
    ):
        memberships.setdefault(m.user_id, []).append(m)
    entries: list[AccessEntry] = []
    for row in rows:
        held = memberships.get(row.actor_id, [])
        covering = [m for m in held if (path := _node(m)[0]) and person.path.startswith(path)]
        candidates = covering or held
        chosen = candidates[0] if candidates else None
        if chosen is not None:
            role = str(chosen.get_role_display())
            unit = _node(chosen)[1]
        else:
            role, unit = "", ""
        actor = row.actor
        name = getattr(actor, "display_name", "") or ""
        entries.append(
            AccessEntry(
                accessed_at=row.accessed_at,
                viewer=mask_name(name) if name else "",
                role=role,
                unit=unit,
                fields=[_field_label(f) for f in row.fields],
                purpose=row.purpose,
            )
        )
    return entries


# --- The committee's side ---------------------------------------------------------------------------


def deletion_requests_for_decision(*, user: Any, status: str = "") -> QuerySet[DeletionRequest]:
    """Deletion requests about persons in the user's area (staff who may view the registry)."""
    if not (
        getattr(user, "is_superuser", False) or permissions.roles_anywhere(user) & permissions.VIEW_ROLES
    ):
        return DeletionRequest.objects.none()
    queryset = visible(DeletionRequest.objects.select_related("person"), user)
    if status:
        queryset = queryset.filter(status=status)
    return queryset.order_by("-requested_at", "-pk")


def access_deletion_request_by_id(*, user: Any, request_id: int) -> DeletionRequest:
    return access_by_id(DeletionRequest.objects.select_related("person"), request_id, user)


def access_person_for_link(*, user: Any, person_id: int) -> Person:
    """A working (unarchived) person in the user's scope; 404 otherwise."""
    return access_by_id(active_persons(Person.objects.all()), person_id, user)


def resident_account_by_username(*, username: str, user: Any) -> Any | None:
    """The account behind a resident membership the user may see (their own area), by username."""
    membership = (
        visible(Membership.objects.filter(role=Role.RESIDENT, is_active=True), user)
        .filter(user__username=username.strip())
        .select_related("user")
        .first()
    )
    return membership.user if membership is not None else None
