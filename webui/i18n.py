"""French and English for the web pages: which language a request gets, and its messages.

The language comes, in this order, from a ``?lang=fr`` toggle in the address (remembered in
the ``cercle_lang`` cookie), that cookie, then the browser's ``Accept-Language``; English
when none of them names a language the node speaks. The messages are gettext catalogs:
``webui/translations/<lang>/LC_MESSAGES/messages.po`` is what translators edit, the ``.mo``
next to it is compiled from it and committed, so a node runs without a build step and
without Babel (the standard library's ``gettext`` reads ``.mo`` files). How to mark strings:
``/work/notes/webui-i18n.md`` and the ``Translator`` docstring.
"""

from __future__ import annotations

import contextvars
import gettext as gettext_module
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from aiohttp import web

from node.appkeys import NODE

TRANSLATIONS_DIR = Path(__file__).parent / "translations"
DOMAIN = "messages"
DEFAULT_LOCALE = "en"
#: English is the language of the source strings: it needs no catalog.
LOCALES = ("en", "fr")
LOCALE_NAMES = {"en": "English", "fr": "Français"}
LANG_COOKIE = "cercle_lang"
LANG_QUERY = "lang"
#: A year: a language choice is not something people change often.
LANG_COOKIE_AGE = 365 * 24 * 3600

_LANGUAGE_RANGE = re.compile(r"^\s*([A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*|\*)\s*(?:;(.*))?$")
_QUALITY = re.compile(r"^\s*q\s*=\s*(0(?:\.\d{0,3})?|1(?:\.0{0,3})?)\s*$")


def negotiate(accept_language: str, supported: tuple[str, ...] = LOCALES) -> str | None:
    """The best of ``supported`` for an ``Accept-Language`` header (RFC 9110 §12.5.4),
    matching on the primary subtag (``fr-CA`` is ``fr``); None when nothing fits, so the
    caller picks the default. Malformed ranges are skipped rather than refused: a browser's
    odd header must never break a page."""
    best: tuple[float, int, str] | None = None
    for position, item in enumerate(accept_language.split(",")[:32]):
        match = _LANGUAGE_RANGE.match(item)
        if match is None:
            continue
        tag, params = match.group(1).lower(), match.group(2) or ""
        quality = 1.0
        for param in params.split(";"):
            q = _QUALITY.match(param)
            if q is not None:
                quality = float(q.group(1))
        if quality <= 0:
            continue
        primary = supported[0] if tag == "*" else tag.split("-", 1)[0]
        if primary not in supported:
            continue
        # Higher quality wins; on a tie, the range the browser listed first.
        candidate = (quality, -position, primary)
        if best is None or candidate[:2] > best[:2]:
            best = candidate
    return best[2] if best is not None else None


def chosen_locale(query: str | None, cookie: str | None, accept_language: str) -> str:
    """The page's language from the toggle, the remembered choice, then the browser."""
    for explicit in (query, cookie):
        if explicit in LOCALES:
            assert explicit is not None
            return explicit
    return negotiate(accept_language) or DEFAULT_LOCALE


@cache
def catalog(locale: str) -> gettext_module.NullTranslations:
    """The compiled catalog of ``locale``, read once per process (English: none needed):
    catalogs ship with the code and never change while it runs, so this cache (bounded by
    ``LOCALES``) cannot go stale. A missing ``.mo`` is a packaging error, so it raises."""
    if locale == DEFAULT_LOCALE:
        return gettext_module.NullTranslations()
    return gettext_module.translation(DOMAIN, TRANSLATIONS_DIR, languages=[locale])


@dataclass(frozen=True)
class Translator:
    """One language's messages, used the same way in templates and in Python.

    Every message is a ``%``-format string, even without variables (so a literal percent
    sign is written ``%%``), exactly like Jinja2's "new style" gettext in the templates::

        _ = translator.gettext
        _("Everyone at %(org)s", org=summary.org_name)
        translator.ngettext("%(num)d person", "%(num)d people", count)

    Name the bound method ``_`` (or call ``ngettext``/``pgettext``) so that Babel finds the
    strings when it extracts the catalog.
    """

    locale: str
    translations: gettext_module.NullTranslations

    def gettext(self, message: str, /, **variables: Any) -> str:
        return self.translations.gettext(message) % variables

    def ngettext(self, singular: str, plural: str, num: int, /, **variables: Any) -> str:
        variables.setdefault("num", num)
        return self.translations.ngettext(singular, plural, num) % variables

    def pgettext(self, context: str, message: str, /, **variables: Any) -> str:
        return self.translations.pgettext(context, message) % variables


def translator_for(locale: str) -> Translator:
    return Translator(locale, catalog(locale))


def locale_of(request: web.Request) -> str:
    return chosen_locale(
        request.query.get(LANG_QUERY),
        request.cookies.get(LANG_COOKIE),
        request.headers.get("Accept-Language", ""),
    )


def translator(request: web.Request) -> Translator:
    """The request's translator: use it for every string a page handler shows."""
    return translator_for(locale_of(request))


def language_links(request: web.Request) -> dict[str, tuple[str, str]]:
    """For the footer's switch: each language's name and this page's address in it (the
    other query parameters kept, so a search or a page of a timeline stays put)."""
    return {
        code: (name, str(request.rel_url.update_query({LANG_QUERY: code})))
        for code, name in LOCALE_NAMES.items()
    }


def remember_locale(request: web.Request, response: web.StreamResponse) -> None:
    """After a ``?lang=`` toggle, keep the choice in a cookie for the following pages.

    A language is not a secret nor a privilege, so a plain cookie is enough; it is
    HttpOnly and SameSite=Lax like the session's, and set only when someone asked for it
    (anonymous readers of public pages otherwise get no cookie at all)."""
    asked = request.query.get(LANG_QUERY)
    if asked in LOCALES and request.cookies.get(LANG_COOKIE) != asked:
        response.set_cookie(
            LANG_COOKIE,
            asked,
            path="/",
            max_age=LANG_COOKIE_AGE,
            httponly=True,
            samesite="Lax",
            secure=request.app[NODE].settings.scheme == "https",
        )


#: The request being answered, for templates rendered by code that has no request at
#: hand (node/ renders the OAuth consent page through ``Templates.render``).
CURRENT_REQUEST: contextvars.ContextVar[web.Request | None] = contextvars.ContextVar(
    "webui_current_request", default=None
)


def current_translator() -> Translator:
    request = CURRENT_REQUEST.get()
    return translator(request) if request is not None else translator_for(DEFAULT_LOCALE)


@web.middleware
async def locale_middleware(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """Make the request known to templates rendered without it; no work happens here
    (the language is worked out only when a page is rendered)."""
    token = CURRENT_REQUEST.set(request)
    try:
        return await handler(request)
    finally:
        CURRENT_REQUEST.reset(token)
