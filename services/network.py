"""The network itself: first-run setup (the network and the first secretariat account, once,
through a link only the person who started Sokai sees) and its settings afterwards."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from config import Settings
from models import Network, Role, User
from models.errors import DomainError
from models.languages import REGISTRY
from models.user import normalise_email
from services.accounts import check_password_rule, create_user
from services.cities import check_zone, names_with_english
from services.i18n import _

# The first network always takes this id: two setups racing each other collide on the
# primary key, so only one of them can claim the instance.
FIRST_NETWORK_ID = 1


def has_network(session: Session) -> bool:
    return session.scalar(select(Network.id).limit(1)) is not None


def setup_token(settings: Settings) -> str:
    """The secret part of the setup link: derived from the instance's secret key, so every
    web process agrees on it without storing it, and nobody without the key can guess it.
    It stops working when a network exists (see `check_setup_token`)."""
    digest = hmac.new(settings.secret_key.encode(), b"sokai first-run setup",
                      hashlib.sha256).hexdigest()
    return digest[:40]


def setup_url(settings: Settings) -> str:
    return f"{settings.base_url.rstrip('/')}/setup/{setup_token(settings)}"


def setup_is_open(session: Session, settings: Settings, token: str) -> bool:
    """True while the instance is unclaimed and the token is this instance's."""
    return (hmac.compare_digest(token.encode(), setup_token(settings).encode())
            and not has_network(session))


def _email(value: str, field: str) -> str:
    email = normalise_email(value)
    if "@" not in email or len(email) > 254 or " " in email:
        raise DomainError(_("%(email)s is not an email address.", email=value),
                          code="invalid_email", status=422, field=field)
    return email


def _network_code(value: str) -> str:
    code = value.strip().upper()
    if not code or len(code) > 32 or not code.replace("-", "").isalnum():
        raise DomainError(_("A network code is letters, digits and hyphens, at most 32."),
                          code="invalid_code", status=422, field="code")
    return code


def _names(name: dict[str, str]) -> dict[str, str]:
    unknown = sorted(set(name) - set(REGISTRY))
    if unknown:
        raise DomainError(_("Unknown language: %(code)s.", code=", ".join(unknown)),
                          code="unknown_language", status=422, field="name")
    return names_with_english(name)


def create_network(session: Session, *, code: str, name: dict[str, str], home_timezone: str,
                   secretariat_email: str, sender_name: str = "") -> Network:
    """The instance's network; refused when there is one already. Flushes, no commit."""
    if has_network(session):
        raise DomainError(_("This Sokai already has its network."), code="network_exists",
                          status=409)
    network = Network(id=FIRST_NETWORK_ID, code=_network_code(code), name=_names(name),
                      home_timezone=check_zone(home_timezone, "home_timezone"),
                      secretariat_email=_email(secretariat_email, "secretariat_email"),
                      sender_name=sender_name.strip()[:120])
    session.add(network)
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        raise DomainError(_("This Sokai already has its network."), code="network_exists",
                          status=409) from None
    return network


def set_up(session: Session, *, network: dict[str, Any], email: str, password: str,
           display_name: str = "", language: str = "en") -> tuple[Network, User]:
    """First run: the network and the first secretariat account, in one transaction."""
    check_password_rule(password)
    created = create_network(session, **network)
    user = create_user(session, _email(email, "email"), Role.SECRETARIAT, password,
                       display_name=display_name.strip(), language=language)
    return created, user


def update_network(session: Session, network: Network, **changes: Any) -> Network:
    """The secretariat changes the network's settings (the code stays: URLs carry it)."""
    if "name" in changes:
        network.name = _names(changes["name"])
    if "home_timezone" in changes:
        network.home_timezone = check_zone(changes["home_timezone"], "home_timezone")
    if "secretariat_email" in changes:
        network.secretariat_email = _email(changes["secretariat_email"], "secretariat_email")
    if "sender_name" in changes:
        network.sender_name = (changes["sender_name"] or "").strip()[:120]
    session.flush()
    return network
