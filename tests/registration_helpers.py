"""Helpers shared by the registration tests: tokens, a network, small PDFs."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask

from models import Network, Role, User
from services.accounts import issue_token
from services.demo import NETWORK
from webapp.extensions import db

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def bearer(app: Flask, make_user: Callable[..., User], email: str, role: Role,
           city: str | None = None) -> dict[str, str]:
    make_user(email, role, city=city)
    with app.app_context():
        secret = issue_token(db.session, email)
        db.session.commit()
    return {"Authorization": f"Bearer {secret}"}


def make_network(app: Flask) -> None:
    with app.app_context():
        db.session.add(Network(**NETWORK))
        db.session.commit()
