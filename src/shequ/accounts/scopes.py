"""Visibility rules of the place models (places may not import accounts, so they live here) and of
the accounts models."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from shequ.places.models import Building, Compound, Division, Grid, House

from .models import CompoundService, Membership, Organisation
from .visibility import ScopeRule, register_scope


def _served_compound_ids(org_ids: tuple[int, ...]) -> QuerySet[CompoundService, int]:
    # A subquery, not a join: a compound served by two of the user's organisations appears once.
    return CompoundService.objects.filter(organisation_id__in=org_ids).values_list("compound_id", flat=True)


def _compounds_of_organisations(org_ids: tuple[int, ...]) -> Q:
    # Property companies and owners' committees see the compounds they serve.
    return Q(pk__in=_served_compound_ids(org_ids))


def _organisations_of_organisations(org_ids: tuple[int, ...]) -> Q:
    # Members of an organisation see it and its branches.
    return Q(pk__in=org_ids) | Q(parent_id__in=org_ids)


def _memberships_of_organisations(org_ids: tuple[int, ...]) -> Q:
    return Q(organisation_id__in=org_ids) | Q(organisation__parent_id__in=org_ids)


def register_place_scopes() -> None:
    register_scope(
        Division, ScopeRule(path="path", navigable=True, code="code", organisation_area=True, home_area=True)
    )
    register_scope(Grid, ScopeRule(path="path", grid="id", organisation_area=True, home_area=True))
    register_scope(
        Compound,
        ScopeRule(
            path="path",
            grid="grid_id",
            organisation=_compounds_of_organisations,
            organisation_area=True,
            home_area=True,
        ),
    )
    register_scope(
        Building,
        ScopeRule(
            path="compound__path",
            grid="compound__grid_id",
            organisation=lambda ids: Q(compound_id__in=_served_compound_ids(ids)),
            organisation_area=True,
            home_area=True,
        ),
    )
    register_scope(
        House,
        ScopeRule(
            path="building__compound__path",
            grid="building__compound__grid_id",
            organisation=lambda ids: Q(building__compound_id__in=_served_compound_ids(ids)),
            organisation_area=True,
        ),
    )


def register_account_scopes() -> None:
    # The registry of organisations: staff see the organisations of their subtree and those of the
    # nodes above them (the district and city departments that serve them); members see their own
    # organisation, its branches and the organisations of its area.
    register_scope(
        Organisation,
        ScopeRule(
            path="division__path",
            organisation=_organisations_of_organisations,
            navigable=True,
            code="division__code",
            organisation_area=True,
        ),
    )
    # Memberships hang from a division, a grid or an organisation; everyone sees their own.
    register_scope(
        Membership,
        ScopeRule(
            path="division__path",
            also_paths=("grid__path", "organisation__division__path"),
            grid="grid_id",
            organisation=_memberships_of_organisations,
            personal=lambda user_id: Q(user_id=user_id),
        ),
    )
    register_scope(
        CompoundService,
        ScopeRule(
            path="compound__path",
            grid="compound__grid_id",
            organisation=lambda ids: Q(organisation_id__in=ids),
            organisation_area=True,
        ),
    )
