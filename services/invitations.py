"""Invitations: a liaison per city (one-time link to set a password) and delegates (a personal
link to confirm their details and sign up for optional items). Mail goes through the outbox
in the same transaction."""

from __future__ import annotations

import enum
import secrets
from collections.abc import Sequence
from datetime import UTC, datetime, time, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from config import current_settings
from models import (
    Assembly,
    Delegate,
    DelegateStatus,
    Invitation,
    InvitationKind,
    MailStatus,
    MemberCity,
    OutboxMessage,
    Role,
    User,
    utcnow,
)
from models.base import affected
from models.errors import DomainError
from models.languages import language_or_default
from models.user import hash_token, normalise_email
from services.access import require_city_access, require_secretariat
from services.accounts import check_password_rule, set_password
from services.calendar.tokens import personal_page_url
from services.i18n import _, gettext, in_language
from services.mail.outbox import queue_message

LIAISON_LINK_LIFETIME = timedelta(days=7)


def _base_url() -> str:
    return current_settings().base_url.rstrip("/")


def _new_token() -> tuple[str, str]:
    token = secrets.token_urlsafe(32)
    return token, hash_token(token)


def invite_liaison(session: Session, city: MemberCity, email: str, language: str,
                   actor: User, now: datetime | None = None) -> tuple[Invitation, str]:
    """Create (or reuse) the city's liaison account and email a link to set its password.

    Returns the invitation and its token (which is only ever sent, never stored)."""
    require_secretariat(actor)
    email = normalise_email(email)
    if "@" not in email:
        raise DomainError(_("%(email)s is not an email address.", email=email),
                          code="invalid_email", status=422, field="email")
    user = session.scalar(select(User).where(User.email == email))
    if user is None:
        user = User(email=email, role=Role.LIAISON, city=city, language=language)
        session.add(user)
    elif user.role is not Role.LIAISON or user.city_id != city.id:
        raise DomainError(_("%(email)s already has an account that is not this city's liaison.",
                          email=email), code="email_taken", field="email")
    now = now or utcnow()
    token, digest = _new_token()
    invitation = Invitation(kind=InvitationKind.LIAISON, token_hash=digest, email=email,
                            city=city, user=user, created_by_id=actor.id, created_at=now,
                            expires_at=now + LIAISON_LINK_LIFETIME)
    session.add(invitation)
    session.flush()
    link = f"{_base_url()}/invitation/{token}"
    with in_language(language):
        city_name = city.name.get(language) or city.name.get("en", city.code)
        subject = gettext("Sokai: you are invited as the liaison of %(city)s", city=city_name)
        body = gettext("You are invited to register the delegation of %(city)s in Sokai.\n\n"
                       "Open this link to choose your password (it works once, for 7 days):\n"
                       "%(link)s\n", city=city_name, link=link)
    queue_message(session, kind="invitation", to_address=email, subject=subject,
                  text_body=body, language=language)
    return invitation, token


def _invitation(session: Session, token: str, kind: InvitationKind) -> Invitation | None:
    invitation = session.scalar(select(Invitation).where(
        Invitation.token_hash == hash_token(token), Invitation.kind == kind))
    if invitation is None or invitation.expires_at < utcnow():
        return None
    return invitation


def open_liaison_invitation(session: Session, token: str) -> Invitation | None:
    invitation = _invitation(session, token, InvitationKind.LIAISON)
    return None if invitation is None or invitation.accepted_at is not None else invitation


def accept_liaison_invitation(session: Session, token: str, password: str) -> User:
    """Set the password and mark the link used. The link is claimed with one conditional
    UPDATE: of requests racing on the same link exactly one wins, the others are refused."""
    invitation = open_liaison_invitation(session, token)
    if invitation is None or invitation.user is None:
        raise DomainError(_("This invitation link has expired or was already used."),
                          code="invitation_invalid", status=404)
    check_password_rule(password)
    now = utcnow()
    claimed = affected(session.execute(
        update(Invitation)
        .where(Invitation.id == invitation.id, Invitation.accepted_at.is_(None),
               Invitation.expires_at >= now)
        .values(accepted_at=now)
        .execution_options(synchronize_session=False)))
    if claimed != 1:
        raise DomainError(_("This invitation link has expired or was already used."),
                          code="invitation_used", status=409)
    session.expire(invitation, ["accepted_at"])
    set_password(invitation.user, password)
    invitation.user.is_active = True
    session.flush()
    return invitation.user


