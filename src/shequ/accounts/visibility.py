"""The one module that decides what a user may see (DOMAIN.md §2).

Every list, detail, export, search, count and API response filters through ``visible()`` or fetches
through ``access_by_id()``. A record outside the user's scope is indistinguishable from a missing one:
both raise ``Http404``.

Scope comes only from active memberships:
- a staff membership at a division sees that division's subtree (its ``path`` prefix) and, for navigation,
  the division's ancestors (names only: the tree itself is public statistical data);
- a membership at a grid sees what lies in the grid, and the grid's ancestors for navigation;
- a membership at an organisation sees what is linked to the organisation (each model says how) and,
  for place records, the organisation's own area;
- a city administrator at the city node sees everything below the city;
- a resident's or volunteer's membership gives no subtree of records: it places the person in the
  tree (``home_paths``) for navigation and for the public place records of their neighbourhood
  (rules with ``home_area``); residents see their own records through each model's ``personal``
  rule and what is public (DOMAIN.md §2).

Apps register how their models are scoped with ``register_scope`` (in ``AppConfig.ready``), so this
module never imports a domain app.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from django.core.exceptions import ObjectDoesNotExist
from django.db import models
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone

M = TypeVar("M", bound=models.Model)


@dataclass(frozen=True)
class Scope:
    """What one user's active memberships cover, computed once per request."""

    user_id: int | None
    division_paths: tuple[str, ...] = ()
    grid_ids: tuple[int, ...] = ()
    grid_paths: tuple[str, ...] = ()
    organisation_ids: tuple[int, ...] = ()
    organisation_paths: tuple[str, ...] = ()
    roles: frozenset[str] = field(default_factory=frozenset)
    # Where residents and volunteers live or serve: navigation only, never a subtree of records.
    home_paths: tuple[str, ...] = ()

    @property
    def is_empty(self) -> bool:
        return not (self.division_paths or self.grid_ids or self.organisation_ids)

    def ancestor_codes(self) -> set[str]:
        """Codes of every division on the way down to each membership node (for navigation)."""
        codes: set[str] = set()
        for path in (*self.division_paths, *self.grid_paths, *self.organisation_paths, *self.home_paths):
            codes.update(part for part in path.split("/") if part and not part.startswith("g"))
        return codes


@dataclass(frozen=True)
class ScopeRule:
    """How to find a model's place in the tree.

    ``path``: lookup of the record's place path (``"path"``, ``"compound__path"`` …).
    ``grid``: lookup of the record's grid id, when records can be narrowed to a grid.
    ``organisation``: a function from organisation ids to a ``Q`` selecting records linked to them.
    ``personal``: a function from a user id to a ``Q`` selecting the user's own records (residents).
    ``navigable``: ancestors of the user's nodes are visible too (the division tree, the registry of
    organisations).
    ``code``: lookup of the record's division code, used with ``navigable``.
    ``also_paths``: further place-path lookups matched like ``path`` (a record that can hang from
    more than one kind of node, such as a membership).
    ``organisation_area``: members of an organisation also see the records of the organisation's own
    area (place records). Off by default: departments see what is linked to them, not their area.
    ``home_area``: residents and volunteers see the records below their own node (the public place
    tree of their neighbourhood). Off by default: they never see other people's records.
    ``distinct``: the rule's lookups cross a multi-valued relation, so the filtered queryset must be
    made distinct (prefer ``pk__in`` subqueries in ``organisation``/``personal`` rules instead).
    """

    path: str
    grid: str | None = None
    organisation: Callable[[tuple[int, ...]], Q] | None = None
    personal: Callable[[int], Q] | None = None
    navigable: bool = False
    code: str | None = None
    also_paths: tuple[str, ...] = ()
    organisation_area: bool = False
    home_area: bool = False
    distinct: bool = False

    @property
    def path_lookups(self) -> tuple[str, ...]:
        return (self.path, *self.also_paths)


_RULES: dict[type[models.Model], ScopeRule] = {}


def register_scope(model: type[models.Model], rule: ScopeRule) -> None:
    _RULES[model] = rule


def rule_for(model: type[models.Model]) -> ScopeRule:
    try:
        return _RULES[model]
    except KeyError:
        raise LookupError(f"{model._meta.label} has no registered visibility rule") from None


_SCOPE_ATTR = "_shequ_scope"


