"""Who may do what in the resident registry, as named rules (STYLE.md rule 8; DOMAIN.md §4, §14).

Every rule assumes the record was fetched through the visibility module (so it is in the user's
scope) and then asks which roles the user holds *at a node covering the record*: a committee worker of
one committee who is also a volunteer elsewhere is a committee worker only for their own committee.

====================  =====================================================================
power                 roles (holding it at a node above or at the record)
====================  =====================================================================
view (masked)         committee worker/head, grid worker, street officer, district officer,
                      civil-affairs officer, city administrator
edit, visit, import   committee worker/head, grid worker (edit and visit only)
reveal one record     committee worker/head, grid worker, civil-affairs officer
export unmasked       committee head, civil-affairs officer (with a purpose, logged)
manage tag dictionary city administrator, civil-affairs officer
decide deletions      committee head
publish back-flow     department head or handler of the publishing organisation
====================  =====================================================================

Sensitive tags are visible only to the roles listed on the tag (``TagDefinition.visible_to``) and
never on resident-facing or public pages (PIPL Art. 28).
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from shequ.accounts.models import Membership, Role

from .models import Source, TagDefinition

VIEW_ROLES = frozenset(
    {
        Role.COMMITTEE_WORKER,
        Role.COMMITTEE_HEAD,
        Role.GRID_WORKER,
        Role.STREET_OFFICER,
        Role.DISTRICT_OFFICER,
        Role.CIVIL_AFFAIRS_OFFICER,
        Role.CITY_ADMIN,
    }
)
EDIT_ROLES = frozenset({Role.COMMITTEE_WORKER, Role.COMMITTEE_HEAD, Role.GRID_WORKER})
IMPORT_ROLES = frozenset({Role.COMMITTEE_WORKER, Role.COMMITTEE_HEAD})
REVEAL_ROLES = frozenset(
    {Role.COMMITTEE_WORKER, Role.COMMITTEE_HEAD, Role.GRID_WORKER, Role.CIVIL_AFFAIRS_OFFICER}
)
EXPORT_UNMASKED_ROLES = frozenset({Role.COMMITTEE_HEAD, Role.CIVIL_AFFAIRS_OFFICER})
TAG_DICTIONARY_ROLES = frozenset({Role.CITY_ADMIN, Role.CIVIL_AFFAIRS_OFFICER})
DELETION_DECIDER_ROLES = frozenset({Role.COMMITTEE_HEAD})
CORRECTION_DECIDER_ROLES = frozenset({Role.COMMITTEE_WORKER, Role.COMMITTEE_HEAD})
DEPARTMENT_ROLES = frozenset({Role.DEPARTMENT_HEAD, Role.DEPARTMENT_HANDLER})

# Which department sector answers correction requests for a source-owned attribute
# (``Organisation.sector``).
SOURCE_SECTORS: dict[str, str] = {
    Source.PUBLIC_SECURITY: "公安",
    Source.CIVIL_AFFAIRS: "民政",
    Source.HUMAN_RESOURCES: "人社",
    Source.HEALTH: "卫健",
}

_NODES_ATTR = "_shequ_registry_nodes"


def _nodes(user: Any) -> tuple[tuple[str, str, int | None, str], ...]:
    """(role, place path, organisation id, organisation sector) of each active membership, cached on
    the user for the request."""
    if user is None or not getattr(user, "is_authenticated", False):
        return ()
    cached = getattr(user, _NODES_ATTR, None)
    if cached is not None:
        return cached
    rows = Membership.objects.filter(user=user, is_active=True).select_related(
        "division", "grid__division", "organisation__division"
    )
    nodes: list[tuple[str, str, int | None, str]] = []
    for m in rows:
        if m.division is not None:
            nodes.append((m.role, m.division.path, None, ""))
        elif m.grid is not None:
            # A grid worker's registry powers cover the grid's committee; which records they see at
            # all is narrowed to the grid by the visibility module.
            nodes.append((m.role, m.grid.division.path, None, ""))
        elif m.organisation is not None:
            area = m.organisation.division.path if m.organisation.division is not None else ""
            nodes.append((m.role, area, m.organisation.pk, m.organisation.sector))
    result = tuple(nodes)
    setattr(user, _NODES_ATTR, result)
    return result


def roles_at(user: Any, path: str) -> frozenset[str]:
    """The roles the user holds at nodes whose subtree contains ``path``."""
    return frozenset(
        role for role, node_path, _org, _sector in _nodes(user) if node_path and path.startswith(node_path)
    )


def roles_anywhere(user: Any) -> frozenset[str]:
    return frozenset(role for role, *_ in _nodes(user))


def _has(user: Any, path: str, roles: frozenset[str]) -> bool:
    return bool(getattr(user, "is_superuser", False) or roles_at(user, path) & roles)


def can_view_registry(user: Any, path: str) -> bool:
    return _has(user, path, VIEW_ROLES)


def can_edit_person(user: Any, path: str) -> bool:
    return _has(user, path, EDIT_ROLES)


def can_record_visit(user: Any, path: str) -> bool:
    return _has(user, path, EDIT_ROLES)


def can_import(user: Any, path: str) -> bool:
    return _has(user, path, IMPORT_ROLES)


def can_reveal(user: Any, path: str) -> bool:
    return _has(user, path, REVEAL_ROLES)


def can_export_unmasked(user: Any, path: str) -> bool:
    return _has(user, path, EXPORT_UNMASKED_ROLES)


def can_manage_tag_dictionary(user: Any) -> bool:
    return bool(getattr(user, "is_superuser", False) or roles_anywhere(user) & TAG_DICTIONARY_ROLES)


def can_assign_tag(user: Any, tag: TagDefinition, path: str) -> bool:
    if tag.is_computed or not tag.is_active:
        return False
    return _has(user, path, frozenset(tag.assignable_by))


def can_see_tag(user: Any, tag: TagDefinition, path: str) -> bool:
    """Non-sensitive tags: anyone who may view the registry there. Sensitive tags: only the roles the
    tag lists. Residents never see sensitive tags (they hold none of these roles)."""
    if not tag.is_sensitive:
        return can_view_registry(user, path)
    return _has(user, path, frozenset(tag.visible_to))


def tags_visible(user: Any, path: str, tags: QuerySet[TagDefinition]) -> QuerySet[TagDefinition]:
    """The tag definitions whose assignments this user may see at ``path`` (for list filters)."""
    if getattr(user, "is_superuser", False):
        return tags
    roles = roles_at(user, path)
    if not roles & VIEW_ROLES:
        return tags.none()
    allowed = [t.pk for t in tags if not t.is_sensitive or roles & frozenset(t.visible_to)]
    return tags.filter(pk__in=allowed)


def can_decide_correction(user: Any, *, routed_to: str, path: str) -> bool:
    """The committee decides corrections of its own attributes; the owning department's staff decide
    corrections of source-owned attributes in their area."""
    if getattr(user, "is_superuser", False):
        return True
    if routed_to in SOURCE_SECTORS:
        sector = SOURCE_SECTORS[routed_to]
        return any(
            role in DEPARTMENT_ROLES
            and org_sector == sector
            and (not node_path or path.startswith(node_path))
            for role, node_path, org_id, org_sector in _nodes(user)
            if org_id is not None
        )
    return _has(user, path, CORRECTION_DECIDER_ROLES)


def can_decide_deletion(user: Any, path: str) -> bool:
    return _has(user, path, DELETION_DECIDER_ROLES)


def can_publish_backflow(user: Any, organisation_id: int) -> bool:
    if getattr(user, "is_superuser", False):
        return True
    return any(
        role in DEPARTMENT_ROLES and org_id == organisation_id for role, _p, org_id, _s in _nodes(user)
    )


def tag_assignments_q(user: Any, *, path: str = "path", tag: str = "tag_id") -> Q:
    """Which tag assignments ``user`` may see, as a filter (``can_see_tag`` for whole lists): at each
    node the user holds a role, non-sensitive tags for registry viewers and sensitive tags for the
    roles each tag lists. Combine it with the visibility module, which narrows to the user's scope.
    ``path`` and ``tag`` are the lookups of the assignment's place path and tag id."""
    if getattr(user, "is_superuser", False):
        return Q()
    nodes = [(role, node_path) for role, node_path, _org, _sector in _nodes(user) if node_path]
    if not nodes:
        return Q(pk__in=[])
    tags = list(TagDefinition.objects.values_list("pk", "is_sensitive", "visible_to"))
    q = Q(pk__in=[])
    for role, node_path in nodes:
        allowed = [
            pk
            for pk, is_sensitive, visible_to in tags
            if (role in visible_to if is_sensitive else role in VIEW_ROLES)
        ]
        if allowed:
            q |= Q(**{f"{path}__startswith": node_path, f"{tag}__in": allowed})
    return q


