"""The secretariat's registration pages: member cities and liaison invitations, assemblies,
opening and closing registration, the proxy-letter queue and the live attendance picture."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from werkzeug.wrappers import Response

from models import (
    Assembly,
    AssemblyStatus,
    Invitation,
    InvitationKind,
    MemberCity,
    ProxyLetter,
    ProxyStatus,
    Role,
    User,
    utcnow,
)
from services.assemblies import create_assembly, set_assembly_status, update_assembly
from services.attendance import compute_attendance
from services.cities import check_zone, create_city, find_city, update_city
from services.city_import import import_cities
from services.invitations import (
    invitations_by_city,
    invite_liaison,
    invite_liaisons,
    resend_liaison_invitation,
    void_invitation,
)
from services.proxies import letters_of, reject_letter, verify_letter
from services.zones import zones_by_region
from webapp.auth import roles_required, visible_assembly_or_404
from webapp.extensions import db
from webapp.forms import attempt, localized_data, localized_defaults
from webapp.registration.forms import (
    AssemblyForm,
    BulkInviteForm,
    CityForm,
    CityImportForm,
    InviteForm,
    RejectForm,
)

bp = Blueprint("registration_admin", __name__, url_prefix="/secretariat")


# --- member cities and liaisons ----------------------------------------------------------


@bp.route("/cities", methods=["GET", "POST"])
@roles_required(Role.SECRETARIAT)
def cities() -> Response | tuple[str, int]:
    form = CityForm()
    if form.validate_on_submit():
        with attempt(form) as tried:
            create_city(db.session, code=form.code.data or "", **_city_data(form))
            db.session.commit()
        if not tried.refused:
            flash(_("The city is added."), "success")
            return redirect(url_for("registration_admin.cities"))
    return _render_cities(form=form, status=422 if form.errors else 200)


def _city_data(form: CityForm) -> dict[str, Any]:
    """What the city form says, for adding a city and for changing one."""
    return {"country": form.country.data or "", "name": localized_data(form, "name"),
            "timezone": (form.timezone.data or "").strip()}


def _render_cities(form: CityForm | None = None, import_form: CityImportForm | None = None,
                   bulk_form: BulkInviteForm | None = None,
                   import_errors: list[tuple[int, str, str]] | None = None,
                   status: int = 200) -> tuple[str, int]:
    rows = db.session.scalars(select(MemberCity).order_by(MemberCity.code)).all()
    liaisons = {u.city_id: u for u in db.session.scalars(
        select(User).where(User.role == Role.LIAISON))}
    invited = invitations_by_city(db.session, rows)
    return render_template("registration/cities.html", cities=rows, form=form or CityForm(),
                           liaisons=liaisons, invited=invited, invite_form=InviteForm(),
                           import_form=import_form or CityImportForm(),
                           bulk_form=bulk_form or BulkInviteForm(),
                           import_errors=import_errors or [], now=utcnow()), status


@bp.post("/cities/import")
@roles_required(Role.SECRETARIAT)
def import_cities_page() -> Response | tuple[str, int]:
    form = CityImportForm()
    if not form.validate_on_submit():
        return _render_cities(import_form=form, status=422)
    upload = form.file.data
    report = None
    with attempt(form) as tried:
        report = import_cities(db.session, upload.read(), upload.filename or "", current_user)
        if report.ok:
            db.session.commit()
        else:
            db.session.rollback()
    if tried.refused or report is None:
        return _render_cities(import_form=form, status=tried.status)
    if not report.ok:
        return _render_cities(import_form=form, import_errors=report.errors, status=422)
    flash(_("%(n)d cities imported; %(m)d liaisons invited.", n=len(report.imported),
            m=report.invited), "success")
    return redirect(url_for("registration_admin.cities"))


@bp.post("/cities/invitations")
@roles_required(Role.SECRETARIAT)
def invite_in_bulk() -> Response | tuple[str, int]:
    form = BulkInviteForm()
    if not form.validate_on_submit():
        return _render_cities(bulk_form=form, status=422)
    wanted = []
    for line in (form.lines.data or "").splitlines():
        if line.strip():
            code, _sep, rest = line.replace(";", ",").partition(",")
            email, _sep, language = rest.partition(",")
            wanted.append((code.strip(), email.strip(), language.strip() or "en"))
    errors = invite_liaisons(db.session, wanted, current_user)
    if errors:
        db.session.rollback()
        form.lines.errors = [_("Line %(n)d: %(message)s", n=n, message=message)
                             for n, _field, message in errors]
        return _render_cities(bulk_form=form, status=422)
    db.session.commit()
    flash(_("%(n)d invitations sent.", n=len(wanted)), "success")
    return redirect(url_for("registration_admin.cities"))


@bp.post("/invitations/<int:invitation_id>/<any(resend, void):action>")
@roles_required(Role.SECRETARIAT)
def invitation_action(invitation_id: int, action: str) -> Response:
    invitation = db.session.get(Invitation, invitation_id)
    if invitation is None or invitation.kind is not InvitationKind.LIAISON:
        abort(404)
    if FlaskForm().validate_on_submit():
        with attempt() as tried:
            if action == "resend":
                resend_liaison_invitation(db.session, invitation, current_user)
            else:
                void_invitation(db.session, invitation, current_user)
            db.session.commit()
        if not tried.refused:
            flash(_("A new link was sent to %(email)s.", email=invitation.email)
                  if action == "resend" else _("The link no longer works."), "success")
    return redirect(url_for("registration_admin.cities"))


@bp.route("/cities/<code>", methods=["GET", "POST"])
@roles_required(Role.SECRETARIAT)
def edit_city(code: str) -> Response | tuple[str, int]:
    city = find_city(db.session, code)
    form = CityForm(obj=city, **localized_defaults("name", city.name))
    if form.validate_on_submit():
        with attempt(form) as tried:
            update_city(db.session, city, **_city_data(form))
            db.session.commit()
        if not tried.refused:
            flash(_("Saved."), "success")
            return redirect(url_for("registration_admin.cities"))
    return render_template("registration/city_form.html", city=city,
                           form=form), 422 if form.errors else 200


@bp.post("/cities/<code>/invite")
@roles_required(Role.SECRETARIAT)
def invite(code: str) -> Response:
    city = find_city(db.session, code)
    form = InviteForm()
    if not form.validate_on_submit():
        for errors in form.errors.values():
            flash(" ".join(str(e) for e in errors), "danger")
        return redirect(url_for("registration_admin.cities"))
    with attempt() as tried:
        invite_liaison(db.session, city, form.email.data or "", form.language.data or "en",
                       current_user, name=form.name.data or "")
        db.session.commit()
    if not tried.refused:
        flash(_("An invitation was sent to %(email)s.", email=form.email.data), "success")
    return redirect(url_for("registration_admin.cities"))


# --- assemblies --------------------------------------------------------------------------


def _assembly_data(form: AssemblyForm) -> dict[str, Any]:
    """Deadlines are typed in the host's local time and stored as UTC instants."""
    # The host's zone is the host city's unless another one is typed.
    host = db.session.scalar(select(MemberCity).where(MemberCity.code == form.host_city.data))
    zone = check_zone((form.timezone.data or "").strip() or (host.timezone if host else ""))

    def instant(value: datetime | None) -> datetime | None:
        return value.replace(tzinfo=ZoneInfo(zone)) if value else None

    return {
        "slug": form.slug.data, "title": localized_data(form, "title"),
        "host_city": form.host_city.data, "timezone": zone,
        "venue": localized_data(form, "venue"),
        "host_organisation": localized_data(form, "host_organisation"),
        "sitting_days": form.sitting_days.data or [],
        "home_timezone": (form.home_timezone.data or "").strip(),
        "starts_on": form.starts_on.data, "ends_on": form.ends_on.data,
        "registration_deadline": instant(form.registration_deadline.data),
        "proxy_deadline": instant(form.proxy_deadline.data), "quorum": form.quorum.data,
        "max_proxies_per_holder": form.max_proxies_per_holder.data,
        "proxy_to_chair_allowed": bool(form.proxy_to_chair_allowed.data),
    }


