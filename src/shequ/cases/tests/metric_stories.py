"""A small fixture of case histories written as event rows, with hand-computed metrics (shared by the
metric, dashboard and API tests).

The events are written straight through ``core.events.event_record`` in the shape the transition
services write (``data.state``, ``data.snap`` after the event, the transition's own keys), for nine
cases in June 2025 (times are Shanghai local).

In street (1, 1), committee (1, 1, 1) and category A unless said otherwise:
1. reported/registered 6-01 (due 6-05), dispatched to the branch, signed in time, handled 6-03 in time,
   check passed, resident: solved + satisfied, closed 6-04 on time.
2. reported/registered 6-02 (due 6-06), dispatched to the branch, signed LATE, handled 6-05, check
   failed (rework, new due 6-08), handled 6-07, resident: NOT solved + unsatisfied, redo (new due 6-10),
   handled 6-09, resident: solved + basically satisfied, closed 6-09 on time.
3. category B. reported/registered 6-03 (due 6-06), dispatched, signed in time, extension granted
   6-04 (due 6-06 → 6-12), handled 6-11 with outcome EXPLAINED, resident: "solved" + satisfied,
   closed 6-12 on time — explained never counts as solved.
4. committee (1, 1, 2). reported/registered 6-03 (due 6-07), dispatched to the branch, return requested,
   re-dispatched 6-04 to the street office (回退), signed in time there, handled 6-06, no answer in the
   window: closed 6-09 as no response, not on time.
5. committee (1, 1, 2). reported 6-04, merged into case 1.
6. street (1, 2), committee (1, 2, 1). reported/registered 6-02 (due 6-05), the committee handles it
   itself, handled 6-06 late, resident: solved + unsatisfied, closed 6-07 late.
7. reported/registered 6-05 (due 6-09), dispatched to the branch, not signed yet.
8. district 2, category B. reported 6-01, rejected.
9. category B. reported/registered 6-01 (due 6-04), dispatched, signed in time, handled 6-03, check
   passed, resident: solved + satisfied, closed 6-03; reopened 6-05 (new due 6-08).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from shequ.accounts.models import Organisation, OrganisationKind
from shequ.accounts.tests.factories import SmallTree, organisation_create, small_tree
from shequ.cases.models import Case, Category, CategoryKind
from shequ.core.events import event_record
from shequ.core.models import Event

SH = ZoneInfo("Asia/Shanghai")
JUNE = (date(2025, 6, 1), date(2025, 6, 30))


def at(day: int, hour: int = 10) -> datetime:
    return datetime(2025, 6, day, hour, tzinfo=SH)


@dataclass
class Story:
    """One case and the events written for it, each with the snapshot after the event."""

    case: Case
    district: str
    street: str
    committee: str | None
    category: str
    handler: str | None = None
    due: datetime | None = None
    state: str = ""
    events: list[Event] = field(default_factory=list)

    def event(self, type_: str, when: datetime, new_state: str | None = None, **data: Any) -> Story:
        old = self.state
        if new_state is not None:
            self.state = new_state
        snap = {
            "category": self.category,
            "district": self.district,
            "street": self.street,
            "committee": self.committee,
            "handler": self.handler,
            "due_at": self.due.isoformat() if self.due else None,
        }
        payload = {"state": {"old": old or None, "new": self.state}, "snap": snap, **data}
        self.events.append(
            event_record(
                subject=self.case,
                type=type_,
                actor=None,
                data=payload,
                scope_path=self.case.path,
                occurred_at=when,
            )
        )
        return self

    # The transitions used by the fixture, in the contract's shape.
    def reported(self, day: int) -> Story:
        return self.event("CASE_REPORTED", at(day), "reported", channel="resident_web")

    def registered(self, day: int, due: int) -> Story:
        self.due = at(due, 17)
        return self.event("CASE_REGISTERED", at(day, 11), "registered")

    def dispatched(self, day: int, unit: str, event: str = "CASE_DISPATCHED", **data: Any) -> Story:
        self.handler = unit
        return self.event(event, at(day, 12), "dispatched", **data)

    def accepted(self, day: int, *, on_time: bool) -> Story:
        return self.event(
            "CASE_ACCEPTED", at(day, 13), "handling", on_time=on_time, sign_due_at=at(day, 17).isoformat()
        )

    def handled(
        self, day: int, *, on_time: bool = True, outcome: str = "resolved", to: str = "handled"
    ) -> Story:
        return self.event("CASE_HANDLED", at(day, 14), to, outcome=outcome, on_time=on_time, rework=False)

    def check_passed(self, day: int) -> Story:
        self.event("CASE_CHECK_STARTED", at(day, 15), "checking")
        return self.event("CASE_CHECK_PASSED", at(day, 16), "confirming")

    def confirmed(self, day: int, *, solved: bool, feedback: str) -> Story:
        return self.event("CASE_CONFIRMED", at(day, 17), "confirming", solved=solved, feedback=feedback)

    def closed(
        self, day: int, *, on_time: bool, solved: bool | None, feedback: str, outcome: str = "resolved"
    ) -> Story:
        return self.event(
            "CASE_CLOSED",
            at(day, 18),
            "closed",
            outcome=outcome,
            on_time=on_time,
            resident_solved=solved,
            feedback=feedback,
        )


@dataclass
class World:
    tree: SmallTree
    branch: Organisation
    street_office: Organisation
    a: Category
    b: Category
    stories: dict[int, Story] = field(default_factory=dict)

    @property
    def branch_node(self) -> str:
        return f"org:{self.branch.pk}"

    @property
    def office_node(self) -> str:
        return f"org:{self.street_office.pk}"

    def story(
        self,
        n: int,
        *,
        street: tuple[int, int] = (1, 1),
        committee: int = 1,
        category: Category | None = None,
    ) -> Story:
        committee_node = self.tree.committee(*street, committee)
        street_node = self.tree.street(*street)
        category = category or self.a
        case = Case.objects.create(
            number=f"SQ20250601{n:06d}",
            channel="resident_web",
            category=category,
            description=f"测试案件 {n}",
            district=self.tree.district(street[0]),
            street=street_node,
            committee=committee_node,
            path=committee_node.path,
            street_code=street_node.code,
            reported_at=at(1),
            updated_at=at(1),
        )
        story = Story(
            case=case,
            district=self.tree.district(street[0]).code,
            street=street_node.code,
            committee=committee_node.code,
            category=category.code,
        )
        self.stories[n] = story
        return story


def category_create(minor: str) -> Category:
    return Category.objects.create(
        code=f"E99{minor}",
        kind=CategoryKind.EVENT,
        major_code="99",
        major_name="测试大类",
        minor_code=minor,
        name=f"测试{minor}",
    )


def write_first_half(w: World) -> None:
    """Events up to and including 6-04 (the incremental test fills here, then writes the rest)."""
    branch = w.branch_node
    s1 = w.story(1).reported(1).registered(1, due=5).dispatched(1, branch).accepted(1, on_time=True)
    s1.handled(3).check_passed(3).confirmed(4, solved=True, feedback="satisfied")
    s1.closed(4, on_time=True, solved=True, feedback="satisfied")
    s2 = w.story(2).reported(2).registered(2, due=6).dispatched(2, branch).accepted(3, on_time=False)
    s3 = (
        w.story(3, category=w.b)
        .reported(3)
        .registered(3, due=6)
        .dispatched(3, branch)
        .accepted(3, on_time=True)
    )
    s3.event("CASE_EXTENSION_REQUESTED", at(4, 9), "extension_requested", reason="需协调")
    old_due = s3.due
    s3.due = at(12, 17)
    s3.event(
        "CASE_EXTENSION_GRANTED",
        at(4, 10),
        "handling",
        due_at={"old": old_due.isoformat() if old_due else None, "new": s3.due.isoformat()},
    )
    s4 = w.story(4, committee=2).reported(3).registered(3, due=7).dispatched(3, branch)
    s4.event("CASE_RETURN_REQUESTED", at(3, 15), "return_requested", grounds="非本单位职责")
    s4.dispatched(4, w.office_node, event="CASE_REDISPATCHED", returned=True)
    s4.accepted(4, on_time=True)
    w.story(5, committee=2).reported(4).event("CASE_MERGED", at(4, 12), "merged", master="SQ20250601000001")
    s6 = w.story(6, street=(1, 2)).reported(2).registered(2, due=5)
    s6.handler = w.tree.committee(1, 2, 1).code
    s6.event("CASE_SELF_HANDLED", at(2, 12), "handling")
    s8 = w.story(8, street=(2, 1), category=w.b).reported(1)
    s8.event("CASE_REJECTED", at(1, 11), "rejected", route="诉讼")
    s9 = (
        w.story(9, category=w.b)
        .reported(1)
        .registered(1, due=4)
        .dispatched(1, branch)
        .accepted(1, on_time=True)
    )
    s9.handled(3).check_passed(3).confirmed(3, solved=True, feedback="satisfied")
    s9.closed(3, on_time=True, solved=True, feedback="satisfied")
    s2.handled(5).event("CASE_CHECK_STARTED", at(5, 15), "checking")


def write_second_half(w: World) -> None:
    s = w.stories
    s2 = s[2]
    s2.due = at(8, 17)  # the rework starts a fresh handling timer
    s2.event("CASE_REWORK_ORDERED", at(5, 16), "handling", reason="未清理干净")
    s2.handled(7).check_passed(7).confirmed(8, solved=False, feedback="unsatisfied")
    s2.due = at(10, 17)
    s2.event("CASE_REDO_ORDERED", at(8, 18), "handling", reason="居民反映未解决")
    s2.handled(9).check_passed(9).confirmed(9, solved=True, feedback="basically")
    s2.closed(9, on_time=True, solved=True, feedback="basically")
    s3 = s[3]
    s3.handled(11, outcome="explained").check_passed(11).confirmed(12, solved=True, feedback="satisfied")
    s3.closed(12, on_time=True, solved=True, feedback="satisfied", outcome="explained")
    s4 = s[4]
    s4.handled(6).check_passed(6)
    s4.event("CASE_CLOSED_NO_RESPONSE", at(9, 9), "confirming")
    s4.closed(9, on_time=False, solved=None, feedback="no_response")
    s6 = s[6]
    s6.handled(6, on_time=False, to="confirming").confirmed(7, solved=True, feedback="unsatisfied")
    s6.closed(7, on_time=False, solved=True, feedback="unsatisfied")
    w.story(7).reported(5).registered(5, due=9).dispatched(5, w.branch_node)
    s9 = s[9]
    s9.due = at(8, 17)
    s9.event("CASE_REOPENED", at(5, 10), "handling", reason="又堆起来了")


def world_create() -> World:
    tree = small_tree()
    return World(
        tree=tree,
        branch=organisation_create(
            kind=OrganisationKind.DEPARTMENT_BRANCH, division=tree.district(1), name="城管中队"
        ),
        street_office=organisation_create(
            kind=OrganisationKind.STREET_OFFICE, division=tree.street(1, 1), name="街道办"
        ),
        a=category_create("01"),
        b=category_create("02"),
    )


def world_full() -> World:
    world = world_create()
    write_first_half(world)
    write_second_half(world)
    return world


# The hand count for street (1, 1) over June: (numerator, denominator) of every indicator.
STREET_11 = {
    "closed_rate": (4, 6),  # due 1, 2, 3, 4, 7, 9; closed 1, 2, 3, 4 (9 reopened, 7 open)
    "closed_on_time_rate": (3, 6),  # 4 closed late (no response)
    "handled_rate": (4, 6),
    "handled_on_time_rate": (4, 6),
    "response_rate": (4, 6),  # first sign in time: 1, 3, 4 (at the street office), 9
    "signed_in_time_rate": (4, 7),  # 7 dispatches (4 twice); 2 late, 4's first returned, 7 unsigned
    "solved_rate": (2, 3),  # 1, 2 solved; 3 explained = not solved; 4 no response left out
    "satisfaction_rate": (3, 3),  # 1, 3 satisfied, 2 basically
    "rework_rate": (1, 7),  # 7 handlings (2 three times), one failed the check
    "extension_rate": (1, 6),
    "return_rate": (1, 7),
    "redo_rate": (1, 4),
    "repeat_rate": (1, 7),  # 5 merged of 7 reports
}
