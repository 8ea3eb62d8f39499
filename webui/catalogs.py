"""Keeping the translation catalogs in step with the code (a developer tool, not imported
by the node): ``python -m webui.catalogs`` extracts every marked string from webui/ into
``translations/messages.pot``, merges it into each language's ``.po`` (new strings appear
empty, vanished ones are kept as obsolete), and compiles the ``.mo`` files that the node
reads. Needs Babel (test extra); the running node does not.

``python -m webui.catalogs --check`` changes nothing and exits 1, naming the problems,
when a marked string is missing from a catalog, untranslated or fuzzy, or a ``.mo`` is
older than its ``.po``'s content: the test suite runs the same check.
"""

from __future__ import annotations

import argparse
import io
import sys
from pathlib import Path

from webui.i18n import DEFAULT_LOCALE, DOMAIN, LOCALES, TRANSLATIONS_DIR

ROOT = Path(__file__).resolve().parents[1]
MAPPING = Path(__file__).parent / "babel.cfg"
POT = TRANSLATIONS_DIR / f"{DOMAIN}.pot"
KEYWORDS = {
    "_": None,
    "gettext": None,
    "ngettext": (1, 2),
    "pgettext": ((1, "c"), 2),
    "npgettext": ((1, "c"), 2, 3),
    "N_": None,
}


def _po_path(locale: str) -> Path:
    return TRANSLATIONS_DIR / locale / "LC_MESSAGES" / f"{DOMAIN}.po"


def extract() -> object:
    """Every marked string of the web UI's Python modules and templates, as a Catalog."""
    from babel.messages.catalog import Catalog
    from babel.messages.extract import extract_from_dir
    from babel.messages.frontend import parse_mapping_cfg

    with MAPPING.open() as handle:
        method_map, options_map = parse_mapping_cfg(handle)
    catalog = Catalog(project="Cercle", charset="utf-8")
    for filename, lineno, message, comments, context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=KEYWORDS, strip_comment_tags=True
    ):
        catalog.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    return catalog


def compiled(po_text: str, locale: str) -> bytes:
    """The ``.mo`` bytes for a ``.po`` text (fuzzy entries left out, as gettext does)."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    catalog = read_po(io.StringIO(po_text), locale=locale)
    out = io.BytesIO()
    write_mo(out, catalog)
    return out.getvalue()


def problems() -> list[str]:
    """What makes the catalogs out of step with the code; empty when all is well."""
    from babel.messages.pofile import read_po

    wanted = extract()
    found: list[str] = []
    for locale in LOCALES:
        if locale == DEFAULT_LOCALE:
            continue
        po_path = _po_path(locale)
        if not po_path.exists():
            found.append(f"{po_path} is missing")
            continue
        text = po_path.read_text(encoding="utf-8")
        catalog = read_po(io.StringIO(text), locale=locale)
        for message in wanted:  # type: ignore[attr-defined]
            if not message.id:
                continue
            have = catalog.get(message.id, message.context)
            where = f"{locale}: {message.id!r} ({message.locations[0][0]})"
            if have is None:
                found.append(f"{where} is not in the catalog")
            elif have.fuzzy or not (
                all(have.string) if isinstance(have.string, tuple) else have.string
            ):
                found.append(f"{where} is not translated")
        mo_path = po_path.with_suffix(".mo")
        if not mo_path.exists() or mo_path.read_bytes() != compiled(text, locale):
            found.append(f"{mo_path} is not compiled from its .po: run python -m webui.catalogs")
    return found


def update() -> None:
    from babel.messages.pofile import read_po, write_po

    template = extract()
    POT.parent.mkdir(parents=True, exist_ok=True)
    with POT.open("wb") as handle:
        write_po(handle, template, omit_header=False, sort_by_file=True, width=100)
    for locale in LOCALES:
        if locale == DEFAULT_LOCALE:
            continue
        po_path = _po_path(locale)
        po_path.parent.mkdir(parents=True, exist_ok=True)
        if po_path.exists():
            with po_path.open(encoding="utf-8") as handle:
                catalog = read_po(handle, locale=locale)
        else:
            from babel.messages.catalog import Catalog

            catalog = Catalog(locale=locale, project="Cercle", charset="utf-8")
        catalog.update(template, no_fuzzy_matching=True)  # type: ignore[arg-type]
        with po_path.open("wb") as handle:
            write_po(handle, catalog, sort_by_file=True, width=100, include_previous=False)
        text = po_path.read_text(encoding="utf-8")
        po_path.with_suffix(".mo").write_bytes(compiled(text, locale))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="report problems, change nothing")
    args = parser.parse_args(argv)
    if args.check:
        found = problems()
        for line in found:
            print(line, file=sys.stderr)
        return 1 if found else 0
    update()
    return 0


if __name__ == "__main__":
    sys.exit(main())
