"""Delivering outbox rows: by SMTP when SMTP_URL is set, else into the instance's mail drop.

Rows are claimed with one conditional UPDATE (pending → sending, tagged with a claim token),
so that a row is sent by one worker at a time; the claim is committed before the first SMTP
command and the results are written afterwards, so no database transaction is open while
talking to the mail server. A batch goes over one SMTP connection (the heart of the
throughput); its results are written every few messages, and the claim of the rows still to go
is refreshed at the same time, so that only a worker that really died leaves a stale claim.
A row whose claim went stale (a worker killed mid-batch) is sent again by the sweep with the
same Message-ID, so a receiver can drop the duplicate.
"""

from __future__ import annotations

import base64
import logging
import os
import smtplib
import socket
import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email import encoders
from email.header import Header
from email.message import Message
from email.mime.base import MIMEBase
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import format_datetime, formataddr
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import unquote, urlsplit

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from config import Settings, current_settings
from models import MailStatus, Network, OutboxMessage, utcnow
from models.base import affected
from services.background import DELIVER_MAIL, DELIVER_MAIL_BATCH, dispatch, enqueue_after_commit
from services.mail.html import render_mail_html, text_to_html

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DeliveryPolicy:
    """How hard delivery tries; read from the settings (MAIL_*) so tests can shorten it."""

    max_attempts: int = 8
    retry_base: timedelta = timedelta(seconds=30)  # 30 s, 1 min, 2 min, … up to retry_cap
    retry_cap: timedelta = timedelta(hours=6)
    stale_claim: timedelta = timedelta(minutes=10)  # a claim not refreshed for this long: dead
    resend_after: timedelta = timedelta(minutes=1)  # due and still pending: message lost
    batch_size: int = 200  # rows per task, sent over one connection
    flush_every: int = 100  # results written (and claims refreshed) every this many messages

    def retry_delay(self, attempts: int) -> timedelta:
        return min(self.retry_base * 2 ** max(attempts - 1, 0), self.retry_cap)

    @classmethod
    def from_settings(cls, settings: Settings) -> DeliveryPolicy:
        return cls(
            max_attempts=settings.mail_max_attempts,
            retry_base=timedelta(seconds=settings.mail_retry_base_seconds),
            retry_cap=timedelta(seconds=settings.mail_retry_cap_seconds),
            stale_claim=timedelta(seconds=settings.mail_stale_claim_seconds),
            resend_after=timedelta(seconds=settings.mail_resend_after_seconds),
            batch_size=settings.mail_batch_size,
            flush_every=settings.mail_flush_every,
        )


def current_policy() -> DeliveryPolicy:
    return DeliveryPolicy.from_settings(current_settings())


def build_email(message: OutboxMessage, sender: str) -> Message:
    """The MIME message: text and HTML alternatives, attachments, UTF-8 throughout.

    Built with the compat32 MIME classes: several times cheaper than Message's header
    registry, which matters when a batch of reminders goes out."""
    body: Message = MIMEText(message.text_body, "plain", "utf-8")
    # Every message is text and HTML: a row written as text alone gets the common layout.
    html = message.html_body or render_mail_html(
        subject=message.subject, body=text_to_html(message.text_body), lang=message.language)
    alternative = MIMEMultipart("alternative")
    alternative.attach(body)
    alternative.attach(MIMEText(html, "html", "utf-8"))
    body = alternative
    if message.attachments:
        mixed = MIMEMultipart("mixed")
        mixed.attach(body)
        for attachment in message.attachments:
            part = _attachment_part(attachment["content_type"])
            part.set_payload(base64.b64decode(attachment["content_b64"]))
            encoders.encode_base64(part)
            part.add_header("Content-Disposition", "attachment",
                            filename=("utf-8", "", attachment["filename"]))
            mixed.attach(part)
        body = mixed
    body["From"] = sender
    body["To"] = formataddr((message.to_name, message.to_address), charset="utf-8")
    body["Subject"] = Header(message.subject, "utf-8").encode()
    # Set once when the row was written: a resend carries the same one.
    body["Message-ID"] = message.message_id
    # A real offset (+0000), not RFC 5322's "-0000" (time zone unknown).
    body["Date"] = format_datetime(message.created_at.astimezone(UTC))
    body["Content-Language"] = message.language
    return body


def _attachment_part(content_type: str) -> MIMEBase:
    """A MIME part for 'type/subtype; name=value; …'. Text without a charset is our own
    UTF-8 (rows written before the type carried one): say so, or readers guess ASCII."""
    media, *params = (p.strip() for p in content_type.split(";"))
    maintype, _, subtype = media.partition("/")
    values = dict(p.partition("=")[::2] for p in params if "=" in p)
    if maintype == "text":
        values.setdefault("charset", "utf-8")
    part = MIMEBase(maintype, subtype or "octet-stream")
    for name, value in values.items():
        part.set_param(name, value)
    return part


class Transport(Protocol):
    def send(self, email: Message) -> None: ...


