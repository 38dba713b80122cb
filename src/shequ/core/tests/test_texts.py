"""Stored and sent texts in the site's language; the joiners of a page in the reader's."""

from __future__ import annotations

from typing import Any

from django.utils import translation
from django.utils.translation import gettext, gettext_lazy, gettext_noop

from shequ.core.models import SupervisionLevel
from shequ.core.texts import labelled, listed, site_text, with_detail


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


def test_joiners_follow_the_readers_language() -> None:
    with translation.override("zh-hans"):
        assert labelled("处置情况", "已清理") == "处置情况：已清理"
        assert with_detail("黄浦城管中队", "部门派出机构") == "黄浦城管中队（部门派出机构）"
        assert listed(["SQ1", "SQ2", "SQ3"]) == "SQ1、SQ2、SQ3"
    with translation.override("en"):
        assert labelled("Result", "Cleared") == "Result: Cleared"
        assert with_detail("Branch", "department branch") == "Branch (department branch)"
        assert listed(["SQ1", "SQ2", "SQ3"]) == "SQ1, SQ2, SQ3"
        assert listed([]) == ""


def test_templates_join_with_the_same_helpers_and_escape_what_they_join() -> None:
    from django.template import engines

    page = engines["django"].from_string(
        "{% load shequ_ui %}{{ label|labelled:value }}|"
        "{{ unit|with_detail:sector }}|{{ unit|with_detail:'' }}"
    )
    context = {"label": "错误", "value": "<b>必填</b>", "unit": "街道", "sector": "城管"}
    with translation.override("zh-hans"):
        assert page.render(context) == "错误：&lt;b&gt;必填&lt;/b&gt;|街道（城管）|街道"
    with translation.override("en"):
        assert page.render(context) == "错误: &lt;b&gt;必填&lt;/b&gt;|街道 (城管)|街道"
