"""The translation catalogues are complete, compiled and in step with the source.

These read files only: no app, no database. When one fails, follow docs/translating.md.
"""

from __future__ import annotations

import re
from io import BytesIO
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po

from models.languages import DEFAULT_LANGUAGE, REGISTRY

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "services" / "translations"
# Every shipped catalogue: one per registered language (its directory, e.g. zh_Hant).
LOCALES = tuple(lang.catalogue_dir for lang in REGISTRY.values())
# The English catalogue may leave msgstr empty: the msgid is the English text.
TRANSLATED = tuple(lang.catalogue_dir for code, lang in REGISTRY.items()
                   if code != DEFAULT_LANGUAGE)
# %(name)s, %d; and the {{ variables }} of the reminders' default templates.
PRINTF = re.compile(r"%\((\w+)\)[-#0 +]*\d*(?:\.\d+)?[sdifrxX]|%[-#0 +]*\d*(?:\.\d+)?[sdifrxX]")
JINJA = re.compile(r"{{\s*(\w+)\s*}}")
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


def test_every_registered_language_ships_a_catalogue() -> None:
    for locale in LOCALES:
        assert _po_path(locale).is_file(), f"no catalogue {locale}/messages.po; {HOWTO}"
        assert _po_path(locale).with_suffix(".mo").is_file(), f"{locale} is not compiled"


@pytest.mark.parametrize("locale", TRANSLATED)
def test_translation_is_complete(locale: str) -> None:
    """The CI check: no untranslated or fuzzy message in any shipped catalogue."""
    catalog = _read_po(locale)
    empty = [
        m.id
        for m in catalog
        if m.id and not (all(m.string) if isinstance(m.string, tuple) else m.string)
    ]
    fuzzy = [m.id for m in catalog if m.id and m.fuzzy]
    assert not empty, f"untranslated in {locale}/messages.po: {empty}; {HOWTO}"
    assert not fuzzy, f"fuzzy in {locale}/messages.po: {fuzzy}; {HOWTO}"
    assert len(catalog) > 0


def _placeholders(text: str) -> tuple[list[str], set[str]]:
    printf = sorted(m.group(1) or m.group(0)[-1] for m in PRINTF.finditer(text.replace("%%", "")))
    return printf, set(JINJA.findall(text))


def _counters(text: str) -> set[str]:
    """The number placeholders of a plural message (%(n)d): a form may spell the number."""
    return {m.group(1) for m in PRINTF.finditer(text) if m.group(1) and m.group(0)[-1] == "d"}


@pytest.mark.parametrize("locale", TRANSLATED)
def test_placeholders_and_plural_forms_match_the_msgid(locale: str) -> None:
    """Each translation keeps the msgid's %(name)s / %d placeholders (no more, no fewer),
    uses only the msgid's {{ variables }} (it may leave one out: 【ご出欠のお願い】 names no
    city), and a plural message has the language's number of forms."""
    catalog = _read_po(locale)
    wrong: list[str] = []
    for message in catalog:
        if not message.id or not message.string:
            continue
        if isinstance(message.id, tuple | list):
            forms = message.string if isinstance(message.string, tuple | list) else ()
            if len(forms) != catalog.num_plurals:
                wrong.append(f"{message.id[0]!r}: {len(forms)} plural forms, "
                             f"{catalog.num_plurals} expected")
                continue
            expected = _placeholders(message.id[1])
            spelled = _counters(message.id[1])
            for form in forms:
                printf, jinja = _placeholders(form)
                missing = set(expected[0]) - set(printf)
                if set(printf) - set(expected[0]) or missing - spelled or \
                        not jinja <= expected[1]:
                    wrong.append(f"{message.id[0]!r} -> {form!r}")
            continue
        printf, jinja = _placeholders(message.string)
        expected = _placeholders(message.id)
        if printf != expected[0] or not jinja <= expected[1]:
            wrong.append(f"{message.id!r} -> {message.string!r}")
    assert not wrong, f"placeholders differ in {locale}/messages.po: {wrong}; {HOWTO}"


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
