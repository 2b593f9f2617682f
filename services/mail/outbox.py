"""Queueing mail: a row in the outbox, written in the caller's transaction, sent after commit."""

from __future__ import annotations

import base64
from collections.abc import Iterable
from dataclasses import dataclass
from typing import cast

from sqlalchemy import Table, insert, select
from sqlalchemy.orm import Session

from config import current_settings
from models import OutboxMessage
from models.mail import new_message_id
from services.background import DELIVER_MAIL, DELIVER_MAIL_BATCH, enqueue_after_commit
from services.mail.html import render_mail_html, text_to_html


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


@dataclass(frozen=True)
class Draft:
    """A message to queue with queue_messages (many at once, e.g. a reminder's recipients)."""

    kind: str
    to_address: str
    subject: str
    text_body: str
    html_body: str | None = None
    to_name: str = ""
    language: str = "en"
    assembly_id: int | None = None
    attachments: tuple[Attachment, ...] = ()
    message_id: str | None = None  # chosen by the caller when it must record it elsewhere


def html_of(subject: str, text: str, language: str, html: str | None) -> str:
    """Every message goes out as text and HTML: the caller's HTML, else the text in the
    mail layout (escaped, paragraphs kept, links clickable)."""
    if html:
        return html
    return render_mail_html(subject=subject, body=text_to_html(text), lang=language)


def _attachments(attachments: Iterable[Attachment]) -> list[dict[str, str]]:
    return [{"filename": _header("attachment name", a.filename),
             "content_type": _header("attachment type", a.content_type),
             "content_b64": base64.b64encode(a.content).decode()}
            for a in attachments]


def queue_messages(session: Session, drafts: Iterable[Draft]) -> list[int]:
    """Write many outbox rows in one statement, in the caller's transaction; after commit the
    worker delivers them in batches, each batch over one SMTP connection."""
    rows = [{"kind": d.kind, "assembly_id": d.assembly_id, "language": d.language,
             "message_id": d.message_id or new_message_id(),
             "to_address": _header("recipient address", d.to_address.strip()),
             "to_name": _header("recipient name", d.to_name.strip()),
             "subject": _header("subject", d.subject.strip()),
             "text_body": d.text_body,
             "html_body": html_of(d.subject, d.text_body, d.language, d.html_body),
             "attachments": _attachments(d.attachments)} for d in drafts]
    if not rows:
        return []
    # A plain executemany (one statement prepared once), then the ids by Message-ID: much
    # cheaper than a multi-row INSERT … RETURNING for thousands of reminder rows.
    session.execute(insert(cast(Table, OutboxMessage.__table__)), rows)
    ids: list[int] = []
    message_ids = [row["message_id"] for row in rows]
    for start in range(0, len(message_ids), 1000):
        ids.extend(session.scalars(select(OutboxMessage.id).where(
            OutboxMessage.message_id.in_(message_ids[start:start + 1000]))))
    ids.sort()
    size = current_settings().mail_batch_size
    for start in range(0, len(ids), size):
        enqueue_after_commit(session, DELIVER_MAIL_BATCH, ids[start:start + size])
    return ids


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
        text_body=text_body, html_body=html_of(subject, text_body, language, html_body),
        attachments=_attachments(attachments),
    )
    session.add(message)
    session.flush()
    enqueue_after_commit(session, DELIVER_MAIL, message.id)
    return message
