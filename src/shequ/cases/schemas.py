"""What the cases API reads and answers (django-ninja schemas), and the list filters.

Inputs are validated here (types, lengths, choices) so that a bad request is a 422 naming the field
before any service runs; the services check the rest (a category that is an emergency, a place
outside the city, a transition the case's state does not allow). Answers never carry clear personal
values: the reporter's contact fields are masked (``core.privacy``), and only ``POST …/reveal``
returns them, logged.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any, ClassVar
from urllib.parse import urlsplit

from django.db.models import Q, QuerySet
from django.utils import timezone
from ninja import Field, Schema
from pydantic import ConfigDict, field_validator

from shequ.core.models import SupervisionLevel

from .models import Case, CaseState, Feedback, Outcome

MAX_PAGE_SIZE = 100
MAX_MEDIA_URLS = 9
NUMBER_PATTERN = r"SQ[0-9]{14,16}"
_NUMBER = re.compile(rf"^{NUMBER_PATTERN}$")
_NUMBER_PREFIX = re.compile(r"^SQ[0-9]{4,}$")

# States in which a case still waits for its handling: past ``due_at`` it is overdue. Suspended cases
# are not (their clock is paused); handled ones are past the handling stage.
AWAITING_HANDLING = (
    CaseState.REGISTERED,
    CaseState.DISPATCHED,
    CaseState.RETURN_REQUESTED,
    CaseState.HANDLING,
    CaseState.EXTENSION_REQUESTED,
)


class _In(Schema):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


# --- Intake ----------------------------------------------------------------------------------


class CaseIn(_In):
    """A report. The place is a point (``lon``/``lat`` in ``crs``), or a compound code, or a
    committee code; the point wins when both are sent."""

    category: str = Field(..., min_length=1, max_length=8, description="category code, e.g. E0101")
    description: str = Field(..., min_length=1, max_length=4000)
    title: str = Field("", max_length=200)
    lon: float | None = None
    lat: float | None = None
    crs: str = Field("wgs84", max_length=8, description="wgs84, gcj02 or bd09")
    compound: str | None = Field(None, max_length=32, description="compound code")
    committee: str | None = Field(None, max_length=12, description="12-digit committee code")
    address: str = Field("", max_length=300)
    contact_name: str = Field("", max_length=50)
    contact_phone: str = Field("", max_length=20)
    contact_email: str = Field("", max_length=254)
    anonymous_public: bool = Field(False, description="hide the reporter from the public (not from handlers)")
    channel: str | None = Field(
        None,
        description=(
            "resident_web (default in a browser session); counter, grid_patrol (committee and grid "
            "staff); assigned (dispatchers and officers); api (default with a token)"
        ),
    )
    source_ref: str = Field("", max_length=64, description="the source system's reference (idempotent)")
    media_urls: list[str] = Field(default_factory=list, max_length=MAX_MEDIA_URLS)

    @field_validator("media_urls")
    @classmethod
    def _urls(cls, value: list[str]) -> list[str]:
        for url in value:
            parts = urlsplit(url.strip())
            if parts.scheme not in {"http", "https"} or not parts.netloc or len(url) > 500:
                raise ValueError("media_urls: http(s) URLs of at most 500 characters")
        return [url.strip() for url in value]


# --- Lists and filters -----------------------------------------------------------------------


class CaseListQuery(Schema):
    """Filters of ``GET /cases/``: all optional, combined with AND."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    state: list[str] = Field(
        default_factory=list, description="repeated or comma-separated: reported, dispatched …"
    )
    category: str = Field("", max_length=8, description="category code")
    street: str = Field("", pattern=r"^(|[0-9]{12})$", description="12-digit street code")
    committee: str = Field("", pattern=r"^(|[0-9]{12})$", description="12-digit committee code")
    handler: str = Field("", pattern=r"^(|org:[0-9]+|[0-9]{12})$", description="org:<id> or a division code")
    overdue: bool | None = Field(None, description="past the handling deadline, not yet handled")
    q: str = Field("", max_length=100, description="a case number, a 12345 ticket id, or text")
    created_from: date | None = None
    created_to: date | None = None
    page: int = Field(1, ge=1)
    page_size: int = Field(20, ge=1, le=MAX_PAGE_SIZE)

    @field_validator("state")
    @classmethod
    def _states(cls, value: list[str]) -> list[str]:
        states = [part.strip() for item in value for part in item.split(",") if part.strip()]
        unknown = sorted(set(states) - set(CaseState.values))
        if unknown:
            raise ValueError(f"unknown state {', '.join(unknown)}; one of {', '.join(CaseState.values)}")
        return states

    def apply(self, queryset: QuerySet[Case], *, now: datetime | None = None) -> QuerySet[Case]:
        """Narrow ``queryset`` (already limited to what the user may see) by these filters."""
        now = now or timezone.now()
        if self.state:
            queryset = queryset.filter(state__in=self.state)
        if self.category:
            queryset = queryset.filter(category__code=self.category)
        if self.street:
            queryset = queryset.filter(street_code=self.street)
        if self.committee:
            queryset = queryset.filter(committee__code=self.committee)
        if self.handler.startswith("org:"):
            queryset = queryset.filter(handler_org_id=int(self.handler[4:]))
        elif self.handler:
            queryset = queryset.filter(handler_division__code=self.handler)
        if self.overdue is not None:
            late = Q(state__in=AWAITING_HANDLING, due_at__lt=now)
            queryset = queryset.filter(late) if self.overdue else queryset.exclude(late)
        if self.q:
            queryset = queryset.filter(text_q(self.q))
        tz = timezone.get_current_timezone()
        if self.created_from:
            queryset = queryset.filter(reported_at__gte=datetime.combine(self.created_from, time.min, tz))
        if self.created_to:
            queryset = queryset.filter(reported_at__lte=datetime.combine(self.created_to, time.max, tz))
        return queryset


