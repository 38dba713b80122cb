from .audit import AccessLog, AppendOnlyError, Event
from .calendar import CalendarDay, CalendarDayKind, CalendarSource, CalendarVersion, CalendarYear, Unit
from .deadlines import Deadline, DeadlinePause, DeadlineState
from .idempotency import IdempotencyKey
from .metrics import MetricFillState
from .notifications import DeliveryState, Notification, NotificationChannel
from .supervision import SUPERVISION_ORDER, Supervision, SupervisionLevel
from .ticks import PeriodicJobRun

__all__ = [
    "SUPERVISION_ORDER",
    "AccessLog",
    "AppendOnlyError",
    "CalendarDay",
    "CalendarDayKind",
    "CalendarSource",
    "CalendarVersion",
    "CalendarYear",
    "Deadline",
    "DeadlinePause",
    "DeadlineState",
    "DeliveryState",
    "Event",
    "IdempotencyKey",
    "MetricFillState",
    "Notification",
    "NotificationChannel",
    "PeriodicJobRun",
    "Supervision",
    "SupervisionLevel",
    "Unit",
]