def scope_of(user: Any) -> Scope:
    """The user's scope, cached on the user object for the request."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return Scope(user_id=None)
    cached = getattr(user, _SCOPE_ATTR, None)
    if cached is not None:
        return cached
    from .models import Membership  # local: models import places, keep import graph flat at load

    today = timezone.localdate()

    rows = (
        Membership.objects.filter(user=user, is_active=True)
        .filter(
            Q(starts_on__isnull=True) | Q(starts_on__lte=today),
            Q(ends_on__isnull=True) | Q(ends_on__gte=today),
        )
        .select_related("division", "grid", "organisation__division")
        .only(
            "role",
            "division__path",
            "grid__id",
            "grid__path",
            "organisation__id",
            "organisation__division__path",
        )
    )
    division_paths: list[str] = []
    grid_ids: list[int] = []
    grid_paths: list[str] = []
    organisation_ids: list[int] = []
    organisation_paths: list[str] = []
    home_paths: list[str] = []
    roles: set[str] = set()
    for m in rows:
        roles.add(m.role)
        if m.role in _NON_STAFF_ROLES:
            node_path = _node_path(m)
            if node_path:
                home_paths.append(node_path)
            continue
        if m.division is not None:
            division_paths.append(m.division.path)
        elif m.grid is not None:
            grid_ids.append(m.grid.pk)
            grid_paths.append(m.grid.path)
        elif m.organisation is not None:
            organisation_ids.append(m.organisation.pk)
            if m.organisation.division is not None:
                organisation_paths.append(m.organisation.division.path)
    scope = Scope(
        user_id=user.pk,
        division_paths=tuple(sorted(set(division_paths))),
        grid_ids=tuple(sorted(set(grid_ids))),
        grid_paths=tuple(sorted(set(grid_paths))),
        organisation_ids=tuple(sorted(set(organisation_ids))),
        organisation_paths=tuple(sorted(set(organisation_paths))),
        roles=frozenset(roles),
        home_paths=tuple(sorted(set(home_paths))),
    )
    setattr(user, _SCOPE_ATTR, scope)
    return scope


# Roles that place a person in the tree without giving them the subtree (kept in sync with
# ``security.NON_STAFF_ROLES``; plain strings so that this module imports no models at load).
_NON_STAFF_ROLES = frozenset({"resident", "volunteer"})


def _node_path(membership: Any) -> str:
    if membership.division is not None:
        return str(membership.division.path)
    if membership.grid is not None:
        return str(membership.grid.path)
    if membership.organisation is not None and membership.organisation.division is not None:
        return str(membership.organisation.division.path)
    return ""


def forget_scope(user: Any) -> None:
    """Drop the cached scope (after a membership change within the same request)."""
    if hasattr(user, _SCOPE_ATTR):
        delattr(user, _SCOPE_ATTR)


def _below(rule: ScopeRule, paths: tuple[str, ...]) -> Q:
    """Records whose place path (under any of the rule's lookups) lies below one of ``paths``."""
    q = Q(pk__in=[])
    for path in paths:
        for lookup in rule.path_lookups:
            q |= Q(**{f"{lookup}__startswith": path})
    return q


def scope_q(scope: Scope, rule: ScopeRule) -> Q:
    """The filter that keeps exactly the records ``scope`` may see under ``rule``."""
    q = _below(rule, scope.division_paths)
    if scope.grid_ids:
        if rule.grid is not None:
            q |= Q(**{f"{rule.grid}__in": scope.grid_ids})
        else:
            # Records that cannot be narrowed to a grid: a grid worker sees only the grid's own
            # place (its path), never the whole committee.
            q |= _below(rule, scope.grid_paths)
    if scope.organisation_ids:
        if rule.organisation is not None:
            q |= rule.organisation(scope.organisation_ids)
        if rule.organisation_area:
            q |= _below(rule, scope.organisation_paths)
    if rule.home_area:
        q |= _below(rule, scope.home_paths)
    if rule.personal is not None and scope.user_id is not None:
        q |= rule.personal(scope.user_id)
    if rule.navigable and rule.code is not None:
        codes = scope.ancestor_codes()
        if codes:
            q |= Q(**{f"{rule.code}__in": sorted(codes)})
    return q


def visible(queryset: QuerySet[M], user: Any) -> QuerySet[M]:
    """Narrow ``queryset`` to what ``user`` may see. Unknown users and empty scopes see nothing."""
    scope = scope_of(user)
    if scope.user_id is None:
        return queryset.none()
    rule = rule_for(queryset.model)
    narrowed = queryset.filter(scope_q(scope, rule))
    return narrowed.distinct() if rule.distinct else narrowed


def access_by_id(queryset: QuerySet[M], pk: Any, user: Any) -> M:
    """Fetch one record the user may see; missing and forbidden both raise ``Http404``."""
    try:
        return visible(queryset, user).get(pk=pk)
    except (ObjectDoesNotExist, ValueError, TypeError):
        raise Http404 from None


def access_by_lookup(queryset: QuerySet[M], user: Any, **lookup: Any) -> M:
    try:
        return visible(queryset, user).get(**lookup)
    except (ObjectDoesNotExist, ValueError, TypeError):
        raise Http404 from None


def path_visible(scope: Scope, path: str) -> bool:
    """Whether a place path lies within the division part of a scope (for objects already loaded)."""
    return any(
        path.startswith(p) for p in (*scope.division_paths, *scope.organisation_paths, *scope.grid_paths)
    )
