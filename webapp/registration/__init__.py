"""Registration pages: a liaison's "my city", a delegate's own page, accepting an invitation,
and the proxy letter's document (for the secretariat and the grantor's liaison only)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import (
    Blueprint,
    abort,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from models import (
    Assembly,
    AssemblyStatus,
    Delegate,
    DelegateStatus,
    Delegation,
    DelegationStatus,
    MemberCity,
    ProxyLetter,
    Role,
    User,
    utcnow,
)
from models.names import default_order
from services.access import user_zone
from services.calendar.content import delegate_item_ids
from services.calendar.tokens import current_secrets
from services.cities import find_city
from services.delegation_import import delegate_columns, import_delegation
from services.delegations import (
    add_delegate,
    cancel_delegate,
    confirm_own_registration,
    default_role,
    delegates_of,
    delegation_for,
    registration_lock,
    restore_delegate,
    set_delegation_status,
    update_delegate,
)
from services.invitations import (
    accept_liaison_invitation,
    delegate_confirmed,
    delegate_for_token,
    invite_delegate,
    latest_delegate_invitations,
    mark_opened,
    open_liaison_invitation,
)
from services.programme import optional_items
from services.proxies import (
    Document,
    document_file,
    letters_held_by,
    letters_of,
    may_see_letter,
    submit_letter,
)
from webapp.auth import roles_required, visible_assembly_or_404
from webapp.extensions import db
from webapp.forms import attempt, localized_data, localized_defaults
from webapp.i18n import current_language, read_by
from webapp.registration.forms import (
    ROLE_LABELS,
    DelegateForm,
    ImportForm,
    LetterForm,
    SetPasswordForm,
    StatusForm,
)

bp = Blueprint("registration", __name__)


# --- the liaison's city ------------------------------------------------------------------


_my_assembly = visible_assembly_or_404


def _my_city(code: str | None = None) -> MemberCity:
    """A liaison's own city; the secretariat may open any city's page with ?city=CODE."""
    if current_user.is_secretariat:
        return find_city(db.session, code or request.args.get("city") or "")
    if current_user.city is None:
        abort(403)
    return current_user.city


@bp.get("/my/")
@roles_required(Role.LIAISON)
def my_assemblies() -> str:
    assemblies = db.session.scalars(select(Assembly).where(
        Assembly.status != AssemblyStatus.DRAFT).order_by(Assembly.starts_on.desc())).all()
    return render_template("registration/my_assemblies.html", assemblies=assemblies)


def _render_my_city(assembly: Assembly, city: MemberCity, *, status_form: StatusForm | None = None,
                    delegate_form: DelegateForm | None = None,
                    letter_form: LetterForm | None = None,
                    import_form: ImportForm | None = None, import_errors: Any = None,
                    status: int = 200) -> tuple[str, int]:
    delegation = delegation_for(db.session, assembly, city)
    db.session.commit()
    status_form = status_form or StatusForm(status=delegation.status.value
                                            if delegation.status is not
                                            DelegationStatus.UNDECIDED else None)
    letter_form = letter_form or LetterForm()
    letter_form.holder.choices = _holder_choices(assembly, city)
    letters = [letter for letter in letters_of(db.session, assembly, current_user)
               if letter.grantor_city_id == city.id]
    people = delegates_of(db.session, assembly, city)
    cancelled = [p for p in delegates_of(db.session, assembly, city, include_cancelled=True)
                 if p.status is DelegateStatus.CANCELLED]
    return render_template(
        "registration/my_city.html", assembly=assembly, city=city, delegation=delegation,
        people=people, cancelled=cancelled, now=utcnow(),
        invitations=latest_delegate_invitations(db.session, [p.id for p in people]),
        held=letters_held_by(db.session, assembly, city),
        locked=registration_lock(assembly, current_user),
        letter_locked=registration_lock(assembly, current_user, until_proxy_deadline=True),
        status_form=status_form,
        delegate_form=delegate_form or DelegateForm(
            name_order=default_order(city.country).value,
            role=default_role(db.session, delegation).value), letter_form=letter_form,
        import_form=import_form or ImportForm(), import_errors=import_errors or [],
        letters=letters, zone=user_zone(current_user, assembly), role_labels=ROLE_LABELS,
        columns=delegate_columns()), status


def _holder_choices(assembly: Assembly, city: MemberCity) -> list[tuple[str, str]]:
    attending = db.session.scalars(
        select(MemberCity).join(Delegation, Delegation.city_id == MemberCity.id)
        .where(Delegation.assembly_id == assembly.id,
               Delegation.status == DelegationStatus.ATTENDING, MemberCity.id != city.id)
        .order_by(MemberCity.code)).all()
    choices = [(c.code, c.display_name(current_language())) for c in attending]
    if assembly.proxy_to_chair_allowed:
        choices.append(("chair", _("The chair of the assembly")))
    return choices


@bp.get("/my/<slug>")
@roles_required(Role.LIAISON, Role.SECRETARIAT)
def my_city(slug: str) -> tuple[str, int]:
    return _render_my_city(_my_assembly(slug), _my_city())


def _back(assembly: Assembly, city: MemberCity, anchor: str = "") -> Response:
    extra = {"city": city.code} if current_user.is_secretariat else {}
    return redirect(url_for("registration.my_city", slug=assembly.slug, **extra) + anchor)


@bp.post("/my/<slug>/status")
@roles_required(Role.LIAISON, Role.SECRETARIAT)
def my_status(slug: str) -> Response | tuple[str, int]:
    assembly, city = _my_assembly(slug), _my_city()
    form = StatusForm()
    if not form.validate_on_submit():
        return _render_my_city(assembly, city, status_form=form, status=422)
    with attempt(form) as tried:
        set_delegation_status(db.session, assembly, city, DelegationStatus(form.status.data),
                              current_user)
        db.session.commit()
    if tried.refused:
        return _render_my_city(assembly, city, status_form=form, status=tried.status)
    flash(_("Saved: your city attends.") if form.status.data == "attending"
          else _("Saved: your city is absent. You may give a proxy letter below."), "success")
    return _back(assembly, city)


def _delegate_form(delegate: Delegate) -> DelegateForm:
    return DelegateForm(obj=delegate, **localized_defaults("title", delegate.title))


def _delegate_data(form: DelegateForm) -> dict[str, Any]:
    return {"family_name": form.family_name.data or "", "given_name": form.given_name.data,
            "name_local": form.name_local.data, "name_order": form.name_order.data,
            "honorific": form.honorific.data,
            "title": localized_data(form, "title"),
            "role": form.role.data, "email": form.email.data or None,
            "language": form.language.data}


@bp.post("/my/<slug>/delegates")
@roles_required(Role.LIAISON, Role.SECRETARIAT)
def my_add_delegate(slug: str) -> Response | tuple[str, int]:
    assembly, city = _my_assembly(slug), _my_city()
    form = DelegateForm()
    if not form.validate_on_submit():
        return _render_my_city(assembly, city, delegate_form=form, status=422)
    with attempt(form) as tried:
        add_delegate(db.session, assembly, city, _delegate_data(form), current_user)
        db.session.commit()
    if tried.refused:
        return _render_my_city(assembly, city, delegate_form=form, status=tried.status)
    flash(_("%(name)s is registered.", name=form.family_name.data), "success")
    return _back(assembly, city, "#delegation")


def _own_delegate(assembly: Assembly, city: MemberCity, delegate_id: int) -> Delegate:
    delegate = db.session.get(Delegate, delegate_id)
    if (delegate is None or delegate.assembly_id != assembly.id
            or delegate.delegation.city_id != city.id):
        abort(404)
    return delegate


@bp.route("/my/<slug>/delegates/<int:delegate_id>", methods=["GET", "POST"])
@roles_required(Role.LIAISON, Role.SECRETARIAT)
def my_edit_delegate(slug: str, delegate_id: int) -> Response | tuple[str, int]:
    assembly, city = _my_assembly(slug), _my_city()
    delegate = _own_delegate(assembly, city, delegate_id)
    form = _delegate_form(delegate)
    if request.method == "POST" and form.validate_on_submit():
        with attempt(form) as tried:
            update_delegate(db.session, delegate, _delegate_data(form), current_user)
            db.session.commit()
        if not tried.refused:
            flash(_("Saved."), "success")
            return _back(assembly, city, "#delegation")
    status = 422 if form.errors else 200
    return render_template("registration/delegate_form.html", assembly=assembly, city=city,
                           delegate=delegate, form=form), status


@bp.post("/my/<slug>/delegates/<int:delegate_id>/cancel")
@roles_required(Role.LIAISON, Role.SECRETARIAT)
def my_cancel_delegate(slug: str, delegate_id: int) -> Response:
    return _delegate_button(slug, delegate_id, cancel_delegate, lambda delegate: (
        _("%(name)s is cancelled. To undo, use “Undo: register again” in the list "
          "of cancelled people.", name=delegate.full_name), "info"))


@bp.post("/my/<slug>/delegates/<int:delegate_id>/restore")
@roles_required(Role.LIAISON, Role.SECRETARIAT)
def my_restore_delegate(slug: str, delegate_id: int) -> Response:
    """The undo of a cancellation."""
    return _delegate_button(slug, delegate_id, restore_delegate, lambda delegate: (
        _("%(name)s is registered again.", name=delegate.full_name), "success"))


def _csrf_only() -> bool:
    return FlaskForm().validate_on_submit()


def _delegate_button(slug: str, delegate_id: int,
                     use_case: Callable[[Session, Delegate, User], object],
                     done: Callable[[Delegate], tuple[str, str]]) -> Response:
    """A button on one of the city's delegates: run the use case, flash `done` (message,
    category) when it went through (attempt() flashes a refusal); back to the list either
    way."""
    assembly, city = _my_assembly(slug), _my_city()
    delegate = _own_delegate(assembly, city, delegate_id)
    if _csrf_only():
        with attempt() as tried:
            use_case(db.session, delegate, current_user)
            db.session.commit()
        if not tried.refused:
            flash(*done(delegate))
    return _back(assembly, city, "#delegation")


@bp.post("/my/<slug>/delegates/<int:delegate_id>/invite")
@roles_required(Role.LIAISON, Role.SECRETARIAT)
def my_invite_delegate(slug: str, delegate_id: int) -> Response:
    # The invitation's token goes by mail, never on the page.
    return _delegate_button(slug, delegate_id, invite_delegate, lambda delegate: (
        _("An invitation was sent to %(email)s.", email=delegate.email), "success"))


@bp.post("/my/<slug>/import")
@roles_required(Role.LIAISON, Role.SECRETARIAT)
def my_import(slug: str) -> Response | tuple[str, int]:
    assembly, city = _my_assembly(slug), _my_city()
    form = ImportForm()
    if not form.validate_on_submit():
        return _render_my_city(assembly, city, import_form=form, status=422)
    upload = form.file.data
    with attempt(form) as tried:
        report = import_delegation(db.session, assembly, city, upload.read(),
                                   upload.filename or "", current_user)
    if tried.refused:
        return _render_my_city(assembly, city, import_form=form, status=tried.status)
    if not report.ok:
        db.session.rollback()
        return _render_my_city(assembly, city, import_form=form, import_errors=report.errors,
                               status=422)
    db.session.commit()
    flash(_("%(n)d people imported.", n=len(report.imported)), "success")
    return _back(assembly, city, "#delegation")


@bp.post("/my/<slug>/letter")
@roles_required(Role.LIAISON, Role.SECRETARIAT)
def my_letter(slug: str) -> Response | tuple[str, int]:
    assembly, city = _my_assembly(slug), _my_city()
    form = LetterForm()
    form.holder.choices = _holder_choices(assembly, city)
    if not form.validate_on_submit():
        return _render_my_city(assembly, city, letter_form=form, status=422)
    upload = form.document.data
    to_chair = form.holder.data == "chair"
    with attempt(form) as tried:
        holder = None if to_chair else find_city(db.session, form.holder.data, "holder")
        submit_letter(db.session, assembly, city, holder, to_chair=to_chair, user=current_user,
                      signatory_name=form.signatory_name.data or "",
                      signatory_title=form.signatory_title.data or "",
                      instructions=form.instructions.data or "",
                      document=Document(upload.read(), upload.filename or "letter.pdf"))
        db.session.commit()
    if tried.refused:
        return _render_my_city(assembly, city, letter_form=form, status=tried.status)
    flash(_("Your proxy letter is submitted; the secretariat will verify it."), "success")
    return _back(assembly, city, "#letter")


# --- documents ---------------------------------------------------------------------------


@bp.get("/letters/<int:letter_id>/document")
@login_required
def letter_document(letter_id: int) -> Response:
    letter = db.session.get(ProxyLetter, letter_id)
    if letter is None or not may_see_letter(current_user, letter):
        abort(404)
    return send_letter_document(letter)


def send_letter_document(letter: ProxyLetter) -> Response:
    """An attachment, never rendered inline, never sniffed into something else."""
    path = document_file(letter)
    if not path.is_file():
        abort(404)
    response = send_file(path, mimetype="application/pdf", as_attachment=True,
                         download_name=letter.document_filename or "letter.pdf", max_age=0)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response


# --- invitations and the delegate's page ---------------------------------------------------


@bp.route("/invitation/<token>", methods=["GET", "POST"])
def accept_invitation(token: str) -> Response | tuple[str, int]:
    invitation = open_liaison_invitation(db.session, token)
    if invitation is None:
        return render_template("registration/invitation.html", invitation=None, form=None), 404
    read_by(invitation.user.language if invitation.user else None)
    if request.method == "GET":
        mark_opened(db.session, invitation)
        db.session.commit()
    form = SetPasswordForm()
    if form.validate_on_submit():
        with attempt(form) as tried:
            user = accept_liaison_invitation(db.session, token, form.password.data or "")
            db.session.commit()
        if not tried.refused:
            login_user(user)
            flash(_("Welcome! Your password is set."), "success")
            return redirect(url_for("registration.my_assemblies"))
        if tried.error is not None and tried.error.code == "invitation_used":
            # Another request used the link meanwhile: it is gone for this one too.
            return render_template("registration/invitation.html", invitation=None,
                                   form=None), tried.status
    return render_template("registration/invitation.html", invitation=invitation,
                           form=form), 422 if form.errors else 200


@bp.route("/d/<token>", methods=["GET", "POST"])
def delegate_page(token: str) -> Response | tuple[str, int]:
    delegate = delegate_for_token(db.session, token)
    if delegate is None:
        abort(404)
    read_by(delegate.language)
    # The delegate's personal programme and calendar (a link is issued if they have none);
    # committed before anything the form may change. None: the secretariat revoked it.
    feed_secret = current_secrets(db.session, [delegate.id]).get(delegate.id)
    db.session.commit()
    assembly = db.session.get(Assembly, delegate.assembly_id)
    assert assembly is not None
    form = _delegate_form(delegate)
    form.role.render_kw = {"disabled": True}
    status = 200
    items_error: str | None = None  # the optional visits are checkboxes, not a form field
    if request.method == "POST" and form.validate_on_submit():
        wanted = {int(v) for v in request.form.getlist("items") if v.isdigit()}
        with attempt(form, elsewhere={"item"}) as tried:
            confirm_own_registration(db.session, delegate, _delegate_data(form), wanted)
            delegate_confirmed(db.session, token)
            db.session.commit()
        if not tried.refused:
            flash(_("Thank you: your registration is confirmed."), "success")
            return redirect(url_for("registration.delegate_page", token=token))
        status = tried.status
        if tried.error is not None and tried.error.field == "item":
            items_error = tried.error.message
    if form.errors:
        status = 422
    mine = delegate_item_ids(db.session, delegate.id)
    calendar_url = (url_for("calendar.my_programme", token=feed_secret)
                    if feed_secret else None)
    return render_template("registration/delegate_page.html", assembly=assembly,
                           delegate=delegate, form=form, items=optional_items(db.session,
                                                                              assembly),
                           mine=mine, calendar_url=calendar_url,
                           items_error=items_error), status
