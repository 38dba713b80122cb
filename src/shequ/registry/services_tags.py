"""Writes of the tag dictionary (标签字典) and of tags on persons (DOMAIN.md §4).

- The dictionary: ``tag_definition_create`` / ``_update`` / ``_deactivate`` / ``_activate`` (city
  administrators and civil-affairs officers, ``permissions.can_manage_tag_dictionary``).
- Hand-assigned tags: ``tag_assign`` (who may assign, evidence, review date, one open assignment per
  tag and person), ``tag_review_confirm`` (still applies: the next review date), ``tag_end``.
- Computed tags (``TagDefinition.rule``): ``computed_tags_refresh`` keeps them current with
  set-based queries, whatever the number of persons; ``computed_tags_refresh_request`` asks for the
  day's refresh once (the periodic tick calls it).

Every change writes an event row. Computed assignments are written in bulk: one summary event per
tag and run, the assignment rows themselves (``assigned_at``, ``ended_at``, ``end_reason``) being
the per-person history.

Birthdays on 29 February fall on 1 March in common years: someone born on 1944-02-29 turns 81 on
2025-03-01 (not on 28 February), and someone born on 2020-02-29 turns 80 on 2100-03-01 (2100 is not
a leap year). The cut-off birth date comes from ``filters.years_before``, the rule the population
filters use, so a target list "age ≥ 80" and the 高龄老人 tag always agree.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, connection, transaction
from django.db.models import F, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from shequ.core.errors import ApiError
from shequ.core.events import diff, event_record
from shequ.core.models import Event

from . import permissions
from .filters import years_before
from .models import Person, PersonStatus, TagAssignment, TagDefinition, TagRule

# Event types.
TAG_DEFINED = "TAG_DEFINED"
TAG_DEFINITION_CHANGED = "TAG_DEFINITION_CHANGED"
TAG_DEACTIVATED = "TAG_DEACTIVATED"
TAG_REACTIVATED = "TAG_REACTIVATED"
TAG_ASSIGNED = "TAG_ASSIGNED"
TAG_REVIEWED = "TAG_REVIEWED"
TAG_ENDED = "TAG_ENDED"
COMPUTED_TAGS_REFRESHED = "COMPUTED_TAGS_REFRESHED"
COMPUTED_TAGS_REFRESH_REQUESTED = "COMPUTED_TAGS_REFRESH_REQUESTED"

# Roles a tag may name as assigners or as readers of a sensitive tag: staff who may view the
# registry. Residents and volunteers can never be given sight of a sensitive tag (PIPL Art. 28).
TAG_ROLES = permissions.VIEW_ROLES

# The reason written on computed assignments that stop matching (moved out, deceased, archived, a
# corrected birth date, or the rule changed).
NO_LONGER_MATCHES = "no_longer_matches"

EDITABLE_FIELDS = (
    "name",
    "description",
    "is_sensitive",
    "assignable_by",
    "visible_to",
    "evidence_required",
    "evidence_hint",
    "review_months",
    "rule",
    "rule_value",
)


# --- Dates ----------------------------------------------------------------------------------------


def add_months(day: date, months: int) -> date:
    """``day`` plus calendar months, clamped to the end of a shorter month (31 Jan + 1 → 28/29 Feb)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return day.replace(year=year, month=month, day=min(day.day, calendar.monthrange(year, month)[1]))


# --- The dictionary -------------------------------------------------------------------------------


def _require_dictionary_manager(actor: Any) -> None:
    if not permissions.can_manage_tag_dictionary(actor):
        raise PermissionDenied(_("只有市级管理员和民政干部可以维护标签字典。"))


def _clean_roles(value: Any, field_name: str) -> list[str]:
    roles = list(dict.fromkeys(str(r) for r in (value or [])))
    unknown = [r for r in roles if r not in TAG_ROLES]
    if unknown:
        raise ApiError(
            _("这些角色不能用于标签：%(roles)s") % {"roles": ", ".join(unknown)},
            code="invalid",
            field=field_name,
            status=422,
        )
    return sorted(roles)


