"""A member city's delegation to an assembly: attending or not, and the people in it.

Handlers parse and authorise; these functions check the domain rules and write rows. The
caller owns the transaction (commit or roll back).
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, contains_eager
from sqlalchemy.orm.attributes import set_committed_value

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
    ProgrammeItem,
    ProxyLetter,
    ProxyStatus,
    Signup,
    User,
    utcnow,
)
from models.db import insert_unless_taken
from models.delegation import COUNTED_STATUSES
from models.errors import DomainError
from models.languages import REGISTRY
from models.names import NameOrder, default_order
from models.network import city_code
from models.text import TITLE_MAX, column_limit
from services.access import require_city_access, user_zone
from services.assemblies import may_see
from services.audit import record
from services.i18n import _, instant_in_zone
from services.programme import release_place, sign_up
from services.text import checked_localized, checked_text


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
        raise DomainError(_("Registration for this assembly is not open."),
                          code="registration_closed")
    now = now or utcnow()
    deadline = assembly.registration_deadline
    if until_proxy_deadline:
        deadline = max(deadline, assembly.proxy_deadline)
    if now > deadline:
        raise DomainError(
            _("The deadline has passed: it was %(deadline)s.",
              deadline=instant_in_zone(deadline, user_zone(user, assembly))),
            code="deadline_passed")


def registration_lock(assembly: Assembly, user: User, *,
                      until_proxy_deadline: bool = False) -> str | None:
    """Why this person may not change the delegation now (None: they may). Pages show the
    reason instead of forms that would only be refused."""
    try:
        require_registration_open(assembly, user, until_proxy_deadline=until_proxy_deadline)
    except DomainError as refused:
        return refused.message
    return None


def delegation_for(session: Session, assembly: Assembly, city: MemberCity) -> Delegation:
    """The city's delegation, created undecided the first time it is needed."""
    delegation = session.scalar(select(Delegation).where(Delegation.assembly_id == assembly.id,
                                                         Delegation.city_id == city.id))
    if delegation is not None:
        # Both ends are in hand: a later `delegation.city` (a delegate's answer) costs no
        # query even when the caller has let go of `city`.
        set_committed_value(delegation, "city", city)
        set_committed_value(delegation, "assembly", assembly)
    else:
        try:
            with session.begin_nested():
                delegation = Delegation(assembly=assembly, city=city)
                session.add(delegation)
        except IntegrityError:  # created by a concurrent request: use theirs
            delegation = session.scalars(
                select(Delegation).where(Delegation.assembly_id == assembly.id,
                                         Delegation.city_id == city.id)).one()
    return delegation


# Built once: the registration API's hot path (only the slug and the code vary).
_REGISTRATION_ROWS = (
    select(Assembly, MemberCity, Delegation).select_from(Assembly)
    .join(MemberCity, MemberCity.code == bindparam("code"))
    .outerjoin(Delegation, and_(Delegation.assembly_id == Assembly.id,
                                Delegation.city_id == MemberCity.id))
    .where(Assembly.slug == bindparam("slug")))


def registration_rows(session: Session, slug: str, code: str, user: User
                      ) -> tuple[Assembly, MemberCity, Delegation | None] | None:
    """The assembly (as `user` may see it), the member city with this code and the city's
    delegation to the assembly (None while the city has said nothing) in one round trip:
    the three rows every registration of a delegate starts from. None when the assembly or
    the city is unknown (find_assembly and find_city say which)."""
    row = session.execute(_REGISTRATION_ROWS,
                          {"slug": slug, "code": city_code(code)}).first()
    if row is None or not may_see(row[0], user):
        return None
    assembly, city, delegation = row
    if delegation is not None:
        set_committed_value(delegation, "city", city)
        set_committed_value(delegation, "assembly", assembly)
    return assembly, city, delegation


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
    if previous is not status:
        record(session, "delegation.status_changed", f"delegation:{delegation.id}",
               {"city": city.code, "status": previous.value},
               {"city": city.code, "status": status.value}, user)
    if status is DelegationStatus.ATTENDING and previous is not DelegationStatus.ATTENDING:
        for letter in session.scalars(select(ProxyLetter).where(
                ProxyLetter.assembly_id == assembly.id, ProxyLetter.grantor_city_id == city.id,
                ProxyLetter.status.in_(ACTIVE_PROXY_STATUSES))):
            letter.change_status(ProxyStatus.REVOKED, user, "revoked",
                                 {"because": "the city now attends"})
    session.flush()
    return delegation


# --- the people ----------------------------------------------------------------------------

DELEGATE_FIELDS = ("family_name", "given_name", "name_local", "name_order", "honorific", "title",
                   "role", "email", "language")


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