def text_q(q: str) -> Q:
    """A case number (whole or its start), a source reference (12345 ticket id), or words of the
    title, description or address."""
    value = q.strip()
    upper = value.upper()
    if _NUMBER.match(upper):
        return Q(number=upper)
    if _NUMBER_PREFIX.match(upper):
        return Q(number__startswith=upper)
    return (
        Q(source_ref=value)
        | Q(title__icontains=value)
        | Q(description__icontains=value)
        | Q(address__icontains=value)
    )


# --- Answers ---------------------------------------------------------------------------------


class PlaceOut(Schema):
    code: str
    name: str


class CategoryRef(Schema):
    code: str
    name: str
    major_name: str


class HandlerOut(Schema):
    key: str = Field(..., description="org:<id> or a division code")
    name: str


class CaseRow(Schema):
    number: str
    channel: str
    source_ref: str
    category: CategoryRef
    title: str
    state: str
    state_label: str
    urgency: str
    outcome: str
    feedback: str
    supervision_level: str
    district: PlaceOut
    street: PlaceOut
    committee: PlaceOut | None
    compound: PlaceOut | None
    handler: HandlerOut | None
    reported_at: datetime
    due_at: datetime | None
    closed_at: datetime | None
    overdue: bool
    version: int


class CasePage(Schema):
    count: int
    page: int
    page_size: int
    items: list[CaseRow]


class ContactOut(Schema):
    """The reporter's contact details, masked (``POST …/reveal`` shows them in clear, logged)."""

    contact_name: str
    contact_phone: str
    contact_email: str


class TimelineEntry(Schema):
    type: str
    occurred_at: datetime
    actor: str | None = Field(None, description="who acted (shown to staff only)")
    state_old: str | None
    state_new: str | None
    details: dict[str, Any]


class AttachmentOut(Schema):
    stage: str
    url: str
    content_type: str


class CaseOut(CaseRow):
    description: str
    address: str
    lon: float | None
    lat: float | None
    anonymous_public: bool
    contact: ContactOut | None = Field(None, description="staff and the reporter only; masked")
    result: str
    redirect_route: str
    master: str | None
    petition_ref: str = Field("", description="staff only: a petition (信访件) on the same matter")
    first_responsible: bool
    route_note: str
    counts: dict[str, int]
    attachments: list[AttachmentOut]
    transitions: list[str] = Field(..., description="what you may do now: POST …/transitions/{name}")
    timeline: list[TimelineEntry]
    deliveries: list[DeliveryOut] = Field(
        default_factory=list, description="staff only: the case's delivery to each external system"
    )


class DeliveryOut(Schema):
    system: str
    external_id: str
    state: str
    last_error: str
    updated_at: datetime


class DeliveryIn(_In):
    state: str = Field(..., description="sent / acknowledged / failed")
    external_id: str = Field("", max_length=64)
    error: str = Field("", max_length=500)


class RevealIn(_In):
    fields: list[str] = Field(..., min_length=1, max_length=3)
    purpose: str = Field(..., max_length=255)


class RevealOut(Schema):
    number: str
    values: dict[str, str]


class DuplicateQuery(Schema):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    category: str = Field(..., min_length=1, max_length=8)
    lon: float
    lat: float
    crs: str = Field("wgs84", max_length=8)
    text: str = Field(..., min_length=1, max_length=4000)


class DuplicateOut(Schema):
    number: str
    title: str
    state: str
    state_label: str
    reported_at: datetime
    distance_m: float | None
    similarity: float
    score: float


