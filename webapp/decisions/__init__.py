"""Pages of the assembly's outcome: the secretariat's decision pages (draft, put to the
assembly, votes city by city with the holder shown for represented cities, close, adopt,
signatories; made for a tablet at the podium) and the public page of an adopted decision."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import or_, select
from sqlalchemy.orm import contains_eager
from werkzeug.wrappers import Response
from wtforms import SelectField, SelectMultipleField
from wtforms.validators import Optional

from models import (
    Assembly,
    Decision,
    DecisionKind,
    DecisionMethod,
    DecisionStatus,
    Delegate,
    DelegateRole,
    Delegation,
    Majority,
    MemberCity,
    Minutes,
    ProgrammeItem,
    Role,
    User,
    VoteChoice,
    localized,
)
from models.delegation import COUNTED_STATUSES
from models.names import name_for
from services.assemblies import find_assembly
from services.decisions.lifecycle import (
    DecisionDraft,
    adopt_by_consensus,
    close_vote,
    create_decision,
    decisions_of,
    find_decision,
    open_decision,
    tally,
    withdraw_decision,
)
from services.decisions.minutes import MinutesDraft, PointDraft, minutes_of, write_minutes
from services.decisions.record import decision_line, kind_label, published_decisions, status_label
from services.decisions.signatories import add_signatory
from services.decisions.votes import cast_vote, voices
from webapp.auth import roles_required, visible_assembly_or_404
from webapp.extensions import db
from webapp.forms import (
    Form,
    ManyOptions,
    PerLanguage,
    attempt,
    localized_data,
    localized_defaults,
    per_language,
)

bp = Blueprint("decisions", __name__)


@per_language
class DecisionForm(Form):
    title = PerLanguage(_l("Title"))
    text = PerLanguage(_l("Text"), max_length=100_000, textarea=True)
    kind = SelectField(_l("Kind"), choices=[
        (DecisionKind.RESOLUTION.value, _l("Resolution")),
        (DecisionKind.DECLARATION.value, _l("Declaration")),
        (DecisionKind.ELECTION.value, _l("Election")),
        (DecisionKind.PROCEDURAL.value, _l("Procedural decision"))])
    method = SelectField(_l("Taken by"), choices=[
        (DecisionMethod.VOTE.value, _l("a vote of the member cities")),
        (DecisionMethod.CONSENSUS.value, _l("consensus (adopted by the chair)"))])
    majority = SelectField(_l("Majority"), choices=[
        (Majority.SIMPLE.value, _l("simple: more yes than no")),
        (Majority.TWO_THIRDS.value, _l("two thirds of the votes cast")),
        (Majority.UNANIMOUS.value, _l("unanimous: no vote against"))])


def _decision(assembly: Assembly, decision_id: int) -> Decision:
    decision = find_decision(db.session, assembly, decision_id, current_user)  # type: ignore[arg-type]
    if decision is None:
        abort(404)
    return decision


@bp.route("/secretariat/assemblies/<slug>/decisions", methods=["GET", "POST"])
@roles_required(Role.SECRETARIAT)
def decision_list(slug: str) -> Response | tuple[str, int]:
    assembly = visible_assembly_or_404(slug)
    form = DecisionForm()
    if form.validate_on_submit():
        with attempt(form) as tried:
            title = localized_data(form, "title")
            text = localized_data(form, "text")
            decision = create_decision(db.session, assembly, DecisionDraft(
                title=title, text=text, kind=DecisionKind(form.kind.data),
                method=DecisionMethod(form.method.data), majority=Majority(form.majority.data)),
                current_user)  # type: ignore[arg-type]
            db.session.commit()
        if not tried.refused:
            return redirect(url_for("decisions.decision_page", slug=slug,
                                    decision_id=decision.id))
    decisions = decisions_of(db.session, assembly, current_user)  # type: ignore[arg-type]
    items = db.session.scalars(select(ProgrammeItem)
                               .where(ProgrammeItem.assembly_id == assembly.id)
                               .order_by(ProgrammeItem.starts_at, ProgrammeItem.id)).all()
    written = set(db.session.scalars(select(Minutes.item_id)
                                     .where(Minutes.assembly_id == assembly.id)))
    return render_template("decisions/list.html", assembly=assembly, decisions=decisions,
                           form=form, kind_label=kind_label, status_label=status_label,
                           items=items, written=written), 422 if form.errors else 200


def _vote_rows(assembly: Assembly, decision: Decision) -> list[dict[str, Any]]:
    """Every member city in the report's order (by English name), with who speaks for it."""
    cities = sorted(db.session.scalars(select(MemberCity)
                                       .where(MemberCity.network_id == assembly.network_id)),
                    key=lambda c: (localized(c.name, "en").casefold(), c.code))
    by_code = {c.code: c for c in cities}
    speaking = voices(decision)
    votes = {v.city_id: v for v in decision.votes}
    rows = []
    for city in cities:
        voice = speaking.get(city.code)
        holder = None
        if voice is not None and not voice.present:
            holder = by_code[voice.holder] if voice.holder else None
        rows.append({"city": city, "voice": voice, "holder": holder,
                     "vote": votes.get(city.id)})
    return rows


