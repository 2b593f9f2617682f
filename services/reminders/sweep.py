"""The reminder sweep: a due reminder becomes one ReminderDelivery per recipient (unique in
the database, inserted with ON CONFLICT DO NOTHING) and one outbox row per delivery actually
inserted, in the same transaction (a chunk of recipients at a time): two sweeps at once, or a
sweep after a crash, add nothing twice. A reminder whose moment passed more than GRACE ago is
skipped, not sent late.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from config import Settings
from models import Assembly, AssemblyStatus, Reminder, ReminderDelivery, ReminderStatus, utcnow
from models.base import localized
from models.mail import new_message_id
from services.audit import SYSTEM, record
from services.calendar.tokens import current_secrets
from services.i18n import in_language
from services.mail.outbox import Draft, checked_draft, failed_draft, queue_messages
from services.reminders.audience import Recipient, audience_size, recipients
from services.reminders.messages import (
    compile_texts,
    feed_url,
    render_in_language,
    uses_feed_link,
)
from services.reminders.timing import GRACE, anchor_instant, due_at

log = logging.getLogger(__name__)


def _insert_deliveries(session: Session, reminder_id: int,
                       rows: list[dict[str, Any]]) -> dict[str, str]:
    """Insert the deliveries that do not exist yet; returns {address: Message-ID} of those.

    A plain executemany with ON CONFLICT DO NOTHING (one statement prepared once, not a huge
    multi-row statement), then a read of the reminder's deliveries: a row carrying the
    Message-ID generated here is one this sweep inserted; a concurrent sweep's rows carry
    theirs (PostgreSQL waited for that sweep to commit before skipping the conflict)."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    table = cast(Table, ReminderDelivery.__table__)
    session.execute(insert(table).on_conflict_do_nothing(
        index_elements=["reminder_id", "to_address"]), rows)
    mine = {row["to_address"]: row["message_id"] for row in rows}
    stored = session.execute(select(table.c.to_address, table.c.message_id)
                             .where(table.c.reminder_id == reminder_id))
    return {address: message_id for address, message_id in stored
            if mine.get(address) == message_id}


# Recipients written per transaction: the first batches are delivered while the rest are
# still being written (10,000 recipients take seconds to render), and a crash part-way leaves
# the committed chunks sent and the rest to the next sweep (the deliveries are unique).
FAN_OUT_CHUNK = 250
# SQLite has one writer at a time: there, delivery claiming rows between the chunks would
# wait on the writer the fan-out holds, and the whole takes longer (measured: 35–38 s instead
# of 33 s for 10,000). It writes the audience in one go.
FAN_OUT_CHUNK_ONE_WRITER = 100_000


def fan_out(session: Session, reminder: Reminder, settings: Settings, now: datetime) -> int:
    """Turn a due reminder into deliveries and outbox rows, committing every FAN_OUT_CHUNK
    recipients; the reminder is marked sent in the caller's transaction, after the last."""
    compile_texts(reminder)  # a broken template fails the reminder, before any delivery row
    people = recipients(session, reminder)
    anchor = anchor_instant(session, reminder)
    reminder_id, status_before = reminder.id, reminder.status.value
    queued = 0
    chunk = (FAN_OUT_CHUNK_ONE_WRITER if session.get_bind().dialect.name == "sqlite"
             else FAN_OUT_CHUNK)
    for start in range(0, len(people), chunk):
        if start:
            session.commit()
        count = _fan_out_chunk(session, reminder, people[start:start + chunk], settings,
                               anchor, now)
        # SQL arithmetic, not the loaded values: a concurrent sweep may have counted already.
        session.execute(update(Reminder).where(Reminder.id == reminder_id).values(
            sent_at=func.coalesce(Reminder.sent_at, now),
            recipient_count=Reminder.recipient_count + count)
            .execution_options(synchronize_session=False))
        queued += count
    if queued:
        record(session, "reminder.triggered", f"reminder:{reminder_id}",
               {"status": status_before},
               {"status": ReminderStatus.SENT.value, "recipients": queued,
                "anchor": None if anchor is None else anchor.isoformat()}, SYSTEM)
    session.execute(update(Reminder).where(Reminder.id == reminder_id).values(
        status=ReminderStatus.SENT, sent_at=func.coalesce(Reminder.sent_at, now), note="")
        .execution_options(synchronize_session=False))
    return queued


