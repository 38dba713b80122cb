"""Demo cases: a few dozen cases in the demo street, walked through the real services into every
stage of the loop, so that the dispatch board, the queues, the resident's pages and the dashboards have
something to show. Runs after ``shequ seed`` and ``shequ demo_accounts``; idempotent (the cases carry
source references ``demo-<n>``)."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext_noop

from shequ.accounts.demo import DEMO_PREFIX, STREET_CODE
from shequ.accounts.models import Role, User
from shequ.core.texts import site_text
from shequ.places.models import Compound, Division

from . import services_transitions as t
from .models import Case, Category, Channel, Feedback, ResponsibleKind
from .services_intake import case_report

# What the demo stores on cases is written in the site language, like any stored text.
HANDLED_ON_SITE = gettext_noop("已到场处置")
STILL_LEFT = gettext_noop("现场仍有残留")
CLEARED = gettext_noop("已清理完毕")

DEMO_REF_PREFIX = "demo-"

# What residents write, around the category's own name (so that text and category agree).
_PROBLEMS = [
    "小区门口{name}，已经好几天了，希望尽快处理",
    "{name}问题，影响居民出行",
    "楼下{name}，晚上尤其明显",
    "路口附近{name}，多次反映未解决",
]


@dataclass
class DemoCasesReport:
    created: int
    existing: int


def _user(role: str) -> User | None:
    return User.objects.filter(username=f"{DEMO_PREFIX}{role}").first()


def _categories() -> list[Category]:
    wanted = {"城管", "绿化市容", "房管"}
    rows = Category.objects.filter(is_active=True, is_public=True, emergency_service="").order_by("code")
    picked = [
        c for c in rows if c.responsible_sector in wanted or c.responsible_kind == ResponsibleKind.COMMITTEE
    ]
    return picked[:12]


def _walk(case: Case, stage: int, actors: dict[str, User], rng: random.Random) -> Case:
    """Move a new case ``stage`` steps along the loop (0: just reported … 7: closed after a rework)."""
    dispatcher, handler, resident = actors["dispatcher"], actors["handler"], actors["resident"]
    worker, officer = actors["worker"], actors["officer"]
    steps: list[Callable[[Case], Case]] = []
    own = case.category.responsible_kind == ResponsibleKind.COMMITTEE
    steps.append(lambda c: t.case_register(case=c, actor=dispatcher))
    if own:
        steps.append(lambda c: t.case_self_handle(case=c, actor=worker))
        doer = worker
    else:
        steps.append(lambda c: t.case_dispatch(case=c, actor=dispatcher))
        steps.append(lambda c: t.case_accept(case=c, actor=_doer(c, handler, officer)))
        doer = handler
    if stage >= 6 and case.category.check_required:
        steps.append(
            lambda c: t.case_handle(case=c, actor=_doer(c, doer, officer), result=site_text(HANDLED_ON_SITE))
        )
        steps.append(lambda c: t.case_check_start(case=c, actor=dispatcher))
        steps.append(lambda c: t.case_check_fail(case=c, actor=dispatcher, reason=site_text(STILL_LEFT)))
    steps.append(lambda c: t.case_handle(case=c, actor=_doer(c, doer, officer), result=site_text(CLEARED)))
    if case.category.check_required:
        steps.append(lambda c: t.case_check_start(case=c, actor=dispatcher))
        steps.append(lambda c: t.case_check_pass(case=c, actor=dispatcher))
    steps.append(
        lambda c: t.case_confirm(
            case=c, actor=resident, solved=True, feedback=rng.choice([Feedback.SATISFIED, Feedback.BASICALLY])
        )
    )
    count = {0: 0, 1: 1, 2: 2, 3: 3, 4: 4, 5: len(steps) - 1, 6: len(steps), 7: len(steps)}[min(stage, 7)]
    for step in steps[:count]:
        case = step(case)
    return case


def _doer(case: Case, handler: User, fallback: User) -> User:
    """The demo handler when the case went to their unit; otherwise the street's own officer."""
    from .machine import TRANSITIONS
    from .permissions import may_act

    if may_act(handler, case, TRANSITIONS["handle"]):
        return handler
    return fallback


def demo_cases_ensure(*, count: int = 40, seed: int = 20261129) -> DemoCasesReport:
    existing = Case.objects.filter(source_ref__startswith=DEMO_REF_PREFIX).count()
    if existing:
        return DemoCasesReport(created=0, existing=existing)
    actors: dict[str, Any] = {
        "dispatcher": _user(Role.STREET_DISPATCHER),
        "handler": _user(Role.DEPARTMENT_HANDLER),
        "resident": _user(Role.RESIDENT),
        "worker": _user(Role.COMMITTEE_WORKER),
        "officer": _user(Role.STREET_OFFICER),
    }
    street = Division.objects.filter(code=STREET_CODE).first()
    categories = _categories()
    if street is None or not categories or any(v is None for v in actors.values()):
        return DemoCasesReport(created=0, existing=0)
    compounds = list(Compound.objects.filter(path__startswith=street.path).order_by("code")[:20])
    if not compounds:
        return DemoCasesReport(created=0, existing=0)
    rng = random.Random(seed)  # noqa: S311 - demo data, not security
    created = 0
    for n in range(count):
        category = categories[n % len(categories)]
        case = case_report(
            actor=actors["resident"],
            channel=Channel.RESIDENT_WEB,
            category=category,
            description=rng.choice(_PROBLEMS).format(name=category.name),
            place=rng.choice(compounds),
            contact_phone="13800138000",
            source_ref=f"{DEMO_REF_PREFIX}{n}",
        )
        _walk(case, n % 8, actors, rng)
        created += 1
    return DemoCasesReport(created=created, existing=0)
