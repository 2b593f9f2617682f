"""Helpers shared by the check-in tests: the Tomsk assembly with tokens, badge codes, reading
QR codes out of a PDF with Debian's poppler and zbar."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from models import Assembly, AssemblyStatus, Delegate, Role, User
from services.accounts import issue_token
from services.checkin.badges import live_badges
from services.checkin.staff import assign_staff
from services.demo import load_tomsk_2014
from webapp.extensions import db

SLUG = "anmc21-tomsk-2014"


@dataclass(frozen=True)
class Venue:
    slug: str
    sec: dict[str, str]
    staff: dict[str, str]
    liaison: dict[str, str]


def tomsk_venue(app: Flask, make_user: Callable[..., User]) -> Venue:
    with app.app_context():
        assembly = load_tomsk_2014(db.session)
        assembly.status = AssemblyStatus.OPEN
        db.session.commit()
    make_user("door.sec@example.org", Role.SECRETARIAT)
    make_user("door.staff@example.org", Role.STAFF)
    make_user("door.tyo@example.org", Role.LIAISON, city="TYO")
    with app.app_context():
        staff = db.session.scalar(select(User).where(User.email == "door.staff@example.org"))
        assert staff is not None
        assign_staff(db.session, staff, SLUG)
        tokens = {email: issue_token(db.session, email) for email in (
            "door.sec@example.org", "door.staff@example.org", "door.tyo@example.org")}
        db.session.commit()

    def bearer(email: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {tokens[email]}"}

    return Venue(SLUG, bearer("door.sec@example.org"), bearer("door.staff@example.org"),
                 bearer("door.tyo@example.org"))


def codes_of(app: Flask, family_names: list[str] | None = None) -> dict[str, str]:
    """family name → live badge code (issued now when missing)."""
    with app.app_context():
        assembly = db.session.scalar(select(Assembly).where(Assembly.slug == SLUG))
        assert assembly is not None
        query = select(Delegate).where(Delegate.assembly_id == assembly.id)
        if family_names:
            query = query.where(Delegate.family_name.in_(family_names))
        people = list(db.session.scalars(query))
        badges = live_badges(db.session, assembly, people)
        db.session.commit()
        return {p.family_name: badges[p.id].code for p in people}


def delegate_id(app: Flask, family_name: str) -> int:
    with app.app_context():
        found = db.session.scalar(select(Delegate.id).where(Delegate.family_name == family_name))
        assert found is not None
        return found


def decode_qr_codes(pdf: bytes, dpi: int = 150) -> list[str]:
    """Every QR code on every page, read by zbarimg (zbar-tools) from pdftoppm's pictures."""
    for tool in ("pdftoppm", "zbarimg"):
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} is missing: .ci/run installs poppler-utils and zbar-tools")
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "badges.pdf"
        source.write_bytes(pdf)
        subprocess.run(["pdftoppm", "-r", str(dpi), "-gray", "-png", str(source),
                        str(Path(folder) / "page")], check=True, timeout=300)
        pages = sorted(Path(folder).glob("page*.png"))
        found = subprocess.run(["zbarimg", "--quiet", "--raw", "-Sdisable", "-Sqrcode.enable",
                                *map(str, pages)], capture_output=True, text=True, timeout=300)
        assert found.returncode in (0, 4), found.stderr  # 4: a page without a code
        return [line for line in found.stdout.splitlines() if line.strip()]