# The text fields of a delegate and their rule (models.text): names fit their columns.
DELEGATE_TEXTS = {"family_name": column_limit(Delegate.family_name),
                  "given_name": column_limit(Delegate.given_name),
                  "name_local": column_limit(Delegate.name_local),
                  "honorific": column_limit(Delegate.honorific),
                  "email": column_limit(Delegate.email)}


def _clean_texts(data: dict[str, Any]) -> dict[str, Any]:
    """The given fields with every text as stored; DomainError (422) naming the first field
    that carries a control character (a CR/LF in a name would reach mail headers) or is too
    long."""
    clean = dict(data)
    for name, limit in DELEGATE_TEXTS.items():
        if clean.get(name) is not None:
            clean[name] = checked_text(name, clean[name], max_length=limit)
    if "title" in clean:
        clean["title"] = checked_localized("title", clean["title"], max_length=TITLE_MAX)
    return clean


def _check_delegate(session: Session, assembly: Assembly, delegation: Delegation,
                    data: dict[str, Any], current: Delegate | None = None) -> dict[str, Any]:
    """The data as it will be stored, once every rule holds."""
    data = _clean_texts(data)
    if "family_name" in data and not (data["family_name"] or "").strip():
        raise DomainError(_("The family name is required."), code="family_name_required",
                          status=422, field="family_name")
    role = DelegateRole(data.get("role") or (current.role if current else "delegate"))
    if role is DelegateRole.REPRESENTATIVE:
        others = session.scalar(select(func.count(Delegate.id)).where(
            Delegate.delegation_id == delegation.id,
            Delegate.role == DelegateRole.REPRESENTATIVE,
            Delegate.status.in_(COUNTED_STATUSES),
            Delegate.id != (current.id if current else -1)))
        if others:
            raise DomainError(_("This delegation already has a representative."),
                              code="representative_exists", field="role")
    email = (data.get("email") or "").strip().lower() or None
    if email is not None:
        if "@" not in email:
            raise DomainError(_("%(email)s is not an email address.", email=email),
                              code="invalid_email", status=422, field="email")
        # A new delegate's address is checked by its INSERT (add_delegate).
        if current is not None and session.scalar(
                select(Delegate.id).where(Delegate.assembly_id == assembly.id,
                                          Delegate.email == email,
                                          Delegate.id != current.id)) is not None:
            raise _email_taken(email)
    if data.get("name_order") not in (None, "", *NameOrder):
        raise DomainError(_("Choose the order of the names: %(choices)s.",
                            choices=", ".join(NameOrder)), code="invalid_name_order",
                          status=422, field="name_order")
    if data.get("language", "en") not in REGISTRY:
        raise DomainError(_("Choose one of the languages: %(choices)s.",
                            choices=", ".join(REGISTRY)), code="invalid_language",
                          status=422, field="language")
    return data


def _email_taken(email: str) -> DomainError:
    return DomainError(_("Someone is already registered with %(email)s.", email=email),
                       code="duplicate_email", field="email")


def delegate_state(delegate: Delegate) -> dict[str, Any]:
    """A delegate's fields as plain values (the audit trail's before and after)."""
    state: dict[str, Any] = {}
    for name in (*DELEGATE_FIELDS, "status"):
        value = getattr(delegate, name)
        state[name] = value.value if isinstance(value, enum.Enum) else value
    return state


def _set_fields(delegate: Delegate, data: dict[str, Any]) -> None:
    """Write the given fields (already checked) the way they are kept: text stripped, a
    title per language without empty ones, no empty email."""
    for name in DELEGATE_FIELDS:
        if name not in data:
            continue
        value = data[name]
        if name == "role":
            value = DelegateRole(value or DelegateRole.DELEGATE)
        elif name == "name_order":
            if not value:
                continue  # unchanged (a new delegate has the city's default)
            value = NameOrder(value)
        elif name == "title":
            value = {k: v.strip() for k, v in (value or {}).items() if v and v.strip()}
        elif name == "email":
            value = value or None
        elif isinstance(value, str) or value is None:
            value = (value or "").strip()
        setattr(delegate, name, value)


def add_delegate(session: Session, assembly: Assembly, city: MemberCity,
                 data: dict[str, Any], user: User, *,
                 delegation: Delegation | None = None) -> Delegate:
    """Register a delegate of `city`. `delegation`: the city's delegation when the caller
    has already read it (registration_rows)."""
    require_city_access(user, city)
    require_registration_open(assembly, user)
    if delegation is None:
        delegation = delegation_for(session, assembly, city)
    elif (delegation.assembly_id, delegation.city_id) != (assembly.id, city.id):
        raise ValueError("the delegation given is not this city's to this assembly")
    data = _check_delegate(session, assembly, delegation, {"family_name": "", **data})
    # By id: no relationship bookkeeping for the write; the delegation is set below.
    delegate = Delegate(assembly_id=assembly.id, delegation_id=delegation.id,
                        language=data.get("language") or "en",
                        name_order=default_order(city.country))
    _set_fields(delegate, {"given_name": "", "name_local": "", "title": {}, "role": None,
                           **{k: v for k, v in data.items() if k != "language"}})
    # The unique constraint (assembly, email) decides in the same round trip: no race
    # between two registrations of one address.
    if not insert_unless_taken(session, delegate, ("assembly_id", "email")):
        raise _email_taken(delegate.email or "")
    set_committed_value(delegate, "delegation", delegation)
    record(session, "delegate.added", f"delegate:{delegate.id}", None,
           delegate_state(delegate), user)
    return delegate


