"""Template filters that mask personal data for display: ``{{ person.mobile|mask_mobile }}``."""

from __future__ import annotations

from django import template

from shequ.core import masking

register = template.Library()

register.filter("mask_id_number", masking.mask_id_number)
register.filter("mask_mobile", masking.mask_mobile)
register.filter("mask_name", masking.mask_name)
register.filter("mask_document", masking.mask_document)
