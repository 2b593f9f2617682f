"""The programme page (everyone) and the programme editor (secretariat)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import or_, select
from sqlalchemy.orm import contains_eager
from werkzeug.wrappers import Response
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    FloatField,
    IntegerField,
    SelectField,
)
from wtforms.validators import InputRequired, NumberRange, Optional

from config import current_settings
from models import Assembly, Delegate, Delegation, FeedToken, ItemKind, ItemStatus, Role, User
from models.errors import DomainError
from models.languages import REGISTRY
from services.assemblies import find_assembly, programme_by_day
from services.calendar.content import item_event
from services.calendar.tokens import issue_all_links, new_link, revoke_token
from services.programme import (
    ItemDraft,
    add_item,
    draft_of,
    find_item,
    local_instant,
    set_status,
    update_item,
)
from webapp.auth import roles_required, visible_assembly_or_404
from webapp.calendar import feed_links
from webapp.extensions import db
from webapp.forms import (
    Form,
    PerLanguage,
    attempt,
    fill_localized,
    localized_data,
    per_language,
    show_refusal,
)
from webapp.paging import paginate, requested_page

bp = Blueprint("programme", __name__)

KIND_LABELS = {
    ItemKind.CEREMONY: _l("ceremony"),
    ItemKind.PLENARY: _l("plenary"),
    ItemKind.POLICY_DIALOGUE: _l("policy dialogue"),
    ItemKind.FIELD_TRIP: _l("field trip"),
    ItemKind.RECEPTION: _l("reception"),
    ItemKind.MEAL: _l("meal"),
    ItemKind.PRESS_CONFERENCE: _l("press conference"),
    ItemKind.MEETING: _l("meeting"),
    ItemKind.SIDE_EVENT: _l("side event"),
    ItemKind.OTHER: _l("other"),
}



@bp.app_template_filter("day_in")
def day_in(moment: datetime, zone: str) -> date:
    return moment.astimezone(ZoneInfo(zone)).date()


@bp.app_context_processor
def _labels() -> dict[str, Any]:
    return {"kind_label": lambda kind: KIND_LABELS.get(kind, kind.value)}


def _viewer() -> User | None:
    return current_user if current_user.is_authenticated else None  # type: ignore[return-value]


def viewer_zone(user: User | None) -> str | None:
    """The viewer's own zone: their own setting, else their city's (a liaison)."""
    if user is None:
        return None
    if user.timezone:
        return user.timezone
    return user.city.timezone if user.city is not None else None


def zones_for(assembly: Assembly, extra: str | None) -> list[str]:
    zones = [assembly.timezone, assembly.home_timezone]
    if extra and extra not in zones:
        zones.append(extra)
    return zones


def public_feed_links(assembly: Assembly) -> dict[str, dict[str, str]]:
    base = current_settings().base_url.rstrip("/")
    return {lang: feed_links(base + url_for("calendar.public", slug=assembly.slug, lang=lang))
            for lang in REGISTRY}


@bp.get("/a/<slug>/programme")
def page(slug: str) -> str:
    assembly = find_assembly(db.session, slug, _viewer())
    if assembly is None:
        abort(404)
    own = viewer_zone(_viewer())
    return render_template("programme/page.html", assembly=assembly,
                           days=programme_by_day(db.session, assembly),
                           zones=zones_for(assembly, own), viewer_zone=own,
                           feeds=public_feed_links(assembly))


# --- the editor -------------------------------------------------------------------------------


@per_language
class ItemForm(Form):
    title = PerLanguage(_l("Title"))
    kind = SelectField(_l("Kind"), choices=[(k.value, v) for k, v in KIND_LABELS.items()],
                       default=ItemKind.PLENARY.value)
    starts = DateTimeLocalField(_l("Starts (host time)"), format="%Y-%m-%dT%H:%M",
                                validators=[InputRequired()])
    ends = DateTimeLocalField(_l("Ends (host time)"), format="%Y-%m-%dT%H:%M",
                              validators=[InputRequired()])
    all_day = BooleanField(_l("All day"))
    location = PerLanguage(_l("Place"))
    latitude = FloatField(_l("Latitude"), validators=[Optional(), NumberRange(-90, 90)])
    longitude = FloatField(_l("Longitude"), validators=[Optional(), NumberRange(-180, 180)])
    capacity = IntegerField(_l("Places (only for items people sign up to)"),
                            validators=[Optional(), NumberRange(min=0)])

    FIELD_OF = {"starts_at": "starts",
                "ends_at": "ends", "latitude": "latitude", "longitude": "longitude",
                "capacity": "capacity"}

    def fill(self, assembly: Assembly, draft: ItemDraft) -> None:
        zone = assembly.zone
        fill_localized(self, "title", draft.title)
        self.kind.data = draft.kind.value
        self.starts.data = draft.starts_at.astimezone(zone).replace(tzinfo=None)
        self.ends.data = draft.ends_at.astimezone(zone).replace(tzinfo=None)
        self.all_day.data = draft.all_day
        fill_localized(self, "location", draft.location)
        self.latitude.data, self.longitude.data = draft.latitude, draft.longitude
        self.capacity.data = draft.capacity

    def draft(self, assembly: Assembly) -> ItemDraft | None:
        """The submitted item with aware times, or None with errors put on the fields."""
        times: dict[str, datetime] = {}
        for name in ("starts", "ends"):
            try:
                times[name] = local_instant(getattr(self, name).data, assembly.timezone,
                                            name)
            except DomainError as error:
                show_refusal(self, error)
        if len(times) < 2:
            return None
        return ItemDraft(
            title=localized_data(self, "title"),
            starts_at=times["starts"], ends_at=times["ends"], kind=ItemKind(self.kind.data),
            location=localized_data(self, "location"),
            latitude=self.latitude.data, longitude=self.longitude.data,
            capacity=self.capacity.data, all_day=bool(self.all_day.data))

_assembly_or_404 = visible_assembly_or_404


EDITOR = "/secretariat/assemblies/<slug>/programme"


@bp.get(EDITOR)
@roles_required(Role.SECRETARIAT)
def editor(slug: str) -> str:
    assembly = _assembly_or_404(slug)
    return render_template("programme/editor.html", assembly=assembly,
                           days=programme_by_day(db.session, assembly),
                           zones=zones_for(assembly, None), form=FlaskForm(),
                           feeds=public_feed_links(assembly))


def _save(assembly: Assembly, item_id: int | None) -> Response | str:
    item = find_item(db.session, assembly, item_id) if item_id is not None else None
    if item_id is not None and item is None:
        abort(404)
    form = ItemForm()
    if request.method == "GET":
        if item is not None:
            form.fill(assembly, draft_of(item))
    elif form.validate_on_submit():
        draft = form.draft(assembly)
        if draft is not None:
            with attempt(form) as tried:
                if item is None:
                    item = add_item(db.session, assembly, draft)
                    message = _("The item was added. Subscribers get it at their next refresh.")
                else:
                    changed = update_item(db.session, item, draft)
                    message = (_("Saved. Subscribers get the change at their next refresh.")
                               if changed else _("Nothing changed."))
                db.session.commit()
            if not tried.refused and item is not None:
                flash(message, "success")
                return redirect(url_for("programme.edit_item", slug=assembly.slug,
                                        item_id=item.id))
    # The calendar entry per language: read from the event itself (what subscribers get),
    # shown as a card; its iCalendar text stays available, folded away.
    preview = {lang: _entry(item_event(item, assembly, lang))
               for lang in REGISTRY} if item is not None else None
    return render_template("programme/item_form.html", assembly=assembly, item=item,
                           form=form, preview=preview, status_form=FlaskForm()), (
        422 if request.method == "POST" else 200)  # type: ignore[return-value]


@bp.route(EDITOR + "/new", methods=["GET", "POST"])
@roles_required(Role.SECRETARIAT)
def new_item(slug: str) -> Response | str:
    return _save(_assembly_or_404(slug), None)


@bp.route(EDITOR + "/<int:item_id>", methods=["GET", "POST"])
@roles_required(Role.SECRETARIAT)
def edit_item(slug: str, item_id: int) -> Response | str:
    return _save(_assembly_or_404(slug), item_id)


def _entry(event: Any) -> dict[str, str]:
    return {"title": str(event.get("SUMMARY", "")), "location": str(event.get("LOCATION", "")),
            "description": str(event.get("DESCRIPTION", "")),
            "cancelled": str(event.get("STATUS", "")).upper() == "CANCELLED",
            "ical": event.to_ical().decode()}


@bp.post(EDITOR + "/<int:item_id>/<any(cancel, restore):action>")
@roles_required(Role.SECRETARIAT)
def change_status(slug: str, item_id: int, action: str) -> Response:
    assembly = _assembly_or_404(slug)
    item = find_item(db.session, assembly, item_id)
    if item is None:
        abort(404)
    if FlaskForm().validate_on_submit():
        status = ItemStatus.CANCELLED if action == "cancel" else ItemStatus.SCHEDULED
        if set_status(db.session, item, status):
            db.session.commit()
            flash(_("The item is cancelled; it stays in calendars, marked cancelled, until it "
                    "ends. To undo, use “Restore” on the item.") if action == "cancel"
                  else _("The item is back on the programme."),
                  "success")
    return redirect(request.form.get("next") or url_for("programme.editor", slug=slug))


# --- delegates' personal feeds ----------------------------------------------------------------


@bp.get(EDITOR + "/feeds")
@roles_required(Role.SECRETARIAT)
def feed_tokens(slug: str) -> str:
    """The delegates with their link's state, a page at a time (an assembly has thousands),
    optionally those whose name or address contains ?q=."""
    assembly = _assembly_or_404(slug)
    query = (request.args.get("q") or "").strip()[:200]
    stmt = (select(Delegate).join(Delegate.delegation).join(Delegation.city)
            .options(contains_eager(Delegate.delegation).contains_eager(Delegation.city))
            .where(Delegate.assembly_id == assembly.id))
    if query:
        stmt = stmt.where(or_(*(column.icontains(query, autoescape=True) for column in (
            Delegate.family_name, Delegate.given_name, Delegate.name_local, Delegate.email))))
    page = paginate(db.session, stmt.order_by(Delegation.city_id, Delegate.role, Delegate.id),
                    FEEDS_PAGE, requested_page())
    tokens = {t.delegate_id: t for t in db.session.scalars(
        select(FeedToken).where(FeedToken.delegate_id.in_([d.id for d in page.items])))}
    anyone = bool(page.total) or db.session.scalar(
        select(Delegate.id).where(Delegate.assembly_id == assembly.id).limit(1)) is not None
    return render_template("programme/feeds.html", assembly=assembly, page=page, q=query,
                           delegates=page.items, anyone=anyone, tokens=tokens,
                           form=FlaskForm())


FEEDS_PAGE = 100


@bp.post(EDITOR + "/feeds/all")
@roles_required(Role.SECRETARIAT)
def issue_all(slug: str) -> Response:
    """Issue a link for every delegate who has none, and hand over all working links as a
    CSV file (UTF-8 with a BOM, for Excel) to send on."""
    import csv
    import io

    assembly = _assembly_or_404(slug)
    if not FlaskForm().validate_on_submit():
        abort(400)
    links = issue_all_links(db.session, assembly.id, current_settings().base_url)
    db.session.commit()
    out = io.StringIO()
    writer = csv.writer(out, quoting=csv.QUOTE_ALL)
    writer.writerow(["city", "family_name", "given_name", "email", "language", "link"])
    for delegate, link in links:
        writer.writerow([delegate.delegation.city.code, delegate.family_name,
                         delegate.given_name, delegate.email or "", delegate.language, link])
    return Response("\ufeff" + out.getvalue(), mimetype="text/csv", headers={
        "Content-Disposition": f"attachment; filename={assembly.slug}-calendar-links.csv",
        "Cache-Control": "no-store"})


@bp.post(EDITOR + "/feeds/<int:delegate_id>/<any(issue, revoke):action>")
@roles_required(Role.SECRETARIAT)
def change_token(slug: str, delegate_id: int, action: str) -> Response | str:
    assembly = _assembly_or_404(slug)
    delegate = db.session.get(Delegate, delegate_id)
    if delegate is None or delegate.assembly_id != assembly.id:
        abort(404)
    if not FlaskForm().validate_on_submit():
        abort(400)
    if action == "revoke":
        if revoke_token(db.session, delegate):
            db.session.commit()
            flash(_("The private link of %(name)s no longer works.", name=delegate.full_name),
                  "success")
        # Back to the page of the list the revoke was pressed on.
        return redirect(url_for("programme.feed_tokens", slug=slug,
                                page=request.args.get("page", type=int),
                                q=request.args.get("q") or None))
    secret = new_link(db.session, delegate)
    db.session.commit()
    base = current_settings().base_url.rstrip("/")
    link = base + url_for("calendar.my_programme", token=secret)
    return render_template("programme/issued.html", assembly=assembly, delegate=delegate,
                           link=link)