@bp.app_template_global()
def iana_zones() -> list[str]:
    """Every IANA zone name, for the searchable time zone fields."""
    return _ZONES


_ZONES = sorted(zone for zones in zones_by_region().values() for zone, _label in zones)


def _host_zones() -> dict[str, str]:
    """Each member city's zone, for the form to fill the host's zone from the host city."""
    return {c.code: c.timezone for c in db.session.scalars(select(MemberCity))}


def _host_choices() -> list[tuple[str, str]]:
    return [(c.code, f"{c.code} · {c.name.get('en', '')}") for c in
            db.session.scalars(select(MemberCity).order_by(MemberCity.code))]


@bp.route("/assemblies/new", methods=["GET", "POST"])
@roles_required(Role.SECRETARIAT)
def new_assembly() -> Response | tuple[str, int]:
    form = AssemblyForm()
    form.host_city.choices = _host_choices()
    if not form.is_submitted():
        form.home_timezone.data = "Asia/Tokyo"
    if form.validate_on_submit():
        with attempt(form) as tried:
            assembly = create_assembly(db.session, _assembly_data(form))
            db.session.commit()
        if not tried.refused:
            flash(_("The assembly is created as a draft. Next: add the programme (Programme "
                    "editor), check the reminders, then open registration on this page."),
                  "success")
            return redirect(url_for("registration_admin.attendance", slug=assembly.slug))
    return render_template("registration/assembly_form.html", form=form, assembly=None,
                           host_zones=_host_zones()), 422 if form.errors else 200


