"""The in-app inbox (消息): every signed-in user's notifications, newest first, unread in bold.

Marking read is a POST; htmx requests get the changed fragment and the nav badge swapped out of band,
other requests a redirect back. Only the recipient reaches an entry (anyone else gets 404).

The unread badge in the navigation is loaded by htmx after the page (``inbox_badge``), so no page pays a
query for it; the actions here swap it out of band.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from .notifications import (
    UNREAD_BADGE_CAP,
    access_notification_by_id,
    inbox_notifications,
    inbox_unread_count,
    notification_read,
    notifications_read_all,
)

PAGE_SIZE = 30


def _is_htmx(request: HttpRequest) -> bool:
    return bool(getattr(request, "htmx", False))


def _list_context(request: HttpRequest) -> dict[str, object]:
    page = Paginator(inbox_notifications(user=request.user), PAGE_SIZE).get_page(request.GET.get("page"))
    return {
        "page": page,
        "unread": inbox_unread_count(user=request.user, cap=UNREAD_BADGE_CAP),
        "badge_cap": UNREAD_BADGE_CAP,
    }


@login_required
@require_GET
def inbox(request: HttpRequest) -> HttpResponse:
    template = "core/inbox/_list.html" if _is_htmx(request) else "core/inbox/list.html"
    return render(request, template, _list_context(request))


@require_GET
def inbox_badge(request: HttpRequest) -> HttpResponse:
    """The unread count for the navigation badge (loaded by htmx after each page). Signed out, the
    answer is empty (204: htmx swaps nothing) rather than a redirect to the sign-in page."""
    if not request.user.is_authenticated:
        return HttpResponse(status=204)
    context = {
        "unread": inbox_unread_count(user=request.user, cap=UNREAD_BADGE_CAP),
        "badge_cap": UNREAD_BADGE_CAP,
    }
    return render(request, "core/inbox/_badge.html", context)


@login_required
@require_POST
def inbox_read(request: HttpRequest, notification_id: int) -> HttpResponse:
    entry = access_notification_by_id(user=request.user, notification_id=notification_id)
    notification_read(notification=entry, actor=request.user)
    if _is_htmx(request):
        context = {
            "entry": entry,
            "unread": inbox_unread_count(user=request.user, cap=UNREAD_BADGE_CAP),
            "badge_cap": UNREAD_BADGE_CAP,
            "badge_oob": True,
        }
        return render(request, "core/inbox/_entry.html", context)
    return redirect("core:inbox")


@login_required
@require_POST
def inbox_open(request: HttpRequest, notification_id: int) -> HttpResponse:
    """Mark the entry read and go to what it is about (only links within this site)."""
    entry = access_notification_by_id(user=request.user, notification_id=notification_id)
    notification_read(notification=entry, actor=request.user)
    if entry.link and url_has_allowed_host_and_scheme(
        entry.link, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(entry.link)
    return redirect("core:inbox")


@login_required
@require_POST
def inbox_read_all(request: HttpRequest) -> HttpResponse:
    notifications_read_all(user=request.user)
    if _is_htmx(request):
        return render(request, "core/inbox/_list.html", {**_list_context(request), "badge_oob": True})
    return redirect("core:inbox")
