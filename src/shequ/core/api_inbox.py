"""The in-app inbox over the API: ``GET /inbox`` (paginated, newest first; ``unread=true`` for unread
only), ``POST /inbox/{id}/read``, ``POST /inbox/read-all``. Only the recipient reaches an entry (404
otherwise). The list costs the same few queries whatever the page size."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.paginator import Paginator
from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from .models import Notification
from .notifications import (
    access_notification_by_id,
    inbox_notifications,
    inbox_unread_count,
    notification_read,
    notifications_read_all,
)

router = Router(tags=["inbox"])

MAX_PAGE_SIZE = 100


class InboxEntryOut(Schema):
    id: int
    kind: str
    title: str
    body: str
    link: str
    subject_type: str
    subject_id: str
    created_at: datetime
    read_at: datetime | None
    unread: bool


class InboxPage(Schema):
    count: int
    unread: int
    page: int
    page_size: int
    items: list[InboxEntryOut]


class InboxQuery(Schema):
    page: int = Field(1, ge=1)
    page_size: int = Field(30, ge=1, le=MAX_PAGE_SIZE)
    unread: bool = False


class ReadAllOut(Schema):
    marked: int
    unread: int


def entry_out(entry: Notification) -> dict[str, Any]:
    return {
        "id": entry.pk,
        "kind": entry.kind,
        "title": entry.title,
        "body": entry.body,
        "link": entry.link,
        "subject_type": entry.subject_type,
        "subject_id": entry.subject_id,
        "created_at": entry.created_at,
        "read_at": entry.read_at,
        "unread": entry.read_at is None,
    }


@router.get("/inbox", response=InboxPage, summary="My messages, newest first")
def inbox_list(request: HttpRequest, query: Query[InboxQuery]) -> dict[str, Any]:
    rows = inbox_notifications(user=request.user, unread_only=query.unread)
    page = Paginator(rows, query.page_size).get_page(query.page)
    return {
        "count": page.paginator.count,
        "unread": inbox_unread_count(user=request.user),
        "page": page.number,
        "page_size": query.page_size,
        "items": [entry_out(entry) for entry in page.object_list],
    }


@router.post("/inbox/read-all", response=ReadAllOut, summary="Mark all my messages read")
def inbox_read_all(request: HttpRequest) -> dict[str, int]:
    marked = notifications_read_all(user=request.user)
    return {"marked": marked, "unread": inbox_unread_count(user=request.user)}


@router.post("/inbox/{notification_id}/read", response=InboxEntryOut, summary="Mark one message read")
def inbox_read(request: HttpRequest, notification_id: int) -> dict[str, Any]:
    entry = access_notification_by_id(user=request.user, notification_id=notification_id)
    return entry_out(notification_read(notification=entry, actor=request.user))
