"""Writes of the routing rules (派单规则), editable per district (DOMAIN.md §5).

``routing_rule_create`` / ``routing_rule_update`` / ``routing_rule_deactivate``, each writing an event
row. Who: district officers for their district and the streets under it, city administrators
everywhere (city-wide rules are theirs alone) — ``permissions.can_edit_routing_rules``.

What a rule may say:
- where: the whole city (None), a district or a street;
- what: one category, or a 大类 (kind + major code), or a kind, or everything; never an emergency
  category (emergency matters are not cases);
- to whom: a named organisation (active, a responsible unit of the kind given, based within the
  rule's district or above it), or a kind of unit (+ the sector for department branches and
  utilities) found near each case;
- a committee only when every category the rule covers is one the committee handles itself:
  department work may not be pushed down to committees (2025 12345 opinion).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from shequ.accounts.models import Organisation
from shequ.core.errors import ApiError
from shequ.core.events import diff, event_record
from shequ.places.models import Division, DivisionLevel

from .models import Category, CategoryKind, ResponsibleKind, RoutingRule
from .permissions import can_edit_routing_rules
from .routing import ORG_KINDS_FOR, committee_refused

ROUTING_RULE_CREATED = "ROUTING_RULE_CREATED"
ROUTING_RULE_CHANGED = "ROUTING_RULE_CHANGED"
ROUTING_RULE_DEACTIVATED = "ROUTING_RULE_DEACTIVATED"

EDITABLE_FIELDS = (
    "division",
    "category",
    "kind",
    "major_code",
    "responsible_kind",
    "responsible_sector",
    "organisation",
    "priority",
    "note",
)
MAX_PRIORITY = 32767
_RULE_LEVELS = frozenset({DivisionLevel.DISTRICT, DivisionLevel.STREET})


def _invalid(message: str, field: str, code: str = "invalid") -> ApiError:
    return ApiError(message, code=code, field=field, status=422)


def _district_path(division: Division) -> str:
    """The path of the district a district- or street-level division belongs to."""
    parts = [part for part in division.path.split("/") if part]
    depth = 2 if len(parts) >= 2 else len(parts)  # city / district / …
    return "/".join(parts[:depth]) + "/"


def _org_within(org: Organisation, division: Division | None) -> bool:
    """A named unit must serve the rule's district or sit above it (a city-level unit)."""
    if division is None or org.division is None:
        return True
    org_path = org.division.path
    return division.path.startswith(org_path) or org_path.startswith(_district_path(division))


def _covered(category: Category | None, kind: str, major_code: str) -> QuerySet[Category]:
    """The active, non-emergency categories a rule covers."""
    queryset = Category.objects.filter(is_active=True, emergency_service="")
    if category is not None:
        return queryset.filter(pk=category.pk)
    if kind:
        queryset = queryset.filter(kind=kind)
    if major_code:
        queryset = queryset.filter(major_code=major_code)
    return queryset


def _clean_place(division: Division | None, actor: Any) -> None:
    if division is not None:
        if division.level not in _RULE_LEVELS:
            raise _invalid(_("规则只能适用于全市、一个区或一个街镇。"), "division")
        if not division.is_active:
            raise _invalid(_("该区划已撤销。"), "division")
    if not can_edit_routing_rules(actor, division):
        raise PermissionDenied(_("您不能维护这一区域的派单规则。"))


def _clean_what(category: Category | None, kind: str, major_code: str) -> tuple[str, str]:
    """The rule's kind and major code (both empty for a rule on one category)."""
    if category is not None:
        if category.is_emergency:
            raise _invalid(_("紧急求助类别不是案件，不能设置派单规则。"), "category", "emergency")
        return "", ""
    if kind and kind not in CategoryKind.values:
        raise _invalid(_("未知的类型。"), "kind")
    if major_code:
        if not kind:
            raise _invalid(_("按大类设置规则须同时选择部件或事件。"), "kind")
        if not Category.objects.filter(kind=kind, major_code=major_code).exists():
            raise _invalid(_("派单目录中没有这个大类。"), "major_code")
    return kind, major_code


def _clean_target(values: dict[str, Any]) -> str:
    """Check the unit the rule names; returns the sector to keep."""
    responsible_kind = values["responsible_kind"]
    if responsible_kind not in ResponsibleKind.values:
        raise _invalid(_("请选择责任单位类型。"), "responsible_kind")
    sector = (values.get("responsible_sector") or "").strip()
    org: Organisation | None = values["organisation"]
    if responsible_kind == ResponsibleKind.COMMITTEE:
        if org is not None:
            raise _invalid(_("派给居村委的规则不能指定单位。"), "organisation")
        covered = _covered(values["category"], values["kind"], values["major_code"])
        if covered.exclude(responsible_kind=ResponsibleKind.COMMITTEE).exists():
            raise committee_refused()
        return ""
    if org is not None:
        if not org.is_active:
            raise _invalid(_("该单位已停用。"), "organisation")
        if org.kind not in ORG_KINDS_FOR[responsible_kind]:
            raise _invalid(_("所选单位与责任单位类型不符。"), "organisation")
        if not _org_within(org, values["division"]):
            raise _invalid(_("所选单位不在本区，也不是市级单位。"), "organisation")
        return sector or org.sector
    if responsible_kind in (ResponsibleKind.DEPARTMENT_BRANCH, ResponsibleKind.UTILITY) and not sector:
        raise _invalid(_("派给部门或公用事业单位须填写条线（如 城管、水务）。"), "responsible_sector")
    return sector


