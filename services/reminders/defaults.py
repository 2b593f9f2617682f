"""The reminders every new assembly starts with, and their texts in each language (the
secretariat edits them per assembly)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from models import Assembly, Reminder, ReminderAnchor, ReminderAudience
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

# Bilingual defaults; the secretariat edits them per assembly.
TEXTS: dict[str, dict[str, dict[str, str]]] = {
    "registration": {
        "subject": {
            "en": "{{ assembly_title }}: will {{ city }} attend? Please reply by {{ deadline }}",
            "ja": "【ご出欠のお願い】{{ assembly_title }}（{{ deadline }}まで）",
        },
        "body": {
            "en": "Dear {{ recipient_name }},\n\n{{ city }} has not yet told us whether it will "
                  "attend {{ assembly_title }} ({{ dates }}, {{ venue }}).\n\nPlease register "
                  "your delegation, or tell us that {{ city }} will not attend, by "
                  "{{ deadline }} (at the venue: {{ deadline_host }}).\n\n{{ my_city_url }}\n\n"
                  "The secretariat",
            "ja": "{{ recipient_name }} 様\n\n{{ assembly_title }}（{{ dates }}、{{ venue }}）"
                  "へのご出欠について、{{ city }}からのご回答をまだいただいておりません。\n\n"
                  "{{ deadline }}（開催地時間：{{ deadline_host }}）までに、代表団のご登録"
                  "または欠席のご連絡をお願いいたします。\n\n{{ my_city_url }}\n\n事務局",
        },
    },
    "proxy": {
        "subject": {
            "en": "{{ assembly_title }}: proxy letter for {{ city }} due by {{ deadline }}",
            "ja": "【委任状のお願い】{{ assembly_title }}（{{ deadline }}まで）",
        },
        "body": {
            "en": "Dear {{ recipient_name }},\n\n{{ city }} will not attend {{ assembly_title }}."
                  " To be represented, please send a proxy letter naming a city that attends "
                  "by {{ deadline }} (at the venue: {{ deadline_host }}).\n\n{{ my_city_url }}"
                  "\n\nThe secretariat",
            "ja": "{{ recipient_name }} 様\n\n{{ city }}は{{ assembly_title }}にご欠席と"
                  "伺っております。議決権を行使される場合は、{{ deadline }}（開催地時間："
                  "{{ deadline_host }}）までに、出席都市を受任者とする委任状をご提出ください。"
                  "\n\n{{ my_city_url }}\n\n事務局",
        },
    },
    "start": {
        "subject": {
            "en": "{{ assembly_title }} begins {{ deadline }}",
            "ja": "【まもなく開催】{{ assembly_title }}（{{ deadline }}開始）",
        },
        "body": {
            "en": "Dear {{ recipient_name }},\n\n{{ assembly_title }} begins on {{ deadline }} "
                  "(in {{ host_city }}: {{ deadline_host }}) at {{ venue }}.\n\nYour programme "
                  "is attached (programme.ics). Subscribe to your personal calendar feed to "
                  "keep it up to date:\n{{ feed_url }}\n{{ webcal_url }}\n\nWe look forward "
                  "to seeing you.\nThe secretariat",
            "ja": "{{ recipient_name }} 様\n\n{{ assembly_title }}は{{ deadline }}（{{ host_city }}"
                  "時間：{{ deadline_host }}）に{{ venue }}で開会いたします。\n\nご自身の日程表を"
                  "添付いたしました（programme.ics）。個人用カレンダーフィードを登録いただくと、"
                  "変更も自動で反映されます。\n{{ feed_url }}\n{{ webcal_url }}\n\n"
                  "皆様のお越しをお待ちしております。\n事務局",
        },
    },
}


def create_default_reminders(session: Session, assembly: Assembly) -> list[Reminder]:
    """The default set for a new assembly (adds and flushes; the caller commits)."""
    made = []
    for spec in DEFAULTS:
        texts = TEXTS[spec["kind"]]
        made.append(create_reminder(
            session, assembly, anchor=spec["anchor"], offset=spec["offset"],
            audience=spec["audience"], subject=dict(texts["subject"]), body=dict(texts["body"]),
            attach_programme=spec.get("attach_programme", False)))
    return made
