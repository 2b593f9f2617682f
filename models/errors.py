"""One error for every refused rule, in every layer.

A use case (or a model rule) that refuses a request raises DomainError with a message a person
can read (already in their language), a machine-readable code, the HTTP status the web side
answers with (409 conflicts with the current state, 422 an invalid value, 403 not allowed, 404
unknown, 413 too large) and the field(s) at fault. The API turns it into
{"error": {"code", "message", "fields"}}; the pages show it next to the field.
"""

from __future__ import annotations


class DomainError(Exception):
    def __init__(self, message: str, *, code: str, status: int = 409,
                 field: str | None = None,
                 fields: dict[str, list[str]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.status = status
        self.fields: dict[str, list[str]] = dict(fields or {})
        if field is not None:
            self.fields.setdefault(field, [message])

    @property
    def field(self) -> str | None:
        """The first field at fault (None: the request as a whole)."""
        return next(iter(self.fields), None)

    def __repr__(self) -> str:
        return f"DomainError({self.code!r}, {self.status}, {self.message!r})"