def update_delegate(session: Session, delegate: Delegate, data: dict[str, Any],
                    user: User) -> Delegate:
    assembly = session.get(Assembly, delegate.assembly_id)
    assert assembly is not None
    require_city_access(user, delegate.delegation.city)
    require_registration_open(assembly, user)
    data = _check_delegate(session, assembly, delegate.delegation, data, current=delegate)
    before = delegate_state(delegate)
    try:  # an address taken since the check, by a concurrent request: the constraint says so
        with session.begin_nested():
            _set_fields(delegate, data)
            if data.get("status") in (DelegateStatus.REGISTERED, DelegateStatus.CONFIRMED):
                delegate.status = DelegateStatus(data["status"])
            session.flush()
    except IntegrityError:
        raise _email_taken((data.get("email") or "").strip().lower()) from None
    _record_change(session, delegate, before, user)
    return delegate


def _record_change(session: Session, delegate: Delegate, before: dict[str, Any],
                   actor: User | str) -> None:
    # Only what changed, and nothing when nothing did (a form saved as it was).
    after = delegate_state(delegate)
    changed = [k for k in after if after[k] != before[k]]
    if changed:
        record(session, "delegate.changed", f"delegate:{delegate.id}",
               {k: before[k] for k in changed}, {k: after[k] for k in changed}, actor)


def cancel_delegate(session: Session, delegate: Delegate, user: User) -> Delegate:
    assembly = session.get(Assembly, delegate.assembly_id)
    assert assembly is not None
    require_city_access(user, delegate.delegation.city)
    require_registration_open(assembly, user)
    before = delegate.status.value
    delegate.status = DelegateStatus.CANCELLED
    if before != delegate.status.value:
        record(session, "delegate.cancelled", f"delegate:{delegate.id}", {"status": before},
               {"status": delegate.status.value}, user)
    for signup in session.scalars(select(Signup).where(Signup.delegate_id == delegate.id)):
        release_place(session, delegate, signup.item)
    session.flush()
    return delegate


def restore_delegate(session: Session, delegate: Delegate, user: User) -> Delegate:
    """Undo a cancellation: the person is registered again (their optional visits were
    released and are picked again on their page)."""
    assembly = session.get(Assembly, delegate.assembly_id)
    assert assembly is not None
    require_city_access(user, delegate.delegation.city)
    require_registration_open(assembly, user)
    if delegate.status is not DelegateStatus.CANCELLED:
        return delegate
    _check_delegate(session, assembly, delegate.delegation, {"role": delegate.role.value},
                    current=delegate)
    delegate.status = DelegateStatus.REGISTERED
    session.flush()
    return delegate


def default_role(session: Session, delegation: Delegation) -> DelegateRole:
    """The role the add-person form suggests: the representative first, then delegates."""
    has_representative = session.scalar(select(func.count(Delegate.id)).where(
        Delegate.delegation_id == delegation.id, Delegate.role == DelegateRole.REPRESENTATIVE,
        Delegate.status.in_(COUNTED_STATUSES)))
    return DelegateRole.DELEGATE if has_representative else DelegateRole.REPRESENTATIVE


def confirm_own_registration(session: Session, delegate: Delegate, data: dict[str, Any],
                             wanted_items: set[int]) -> None:
    """The delegate, through their personal link, checks their details and picks optional
    items; places are taken and released within capacity."""
    assembly = session.get(Assembly, delegate.assembly_id)
    assert assembly is not None
    data = {k: v for k, v in data.items() if k in DELEGATE_FIELDS and k != "role"}
    data = _check_delegate(session, assembly, delegate.delegation, data, current=delegate)
    before = delegate_state(delegate)
    _set_fields(delegate, data)
    delegate.status = DelegateStatus.CONFIRMED
    # The delegate acts through their personal link: named by their address, or id.
    _record_change(session, delegate, before, delegate.email or f"delegate:{delegate.id}")
    mine = {s.item_id: s.item for s in session.scalars(
        select(Signup).where(Signup.delegate_id == delegate.id))}
    for item_id, item in mine.items():
        if item_id not in wanted_items:
            release_place(session, delegate, item)
    for item_id in wanted_items - set(mine):
        wanted = session.get(ProgrammeItem, item_id)
        if wanted is not None and wanted.assembly_id == assembly.id:
            sign_up(session, delegate, wanted)
    session.flush()