def _clean_definition(values: dict[str, Any]) -> dict[str, Any]:
    """Check one tag definition's fields as a whole; returns the normalised values."""
    cleaned = dict(values)
    cleaned["name"] = str(cleaned.get("name", "")).strip()
    if not cleaned["name"]:
        raise ApiError(_("请填写标签名称。"), code="invalid", field="name", status=422)
    cleaned["assignable_by"] = _clean_roles(cleaned.get("assignable_by"), "assignable_by")
    cleaned["visible_to"] = _clean_roles(cleaned.get("visible_to"), "visible_to")
    rule = cleaned.get("rule") or ""
    if rule not in TagRule.values:
        raise ApiError(_("未知的计算规则。"), code="invalid", field="rule", status=422)
    cleaned["rule"] = rule
    if rule:
        if cleaned.get("rule_value") is None:
            raise ApiError(_("计算标签须填写规则参数。"), code="invalid", field="rule_value", status=422)
        # Computed tags are kept by the scheduled job only: nobody assigns them by hand.
        cleaned["assignable_by"] = []
        cleaned["evidence_required"] = False
    else:
        cleaned["rule_value"] = None
        if not cleaned["assignable_by"]:
            raise ApiError(
                _("人工标注的标签须指定可标注角色。"), code="invalid", field="assignable_by", status=422
            )
    if cleaned.get("is_sensitive") and not cleaned["visible_to"]:
        raise ApiError(_("敏感标签须指定可见角色。"), code="invalid", field="visible_to", status=422)
    if not cleaned.get("is_sensitive"):
        cleaned["visible_to"] = []
    if cleaned.get("evidence_required") and not str(cleaned.get("evidence_hint", "")).strip():
        raise ApiError(
            _("须附依据的标签请说明需要什么依据。"), code="invalid", field="evidence_hint", status=422
        )
    return cleaned


@transaction.atomic
def tag_definition_create(
    *,
    code: str,
    name: str,
    actor: Any,
    description: str = "",
    is_sensitive: bool = False,
    assignable_by: list[str] | None = None,
    visible_to: list[str] | None = None,
    evidence_required: bool = False,
    evidence_hint: str = "",
    review_months: int | None = None,
    rule: str = "",
    rule_value: int | None = None,
) -> TagDefinition:
    _require_dictionary_manager(actor)
    values = _clean_definition(
        {
            "name": name,
            "description": description,
            "is_sensitive": is_sensitive,
            "assignable_by": assignable_by,
            "visible_to": visible_to,
            "evidence_required": evidence_required,
            "evidence_hint": evidence_hint,
            "review_months": review_months,
            "rule": rule,
            "rule_value": rule_value,
        }
    )
    code = (code or "").strip()
    if TagDefinition.objects.filter(code=code).exists():
        raise ApiError(_("标签代码已被使用。"), code="duplicate", field="code", status=409)
    if TagDefinition.objects.filter(name=values["name"]).exists():
        raise ApiError(_("标签名称已被使用。"), code="duplicate", field="name", status=409)
    tag = TagDefinition.objects.create(code=code, **values)
    event_record(subject=tag, type=TAG_DEFINED, actor=actor, data={"code": code, **values})
    return tag


@transaction.atomic
def tag_definition_update(*, tag: TagDefinition, actor: Any, **changes: Any) -> TagDefinition:
    """Change a definition's fields (``EDITABLE_FIELDS``). A tag in use cannot switch between hand
    assignment and computation: its open assignments would silently change meaning."""
    _require_dictionary_manager(actor)
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise ApiError(
            _("这些字段不能修改：%(fields)s") % {"fields": ", ".join(sorted(unknown))},
            code="invalid",
            status=422,
        )
    tag = TagDefinition.objects.select_for_update().get(pk=tag.pk)
    old = {name: getattr(tag, name) for name in EDITABLE_FIELDS}
    values = _clean_definition({**old, **changes})
    if bool(values["rule"]) != bool(old["rule"]) and tag.assignments.filter(ended_at__isnull=True).exists():
        raise ApiError(
            _("该标签仍有有效标注，不能在人工标注和自动计算之间切换。"),
            code="in_use",
            field="rule",
            status=409,
        )
    if TagDefinition.objects.filter(name=values["name"]).exclude(pk=tag.pk).exists():
        raise ApiError(_("标签名称已被使用。"), code="duplicate", field="name", status=409)
    changed = diff(old, values)
    if not changed:
        return tag
    for name in changed:
        setattr(tag, name, values[name])
    tag.save(update_fields=list(changed))
    event_record(subject=tag, type=TAG_DEFINITION_CHANGED, actor=actor, data=changed)
    return tag


