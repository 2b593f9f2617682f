"""Use cases of registration: member cities, assemblies, delegations, delegates, sign-ups.

Handlers parse and authorise; these functions check the domain rules and write rows. The
caller owns the transaction (commit or roll back).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, contains_eager

from models import (
    ACTIVE_PROXY_STATUSES,
    Assembly,
    AssemblyStatus,
    Delegate,
    DelegateRole,
    DelegateStatus,
    Delegation,
    DelegationStatus,
    MemberCity,
    Network,
    ProgrammeItem,
    ProxyLetter,
    ProxyLetterEvent,
    ProxyStatus,
    Quorum,
    Role,
    Signup,
    UnknownTimeZoneError,
    User,
    utcnow,
    validate_timezone,
)
from models.delegation import COUNTED_STATUSES
from services.reminders import create_default_reminders
from services.wording import _, instant_in_zone
from tasks.feeds import request_rebuild


class RuleError(ValueError):
    """A request that breaks a domain rule: the message says which, in the user's words.

    `status` is the HTTP status a handler answers with (409 conflict with the current state,
    422 invalid value, 403 not allowed, 404 unknown); `field` names the form field at fault.
    """

    def __init__(self, message: str, *, code: str, status: int = 409,
                 field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.status = status
        self.field = field


def user_zone(user: User | None, assembly: Assembly) -> str:
    """The zone a person reads times in: their own, else their city's, else the host's."""
    if user is not None and user.timezone:
        return user.timezone
    if user is not None and user.city is not None:
        return user.city.timezone
    return assembly.timezone


# --- authorisation ------------------------------------------------------------------------


def may_act_for(user: User, city: MemberCity) -> bool:
    """The secretariat acts for every city; a liaison only for their own."""
    return user.is_secretariat or (user.role is Role.LIAISON and user.city_id == city.id)


def require_city_access(user: User, city: MemberCity) -> None:
    if not may_act_for(user, city):
        raise RuleError(_("You may only act for your own city."), code="forbidden", status=403)


def require_secretariat(user: User) -> None:
    if not user.is_secretariat:
        raise RuleError(_("Only the secretariat may do this."), code="forbidden", status=403)


def require_registration_open(assembly: Assembly, user: User, now: datetime | None = None,
                              *, until_proxy_deadline: bool = False) -> None:
    """Liaisons change their delegation while registration is open and before its deadline;
    the secretariat may correct things at any time (e.g. on site).

    Declaring the city absent stays possible until the proxy deadline, so that a city that
    finds it cannot come can still give its letter.
    """
    if user.is_secretariat:
        return
    if assembly.status is not AssemblyStatus.OPEN:
        raise RuleError(_("Registration for this assembly is not open."),
                        code="registration_closed")
    now = now or utcnow()
    deadline = assembly.registration_deadline
    if until_proxy_deadline:
        deadline = max(deadline, assembly.proxy_deadline)
    if now > deadline:
        raise RuleError(
            _("The deadline has passed: it was %(deadline)s.",
              deadline=instant_in_zone(deadline, user_zone(user, assembly))),
            code="deadline_passed")


# --- member cities ------------------------------------------------------------------------


def the_network(session: Session) -> Network:
    network = session.scalar(select(Network).order_by(Network.id))
    if network is None:
        raise RuleError(_("There is no network yet: load one with `sokai demo` or the CLI."),
                        code="no_network", status=409)
    return network


def find_city(session: Session, code: str, field: str = "city") -> MemberCity:
    city = session.scalar(select(MemberCity).where(MemberCity.code == code.strip().upper()))
    if city is None:
        raise RuleError(_("There is no member city with code %(code)s.", code=code),
                        code="unknown_city", status=404 if field == "city" else 422,
                        field=field)
    return city


def _zone(value: str, field: str = "timezone") -> str:
    try:
        return validate_timezone(value)
    except UnknownTimeZoneError:
        raise RuleError(_("%(zone)s is not an IANA time zone such as Asia/Tokyo.", zone=value),
                        code="unknown_timezone", status=422, field=field) from None


def create_city(session: Session, *, code: str, name: dict[str, str], country: str,
                timezone: str) -> MemberCity:
    network = the_network(session)
    code = code.strip().upper()
    if not code or not code.isalnum() or len(code) > 16:
        raise RuleError(_("A city code is letters and digits, at most 16."),
                        code="invalid_code", status=422, field="code")
    if session.scalar(select(MemberCity).where(MemberCity.network_id == network.id,
                                               MemberCity.code == code)) is not None:
        raise RuleError(_("A member city with code %(code)s already exists.", code=code),
                        code="duplicate_city", field="code")
    city = MemberCity(network=network, code=code, name=_names(name),
                      country=_country(country), timezone=_zone(timezone))
    session.add(city)
    session.flush()
    return city


def update_city(session: Session, city: MemberCity, **changes: Any) -> MemberCity:
    if "name" in changes:
        city.name = _names(changes["name"])
    if "country" in changes:
        city.country = _country(changes["country"])
    if "timezone" in changes:
        city.timezone = _zone(changes["timezone"])
    session.flush()
    return city


def _names(name: dict[str, str]) -> dict[str, str]:
    clean = {lang: text.strip() for lang, text in name.items() if text and text.strip()}
    if not clean.get("en"):
        raise RuleError(_("Give at least the English name."), code="name_required",
                        status=422, field="name")
    return clean


def _country(country: str) -> str:
    country = country.strip().upper()
    if len(country) != 2 or not country.isalpha():
        raise RuleError(_("A country is its two-letter ISO code, such as JP."),
                        code="invalid_country", status=422, field="country")
    return country


# --- assemblies ---------------------------------------------------------------------------

ASSEMBLY_FIELDS = ("slug", "number", "title", "host_city", "venue", "timezone", "home_timezone",
                   "starts_on", "ends_on", "registration_deadline", "proxy_deadline", "quorum",
                   "max_proxies_per_holder", "proxy_to_chair_allowed", "status")


def create_assembly(session: Session, data: dict[str, Any]) -> Assembly:
    network = the_network(session)
    slug = data["slug"].strip().lower()
    if session.scalar(select(Assembly).where(Assembly.slug == slug)) is not None:
        raise RuleError(_("An assembly with address %(slug)s already exists.", slug=slug),
                        code="duplicate_slug", field="slug")
    assembly = Assembly(network=network, slug=slug, status=AssemblyStatus.DRAFT)
    _apply_assembly(session, assembly, {k: v for k, v in data.items() if k != "slug"},
                    creating=True)
    session.add(assembly)
    session.flush()
    # Every new assembly starts with the default reminders, in the same transaction.
    create_default_reminders(session, assembly)
    return assembly


def update_assembly(session: Session, assembly: Assembly, data: dict[str, Any]) -> Assembly:
    _apply_assembly(session, assembly, {k: v for k, v in data.items() if k != "slug"},
                    creating=False)
    session.flush()
    return assembly


def _apply_assembly(session: Session, assembly: Assembly, data: dict[str, Any],
                    creating: bool) -> None:
    if creating:
        missing = [name for name in ("title", "host_city", "timezone", "starts_on", "ends_on",
                                     "registration_deadline", "proxy_deadline")
                   if data.get(name) is None]
        if missing:
            raise RuleError(_("Missing: %(fields)s.", fields=", ".join(missing)),
                            code="missing_fields", status=422, field=missing[0])
    for zone_field in ("timezone", "home_timezone"):
        if zone_field in data:
            setattr(assembly, zone_field, _zone(data[zone_field], zone_field))
    if creating and "home_timezone" not in data:
        assembly.home_timezone = the_network(session).home_timezone
    if "host_city" in data:
        assembly.host_city = find_city(session, data["host_city"], field="host_city")
    for name in ("title", "venue"):
        if name in data:
            value = data[name] or {}
            if name == "title":
                value = _names(value)
            setattr(assembly, name, value)
    if creating and "venue" not in data:
        assembly.venue = {}
    for name in ("number", "starts_on", "ends_on", "registration_deadline", "proxy_deadline",
                 "max_proxies_per_holder", "proxy_to_chair_allowed"):
        if name in data:
            setattr(assembly, name, data[name])
    if "quorum" in data:
        assembly.quorum = Quorum(data["quorum"])
    if "status" in data:
        assembly.status = AssemblyStatus(data["status"])
    starts: date = assembly.starts_on
    if assembly.ends_on < starts:
        raise RuleError(_("The assembly cannot end before it starts."), code="dates_in_order",
                        status=422, field="ends_on")
    if (assembly.max_proxies_per_holder or 1) < 1:
        raise RuleError(_("A holder must be allowed at least one letter."),
                        code="invalid_limit", status=422, field="max_proxies_per_holder")


def set_assembly_status(session: Session, assembly: Assembly, status: AssemblyStatus,
                        user: User) -> None:
    require_secretariat(user)
    assembly.status = status
    session.flush()


# --- delegations --------------------------------------------------------------------------


def delegation_for(session: Session, assembly: Assembly, city: MemberCity) -> Delegation:
    """The city's delegation, created undecided the first time it is needed."""
    delegation = session.scalar(select(Delegation).where(Delegation.assembly_id == assembly.id,
                                                         Delegation.city_id == city.id))
    if delegation is None:
        try:
            with session.begin_nested():
                delegation = Delegation(assembly=assembly, city=city)
                session.add(delegation)
        except IntegrityError:  # created by a concurrent request: use theirs
            delegation = session.scalars(
                select(Delegation).where(Delegation.assembly_id == assembly.id,
                                         Delegation.city_id == city.id)).one()
    return delegation


