"""Loading a 12345 hotline export (issue 4 item 1): every ticket becomes one registered case.

``hotline_import`` checks the whole file first (``importing.check_rows``); any bad row and nothing is
loaded (all or nothing), the bad rows listed with their line numbers. Then, in one transaction, each
new ticket goes through ``case_report`` with channel ``hotline_12345``, the ticket id as source
reference and the hotline's 受理时间 as the report time, and is registered (立案) by the importer.
Tickets imported before are skipped (the unique (channel, source_ref) constraint and ``case_report``'s
lookup make a second load of the same file a no-op, even when two loads race).

The caller is not the importer: the case has no reporter account, the caller's mobile follows it (the
status messages and the "solved? satisfied?" question go to them by SMS), and the importer's name is
on the registration event.

It runs synchronously — in the upload request, the API call or the command — which is fine up to a few
thousand tickets (``importing.MAX_ROWS`` = 5,000 per file, a few minutes at most); larger exports are
split.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from shequ.core.errors import ApiError

from . import importing, permissions
from .models import Case, CaseState, Channel
from .services_intake import case_report
from .services_transitions import case_register


@dataclass
class HotlineImport:
    """What a file held and what was done with it."""

    checked: importing.CheckedFile
    loaded: bool = False
    created: list[Case] = field(default_factory=list)

    @property
    def rows(self) -> int:
        return self.checked.rows

    @property
    def new(self) -> int:
        return len(self.checked.new)

    @property
    def already_imported(self) -> int:
        return len(self.checked.already_imported)

    @property
    def issues(self) -> list[importing.Issue]:
        return self.checked.issues


def hotline_import_areas(actor: Any) -> tuple[str, ...] | None:
    """The areas ``actor`` may import tickets for; refuses (403) someone with none."""
    areas = permissions.hotline_import_paths(actor)
    if areas is not None and not areas:
        raise ApiError(_("只有街镇调度员、街镇或区级干部可以导入 12345 工单。"), code="forbidden", status=403)
    return areas


def hotline_import_check(*, content: bytes, actor: Any) -> HotlineImport:
    """Read and check a file without loading anything (the preview)."""
    areas = hotline_import_areas(actor)
    rows = importing.read_rows(content)
    return HotlineImport(checked=importing.check_rows(rows, area_paths=areas))


def hotline_import(
    *,
    content: bytes,
    actor: Any,
    dry_run: bool = False,
    on_ticket: Callable[[int, int], None] | None = None,
) -> HotlineImport:
    """Check the file and, when every row is good (and not ``dry_run``), load its new tickets.
    ``on_ticket(done, total)`` is told after each ticket (the command's progress bar)."""
    result = hotline_import_check(content=content, actor=actor)
    if dry_run or not result.checked.ok or not result.checked.new:
        return result
    total = len(result.checked.new)
    with transaction.atomic():
        for done, ticket in enumerate(result.checked.new, start=1):
            case = _ticket_load(ticket, actor=actor)
            if case is not None:
                result.created.append(case)
            if on_ticket is not None:
                on_ticket(done, total)
    result.loaded = True
    return result


def _ticket_load(ticket: importing.Ticket, *, actor: Any) -> Case | None:
    """One ticket: reported as the hotline took it, then registered by the importer. ``None`` when a
    concurrent load of the same ticket made the case first."""
    existed = Case.objects.filter(channel=Channel.HOTLINE, source_ref=ticket.ticket).exists()
    case = case_report(
        actor=None,
        channel=Channel.HOTLINE,
        category=ticket.category,
        description=ticket.description,
        lon=ticket.lon,
        lat=ticket.lat,
        crs=ticket.crs,
        place=ticket.place,
        address=ticket.address,
        contact_name=ticket.contact_name,
        contact_phone=ticket.contact_phone,
        source_ref=ticket.ticket,
        occurred_at=ticket.received_at,
    )
    if existed:
        return None
    if case.state == CaseState.REPORTED:
        case = case_register(case=case, actor=actor)
    return case
