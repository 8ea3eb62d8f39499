"""Which language a page gets, and whether the French catalog covers every marked string."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from webui.catalogs import problems
from webui.i18n import chosen_locale, negotiate, translator_for


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("fr-FR,fr;q=0.9,en-US;q=0.8,en;q=0.7", "fr"),
        ("en-GB,en;q=0.9,fr;q=0.8", "en"),
        ("fr-CA", "fr"),
        ("de-DE,de;q=0.9,fr;q=0.5,en;q=0.4", "fr"),  # the best one the node speaks
        ("de, en;q=0.1, fr;q=0.2", "fr"),
        ("en;q=0.5, fr;q=0.5", "en"),  # a tie goes to the one listed first
        ("fr;q=0, en", "en"),  # q=0 means "not this one"
        ("*", "en"),
        ("de", None),
        ("", None),
        ("fr;q=2, en;q=x, , ;;;, FR", "fr"),  # malformed ranges are skipped, not fatal
    ],
)
def test_accept_language_negotiation(header: str, expected: str | None) -> None:
    assert negotiate(header) == expected


def test_toggle_beats_cookie_beats_browser() -> None:
    assert chosen_locale("fr", "en", "en") == "fr"
    assert chosen_locale(None, "fr", "en") == "fr"
    assert chosen_locale("xx", None, "fr-BE") == "fr"  # an unknown toggle is ignored
    assert chosen_locale(None, None, "de") == "en"


def test_french_messages_and_plurals() -> None:
    """The compiled catalog is the one read at run time, with French plural rules (0 and 1
    are singular) and variables substituted after translation."""
    fr = translator_for("fr")
    assert fr.gettext("Sign in") == "Se connecter"
    assert fr.ngettext("%(num)d person", "%(num)d people", 0) == "0 personne"
    assert fr.ngettext("%(num)d person", "%(num)d people", 2) == "2 personnes"
    assert fr.gettext("Sign in to %(org)s", org="Acme") == "Se connecter à Acme"
    en = translator_for("en")
    assert en.ngettext("%(num)d person", "%(num)d people", 1) == "1 person"


def test_every_marked_string_has_a_french_translation() -> None:
    """Extracts the marked strings of webui/ as ``python -m webui.catalogs`` does, and
    fails naming each one the French catalog lacks (or the .mo not recompiled)."""
    pytest.importorskip("babel", reason="the catalog check needs Babel (test extra)")
    found = problems()
    assert not found, "\n".join(found)


TEMPLATE_DIR = Path(__file__).resolve().parents[2] / "webui" / "templates"
#: Words that are the same in both languages (units, names of things).
SAME_IN_FRENCH = frozenset({"UTC", "Cercle", "CSV", "HTTP", "JPEG", "PNG", "WebP"})
#: An example address (``bob@example.com``, ``spam.example``) reads the same in French.
_ADDRESS = re.compile(r"^[\w.@-]*[@.][\w.@-]*$")
_TRANS_BLOCK = re.compile(r"{%-?\s*trans\b.*?{%-?\s*endtrans\s*-?%}", re.S)
_JINJA = re.compile(r"{#.*?#}|{%.*?%}|{{.*?}}", re.S)
_ATTRIBUTE = re.compile(r'\b(aria-label|placeholder|title|alt)="([^"]*)"')
_TAG = re.compile(r"<[^>]*>", re.S)
_WORD = re.compile(r"[A-Za-zÀ-ÿ]{2,}")


def unmarked_text(source: str) -> list[str]:
    """Words a reader would see that no ``_()`` or ``{% trans %}`` covers: text between
    tags and the values of the attributes screen readers and browsers show."""
    source = _JINJA.sub(" § ", _TRANS_BLOCK.sub(" § ", source))
    found = [
        value
        for _, value in _ATTRIBUTE.findall(source)
        if _WORD.search(value) and not _ADDRESS.match(value)
    ]
    text = _TAG.sub(" ", source)
    found += [w for w in _WORD.findall(text) if w not in SAME_IN_FRENCH]
    return found


@pytest.mark.parametrize("template", sorted(p.name for p in TEMPLATE_DIR.glob("*.html")))
def test_templates_mark_every_visible_string(template: str) -> None:
    """A template with visible English outside the translation marks would show it to
    French readers: each such word is named here."""
    words = unmarked_text((TEMPLATE_DIR / template).read_text(encoding="utf-8"))
    assert not words, f"{template}: unmarked text {words}"


def test_the_unmarked_text_check_can_fail() -> None:
    assert unmarked_text('<p>Hello <b>{{ name }}</b></p><input placeholder="Your name">') == [
        "Your name",
        "Hello",
    ]
    assert unmarked_text('<p>{{ _("Hello") }} {% trans %}Bye {{ x }}{% endtrans %}</p>') == []