def _fan_out_chunk(session: Session, reminder: Reminder, people: list[Recipient],
                   settings: Settings, anchor: datetime | None, now: datetime) -> int:
    """The deliveries and outbox rows of these recipients (in the caller's transaction)."""
    inserted = _insert_deliveries(session, reminder.id, [
        {"reminder_id": reminder.id, "to_address": p.address,
         "message_id": new_message_id(), "created_at": now} for p in people]) if people else {}
    # Each delegate's working feed link (issued if they had none), for all of them at once,
    # when the texts carry it.
    secrets = current_secrets(session, [p.delegate_id for p in people
                                        if p.delegate_id and p.address in inserted]
                              ) if uses_feed_link(reminder) else {}
    drafts = []
    for lang in sorted({p.language for p in people}):
        with in_language(lang):  # once per language, not once per recipient
            for person in people:
                if person.language != lang or person.address not in inserted:
                    continue  # another sweep got there first
                try:
                    message = render_in_language(
                        session, reminder, person, settings, anchor, strict=False,
                        feed=feed_url(settings, secrets.get(person.delegate_id or 0)))
                    draft = checked_draft(Draft(
                        kind="reminder", to_address=person.address, to_name=person.name,
                        subject=message.subject, text_body=message.text,
                        html_body=message.html, language=person.language,
                        assembly_id=reminder.assembly_id, attachments=message.attachments,
                        message_id=inserted[person.address]))
                except Exception as exc:  # one recipient's message: the others still go
                    log.warning("reminder %s: no message for %s: %s", reminder.id,
                                person.address, exc)
                    draft = failed_draft(
                        kind="reminder", to_address=person.address, to_name=person.name,
                        subject=localized(reminder.subject, person.language),
                        language=person.language, assembly_id=reminder.assembly_id,
                        message_id=inserted[person.address],
                        error=f"the message could not be built: {type(exc).__name__}: {exc}")
                drafts.append(draft)
    queue_messages(session, drafts)
    return len(drafts)


def send_due_reminders(session: Session, settings: Settings, now: datetime | None = None,
                       grace: timedelta = GRACE) -> int:
    """Queue every reminder now due, once per recipient; skip those too late. Commits."""
    now = now or utcnow()
    queued = 0
    reminder_ids = session.scalars(select(Reminder.id).join(Assembly).where(
        Reminder.status == ReminderStatus.ACTIVE, Assembly.status == AssemblyStatus.OPEN)
        .order_by(Reminder.id)).all()
    session.commit()
    # Transactions per reminder (a chunk of recipients each): a reminder that cannot be sent
    # is marked failed with the reason (the chunks already written still go) and the sweep
    # goes on; it never rolls back the others' messages.
    for reminder_id in reminder_ids:
        try:
            queued += _sweep_one(session, reminder_id, settings, now, grace)
            session.commit()
        except Exception as exc:
            session.rollback()
            log.exception("reminder %s could not be sent", reminder_id)
            session.execute(update(Reminder).where(
                Reminder.id == reminder_id, Reminder.status == ReminderStatus.ACTIVE).values(
                status=ReminderStatus.FAILED,
                note=f"not sent: {type(exc).__name__}: {exc}"[:400])
                .execution_options(synchronize_session=False))
            session.commit()
    return queued


def _sweep_one(session: Session, reminder_id: int, settings: Settings, now: datetime,
               grace: timedelta) -> int:
    reminder = session.get(Reminder, reminder_id)
    if reminder is None or reminder.status is not ReminderStatus.ACTIVE:
        return 0
    due = due_at(session, reminder)
    if due is None or due > now:
        return 0
    if now - due > grace:
        session.execute(update(Reminder).where(
            Reminder.id == reminder.id, Reminder.status == ReminderStatus.ACTIVE).values(
            status=ReminderStatus.SKIPPED,
            note=f"due {due:%Y-%m-%d %H:%M} UTC; not sent late (more than {grace} past)")
            .execution_options(synchronize_session=False))
        return 0
    return fan_out(session, reminder, settings, now)


@dataclass(frozen=True)
class ReminderView:
    reminder: Reminder
    due_at: datetime | None
    audience_size: int


def reminders_of(session: Session, assembly: Assembly) -> list[ReminderView]:
    """The assembly's reminders in the order they fall due, with their audience size now."""
    views = [ReminderView(r, due_at(session, r), audience_size(session, r))
             for r in session.scalars(select(Reminder).where(Reminder.assembly_id == assembly.id)
                                      .order_by(Reminder.id))]
    far = datetime.max.replace(tzinfo=UTC)
    return sorted(views, key=lambda v: (v.due_at or far, v.reminder.id))