def _set_active(*, tag: TagDefinition, actor: Any, active: bool) -> TagDefinition:
    _require_dictionary_manager(actor)
    tag = TagDefinition.objects.select_for_update().get(pk=tag.pk)
    if tag.is_active == active:
        return tag
    tag.is_active = active
    tag.save(update_fields=["is_active"])
    event_record(subject=tag, type=TAG_REACTIVATED if active else TAG_DEACTIVATED, actor=actor)
    return tag


@transaction.atomic
def tag_definition_deactivate(*, tag: TagDefinition, actor: Any) -> TagDefinition:
    """Stop new assignments of the tag. Open assignments stay (history, and the people concerned
    still need what the tag stood for); a deactivated computed tag is no longer refreshed."""
    return _set_active(tag=tag, actor=actor, active=False)


@transaction.atomic
def tag_definition_activate(*, tag: TagDefinition, actor: Any) -> TagDefinition:
    return _set_active(tag=tag, actor=actor, active=True)


# --- Hand-assigned tags ----------------------------------------------------------------------------


def _event_data(assignment: TagAssignment, **extra: Any) -> dict[str, Any]:
    return {"person_id": assignment.person_id, "tag": assignment.tag.code, **extra}


@transaction.atomic
def tag_assign(*, person: Person, tag: TagDefinition, evidence: str, actor: Any) -> TagAssignment:
    """Put a hand-assigned tag on a person (fetched through the visibility module by the caller)."""
    if tag.is_computed:
        raise ApiError(_("该标签由系统自动计算，不能人工标注。"), code="computed", field="tag", status=422)
    if not tag.is_active:
        raise ApiError(_("该标签已停用。"), code="inactive", field="tag", status=422)
    if not permissions.can_assign_tag(actor, tag, person.path):
        raise PermissionDenied(_("您不能标注这个标签。"))
    evidence = (evidence or "").strip()
    if tag.evidence_required and not evidence:
        raise ApiError(
            _("标注“%(tag)s”须附依据：%(hint)s") % {"tag": tag.name, "hint": tag.evidence_hint},
            code="evidence_required",
            field="evidence",
            status=422,
        )
    # Lock the person: two workers tagging the same person at once queue here.
    person = Person.objects.select_for_update().get(pk=person.pk)
    if person.status != PersonStatus.LIVING_HERE or person.archived_at is not None:
        raise ApiError(_("只能为在住人员标注标签。"), code="not_living_here", field="person", status=422)
    if TagAssignment.objects.filter(person=person, tag=tag, ended_at__isnull=True).exists():
        raise ApiError(
            _("此人已有有效的“%(tag)s”标签；如需更新，请先结束原标注。") % {"tag": tag.name},
            code="already_assigned",
            field="tag",
            status=409,
        )
    today = timezone.localdate()
    try:
        with transaction.atomic():
            assignment = TagAssignment.objects.create(
                person=person,
                tag=tag,
                assigned_by=actor,
                assigned_at=timezone.now(),
                evidence=evidence,
                review_due=add_months(today, tag.review_months) if tag.review_months else None,
                path=person.path,
                street_code=person.street_code,
            )
    except IntegrityError:  # pragma: no cover - the person lock makes this a last resort
        raise ApiError(
            _("此人已有有效的“%(tag)s”标签。") % {"tag": tag.name},
            code="already_assigned",
            field="tag",
            status=409,
        ) from None
    event_record(
        subject=assignment,
        type=TAG_ASSIGNED,
        actor=actor,
        data=_event_data(
            assignment,
            review_due=assignment.review_due.isoformat() if assignment.review_due else None,
            evidence=bool(evidence),
        ),
        scope_path=assignment.path,
    )
    return assignment