def set_delegation_status(session: Session, assembly: Assembly, city: MemberCity,
                          status: DelegationStatus, user: User,
                          now: datetime | None = None) -> Delegation:
    """Declare attending or absent; a city that now attends revokes its own letter."""
    require_city_access(user, city)
    require_registration_open(assembly, user, now,
                              until_proxy_deadline=status is DelegationStatus.ABSENT)
    delegation = delegation_for(session, assembly, city)
    previous = delegation.status
    delegation.status = status
    if status is DelegationStatus.ATTENDING and previous is not DelegationStatus.ATTENDING:
        for letter in session.scalars(select(ProxyLetter).where(
                ProxyLetter.assembly_id == assembly.id, ProxyLetter.grantor_city_id == city.id,
                ProxyLetter.status.in_(ACTIVE_PROXY_STATUSES))):
            change_letter_status(session, letter, ProxyStatus.REVOKED, user, "revoked",
                                 {"because": "the city now attends"})
    session.flush()
    return delegation


def change_letter_status(session: Session, letter: ProxyLetter, to: ProxyStatus,
                         actor: User | None, action: str,
                         detail: dict[str, Any] | None = None) -> None:
    """Every change of a letter's status appends to its history."""
    session.add(ProxyLetterEvent(letter=letter, actor_id=actor.id if actor else None,
                                 action=action, from_status=letter.status.value,
                                 to_status=to.value, detail=detail or {}))
    letter.status = to
    letter.updated_at = utcnow()