def _signers(assembly: Assembly, decision: Decision) -> list[Delegate]:
    """Delegates of the cities present when the declaration was put, representatives first."""
    present = set((decision.snapshot or {}).get("present", []))
    people = db.session.scalars(
        select(Delegate).join(Delegation, Delegate.delegation_id == Delegation.id)
        .join(MemberCity, MemberCity.id == Delegation.city_id)
        .options(contains_eager(Delegate.delegation).contains_eager(Delegation.city))
        .where(Delegate.assembly_id == assembly.id, Delegate.status.in_(COUNTED_STATUSES),
               MemberCity.code.in_(present))
        .order_by(MemberCity.code, Delegate.id))
    signed = {s.city_id for s in decision.signatories}
    return [p for p in people if p.delegation.city_id not in signed]


@bp.get("/secretariat/assemblies/<slug>/decisions/<int:decision_id>")
@roles_required(Role.SECRETARIAT)
def decision_page(slug: str, decision_id: int) -> str:
    assembly = visible_assembly_or_404(slug)
    decision = _decision(assembly, decision_id)
    names = {c.code: c.display_name(_lang()) for c in db.session.scalars(
        select(MemberCity).where(MemberCity.network_id == assembly.network_id))}
    return render_template(
        "decisions/page.html", assembly=assembly, decision=decision, form=FlaskForm(),
        rows=_vote_rows(assembly, decision), counts=tally(decision),
        signers=_signers(assembly, decision) if decision.kind is DecisionKind.DECLARATION
        else [], record=decision_line(decision, _lang(), names), kind_label=kind_label,
        status_label=status_label, choices=[c.value for c in VoteChoice])


def _lang() -> str:
    from services.i18n import current_language

    return current_language()


def _back(slug: str, decision_id: int, anchor: str = "") -> Response:
    return redirect(url_for("decisions.decision_page", slug=slug, decision_id=decision_id)
                    + anchor)


@bp.post("/secretariat/assemblies/<slug>/decisions/<int:decision_id>/<any(open, close, adopt, "
         "withdraw):action>")
@roles_required(Role.SECRETARIAT)
def decision_action(slug: str, decision_id: int, action: str) -> Response:
    assembly = visible_assembly_or_404(slug)
    decision = _decision(assembly, decision_id)
    user: User = current_user  # type: ignore[assignment]
    if FlaskForm().validate_on_submit():
        with attempt() as tried:
            {"open": lambda: open_decision(db.session, decision, user),
             "close": lambda: close_vote(db.session, decision, user),
             "adopt": lambda: adopt_by_consensus(db.session, decision, user),
             "withdraw": lambda: withdraw_decision(db.session, decision, user)}[action]()
            db.session.commit()
        if not tried.refused:
            flash(_("The decision is %(status)s.", status=status_label(decision.status)),
                  "success")
    return _back(slug, decision_id)


@bp.post("/secretariat/assemblies/<slug>/decisions/<int:decision_id>/votes/<city>")
@roles_required(Role.SECRETARIAT)
def record_vote(slug: str, decision_id: int, city: str) -> Response:
    assembly = visible_assembly_or_404(slug)
    decision = _decision(assembly, decision_id)
    member = db.session.scalar(select(MemberCity).where(
        MemberCity.network_id == assembly.network_id, MemberCity.code == city.upper()))
    if member is None:
        abort(404)
    choice = request.form.get("choice", "")
    if FlaskForm().validate_on_submit():
        if choice not in {c.value for c in VoteChoice}:
            flash(_("Choose yes, no or abstain."), "danger")
        else:
            with attempt():
                cast_vote(db.session, decision, member, VoteChoice(choice),
                          current_user)  # type: ignore[arg-type]
                db.session.commit()
    return _back(slug, decision_id, f"#vote-{member.code}")


@bp.post("/secretariat/assemblies/<slug>/decisions/<int:decision_id>/signatories")
@roles_required(Role.SECRETARIAT)
def sign(slug: str, decision_id: int) -> Response:
    assembly = visible_assembly_or_404(slug)
    decision = _decision(assembly, decision_id)
    if FlaskForm().validate_on_submit():
        raw = request.form.get("delegate", "")
        if not raw.isdigit():
            flash(_("Choose who signs."), "danger")
        else:
            with attempt():
                add_signatory(db.session, decision, int(raw),
                              current_user)  # type: ignore[arg-type]
                db.session.commit()
    return _back(slug, decision_id, "#signatories")


# --- minutes ---------------------------------------------------------------------------------


