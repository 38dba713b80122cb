"""Texts in the right language.

Two kinds of text leave a service:

- what is **stored or sent to other people** — change-feed rows, notification titles and bodies, reasons
  kept on timers and supervisions, lines added to an imported description. These are read later by
  someone else, in a language the acting user's browser does not decide: they are written in the
  site's language (``settings.LANGUAGE_CODE``) with ``site_text``. Mark the literal message with
  ``gettext_noop`` where it is written, so ``makemessages`` still finds it::

      feed(case, description=site_text(gettext_noop("重办：%(r)s"), r=reason))

- what answers the acting user — error messages, form errors, pages. These stay in the user's active
  language (``gettext``), and so do the small joiners of a page (``labelled``, ``with_detail``,
  ``listed``): a page in English shows English punctuation between its translated parts. Templates
  use the same joiners through the ``labelled`` and ``with_detail`` filters of ``shequ_ui``
  (``{{ label|labelled:value }}``, ``{{ text|with_detail:detail }}``) and
  ``{% translate "、" context "list separator" %}``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import gettext, pgettext


def site_language() -> Any:
    """A block in the site's language (``settings.LANGUAGE_CODE``), whatever the caller's: for texts
    built by other code that are stored or sent (a route note, labels kept in a table)."""
    return translation.override(settings.LANGUAGE_CODE)


def site_text(message: str | Promise, /, **params: Any) -> str:
    """``message`` translated into the site's language and filled with ``params`` (``%(name)s``).

    Lazy values among ``params`` (choice labels, other translated texts) are rendered in the site's
    language too; the caller's active language is left as it was."""
    with site_language():
        text = gettext(str(message))
        if params:
            text %= {name: str(v) if isinstance(v, Promise) else v for name, v in params.items()}
    return text


def labelled(label: Any, value: Any) -> str:
    """The value after its label ("处置结果：已解决"), in the active language."""
    return gettext("%(label)s：%(value)s") % {"label": label, "value": value}


def with_detail(text: Any, detail: Any) -> str:
    """The text with a detail in brackets after it ("黄浦城管中队（部门派出机构）"), in the active
    language; the text alone when there is no detail."""
    if not detail:
        return str(text)
    return gettext("%(text)s（%(detail)s）") % {"text": text, "detail": detail}


def listed(items: Iterable[Any]) -> str:
    """Items of an enumeration joined with the active language's separator ("、" in Chinese)."""
    return pgettext("list separator", "、").join(str(item) for item in items)
