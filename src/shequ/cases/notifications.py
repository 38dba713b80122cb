"""Who the case loop tells what (issue 4 item 7), through the kernel's outbox (``core.notifications``).

Followers (reporter, residents who follow the case, reporters of merged duplicates) get status changes;
when the case reaches the resident's confirmation they get the "solved? satisfied?" question with a
link that works without signing in (the subscription's token). The responsible unit's staff are told
when a case is dispatched to them; supervisors when a case is escalated to them, and the street's
dispatch centre when its review of a "not solved" answer is nearly due.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.urls import reverse

from shequ.accounts.models import Membership, Role

from .models import Case, CaseSubscription


def _notify(**kwargs: Any) -> None:
    from shequ.core.notifications import notify

    notify(**kwargs)


def feedback_link(token: str) -> str:
    return reverse("cases:feedback", kwargs={"token": token})


def case_link(case: Case) -> str:
    return reverse("cases:detail", kwargs={"number": case.number})


def case_followers_notify(
    *,
    case: Case,
    kind: str,
    title: str,
    body: str = "",
    ask_feedback: bool = False,
    subscriptions: Iterable[CaseSubscription] | None = None,
) -> int:
    """Tell every follower: users in the inbox (and by email when they have one), contacts without an
    account by SMS or email. Delivery adds the absolute link to email and SMS texts."""
    from shequ.core.notifications import notify_user

    sent = 0
    rows = case.subscriptions.select_related("user") if subscriptions is None else subscriptions
    for sub in rows:
        link = feedback_link(sub.token) if ask_feedback else case_link(case)
        if sub.user_id is not None:
            notify_user(user=sub.user, kind=kind, title=title, body=body, link=link, subject=case)
            sent += 1
            continue
        if sub.phone:
            _notify(
                channel="sms", address=sub.phone, kind=kind, title=title, body=body, link=link, subject=case
            )
            sent += 1
        if sub.email:
            _notify(
                channel="email", address=sub.email, kind=kind, title=title, body=body, link=link, subject=case
            )
            sent += 1
    return sent


def staff_of_handler(case: Case) -> list[Any]:
    """Active staff of the responsible unit (the organisation, or the division's staff)."""
    rows = Membership.objects.filter(is_active=True).select_related("user")
    if case.handler_org_id is not None:
        rows = rows.filter(organisation_id=case.handler_org_id)
    elif case.handler_division_id is not None:
        rows = rows.filter(division_id=case.handler_division_id).exclude(
            role__in=[Role.RESIDENT, Role.VOLUNTEER]
        )
    else:
        return []
    return list({m.user_id: m.user for m in rows}.values())


def handler_notify(*, case: Case, kind: str, title: str, body: str = "") -> None:
    for user in staff_of_handler(case):
        _notify(
            channel="in_app",
            recipient=user,
            kind=kind,
            title=title,
            body=body,
            link=case_link(case),
            subject=case,
        )


def supervisors_notify(*, case: Case, division_code: str, kind: str, title: str, body: str = "") -> None:
    """Tell the dispatchers and officers of a street or district: the one the case is escalated to, or
    the street's centre whose review of a "not solved" answer is nearly due."""
    roles = [Role.STREET_DISPATCHER, Role.STREET_OFFICER, Role.DISTRICT_OFFICER]
    users = {
        m.user_id: m.user
        for m in Membership.objects.filter(
            is_active=True, role__in=roles, division__code=division_code
        ).select_related("user")
    }
    for user in users.values():
        _notify(
            channel="in_app",
            recipient=user,
            kind=kind,
            title=title,
            body=body,
            link=case_link(case),
            subject=case,
        )
