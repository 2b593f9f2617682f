"""The one way a page shows a refused rule: next to the form field it concerns, else on top of
the page; nothing of the refused request is kept."""

from __future__ import annotations

from collections.abc import Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from flask import flash
from flask_babel import LazyString
from flask_wtf import FlaskForm
from markupsafe import Markup, escape
from wtforms import HiddenField, PasswordField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional
from wtforms.widgets import Select, html_params

from models.db import db
from models.errors import DomainError
from models.languages import DEFAULT_LANGUAGE, REGISTRY, Language
from models.text import TextError, clean_text
from services.text import text_message


class Form(FlaskForm):
    """Every page's form: each text field follows the rule of models.text (one line unless a
    textarea, NFC, trimmed, at most its Length) before the field's own validators run, so a
    CR/LF or a control character in a name is an error next to that field."""

    def validate(self, extra_validators: Any = None) -> bool:
        refused: dict[str, str] = {}
        for field in self:
            if (not isinstance(field, StringField | TextAreaField)
                    or isinstance(field, PasswordField | HiddenField)
                    or not isinstance(field.data, str)):
                continue
            limit = next((v.max for v in field.validators
                          if isinstance(v, Length) and v.max >= 0), None)
            try:
                field.data = clean_text(field.data, max_length=limit,
                                        multiline=isinstance(field, TextAreaField))
            except TextError as error:
                refused[field.name] = text_message(error)
        valid = super().validate(extra_validators)
        for name, message in refused.items():
            self[name].errors = [*self[name].errors, message]
        return valid and not refused



# --- per-language fields, generated from the language registry --------------------------------


@dataclass(frozen=True)
class PerLanguage:
    """In a form class decorated with @per_language: one field per registered language,
    named `<name>_<code>` (title_en, title_ja, title_zh_Hant), labelled "Title (日本語)".
    `required`: the default language's field must be filled."""

    label: Any
    max_length: int = 300
    required: bool = False
    textarea: bool = False


def _label(base: Any, lang: Language) -> LazyString:
    return LazyString(lambda: f"{base} ({lang.name})")


def per_language(form_class: Any) -> Any:
    """Replace each PerLanguage attribute of a form class by its fields, one per language."""
    names: list[str] = []
    for name, spec in list(vars(form_class).items()):
        if not isinstance(spec, PerLanguage):
            continue
        delattr(form_class, name)
        names.append(name)
        for code, lang in REGISTRY.items():
            needed = spec.required and code == DEFAULT_LANGUAGE
            kind = TextAreaField if spec.textarea else StringField
            setattr(form_class, f"{name}_{lang.field_suffix}", kind(
                _label(spec.label, lang), render_kw={"lang": code},
                validators=[DataRequired() if needed else Optional(),
                            Length(max=spec.max_length)]))
    form_class.PER_LANGUAGE = (*getattr(form_class, "PER_LANGUAGE", ()), *names)
    return form_class


def language_fields(form: Any, name: str) -> list[Any]:
    """The form's fields of a per-language value, in registry order (for templates)."""
    return [field for lang in REGISTRY.values()
            if (field := getattr(form, f"{name}_{lang.field_suffix}", None)) is not None]


def localized_data(form: Any, name: str) -> dict[str, str]:
    """The submitted per-language value: {"en": "…", "ja": "…"}, empty languages left out."""
    values: dict[str, str] = {}
    for code, lang in REGISTRY.items():
        field = getattr(form, f"{name}_{lang.field_suffix}", None)
        if field is not None and (field.data or "").strip():
            values[code] = field.data.strip()
    return values


def localized_defaults(name: str, value: dict[str, str] | None) -> dict[str, str]:
    """Constructor arguments showing a stored per-language value (title_en=…, title_ja=…):
    like any keyword default, used where the request carries no form data."""
    return {f"{name}_{lang.field_suffix}": (value or {}).get(code, "")
            for code, lang in REGISTRY.items()}


def fill_localized(form: Any, name: str, value: dict[str, str] | None) -> None:
    """Show a stored per-language value in the form's fields."""
    for code, lang in REGISTRY.items():
        field = getattr(form, f"{name}_{lang.field_suffix}", None)
        if field is not None:
            field.data = (value or {}).get(code, "")


def form_field(form: Any, name: str) -> Any:
    """The form's field for a domain field name: the form's own mapping (FIELD_OF), the name
    itself, a per-language name ("title.zh-Hant" is title_zh_Hant), or its English field."""
    mapped = getattr(form, "FIELD_OF", {}).get(name, name).replace(".", "_").replace("-", "_")
    for candidate in (mapped, f"{mapped}_en"):
        field = getattr(form, candidate, None)
        if field is not None and hasattr(field, "errors"):
            return field
    return None


def show_refusal(form: Any, error: DomainError, elsewhere: Collection[str] = ()) -> None:
    """`elsewhere`: fields the page shows itself (not form fields)."""
    shown = any(name in elsewhere for name in error.fields)
    for name, messages in error.fields.items():
        field = form_field(form, name) if form is not None else None
        if field is not None:
            field.errors = [*field.errors, *messages]
            shown = True
    if not shown:
        flash(error.message, "danger")


@dataclass
class Attempt:
    error: DomainError | None = None

    @property
    def refused(self) -> bool:
        return self.error is not None

    @property
    def status(self) -> int:
        return self.error.status if self.error is not None else 200


@contextmanager
def attempt(form: Any = None, elsewhere: Collection[str] = ()) -> Iterator[Attempt]:
    """Run a use case for a form: a DomainError is rolled back and shown on the form.

        with attempt(form) as tried:
            add_delegate(...)
            db.session.commit()
        if tried.refused:
            return render(form), tried.status
    """
    result = Attempt()
    try:
        yield result
    except DomainError as error:
        db.session.rollback()
        show_refusal(form, error, elsewhere)
        result.error = error


class ManyOptions(Select):
    """wtforms' Select for thousands of plain (value, label) choices (every delegate of an
    assembly): the same markup, built in one join rather than through wtforms' per-choice
    objects and html_params, several times slower."""

    def __call__(self, field: Any, **kwargs: Any) -> Markup:
        kwargs.setdefault("id", field.id)
        if self.multiple:
            kwargs["multiple"] = True
        flags = getattr(field, "flags", {})
        for k in dir(flags):
            if k in self.validation_attrs and k not in kwargs:
                kwargs[k] = getattr(flags, k)
        data = field.data if self.multiple else [field.data]
        chosen = {str(value) for value in data or ()}
        options = "".join(
            f'<option {"selected " if str(value) in chosen else ""}value="{escape(value)}">'
            f"{escape(label)}</option>" for value, label in field.choices or ())
        return Markup(f"<select {html_params(name=field.name, **kwargs)}>{options}</select>")
