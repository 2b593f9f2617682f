"""Personal data kept only as long as needed.

Each network keeps its delegates' personal data (names, local names, honorifics, titles,
e-mail addresses) for `retention_months` after an assembly's last day, once the assembly is
closed; then `anonymise_expired` (scheduled hourly) removes it. The secretariat can export
one delegate's data as JSON and erase it on request at any time. Either way the person stays
a row: delegation, role, status, sign-ups and every count stay as they were, so reports and
decision records keep their numbers; only the names read "Anonymised". The mail log and the
audit trail lose the person's address and values, never their entries. Stored files with the
names go too: the badge PDFs that may show the person (built again without the name after an
erasure, deleted by the retention job), the summary files (deleted, and the summary built
again with "Anonymised" for the names) and the mail drop's copies of their messages.
"""

from __future__ import annotations

import calendar
from datetime import date, datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from config import current_settings
from models import (
    Assembly,
    AssemblyStatus,
    AuditEntry,
    Delegate,
    Invitation,
    Network,
    OutboxMessage,
    ProgrammeItem,
    ReminderDelivery,
    Signup,
    User,
    utcnow,
)
from models.errors import DomainError
from services.access import require_secretariat
from services.audit import SYSTEM, record, redact
from services.calendar.tokens import forget_personal_feed
from services.checkin.badges import forget_badge_files
from services.delegations import delegate_state
from services.i18n import _
from services.mail.delivery import drop_file
from services.summaries.jobs import forget_summary_files

ANONYMISED = "Anonymised"
PERSONAL_FIELDS = ("family_name", "given_name", "name_local", "honorific", "title", "email")
REMOVED_TEXT = "(removed: personal data)"


def placeholder_address(delegate: Delegate) -> str:
    # Unique per person (rows keyed by address stay distinct) and undeliverable (RFC 6761).
    return f"anonymised-{delegate.id}@anonymised.invalid"


def add_months(day: date, months: int) -> date:
    year, month = divmod(day.month - 1 + months, 12)
    year, month = day.year + year, month + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def set_retention(session: Session, network: Network, months: int) -> None:
    """The operator's setting (`sokai retention CODE MONTHS`)."""
    if not 1 <= months <= 240:
        raise DomainError(_("Keep personal data between 1 and 240 months."),
                          code="invalid_retention", status=422, field="retention_months")
    network.retention_months = months
    session.flush()


def export_delegate(session: Session, delegate: Delegate, user: User) -> dict[str, Any]:
    """Everything Sokai holds about one delegate, as JSON-ready values."""
    require_secretariat(user)
    assembly = session.get(Assembly, delegate.assembly_id)
    assert assembly is not None
    items = session.scalars(select(ProgrammeItem).join(Signup, Signup.item_id == ProgrammeItem.id)
                            .where(Signup.delegate_id == delegate.id)
                            .order_by(ProgrammeItem.starts_at))
    mails: list[OutboxMessage] = list(session.scalars(select(OutboxMessage).where(
        OutboxMessage.to_address == delegate.email).order_by(OutboxMessage.id))
        ) if delegate.email else []
    trail = session.scalars(select(AuditEntry).where(
        AuditEntry.subject == f"delegate:{delegate.id}").order_by(AuditEntry.id))
    return {
        "delegate": {"id": delegate.id, **delegate_state(delegate),
                     "created_at": delegate.created_at.isoformat(),
                     "anonymised_at": (delegate.anonymised_at.isoformat()
                                       if delegate.anonymised_at else None)},
        "assembly": {"slug": assembly.slug, "title": assembly.title},
        "city": delegate.delegation.city.code,
        "programme": [{"id": i.id, "title": i.title, "starts_at": i.starts_at.isoformat()}
                      for i in items],
        "mail": [{"subject": m.subject, "status": m.status.value,
                  "created_at": m.created_at.isoformat(),
                  "sent_at": m.sent_at.isoformat() if m.sent_at else None} for m in mails],
        "audit": [{"at": e.at.isoformat(), "action": e.action, "actor": e.actor,
                   "before": e.before, "after": e.after} for e in trail],
    }


def _anonymise(session: Session, delegate: Delegate, now: datetime) -> None:
    address, placeholder = delegate.email, placeholder_address(delegate)
    settings = current_settings()
    if address:
        for message in session.scalars(select(OutboxMessage).where(
                OutboxMessage.to_address == address,
                OutboxMessage.assembly_id == delegate.assembly_id)):
            message.to_address, message.to_name = placeholder, ""
            message.text_body, message.html_body = REMOVED_TEXT, None
            message.attachments = []
            # The embedded mode's copy of a sent message (no SMTP_URL) goes with the text.
            drop_file(settings, message.message_id).unlink(missing_ok=True)
        for delivery in session.scalars(select(ReminderDelivery).where(
                ReminderDelivery.to_address == address)):
            delivery.to_address = placeholder
    for invitation in session.scalars(select(Invitation).where(
            or_(Invitation.delegate_id == delegate.id,
                Invitation.email == (address or placeholder)))):
        if invitation.delegate_id in (None, delegate.id):
            invitation.email = placeholder
    forget_personal_feed(session, delegate, settings.redis_url)
    redact(session, f"delegate:{delegate.id}", PERSONAL_FIELDS)
    delegate.family_name, delegate.given_name, delegate.name_local = ANONYMISED, "", ""
    delegate.honorific, delegate.title, delegate.email = "", {}, None
    delegate.anonymised_at = now


def erase_delegate(session: Session, delegate: Delegate, user: User) -> None:
    """On the person's request: remove their personal data now (the caller commits)."""
    require_secretariat(user)
    if delegate.anonymised_at is not None:
        raise DomainError(_("This delegate's personal data was already removed."),
                          code="already_anonymised", status=409)
    _anonymise(session, delegate, utcnow())
    # The badge PDFs that may show the person are built again, their badge nameless; so is
    # the summary (its participant list names everyone).
    forget_badge_files(session, delegate.assembly_id, delegate)
    assembly = session.get(Assembly, delegate.assembly_id)
    assert assembly is not None
    forget_summary_files(session, assembly)
    record(session, "delegate.erased", f"delegate:{delegate.id}", None,
           {"anonymised": True}, user)
    session.flush()


def anonymise_expired(session: Session, now: datetime | None = None) -> int:
    """Anonymise the delegates of closed assemblies past their network's retention period;
    returns how many. Commits per assembly (a long backlog makes progress)."""
    now = now or utcnow()
    done = 0
    closed = session.execute(select(Assembly, Network.retention_months)
                             .join(Network, Assembly.network_id == Network.id)
                             .where(Assembly.status == AssemblyStatus.CLOSED)).all()
    for assembly, months in closed:
        if add_months(assembly.ends_on, months) > now.date():
            continue
        people = session.scalars(select(Delegate).where(
            Delegate.assembly_id == assembly.id, Delegate.anonymised_at.is_(None))).all()
        for delegate in people:
            _anonymise(session, delegate, now)
        if people:
            # Printed badges carry names and nothing else worth keeping once it is over.
            forget_badge_files(session, assembly.id, rebuild=False)
            forget_summary_files(session, assembly)
            record(session, "retention.anonymised", f"assembly:{assembly.slug}", None,
                   {"delegates": len(people), "retention_months": months}, SYSTEM)
            session.commit()
            done += len(people)
    return done