# --- delegates ----------------------------------------------------------------------------

DELEGATE_FIELDS = ("family_name", "given_name", "name_local", "title", "role", "email",
                   "language")


def delegates_of(session: Session, assembly: Assembly,
                 city: MemberCity | None = None, include_cancelled: bool = False
                 ) -> list[Delegate]:
    """Delegates in the order a delegation is shown: by city, the representative first."""
    query = (select(Delegate).join(Delegation, Delegate.delegation_id == Delegation.id)
             .join(MemberCity, Delegation.city_id == MemberCity.id)
             .where(Delegate.assembly_id == assembly.id)
             # The joins already carry each delegate's delegation and city (sorted on below and
             # shown in every list): no query per row.
             .options(contains_eager(Delegate.delegation).contains_eager(Delegation.city)))
    if city is not None:
        query = query.where(Delegation.city_id == city.id)
    if not include_cancelled:
        query = query.where(Delegate.status.in_(COUNTED_STATUSES))
    people = list(session.scalars(query.order_by(MemberCity.code, Delegate.id)))
    order = list(DelegateRole)
    return sorted(people, key=lambda d: (d.delegation.city.code, order.index(d.role)))


def _check_delegate(session: Session, assembly: Assembly, delegation: Delegation,
                    data: dict[str, Any], current: Delegate | None = None) -> None:
    if "family_name" in data and not (data["family_name"] or "").strip():
        raise RuleError(_("The family name is required."), code="family_name_required",
                        status=422, field="family_name")
    role = DelegateRole(data.get("role") or (current.role if current else "delegate"))
    if role is DelegateRole.REPRESENTATIVE:
        others = session.scalar(select(func.count(Delegate.id)).where(
            Delegate.delegation_id == delegation.id,
            Delegate.role == DelegateRole.REPRESENTATIVE,
            Delegate.status.in_(COUNTED_STATUSES),
            Delegate.id != (current.id if current else -1)))
        if others:
            raise RuleError(_("This delegation already has a representative."),
                            code="representative_exists", field="role")
    email = (data.get("email") or "").strip().lower() or None
    if email is not None:
        if "@" not in email:
            raise RuleError(_("%(email)s is not an email address.", email=email),
                            code="invalid_email", status=422, field="email")
        clash = session.scalar(select(Delegate).where(Delegate.assembly_id == assembly.id,
                                                      Delegate.email == email))
        if clash is not None and clash is not current:
            raise RuleError(_("Someone is already registered with %(email)s.", email=email),
                            code="duplicate_email", field="email")
    if data.get("language", "en") not in ("en", "ja"):
        raise RuleError(_("The language is en or ja."), code="invalid_language", status=422,
                        field="language")


