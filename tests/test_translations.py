"""The translation catalogues are complete, compiled and in step with the source.

These read files only: no app, no database. When one fails, follow docs/translating.md.
"""

from __future__ import annotations

from io import BytesIO
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "services" / "translations"
LOCALES = ("ja", "en")
# The same keywords as the extract command in docs/translating.md.
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None, "N_": None}
HOWTO = "follow docs/translating.md (extract, update, translate, compile)"


def _po_path(locale: str) -> Path:
    return TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po"


def _read_po(locale: str) -> Catalog:
    with _po_path(locale).open("rb") as f:
        return read_po(f, locale=locale)


def _key(message: Message) -> tuple[str | None, str]:
    """(context, singular msgid): how a message is matched across catalogues."""
    msgid = message.id[0] if isinstance(message.id, tuple | list) else message.id
    return (message.context, msgid)


def _translations(catalog: Catalog) -> dict[object, object]:
    return {_key(m): m.string for m in catalog if m.id}


def _extracted() -> set[tuple[str | None, str]]:
    with (ROOT / "babel.cfg").open(encoding="utf-8") as f:
        method_map, options_map = parse_mapping_cfg(f)
    found = set()
    for _filename, _lineno, message, _comments, context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=KEYWORDS
    ):
        msgid = message[0] if isinstance(message, tuple | list) else message
        found.add((context, msgid))
    return found


def test_japanese_translation_is_complete() -> None:
    catalog = _read_po("ja")
    empty = [
        m.id
        for m in catalog
        if m.id and not (all(m.string) if isinstance(m.string, tuple) else m.string)
    ]
    fuzzy = [m.id for m in catalog if m.id and m.fuzzy]
    assert not empty, f"untranslated in ja/messages.po: {empty}; {HOWTO}"
    assert not fuzzy, f"fuzzy in ja/messages.po: {fuzzy}; {HOWTO}"
    assert len(catalog) > 0


@pytest.mark.parametrize("locale", LOCALES)
def test_compiled_translation_matches_po(locale: str) -> None:
    fresh = BytesIO()
    write_mo(fresh, _read_po(locale))
    fresh.seek(0)
    expected = _translations(read_mo(fresh))
    with _po_path(locale).with_suffix(".mo").open("rb") as f:
        committed = _translations(read_mo(f))
    assert committed == expected, f"{locale}/messages.mo is out of date; {HOWTO}"


@pytest.mark.parametrize("locale", LOCALES)
def test_every_marked_string_is_in_the_translation_catalogue(locale: str) -> None:
    extracted = _extracted()
    assert (None, "draft") in extracted, "extraction did not see webapp/i18n_terms.py"
    assert (None, "Log in") in extracted, "extraction did not see the templates"
    assert (None, "Only the secretariat may do this.") in extracted, \
        "extraction did not see services/"
    assert (None, "Summary ready: %(title)s") in extracted, "extraction did not see services/"
    known = {_key(m) for m in _read_po(locale) if m.id}
    missing = sorted(msgid for _ctx, msgid in extracted - known)
    assert not missing, (
        f"marked in the source but missing from {locale}/messages.po: {missing}; {HOWTO}"
    )
