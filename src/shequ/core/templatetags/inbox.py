"""``{% inbox_badge %}``: the place of the unread-messages badge in the main navigation. The count is
loaded by htmx after the page (``core:inbox_badge``), so no page pays a query for it; the inbox's own
actions replace it out of band (``id="inbox-unread"``)."""

from __future__ import annotations

from django import template
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString

register = template.Library()


@register.simple_tag
def inbox_badge() -> SafeString:
    return format_html(
        '<span id="inbox-unread" hx-get="{}" hx-trigger="load" hx-swap="outerHTML"></span>',
        reverse("core:inbox_badge"),
    )
