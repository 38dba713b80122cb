"""Writes of residents' self-service: the link between a resident's account and their record, their
correction and deletion requests, and the committee's decision on a deletion (PIPL Art. 44–47).

Linking: a committee worker checks the resident's identity document in person and links the account
(which must hold a resident membership at the person's committee) to the record. A real deployment
would verify the identity through the city's 一网通办 identity service instead of, or besides, the
counter check; the link records who verified it and when either way.

Residents' correction requests go to their committee (``routed_to=committee``), which forwards them to
the owning department when the attribute is source-owned. Deletion requests (PIPL Art. 47) state their
grounds; the committee head decides. Approval archives the record at once (it leaves every working
list) and the retention job purges it after ``SHEQU_RETENTION_DELETION_PURGE_DAYS``.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from shequ.accounts.models import Membership, Role
from shequ.core.events import event_record
from shequ.core.validators import check_id_number, normalise_mobile, validate_mobile
from shequ.places.models import DivisionLevel

from . import permissions
from .models import (
    CorrectionOrigin,
    CorrectionRequest,
    DeletionRequest,
    Person,
    RequestStatus,
    ResidentLink,
    Sex,
    Source,
)
from .services_retention import PERSON_ARCHIVED, deletion_purge_period

RESIDENT_LINKED = "RESIDENT_LINKED"
CORRECTION_REQUESTED = "CORRECTION_REQUESTED"
DELETION_REQUESTED = "DELETION_REQUESTED"
DELETION_REQUEST_DECIDED = "DELETION_REQUEST_DECIDED"

# The attributes a resident may ask to have corrected, with their labels.
RESIDENT_CORRECTABLE: dict[str, Any] = {
    "name": gettext_lazy("姓名"),
    "id_number": gettext_lazy("证件号码"),
    "birth_date": gettext_lazy("出生日期"),
    "sex": gettext_lazy("性别"),
    "mobile": gettext_lazy("手机号"),
    "registered_address": gettext_lazy("户籍地址"),
}

REASON_MAX_LENGTH = 2000

# PIPL Art. 47(1): the cases in which the handler must delete personal information.
DELETION_GROUNDS: dict[str, Any] = {
    "purpose_fulfilled": gettext_lazy("处理目的已实现、无法实现或者为实现处理目的不再必要"),
    "service_ended": gettext_lazy("已停止提供服务，或者保存期限已届满"),
    "consent_withdrawn": gettext_lazy("本人撤回同意（以同意为处理依据的信息）"),
    "unlawful": gettext_lazy("处理违反法律、行政法规或者违反约定"),
    "other": gettext_lazy("法律、行政法规规定的其他情形"),
}


def _today() -> date:
    return timezone.localdate()


# --- Linking an account to a record ------------------------------------------------------------------


def _path_prefixes(path: str) -> list[str]:
    parts = [p for p in path.split("/") if p]
    return ["".join(f"{p}/" for p in parts[: i + 1]) for i in range(len(parts))]


def _holds_resident_membership_at(user: Any, path: str) -> bool:
    today = _today()
    return (
        Membership.objects.filter(
            user=user,
            role=Role.RESIDENT,
            is_active=True,
            division__level=DivisionLevel.COMMITTEE,
            division__path__in=_path_prefixes(path),
        )
        .filter(
            Q(starts_on__isnull=True) | Q(starts_on__lte=today),
            Q(ends_on__isnull=True) | Q(ends_on__gte=today),
        )
        .exists()
    )


def resident_link_create(*, user: Any, person: Person, actor: Any) -> ResidentLink:
    """Link ``user``'s account to ``person`` after the committee has verified their identity in
    person. The account must hold a resident membership at the person's committee."""
    if not permissions.can_edit_person(actor, person.path):
        raise PermissionDenied(_("您无权为该居民绑定账号。"))
    if person.archived_at is not None:
        raise ValidationError({"person": _("该人员记录已归档，不能绑定账号。")})
    if not _holds_resident_membership_at(user, person.path):
        raise ValidationError({"username": _("该账号不是本居村的居民账号。")})
    with transaction.atomic():
        locked = Person.objects.select_for_update().get(pk=person.pk)
        if ResidentLink.objects.filter(person=locked).exists():
            raise ValidationError({"person": _("该人员已绑定居民账号。")})
        if ResidentLink.objects.filter(user=user).exists():
            raise ValidationError({"username": _("该账号已绑定其他人员。")})
        link = ResidentLink.objects.create(
            user=user, person=locked, verified_at=timezone.now(), verified_by=actor
        )
        event_record(
            subject=locked,
            type=RESIDENT_LINKED,
            actor=actor,
            data={"user_id": user.pk},
            scope_path=locked.path,
        )
    return link


# --- Residents' requests --------------------------------------------------------------------------------


def _require_own_record(*, person: Person, actor: Any) -> None:
    actor_id = getattr(actor, "pk", None)
    if actor_id is None or not ResidentLink.objects.filter(user_id=actor_id, person_id=person.pk).exists():
        raise PermissionDenied(_("只能对本人的记录提出申请。"))


def _clean_proposed(attribute: str, value: str) -> str:
    value = (value or "").strip()
    if not value:
        raise ValidationError({"proposed_value": _("请填写正确的内容。")})
    if attribute == "mobile":
        validate_mobile(value)
        return normalise_mobile(value)
    if attribute == "id_number":
        check = check_id_number(value)
        if check.errors:
            raise ValidationError({"proposed_value": check.errors})
        return check.number
    if attribute == "birth_date":
        try:
            return date.fromisoformat(value).isoformat()
        except ValueError:
            raise ValidationError({"proposed_value": _("日期格式应为 YYYY-MM-DD。")}) from None
    if attribute == "sex" and value not in Sex.values:
        raise ValidationError(
            {"proposed_value": _("性别须为：%(values)s") % {"values": ", ".join(Sex.values)}}
        )
    if len(value) > CorrectionRequest._meta.get_field("proposed_value").max_length:  # type: ignore[operator]
        raise ValidationError({"proposed_value": _("内容过长。")})
    return value


