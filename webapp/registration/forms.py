"""Forms of registration: every one has CSRF (Flask-WTF) and says what is wrong by the field."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    EmailField,
    IntegerField,
    PasswordField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import (
    DataRequired,
    Email,
    EqualTo,
    Length,
    NumberRange,
    Optional,
    Regexp,
)

from models import DelegateRole
from models.languages import REGISTRY
from services.zones import zones_by_region
from webapp.forms import Form, PerLanguage, per_language


class StatusForm(Form):
    status = RadioField(_l("Will your city attend?"), choices=[
        ("attending", _l("Yes, our city attends")),
        ("absent", _l("No, our city is absent"))], validators=[DataRequired()])


ROLE_LABELS = {
    "representative": _l("Representative"), "delegate": _l("Delegate"), "staff": _l("Staff"),
    "performer": _l("Performer"), "interpreter": _l("Interpreter"), "press": _l("Press"),
    "observer": _l("Observer"),
}


@per_language
class DelegateForm(Form):
    family_name = StringField(_l("Family name"), validators=[DataRequired(), Length(max=100)])
    given_name = StringField(_l("Given name"), validators=[Optional(), Length(max=100)])
    name_local = StringField(_l("Name in local script"), validators=[Optional(), Length(max=200)])
    name_order = SelectField(_l("Order of the names"), choices=[
        ("family_first", _l("Family name first (LE Hong Son, 舛添 要一)")),
        ("given_first", _l("Given name first (Sergei ZHVACHKIN)"))],
        validate_choice=False)  # left out: the custom of the city's country
    honorific = StringField(_l("Honorific (Mr., Ms., H.E., Dr. …)"),
                            validators=[Optional(), Length(max=40)])
    title = PerLanguage(_l("Title"))
    role = SelectField(_l("Role"), choices=[(r.value, ROLE_LABELS[r.value]) for r in DelegateRole])
    email = EmailField(_l("Email"), validators=[Optional(), Email(), Length(max=254)])
    language = SelectField(_l("Language"),
                           choices=[(code, lang.name) for code, lang in REGISTRY.items()])


class LetterForm(Form):
    holder = SelectField(_l("City that holds your city's voice"), validators=[DataRequired()])
    signatory_name = StringField(_l("Signed by (name)"), validators=[DataRequired(),
                                                                     Length(max=200)])
    signatory_title = StringField(_l("Signatory's title"), validators=[Optional(),
                                                                        Length(max=200)])
    instructions = TextAreaField(_l("Instructions to the holder (optional)"),
                                 validators=[Optional(), Length(max=5000)])
    document = FileField(_l("Signed letter (PDF, at most 10 MB)"),
                         validators=[FileRequired(_l("Attach the signed letter as a PDF."))])


class ImportForm(Form):
    file = FileField(_l("Delegation file (CSV or XLSX)"),
                     validators=[FileRequired(_l("Choose a CSV or XLSX file."))])


class RejectForm(Form):
    reason = TextAreaField(_l("Reason (the liaison reads it)"),
                           validators=[DataRequired(), Length(max=2000)])


@per_language
class CityForm(Form):
    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=16),
                                               Regexp(r"^[A-Za-z0-9]+$",
                                                      message=_l("Letters and digits only."))])
    name = PerLanguage(_l("Name"), max_length=200, required=True)
    country = StringField(_l("Country (ISO code, e.g. JP)"),
                          validators=[DataRequired(), Length(min=2, max=2)])
    # validate_choice off: the use case names what is wrong with a zone (e.g. "UTC+8").
    timezone = SelectField(_l("Time zone"), validators=[Optional(), Length(max=64)],
                           validate_choice=False,
                           description=_l("Empty: the country's zone, when it has only one."))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # IANA zones grouped by region; type a few letters on the open list to jump.
        self.timezone.choices = {"": [("", _l("From the country"))],  # type: ignore[assignment]
                                 **zones_by_region()}


class CityImportForm(Form):
    file = FileField(_l("Cities file (CSV or XLSX)"),
                     validators=[FileRequired(_l("Choose a CSV or XLSX file."))])


class BulkInviteForm(Form):
    lines = TextAreaField(_l("One liaison per line: city code, email, language (en or ja)"),
                          validators=[DataRequired(), Length(max=200_000)],
                          render_kw={"rows": 5,
                                     "placeholder": "TYO, liaison@tokyo.example.org, ja"})


class DateListField(StringField):
    """Days typed as "2014-09-05, 2014-09-06"; .data is the list of dates."""

    def process_data(self, value: object) -> None:
        # From the model: ISO strings (Assembly.sitting_days).
        days = value if isinstance(value, list | tuple) else []
        self.data = [day if isinstance(day, date) else date.fromisoformat(str(day))
                     for day in days]

    def _value(self) -> str:
        return ", ".join(day.isoformat() for day in self.data or [])

    def process_formdata(self, valuelist: list[str]) -> None:
        text = valuelist[0] if valuelist else ""
        try:
            self.data = [date.fromisoformat(part.strip())
                         for part in text.replace("、", ",").split(",") if part.strip()]
        except ValueError:
            self.data = []
            raise ValueError(self.gettext("Not a valid date value.")) from None


@per_language
class AssemblyForm(Form):
    slug = StringField(_l("Web address"), validators=[DataRequired(), Length(max=80),
                                                         Regexp(r"^[a-z0-9-]+$", message=_l(
                                                             "Lower-case letters, digits and "
                                                             "hyphens only."))])
    title = PerLanguage(_l("Title"), required=True)
    host_city = SelectField(_l("Host city"), validators=[DataRequired()])
    venue = PerLanguage(_l("Venue"))
    host_organisation = PerLanguage(_l("Host organisation"))
    sitting_days = DateListField(_l("Sitting days"), description="YYYY-MM-DD, YYYY-MM-DD")
    timezone = StringField(_l("Host time zone"), validators=[Optional(), Length(max=64)],
                           description=_l("Type to search, e.g. Tomsk. Empty: the host "
                                          "city's zone."))
    home_timezone = StringField(_l("Secretariat time zone"), validators=[DataRequired()],
                                description=_l("Type to search, e.g. Tokyo."))
    starts_on = DateField(_l("First day"), validators=[DataRequired()])
    ends_on = DateField(_l("Last day"), validators=[DataRequired()])
    registration_deadline = DateTimeLocalField(_l("Registration deadline (host time)"),
                                               validators=[DataRequired()])
    proxy_deadline = DateTimeLocalField(_l("Proxy letter deadline (host time)"),
                                        validators=[DataRequired()])
    quorum = SelectField(_l("Quorum"), choices=[
        ("majority", _l("More than half of the members")),
        ("half", _l("At least half of the members")),
        ("two_thirds", _l("At least two thirds of the members")),
        ("none", _l("No quorum"))])
    max_proxies_per_holder = IntegerField(_l("Letters one city may hold"), default=1,
                                          validators=[DataRequired(), NumberRange(1, 100)])
    proxy_to_chair_allowed = BooleanField(_l("A letter may name the chair"))


class InviteForm(Form):
    email = EmailField(_l("Liaison's email"), validators=[DataRequired(), Email(),
                                                          Length(max=254)])
    name = StringField(_l("Name (as the liaison writes it)"),
                       validators=[Optional(), Length(max=200)])
    language = SelectField(_l("Language"),
                           choices=[(code, lang.name) for code, lang in REGISTRY.items()])


class SetPasswordForm(Form):
    password = PasswordField(_l("New password (at least 10 characters)"),
                             validators=[DataRequired(), Length(min=10, max=1024)])
    confirm = PasswordField(_l("Repeat the password"),
                            validators=[DataRequired(), EqualTo("password", _l(
                                "The two passwords differ."))])
