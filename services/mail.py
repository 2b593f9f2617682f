"""Queueing mail: a row in the outbox, written in the caller's transaction, sent after commit."""

from __future__ import annotations

import base64
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from models import OutboxMessage
from tasks import enqueue_after_commit
from tasks.mail import deliver_task


class HeaderInjectionError(ValueError):
    """A header value (address, name, subject) contains CR or LF."""


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    content: bytes


def _header(name: str, value: str) -> str:
    if "\r" in value or "\n" in value:
        raise HeaderInjectionError(f"{name} may not contain a line break")
    return value


def queue_message(session: Session, *, kind: str, to_address: str, subject: str,
                  text_body: str, html_body: str | None = None, to_name: str = "",
                  language: str = "en", assembly_id: int | None = None,
                  attachments: Iterable[Attachment] = ()) -> OutboxMessage:
    """Write an outbox row; a worker delivers it once the caller's transaction commits."""
    message = OutboxMessage(
        kind=kind, assembly_id=assembly_id, language=language,
        to_address=_header("recipient address", to_address.strip()),
        to_name=_header("recipient name", to_name.strip()),
        subject=_header("subject", subject.strip()),
        text_body=text_body, html_body=html_body,
        attachments=[{"filename": _header("attachment name", a.filename),
                      "content_type": a.content_type,
                      "content_b64": base64.b64encode(a.content).decode()}
                     for a in attachments],
    )
    session.add(message)
    session.flush()
    enqueue_after_commit(session, deliver_task, message.id)
    return message
