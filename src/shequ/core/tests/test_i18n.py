"""Translations: zh-Hans source strings, English catalogue compiled and committed, switchable."""

from __future__ import annotations

import ast
import gettext
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.utils import translation

from shequ.accounts.models import Role
from shequ.accounts.tests.factories import login, small_tree, user_for_role_in_tree

PACKAGE = Path(settings.PACKAGE_DIR)
PO = PACKAGE / "locale" / "en" / "LC_MESSAGES" / "django.po"
MO = PO.with_suffix(".mo")

_KEYWORD = re.compile(r"^(msgctxt|msgid_plural|msgid|msgstr(?:\[\d+\])?)\s+(\".*\")\s*$")
CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")


def _po_entries(path: Path) -> list[dict[str, str]]:
    """A small reader of the PO format: one dict per entry, keyed by keyword, plus its flags."""
    entries: list[dict[str, str]] = []
    current: dict[str, str] = {}
    key = ""
    flags = ""

    def flush() -> None:
        nonlocal current, flags
        if "msgid" in current:
            current["#flags"] = flags
            entries.append(current)
        current, flags = {}, ""

    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line:
            flush()
            continue
        if line.startswith("#~"):
            continue  # obsolete entries are not compiled
        if line.startswith("#,"):
            flags += line[2:]
            continue
        if line.startswith("#"):
            continue
        match = _KEYWORD.match(line)
        if match:
            starts_entry = match.group(1) in ("msgctxt", "msgid")
            if starts_entry and any(k.startswith("msgstr") for k in current):
                flush()
            key = match.group(1)
            current[key] = ast.literal_eval(match.group(2))
        elif line.startswith('"'):
            current[key] += ast.literal_eval(line)
    flush()
    return entries


def _messages() -> list[dict[str, str]]:
    return [e for e in _po_entries(PO) if e["msgid"]]


def test_catalogue_has_messages_and_none_is_left_untranslated_or_fuzzy():
    messages = _messages()

    assert len(messages) > 100
    untranslated = [
        e["msgid"] for e in messages if not all(v for k, v in e.items() if k.startswith("msgstr"))
    ]
    assert untranslated == []
    assert [e["msgid"] for e in messages if "fuzzy" in e["#flags"]] == []


def test_every_message_of_the_po_is_compiled_into_the_committed_mo():
    with MO.open("rb") as handle:
        catalog = gettext.GNUTranslations(handle)._catalog  # type: ignore[attr-defined]

    expected: dict[object, str] = {}
    for e in _messages():
        msgid = e["msgid"] if "msgctxt" not in e else f"{e['msgctxt']}\x04{e['msgid']}"
        if "msgid_plural" in e:
            for k, v in e.items():
                if k.startswith("msgstr["):
                    expected[(msgid, int(k[7:-1]))] = v
        else:
            expected[msgid] = e["msgstr"]
    compiled = {k: v for k, v in catalog.items() if k != ""}

    assert {k: compiled.get(k) for k in expected} == expected
    assert set(compiled) == set(expected), "the .mo holds messages the .po no longer has: recompile"


def test_placeholders_survive_translation():
    placeholder = re.compile(r"%\(\w+\)[-+ #0-9.]*[sdif]")
    for e in _messages():
        source = set(placeholder.findall(e["msgid"]))
        for key, value in e.items():
            if key.startswith("msgstr"):
                assert set(placeholder.findall(value)) == source, e["msgid"]


_TRANSLATED_TAGS = re.compile(
    r"{%\s*blocktranslate.*?%}.*?{%\s*endblocktranslate\s*%}|{%\s*translate\s+[\"'].*?[\"'].*?%}|{#.*?#}",
    re.DOTALL,
)
SHELL_TEMPLATES = ["base.html", "403.html", "404.html", "500.html", "core/home.html", "places"]


def _shell_templates() -> list[Path]:
    root = PACKAGE / "templates"
    found: list[Path] = []
    for name in SHELL_TEMPLATES:
        path = root / name
        found.extend(sorted(path.glob("*.html")) if path.is_dir() else [path])
    return found


@pytest.mark.parametrize("template", _shell_templates(), ids=lambda p: p.name)
def test_shell_templates_have_no_chinese_outside_translation_tags(template):
    text = _TRANSLATED_TAGS.sub("", template.read_text(encoding="utf-8"))

    assert CJK.findall(text) == []


def test_role_names_are_translated():
    with translation.override("en"):
        assert str(Role.COMMITTEE_WORKER.label) == "Committee worker"
        assert str(Role.CITY_ADMIN.label) == "City administrator"
    with translation.override("zh-hans"):
        assert str(Role.COMMITTEE_WORKER.label) == "居村工作人员"


@pytest.mark.django_db
def test_switching_language_renders_the_pages_in_english_and_back():
    tree = small_tree()
    client = Client()
    login(client, user_for_role_in_tree(Role.COMMITTEE_WORKER, tree))

    chinese = client.get("/").content.decode()
    switched = client.post("/i18n/setlang/", {"language": "en", "next": "/places/"})
    english_home = client.get("/").content.decode()
    english_place = client.get(f"/places/{tree.street(1, 1).code}/").content.decode()
    client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/"})
    back = client.get("/").content.decode()

    assert '<html lang="zh-hans">' in chinese
    assert "我的岗位" in chinese
    assert switched.status_code == 302
    assert switched["Location"] == "/places/"
    assert '<html lang="en">' in english_home
    assert "My posts" in english_home
    assert "Committee worker" in english_home
    assert 'aria-label="Main navigation"' in english_home
    assert "1 compound" in english_place
    assert "Below this level" in english_place
    assert "我的岗位" in back
