"""Logging in and out, and who may see what."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import Blueprint, Flask, abort, flash, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import update
from werkzeug.wrappers import Response
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, Email, Length

from models import Assembly, Role, User
from services.accounts import authenticate
from services.assemblies import find_assembly
from services.checkin.staff import staff_home
from webapp.extensions import db, login_manager
from webapp.forms import Form
from webapp.i18n import _safe_next

bp = Blueprint("auth", __name__)

F = TypeVar("F", bound=Callable[..., Any])


class LoginForm(Form):
    email = EmailField(_l("Email"), validators=[DataRequired(), Email(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=1024)])


@login_manager.user_loader
def load_user(session_id: str) -> User | None:
    """The session's user, if the session is as new as the user's last logout or password
    change (User.get_id carries the version)."""
    parsed = User.parse_session_id(session_id)
    if parsed is None:
        return None
    user = db.session.get(User, parsed[0])
    if user is None or not user.is_active or user.session_version != parsed[1]:
        return None
    return user


def visible_assembly_or_404(slug: str) -> Assembly:
    """The assembly the signed-in user may see (drafts only for the secretariat), or 404."""
    assembly = find_assembly(db.session, slug, current_user)  # type: ignore[arg-type]
    if assembly is None:
        abort(404)
    return assembly


def init_app(app: Flask) -> None:
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please log in to see this page.")
    login_manager.login_message_category = "info"


def roles_required(*roles: Role) -> Callable[[F], F]:
    """Logged in and one of `roles`, else 403."""

    def decorator(view: F) -> F:
        @wraps(view)
        @login_required
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorator


@bp.route("/login", methods=["GET", "POST"])
def login() -> Response | str:
    form = LoginForm()
    if form.validate_on_submit():
        user = authenticate(db.session, form.email.data or "", form.password.data or "")
        db.session.commit()  # keeps a re-hashed password
        if user is not None:
            login_user(user)
            return redirect(_safe_next(request.args.get("next")) if request.args.get("next")
                            else _home_for(user))
        # One message for a wrong email and a wrong password alike.
        flash(_l("The email or password is not right."), "danger")
    return render_template("auth/login.html", form=form)


@bp.post("/logout")
@login_required
def logout() -> Response:
    # End this session and every other one of the user's (a copied cookie included).
    db.session.execute(update(User).where(User.id == current_user.id)
                       .values(session_version=User.session_version + 1))
    db.session.commit()
    logout_user()
    flash(_l("You are logged out."), "info")
    return redirect(url_for("public.index"))


def _home_for(user: User) -> str:
    if user.role is Role.SECRETARIAT:
        return url_for("secretariat.dashboard")
    if user.role is Role.LIAISON:
        return url_for("registration.my_assemblies")
    if user.role is Role.STAFF:
        slug = staff_home(db.session, user)
        if slug:
            return url_for("checkin.scanner", slug=slug)
    return url_for("public.index")
