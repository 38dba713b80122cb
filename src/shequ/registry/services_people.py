"""Writes to persons, households and their correction requests (DOMAIN.md §4: provenance).

Each shared attribute of a person records where it came from (``AttributeProvenance``). An edit of an
attribute owned by a source department (公安, 民政, 人社, 卫健) is not applied: it becomes a
correction request routed to that department, which accepts or rejects it. Every other edit is applied
at once, and the attribute's provenance moves to the editor's source with a fresh confirmation.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Model
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from shequ.core.events import diff, event_record
from shequ.core.privacy import masked_changes, masked_for_record
from shequ.core.validators import check_id_number, normalise_mobile, validate_mobile
from shequ.places.models import Division, DivisionLevel, House

from . import permissions
from .models import (
    SOURCE_OWNED,
    AttributeProvenance,
    CorrectionOrigin,
    CorrectionRequest,
    DocumentType,
    Household,
    HouseholdKind,
    HouseholdMember,
    Person,
    PersonStatus,
    PopulationKind,
    Relation,
    RequestStatus,
    Sex,
    Source,
    TagAssignment,
)

PERSON_CREATED = "PERSON_CREATED"
PERSON_UPDATED = "PERSON_UPDATED"
PERSON_ATTRIBUTE_CONFIRMED = "PERSON_ATTRIBUTE_CONFIRMED"
CORRECTION_REQUESTED = "CORRECTION_REQUESTED"
CORRECTION_ACCEPTED = "CORRECTION_ACCEPTED"
CORRECTION_REJECTED = "CORRECTION_REJECTED"
HOUSEHOLD_CREATED = "HOUSEHOLD_CREATED"
HOUSEHOLD_MEMBER_ADDED = "HOUSEHOLD_MEMBER_ADDED"
HOUSEHOLD_MEMBER_REMOVED = "HOUSEHOLD_MEMBER_REMOVED"
HOUSEHOLD_HEAD_CHANGED = "HOUSEHOLD_HEAD_CHANGED"

# The attributes of a person that carry provenance and may be edited.
EDITABLE_ATTRIBUTES: tuple[str, ...] = (
    "name",
    "document_type",
    "id_number",
    "birth_date",
    "sex",
    "mobile",
    "population_kind",
    "registered_address",
    "registered_division",
    "house",
    "status",
)
_FOREIGN_KEYS = {"house": House, "registered_division": Division}
_CHOICES: dict[str, Any] = {
    "document_type": DocumentType,
    "sex": Sex,
    "population_kind": PopulationKind,
    "status": PersonStatus,
}
_LEFT_STATUSES = frozenset({PersonStatus.MOVED_OUT, PersonStatus.DECEASED})


@dataclass
class PersonUpdate:
    """What an edit did: the person (with the applied changes), the attributes changed, and the
    correction requests raised for source-owned attributes instead."""

    person: Person
    changed: dict[str, dict[str, Any]] = field(default_factory=dict)
    corrections: list[CorrectionRequest] = field(default_factory=list)


# --- Values ------------------------------------------------------------------------------------


def attribute_text(value: Any) -> str:
    """An attribute value as stored in a correction request and in event data."""
    if value is None:
        return ""
    if isinstance(value, Model):
        return str(value.pk)
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _event_value(value: Any) -> Any:
    if isinstance(value, Model):
        return value.pk
    if isinstance(value, date):
        return value.isoformat()
    return value


def _field_error(name: str, message: Any) -> ValidationError:
    return ValidationError({name: [str(message)]})


def attribute_value(attribute: str, text: str) -> Any:
    """The model value of an attribute from its stored text (the inverse of ``attribute_text``)."""
    if attribute in _FOREIGN_KEYS:
        if not text:
            return None
        model = _FOREIGN_KEYS[attribute]
        obj = model._default_manager.filter(pk=text).first() if text.isdigit() else None
        if obj is None:
            raise _field_error(attribute, _("找不到该记录。"))
        return obj
    if attribute == "birth_date":
        if not text:
            return None
        try:
            return date.fromisoformat(text)
        except ValueError:
            raise _field_error(attribute, _("日期格式应为 YYYY-MM-DD。")) from None
    return text


def _clean_value(name: str, raw: Any, *, today: date) -> Any:
    """One attribute's value, validated and normalised."""
    value = raw
    if name in _FOREIGN_KEYS:
        if value is not None and not isinstance(value, _FOREIGN_KEYS[name]):
            value = attribute_value(name, attribute_text(value))
        return value
    if name == "birth_date":
        if isinstance(value, str):
            value = attribute_value(name, value.strip())
        if value is not None and (value > today or value.year < 1880):
            raise _field_error(name, _("出生日期不在合理范围内。"))
        return value
    value = "" if value is None else str(value).strip()
    if name in _CHOICES and value not in _CHOICES[name].values:
        raise _field_error(name, _("不是有效的选项。"))
    if name == "name" and not value:
        raise _field_error(name, _("姓名不能为空。"))
    if name == "mobile" and value:
        value = normalise_mobile(value)
        try:
            validate_mobile(value)
        except ValidationError as exc:
            raise _field_error(name, exc.messages[0]) from None
    return value


