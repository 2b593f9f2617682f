"""Pages for everyone: the list of assemblies and an assembly's home page."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, render_template
from flask_login import current_user
from werkzeug.wrappers import Response

from models import User
from services.assemblies import find_assembly, programme_by_day, visible_assemblies
from services.network import has_network
from webapp.extensions import db

bp = Blueprint("public", __name__)


def _viewer() -> User | None:
    return current_user if current_user.is_authenticated else None  # type: ignore[return-value]


@bp.get("/favicon.ico")
def favicon() -> Response:
    """For browsers and tools that ask for /favicon.ico whatever the page says."""
    return current_app.send_static_file("favicon.svg")


@bp.get("/")
def index() -> str:
    if not has_network(db.session):
        # A new instance: the setup link is printed by `sokai run` / `sokai setup-link` on
        # the server, never shown here (whoever opens this page first must not claim it).
        return render_template("public/no_network.html")
    return render_template("public/index.html",
                           assemblies=visible_assemblies(db.session, _viewer()))


@bp.get("/a/<slug>")
def assembly(slug: str) -> str:
    found = find_assembly(db.session, slug, _viewer())
    if found is None:
        abort(404)
    return render_template("public/assembly.html", assembly=found,
                           days=programme_by_day(db.session, found))
