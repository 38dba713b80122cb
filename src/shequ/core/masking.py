"""Display masks for personal data (DOMAIN.md §4, per GB/T 35273 de-identification on display).

Masked is the default everywhere; unmasking goes only through ``shequ.core.privacy.reveal``.
"""

from __future__ import annotations

from collections.abc import Callable

# Two-character surnames that must stay whole when only the surname is shown.
_COMPOUND_SURNAMES = frozenset(
    [
        "欧阳",
        "司马",
        "诸葛",
        "上官",
        "东方",
        "皇甫",
        "尉迟",
        "公孙",
        "慕容",
        "长孙",
        "宇文",
        "司徒",
        "夏侯",
        "轩辕",
        "令狐",
        "端木",
        "澹台",
        "申屠",
        "西门",
        "南宫",
        "呼延",
        "独孤",
        "万俟",
        "闻人",
        "太史",
        "仲孙",
        "钟离",
        "濮阳",
        "公冶",
        "赫连",
    ]
)


def mask_id_number(value: str) -> str:
    """``310101199001011234`` → ``310***********1234`` (first 3 and last 4 kept)."""
    value = (value or "").strip()
    if len(value) <= 7:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]


def mask_mobile(value: str) -> str:
    """``13800138000`` → ``138****8000``."""
    value = (value or "").strip()
    if len(value) < 8:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]


def surname(value: str) -> str:
    value = (value or "").strip()
    if value[:2] in _COMPOUND_SURNAMES:
        return value[:2]
    return value[:1]


def mask_name(value: str) -> str:
    """Surname only: ``张三丰`` → ``张**``; ``欧阳修`` → ``欧阳*``."""
    value = (value or "").strip()
    family = surname(value)
    return family + "*" * max(len(value) - len(family), 1) if value else ""


def mask_document(value: str) -> str:
    """Other documents (passports, permits): first 2 and last 2 characters kept."""
    value = (value or "").strip()
    if len(value) <= 4:
        return "*" * len(value)
    return value[:2] + "*" * (len(value) - 4) + value[-2:]


def mask_email(value: str) -> str:
    """``zhangsan@example.com`` → ``z***@example.com`` (the domain stays: it says which mail service)."""
    value = (value or "").strip()
    local, at, domain = value.rpartition("@")
    if not at:
        return mask_text(value)
    return f"{local[:1]}***@{domain}"


def mask_text(value: str) -> str:
    """Free text such as an address: the first few characters only."""
    value = (value or "").strip()
    return value[:6] + "…" if len(value) > 6 else value


MASKS: dict[str, Callable[[str], str]] = {
    "id_number": mask_id_number,
    "mobile": mask_mobile,
    "name": mask_name,
    "document": mask_document,
    "text": mask_text,
    "email": mask_email,
}


def mask(kind: str, value: str | None) -> str:
    if value is None:
        return ""
    return MASKS[kind](str(value))