def _clean_document(person: Person, cleaned: dict[str, Any], *, today: date) -> None:
    """Check the ID number (GB 11643 for resident IDs) and that no one else holds the document."""
    document_type = cleaned.get("document_type", person.document_type)
    number = str(cleaned.get("id_number", person.id_number)).strip().upper()
    if document_type == DocumentType.RESIDENT_ID and number:
        check = check_id_number(number, today=today)
        if check.errors:
            raise _field_error("id_number", check.errors[0])
        number = check.number
    if "id_number" in cleaned:
        cleaned["id_number"] = number
    if (
        number
        and Person.objects.filter(document_type=document_type, id_number=number)
        .exclude(pk=person.pk)
        .exists()
    ):
        raise _field_error("id_number", _("该证件号码已登记在另一人名下。"))


def _clean(person: Person, changes: Mapping[str, Any], *, today: date) -> dict[str, Any]:
    """Validate and normalise ``changes`` against ``person``; raise ``ValidationError`` naming the
    field of the first problem."""
    unknown = sorted(set(changes) - set(EDITABLE_ATTRIBUTES))
    if unknown:
        raise _field_error(unknown[0], _("该属性不能修改。"))
    cleaned = {name: _clean_value(name, value, today=today) for name, value in changes.items()}
    if "id_number" in cleaned or "document_type" in cleaned:
        _clean_document(person, cleaned, today=today)
    return cleaned


def _place_of_house(house: House) -> tuple[str, str]:
    """(place path, street code) of a person living in ``house``."""
    compound = house.building.compound
    committee_path = compound.path[: -len(compound.code) - 1]
    codes = [part for part in committee_path.split("/") if part]
    street = codes[-2] if len(codes) >= 2 else codes[-1]
    return compound.path, street


def _place_of_committee(committee: Division) -> tuple[str, str]:
    if committee.level != DivisionLevel.COMMITTEE or committee.parent_id is None:
        raise _field_error("committee", _("请选择居村委。"))
    return committee.path, committee.code[:9] + "000"


def _provenance_set(*, person: Person, attribute: str, source: str, actor: Any, now: Any) -> None:
    AttributeProvenance.objects.update_or_create(
        person=person,
        attribute=attribute,
        defaults={"source": source, "confirmed_at": now, "confirmed_by": _user_or_none(actor)},
    )


def _user_or_none(actor: Any) -> Any:
    return actor if actor is not None and getattr(actor, "pk", None) else None


# --- Persons -----------------------------------------------------------------------------------


