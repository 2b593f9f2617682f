"""Attendance at the venue: once check-in has started, a city is present when at least one of
its delegates has checked in. The rule itself stays services.attendance.presence_of: only the
delegation statuses it is given change (a city that registered but nobody of which is here is
absent; a letter still counts when its holder is here). Importing this module registers the
"checkin" basis with the decisions (services.decisions.snapshot)."""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from models import Assembly, CheckIn, Delegation, DelegationStatus
from models.errors import DomainError
from services.attendance import Attendance, compute_attendance
from services.checkin.desk import checked_in_per_city, checked_in_representatives
from services.decisions.snapshot import Picture, picture_of, register_picture
from services.i18n import _

BASES = ("registration", "checkin")


def checkin_started(session: Session, assembly: Assembly) -> bool:
    return bool(session.scalar(select(exists().where(CheckIn.assembly_id == assembly.id))))


def checkin_attendance(session: Session, assembly: Assembly) -> Attendance:
    """The attendance picture on the check-in basis (whether or not check-in has started)."""
    checked = checked_in_per_city(session, assembly)
    statuses: dict[int, DelegationStatus] = {}
    for city_id, status in session.execute(select(Delegation.city_id, Delegation.status)
                                           .where(Delegation.assembly_id == assembly.id)):
        statuses[city_id] = (DelegationStatus.ABSENT if status is DelegationStatus.ATTENDING
                             else status)
    for city_id in checked:
        statuses[city_id] = DelegationStatus.ATTENDING
    return compute_attendance(session, assembly, statuses=statuses, counts=checked,
                              representatives=checked_in_representatives(session, assembly))


def attendance_on(session: Session, assembly: Assembly, basis: str) -> Attendance:
    """The picture on a basis: `registration` (who said they come) or `checkin` (who is here,
    once check-in has started; 409 before)."""
    if basis == "registration":
        return compute_attendance(session, assembly)
    if basis != "checkin":
        raise DomainError(_("Unknown basis %(basis)s: use registration or checkin.",
                            basis=basis), code="unknown_basis", status=422, field="basis")
    if not checkin_started(session, assembly):
        raise DomainError(_("Check-in has not started for this assembly."),
                          code="checkin_not_started", status=409, field="basis")
    return checkin_attendance(session, assembly)


def attendance_for_decision(session: Session, assembly: Assembly) -> Attendance:
    """What a decision put to the assembly counts: who is at the venue once check-in has
    started, who registered before. For the decisions area's registry of bases."""
    if checkin_started(session, assembly):
        return checkin_attendance(session, assembly)
    return compute_attendance(session, assembly)


def checkin_picture(session: Session, assembly: Assembly) -> Picture:
    """The "checkin" basis of a decision's frozen attendance (services.decisions.snapshot):
    who is at the venue; refused (409) before check-in has started."""
    picture = attendance_on(session, assembly, "checkin")
    # The lists as any basis freezes them, and how many people were at the door.
    return replace(picture_of(picture), extra={"checked_in": picture.participants})


register_picture("checkin", checkin_picture)
