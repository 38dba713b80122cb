"""Visibility rules of the registry models, registered with the one visibility module."""

from __future__ import annotations

from django.db.models import Q

from shequ.accounts.visibility import ScopeRule, register_scope

from .models import (
    BackflowDataset,
    BackflowRow,
    CorrectionRequest,
    DeletionRequest,
    Household,
    HouseholdMember,
    ImportJob,
    Person,
    SavedFilter,
    TagAssignment,
    Visit,
)

_GRID = "house__building__compound__grid_id"


def _corrections_routed_to(org_ids: tuple[int, ...]) -> Q:
    """Correction requests of a source-owned attribute are visible to the owning department's staff
    (by the organisation's sector) within the organisation's area."""
    from shequ.accounts.models import Organisation

    from .permissions import SOURCE_SECTORS

    source_of = {sector: source for source, sector in SOURCE_SECTORS.items()}
    q = Q(pk__in=[])
    for sector, area in Organisation.objects.filter(pk__in=org_ids).values_list("sector", "division__path"):
        if sector in source_of:
            q |= Q(routed_to=source_of[sector], path__startswith=area or "")
    return q


def register_registry_scopes() -> None:
    # Persons and households carry their compound's place path (denormalised), so scoping is one
    # indexed prefix match. Organisations (property companies, owners' committees) get no rule of
    # their own here: personal data is not shared with them through their compound links. A resident
    # sees their own record (through their verified link) and nothing else.
    register_scope(
        Person, ScopeRule(path="path", grid=_GRID, personal=lambda uid: Q(resident_link__user_id=uid))
    )
    register_scope(
        Household,
        ScopeRule(
            path="path",
            grid=_GRID,
            # A subquery, not a join: the members join would repeat the household once per member.
            personal=lambda uid: Q(
                pk__in=HouseholdMember.objects.filter(person__resident_link__user_id=uid).values(
                    "household_id"
                )
            ),
        ),
    )
    register_scope(
        HouseholdMember,
        ScopeRule(path="household__path", grid="household__house__building__compound__grid_id"),
    )
    register_scope(TagAssignment, ScopeRule(path="path", grid=f"person__{_GRID}"))
    register_scope(Visit, ScopeRule(path="path", grid=f"household__{_GRID}"))
    register_scope(
        CorrectionRequest,
        ScopeRule(
            path="path", personal=lambda uid: Q(requested_by_id=uid), organisation=_corrections_routed_to
        ),
    )
    register_scope(DeletionRequest, ScopeRule(path="path", personal=lambda uid: Q(requested_by_id=uid)))
    register_scope(SavedFilter, ScopeRule(path="path", personal=lambda uid: Q(owner_id=uid)))
    register_scope(ImportJob, ScopeRule(path="path"))
    register_scope(BackflowRow, ScopeRule(path="path"))
    # A dataset is visible to its publisher and to committees with rows in their area (callers use
    # distinct(): the rows join can repeat a dataset).
    register_scope(
        BackflowDataset,
        ScopeRule(path="rows__path", organisation=lambda ids: Q(publisher_id__in=ids), distinct=True),
    )
