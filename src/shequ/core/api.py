from __future__ import annotations

from datetime import date

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema

from .errors import ApiError
from .validators import check_id_number, normalise_id_number, normalise_mobile, validate_mobile

router = Router(tags=["core"])


class HealthOut(Schema):
    status: str


@router.get("/health", response=HealthOut, auth=None)
def health(request: HttpRequest) -> HealthOut:
    return HealthOut(status="ok")


class IdentifiersIn(Schema):
    id_number: str | None = None
    mobile: str | None = None


class IdentifiersOut(Schema):
    id_number: str | None = None
    id_kind: str | None = None
    birth_date: date | None = None
    sex: str | None = None
    mobile: str | None = None
    warnings: list[str] = Field(default_factory=list)


@router.post("/checks/identifiers", response=IdentifiersOut)
def identifiers_check(request: HttpRequest, payload: IdentifiersIn) -> IdentifiersOut:
    """Check a resident ID number and/or a mobile number the way every form of shequ does: a malformed
    value is a 422 naming the field; an unknown place code is only a warning."""
    out = IdentifiersOut()
    if payload.id_number is None and payload.mobile is None:
        raise ApiError(_("请提供证件号码或手机号码。"), code="invalid", field="id_number", status=422)
    if payload.id_number is not None:
        result = check_id_number(payload.id_number)
        if result.errors:
            raise ApiError(" ".join(result.errors), code="invalid", field="id_number", status=422)
        out.id_number = normalise_id_number(payload.id_number)
        out.id_kind = result.kind
        out.birth_date = result.birth_date
        out.sex = result.sex
        out.warnings.extend(result.warnings)
    if payload.mobile is not None:
        try:
            validate_mobile(payload.mobile)
        except Exception as error:
            raise ApiError(
                _("手机号码应为 11 位，以 13–19 开头。"), code="invalid", field="mobile", status=422
            ) from error
        out.mobile = normalise_mobile(payload.mobile)
    return out
