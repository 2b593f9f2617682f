"""Delivering outbox rows: by SMTP when SMTP_URL is set, else into the instance's mail drop.

A row is claimed with a conditional UPDATE (pending → sending) so that one worker sends it;
no database transaction is open while talking to the SMTP server.
"""

from __future__ import annotations

import base64
import smtplib
import socket
from datetime import timedelta
from email.message import EmailMessage
from email.utils import formataddr, formatdate
from urllib.parse import unquote, urlsplit

from celery import shared_task
from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from config import Settings
from models import MailStatus, OutboxMessage, utcnow
from tasks.housekeeping import sweeper
from webapp.extensions import db

MAX_ATTEMPTS = 8
STALE_CLAIM = timedelta(minutes=10)


def build_email(message: OutboxMessage, sender: str) -> EmailMessage:
    email = EmailMessage()
    email["From"] = sender
    email["To"] = formataddr((message.to_name, message.to_address))
    email["Subject"] = message.subject
    email["Message-ID"] = message.message_id
    email["Date"] = formatdate(message.created_at.timestamp(), localtime=False)
    email.set_content(message.text_body)
    if message.html_body:
        email.add_alternative(message.html_body, subtype="html")
    for attachment in message.attachments:
        maintype, _, subtype = attachment["content_type"].partition("/")
        email.add_attachment(base64.b64decode(attachment["content_b64"]), maintype=maintype,
                             subtype=subtype or "octet-stream", filename=attachment["filename"])
    return email


def send_email(email: EmailMessage, settings: Settings) -> None:
    if settings.smtp_url is None:
        drop = settings.mail_drop
        drop.mkdir(parents=True, exist_ok=True)
        name = email["Message-ID"].strip("<>").replace("@", "_")
        tmp = drop / f".{name}.tmp"
        tmp.write_bytes(bytes(email))
        tmp.replace(drop / f"{name}.eml")  # atomic: readers never see half a message
        return
    url = urlsplit(settings.smtp_url)
    host, port = url.hostname or "localhost", url.port
    if url.scheme == "smtps":
        client: smtplib.SMTP = smtplib.SMTP_SSL(host, port or 465, timeout=30)
    else:
        client = smtplib.SMTP(host, port or 587, timeout=30)
    with client:
        client.ehlo()
        if url.scheme == "smtp" and client.has_extn("starttls"):
            client.starttls()
            client.ehlo()
        if url.username:
            client.login(unquote(url.username), unquote(url.password or ""))
        client.send_message(email)


def claim(session: Session, message_id: int, worker: str) -> OutboxMessage | None:
    """Take the row for this worker if it is due; None if another worker has it or it is done."""
    now = utcnow()
    claimed = session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id, OutboxMessage.status == MailStatus.PENDING,
               OutboxMessage.next_attempt_at <= now)
        .values(status=MailStatus.SENDING, claimed_at=now, claimed_by=worker,
                attempts=OutboxMessage.attempts + 1)
    ).rowcount
    session.commit()
    return session.get(OutboxMessage, message_id) if claimed else None


def deliver(session: Session, message_id: int, settings: Settings, sender: str) -> str:
    """Send one outbox row; returns its status afterwards."""
    message = claim(session, message_id, f"{socket.gethostname()}")
    if message is None:
        current = session.get(OutboxMessage, message_id)
        return current.status.value if current else "missing"
    email = build_email(message, sender)
    session.commit()  # no transaction open while we talk to the mail server
    try:
        send_email(email, settings)
    except (OSError, smtplib.SMTPException) as exc:
        message.last_error = f"{type(exc).__name__}: {exc}"[:2000]
        if message.attempts >= MAX_ATTEMPTS:
            message.status = MailStatus.FAILED
        else:
            message.status = MailStatus.PENDING
            message.next_attempt_at = utcnow() + timedelta(seconds=30 * 2 ** message.attempts)
        session.commit()
        return message.status.value
    message.status = MailStatus.SENT
    message.sent_at = utcnow()
    message.last_error = ""
    session.commit()
    return message.status.value


@sweeper("mail")
def resend_pending(session: Session) -> int:
    """Re-enqueue due rows (a lost broker message) and free claims gone stale (a dead worker)."""
    now = utcnow()
    session.execute(update(OutboxMessage)
                    .where(OutboxMessage.status == MailStatus.SENDING,
                           OutboxMessage.claimed_at < now - STALE_CLAIM)
                    .values(status=MailStatus.PENDING, claimed_at=None, claimed_by=None))
    due = session.scalars(select(OutboxMessage.id).where(
        OutboxMessage.status == MailStatus.PENDING, OutboxMessage.next_attempt_at <= now)).all()
    session.commit()
    for message_id in due:
        deliver_task.delay(message_id)
    return len(due)


def _sender() -> str:
    settings: Settings = current_app.config["SOKAI_SETTINGS"]
    host = urlsplit(settings.base_url).hostname
    return current_app.config.get("MAIL_SENDER") or f"Sokai <sokai@{host}>"


@shared_task(name="sokai.deliver_mail")
def deliver_task(message_id: int) -> str:
    return deliver(db.session, message_id, current_app.config["SOKAI_SETTINGS"], _sender())

