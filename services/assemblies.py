"""Reading assemblies: who may see which, and their live counts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import (
    Assembly,
    AssemblyStatus,
    Delegation,
    DelegationStatus,
    MemberCity,
    ProgrammeItem,
    User,
    participant_counts,
)


@dataclass(frozen=True)
class AssemblyCounts:
    members: int
    attending: int
    absent: int
    undecided: int
    participants: int


def visible_assemblies(session: Session, user: User | None) -> list[Assembly]:
    """Drafts are for the secretariat only."""
    query = select(Assembly).order_by(Assembly.starts_on.desc())
    if user is None or not user.is_secretariat:
        query = query.where(Assembly.status != AssemblyStatus.DRAFT)
    return list(session.scalars(query))


def find_assembly(session: Session, slug: str, user: User | None) -> Assembly | None:
    assembly = session.scalar(select(Assembly).where(Assembly.slug == slug))
    if assembly is None:
        return None
    if assembly.status is AssemblyStatus.DRAFT and (user is None or not user.is_secretariat):
        return None
    return assembly


def assembly_counts(session: Session, assembly: Assembly) -> AssemblyCounts:
    members = session.scalar(select(func.count(MemberCity.id))
                             .where(MemberCity.network_id == assembly.network_id)) or 0
    by_status = dict(session.execute(
        select(Delegation.status, func.count(Delegation.id))
        .where(Delegation.assembly_id == assembly.id).group_by(Delegation.status)).all())
    attending = by_status.get(DelegationStatus.ATTENDING, 0)
    absent = by_status.get(DelegationStatus.ABSENT, 0)
    return AssemblyCounts(
        members=members,
        attending=attending,
        absent=absent,
        # A city without a delegation row has not said anything yet.
        undecided=members - attending - absent,
        participants=sum(participant_counts(session, assembly).values()),
    )


ProgrammeDays = list[tuple[date, list[ProgrammeItem]]]


def programme_by_day(session: Session, assembly: Assembly) -> ProgrammeDays:
    """Items grouped by their day in the host's zone, in time order."""
    items = session.scalars(select(ProgrammeItem).where(ProgrammeItem.assembly_id == assembly.id)
                            .order_by(ProgrammeItem.starts_at, ProgrammeItem.id))
    days: dict[date, list[ProgrammeItem]] = {}
    for item in items:
        days.setdefault(item.starts_at.astimezone(assembly.zone).date(), []).append(item)
    return list(days.items())