@per_language
class MinutesForm(Form):
    summary = PerLanguage(_l("Summary"), max_length=100_000, textarea=True)
    speakers = SelectMultipleField(_l("Speakers, in speaking order"), coerce=int,
                                   validators=[Optional()], widget=ManyOptions(multiple=True))

    FIELD_OF = {"speakers.0": "speakers"}


@bp.route("/secretariat/assemblies/<slug>/programme/<int:item_id>/minutes",
          methods=["GET", "POST"])
@roles_required(Role.SECRETARIAT)
def minutes_page(slug: str, item_id: int) -> Response | tuple[str, int]:
    """The summary and the speakers of one item; its points (e.g. project reports with their
    presenting cities) are kept as they are (the API writes them)."""
    assembly = visible_assembly_or_404(slug)
    item = db.session.get(ProgrammeItem, item_id)
    if item is None or item.assembly_id != assembly.id:
        abort(404)
    minutes = minutes_of(db.session, item)
    lang = _lang()
    cities = {c.id: (c.code, c.display_name(lang)) for c in db.session.scalars(
        select(MemberCity).where(MemberCity.network_id == assembly.network_id))}
    # The choices: every city's representative, the speakers already recorded (or posted),
    # and all the people of the city picked above the list. Every delegate of a large
    # assembly (20,000) would make a page of megabytes that no one can scroll through.
    asked = request.form if "city" in request.form else request.args  # the form wins
    shown = (asked.get("city") or "").strip().upper()[:16]
    if not shown.isalnum():  # a city code is letters and digits: anything else lists none
        shown = ""
    kept = {s.delegate_id for s in minutes.speakers} if minutes else set()
    kept |= {int(v) for v in request.form.getlist("speakers")[:500] if v.isdigit()
             and len(v) < 10}
    people = db.session.connection().execute(  # Core rows: cheaper than ORM rows
        select(Delegate.id, Delegation.city_id, Delegate.given_name, Delegate.family_name,
               Delegate.name_local, Delegate.name_order)
        .join(Delegation, Delegate.delegation_id == Delegation.id)
        .join(MemberCity, MemberCity.id == Delegation.city_id)
        .where(Delegate.assembly_id == assembly.id, Delegate.status.in_(COUNTED_STATUSES),
               or_(Delegate.role == DelegateRole.REPRESENTATIVE, Delegate.id.in_(kept),
                   MemberCity.code == shown))
        .order_by(MemberCity.code, Delegate.role, Delegate.id))
    form = MinutesForm(data={} if request.method == "POST" else {
        **localized_defaults("summary", minutes.summary if minutes else None),
        "speakers": [s.delegate_id for s in minutes.speakers] if minutes else []})
    form.speakers.choices = [
        (person_id, f"{cities[city][1]} — "
                    f"{name_for(lang, given=given, family=family, local=local, order=order)}")
        for person_id, city, given, family, local, order in people]
    showing = request.method == "POST" and bool(request.form.get("show"))
    if not showing and form.validate_on_submit():
        points = [PointDraft(kind=p.kind, title=p.title, text=p.text, cities=p.cities)
                  for p in (minutes.points if minutes else [])]
        summary = localized_data(form, "summary")
        with attempt(form) as tried:
            write_minutes(db.session, item, MinutesDraft(
                summary=summary, speakers=list(form.speakers.data or []), points=points),
                current_user)  # type: ignore[arg-type]
            db.session.commit()
        if not tried.refused:
            flash(_("The minutes are saved."), "success")
            return redirect(url_for("decisions.decision_list", slug=slug) + "#minutes")
    return render_template("decisions/minutes.html", assembly=assembly, item=item,
                           minutes=minutes, form=form, shown=shown,
                           cities=sorted(cities.values(), key=lambda c: c[1])), (
        422 if form.errors else 200)


# --- public ----------------------------------------------------------------------------------


def _public_assembly(slug: str) -> Assembly:
    viewer = current_user if current_user.is_authenticated else None
    assembly = find_assembly(db.session, slug, viewer)  # type: ignore[arg-type]
    if assembly is None:
        abort(404)
    return assembly


@bp.get("/a/<slug>/decisions")
def public_decisions(slug: str) -> str:
    assembly = _public_assembly(slug)
    return render_template("decisions/public.html", assembly=assembly,
                           records=published_decisions(db.session, assembly, _lang(),
                                                       (DecisionStatus.ADOPTED,)),
                           single=False)


@bp.get("/a/<slug>/decisions/<int:decision_id>")
def public_decision(slug: str, decision_id: int) -> str:
    assembly = _public_assembly(slug)
    decision = db.session.get(Decision, decision_id)
    if decision is None or decision.assembly_id != assembly.id \
            or decision.status is not DecisionStatus.ADOPTED:
        abort(404)
    names = {c.code: c.display_name(_lang()) for c in db.session.scalars(
        select(MemberCity).where(MemberCity.network_id == assembly.network_id))}
    return render_template("decisions/public.html", assembly=assembly,
                           records=[decision_line(decision, _lang(), names)], single=True)
