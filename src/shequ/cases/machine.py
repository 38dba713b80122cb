"""The case state machine as data (DOMAIN.md §5): which transitions exist, from which states, to
which state, and which roles may make them. The services in ``services_transitions`` check
``TRANSITIONS`` through ``shequ.cases.permissions``; the role × state matrix test reads this table.

Who may act also depends on scope: staff act on cases inside their area (visibility module); a
department's staff act only on cases whose responsible unit is their organisation; the reporter acts
on their own case (confirm, feedback, reopen).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from shequ.accounts.models import Role

from .models import CaseState as S


@dataclass(frozen=True)
class Transition:
    name: str
    sources: frozenset[str]
    # None: the target depends on the case (handling → handled when a check follows, else confirming;
    # either handle or check_pass → closed when nobody follows the case who could be asked).
    target: str | None
    roles: frozenset[str]
    # "area": staff whose area holds the case; "handler": members of the responsible unit;
    # "reporter": the reporter (or a subscriber holding the feedback token).
    scope: str
    event: str


DISPATCH = frozenset({Role.STREET_DISPATCHER, Role.STREET_OFFICER, Role.DISTRICT_OFFICER, Role.CITY_ADMIN})
COMMITTEE = frozenset({Role.COMMITTEE_WORKER, Role.COMMITTEE_HEAD, Role.GRID_WORKER})
HANDLERS = frozenset(
    {Role.DEPARTMENT_HANDLER, Role.DEPARTMENT_HEAD, Role.PROPERTY_MANAGER, Role.STREET_OFFICER} | COMMITTEE
)
HEADS = frozenset({Role.DEPARTMENT_HEAD, Role.STREET_OFFICER, Role.COMMITTEE_HEAD})
CHECKERS = frozenset({Role.STREET_DISPATCHER, Role.GRID_WORKER, Role.STREET_OFFICER})
RESIDENT = frozenset({Role.RESIDENT})

OPEN_BEFORE_DISPATCH = frozenset({S.REPORTED, S.VERIFYING, S.REGISTERED})
IN_HANDS = frozenset(
    {S.DISPATCHED, S.RETURN_REQUESTED, S.HANDLING, S.EXTENSION_REQUESTED, S.SUSPENDED, S.HANDLED, S.CHECKING}
)


def _t(  # noqa: PLR0917 - a table row, read positionally
    name: str, sources: Iterable[str], target: str | None, roles: frozenset[str], scope: str, event: str
) -> Transition:
    return Transition(name, frozenset(sources), target, roles, scope, event)


TRANSITIONS: dict[str, Transition] = {
    t.name: t
    for t in [
        _t("verify", {S.REPORTED}, S.VERIFYING, DISPATCH | COMMITTEE, "area", "CASE_VERIFICATION_STARTED"),
        _t(
            "register",
            {S.REPORTED, S.VERIFYING},
            S.REGISTERED,
            DISPATCH | COMMITTEE,
            "area",
            "CASE_REGISTERED",
        ),
        _t("reject", {S.REPORTED, S.VERIFYING}, S.REJECTED, DISPATCH | COMMITTEE, "area", "CASE_REJECTED"),
        _t("merge", {S.REPORTED, S.VERIFYING, S.REGISTERED}, S.MERGED, DISPATCH, "area", "CASE_MERGED"),
        _t("dispatch", {S.REGISTERED}, S.DISPATCHED, DISPATCH, "area", "CASE_DISPATCHED"),
        # Small matters the committee handles itself (小事快办): registered → handling at once.
        _t("self_handle", {S.REGISTERED}, S.HANDLING, COMMITTEE, "area", "CASE_SELF_HANDLED"),
        _t("accept", {S.DISPATCHED}, S.HANDLING, HANDLERS, "handler", "CASE_ACCEPTED"),
        _t(
            "return_request", {S.DISPATCHED}, S.RETURN_REQUESTED, HANDLERS, "handler", "CASE_RETURN_REQUESTED"
        ),
        # The centre agrees: the case goes to another unit (counts as 回退).
        _t("redispatch", {S.RETURN_REQUESTED}, S.DISPATCHED, DISPATCH, "area", "CASE_REDISPATCHED"),
        # The centre refuses the return: the unit must handle it and becomes first responsible (首办).
        _t("return_refuse", {S.RETURN_REQUESTED}, S.HANDLING, DISPATCH, "area", "CASE_RETURN_REFUSED"),
        _t(
            "extension_request",
            {S.HANDLING},
            S.EXTENSION_REQUESTED,
            HANDLERS,
            "handler",
            "CASE_EXTENSION_REQUESTED",
        ),
        _t(
            "extension_grant", {S.EXTENSION_REQUESTED}, S.HANDLING, DISPATCH, "area", "CASE_EXTENSION_GRANTED"
        ),
        _t(
            "extension_refuse",
            {S.EXTENSION_REQUESTED},
            S.HANDLING,
            DISPATCH,
            "area",
            "CASE_EXTENSION_REFUSED",
        ),
        _t("suspend", {S.HANDLING}, S.SUSPENDED, DISPATCH, "area", "CASE_SUSPENDED"),
        _t("resume", {S.SUSPENDED}, S.HANDLING, DISPATCH | HANDLERS, "area_or_handler", "CASE_RESUMED"),
        # → handled (an on-site check follows), confirming (the resident is asked), or closed at once
        # when nobody follows the case who could be asked (a patrol finding): no feedback, excluded
        # from 解决率 and 满意率; the event's ``closed`` says so.
        _t("handle", {S.HANDLING}, None, HANDLERS, "handler", "CASE_HANDLED"),
        _t("check_start", {S.HANDLED}, S.CHECKING, CHECKERS, "area", "CASE_CHECK_STARTED"),
        # → confirming, or closed at once when nobody can be asked (as for handle).
        _t("check_pass", {S.CHECKING}, None, CHECKERS, "area", "CASE_CHECK_PASSED"),
        _t("check_fail", {S.CHECKING}, S.HANDLING, CHECKERS, "area", "CASE_REWORK_ORDERED"),
        _t("confirm", {S.CONFIRMING}, None, RESIDENT | DISPATCH | COMMITTEE, "reporter", "CASE_CONFIRMED"),
        # The centre reviews a "not solved" answer (review timer, default 1 工作日) and sends the case
        # back (重办) or closes it.
        _t("redo", {S.CONFIRMING}, S.HANDLING, DISPATCH, "area", "CASE_REDO_ORDERED"),
        _t("close", {S.CONFIRMING}, S.CLOSED, DISPATCH, "area", "CASE_CLOSED"),
        _t("reopen", {S.CLOSED}, S.HANDLING, RESIDENT | DISPATCH, "reporter", "CASE_REOPENED"),
        _t(
            "supervise",
            OPEN_BEFORE_DISPATCH | IN_HANDS | {S.CONFIRMING},
            None,
            DISPATCH,
            "area",
            "CASE_SUPERVISED",
        ),
        _t("reroute", IN_HANDS - {S.HANDLED, S.CHECKING}, S.DISPATCHED, DISPATCH, "area", "CASE_REROUTED"),
        # A petition (信访) on the same matter is linked by its number: the case is flagged, so that one
        # matter is not handled twice (the state does not change).
        _t(
            "link_petition",
            OPEN_BEFORE_DISPATCH | IN_HANDS | {S.CONFIRMING},
            None,
            DISPATCH | frozenset({Role.PETITION_OFFICER}),
            "area",
            "CASE_PETITION_LINKED",
        ),
    ]
}

# Events written by the system (no transition row): intake, deadline reminders/overdue, feedback
# expiry, automatic escalation.
CASE_REPORTED = "CASE_REPORTED"
CASE_FOLLOWED = "CASE_FOLLOWED"
CASE_DEADLINE_REMINDED = "CASE_DEADLINE_REMINDED"
CASE_DEADLINE_OVERDUE = "CASE_DEADLINE_OVERDUE"
CASE_ESCALATED = "CASE_ESCALATED"
CASE_FEEDBACK_GIVEN = "CASE_FEEDBACK_GIVEN"
CASE_NO_RESPONSE = "CASE_CLOSED_NO_RESPONSE"
CASE_PETITION_LINKED = "CASE_PETITION_LINKED"
