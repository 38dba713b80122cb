from .audit import AccessLog, AppendOnlyError, Event
from .calendar import CalendarDay, CalendarDayKind, CalendarSource, CalendarYear, Unit
from .deadlines import Deadline, DeadlinePause, DeadlineState
from .idempotency import IdempotencyKey
from .metrics import MetricFillState
from .notifications import DeliveryState, Notification, NotificationChannel
from .revisions import Revision
from .supervision import SUPERVISION_ORDER, Supervision, SupervisionLevel
from .ticks import PeriodicJobRun

__all__ = [
    "SUPERVISION_ORDER",
    "AccessLog",
    "AppendOnlyError",
    "CalendarDay",
    "CalendarDayKind",
    "CalendarSource",
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
    "Revision",
    "Supervision",
    "SupervisionLevel",
    "Unit",
]
