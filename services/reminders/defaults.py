"""The reminders every new assembly starts with, and their texts in each language (the
secretariat edits them per assembly)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from models import Assembly, Reminder, ReminderAnchor, ReminderAudience
from models.languages import DEFAULT_LANGUAGE, REGISTRY
from services.i18n import N_, gettext, in_language
from services.reminders.editing import create_reminder

DEFAULTS: tuple[dict[str, Any], ...] = (
    {"anchor": ReminderAnchor.REGISTRATION_DEADLINE, "offset": "-P14D",
     "audience": ReminderAudience.UNDECIDED_LIAISONS, "kind": "registration"},
    {"anchor": ReminderAnchor.REGISTRATION_DEADLINE, "offset": "-P3D",
     "audience": ReminderAudience.UNDECIDED_LIAISONS, "kind": "registration"},
    {"anchor": ReminderAnchor.PROXY_DEADLINE, "offset": "-P7D",
     "audience": ReminderAudience.ABSENT_WITHOUT_PROXY, "kind": "proxy"},
    {"anchor": ReminderAnchor.PROXY_DEADLINE, "offset": "-PT72H",
     "audience": ReminderAudience.ABSENT_WITHOUT_PROXY, "kind": "proxy"},
    {"anchor": ReminderAnchor.ASSEMBLY_START, "offset": "-P2D",
     "audience": ReminderAudience.DELEGATES, "kind": "start", "attach_programme": True},
)

# The defaults' texts: English msgids in the catalogue, so every language's catalogue gives
# its own (translators keep the {{ variables }}); the secretariat edits them per assembly.
TEXTS: dict[str, dict[str, str]] = {
    "registration": {
        "subject": N_("{{ assembly_title }}: will {{ city }} attend? Please reply by "
                      "{{ deadline }}"),
        "body": N_("Dear {{ recipient_name }},\n\n{{ city }} has not yet told us whether it "
                   "will attend {{ assembly_title }} ({{ dates }}, {{ venue }}).\n\nPlease "
                   "register your delegation, or tell us that {{ city }} will not attend, by "
                   "{{ deadline }} (at the venue: {{ deadline_host }}).\n\n{{ my_city_url }}"
                   "\n\nThe secretariat"),
    },
    "proxy": {
        "subject": N_("{{ assembly_title }}: proxy letter for {{ city }} due by "
                      "{{ deadline }}"),
        "body": N_("Dear {{ recipient_name }},\n\n{{ city }} will not attend "
                   "{{ assembly_title }}. To be represented, please send a proxy letter naming "
                   "a city that attends by {{ deadline }} (at the venue: {{ deadline_host }})."
                   "\n\n{{ my_city_url }}\n\nThe secretariat"),
    },
    "start": {
        "subject": N_("{{ assembly_title }} begins {{ deadline }}"),
        "body": N_("Dear {{ recipient_name }},\n\n{{ assembly_title }} begins on "
                   "{{ deadline }} (in {{ host_city }}: {{ deadline_host }}) at {{ venue }}."
                   "\n\nYour programme is attached (programme.ics). Subscribe to your "
                   "personal calendar feed to keep it up to date:\n{{ feed_url }}\n"
                   "{{ webcal_url }}\n\nWe look forward to seeing you.\nThe secretariat"),
    },
}


def default_texts(kind: str) -> tuple[dict[str, str], dict[str, str]]:
    """A default's subject and body in every registered language whose catalogue has them
    (English always; a recipient of another language reads the English)."""
    subject: dict[str, str] = {}
    body: dict[str, str] = {}
    for code in REGISTRY:
        with in_language(code):
            for texts, part in ((subject, "subject"), (body, "body")):
                msgid = TEXTS[kind][part]
                text = gettext(msgid)
                if code == DEFAULT_LANGUAGE or text != msgid:
                    texts[code] = text
    return subject, body


def create_default_reminders(session: Session, assembly: Assembly) -> list[Reminder]:
    """The default set for a new assembly (adds and flushes; the caller commits)."""
    made = []
    for spec in DEFAULTS:
        subject, body = default_texts(spec["kind"])
        made.append(create_reminder(
            session, assembly, anchor=spec["anchor"], offset=spec["offset"],
            audience=spec["audience"], subject=subject, body=body,
            attach_programme=spec.get("attach_programme", False)))
    return made
