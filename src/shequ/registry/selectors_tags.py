"""Reads of the tag dictionary, of tags on persons, and of the visit log.

Every read of assignments goes through the visibility module *and* the tag rule
(``permissions.tag_assignments_q``): a sensitive tag (低保, 残疾人, 困境儿童 …) is returned only to
the roles the tag lists, at nodes covering the person. Resident-facing pages use
``person_tags_for_resident``, which never returns a sensitive tag whoever asks.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db.models import Q, QuerySet
from django.http import Http404

from shequ.accounts.visibility import access_by_id, visible

from . import permissions
from .models import Household, Person, TagAssignment, TagDefinition, Visit


def registry_view_q(user: Any, *, path: str = "path") -> Q:
    """``permissions.can_view_registry`` for whole lists: records below a node where the user holds a
    viewing role (combined with the visibility module, which narrows further, e.g. to a grid)."""
    paths = permissions.registry_view_paths(user)
    if paths is None:
        return Q()
    q = Q(pk__in=[])
    for node_path in paths:
        q |= Q(**{f"{path}__startswith": node_path})
    return q


def tag_definitions(*, include_inactive: bool = True) -> QuerySet[TagDefinition]:
    """The central dictionary (not personal data: the same for everyone who may read it)."""
    tags = TagDefinition.objects.order_by("-is_active", "code")
    return tags if include_inactive else tags.filter(is_active=True)


def access_tag_definition_by_id(*, tag_id: Any, user: Any) -> TagDefinition:
    """A tag definition for staff who may read the registry somewhere; 404 for everyone else."""
    if not may_read_dictionary(user):
        raise Http404
    try:
        return TagDefinition.objects.get(pk=int(tag_id))
    except (TagDefinition.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def may_read_dictionary(user: Any) -> bool:
    return bool(
        getattr(user, "is_superuser", False) or permissions.roles_anywhere(user) & permissions.VIEW_ROLES
    )


def tag_assignments_visible(
    *, user: Any, queryset: QuerySet[TagAssignment] | None = None
) -> QuerySet[TagAssignment]:
    """Assignments in the user's scope whose tag the user may see there."""
    queryset = TagAssignment.objects.all() if queryset is None else queryset
    return visible(queryset, user).filter(permissions.tag_assignments_q(user))


def access_tag_assignment_by_id(*, assignment_id: Any, user: Any) -> TagAssignment:
    """One assignment the user may see (its person in scope, its tag visible to them); else 404."""
    queryset = tag_assignments_visible(
        user=user, queryset=TagAssignment.objects.select_related("tag", "person")
    )
    return access_by_id(queryset, assignment_id, user)


def access_registry_person_by_id(*, person_id: Any, user: Any) -> Person:
    """A person for the staff registry: in scope *and* the user may view the registry there.
    Residents see their own record only on the resident pages, never here (404)."""
    person = access_by_id(Person.objects.all(), person_id, user)
    if not permissions.can_view_registry(user, person.path):
        raise Http404
    return person


def person_tags(*, person: Person, user: Any, include_ended: bool = False) -> QuerySet[TagAssignment]:
    """The person's tags the user may see: open ones first (by tag), then ended ones (latest first)."""
    queryset = tag_assignments_visible(
        user=user, queryset=TagAssignment.objects.filter(person=person).select_related("tag", "assigned_by")
    )
    if not include_ended:
        queryset = queryset.filter(ended_at__isnull=True)
    return queryset.order_by("-ended_at", "tag__code") if include_ended else queryset.order_by("tag__code")


def person_tags_for_resident(*, person: Person) -> QuerySet[TagAssignment]:
    """The tags a resident may see on their own record: open, non-sensitive tags only. Sensitive
    tags never appear on resident-facing or public pages (PIPL Art. 28)."""
    return (
        TagAssignment.objects.filter(person=person, ended_at__isnull=True, tag__is_sensitive=False)
        .select_related("tag")
        .order_by("tag__code")
    )


def tags_assignable(*, person: Person, user: Any) -> list[TagDefinition]:
    """Active hand-assigned tags the user may put on this person and that the person lacks."""
    held = TagAssignment.objects.filter(person=person, ended_at__isnull=True).values("tag_id")
    candidates = TagDefinition.objects.filter(is_active=True, rule="").exclude(pk__in=held).order_by("code")
    return [tag for tag in candidates if permissions.can_assign_tag(user, tag, person.path)]


def tag_reviews_due(*, user: Any, as_of: date) -> QuerySet[TagAssignment]:
    """Open hand-assigned tags whose review date has come (on or before ``as_of``), earliest first."""
    queryset = TagAssignment.objects.filter(ended_at__isnull=True, review_due__lte=as_of).select_related(
        "tag", "person"
    )
    return tag_assignments_visible(user=user, queryset=queryset).order_by("review_due", "pk")


def tag_holders(*, tag: TagDefinition, user: Any) -> QuerySet[Person]:
    """The persons holding an open ``tag`` that the user may see (for later features' target lists)."""
    assignments = tag_assignments_visible(
        user=user, queryset=TagAssignment.objects.filter(tag=tag, ended_at__isnull=True)
    )
    return visible(Person.objects.all(), user).filter(pk__in=assignments.values("person_id"))


# --- Visits (走访) ------------------------------------------------------------------------------


def access_registry_household_by_id(*, household_id: Any, user: Any) -> Household:
    """A household for the staff registry: in scope *and* the user may view the registry there."""
    household = access_by_id(
        Household.objects.select_related("house__building__compound"), household_id, user
    )
    if not permissions.can_view_registry(user, household.path):
        raise Http404
    return household


def access_visit_by_id(*, visit_id: Any, user: Any) -> Visit:
    visit = access_by_id(Visit.objects.select_related("household"), visit_id, user)
    if not permissions.can_view_registry(user, visit.path):
        raise Http404
    return visit


def household_visits(*, household: Household, user: Any) -> QuerySet[Visit]:
    """The household's visit history, latest first (the household file's 走访 section)."""
    return (
        visible(Visit.objects.filter(household=household), user)
        .select_related("visited_by")
        .order_by("-visited_on", "-pk")
    )


def visits_follow_ups_due(*, user: Any) -> QuerySet[Visit]:
    """Open follow-ups in the user's scope, by due date (overdue ones first by nature)."""
    queryset = visible(
        Visit.objects.filter(follow_up_due__isnull=False, follow_up_done_at__isnull=True), user
    ).filter(registry_view_q(user))
    return queryset.select_related("household__house__building__compound", "visited_by").order_by(
        "follow_up_due", "pk"
    )