def _locked_open(assignment: TagAssignment) -> TagAssignment:
    locked = TagAssignment.objects.select_for_update().select_related("tag").get(pk=assignment.pk)
    if locked.ended_at is not None:
        raise ApiError(_("该标注已经结束。"), code="already_ended", status=409)
    return locked


@transaction.atomic
def tag_review_confirm(*, assignment: TagAssignment, actor: Any, evidence: str = "") -> TagAssignment:
    """The tag still applies: set the next review date (and refresh the evidence when given)."""
    assignment = _locked_open(assignment)
    tag = assignment.tag
    if not permissions.can_end_tag(actor, tag, assignment.path):
        raise PermissionDenied(_("您不能复核这个标签。"))
    evidence = (evidence or "").strip()
    fields = ["review_due"]
    if evidence:
        assignment.evidence = evidence
        fields.append("evidence")
    old_due = assignment.review_due
    today = timezone.localdate()
    assignment.review_due = add_months(today, tag.review_months) if tag.review_months else None
    assignment.save(update_fields=fields)
    event_record(
        subject=assignment,
        type=TAG_REVIEWED,
        actor=actor,
        data=_event_data(
            assignment,
            review_due={
                "old": old_due.isoformat() if old_due else None,
                "new": assignment.review_due.isoformat() if assignment.review_due else None,
            },
            evidence=bool(evidence),
        ),
        scope_path=assignment.path,
    )
    return assignment


@transaction.atomic
def tag_end(*, assignment: TagAssignment, reason: str, actor: Any) -> TagAssignment:
    """End a hand-assigned tag (it no longer applies). The row stays as history."""
    assignment = _locked_open(assignment)
    tag = assignment.tag
    if tag.is_computed:
        raise ApiError(
            _("自动计算的标签由系统维护，不能人工结束。"), code="computed", field="tag", status=422
        )
    if not permissions.can_end_tag(actor, tag, assignment.path):
        raise PermissionDenied(_("您不能结束这个标签。"))
    reason = (reason or "").strip()
    if not reason:
        raise ApiError(_("请说明结束原因。"), code="invalid", field="reason", status=422)
    assignment.ended_at = timezone.now()
    assignment.end_reason = reason[:255]
    assignment.save(update_fields=["ended_at", "end_reason"])
    event_record(
        subject=assignment,
        type=TAG_ENDED,
        actor=actor,
        data=_event_data(assignment, reason=assignment.end_reason),
        scope_path=assignment.path,
    )
    return assignment


# --- Computed tags ----------------------------------------------------------------------------------


@dataclass
class RefreshReport:
    """What one run of ``computed_tags_refresh`` did, per tag code."""

    as_of: date
    assigned: dict[str, int] = field(default_factory=dict)
    ended: dict[str, int] = field(default_factory=dict)
    moved: int = 0

    @property
    def total_assigned(self) -> int:
        return sum(self.assigned.values())

    @property
    def total_ended(self) -> int:
        return sum(self.ended.values())

    def as_dict(self) -> dict[str, Any]:
        return {
            "as_of": self.as_of.isoformat(),
            "assigned": dict(self.assigned),
            "ended": dict(self.ended),
            "moved": self.moved,
        }


def _rule_q(tag: TagDefinition, as_of: date) -> Q:
    """The persons a computed tag applies to on ``as_of`` (ages count from the birthday, see the
    module's note on 29 February)."""
    cutoff = years_before(as_of, int(tag.rule_value or 0))
    if tag.rule == TagRule.AGE_AT_LEAST:
        return Q(birth_date__lte=cutoff)
    if tag.rule == TagRule.AGE_BELOW:
        return Q(birth_date__gt=cutoff)
    raise ValueError(f"unknown tag rule {tag.rule!r}")  # pragma: no cover - constrained in the DB


def _matching(tag: TagDefinition, as_of: date) -> QuerySet[Person]:
    return Person.objects.filter(
        _rule_q(tag, as_of),
        status=PersonStatus.LIVING_HERE,
        archived_at__isnull=True,
        birth_date__isnull=False,
    )


