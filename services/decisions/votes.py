"""Votes, one per member city, read against the picture frozen when the decision was put to
the assembly: a present city votes through its own delegation; a represented city's vote is
cast by the holder of its verified letter (on behalf of the grantor, the letter's
instructions shown to the clerk); an absent city cannot vote. A second vote for a city
replaces the first until the vote closes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from models import (
    Decision,
    DecisionMethod,
    DecisionStatus,
    MemberCity,
    User,
    Vote,
    VoteChoice,
    utcnow,
)
from models.errors import DomainError
from services.access import may_act_for, require_secretariat
from services.audit import record
from services.i18n import _


@dataclass(frozen=True)
class Voice:
    """Who speaks for a city on a decision, by the frozen picture."""

    city: str
    present: bool
    holder: str | None  # for a represented city: the holder's code (None: the chair)
    letter: int | None
    instructions: str


def voices(decision: Decision) -> dict[str, Voice]:
    """Every city that may vote on the decision, by code (empty before it is opened)."""
    snapshot: dict[str, Any] = decision.snapshot or {}
    found = {code: Voice(code, True, None, None, "") for code in snapshot.get("present", [])}
    for proxy in snapshot.get("represented", []):
        found[proxy["city"]] = Voice(proxy["city"], False, proxy.get("holder"),
                                     proxy.get("letter"), proxy.get("instructions", ""))
    return found


def cast_vote(session: Session, decision: Decision, city: MemberCity, choice: VoteChoice,
              user: User) -> Vote:
    """Record (or replace) the city's vote as the clerk hears it."""
    require_secretariat(user)
    if decision.method is not DecisionMethod.VOTE:
        raise DomainError(_("This decision is taken by consensus: there is no vote."),
                          code="not_a_vote", status=409)
    if decision.status is not DecisionStatus.OPEN:
        raise DomainError(_("Votes are taken only while the decision is open."),
                          code="decision_not_open", status=409)
    voice = voices(decision).get(city.code)
    if voice is None:
        raise DomainError(
            _("%(city)s was absent without a verified proxy letter when the decision was put "
              "to the assembly: it cannot vote.", city=city.display_name("en")),
            code="city_cannot_vote", status=409, field="city")
    cast_by = city if voice.present else None
    if voice.holder is not None:
        cast_by = session.scalar(select(MemberCity).where(
            MemberCity.network_id == city.network_id, MemberCity.code == voice.holder))
    prior = session.scalar(select(Vote.choice).where(Vote.decision_id == decision.id,
                                                     Vote.city_id == city.id))
    before = None if prior is None else {"city": city.code, "choice": prior.value}
    vote = _vote_row(session, decision, city, choice)
    vote.choice = choice
    vote.cast_by = cast_by
    vote.by_proxy = not voice.present
    vote.letter_id = voice.letter
    vote.recorded_by_id = user.id
    vote.cast_at = utcnow()
    session.flush()
    record(session, "decision.voted", f"decision:{decision.id}", before,
           {"city": city.code, "choice": choice.value,
            "cast_by": cast_by.code if cast_by else None, "by_proxy": vote.by_proxy}, user)
    return vote


def _vote_row(session: Session, decision: Decision, city: MemberCity,
              choice: VoteChoice) -> Vote:
    """The city's one row: found, or added; when two clerks record the city at once, the
    loser of the insert (unique per decision and city) updates the winner's row."""
    query = select(Vote).where(Vote.decision_id == decision.id, Vote.city_id == city.id)
    vote = session.scalar(query)
    if vote is not None:
        return vote
    try:
        with session.begin_nested():
            vote = Vote(decision_id=decision.id, city_id=city.id, choice=choice)
            session.add(vote)
    except IntegrityError:
        vote = session.scalar(query.execution_options(populate_existing=True))
        assert vote is not None
    session.refresh(decision, ["votes"])
    return vote


def votes_seen_by(decision: Decision, user: User | None) -> list[Vote]:
    """The secretariat sees every vote; a liaison those of its city, given or cast on another
    city's behalf; nobody else any."""
    if user is None:
        return []
    if user.is_secretariat:
        return list(decision.votes)
    return [vote for vote in decision.votes
            if may_act_for(user, vote.city) or (vote.cast_by is not None
                                                 and may_act_for(user, vote.cast_by))]
