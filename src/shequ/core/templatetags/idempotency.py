"""``{% idempotency_field %}``: the hidden ``idempotency_key`` of an HTML form, fresh on each rendering,
so a resubmitted form (a double tap, a retry on a bad network) is acted on once."""

from __future__ import annotations

import uuid

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString

from shequ.core.idempotency import FORM_FIELD

register = template.Library()


@register.simple_tag
def idempotency_field() -> SafeString:
    return format_html('<input type="hidden" name="{}" value="{}">', FORM_FIELD, uuid.uuid4().hex)
