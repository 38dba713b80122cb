"""Visibility rules of the place models (places may not import accounts, so they live here)."""

from __future__ import annotations

from django.db.models import Q

from shequ.places.models import Building, Compound, Division, Grid, House

from .visibility import ScopeRule, register_scope


def _compounds_of_organisations(org_ids: tuple[int, ...]) -> Q:
    # Property companies and owners' committees see the compounds they serve.
    return Q(service_links__organisation_id__in=org_ids)


def register_place_scopes() -> None:
    register_scope(Division, ScopeRule(path="path", navigable=True, code="code"))
    register_scope(Grid, ScopeRule(path="path", grid="id"))
    register_scope(
        Compound, ScopeRule(path="path", grid="grid_id", organisation=_compounds_of_organisations)
    )
    register_scope(
        Building,
        ScopeRule(
            path="compound__path",
            grid="compound__grid_id",
            organisation=lambda ids: Q(compound__service_links__organisation_id__in=ids),
        ),
    )
    register_scope(
        House,
        ScopeRule(
            path="building__compound__path",
            grid="building__compound__grid_id",
            organisation=lambda ids: Q(building__compound__service_links__organisation_id__in=ids),
        ),
    )
