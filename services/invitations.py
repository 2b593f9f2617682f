"""Invitations: a liaison per city (one-time link to set a password) and delegates (a personal
link to confirm their details and sign up for optional items). Mail goes through the outbox
in the same transaction."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import UTC, datetime, time, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from config import current_settings
from models import (
    Assembly,
    Delegate,
    Invitation,
    InvitationKind,
    MemberCity,
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
from services.i18n import _, gettext, in_language, salutation
from services.mail.outbox import queue_message

LIAISON_LINK_LIFETIME = timedelta(days=7)


def _base_url() -> str:
    return current_settings().base_url.rstrip("/")


def _new_token() -> tuple[str, str]:
    token = secrets.token_urlsafe(32)
    return token, hash_token(token)


def invite_liaison(session: Session, city: MemberCity, email: str, language: str,
                   actor: User, now: datetime | None = None, name: str = ""
                   ) -> tuple[Invitation, str]:
    """Create (or reuse) the city's liaison account and email a link to set its password,
    addressed by `name` (as the liaison writes it: 鈴木 花子) when given.

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
    if name.strip():
        user.display_name = name.strip()[:200]
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
        body = salutation(user.display_name) + "\n\n" + gettext(
            "You are invited to register the delegation of %(city)s in Sokai.\n\n"
            "Open this link to choose your password (it works once, for 7 days):\n"
            "%(link)s\n", city=city_name, link=link)
    queue_message(session, kind="invitation", to_address=email, subject=subject,
                  text_body=body, language=language)
    return invitation, token


def _invitation(session: Session, token: str, kind: InvitationKind) -> Invitation | None:
    invitation = session.scalar(select(Invitation).where(
        Invitation.token_hash == hash_token(token), Invitation.kind == kind))
    if (invitation is None or invitation.expires_at < utcnow()
            or invitation.voided_at is not None):
        return None
    return invitation


def mark_opened(session: Session, invitation: Invitation) -> None:
    """The link was followed: the first time is kept (what the pages show as "opened")."""
    if invitation.opened_at is None:
        session.execute(update(Invitation).where(Invitation.id == invitation.id,
                                                 Invitation.opened_at.is_(None))
                        .values(opened_at=utcnow())
                        .execution_options(synchronize_session=False))
        session.expire(invitation, ["opened_at"])


def void_invitation(session: Session, invitation: Invitation, actor: User) -> None:
    """Withdraw a link that was not used yet (a wrong address, a person who left)."""
    require_city_access(actor, invitation.city)
    if invitation.kind is InvitationKind.LIAISON:
        require_secretariat(actor)
    if invitation.accepted_at is not None:
        raise DomainError(_("This invitation was accepted already."),
                          code="invitation_accepted", status=409)
    if invitation.voided_at is None:
        invitation.voided_at = utcnow()
        session.flush()


def resend_liaison_invitation(session: Session, invitation: Invitation, actor: User
                              ) -> tuple[Invitation, str]:
    """A fresh link to the same address; the old one stops working."""
    if invitation.kind is not InvitationKind.LIAISON:
        raise DomainError(_("This is not a liaison's invitation."), code="wrong_kind",
                          status=404)
    void_invitation(session, invitation, actor)
    language = invitation.user.language if invitation.user is not None else "en"
    return invite_liaison(session, invitation.city, invitation.email, language, actor)


def invite_liaisons(session: Session, wanted: list[tuple[str, str, str]], actor: User
                    ) -> list[tuple[int, str, str]]:
    """Invite many liaisons at once, [(city code, email, language)]: every row or none.
    Returns the errors as (row number from 1, field, message); the caller commits only when
    there are none."""
    from services.cities import find_city

    require_secretariat(actor)
    errors: list[tuple[int, str, str]] = []
    savepoint = session.begin_nested()
    for number, (code, email, language) in enumerate(wanted, start=1):
        try:
            invite_liaison(session, find_city(session, code, "code"), email,
                           language_or_default(language), actor)
        except DomainError as exc:
            errors.append((number, exc.field or "", exc.message))
    if errors:
        savepoint.rollback()
    else:
        savepoint.commit()
    return errors


def latest_delegate_invitations(session: Session, delegate_ids: list[int]
                                ) -> dict[int, Invitation]:
    """Each delegate's most recent invitation (for its state on the delegation's page)."""
    latest: dict[int, Invitation] = {}
    for start in range(0, len(delegate_ids), 1000):
        for invitation in session.scalars(select(Invitation).where(
                Invitation.kind == InvitationKind.DELEGATE,
                Invitation.delegate_id.in_(delegate_ids[start:start + 1000]))
                .order_by(Invitation.created_at, Invitation.id)):
            assert invitation.delegate_id is not None
            latest[invitation.delegate_id] = invitation
    return latest


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
        body = salutation(delegate.addressed_as(lang)) + "\n\n" + gettext(
            "You are registered for %(assembly)s.\n\nCheck your details and choose optional "
            "visits here (your personal link; do not share it):\n%(link)s\n",
            assembly=title, link=link)
        if calendar:
            body += "\n" + gettext("Your programme and personal calendar (to subscribe to in "
                                   "your calendar app):\n%(link)s\n", link=calendar)
    queue_message(session, kind="delegate_invitation", to_address=delegate.email,
                  to_name=delegate.full_name, subject=subject, text_body=body, language=lang,
                  assembly_id=assembly.id)
    return invitation, token


def delegate_for_token(session: Session, token: str) -> Delegate | None:
    """The delegate whose personal link this is; following it counts as opening it."""
    invitation = _invitation(session, token, InvitationKind.DELEGATE)
    if invitation is None:
        return None
    mark_opened(session, invitation)
    return invitation.delegate


def delegate_confirmed(session: Session, token: str) -> None:
    """The delegate confirmed their details through this link: the invitation is accepted."""
    invitation = _invitation(session, token, InvitationKind.DELEGATE)
    if invitation is not None and invitation.accepted_at is None:
        invitation.accepted_at = utcnow()
        session.flush()


def invitations_by_city(session: Session, cities: Sequence[MemberCity]
                        ) -> dict[int, list[Invitation]]:
    """Each city's liaison invitations, newest first, in one query (the city list shows
    them all)."""
    found: dict[int, list[Invitation]] = {city.id: [] for city in cities}
    for invitation in session.scalars(select(Invitation).where(
            Invitation.city_id.in_(list(found)), Invitation.kind == InvitationKind.LIAISON)
            .order_by(Invitation.created_at.desc())):
        if invitation.city_id is not None:
            found[invitation.city_id].append(invitation)
    return found
