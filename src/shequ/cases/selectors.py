"""Reads of cases, always through the visibility module (a case outside scope is a 404)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db.models import Q, QuerySet
from django.http import Http404

from shequ.accounts.visibility import access_by_id, access_by_lookup, visible
from shequ.core.events import events_for_subject
from shequ.core.models import Event

from .models import OPEN_STATES, Case, CaseState
from .permissions import in_hands_of

LIST_RELATED = ("category", "district", "street", "committee", "compound", "handler_org", "handler_division")


def cases_base() -> QuerySet[Case]:
    return Case.objects.select_related(*LIST_RELATED)


def cases_visible(user: Any) -> QuerySet[Case]:
    return visible(cases_base(), user)


def access_case_by_id(user: Any, pk: Any) -> Case:
    return access_by_id(cases_base(), pk, user)


def access_case_by_number(user: Any, number: str) -> Case:
    return access_by_lookup(cases_base(), user, number=number)


def case_by_number_public(number: str) -> Case:
    """For the public Open311 reads: any case by its number (answers carry no personal data)."""
    try:
        return cases_base().get(number=number)
    except Case.DoesNotExist:
        raise Http404 from None


def case_timeline(case: Case) -> Iterable[Event]:
    """The case's event rows, oldest first. A case just reported carries the events its report
    wrote (``recorded_events``): they are not read back."""
    recorded = getattr(case, "recorded_events", None)
    if recorded is not None:
        return recorded
    return events_for_subject(case).select_related("actor")


def my_cases(user: Any) -> QuerySet[Case]:
    """The cases a resident reported or follows (newest first)."""
    if not getattr(user, "is_authenticated", False):
        return Case.objects.none()
    return (
        cases_base()
        .filter(Q(reporter=user) | Q(subscriptions__user=user))
        .distinct()
        .order_by("-reported_at")
    )


def dispatch_queue(user: Any) -> QuerySet[Case]:
    """The street dispatch board: cases waiting for the centre (to register, dispatch, decide a
    return, an extension, a "not solved" answer), by deadline."""
    waiting = [
        CaseState.REPORTED,
        CaseState.VERIFYING,
        CaseState.REGISTERED,
        CaseState.RETURN_REQUESTED,
        CaseState.EXTENSION_REQUESTED,
        CaseState.CONFIRMING,
    ]
    return cases_visible(user).filter(state__in=waiting).order_by("due_at", "reported_at", "pk")


def handler_queue(user: Any) -> QuerySet[Case]:
    """The responsible unit's queue: dispatched to sign for, in handling, suspended."""
    states = [
        CaseState.DISPATCHED,
        CaseState.HANDLING,
        CaseState.EXTENSION_REQUESTED,
        CaseState.RETURN_REQUESTED,
        CaseState.SUSPENDED,
    ]
    return cases_visible(user).filter(in_hands_of(user), state__in=states).order_by("due_at", "pk")


def checker_tasks(user: Any) -> QuerySet[Case]:
    return (
        cases_visible(user)
        .filter(state__in=[CaseState.HANDLED, CaseState.CHECKING])
        .order_by("handled_at", "pk")
    )


def open_cases(user: Any) -> QuerySet[Case]:
    return cases_visible(user).filter(state__in=list(OPEN_STATES))