def person_create(
    *,
    actor: Any,
    name: str,
    house: House | None = None,
    committee: Division | None = None,
    source: str = Source.COMMITTEE,
    **attributes: Any,
) -> Person:
    """Register a person living in ``house`` (or, without a house, known to ``committee``); every
    attribute given records ``source`` as its provenance."""
    place_path = house.building.compound.path if house is not None else committee.path if committee else ""
    if not place_path:
        raise _field_error("house", _("请选择房屋或居村委。"))
    if not permissions.can_edit_person(actor, place_path):
        raise PermissionDenied(_("无权在此登记人员。"))
    now = timezone.now()
    probe = Person(document_type=attributes.get("document_type", DocumentType.RESIDENT_ID))
    cleaned = _clean(probe, {"name": name, **attributes}, today=timezone.localdate())
    path, street_code = _place_of_house(house) if house is not None else _place_of_committee(committee)  # type: ignore[arg-type]
    with transaction.atomic():
        person = Person(house=house, path=path, street_code=street_code, **cleaned)
        if person.status in _LEFT_STATUSES:
            person.status_changed_at = now
        person.save()
        given = [name for name in EDITABLE_ATTRIBUTES if name in cleaned or (name == "house" and house)]
        AttributeProvenance.objects.bulk_create(
            AttributeProvenance(
                person=person,
                attribute=attribute,
                source=source,
                confirmed_at=now,
                confirmed_by=_user_or_none(actor),
            )
            for attribute in given
        )
        event_record(
            subject=person,
            type=PERSON_CREATED,
            actor=actor,
            data={"source": source, "attributes": given},
            scope_path=person.path,
        )
    return person


def _correction_for(
    *,
    person: Person,
    attribute: str,
    current: Any,
    proposed: Any,
    routed_to: str,
    actor: Any,
    reason: str,
) -> CorrectionRequest:
    """Raise (or update the pending committee edit of) a correction request for one attribute."""
    pending = (
        CorrectionRequest.objects.select_for_update()
        .filter(person=person, attribute=attribute, status=RequestStatus.PENDING)
        .first()
    )
    if pending is not None:
        if pending.origin != CorrectionOrigin.COMMITTEE_EDIT:
            raise _field_error(attribute, _("该属性已有一项居民更正申请待处理，请先处理该申请。"))
        pending.proposed_value = attribute_text(proposed)
        pending.reason = reason
        pending.requested_by = actor
        pending.save(update_fields=["proposed_value", "reason", "requested_by"])
        return pending
    return CorrectionRequest.objects.create(
        person=person,
        attribute=attribute,
        current_value=attribute_text(current),
        proposed_value=attribute_text(proposed),
        reason=reason,
        origin=CorrectionOrigin.COMMITTEE_EDIT,
        routed_to=routed_to,
        requested_by=actor,
        path=person.path,
        street_code=person.street_code,
    )


def _apply(
    *, person: Person, changes: Mapping[str, Any], source: str, actor: Any, now: Any
) -> dict[str, dict[str, Any]]:
    """Set ``changes`` on the locked ``person``, move provenance to ``source``, save and record the
    update event. Returns the event's diff."""
    if not changes:
        return {}
    old = {name: _event_value(getattr(person, name)) for name in changes}
    fields = list(changes)
    for name, value in changes.items():
        setattr(person, name, value)
    if "status" in changes:
        person.status_changed_at = now
        fields.append("status_changed_at")
    if "house" in changes and person.house is not None:
        person.path, person.street_code = _place_of_house(person.house)
        fields += ["path", "street_code"]
        TagAssignment.objects.filter(person=person).update(path=person.path, street_code=person.street_code)
    person.save(update_fields=[*dict.fromkeys(fields), "updated_at"])
    for name in changes:
        _provenance_set(person=person, attribute=name, source=source, actor=actor, now=now)
    changed = diff(old, {name: _event_value(value) for name, value in changes.items()})
    event_record(
        subject=person,
        type=PERSON_UPDATED,
        actor=actor,
        data={"source": source, "changes": masked_changes(Person, changed)},
        scope_path=person.path,
    )
    return changed