@bp.route("/assemblies/<slug>/edit", methods=["GET", "POST"])
@roles_required(Role.SECRETARIAT)
def edit_assembly(slug: str) -> Response | tuple[str, int]:
    assembly = visible_assembly_or_404(slug)
    form = AssemblyForm(
        obj=assembly, host_city=assembly.host_city.code,
        **localized_defaults("title", assembly.title),
        **localized_defaults("venue", assembly.venue),
        **localized_defaults("host_organisation", assembly.host_organisation),
        quorum=assembly.quorum.value,
        registration_deadline=assembly.registration_deadline.astimezone(assembly.zone)
        .replace(tzinfo=None),
        proxy_deadline=assembly.proxy_deadline.astimezone(assembly.zone).replace(tzinfo=None))
    form.host_city.choices = _host_choices()
    if form.validate_on_submit():
        with attempt(form) as tried:
            update_assembly(db.session, assembly, _assembly_data(form))
            db.session.commit()
        if not tried.refused:
            flash(_("Saved."), "success")
            return redirect(url_for("registration_admin.attendance", slug=assembly.slug))
    return render_template("registration/assembly_form.html", form=form, assembly=assembly,
                           host_zones=_host_zones()), 422 if form.errors else 200


@bp.post("/assemblies/<slug>/registration/<any(open, closed):status>")
@roles_required(Role.SECRETARIAT)
def registration_status(slug: str, status: str) -> Response:
    assembly = visible_assembly_or_404(slug)
    if FlaskForm().validate_on_submit():
        set_assembly_status(db.session, assembly, AssemblyStatus(status), current_user)
        db.session.commit()
        flash(_("Registration is open.") if status == "open" else _("Registration is closed."),
              "success")
    return redirect(url_for("registration_admin.attendance", slug=slug))


# --- attendance and proxy letters ----------------------------------------------------------


@bp.get("/assemblies/<slug>/attendance")
@roles_required(Role.SECRETARIAT)
def attendance(slug: str) -> str:
    assembly = visible_assembly_or_404(slug)
    return render_template("registration/attendance.html", assembly=assembly,
                           picture=compute_attendance(db.session, assembly), form=FlaskForm())


@bp.get("/assemblies/<slug>/proxies")
@roles_required(Role.SECRETARIAT)
def proxies(slug: str) -> str:
    assembly = visible_assembly_or_404(slug)
    letters = letters_of(db.session, assembly, current_user)
    waiting = [letter for letter in letters if letter.status is ProxyStatus.SUBMITTED]
    return render_template("registration/proxies.html", assembly=assembly, letters=letters,
                           waiting=waiting, form=FlaskForm(), reject_form=RejectForm())


def _letter(assembly: Assembly, letter_id: int) -> ProxyLetter:
    letter = db.session.get(ProxyLetter, letter_id)
    if letter is None or letter.assembly_id != assembly.id:
        abort(404)
    return letter


@bp.post("/assemblies/<slug>/proxies/<int:letter_id>/verify")
@roles_required(Role.SECRETARIAT)
def verify(slug: str, letter_id: int) -> Response:
    assembly = visible_assembly_or_404(slug)
    letter = _letter(assembly, letter_id)
    if FlaskForm().validate_on_submit():
        with attempt() as tried:
            verify_letter(db.session, letter, current_user)
            db.session.commit()
        if not tried.refused:
            flash(_("The letter from %(city)s is verified.",
                    city=letter.grantor.name.get("en", "")), "success")
    return redirect(url_for("registration_admin.proxies", slug=slug))


@bp.post("/assemblies/<slug>/proxies/<int:letter_id>/reject")
@roles_required(Role.SECRETARIAT)
def reject(slug: str, letter_id: int) -> Response:
    assembly = visible_assembly_or_404(slug)
    letter = _letter(assembly, letter_id)
    form = RejectForm()
    if form.validate_on_submit():
        with attempt() as tried:
            reject_letter(db.session, letter, current_user, form.reason.data or "")
            db.session.commit()
        if not tried.refused:
            flash(_("The letter is rejected; the liaison is told why."), "info")
    else:
        flash(_("Say why the letter is rejected: the liaison will read it."), "danger")
    return redirect(url_for("registration_admin.proxies", slug=slug) + f"#letter-{letter_id}")