def add_delegate(session: Session, assembly: Assembly, city: MemberCity,
                 data: dict[str, Any], user: User) -> Delegate:
    require_city_access(user, city)
    require_registration_open(assembly, user)
    delegation = delegation_for(session, assembly, city)
    _check_delegate(session, assembly, delegation, {"family_name": "", **data})
    delegate = Delegate(assembly_id=assembly.id, delegation=delegation,
                        family_name=data["family_name"].strip(),
                        given_name=(data.get("given_name") or "").strip(),
                        name_local=(data.get("name_local") or "").strip(),
                        title={k: v for k, v in (data.get("title") or {}).items() if v},
                        role=DelegateRole(data.get("role") or "delegate"),
                        email=data.get("email") or None, language=data.get("language") or "en")
    session.add(delegate)
    session.flush()
    return delegate


def update_delegate(session: Session, delegate: Delegate, data: dict[str, Any],
                    user: User) -> Delegate:
    assembly = session.get(Assembly, delegate.assembly_id)
    assert assembly is not None
    require_city_access(user, delegate.delegation.city)
    require_registration_open(assembly, user)
    _check_delegate(session, assembly, delegate.delegation, data, current=delegate)
    for name in DELEGATE_FIELDS:
        if name not in data:
            continue
        value = data[name]
        if name == "role":
            value = DelegateRole(value)
        elif name == "title":
            value = {k: v for k, v in (value or {}).items() if v}
        elif name == "email":
            value = value or None
        elif isinstance(value, str):
            value = value.strip()
        setattr(delegate, name, value)
    if data.get("status") in (DelegateStatus.REGISTERED, DelegateStatus.CONFIRMED):
        delegate.status = DelegateStatus(data["status"])
    session.flush()
    return delegate


def cancel_delegate(session: Session, delegate: Delegate, user: User) -> Delegate:
    assembly = session.get(Assembly, delegate.assembly_id)
    assert assembly is not None
    require_city_access(user, delegate.delegation.city)
    require_registration_open(assembly, user)
    delegate.status = DelegateStatus.CANCELLED
    for signup in session.scalars(select(Signup).where(Signup.delegate_id == delegate.id)):
        release_place(session, delegate, signup.item)
    session.flush()
    return delegate


