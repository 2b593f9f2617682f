"""The network: the one-time setup page of a new instance and the secretariat's settings."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_user
from werkzeug.wrappers import Response
from wtforms import EmailField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Email, EqualTo, Length, Optional

from models import Role
from models.languages import REGISTRY
from services.cities import the_network
from services.network import set_up, setup_is_open, update_network
from services.zones import zones_by_region
from webapp.auth import roles_required
from webapp.extensions import db
from webapp.forms import Form, attempt

bp = Blueprint("network", __name__)


class NetworkFields(Form):
    """Name per language (one field per language of models.languages.REGISTRY), the
    secretariat's zone and the sender of mail."""

    # Which form field shows a refusal about which domain field.
    FIELD_OF = {"name": "name_en"}

    home_timezone = SelectField(_l("The secretariat's time zone"), default="Asia/Tokyo",
                                validators=[DataRequired()])
    secretariat_email = EmailField(_l("Sender address (the secretariat's email)"),
                                   validators=[DataRequired(), Email(), Length(max=254)])
    sender_name = StringField(_l("Sender name"), validators=[Optional(), Length(max=120)],
                              description=_l("Shown as the sender of every mail, e.g. "
                                             "“ANMC21 Secretariat”."))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.home_timezone.choices = zones_by_region()  # type: ignore[assignment]

    def name_fields(self) -> list[Any]:
        return [self[f"name_{code.replace('-', '_')}"] for code in REGISTRY]

    def names(self) -> dict[str, str]:
        return {code: self[f"name_{code.replace('-', '_')}"].data or "" for code in REGISTRY}

    def settings(self) -> dict[str, Any]:
        return {"name": self.names(), "home_timezone": self.home_timezone.data or "",
                "secretariat_email": self.secretariat_email.data or "",
                "sender_name": self.sender_name.data or ""}


for _code, _language in REGISTRY.items():
    setattr(NetworkFields, f"name_{_code.replace('-', '_')}", StringField(
        _l("Network name (%(language)s)", language=_language.name),
        validators=[DataRequired() if _code == "en" else Optional(), Length(max=200)]))


class SetupForm(NetworkFields):
    code = StringField(_l("Network code"), validators=[DataRequired(), Length(max=32)],
                       description=_l("Short, in capitals: e.g. ANMC21."))
    email = EmailField(_l("Your email (the first secretariat account)"),
                       validators=[DataRequired(), Email(), Length(max=254)])
    display_name = StringField(_l("Your name"), validators=[Optional(), Length(max=120)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=1024)])
    confirm = PasswordField(_l("Password again"),
                            validators=[DataRequired(), EqualTo("password", _l(
                                "The two passwords differ."))])


@bp.route("/setup/<token>", methods=["GET", "POST"])
def setup(token: str) -> Response | tuple[str, int]:
    # A wrong token and a claimed instance look the same: there is nothing here.
    if not setup_is_open(db.session, current_app.config["SOKAI_SETTINGS"], token):
        abort(404)
    form = SetupForm()
    if form.validate_on_submit():
        with attempt(form) as tried:
            network, user = set_up(db.session, network={"code": form.code.data or "",
                                                        **form.settings()},
                                   email=form.email.data or "", password=form.password.data or "",
                                   display_name=form.display_name.data or "")
            db.session.commit()
        if not tried.refused:
            login_user(user)
            flash(_("%(network)s is set up. Welcome!", network=network.name["en"]), "success")
            return redirect(url_for("secretariat.dashboard"))
        if tried.error is not None and tried.error.code == "network_exists":
            abort(404)
    return render_template("network/setup.html", form=form), 422 if form.errors else 200


@bp.route("/secretariat/network", methods=["GET", "POST"])
@roles_required(Role.SECRETARIAT)
def settings() -> Response | tuple[str, int]:
    network = the_network(db.session)
    names = {f"name_{code.replace('-', '_')}": network.name.get(code, "") for code in REGISTRY}
    form = NetworkFields(obj=network, **names)
    if form.validate_on_submit():
        with attempt(form) as tried:
            update_network(db.session, network, **form.settings())
            db.session.commit()
        if not tried.refused:
            flash(_("Saved."), "success")
            return redirect(url_for("network.settings"))
    return render_template("network/settings.html", form=form,
                           network=network), 422 if form.errors else 200
