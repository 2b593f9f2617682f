"""Who signed a declaration: representatives (or their stand-ins) of cities present when it
was put to the assembly, one per city, with their name and title as of that day."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from models import Decision, DecisionKind, DecisionStatus, Delegate, Signatory, User, utcnow
from models.delegation import COUNTED_STATUSES
from models.errors import DomainError
from services.access import require_secretariat
from services.i18n import _

SIGNING_STATUSES = (DecisionStatus.OPEN, DecisionStatus.ADOPTED)


def add_signatory(session: Session, decision: Decision, delegate_id: int, user: User,
                  at: datetime | None = None) -> Decision:
    require_secretariat(user)
    if decision.kind is not DecisionKind.DECLARATION:
        raise DomainError(_("Only a declaration is signed."), code="not_a_declaration",
                          status=409)
    if decision.status not in SIGNING_STATUSES:
        raise DomainError(_("A declaration is signed once it is put to the assembly."),
                          code="decision_not_open", status=409)
    delegate = session.get(Delegate, delegate_id)
    if delegate is None or delegate.assembly_id != decision.assembly_id \
            or delegate.status not in COUNTED_STATUSES:
        raise DomainError(_("There is no such delegate at this assembly."),
                          code="unknown_delegate", status=422, field="delegate")
    city = delegate.delegation.city
    present = (decision.snapshot or {}).get("present", [])
    if city.code not in present:
        raise DomainError(_("Only delegates of cities present at the assembly may sign."),
                          code="city_not_present", status=409, field="delegate")
    if any(s.city_id == city.id for s in decision.signatories):
        raise DomainError(_("%(city)s has already signed.", city=city.display_name("en")),
                          code="already_signed", status=409, field="delegate")
    # The name and title as of that day: kept on the row, not read from the delegate again.
    # One per city, held by the database too when two clerks add at once.
    try:
        with session.begin_nested():
            session.add(Signatory(
                decision_id=decision.id, delegate_id=delegate.id, city_id=city.id,
                position=len(decision.signatories), name=delegate.full_name,
                name_local=delegate.name_local, title=dict(delegate.title),
                signed_at=at or utcnow()))
    except IntegrityError:
        raise DomainError(_("%(city)s has already signed.", city=city.display_name("en")),
                          code="already_signed", status=409, field="delegate") from None
    session.refresh(decision, ["signatories"])
    return decision
