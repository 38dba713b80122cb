"""When each periodic job last ran, so that ``shequ tick`` runs each job at most once per period even
when several schedulers call it."""

from __future__ import annotations

from django.db import models


class PeriodicJobRun(models.Model):
    name = models.CharField(max_length=100, unique=True)
    last_started_at = models.DateTimeField(null=True, blank=True)
    last_finished_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True, default="")

    def __str__(self) -> str:
        return f"{self.name} @ {self.last_started_at}"
