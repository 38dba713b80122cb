"""Stored and sent texts in the site's language."""

from __future__ import annotations

from typing import Any

from django.utils import translation
from django.utils.translation import gettext, gettext_lazy, gettext_noop

from shequ.core.models import SupervisionLevel
from shequ.core.texts import site_text


def test_site_text_is_in_the_site_language_whatever_the_reader_has_chosen(settings: Any) -> None:
    settings.LANGUAGE_CODE = "zh-hans"
    with translation.override("en"):
        assert gettext("案件 %(n)s 已立案") == "Case %(n)s registered"  # the message is translated
        assert site_text(gettext_noop("案件 %(n)s 已立案"), n="SQ1") == "案件 SQ1 已立案"
        # The caller's language is left as it was.
        assert translation.get_language() == "en"


def test_site_text_renders_lazy_parameters_in_the_site_language(settings: Any) -> None:
    settings.LANGUAGE_CODE = "zh-hans"
    with translation.override("en"):
        title = site_text(
            gettext_noop("案件 %(n)s 被%(level)s"), n="SQ1", level=SupervisionLevel.YELLOW.label
        )
        assert title == "案件 SQ1 被黄牌督办"
        assert site_text(gettext_lazy("已立案")) == "已立案"


def test_site_text_follows_the_configured_site_language(settings: Any) -> None:
    settings.LANGUAGE_CODE = "en"
    with translation.override("zh-hans"):
        assert site_text(gettext_noop("案件 %(n)s 已立案"), n="SQ1") == "Case SQ1 registered"
        assert site_text(gettext_noop("已立案")) == "Registered"


def test_a_message_without_parameters_keeps_its_percent_signs(settings: Any) -> None:
    settings.LANGUAGE_CODE = "zh-hans"
    assert site_text("100%") == "100%"
