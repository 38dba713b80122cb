"""Background tasks of the tag dictionary: the daily refresh of computed tags (a thin wrapper over
``services_tags.computed_tags_refresh``)."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.utils import timezone
from django_tasks import task

from .services_tags import computed_tags_refresh


@task()
def computed_tags_refresh_task(as_of: str | None = None) -> dict[str, Any]:
    """Refresh computed tags on ``as_of`` (ISO date; today, local time, when omitted)."""
    day = date.fromisoformat(as_of) if as_of else timezone.localdate()
    return computed_tags_refresh(as_of=day).as_dict()
