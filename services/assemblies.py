"""Assemblies: creating and changing them, who may see which, and their live counts."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import (
    Assembly,
    AssemblyStatus,
    Delegation,
    DelegationStatus,
    MemberCity,
    ProgrammeItem,
    Quorum,
    User,
    participant_counts,
)
from models.errors import DomainError
from models.text import TITLE_MAX
from services.access import require_secretariat
from services.cities import check_zone, find_city, names_with_english, the_network
from services.i18n import _
from services.reminders.defaults import create_default_reminders
from services.text import checked_localized


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


def may_see(assembly: Assembly, user: User | None) -> bool:
    """Drafts are for the secretariat only."""
    return assembly.status is not AssemblyStatus.DRAFT or (user is not None
                                                           and user.is_secretariat)


def find_assembly(session: Session, slug: str, user: User | None) -> Assembly | None:
    assembly = session.scalar(select(Assembly).where(Assembly.slug == slug))
    return assembly if assembly is not None and may_see(assembly, user) else None


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


# --- creating and changing ----------------------------------------------------------------


# An assembly's address: /a/<slug> (at most 80, the column).
SLUG = re.compile(r"[a-z0-9-]{1,80}")


def create_assembly(session: Session, data: dict[str, Any]) -> Assembly:
    network = the_network(session)
    slug = str(data["slug"]).strip().lower()
    if not SLUG.fullmatch(slug):
        raise DomainError(_("Lower-case letters, digits and hyphens only."), code="invalid_slug",
                          status=422, field="slug")
    if session.scalar(select(Assembly).where(Assembly.slug == slug)) is not None:
        raise DomainError(_("An assembly with address %(slug)s already exists.", slug=slug),
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
            raise DomainError(_("Missing: %(fields)s.", fields=", ".join(missing)),
                              code="missing_fields", status=422, field=missing[0])
    for zone_field in ("timezone", "home_timezone"):
        if zone_field in data:
            setattr(assembly, zone_field, check_zone(data[zone_field], zone_field))
    if creating and "home_timezone" not in data:
        assembly.home_timezone = the_network(session).home_timezone
    if "host_city" in data:
        assembly.host_city = find_city(session, data["host_city"], field="host_city")
    for name in ("title", "venue", "host_organisation"):
        if name in data:
            value = data[name] or {}
            if name == "title":
                value = names_with_english(value, "title", TITLE_MAX)
            else:
                value = checked_localized(name, value, max_length=TITLE_MAX)
            setattr(assembly, name, value)
    if creating and "venue" not in data:
        assembly.venue = {}
    if creating and "host_organisation" not in data:
        assembly.host_organisation = {}
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
        raise DomainError(_("The assembly cannot end before it starts."), code="dates_in_order",
                          status=422, field="ends_on")
    if "sitting_days" in data:
        assembly.sitting_days = sorted({day.isoformat() for day in data["sitting_days"] or ()})
    if any(not starts <= date.fromisoformat(day) <= assembly.ends_on
           for day in assembly.sitting_days or ()):
        raise DomainError(_("The sitting days must lie within the assembly's dates."),
                          code="sitting_days_outside", status=422, field="sitting_days")
    if (assembly.max_proxies_per_holder or 1) < 1:
        raise DomainError(_("A holder must be allowed at least one letter."),
                          code="invalid_limit", status=422, field="max_proxies_per_holder")


def set_assembly_status(session: Session, assembly: Assembly, status: AssemblyStatus,
                        user: User) -> None:
    require_secretariat(user)
    assembly.status = status
    session.flush()
