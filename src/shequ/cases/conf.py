"""Configurable defaults of the case loop ([practice] in DOMAIN.md §5), read from Django settings.

Each can be overridden in settings (or the environment through config/settings) under the same name.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.conf import settings

from shequ.core.models import SupervisionLevel, Unit

# Stage timers: (amount, unit). The handling timer comes from the category (派单目录).
DEFAULT_STAGE_DEADLINES: dict[str, tuple[Decimal, str]] = {
    "registration": (Decimal(2), Unit.WORK_HOURS),  # reported → registered (立案)
    "dispatch": (Decimal(1), Unit.WORK_HOURS),  # registered → dispatched
    "sign_for": (Decimal(2), Unit.WORK_HOURS),  # dispatched → signed (签收)
    "return_window": (Decimal(1), Unit.WORK_DAYS),  # a unit may dispute (退单) within 1 工作日
    "check": (Decimal(1), Unit.WORK_DAYS),  # handled → checked (核查)
    "confirmation": (Decimal(3), Unit.WORK_DAYS),  # resident confirming (回访), then "no response"
    "review": (Decimal(1), Unit.WORK_DAYS),  # the centre reviews a "not solved" answer: redo or close
}

# Escalation of an overdue handling timer (督办): after the given working days overdue, raise the
# case to the level and bring it to the attention of the street or the district. Point deductions
# follow practice (yellow 5, red 10).
DEFAULT_ESCALATION: list[dict[str, Any]] = [
    {"after_work_days": 0, "level": SupervisionLevel.ORDINARY, "escalate_to": "street", "points": 0},
    {"after_work_days": 2, "level": SupervisionLevel.YELLOW, "escalate_to": "district", "points": 5},
    {"after_work_days": 5, "level": SupervisionLevel.RED, "escalate_to": "district", "points": 10},
]


def stage_deadline(stage: str) -> tuple[Decimal, str]:
    table = getattr(settings, "SHEQU_CASE_DEADLINES", {}) or {}
    amount, unit = table.get(stage, DEFAULT_STAGE_DEADLINES[stage])
    return Decimal(str(amount)), str(unit)


def escalation_steps(stage: str = "handling") -> list[dict[str, Any]]:
    """The supervision steps of an overdue ``stage`` timer. ``SHEQU_CASE_ESCALATION`` is either one
    list of steps for every supervised stage, or a dictionary of lists by stage (a stage it leaves out
    takes the default steps; an empty list supervises nothing for that stage)."""
    configured = getattr(settings, "SHEQU_CASE_ESCALATION", DEFAULT_ESCALATION)
    if isinstance(configured, dict):
        return list(configured.get(stage, DEFAULT_ESCALATION))
    return list(configured)


def max_extensions() -> int:
    return int(getattr(settings, "SHEQU_CASE_MAX_EXTENSIONS", 2))


def reopen_days() -> int:
    """Closed cases may be reopened within this many calendar days (default 7)."""
    return int(getattr(settings, "SHEQU_CASE_REOPEN_DAYS", 7))
