"""The catalogue and the routing data, kept per process (``core.revisions``).

Every report reads its category and routes it; both read data that changes a few times a year. Each
process keeps a copy and reloads it only when its revision has changed:

- ``cases.catalogue``: the categories (bumped by any category saved or deleted);
- ``cases.routing``: the active routing rules, the organisations cases are routed to along a path, and
  each compound's property-management contracts (bumped by any rule, organisation or compound service
  saved or deleted). The copy is also reloaded when the division rows change (``places.rows``), whose
  names appear in the routing reasons.

The model signals are registered in ``apps.py``. The instances are shared by the requests of a
process: read them, never change them.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from typing import Final

from django.db.models import F

from shequ.accounts.models import CompoundService, CompoundServiceKind, Organisation, OrganisationKind
from shequ.core.revisions import LookupCache, RevisionCache
from shequ.places.lookups import ROWS_REVISION

from .models import Category, RoutingRule

CATALOGUE_REVISION: Final = "cases.catalogue"
ROUTING_REVISION: Final = "cases.routing"

# Organisations found along a case's path by kind and sector (the property company comes from the
# compound's contract, a named organisation from the rule itself).
PATH_ORG_KINDS: Final = (
    OrganisationKind.DEPARTMENT_BRANCH,
    OrganisationKind.UTILITY,
    OrganisationKind.STREET_OFFICE,
)


def _catalogue() -> dict[str, Category]:
    return {category.code: category for category in Category.objects.all()}


_categories: RevisionCache[dict[str, Category]] = RevisionCache((CATALOGUE_REVISION,), _catalogue)


def category_by_code(code: str) -> Category | None:
    """The category with this code (as stored: upper case), active or not."""
    return _categories.get().get(code)


@dataclass(frozen=True)
class RoutingData:
    """Every active rule, by priority then age; the active path organisations by division (None: the
    city-wide ones), each list by age."""

    rules: tuple[RoutingRule, ...]
    orgs_by_division: dict[int | None, tuple[Organisation, ...]]


def _routing() -> RoutingData:
    rules = tuple(
        RoutingRule.objects.filter(is_active=True)
        .select_related("organisation", "division")
        .order_by("priority", "pk")
    )
    grouped: dict[int | None, list[Organisation]] = defaultdict(list)
    for org in Organisation.objects.filter(is_active=True, kind__in=PATH_ORG_KINDS).order_by("pk"):
        grouped[org.division_id].append(org)
    return RoutingData(rules=rules, orgs_by_division={key: tuple(orgs) for key, orgs in grouped.items()})


_routing_data: RevisionCache[RoutingData] = RevisionCache((ROUTING_REVISION, ROWS_REVISION), _routing)


def routing_data() -> RoutingData:
    return _routing_data.get()


@dataclass(frozen=True)
class PropertyContract:
    organisation: Organisation
    starts_on: date | None
    ends_on: date | None

    def valid_on(self, day: date) -> bool:
        return (self.starts_on is None or self.starts_on <= day) and (
            self.ends_on is None or self.ends_on >= day
        )


def _contracts(compound_id: int) -> tuple[PropertyContract, ...]:
    links = (
        CompoundService.objects.filter(
            compound_id=compound_id,
            kind=CompoundServiceKind.PROPERTY_MANAGEMENT,
            organisation__is_active=True,
        )
        .select_related("organisation")
        .order_by(F("starts_on").desc(nulls_last=True), "-pk")
    )
    return tuple(PropertyContract(link.organisation, link.starts_on, link.ends_on) for link in links)


_property_contracts: LookupCache[int, tuple[PropertyContract, ...]] = LookupCache(
    (ROUTING_REVISION,), max_size=50_000
)


def property_company(compound_id: int, *, on: date) -> Organisation | None:
    """The compound's property company on ``on``: the contract valid that day that started last."""
    for contract in _property_contracts.get(compound_id, _contracts) or ():
        if contract.valid_on(on):
            return contract.organisation
    return None
