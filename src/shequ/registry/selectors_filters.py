"""Reads of saved population filters ("政策找人"): the filters a user may use, and their live target
lists. ``saved_filter_people`` is the entry point for later features (notices, campaigns, visits
plans) that need "the people this filter finds, as this user may see them, today".

A live list is always narrowed three times: to the filter's node, to the reader's scope (the
visibility module) and to where the reader may view the registry; tags in the criteria match only
where the reader may see them. A colleague's shared filter therefore shows each reader only their own
part of it.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db.models import Q, QuerySet

from shequ.accounts.visibility import access_by_id, visible

from .filters import PersonCriteria, counts_per_committee, persons_matching
from .models import Person, SavedFilter
from .selectors_tags import registry_view_q


def saved_filters_visible(*, user: Any) -> QuerySet[SavedFilter]:
    """The user's own filters, and those colleagues shared in nodes the user may read, by name."""
    if getattr(user, "pk", None) is None:
        return SavedFilter.objects.none()
    shared = Q(is_shared=True) & registry_view_q(user)
    return (
        visible(SavedFilter.objects.all(), user)
        .filter(Q(owner_id=user.pk) | shared)
        .select_related("division", "owner")
        .order_by("name", "pk")
    )


def access_saved_filter_by_id(*, filter_id: Any, user: Any) -> SavedFilter:
    """One filter the user may use (theirs, or shared in their jurisdiction); 404 otherwise."""
    return access_by_id(saved_filters_visible(user=user), filter_id, user)


def saved_filter_criteria(saved_filter: SavedFilter) -> PersonCriteria:
    return PersonCriteria.parse(saved_filter.criteria)


def saved_filter_people(*, saved_filter: SavedFilter, user: Any, as_of: date) -> QuerySet[Person]:
    """The live target list of ``saved_filter`` for ``user`` on ``as_of``, ordered by place and name,
    with the house joined in (a fixed number of queries whatever the page size). Raises Django's
    ``ValidationError`` when the criteria name a tag the user may not see."""
    scoped = (
        visible(Person.objects.all(), user)
        .filter(registry_view_q(user))
        .filter(path__startswith=saved_filter.path)
    )
    return (
        persons_matching(scoped, saved_filter_criteria(saved_filter), user=user, as_of=as_of)
        .select_related("house__building__compound")
        .order_by("path", "name", "pk")
    )


def saved_filter_counts(*, saved_filter: SavedFilter, user: Any, as_of: date) -> list[tuple[str, str, int]]:
    """``(committee code, committee name, count)`` of the live list, one query."""
    return counts_per_committee(saved_filter_people(saved_filter=saved_filter, user=user, as_of=as_of))