def _current_value(person: Person, attribute: str) -> str:
    value = getattr(person, attribute)
    if value is None:
        return ""
    return value.isoformat() if isinstance(value, date) else str(value)


def correction_request_from_resident(
    *, person: Person, attribute: str, proposed_value: str, reason: str, actor: Any
) -> CorrectionRequest:
    """A resident asks their committee to correct one attribute of their own record. At most one
    request per attribute is pending at a time."""
    _require_own_record(person=person, actor=actor)
    if attribute not in RESIDENT_CORRECTABLE:
        raise ValidationError({"attribute": _("不能申请更正该项。")})
    if person.archived_at is not None:
        raise ValidationError({"person": _("该记录已归档，不能再申请更正。")})
    proposed = _clean_proposed(attribute, proposed_value)
    reason = (reason or "").strip()[:REASON_MAX_LENGTH]
    duplicate = ValidationError({"attribute": _("该项已有一条待处理的更正申请，请等待处理结果。")})
    with transaction.atomic():
        locked = Person.objects.select_for_update().get(pk=person.pk)
        if CorrectionRequest.objects.filter(
            person=locked, attribute=attribute, status=RequestStatus.PENDING
        ).exists():
            raise duplicate
        try:
            with transaction.atomic():
                correction = CorrectionRequest.objects.create(
                    person=locked,
                    attribute=attribute,
                    current_value=_current_value(locked, attribute),
                    proposed_value=proposed,
                    reason=reason,
                    origin=CorrectionOrigin.RESIDENT,
                    routed_to=Source.COMMITTEE,
                    requested_by=actor,
                    path=locked.path,
                    street_code=locked.street_code,
                )
        except IntegrityError:
            raise duplicate from None
        event_record(
            subject=correction,
            type=CORRECTION_REQUESTED,
            actor=actor,
            data={
                "person_id": locked.pk,
                "attribute": attribute,
                "origin": CorrectionOrigin.RESIDENT,
                "routed_to": Source.COMMITTEE,
            },
            scope_path=locked.path,
        )
    return correction


def deletion_request_create(*, person: Person, ground: str, explanation: str, actor: Any) -> DeletionRequest:
    """A resident asks for their record to be deleted, stating the legal ground (PIPL Art. 47)."""
    _require_own_record(person=person, actor=actor)
    if ground not in DELETION_GROUNDS:
        raise ValidationError({"ground": _("请选择删除的依据。")})
    explanation = (explanation or "").strip()[:REASON_MAX_LENGTH]
    if ground == "other" and not explanation:
        raise ValidationError({"explanation": _("请说明具体情形。")})
    if person.archived_at is not None:
        raise ValidationError({"person": _("该记录已归档，将按保存期限删除。")})
    reason = f"{DELETION_GROUNDS[ground]}" + (f"\n{explanation}" if explanation else "")
    duplicate = ValidationError({"ground": _("您已有一条待处理的删除申请。")})
    with transaction.atomic():
        locked = Person.objects.select_for_update().get(pk=person.pk)
        if DeletionRequest.objects.filter(person=locked, status=RequestStatus.PENDING).exists():
            raise duplicate
        try:
            with transaction.atomic():
                request = DeletionRequest.objects.create(
                    person=locked, requested_by=actor, reason=reason, path=locked.path
                )
        except IntegrityError:
            raise duplicate from None
        event_record(
            subject=request,
            type=DELETION_REQUESTED,
            actor=actor,
            data={"person_id": locked.pk, "ground": ground},
            scope_path=locked.path,
        )
    return request


def deletion_request_decide(
    *, request: DeletionRequest, approve: bool, note: str, actor: Any
) -> DeletionRequest:
    """The committee head approves or refuses a deletion request. A refusal must give its reason
    (PIPL Art. 50). Approval archives the record now; the retention job purges it later."""
    if not permissions.can_decide_deletion(actor, request.path):
        raise PermissionDenied(_("只有居村书记/主任可以决定删除申请。"))
    note = (note or "").strip()[:REASON_MAX_LENGTH]
    if not approve and not note:
        raise ValidationError({"note": _("不予删除须说明理由。")})
    now = timezone.now()
    with transaction.atomic():
        locked = DeletionRequest.objects.select_for_update().get(pk=request.pk)
        if locked.status != RequestStatus.PENDING:
            raise ValidationError({"status": _("该申请已处理。")})
        locked.status = RequestStatus.ACCEPTED if approve else RequestStatus.REJECTED
        locked.decided_by = actor
        locked.decided_at = now
        locked.decision_note = note
        locked.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
        purge_after = now + deletion_purge_period()
        event_record(
            subject=locked,
            type=DELETION_REQUEST_DECIDED,
            actor=actor,
            data={
                "person_id": locked.person_id,
                "approved": approve,
                **({"purge_after": purge_after.isoformat()} if approve else {}),
            },
            scope_path=locked.path,
        )
        if approve:
            person = Person.objects.select_for_update().get(pk=locked.person_id)
            if person.archived_at is None:
                person.archived_at = now
                person.save(update_fields=["archived_at"])
                event_record(
                    subject=person,
                    type=PERSON_ARCHIVED,
                    actor=actor,
                    data={"reason": "deletion_request", "purge_after": purge_after.isoformat()},
                    scope_path=person.path,
                )
    return locked
