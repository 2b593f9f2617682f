"""Use cases for accounts: creating users, issuing API tokens, checking credentials."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session, joinedload

from models import ApiToken, MemberCity, Role, User, utcnow
from models.errors import DomainError
from models.user import MIN_PASSWORD, burn_password_check, hash_token, normalise_email
from services.audit import record
from services.i18n import _

TOKEN_TOUCH_INTERVAL = timedelta(minutes=1)


def create_user(session: Session, email: str, role: Role | str, password: str | None = None,
                city_code: str | None = None, display_name: str = "",
                language: str = "en") -> User:
    role = Role(role)
    email = normalise_email(email)
    if "@" not in email or len(email) > 254:
        raise DomainError(_("%(email)s is not an email address.", email=email),
                          code="invalid_email", status=422, field="email")
    if session.scalar(select(User).where(User.email == email)) is not None:
        raise DomainError(_("A user with email %(email)s already exists.", email=email),
                          code="duplicate_email", field="email")
    city = None
    if role is Role.LIAISON:
        if not city_code:
            raise DomainError(_("A liaison belongs to a city: give its code."),
                              code="city_required", status=422, field="city")
        city = session.scalar(select(MemberCity).where(MemberCity.code == city_code.upper()))
        if city is None:
            raise DomainError(_("There is no member city with code %(code)s.", code=city_code),
                              code="unknown_city", status=422, field="city")
    elif city_code:
        raise DomainError(_("Only a liaison belongs to a city."), code="no_city_allowed",
                          status=422, field="city")
    user = User(email=email, role=role, city=city, display_name=display_name, language=language)
    if password is not None:
        set_password(user, password)
    session.add(user)
    session.flush()
    return user


def check_password_rule(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise DomainError(_("A password needs at least %(n)d characters.", n=MIN_PASSWORD),
                          code="weak_password", status=422, field="password")


def set_password(user: User, password: str) -> None:
    check_password_rule(password)
    user.set_password(password)


def issue_token(session: Session, email: str, label: str = "") -> str:
    user = session.scalar(select(User).where(User.email == normalise_email(email)))
    if user is None:
        raise DomainError(_("There is no user with email %(email)s.", email=email),
                          code="unknown_user", status=404, field="email")
    token, secret = ApiToken.issue(user, label)
    session.add(token)
    session.flush()
    return secret


def authenticate(session: Session, email: str, password: str) -> User | None:
    """The user for these credentials, or None; both failures take the same time."""
    user = session.scalar(select(User).where(User.email == normalise_email(email)))
    if user is None or not user.is_active:
        burn_password_check(password)
        return None
    ok = user.check_password(password)
    if user.role is Role.SECRETARIAT:  # the trail keeps the secretariat's logins
        record(session, "login.succeeded" if ok else "login.failed", f"user:{user.email}",
               None, None, user)
    return user if ok else None


# The token and its user in one round trip: every API request starts here (built once;
# only the hash varies).
_TOKEN_AND_USER = (select(ApiToken).options(joinedload(ApiToken.user))
                   .where(ApiToken.token_hash == bindparam("token_hash")))


def user_for_token(session: Session, secret: str) -> User | None:
    token = session.scalar(_TOKEN_AND_USER, {"token_hash": hash_token(secret)})
    if token is None or token.revoked_at is not None or not token.user.is_active:
        return None
    now = utcnow()
    # Keep "last used" to the minute: no write on every request of a busy client.
    if token.last_used_at is None or now - token.last_used_at > TOKEN_TOUCH_INTERVAL:
        token.last_used_at = now
    return token.user