def drop_file(settings: Settings, message_id: str) -> Path:
    """Where the mail drop keeps the message (erasure removes it with the names in it)."""
    return settings.mail_drop / f"{message_id.strip('<>').replace('@', '_')}.eml"


class MailDrop:
    """Embedded mode: each message becomes a file in the instance's mail drop."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.folder = settings.mail_drop
        self.folder.mkdir(parents=True, exist_ok=True)

    def send(self, email: Message) -> None:
        final = drop_file(self.settings, email["Message-ID"])
        tmp = self.folder / f".{final.stem}.tmp"
        tmp.write_bytes(bytes(email))
        tmp.replace(final)  # atomic: readers never see half a message


class SmtpTransport:
    def __init__(self, client: smtplib.SMTP) -> None:
        self.client = client

    def send(self, email: Message) -> None:
        self.client.send_message(email)


@contextmanager
def open_transport(settings: Settings) -> Iterator[Transport]:
    """One connection for a whole batch: STARTTLS (smtp://, when offered) or TLS (smtps://),
    with login when the URL carries a user."""
    if settings.smtp_url is None:
        yield MailDrop(settings)
        return
    url = urlsplit(settings.smtp_url)
    host, port = url.hostname or "localhost", url.port
    if url.scheme == "smtps":
        client: smtplib.SMTP = smtplib.SMTP_SSL(host, port or 465, timeout=30)
    else:
        client = smtplib.SMTP(host, port or 587, timeout=30)
    try:
        client.ehlo()
        if url.scheme == "smtp" and client.has_extn("starttls"):
            client.starttls()
            client.ehlo()
        if url.username:
            client.login(unquote(url.username), unquote(url.password or ""))
        yield SmtpTransport(client)
    finally:
        try:
            client.quit()
        except (OSError, smtplib.SMTPException):
            client.close()


def is_permanent(exc: Exception) -> bool:
    """A 5xx answer about this message (bad recipient, refused content): retrying won't help."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _ in exc.recipients.values())
    return isinstance(exc, smtplib.SMTPResponseException) and exc.smtp_code >= 500


# Errors about one message; the connection stays usable for the next one.
MESSAGE_ERRORS = (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused,
                  smtplib.SMTPDataError, smtplib.SMTPNotSupportedError)


def new_claim_token() -> str:
    return f"{socket.gethostname()}/{os.getpid()}/{uuid.uuid4().hex[:12]}"


def claim(session: Session, ids: Sequence[int], token: str) -> list[OutboxMessage]:
    """Take the due pending rows among `ids` for this claim token, in one UPDATE; rows another
    worker holds, or already sent, are left alone. The caller commits (before sending)."""
    now = utcnow()
    claimed = session.scalars(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(ids), OutboxMessage.status == MailStatus.PENDING,
               OutboxMessage.next_attempt_at <= now)
        .values(status=MailStatus.SENDING, claimed_at=now, claimed_by=token,
                attempts=OutboxMessage.attempts + 1)
        .returning(OutboxMessage.id)
        .execution_options(synchronize_session=False)
    ).all()
    return list(session.scalars(
        select(OutboxMessage).where(OutboxMessage.id.in_(claimed)).order_by(OutboxMessage.id)
        .execution_options(populate_existing=True))) if claimed else []


@dataclass
class BatchResult:
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    skipped: int = 0  # not claimed: another worker has it, or it is done
    retry_in: timedelta | None = None


def _record(session: Session, token: str, sent: list[int], errors: dict[int, tuple[str, bool]],
            attempts: dict[int, int], policy: DeliveryPolicy, result: BatchResult) -> None:
    """Write what happened to these rows (only while they are still ours) and refresh our claim
    on the rest of the batch."""
    now = utcnow()
    # `attempts` holds the batch's ids: every statement goes through the primary key.
    mine = (OutboxMessage.id.in_(list(attempts)), OutboxMessage.claimed_by == token,
            OutboxMessage.status == MailStatus.SENDING)
    if sent:
        session.execute(update(OutboxMessage)
                        .where(OutboxMessage.id.in_(sent), *mine[1:])
                        .values(status=MailStatus.SENT, sent_at=now, last_error="")
                        .execution_options(synchronize_session=False))
        result.sent += len(sent)
    for message_id, (error, permanent) in errors.items():
        if permanent or attempts[message_id] >= policy.max_attempts:
            values: dict[str, Any] = {"status": MailStatus.FAILED}
            result.failed += 1
        else:
            delay = policy.retry_delay(attempts[message_id])
            values = {"status": MailStatus.PENDING, "next_attempt_at": now + delay}
            result.retrying += 1
            result.retry_in = min(result.retry_in or delay, delay)
        session.execute(update(OutboxMessage).where(OutboxMessage.id == message_id, *mine)
                        .values(last_error=error[:2000], **values)
                        .execution_options(synchronize_session=False))
    session.execute(update(OutboxMessage).where(*mine).values(claimed_at=now)
                    .execution_options(synchronize_session=False))
    session.commit()


