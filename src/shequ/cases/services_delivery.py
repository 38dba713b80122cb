"""Delivery of a case to the external systems it came from or must be reported to (DOMAIN.md §5: the
delivery state is kept apart from the case's state, outcome and the resident's feedback).

A hotline ticket opens a ``CaseDelivery`` (12345, pending) at intake; the external system reads the
change feed (Open311 ``servicerequestupdates``) and reports back through the API what became of its
copy: sent, acknowledged, or failed (with the error). Each change writes an event row.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from shequ.core.errors import ApiError

from .models import Case, CaseDelivery, ExternalDeliveryState, ExternalSystem
from .services_common import record

CASE_DELIVERY_UPDATED = "CASE_DELIVERY_UPDATED"

S = ExternalDeliveryState
# Which delivery states may follow which (a failed delivery may be sent again).
NEXT: dict[str, frozenset[str]] = {
    S.PENDING: frozenset({S.SENT, S.ACKNOWLEDGED, S.FAILED}),
    S.SENT: frozenset({S.ACKNOWLEDGED, S.FAILED}),
    S.FAILED: frozenset({S.SENT, S.ACKNOWLEDGED, S.FAILED}),
    S.ACKNOWLEDGED: frozenset(),
}


def case_delivery_open(*, case: Case, system: str, external_id: str = "") -> CaseDelivery:
    """The delivery row of ``case`` to ``system`` (created pending when missing). Call it inside the
    service's transaction."""
    delivery, _created = CaseDelivery.objects.get_or_create(
        case=case, system=system, defaults={"external_id": external_id[:64]}
    )
    return delivery


def case_delivery_mark(
    *, case: Case, system: str, state: str, actor: Any, external_id: str = "", error: str = ""
) -> CaseDelivery:
    """Record what an external system reports about its copy of ``case``."""
    if system not in ExternalSystem.values:
        raise ApiError(_("未知的外部系统。"), code="invalid", field="system", status=422)
    if state not in ExternalDeliveryState.values or state == S.PENDING:
        raise ApiError(
            _("推送状态只能是已推送、已确认或推送失败。"), code="invalid", field="state", status=422
        )
    if state == S.FAILED and not error.strip():
        raise ApiError(_("推送失败时请说明原因。"), code="required", field="error", status=422)
    with transaction.atomic():
        delivery = case_delivery_open(case=case, system=system, external_id=external_id)
        delivery = CaseDelivery.objects.select_for_update().get(pk=delivery.pk)
        old = delivery.state
        if state not in NEXT[old]:
            raise ApiError(
                _("推送状态不能从“%(old)s”改为“%(new)s”。")
                % {"old": ExternalDeliveryState(old).label, "new": ExternalDeliveryState(state).label},
                code="invalid_state",
                field="state",
                status=409,
            )
        delivery.state = state
        delivery.last_error = error.strip()[:500] if state == S.FAILED else ""
        if external_id:
            delivery.external_id = external_id[:64]
        delivery.save(update_fields=["state", "last_error", "external_id", "updated_at"])
        record(
            case,
            CASE_DELIVERY_UPDATED,
            actor=actor,
            old_state=case.state,
            data={"system": system, "delivery": {"old": old, "new": state}, "error": delivery.last_error},
        )
    return delivery
