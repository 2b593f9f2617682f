"""People who log in (secretariat, city liaisons, delegates, door staff) and their API tokens."""

from __future__ import annotations

import contextlib
import enum
import hashlib
import secrets
from datetime import datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from models.base import Base, enum_column, utcnow
from models.network import MemberCity

# OWASP's argon2id configuration (19 MiB, 2 passes, 1 lane): about 25 ms of one core per
# login. argon2-cffi's default (64 MiB, 3 passes, 4 lanes) costs 200 ms of CPU, so that a few
# dozen logins at once (liaisons before a deadline) fill a two-core server. Older hashes still
# verify and are rehashed with these parameters at the next login (check_password).
_hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
MIN_PASSWORD = 10
# Verified against when the email is unknown, so a miss costs the same time as a hit.
_DUMMY_HASH = _hasher.hash("sokai-dummy-password")


class Role(enum.StrEnum):
    SECRETARIAT = "secretariat"
    LIAISON = "liaison"
    DELEGATE = "delegate"
    STAFF = "staff"  # door staff: search, scan and check in at assigned assemblies only


def normalise_email(email: str) -> str:
    return email.strip().lower()


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    display_name: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str | None] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(enum_column(Role, "user_role"))
    city_id: Mapped[int | None] = mapped_column(ForeignKey("member_cities.id"))
    language: Mapped[str] = mapped_column(String(8), default="en")
    timezone: Mapped[str | None] = mapped_column(String(64))
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Part of the id kept in every login session: raising it (logging out, a new password)
    # ends every session made before, on every device.
    session_version: Mapped[int] = mapped_column(default=0, server_default="0")

    city: Mapped[MemberCity | None] = relationship()

    @validates("email")
    def _normalise(self, _key: str, value: str) -> str:
        return normalise_email(value)

    def set_password(self, password: str) -> None:
        if len(password) < MIN_PASSWORD:
            raise ValueError(f"a password needs at least {MIN_PASSWORD} characters")
        self.password_hash = _hasher.hash(password)
        self.end_sessions()

    def end_sessions(self) -> None:
        """Every login session made before this is refused from now on."""
        self.session_version = (self.session_version or 0) + 1

    def check_password(self, password: str) -> bool:
        if not self.password_hash:
            return False
        try:
            _hasher.verify(self.password_hash, password)
        except (VerificationError, InvalidHashError):
            return False
        if _hasher.check_needs_rehash(self.password_hash):
            self.password_hash = _hasher.hash(password)
        return True

    # The session protocol Flask-Login expects (a logged-in account is never anonymous).
    is_authenticated = True
    is_anonymous = False

    def get_id(self) -> str:
        # Flask-Login's alternative id: the session names the version it was made under.
        return f"{self.id}.{self.session_version or 0}"

    @staticmethod
    def parse_session_id(value: str) -> tuple[int, int] | None:
        """(user id, session version) from get_id(); a bare id is a session from before
        versions existed (version 0)."""
        user_id, _, version = value.partition(".")
        if not user_id.isdigit() or not (version.isdigit() or version == ""):
            return None
        return int(user_id), int(version or 0)

    @property
    def is_secretariat(self) -> bool:
        return self.role is Role.SECRETARIAT

    def __repr__(self) -> str:
        return f"<User {self.email} {self.role.value}>"


def burn_password_check(password: str) -> None:
    """Spend the time of a real verification for an unknown account."""
    with contextlib.suppress(VerificationError):
        _hasher.verify(_DUMMY_HASH, password)


def hash_token(token: str) -> str:
    # Tokens are 32 random bytes: a fast hash is enough, and lets us look them up by hash.
    return hashlib.sha256(token.encode()).hexdigest()


class ApiToken(Base):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()

    @classmethod
    def issue(cls, user: User, label: str = "") -> tuple[ApiToken, str]:
        """A new token row and the secret, which is shown once and never stored."""
        secret = "sk_" + secrets.token_urlsafe(32)
        return cls(user=user, token_hash=hash_token(secret), label=label), secret