def person_update(
    *,
    person: Person,
    changes: Mapping[str, Any],
    actor: Any,
    source: str = Source.COMMITTEE,
    reason: str = "",
) -> PersonUpdate:
    """Edit a person. Attributes owned by another source become correction requests to that source;
    the rest are applied with provenance moved to ``source``."""
    if not permissions.can_edit_person(actor, person.path):
        raise PermissionDenied(_("无权修改该人员。"))
    now = timezone.now()
    with transaction.atomic():
        locked = (
            Person.objects.select_for_update(of=("self",))
            .select_related("house__building__compound")
            .get(pk=person.pk)
        )
        cleaned = _clean(locked, changes, today=timezone.localdate())
        differing = {
            name: value
            for name, value in cleaned.items()
            if attribute_text(getattr(locked, name)) != attribute_text(value)
        }
        owners = dict(
            AttributeProvenance.objects.filter(person=locked, attribute__in=list(differing)).values_list(
                "attribute", "source"
            )
        )
        apply: dict[str, Any] = {}
        corrections: list[CorrectionRequest] = []
        for name, value in differing.items():
            owner = owners.get(name)
            if owner in SOURCE_OWNED and owner != source:
                request = _correction_for(
                    person=locked,
                    attribute=name,
                    current=getattr(locked, name),
                    proposed=value,
                    routed_to=owner,
                    actor=actor,
                    reason=reason,
                )
                event_record(
                    subject=request,
                    type=CORRECTION_REQUESTED,
                    actor=actor,
                    data={
                        "person": locked.pk,
                        "attribute": name,
                        "routed_to": owner,
                        "old": masked_for_record(Person, name, request.current_value),
                        "new": masked_for_record(Person, name, request.proposed_value),
                    },
                    scope_path=locked.path,
                )
                corrections.append(request)
            else:
                apply[name] = value
        changed = _apply(person=locked, changes=apply, source=source, actor=actor, now=now)
    return PersonUpdate(person=locked, changed=changed, corrections=corrections)


def person_confirm_attribute(*, person: Person, attribute: str, actor: Any) -> AttributeProvenance:
    """Record that an attribute is still correct: its last confirmation becomes now (the source stays;
    an attribute without provenance is recorded as collected by the committee)."""
    if attribute not in EDITABLE_ATTRIBUTES:
        raise _field_error("attribute", _("该属性不能确认。"))
    if not permissions.can_edit_person(actor, person.path):
        raise PermissionDenied(_("无权确认该人员的信息。"))
    now = timezone.now()
    with transaction.atomic():
        provenance, _created = AttributeProvenance.objects.select_for_update().get_or_create(
            person=person,
            attribute=attribute,
            defaults={"source": Source.COMMITTEE, "confirmed_at": now, "confirmed_by": _user_or_none(actor)},
        )
        provenance.confirmed_at = now
        provenance.confirmed_by = _user_or_none(actor)
        provenance.save(update_fields=["confirmed_at", "confirmed_by"])
        event_record(
            subject=person,
            type=PERSON_ATTRIBUTE_CONFIRMED,
            actor=actor,
            data={"attribute": attribute, "source": provenance.source},
            scope_path=person.path,
        )
    return provenance


# --- Correction requests -----------------------------------------------------------------------


def correction_request_decide(
    *, request: CorrectionRequest, accept: bool, note: str, actor: Any
) -> CorrectionRequest:
    """Accept or reject a pending correction request (committee edits routed to a source department,
    and residents' requests routed to the committee). Accepting applies the value and confirms the
    attribute's provenance as the deciding owner's."""
    if not permissions.can_decide_correction(actor, routed_to=request.routed_to, path=request.path):
        raise PermissionDenied(_("无权处理该更正申请。"))
    now = timezone.now()
    with transaction.atomic():
        locked = CorrectionRequest.objects.select_for_update().get(pk=request.pk)
        if locked.status != RequestStatus.PENDING:
            raise _field_error("status", _("该申请已处理。"))
        if accept:
            person = Person.objects.select_for_update().get(pk=locked.person_id)
            value = attribute_value(locked.attribute, locked.proposed_value)
            cleaned = _clean(person, {locked.attribute: value}, today=timezone.localdate())
            _apply(person=person, changes=cleaned, source=locked.routed_to, actor=actor, now=now)
        locked.status = RequestStatus.ACCEPTED if accept else RequestStatus.REJECTED
        locked.decided_by = actor
        locked.decided_at = now
        locked.decision_note = note
        locked.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
        event_record(
            subject=locked,
            type=CORRECTION_ACCEPTED if accept else CORRECTION_REJECTED,
            actor=actor,
            data={"person": locked.person_id, "attribute": locked.attribute, "note": note},
            scope_path=locked.path,
        )
    return locked