def invite_delegate(session: Session, delegate: Delegate, actor: User
                    ) -> tuple[Invitation, str]:
    """Email the delegate a personal link, valid until the assembly's last day is over.

    Returns the invitation and its token (which is only ever sent, never stored)."""
    assembly = session.get(Assembly, delegate.assembly_id)
    assert assembly is not None
    city = delegate.delegation.city
    require_city_access(actor, city)
    if not delegate.email:
        raise DomainError(_("Add the delegate's email address first."), code="email_required",
                          status=422, field="email")
    token, digest = _new_token()
    end = datetime.combine(assembly.ends_on + timedelta(days=1), time(), tzinfo=assembly.zone)
    invitation = Invitation(kind=InvitationKind.DELEGATE, token_hash=digest,
                            email=delegate.email, city=city, delegate=delegate,
                            created_by_id=actor.id, expires_at=max(end.astimezone(UTC),
                                                                   utcnow() + timedelta(days=7)))
    session.add(invitation)
    session.flush()
    link = f"{_base_url()}/d/{token}"
    calendar = personal_page_url(session, delegate.id, _base_url())
    lang = language_or_default(delegate.language)
    with in_language(lang):
        title = assembly.title.get(lang) or assembly.title.get("en", "")
        subject = gettext("Please confirm your registration for %(assembly)s", assembly=title)
        body = gettext("%(name)s, you are registered for %(assembly)s.\n\nCheck your details "
                       "and choose optional visits here (your personal link; do not share "
                       "it):\n%(link)s\n", name=delegate.name_for(lang), assembly=title, link=link)
        if calendar:
            body += "\n" + gettext("Your programme and personal calendar (to subscribe to in "
                                   "your calendar app):\n%(link)s\n", link=calendar)
    queue_message(session, kind="delegate_invitation", to_address=delegate.email,
                  to_name=delegate.full_name, subject=subject, text_body=body, language=lang,
                  assembly_id=assembly.id)
    return invitation, token


def delegate_for_token(session: Session, token: str) -> Delegate | None:
    """The delegate whose link this is; the first opening is noted (the liaison sees it)."""
    invitation = _invitation(session, token, InvitationKind.DELEGATE)
    if invitation is None:
        return None
    if invitation.opened_at is None:
        invitation.opened_at = utcnow()
    return invitation.delegate


class InvitationState(enum.StrEnum):
    """How far a delegate's invitation got, as their liaison sees it."""
    NOT_SENT = "not_sent"
    QUEUED = "queued"  # the mail is waiting to go out
    FAILED = "failed"  # the mail could not be delivered
    SENT = "sent"
    OPENED = "opened"  # the delegate opened the link
    CONFIRMED = "confirmed"  # the delegate confirmed their details


def invitation_states(session: Session, delegates: Sequence[Delegate]
                      ) -> dict[int, InvitationState]:
    """Per delegate id, in two queries: the latest invitation and the state of its mail."""
    ids = [d.id for d in delegates]
    latest: dict[int, Invitation] = {}
    for invitation in session.scalars(select(Invitation).where(
            Invitation.kind == InvitationKind.DELEGATE, Invitation.delegate_id.in_(ids))
            .order_by(Invitation.created_at, Invitation.id)):
        assert invitation.delegate_id is not None
        latest[invitation.delegate_id] = invitation
    addresses = {i.email for i in latest.values()}
    mail: dict[str, MailStatus] = {}
    for address, status in session.execute(
            select(OutboxMessage.to_address, OutboxMessage.status).where(
                OutboxMessage.kind == "delegate_invitation",
                OutboxMessage.to_address.in_(addresses)).order_by(OutboxMessage.id)):
        mail[address] = status
    states = {}
    for delegate in delegates:
        last = latest.get(delegate.id)
        if delegate.status is DelegateStatus.CONFIRMED:
            states[delegate.id] = InvitationState.CONFIRMED
        elif last is None:
            states[delegate.id] = InvitationState.NOT_SENT
        elif last.opened_at is not None:
            states[delegate.id] = InvitationState.OPENED
        else:
            states[delegate.id] = {MailStatus.SENT: InvitationState.SENT,
                                   MailStatus.FAILED: InvitationState.FAILED}.get(
                mail.get(last.email, MailStatus.PENDING), InvitationState.QUEUED)
    return states


def invitations_of(session: Session, city: MemberCity) -> list[Invitation]:
    return list(session.scalars(select(Invitation).where(
        Invitation.city_id == city.id, Invitation.kind == InvitationKind.LIAISON)
        .order_by(Invitation.created_at.desc())))