def deliver_batch(session: Session, ids: Iterable[int], settings: Settings, sender: str,
                  policy: DeliveryPolicy | None = None) -> BatchResult:
    """Send the due rows among `ids` over one connection; write each outcome."""
    policy = policy or DeliveryPolicy()
    token = new_claim_token()
    rows = claim(session, sorted(set(ids)), token)
    result = BatchResult(skipped=len(set(ids)) - len(rows))
    # Everything the send needs is read before the commit (which expires the rows); the
    # session holds no transaction from the commit on.
    emails: list[tuple[int, Message]] = []
    errors: dict[int, tuple[str, bool]] = {}
    for row in rows:
        try:
            emails.append((row.id, build_email(row, sender)))
        except (ValueError, TypeError, KeyError, LookupError) as exc:
            # A row that cannot become a message (a broken attachment): failed, not retried.
            errors[row.id] = (f"cannot build the message: {type(exc).__name__}: {exc}", True)
    attempts = {row.id: row.attempts for row in rows}
    session.commit()
    if not rows:
        return result
    sent: list[int] = []
    done = 0
    try:
        with open_transport(settings) as transport:
            for message_id, email in emails:
                try:
                    transport.send(email)
                    sent.append(message_id)
                except MESSAGE_ERRORS as exc:
                    errors[message_id] = (f"{type(exc).__name__}: {exc}", is_permanent(exc))
                done += 1
                if len(sent) + len(errors) >= policy.flush_every:
                    _record(session, token, sent, errors, attempts, policy, result)
                    sent, errors = [], {}
    except (OSError, smtplib.SMTPException) as exc:
        # The connection failed: this message and the rest of the batch wait for a retry.
        reason = f"{type(exc).__name__}: {exc}"
        for message_id, _ in emails[done:]:
            errors.setdefault(message_id, (reason, False))
    _record(session, token, sent, errors, attempts, policy, result)
    return result


def enqueue_batches(ids: Sequence[int], policy: DeliveryPolicy) -> int:
    for start in range(0, len(ids), policy.batch_size):
        dispatch(DELIVER_MAIL_BATCH, list(ids[start:start + policy.batch_size]))
    return len(ids)


def recover(session: Session, policy: DeliveryPolicy, now: datetime | None = None) -> list[int]:
    """Free claims gone stale (a dead worker) and find due rows whose message was lost;
    returns the ids to enqueue again."""
    now = now or utcnow()
    stale = (OutboxMessage.status == MailStatus.SENDING,
             OutboxMessage.claimed_at < now - policy.stale_claim)
    session.execute(update(OutboxMessage)
                    .where(*stale, OutboxMessage.attempts >= policy.max_attempts)
                    .values(status=MailStatus.FAILED,
                            last_error="the worker sending it stopped; no attempts left")
                    .execution_options(synchronize_session=False))
    freed = session.scalars(update(OutboxMessage).where(*stale)
                            .values(status=MailStatus.PENDING, claimed_at=None,
                                    next_attempt_at=now)
                            .returning(OutboxMessage.id)
                            .execution_options(synchronize_session=False)).all()
    lost = session.scalars(select(OutboxMessage.id).where(
        OutboxMessage.status == MailStatus.PENDING,
        OutboxMessage.next_attempt_at <= now - policy.resend_after)).all()
    session.commit()
    return sorted(set(freed) | set(lost))


def resend_pending(session: Session) -> int:
    """Re-enqueue due rows (a lost broker message) and rows whose claim went stale."""
    policy = current_policy()
    return enqueue_batches(recover(session, policy), policy)


def resend(session: Session, message_id: int) -> bool:
    """The secretariat sends a failed message again: same row, same Message-ID."""
    changed = affected(session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id, OutboxMessage.status == MailStatus.FAILED)
        .values(status=MailStatus.PENDING, attempts=0, next_attempt_at=utcnow(),
                claimed_at=None, claimed_by=None)
        .execution_options(synchronize_session=False)))
    if changed:
        enqueue_after_commit(session, DELIVER_MAIL, message_id)
    return bool(changed)


def mail_sender(settings: Settings, session: Session | None = None) -> str:
    """The From: MAIL_FROM when set (the operator's choice wins: deliverability), else the
    network's sender (set up by the secretariat), else Sokai at the public host."""
    if settings.mail_from:
        return settings.mail_from
    network = (session.scalar(select(Network).order_by(Network.id))
               if session is not None else None)
    if network is not None and network.secretariat_email:
        name = network.sender_name or network.name.get("en", network.code)
        return formataddr((name, network.secretariat_email), charset="utf-8")
    host = urlsplit(settings.base_url).hostname
    return f"Sokai <sokai@{host}>"


def run_batch(session: Session, ids: list[int]) -> BatchResult:
    """The worker's job: send these rows now; a short retry is scheduled here, longer ones
    are the sweep's (no far-off ETA tasks)."""
    settings = current_settings()
    policy = DeliveryPolicy.from_settings(settings)
    result = deliver_batch(session, ids, settings, mail_sender(settings, session), policy)
    if result.retry_in is not None and result.retry_in < policy.resend_after:
        dispatch(DELIVER_MAIL_BATCH, ids, countdown=result.retry_in.total_seconds())
    return result
