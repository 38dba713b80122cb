"""Main-navigation entries contributed by domain apps (``core`` imports no domain app: each app
registers its entries in ``AppConfig.ready()``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.utils.functional import Promise


@dataclass(frozen=True)
class NavEntry:
    order: int
    label: str | Promise
    url_name: str
    shown_to: Callable[[Any], bool]


_ENTRIES: dict[str, NavEntry] = {}


def nav_entry_register(
    *, order: int, label: str | Promise, url_name: str, shown_to: Callable[[Any], bool]
) -> None:
    _ENTRIES[url_name] = NavEntry(order=order, label=label, url_name=url_name, shown_to=shown_to)


def nav_entries_for(user: Any) -> list[NavEntry]:
    return [entry for entry in sorted(_ENTRIES.values(), key=lambda e: e.order) if entry.shown_to(user)]
