"""Template helpers of the web shell: the role-aware main navigation."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django import template
from django.urls import NoReverseMatch, reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from shequ.accounts.models import Role
from shequ.accounts.security import is_staff_user
from shequ.accounts.visibility import scope_of
from shequ.core.navigation import nav_entries_for
from shequ.core.texts import labelled, with_detail

register = template.Library()


@register.filter(name="labelled")
def labelled_filter(label: Any, value: Any) -> str:
    """``{{ label|labelled:value }}``: "label：value" in the active language (``core.texts``)."""
    return labelled(label, value)


@register.filter(name="with_detail")
def with_detail_filter(text: Any, detail: Any) -> str:
    """``{{ text|with_detail:detail }}``: "text（detail）" in the active language, or the text alone
    when there is no detail."""
    return with_detail(text, detail)


@dataclass(frozen=True)
class NavItem:
    label: str
    url: str
    active: bool


def url_or_empty(name: str) -> str:
    """The URL of a named page, or "" while that page does not exist (links are then left out)."""
    try:
        return reverse(name)
    except NoReverseMatch:
        return ""


@register.simple_tag(takes_context=True)
def nav_items(context: dict[str, Any]) -> list[NavItem]:
    """The main navigation for the signed-in user: what their memberships let them reach."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if request is None or user is None or not user.is_authenticated:
        return []
    scope = scope_of(user)
    home = reverse("core:home")
    entries: list[tuple[str | Promise, str]] = [(_("首页"), home)]
    if not scope.is_empty or scope.home_paths:
        entries.append((_("辖区"), url_or_empty("places:browse")))
    entries.extend((entry.label, url_or_empty(entry.url_name)) for entry in nav_entries_for(user))
    if is_staff_user(user):
        entries.append((_("组织"), url_or_empty("accounts:organisation_list")))
    if Role.CITY_ADMIN in scope.roles:
        entries.append((_("工作日历"), url_or_empty("core:calendar")))
    if user.is_staff:
        entries.append((_("管理后台"), url_or_empty("admin:index")))
    path = request.path
    return [
        NavItem(label=str(label), url=url, active=(path == url if url == home else path.startswith(url)))
        for label, url in entries
        if url
    ]
