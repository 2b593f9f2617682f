"""Who may act for which city, and the zone a person reads times in."""

from __future__ import annotations

from models import Assembly, MemberCity, Role, User
from models.errors import DomainError
from services.i18n import _


def user_zone(user: User | None, assembly: Assembly) -> str:
    """The zone a person reads times in: their own, else their city's, else the host's."""
    if user is not None and user.timezone:
        return user.timezone
    if user is not None and user.city is not None:
        return user.city.timezone
    return assembly.timezone


def may_act_for(user: User, city: MemberCity) -> bool:
    """The secretariat acts for every city; a liaison only for their own."""
    return user.is_secretariat or (user.role is Role.LIAISON and user.city_id == city.id)


def require_city_access(user: User, city: MemberCity) -> None:
    if not may_act_for(user, city):
        raise DomainError(_("You may only act for your own city."), code="forbidden",
                          status=403)


def require_secretariat(user: User) -> None:
    if not user.is_secretariat:
        raise DomainError(_("Only the secretariat may do this."), code="forbidden", status=403)
