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
from models.mail import MailStatus, new_message_id
from models.text import REFUSED_IN_LINE
from services.background import DELIVER_MAIL, DELIVER_MAIL_BATCH, enqueue_after_commit
from services.mail.html import render_mail_html, text_to_html


class HeaderInjectionError(ValueError):
    """A header value (address, name, subject) contains CR, LF or another control
    character."""


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    content: bytes


def _header(name: str, value: str) -> str:
    if "\r" in value or "\n" in value:
        raise HeaderInjectionError(f"{name} may not contain a line break")
    if REFUSED_IN_LINE.search(value):
        raise HeaderInjectionError(f"{name} may not contain a control character")
    return value


def one_line(value: str) -> str:
    """A header made of stored text that may predate the text rule: what a header cannot
    carry becomes a space."""
    return " ".join(REFUSED_IN_LINE.sub(" ", value).split())


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
    # Not sendable: the row is kept as failed with this reason (the mail log shows it).
    error: str = ""


def checked_draft(draft: Draft) -> Draft:
    """The draft, once its headers are known to be sendable (HeaderInjectionError if not): a
    caller building many messages checks each, so one bad recipient does not stop the rest."""
    _header("recipient address", draft.to_address.strip())
    _header("recipient name", draft.to_name.strip())
    _header("subject", draft.subject.strip())
    _attachments(draft.attachments)
    return draft


def failed_draft(*, kind: str, to_address: str, subject: str, error: str, to_name: str = "",
                 language: str = "en", assembly_id: int | None = None,
                 message_id: str | None = None) -> Draft:
    """A message that could not be built, recorded as failed with the reason."""
    return Draft(kind=kind, to_address=one_line(to_address), to_name=one_line(to_name)[:200],
                 subject=one_line(subject)[:400], text_body="", language=language,
                 assembly_id=assembly_id, message_id=message_id, error=error[:2000])


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
             "attachments": _attachments(d.attachments),
             **({"status": MailStatus.FAILED, "last_error": d.error} if d.error else {})}
            for d in drafts]
    failed = {row["message_id"] for row in rows if "last_error" in row}
    rows = [{"status": MailStatus.PENDING, "last_error": "", **row} for row in rows]
    if not rows:
        return []
    # A plain executemany (one statement prepared once), then the ids by Message-ID: much
    # cheaper than a multi-row INSERT … RETURNING for thousands of reminder rows.
    session.execute(insert(cast(Table, OutboxMessage.__table__)), rows)
    ids: list[int] = []
    message_ids = [row["message_id"] for row in rows if row["message_id"] not in failed]
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
