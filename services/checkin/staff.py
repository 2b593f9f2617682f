"""Door staff: accounts with the `staff` role, assigned to assemblies, who may search, scan
and check in there and nothing else. The secretariat may check in everywhere."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Assembly, Role, StaffAssignment, User
from models.errors import DomainError
from services.i18n import _


def assign_staff(session: Session, user: User, slug: str) -> None:
    if user.role is not Role.STAFF:
        raise DomainError(_("Only a door-staff account is assigned to an assembly."),
                          code="not_staff", status=422, field="assembly")
    assembly = session.scalar(select(Assembly).where(Assembly.slug == slug))
    if assembly is None:
        raise DomainError(_("There is no assembly %(slug)s.", slug=slug),
                          code="unknown_assembly", status=422, field="assembly")
    if session.get(StaffAssignment, (user.id, assembly.id)) is None:
        session.add(StaffAssignment(user_id=user.id, assembly_id=assembly.id))
        session.flush()


def may_check_in(session: Session, user: User | None, assembly: Assembly) -> bool:
    if user is None:
        return False
    if user.is_secretariat:
        return True
    return (user.role is Role.STAFF
            and session.get(StaffAssignment, (user.id, assembly.id)) is not None)


def require_check_in(session: Session, user: User | None, assembly: Assembly) -> None:
    if not may_check_in(session, user, assembly):
        raise DomainError(_("Only the secretariat and this assembly's door staff may check "
                            "people in."), code="forbidden", status=403)


def staff_home(session: Session, user: User) -> str | None:
    """The slug of the newest assembly a door-staff account is assigned to."""
    return session.scalar(select(Assembly.slug).join(
        StaffAssignment, StaffAssignment.assembly_id == Assembly.id)
        .where(StaffAssignment.user_id == user.id).order_by(Assembly.starts_on.desc()))