def _clean(values: dict[str, Any], actor: Any) -> dict[str, Any]:
    """Check a rule as a whole (and the actor's right to it); returns the normalised values."""
    cleaned = dict(values)
    _clean_place(cleaned["division"], actor)
    cleaned["kind"], cleaned["major_code"] = _clean_what(
        cleaned["category"],
        (cleaned.get("kind") or "").strip(),
        (cleaned.get("major_code") or "").strip(),
    )
    cleaned["responsible_kind"] = cleaned.get("responsible_kind") or ""
    cleaned["responsible_sector"] = _clean_target(cleaned)
    try:
        priority = int(cleaned.get("priority", 100))
    except (TypeError, ValueError):
        raise _invalid(_("优先级须是整数。"), "priority") from None
    if not 0 <= priority <= MAX_PRIORITY:
        raise _invalid(_("优先级须在 0 到 32767 之间。"), "priority")
    cleaned["priority"] = priority
    cleaned["note"] = (cleaned.get("note") or "").strip()[:300]
    return cleaned


def _snapshot(values: dict[str, Any]) -> dict[str, Any]:
    """The rule's fields as event data (codes and ids, no objects)."""
    division = values.get("division")
    category = values.get("category")
    org = values.get("organisation")
    return {
        "division": division.code if division is not None else None,
        "category": category.code if category is not None else None,
        "kind": values.get("kind", ""),
        "major_code": values.get("major_code", ""),
        "responsible_kind": values.get("responsible_kind", ""),
        "responsible_sector": values.get("responsible_sector", ""),
        "organisation": org.pk if org is not None else None,
        "priority": values.get("priority"),
        "note": values.get("note", ""),
    }


def _values_of(rule: RoutingRule) -> dict[str, Any]:
    return {name: getattr(rule, name) for name in EDITABLE_FIELDS}


@transaction.atomic
def routing_rule_create(
    *,
    actor: Any,
    division: Division | None,
    responsible_kind: str,
    category: Category | None = None,
    kind: str = "",
    major_code: str = "",
    responsible_sector: str = "",
    organisation: Organisation | None = None,
    priority: int = 100,
    note: str = "",
) -> RoutingRule:
    values = _clean(
        {
            "division": division,
            "category": category,
            "kind": kind,
            "major_code": major_code,
            "responsible_kind": responsible_kind,
            "responsible_sector": responsible_sector,
            "organisation": organisation,
            "priority": priority,
            "note": note,
        },
        actor,
    )
    rule = RoutingRule.objects.create(**values, created_by=actor if getattr(actor, "pk", None) else None)
    event_record(
        subject=rule,
        type=ROUTING_RULE_CREATED,
        actor=actor,
        data=_snapshot(values),
        scope_path=division.path if division is not None else "",
    )
    return rule


@transaction.atomic
def routing_rule_update(*, actor: Any, rule: RoutingRule, **changes: Any) -> RoutingRule:
    """Change some of ``EDITABLE_FIELDS``; the rule is checked again as a whole. Moving a rule needs
    the right to both places."""
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise _invalid(_("这些字段不能修改：%(fields)s") % {"fields": ", ".join(sorted(unknown))}, "")
    rule = (
        RoutingRule.objects.select_for_update(of=("self",))
        .select_related("division", "category", "organisation", "organisation__division")
        .get(pk=rule.pk)
    )
    if not can_edit_routing_rules(actor, rule.division):
        raise PermissionDenied(_("您不能维护这一区域的派单规则。"))
    if not rule.is_active:
        raise ApiError(_("该规则已停用，不能修改。"), code="inactive", status=409)
    old = _values_of(rule)
    if changes.get("category") is not None:
        # Choosing a category replaces a 大类 or kind given before.
        changes.setdefault("kind", "")
        changes.setdefault("major_code", "")
    values = _clean({**old, **changes}, actor)
    changed = [name for name in EDITABLE_FIELDS if values[name] != old[name]]
    if not changed:
        return rule
    for name in changed:
        setattr(rule, name, values[name])
    rule.save(update_fields=[*changed, "updated_at"])
    event_record(
        subject=rule,
        type=ROUTING_RULE_CHANGED,
        actor=actor,
        data=diff(_snapshot(old), _snapshot(values)),
        scope_path=rule.division.path if rule.division is not None else "",
    )
    return rule


@transaction.atomic
def routing_rule_deactivate(*, actor: Any, rule: RoutingRule) -> RoutingRule:
    """Stop applying the rule (kept for the record: cases routed by it name it)."""
    rule = RoutingRule.objects.select_for_update(of=("self",)).select_related("division").get(pk=rule.pk)
    if not can_edit_routing_rules(actor, rule.division):
        raise PermissionDenied(_("您不能维护这一区域的派单规则。"))
    if not rule.is_active:
        return rule
    rule.is_active = False
    rule.save(update_fields=["is_active", "updated_at"])
    event_record(
        subject=rule,
        type=ROUTING_RULE_DEACTIVATED,
        actor=actor,
        scope_path=rule.division.path if rule.division is not None else "",
    )
    return rule
