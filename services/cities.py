"""The network and its member cities."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import MemberCity, Network, UnknownTimeZoneError, validate_timezone
from models.errors import DomainError
from models.network import city_code
from models.text import CITY_NAME_MAX
from services.i18n import _
from services.text import checked_localized
from services.zones import country_zone


def the_network(session: Session) -> Network:
    network = session.scalar(select(Network).order_by(Network.id))
    if network is None:
        raise DomainError(_("There is no network yet: set one up with the setup link, "
                            "`sokai init` or `sokai demo`."),
                          code="no_network", status=409)
    return network


def find_city(session: Session, code: str, field: str = "city") -> MemberCity:
    city = session.scalar(select(MemberCity).where(MemberCity.code == city_code(code)))
    if city is None:
        raise DomainError(_("There is no member city with code %(code)s.", code=code),
                          code="unknown_city", status=404 if field == "city" else 422,
                          field=field)
    return city


def check_zone(value: str, field: str = "timezone") -> str:
    try:
        return validate_timezone(value)
    except UnknownTimeZoneError:
        raise DomainError(_("%(zone)s is not an IANA time zone such as Asia/Tokyo.",
                            zone=value), code="unknown_timezone", status=422,
                          field=field) from None


def names_with_english(name: dict[str, str], field: str = "name",
                       max_length: int = CITY_NAME_MAX) -> dict[str, str]:
    """A name per language as stored (the text rule of models.text); English is required (it
    is every list's order)."""
    clean = checked_localized(field, name, max_length=max_length)
    if not clean.get("en"):
        raise DomainError(_("Give at least the English name."), code="name_required",
                          status=422, field=field)
    return clean


def _country(country: str) -> str:
    country = country.strip().upper()
    if len(country) != 2 or not country.isalpha():
        raise DomainError(_("A country is its two-letter ISO code, such as JP."),
                          code="invalid_country", status=422, field="country")
    return country


def create_city(session: Session, *, code: str, name: dict[str, str], country: str,
                timezone: str) -> MemberCity:
    network = the_network(session)
    code = city_code(code)
    if not code or not code.isalnum() or len(code) > 16:
        raise DomainError(_("A city code is letters and digits, at most 16."),
                          code="invalid_code", status=422, field="code")
    if session.scalar(select(MemberCity).where(MemberCity.network_id == network.id,
                                               MemberCity.code == code)) is not None:
        raise DomainError(_("A member city with code %(code)s already exists.", code=code),
                          code="duplicate_city", field="code")
    country = _country(country)
    # No zone given: the country's, when it has just one (services.zones).
    timezone = timezone.strip() or country_zone(country) or ""
    if not timezone:
        raise DomainError(_("Choose the city's time zone: its country has several."),
                          code="timezone_required", status=422, field="timezone")
    city = MemberCity(network=network, code=code, name=names_with_english(name),
                      country=country, timezone=check_zone(timezone))
    session.add(city)
    session.flush()
    return city


def update_city(session: Session, city: MemberCity, **changes: Any) -> MemberCity:
    if "name" in changes:
        city.name = names_with_english(changes["name"])
    if "country" in changes:
        city.country = _country(changes["country"])
    if "timezone" in changes:
        city.timezone = check_zone(changes["timezone"])
    session.flush()
    return city
