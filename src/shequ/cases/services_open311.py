"""Open311 clients and the reports they send (issue 4 item 9).

An Open311 client (a city-operations system, a 12345 integration, a third-party app) holds an
``api_key``. Only its SHA-256 digest and a short prefix are stored, like personal API tokens; the raw
key is shown once, by ``shequ open311_client_create NAME``. A revoked client's key is refused (403).

``open311_request_create`` turns a ``POST requests`` into a case through ``case_report`` (channel
``open311``) and a ``ReportToken`` for clients that poll ``tokens/{token}``.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from django.db import transaction
from django.db.models import CharField, F, Value
from django.db.models.functions import Length
from django.utils.translation import gettext as _

from shequ.core.errors import ApiError
from shequ.core.events import event_record
from shequ.places.models import Compound, Division, DivisionLevel

from .models import Case, Category, Channel, OpenApiClient, ReportToken
from .services_intake import MAX_DESCRIPTION, case_report

KEY_PREFIX = "o311_"
NAME_MAX = 100
# Names shorter than this are not looked for inside an address (too many false matches).
MIN_PLACE_NAME = 2

OPEN311_CLIENT_CREATED = "OPEN311_CLIENT_CREATED"
OPEN311_CLIENT_REVOKED = "OPEN311_CLIENT_REVOKED"


def key_digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


# --- clients ---------------------------------------------------------------------------------------


@transaction.atomic
def open311_client_create(
    *, name: str, actor: object = None, jurisdiction_id: str = ""
) -> tuple[OpenApiClient, str]:
    """A new client and its raw ``api_key`` (returned once; only its digest is kept)."""
    name = (name or "").strip()
    if not name:
        raise ApiError(_("请为客户端命名。"), code="required", field="name", status=422)
    if len(name) > NAME_MAX:
        raise ApiError(_("名称过长。"), code="invalid", field="name", status=422)
    raw = KEY_PREFIX + secrets.token_urlsafe(32)
    client = OpenApiClient.objects.create(
        name=name,
        key_prefix=raw[:12],
        key_digest=key_digest(raw),
        jurisdiction_id=(jurisdiction_id or "").strip()[:64],
    )
    event_record(
        subject=client,
        type=OPEN311_CLIENT_CREATED,
        actor=actor,
        data={"name": name, "prefix": client.key_prefix},
    )
    return client, raw


@transaction.atomic
def open311_client_revoke(*, client: OpenApiClient, actor: object = None) -> OpenApiClient:
    """Refuse the client's key from now on (idempotent)."""
    client = OpenApiClient.objects.select_for_update().get(pk=client.pk)
    if client.is_active:
        client.is_active = False
        client.save(update_fields=["is_active"])
        event_record(
            subject=client, type=OPEN311_CLIENT_REVOKED, actor=actor, data={"prefix": client.key_prefix}
        )
    return client


def open311_client_by_key(raw: str) -> OpenApiClient | None:
    """The active client holding ``raw``, or None (unknown or revoked)."""
    raw = (raw or "").strip()
    if not raw:
        return None
    return OpenApiClient.objects.filter(key_digest=key_digest(raw), is_active=True).first()


# --- reports ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Open311Report:
    """A parsed ``POST requests``: what the client sent, in our terms."""

    category: Category
    description: str
    lat: float | None = None
    lon: float | None = None
    address: str = ""
    compound: Compound | None = None
    media_url: str = ""
    contact_name: str = ""
    phone: str = ""
    email: str = ""
    # (label, answer) of each attribute[CODE] the client answered, in the definition's order.
    answers: Sequence[tuple[str, str]] = ()


def place_for_address(address: str) -> Compound | Division | None:
    """The compound, else the committee, else the street whose name appears in ``address`` (the
    longest such name): how an ``address_string`` without coordinates is placed."""
    address = (address or "").strip()
    if not address:
        return None
    text = Value(address, output_field=CharField())
    compound = (
        Compound.objects.annotate(_address=text, _length=Length("name"))
        .filter(_length__gte=MIN_PLACE_NAME, _address__contains=F("name"))
        .order_by("-_length", "code")
        .first()
    )
    if compound is not None:
        return compound
    for level in (DivisionLevel.COMMITTEE, DivisionLevel.STREET):
        division = (
            Division.objects.annotate(_address=text, _length=Length("name"))
            .filter(level=level, is_active=True, _length__gte=MIN_PLACE_NAME, _address__contains=F("name"))
            .order_by("-_length", "code")
            .first()
        )
        if division is not None:
            return division
    return None


def _description(report: Open311Report) -> str:
    description = report.description.strip() or report.category.name
    lines = [f"{label}：{answer}" for label, answer in report.answers if answer]
    if lines:
        description = description + "\n\n" + "\n".join(lines)
    if len(description) > MAX_DESCRIPTION:
        raise ApiError(
            _("description 与各 attribute 合计不能超过 %(n)s 个字符。") % {"n": MAX_DESCRIPTION},
            code="invalid",
            field="description",
            status=400,
        )
    return description


def open311_source_ref(*, client: OpenApiClient, idempotency_key: str) -> str:
    """The case's source reference for a POST sent with an ``Idempotency-Key`` (empty without one):
    the same key from the same client always names the same case."""
    if not idempotency_key:
        return ""
    return f"o311:{client.pk}:{hashlib.sha256(idempotency_key.encode()).hexdigest()[:40]}"


def open311_request_create(
    *, client: OpenApiClient, report: Open311Report, source_ref: str = ""
) -> tuple[Case, ReportToken]:
    """Take in one Open311 report as a case (channel ``open311``) and give it a token."""
    place: Compound | Division | None = report.compound
    if report.lat is None and place is None:
        place = place_for_address(report.address)
        if place is None:
            raise ApiError(
                _("无法根据 address_string 确定位置，请提供 lat 和 long，或 address_id。"),
                code="invalid",
                field="address_string",
                status=400,
            )
    with transaction.atomic():
        case = case_report(
            actor=None,
            channel=Channel.OPEN311,
            category=report.category,
            description=_description(report),
            lon=report.lon,
            lat=report.lat,
            place=place,
            address=report.address,
            contact_name=report.contact_name,
            contact_phone=report.phone,
            contact_email=report.email,
            source_ref=source_ref,
            media_urls=[report.media_url] if report.media_url else (),
        )
        token = ReportToken.objects.filter(case=case).order_by("pk").first()
        if token is None:
            token = ReportToken.objects.create(token=secrets.token_urlsafe(16), case=case)
    return case, token