def paths_with_roles(user: Any, roles: frozenset[str]) -> tuple[str, ...] | None:
    """Node paths below which the user holds one of ``roles`` (``None``: everywhere, superusers), for
    narrowing lists with the same rules as the single-record checks."""
    if getattr(user, "is_superuser", False):
        return None
    return tuple(sorted({path for role, path, _org, _sector in _nodes(user) if path and role in roles}))


def registry_view_paths(user: Any) -> tuple[str, ...] | None:
    """Where ``can_view_registry`` holds (for lists and searches)."""
    return paths_with_roles(user, VIEW_ROLES)


def tag_visible_paths(user: Any, tag: TagDefinition) -> tuple[str, ...] | None:
    """Where ``can_see_tag`` holds for ``tag``: empty when the user may see it nowhere."""
    return paths_with_roles(user, frozenset(tag.visible_to) if tag.is_sensitive else VIEW_ROLES)


def can_end_tag(user: Any, tag: TagDefinition, path: str) -> bool:
    """Whoever may assign a hand-assigned tag may end or review it, also once the tag is deactivated.
    Computed tags are ended by the scheduled job only."""
    if tag.is_computed:
        return False
    return _has(user, path, frozenset(tag.assignable_by))


def correction_sources_of(user: Any) -> frozenset[str]:
    """The sources (公安, 民政 …) whose correction requests this user's department memberships decide."""
    source_of = {sector: source for source, sector in SOURCE_SECTORS.items()}
    return frozenset(
        source_of[sector]
        for role, _path, org_id, sector in _nodes(user)
        if org_id is not None and role in DEPARTMENT_ROLES and sector in source_of
    )