class FollowIn(_In):
    contact_phone: str = Field("", max_length=20, description="for SMS updates when not signed in")


# --- Transitions -----------------------------------------------------------------------------


class TransitionIn(_In):
    """Every transition's body may carry the ``version`` the caller saw (409 when it changed)."""

    version: int | None = Field(None, ge=1, description="the case version you saw (optimistic lock)")


class NoteIn(TransitionIn):
    note: str = Field("", max_length=500)


class ReasonIn(TransitionIn):
    reason: str = Field(..., min_length=1, max_length=1000)


class OptionalReasonIn(TransitionIn):
    reason: str = Field("", max_length=1000)


class RegisterIn(TransitionIn):
    category: str | None = Field(None, max_length=8, description="re-classify on registration")
    urgency: str | None = Field(None, pattern=r"^(normal|urgent|very_urgent)$")


class RejectIn(TransitionIn):
    reason: str = Field(..., min_length=1, max_length=500)
    route: str = Field("", max_length=300, description="the legal route the reporter is told")
    outcome: str = Field(Outcome.INVALID, pattern=r"^(invalid|not_responsible)$")


class MergeIn(TransitionIn):
    master: str = Field(..., pattern=rf"^{NUMBER_PATTERN}$", description="number of the master case")


class RouteIn(TransitionIn):
    """A unit chosen by hand (an organisation id or a division code), or none: the routing rules."""

    org_id: int | None = Field(None, ge=1)
    division_code: str | None = Field(None, pattern=r"^[0-9]{12}$")
    note: str = Field("", max_length=500)


class ReturnRequestIn(TransitionIn):
    grounds: str = Field(..., min_length=1, max_length=1000)


class ExtensionRequestIn(TransitionIn):
    amount: Decimal = Field(..., gt=0, max_digits=8, decimal_places=2)
    reason: str = Field(..., min_length=1, max_length=500)


class SuspendIn(TransitionIn):
    reason: str = Field(..., min_length=1, max_length=500)
    review_on: date


class HandleIn(TransitionIn):
    result: str = Field(..., min_length=1, max_length=4000)
    outcome: str = Field(Outcome.RESOLVED, pattern=r"^(resolved|partly|explained|not_responsible)$")


class ConfirmIn(TransitionIn):
    solved: bool
    feedback: str = Field(
        ..., pattern=rf"^({Feedback.SATISFIED}|{Feedback.BASICALLY}|{Feedback.UNSATISFIED})$"
    )
    comment: str = Field("", max_length=500)


class SuperviseIn(TransitionIn):
    level: str = Field(..., description="ordinary, yellow or red")
    reason: str = Field(..., min_length=1, max_length=500)

    LEVELS: ClassVar = tuple(v for v in SupervisionLevel.values if v != SupervisionLevel.NONE)

    @field_validator("level")
    @classmethod
    def _level(cls, value: str) -> str:
        if value not in cls.LEVELS:
            raise ValueError(f"one of {', '.join(cls.LEVELS)}")
        return value


# The body each transition reads (``POST /cases/{number}/transitions/{name}``).
class PetitionLinkIn(TransitionIn):
    petition_ref: str = Field(
        ..., min_length=1, max_length=64, description="the petition's number (信访件编号)"
    )


TRANSITION_BODIES: dict[str, type[TransitionIn]] = {
    "verify": NoteIn,
    "register": RegisterIn,
    "reject": RejectIn,
    "merge": MergeIn,
    "dispatch": RouteIn,
    "self_handle": TransitionIn,
    "accept": TransitionIn,
    "return_request": ReturnRequestIn,
    "redispatch": RouteIn,
    "return_refuse": OptionalReasonIn,
    "extension_request": ExtensionRequestIn,
    "extension_grant": TransitionIn,
    "extension_refuse": OptionalReasonIn,
    "suspend": SuspendIn,
    "resume": TransitionIn,
    "handle": HandleIn,
    "check_start": TransitionIn,
    "check_pass": NoteIn,
    "check_fail": ReasonIn,
    "confirm": ConfirmIn,
    "redo": ReasonIn,
    "close": NoteIn,
    "reopen": ReasonIn,
    "supervise": SuperviseIn,
    "reroute": RouteIn,
    "link_petition": PetitionLinkIn,
}


# --- 12345 import ----------------------------------------------------------------------------


class ImportIssueOut(Schema):
    line: int = Field(..., description="line of the file (the header is line 1)")
    column: str
    message: str


class ImportOut(Schema):
    """What a 12345 file holds and what was done: ``loaded`` is false for a dry run or when any row
    is bad (then nothing is loaded)."""

    rows: int
    new: int
    already_imported: int
    errors: list[ImportIssueOut]
    loaded: bool
    created: list[str] = Field(..., description="numbers of the cases created")