# --- sign-ups to optional items (capacity) ------------------------------------------------


@dataclass(frozen=True)
class PlacesLeft:
    item: ProgrammeItem
    left: int


def sign_up(session: Session, delegate: Delegate, item: ProgrammeItem) -> Signup:
    """Take a place: a conditional UPDATE keeps the count within capacity under concurrency."""
    if item.capacity is None or item.assembly_id != delegate.assembly_id:
        raise RuleError(_("This item takes no sign-ups."), code="no_signups", status=422,
                        field="item")
    existing = session.scalar(select(Signup).where(Signup.delegate_id == delegate.id,
                                                   Signup.item_id == item.id))
    if existing is not None:
        return existing
    taken = session.execute(
        update(ProgrammeItem).where(ProgrammeItem.id == item.id,
                                    ProgrammeItem.signup_count < ProgrammeItem.capacity)
        .values(signup_count=ProgrammeItem.signup_count + 1)
        .execution_options(synchronize_session=False))
    if taken.rowcount != 1:
        raise RuleError(_("%(item)s is full.", item=item.title.get("en", "")),
                        code="full", field="item")
    signup = Signup(delegate_id=delegate.id, item_id=item.id)
    session.add(signup)
    session.flush()
    session.expire(item, ["signup_count"])
    # The delegate's personal feed now carries the item: the worker rebuilds it after commit.
    request_rebuild(session, delegate.assembly_id)
    return signup


def release_place(session: Session, delegate: Delegate, item: ProgrammeItem) -> None:
    signup = session.scalar(select(Signup).where(Signup.delegate_id == delegate.id,
                                                 Signup.item_id == item.id))
    if signup is None:
        return
    session.delete(signup)
    session.execute(update(ProgrammeItem).where(ProgrammeItem.id == item.id,
                                                ProgrammeItem.signup_count > 0)
                    .values(signup_count=ProgrammeItem.signup_count - 1)
                    .execution_options(synchronize_session=False))
    session.flush()
    session.expire(item, ["signup_count"])
    request_rebuild(session, delegate.assembly_id)  # the item leaves the personal feed


def optional_items(session: Session, assembly: Assembly) -> list[PlacesLeft]:
    items = session.scalars(select(ProgrammeItem).where(
        ProgrammeItem.assembly_id == assembly.id, ProgrammeItem.capacity.is_not(None))
        .order_by(ProgrammeItem.starts_at))
    return [PlacesLeft(item, (item.capacity or 0) - item.signup_count) for item in items]


def confirm_own_registration(session: Session, delegate: Delegate, data: dict[str, Any],
                             wanted_items: set[int]) -> None:
    """The delegate, through their personal link, checks their details and picks optional
    items; places are taken and released within capacity."""
    assembly = session.get(Assembly, delegate.assembly_id)
    assert assembly is not None
    data = {k: v for k, v in data.items() if k in DELEGATE_FIELDS and k != "role"}
    _check_delegate(session, assembly, delegate.delegation, data, current=delegate)
    for name, value in data.items():
        if name == "title":
            value = {k: v for k, v in (value or {}).items() if v}
        elif name == "email":
            value = value or None
        elif isinstance(value, str):
            value = value.strip()
        setattr(delegate, name, value)
    delegate.status = DelegateStatus.CONFIRMED
    mine = {s.item_id: s.item for s in session.scalars(
        select(Signup).where(Signup.delegate_id == delegate.id))}
    for item_id, item in mine.items():
        if item_id not in wanted_items:
            release_place(session, delegate, item)
    for item_id in wanted_items - set(mine):
        item = session.get(ProgrammeItem, item_id)
        if item is not None and item.assembly_id == assembly.id:
            sign_up(session, delegate, item)
    session.flush()
