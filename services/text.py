"""The text rule of models.text as the use cases apply it: a refused text is a DomainError
(422) naming the field, in the reader's language."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from models.errors import DomainError
from models.languages import LANGUAGES
from models.text import TextError, TextProblem, clean_text
from services.i18n import _


def text_message(error: TextError) -> str:
    """What a person reads next to the field."""
    if error.problem is TextProblem.TOO_LONG:
        return _("At most %(n)d characters.", n=error.max_length or 0)
    if error.problem is TextProblem.NOT_TEXT:
        return _("Give text here.")
    if error.character in ("\r", "\n"):
        return _("One line only: line breaks are not allowed here.")
    return _("Control characters (such as %(code)s) are not allowed.",
             code=f"U+{ord(error.character):04X}" if error.character else "NUL")


def refused(field: str, error: TextError) -> DomainError:
    message = text_message(error)
    return DomainError(_("%(field)s: %(message)s", field=field, message=message),
                       code="invalid_text", status=422, fields={field: [message]})


def checked_text(field: str, value: Any, *, max_length: int | None = None,
                 multiline: bool = False) -> str:
    """The text as stored, or DomainError(422) on `field`."""
    try:
        return clean_text(value, max_length=max_length, multiline=multiline)
    except TextError as error:
        raise refused(field, error) from None


def checked_localized(field: str, value: Mapping[str, Any] | None, *,
                      max_length: int | None = None, multiline: bool = False) -> dict[str, str]:
    """A text per language ({"en": …, "ja": …}) as stored: each checked (the field named
    `title.en`), empty ones left out, unknown languages refused."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise DomainError(_("%(field)s: %(message)s", field=field, message=_("Give text here.")),
                          code="invalid_text", status=422, fields={field: [_("Give text here.")]})
    clean: dict[str, str] = {}
    for lang, text in value.items():
        if lang not in LANGUAGES:
            message = _("Choose one of the languages: %(choices)s.", choices=", ".join(LANGUAGES))
            raise DomainError(message, code="invalid_language", status=422,
                              fields={f"{field}.{lang}": [message]})
        stored = checked_text(f"{field}.{lang}", text, max_length=max_length,
                              multiline=multiline)
        if stored:
            clean[lang] = stored
    return clean
