from .audit import AccessLog, AppendOnlyError, Event

__all__ = ["AccessLog", "AppendOnlyError", "Event"]