def _insert_missing(tag: TagDefinition, as_of: date, now: datetime) -> int:
    """One INSERT … SELECT: an open assignment for every matching person who has none."""
    open_for_tag = TagAssignment.objects.filter(tag=tag, ended_at__isnull=True)
    missing = (
        _matching(tag, as_of)
        .exclude(pk__in=open_for_tag.values("person_id"))
        .order_by()
        .values_list("pk", "path", "street_code")
    )
    select_sql, select_params = missing.query.sql_with_params()
    table = connection.ops.quote_name(TagAssignment._meta.db_table)
    # ``WHERE 1 = 1`` keeps SQLite from reading ON CONFLICT as part of the SELECT; the conflict
    # clause skips persons tagged by a concurrent run (the partial unique index on open tags).
    sql = (
        f"INSERT INTO {table} (person_id, path, street_code, tag_id, assigned_at, evidence, end_reason) "  # noqa: S608 - table from the model, values are parameters
        f"SELECT m.*, %s, %s, '', '' FROM ({select_sql}) AS m WHERE 1 = 1 ON CONFLICT DO NOTHING"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [tag.pk, connection.ops.adapt_datetimefield_value(now), *select_params])
        return max(cursor.rowcount, 0)


def _end_unmatched(tag: TagDefinition, as_of: date, now: datetime) -> int:
    """One UPDATE: end the open assignments of persons the rule no longer covers."""
    return (
        TagAssignment.objects.filter(tag=tag, ended_at__isnull=True)
        .exclude(person_id__in=_matching(tag, as_of).values("pk"))
        .update(ended_at=now, end_reason=NO_LONGER_MATCHES)
    )


def _realign_places() -> int:
    """Open assignments follow their person's place (scoping reads the assignment's own path)."""
    person = Person.objects.filter(pk=OuterRef("person_id"))
    moved = TagAssignment.objects.filter(ended_at__isnull=True).exclude(path=F("person__path"))
    return moved.update(
        path=Subquery(person.values("path")[:1]), street_code=Subquery(person.values("street_code")[:1])
    )


@transaction.atomic
def computed_tags_refresh(*, as_of: date, actor: Any | None = None) -> RefreshReport:
    """Bring every active computed tag up to date on ``as_of``: tag the living persons the rule
    covers, end the open tags of those it no longer covers. Idempotent; a handful of set-based
    queries per tag, whatever the population."""
    now = timezone.now()
    report = RefreshReport(as_of=as_of)
    tags = list(TagDefinition.objects.select_for_update().filter(is_active=True).exclude(rule=""))
    for tag in tags:
        report.ended[tag.code] = _end_unmatched(tag, as_of, now)
        report.assigned[tag.code] = _insert_missing(tag, as_of, now)
    report.moved = _realign_places()
    for tag in tags:
        event_record(
            subject=tag,
            type=COMPUTED_TAGS_REFRESHED,
            actor=actor,
            data={
                "as_of": as_of.isoformat(),
                "assigned": report.assigned[tag.code],
                "ended": report.ended[tag.code],
            },
            occurred_at=now,
        )
    return report


def computed_tags_refreshed_on(as_of: date) -> bool:
    """Whether the day's refresh has been asked for (or run) already."""
    return Event.objects.filter(
        type__in=[COMPUTED_TAGS_REFRESH_REQUESTED, COMPUTED_TAGS_REFRESHED],
        subject_type=TagDefinition._meta.label_lower,
        data__as_of=as_of.isoformat(),
    ).exists()


@transaction.atomic
def computed_tags_refresh_request(*, as_of: date | None = None) -> bool:
    """Enqueue the day's refresh unless it has been asked for already; called by the periodic tick.
    The task is enqueued after commit. Returns whether a refresh was requested."""
    from .tasks_tags import computed_tags_refresh_task  # the task wraps this module's service

    day = as_of or timezone.localdate()
    anchor = TagDefinition.objects.select_for_update().filter(is_active=True).exclude(rule="").first()
    if anchor is None or computed_tags_refreshed_on(day):
        return False
    event_record(
        subject=anchor, type=COMPUTED_TAGS_REFRESH_REQUESTED, actor=None, data={"as_of": day.isoformat()}
    )
    transaction.on_commit(lambda: computed_tags_refresh_task.enqueue(as_of=day.isoformat()))
    return True
