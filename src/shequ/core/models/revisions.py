"""Revision tokens of reference data (ARCHITECTURE.md "Revisions").

One row per kind of reference data that processes keep in memory (the locate index, the working
calendar, the case catalogue, the routing data, API tokens and seats …). Every change to such data
replaces the row's token in the changing transaction; a process compares the token it loaded its copy
under with the current one and reloads only after a change. All tokens are read in one query, once
per request.

A fresh random token rather than a counter: a counter bumped inside a transaction that is rolled back
could be bumped again to the same number by another change, and a process that had cached the
rolled-back data would then wrongly keep it.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Revision(models.Model):
    key = models.CharField(_("数据"), max_length=40, primary_key=True)
    token = models.CharField(_("版本"), max_length=32)
    changed_at = models.DateTimeField(_("更新时间"))

    class Meta:
        verbose_name = _("数据版本")
        verbose_name_plural = _("数据版本")

    def __str__(self) -> str:
        return f"{self.key}@{self.token}"
