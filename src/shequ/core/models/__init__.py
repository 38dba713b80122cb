from .audit import AccessLog, AppendOnlyError, Event
from .calendar import CalendarDay, CalendarDayKind, CalendarSource, CalendarVersion, CalendarYear, Unit
from .deadlines import Deadline, DeadlinePause, DeadlineState
from .ticks import PeriodicJobRun

__all__ = [
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
    "Event",
    "PeriodicJobRun",
    "Unit",
]
