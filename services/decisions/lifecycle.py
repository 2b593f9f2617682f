"""A decision's life: drafted, put to the assembly (attendance frozen, refused without the
quorum), then adopted or rejected (by the tally, or adopted by consensus), or withdrawn."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from models import (
    Assembly,
    Decision,
    DecisionKind,
    DecisionMethod,
    DecisionStatus,
    Majority,
    ProgrammeItem,
    Role,
    User,
    VoteChoice,
    utcnow,
)
from models.errors import DomainError
from services.access import require_secretariat
from services.audit import record
from services.decisions.snapshot import DEFAULT_BASIS, PICTURES, take_snapshot
from services.i18n import _
from services.text import checked_localized

# What may still change in each state: the wording until the decision is decided, the way it
# is decided only while it is a draft.
WORDING = ("title", "text", "item")
RULES = ("kind", "method", "majority")


@dataclass
class DecisionDraft:
    title: dict[str, str]
    text: dict[str, str] = field(default_factory=dict)
    kind: DecisionKind = DecisionKind.RESOLUTION
    method: DecisionMethod = DecisionMethod.VOTE
    majority: Majority = Majority.SIMPLE
    item: ProgrammeItem | None = None


def find_item_of(session: Session, assembly: Assembly, item_id: int | None,
                 field: str = "item") -> ProgrammeItem | None:
    if item_id is None:
        return None
    item = session.get(ProgrammeItem, item_id)
    if item is None or item.assembly_id != assembly.id:
        raise DomainError(_("There is no such programme item in this assembly."),
                          code="unknown_item", status=422, field=field)
    return item


TITLE_MAX, TEXT_MAX = 300, 20000


def _title(title: dict[str, str]) -> dict[str, str]:
    title = checked_localized("title", title, max_length=TITLE_MAX)
    if not title:
        raise DomainError(_("Give the decision a title in at least one language."),
                          code="title_required", status=422, field="title")
    return title


def _text(text: dict[str, str]) -> dict[str, str]:
    return checked_localized("text", text, max_length=TEXT_MAX, multiline=True)


def create_decision(session: Session, assembly: Assembly, draft: DecisionDraft,
                    user: User) -> Decision:
    require_secretariat(user)
    decision = Decision(assembly=assembly, title=_title(draft.title), text=_text(draft.text),
                        kind=draft.kind, method=draft.method, majority=draft.majority,
                        item=draft.item)
    session.add(decision)
    session.flush()
    return decision


def update_decision(session: Session, decision: Decision, changes: dict[str, Any],
                    user: User) -> Decision:
    """`changes`: any of title, text, item (until decided), kind, method, majority (while a
    draft)."""
    require_secretariat(user)
    decided = decision.status in (DecisionStatus.ADOPTED, DecisionStatus.REJECTED,
                                  DecisionStatus.WITHDRAWN)
    for name in changes:
        if name in RULES and decision.status is not DecisionStatus.DRAFT:
            raise DomainError(_("How a decision is taken cannot change once it is put to the "
                                "assembly."), code="decision_not_draft", status=409,
                              field=name)
        if name in WORDING and decided:
            raise DomainError(_("This decision is already decided; its wording is kept as "
                                "it was."), code="decision_decided", status=409, field=name)
    if "title" in changes:
        decision.title = _title(changes["title"])
    if "text" in changes:
        decision.text = _text(changes["text"])
    if "item" in changes:
        decision.item = changes["item"]
    for name in RULES:
        if name in changes:
            setattr(decision, name, changes[name])
    decision.updated_at = utcnow()
    session.flush()
    return decision


def open_decision(session: Session, decision: Decision, user: User,
                  at: datetime | None = None, basis: str = DEFAULT_BASIS) -> Decision:
    """Put the decision to the assembly: freeze the attendance picture; refused (409, with
    the counts) when the quorum is not reached."""
    require_secretariat(user)
    if decision.status is not DecisionStatus.DRAFT:
        raise DomainError(_("Only a draft can be put to the assembly."),
                          code="decision_not_draft", status=409)
    if basis not in PICTURES:
        raise DomainError(_("Unknown attendance basis %(basis)s.", basis=basis),
                          code="unknown_basis", status=422, field="basis")
    moment = at or utcnow()
    snapshot = take_snapshot(session, decision.assembly, basis, moment)
    quorum = snapshot["quorum"]
    if not quorum["reached"]:
        raise DomainError(
            _("The quorum is not reached: %(counted)d of %(members)d member cities present or "
              "represented, %(required)d needed.", counted=quorum["counted"],
              members=quorum["members"], required=quorum["required"]),
            code="quorum_not_reached", status=409)
    decision.snapshot = snapshot
    decision.opened_at = moment
    decision.status = DecisionStatus.OPEN
    session.flush()
    record(session, "decision.opened", f"decision:{decision.id}",
           {"status": DecisionStatus.DRAFT.value},
           {"status": decision.status.value, "basis": basis, "opened_at": moment.isoformat(),
            "quorum": quorum}, user)
    return decision


def tally(decision: Decision) -> dict[str, int]:
    counts = {choice.value: 0 for choice in VoteChoice}
    for vote in decision.votes:
        counts[vote.choice.value] += 1
    return counts


def close_vote(session: Session, decision: Decision, user: User,
               at: datetime | None = None) -> Decision:
    """Count the votes; adopted or rejected by the majority rule (abstentions are not votes
    cast)."""
    require_secretariat(user)
    if decision.method is not DecisionMethod.VOTE:
        raise DomainError(_("A decision by consensus is adopted by the chair, not closed by a "
                            "vote."), code="not_a_vote", status=409)
    if decision.status is not DecisionStatus.OPEN:
        raise DomainError(_("Only an open vote can be closed."), code="decision_not_open",
                          status=409)
    counts = tally(decision)
    decision.yes_count, decision.no_count = counts["yes"], counts["no"]
    decision.abstain_count = counts["abstain"]
    adopted = decision.majority.adopts(counts["yes"], counts["no"])
    decision.status = DecisionStatus.ADOPTED if adopted else DecisionStatus.REJECTED
    decision.decided_at = at or utcnow()
    session.flush()
    record(session, "decision.closed", f"decision:{decision.id}",
           {"status": DecisionStatus.OPEN.value},
           {"status": decision.status.value, "tally": counts}, user)
    return decision


def adopt_by_consensus(session: Session, decision: Decision, user: User,
                       at: datetime | None = None) -> Decision:
    """The chair adopts without a tally; a draft is put to the assembly first (the quorum
    still applies)."""
    require_secretariat(user)
    if decision.method is not DecisionMethod.CONSENSUS:
        raise DomainError(_("This decision is taken by a vote: close the vote instead."),
                          code="not_consensus", status=409)
    if decision.status is DecisionStatus.DRAFT:
        open_decision(session, decision, user, at)
    if decision.status is not DecisionStatus.OPEN:
        raise DomainError(_("Only a decision put to the assembly can be adopted."),
                          code="decision_not_open", status=409)
    decision.status = DecisionStatus.ADOPTED
    decision.decided_at = at or utcnow()
    session.flush()
    record(session, "decision.adopted", f"decision:{decision.id}",
           {"status": DecisionStatus.OPEN.value}, {"status": decision.status.value}, user)
    return decision


def withdraw_decision(session: Session, decision: Decision, user: User) -> Decision:
    require_secretariat(user)
    if decision.status not in (DecisionStatus.DRAFT, DecisionStatus.OPEN):
        raise DomainError(_("A decided decision cannot be withdrawn."),
                          code="decision_decided", status=409, field="status")
    before = decision.status.value
    decision.status = DecisionStatus.WITHDRAWN
    session.flush()
    record(session, "decision.withdrawn", f"decision:{decision.id}", {"status": before},
           {"status": decision.status.value}, user)
    return decision


def visible_statuses(user: User | None) -> tuple[DecisionStatus, ...]:
    """The secretariat sees every decision; a liaison those put to the assembly (to read its
    city's votes); the public the adopted ones."""
    if user is not None and user.is_secretariat:
        return tuple(DecisionStatus)
    if user is not None and user.role is Role.LIAISON:
        return (DecisionStatus.OPEN, DecisionStatus.ADOPTED, DecisionStatus.REJECTED)
    return (DecisionStatus.ADOPTED,)


def decisions_of(session: Session, assembly: Assembly, user: User | None) -> list[Decision]:
    query = (select(Decision).where(Decision.assembly_id == assembly.id,
                                    Decision.status.in_(visible_statuses(user)))
             .options(selectinload(Decision.votes), selectinload(Decision.signatories))
             .order_by(Decision.id))
    return list(session.scalars(query))


def find_decision(session: Session, assembly: Assembly, decision_id: int,
                  user: User | None) -> Decision | None:
    decision = session.get(Decision, decision_id)
    if decision is None or decision.assembly_id != assembly.id:
        return None
    return decision if decision.status in visible_statuses(user) else None
