"""The network of member cities: the network itself and its member cities."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from models.base import Base, Localized, localized, utcnow, validate_timezone


class Network(Base):
    __tablename__ = "networks"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[Localized]
    # The secretariat's address: organiser of calendar entries, sender of mail.
    secretariat_email: Mapped[str] = mapped_column(String(254))
    # The display name of that sender ("ANMC21 Secretariat"); empty: the network's name.
    sender_name: Mapped[str] = mapped_column(String(120), default="", server_default="")
    home_timezone: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Months after an assembly's last day (once it is closed) that delegates' personal data
    # is kept; then the retention job anonymises it (services.retention).
    retention_months: Mapped[int] = mapped_column(default=12, server_default="12")

    cities: Mapped[list[MemberCity]] = relationship(back_populates="network",
                                                   order_by="MemberCity.code")

    @validates("home_timezone")
    def _check_zone(self, _key: str, value: str) -> str:
        return validate_timezone(value)


def city_code(value: str) -> str:
    """A member city's code as stored and looked up: "tof " is TOF."""
    return value.strip().upper()


class MemberCity(Base):
    __tablename__ = "member_cities"
    __table_args__ = (UniqueConstraint("network_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    network_id: Mapped[int] = mapped_column(ForeignKey("networks.id"))
    # Short upper-case code used in URLs and the API, e.g. "TYO".
    code: Mapped[str] = mapped_column(String(16))
    name: Mapped[Localized]
    country: Mapped[str] = mapped_column(String(2))  # ISO 3166-1 alpha-2
    timezone: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    network: Mapped[Network] = relationship(back_populates="cities")

    @validates("timezone")
    def _check_zone(self, _key: str, value: str) -> str:
        return validate_timezone(value)

    @validates("code")
    def _check_code(self, _key: str, value: str) -> str:
        value = city_code(value)
        if not value or not value.isalnum() or len(value) > 16:
            raise ValueError(f"city code {value!r}: letters and digits, at most 16")
        return value

    def display_name(self, lang: str) -> str:
        return localized(self.name, lang)

    def __repr__(self) -> str:
        return f"<MemberCity {self.code}>"
