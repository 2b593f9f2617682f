"""The secretariat's mail pages: the mail log (every message and its state) and reminders."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_wtf import FlaskForm
from sqlalchemy import func, or_, select
from werkzeug.wrappers import Response
from wtforms import BooleanField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, Length

from models import (
    Assembly,
    MailStatus,
    OutboxMessage,
    ProgrammeItem,
    Reminder,
    ReminderAnchor,
    ReminderAudience,
    ReminderStatus,
    Role,
)
from services.mail.delivery import resend
from services.reminders.editing import (
    create_reminder,
    preview,
    set_paused,
    subject_preview,
    update_reminder,
)
from services.reminders.messages import TEMPLATE_VARIABLES
from services.reminders.sweep import reminders_of
from webapp.auth import roles_required, visible_assembly_or_404
from webapp.extensions import CONTENT_SECURITY_POLICY, db, talisman
from webapp.forms import Form, PerLanguage, attempt, fill_localized, localized_data, per_language
from webapp.i18n import current_language, show_instant

bp = Blueprint("mailing", __name__, url_prefix="/secretariat")

PAGE_SIZE = 50

ANCHORS = {
    ReminderAnchor.REGISTRATION_DEADLINE: _l("Registration deadline"),
    ReminderAnchor.PROXY_DEADLINE: _l("Proxy letter deadline"),
    ReminderAnchor.ASSEMBLY_START: _l("Start of the assembly"),
    ReminderAnchor.ITEM_START: _l("Start of a programme item"),
}
AUDIENCES = {
    ReminderAudience.UNDECIDED_LIAISONS: _l("Liaisons of cities that have not answered"),
    ReminderAudience.ABSENT_WITHOUT_PROXY: _l("Liaisons of absent cities without a verified "
                                              "proxy letter"),
    ReminderAudience.DELEGATES: _l("All registered delegates"),
    ReminderAudience.ITEM_SIGNUPS: _l("Delegates signed up to the item"),
}
STATUSES = {
    ReminderStatus.ACTIVE: _l("active"), ReminderStatus.PAUSED: _l("paused"),
    ReminderStatus.SENT: _l("sent"), ReminderStatus.SKIPPED: _l("skipped"),
    ReminderStatus.FAILED: _l("failed"),
}
MAIL_STATUSES = {
    MailStatus.PENDING: _l("pending"), MailStatus.SENDING: _l("sending"),
    MailStatus.SENT: _l("sent"), MailStatus.FAILED: _l("failed"),
}


@bp.app_template_global()
def failed_mail_count() -> int:
    return db.session.scalar(select(func.count(OutboxMessage.id))
                             .where(OutboxMessage.status == MailStatus.FAILED)) or 0


# --- mail log ----------------------------------------------------------------------------------


@bp.get("/mail")
@roles_required(Role.SECRETARIAT)
def mail_log() -> str:
    query = (request.args.get("q") or "").strip()[:200]
    status = request.args.get("status") or ""
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    stmt = select(OutboxMessage)
    if query:
        stmt = stmt.where(or_(OutboxMessage.to_address.icontains(query, autoescape=True),
                              OutboxMessage.to_name.icontains(query, autoescape=True),
                              OutboxMessage.subject.icontains(query, autoescape=True)))
    if status in {s.value for s in MailStatus}:
        stmt = stmt.where(OutboxMessage.status == MailStatus(status))
    total = db.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    messages = db.session.scalars(stmt.order_by(OutboxMessage.id.desc())
                                  .offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE)).all()
    return render_template("mailing/mail_log.html", messages=messages, q=query, status=status,
                           page=page, pages=max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1),
                           total=total, statuses=MAIL_STATUSES, form=FlaskForm())


@bp.get("/mail/<int:message_id>")
# The HTML preview is a sandboxed srcdoc frame, which inherits this page's policy: let the
# mail's own inline styles show (scripts stay off: the sandbox and script-src both say so).
@talisman(content_security_policy={**CONTENT_SECURITY_POLICY,
                                   "style-src": "'self' 'unsafe-inline'"})
@roles_required(Role.SECRETARIAT)
def mail_message(message_id: int) -> str:
    message = db.session.get(OutboxMessage, message_id) or abort(404)
    return render_template("mailing/mail_message.html", message=message,
                           statuses=MAIL_STATUSES, form=FlaskForm())


@bp.post("/mail/<int:message_id>/resend")
@roles_required(Role.SECRETARIAT)
def mail_resend(message_id: int) -> Response:
    db.session.get(OutboxMessage, message_id) or abort(404)
    if FlaskForm().validate_on_submit():
        if resend(db.session, message_id):
            db.session.commit()
            flash(_("The message is queued again, with the same Message-ID."), "success")
        else:
            flash(_("Only a failed message can be resent."), "warning")
    return redirect(url_for("mailing.mail_message", message_id=message_id))


# --- reminders ---------------------------------------------------------------------------------

# The anchors as the end of a sentence: "7 days before the proxy letter deadline".
ANCHOR_PHRASES = {
    ReminderAnchor.REGISTRATION_DEADLINE: _l("the registration deadline"),
    ReminderAnchor.PROXY_DEADLINE: _l("the proxy letter deadline"),
    ReminderAnchor.ASSEMBLY_START: _l("the start of the assembly"),
    ReminderAnchor.ITEM_START: _l("the start of the item"),
}


@bp.app_template_filter("offset_words")
def offset_words(reminder: Reminder) -> str:
    """A reminder's moment in words: "7 days before the proxy letter deadline"."""
    anchor = ANCHOR_PHRASES[reminder.anchor]
    seconds = abs(reminder.offset_seconds)
    if seconds == 0:
        return _("at %(anchor)s", anchor=anchor)
    if seconds % 86400 == 0:
        span = ngettext("%(num)d day", "%(num)d days", seconds // 86400)
    elif seconds % 3600 == 0:
        span = ngettext("%(num)d hour", "%(num)d hours", seconds // 3600)
    else:
        span = ngettext("%(num)d minute", "%(num)d minutes", max(seconds // 60, 1))
    if reminder.offset_seconds < 0:
        return _("%(span)s before %(anchor)s", span=span, anchor=anchor)
    return _("%(span)s after %(anchor)s", span=span, anchor=anchor)



@per_language
class ReminderForm(Form):
    anchor = SelectField(_l("Anchor"), choices=list(ANCHORS.items()))
    item = SelectField(_l("Programme item"), coerce=int, choices=[])
    offset = StringField(_l("Offset"), validators=[DataRequired(), Length(max=40)],
                         description=_l("How long before or after the moment above: -P7D "
                                        "is 7 days before, -PT6H is 6 hours before, P1D is "
                                        "1 day after (ISO 8601)."))
    audience = SelectField(_l("Audience"), choices=list(AUDIENCES.items()))
    subject = PerLanguage(_l("Subject"))
    body = PerLanguage(_l("Message"), max_length=20000, textarea=True)
    attach_programme = BooleanField(_l("Attach the delegate's programme (.ics)"))
    preview = SubmitField(_l("Preview"))
    save = SubmitField(_l("Save"))

    def values(self) -> dict[str, Any]:
        return {"anchor": self.anchor.data, "offset": self.offset.data or "",
                "audience": self.audience.data, "item_id": self.item.data or None,
                "subject": localized_data(self, "subject"),
                "body": localized_data(self, "body"),
                "attach_programme": self.attach_programme.data}


def _form(assembly: Assembly, reminder: Reminder | None = None) -> ReminderForm:
    form = ReminderForm(obj=None)
    items = db.session.scalars(select(ProgrammeItem).where(
        ProgrammeItem.assembly_id == assembly.id).order_by(ProgrammeItem.starts_at)).all()
    form.item.choices = [(0, "—")] + [
        (i.id, f"{i.display_title(current_language())} · "
               f"{show_instant(i.starts_at, assembly.timezone)}") for i in items]
    if reminder is not None and request.method == "GET":
        form.anchor.data, form.offset.data = reminder.anchor.value, reminder.offset
        form.audience.data, form.item.data = reminder.audience.value, reminder.item_id or 0
        fill_localized(form, "subject", reminder.subject)
        fill_localized(form, "body", reminder.body)
        form.attach_programme.data = reminder.attach_programme
    return form


@bp.get("/assemblies/<slug>/reminders")
@roles_required(Role.SECRETARIAT)
def reminders(slug: str) -> str:
    assembly = visible_assembly_or_404(slug)
    views = reminders_of(db.session, assembly)
    lang = current_language()
    return render_template("mailing/reminders.html", assembly=assembly, views=views,
                           subjects={v.reminder.id: subject_preview(db.session, v.reminder, lang)
                                     for v in views},
                           anchors=ANCHORS, audiences=AUDIENCES, statuses=STATUSES,
                           form=FlaskForm())


@bp.route("/assemblies/<slug>/reminders/new", methods=["GET", "POST"])
@bp.route("/assemblies/<slug>/reminders/<int:reminder_id>/edit", methods=["GET", "POST"])
@roles_required(Role.SECRETARIAT)
def reminder_form(slug: str, reminder_id: int | None = None) -> Response | str:
    assembly = visible_assembly_or_404(slug)
    reminder = None
    if reminder_id is not None:
        reminder = db.session.get(Reminder, reminder_id)
        if reminder is None or reminder.assembly_id != assembly.id:
            abort(404)
    form = _form(assembly, reminder)
    if request.method == "GET" and reminder is None:
        form.offset.data = "-P7D"
    previews = None
    refused = request.method == "POST"  # until the form is valid (422, like the other forms)
    if form.validate_on_submit():
        with attempt(form) as tried:
            if form.preview.data:
                previews = preview(db.session, assembly, **form.values(),
                                   status=ReminderStatus.ACTIVE)
            else:
                if reminder is None:
                    create_reminder(db.session, assembly, **form.values())
                else:
                    update_reminder(db.session, reminder, **form.values())
                db.session.commit()
        refused = tried.refused
        if not refused and not form.preview.data:
            flash(_("The reminder is saved."), "success")
            return redirect(url_for("mailing.reminders", slug=slug))
    return render_template("mailing/reminder_form.html", assembly=assembly, reminder=reminder,
                           form=form, previews=previews, variables=TEMPLATE_VARIABLES), (
        422 if refused else 200)  # type: ignore[return-value]


@bp.post("/assemblies/<slug>/reminders/<int:reminder_id>/pause")
@roles_required(Role.SECRETARIAT)
def reminder_pause(slug: str, reminder_id: int) -> Response:
    assembly = visible_assembly_or_404(slug)
    reminder = db.session.get(Reminder, reminder_id)
    if reminder is None or reminder.assembly_id != assembly.id:
        abort(404)
    if FlaskForm().validate_on_submit():
        set_paused(reminder, request.form.get("paused") == "1")
        db.session.commit()
        flash(_("The reminder is paused.") if reminder.status is ReminderStatus.PAUSED
              else _("The reminder is active."), "info")
    return redirect(url_for("mailing.reminders", slug=slug))