# --- Households --------------------------------------------------------------------------------


def _check_household_edit(actor: Any, path: str) -> None:
    if not permissions.can_edit_person(actor, path):
        raise PermissionDenied(_("无权修改该户。"))


def household_create(
    *, house: House, actor: Any, kind: str = HouseholdKind.FAMILY, head: Person | None = None
) -> Household:
    """Open a household at ``house``, optionally with its head as first member."""
    path, street_code = _place_of_house(house)
    _check_household_edit(actor, path)
    if kind not in HouseholdKind.values:
        raise _field_error("kind", _("不是有效的选项。"))
    with transaction.atomic():
        household = Household.objects.create(house=house, kind=kind, street_code=street_code, path=path)
        if head is not None:
            HouseholdMember.objects.create(
                household=household, person=head, relation=Relation.HEAD, street_code=street_code
            )
            household.head = head
            household.save(update_fields=["head"])
        event_record(
            subject=household,
            type=HOUSEHOLD_CREATED,
            actor=actor,
            data={"house": house.pk, "head": head.pk if head else None},
            scope_path=path,
        )
    return household


def household_member_add(
    *, household: Household, person: Person, relation: str, actor: Any
) -> HouseholdMember:
    _check_household_edit(actor, household.path)
    if relation not in Relation.values:
        raise _field_error("relation", _("不是有效的选项。"))
    with transaction.atomic():
        locked = Household.objects.select_for_update().get(pk=household.pk)
        if HouseholdMember.objects.filter(household=locked, person=person).exists():
            raise _field_error("person", _("此人已是该户成员。"))
        if relation == Relation.HEAD and locked.head_id is not None:
            raise _field_error("relation", _("该户已有户主，请在户成员中使用“设为户主”。"))
        member = HouseholdMember.objects.create(
            household=locked, person=person, relation=relation, street_code=locked.street_code
        )
        if relation == Relation.HEAD:
            locked.head = person
            locked.save(update_fields=["head"])
        event_record(
            subject=locked,
            type=HOUSEHOLD_MEMBER_ADDED,
            actor=actor,
            data={"person": person.pk, "relation": relation},
            scope_path=locked.path,
        )
    return member


def household_member_remove(*, household: Household, person: Person, actor: Any) -> Household:
    _check_household_edit(actor, household.path)
    with transaction.atomic():
        locked = Household.objects.select_for_update().get(pk=household.pk)
        member = HouseholdMember.objects.filter(household=locked, person=person).first()
        if member is None:
            raise _field_error("person", _("此人不是该户成员。"))
        relation = member.relation
        member.delete()
        if locked.head_id == person.pk:
            locked.head = None
            locked.save(update_fields=["head"])
        event_record(
            subject=locked,
            type=HOUSEHOLD_MEMBER_REMOVED,
            actor=actor,
            data={"person": person.pk, "relation": relation},
            scope_path=locked.path,
        )
    return locked


def household_head_set(
    *, household: Household, person: Person, actor: Any, former_head_relation: str = Relation.OTHER
) -> Household:
    """Make a member the head; the former head stays a member with ``former_head_relation``."""
    _check_household_edit(actor, household.path)
    if former_head_relation not in Relation.values or former_head_relation == Relation.HEAD:
        raise _field_error("former_head_relation", _("不是有效的选项。"))
    with transaction.atomic():
        locked = Household.objects.select_for_update().get(pk=household.pk)
        member = HouseholdMember.objects.filter(household=locked, person=person).first()
        if member is None:
            raise _field_error("person", _("此人不是该户成员。"))
        former = locked.head_id
        if former == person.pk:
            return locked
        # The old head first: at most one head per household at every moment.
        HouseholdMember.objects.filter(household=locked, relation=Relation.HEAD).update(
            relation=former_head_relation
        )
        member.relation = Relation.HEAD
        member.save(update_fields=["relation"])
        locked.head = person
        locked.save(update_fields=["head"])
        event_record(
            subject=locked,
            type=HOUSEHOLD_HEAD_CHANGED,
            actor=actor,
            data={"old": former, "new": person.pk, "former_head_relation": former_head_relation},
            scope_path=locked.path,
        )
    return locked
