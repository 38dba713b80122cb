"""Visibility rules of the registry models, registered with the one visibility module."""

from __future__ import annotations

from shequ.accounts.visibility import ScopeRule, register_scope

from .models import Household, HouseholdMember, Person


def register_registry_scopes() -> None:
    # Persons and households carry their compound's place path (denormalised), so scoping is one
    # indexed prefix match. Organisations (property companies, owners' committees) get no rule of
    # their own here: personal data is not shared with them through their compound links.
    register_scope(Person, ScopeRule(path="path", grid="house__building__compound__grid_id"))
    register_scope(Household, ScopeRule(path="path", grid="house__building__compound__grid_id"))
    register_scope(
        HouseholdMember,
        ScopeRule(path="household__path", grid="household__house__building__compound__grid_id"),
    )
