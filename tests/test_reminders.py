"""Reminders: due instants follow their anchors; a due reminder reaches each recipient once,
in their language and zone, through the outbox, a real worker and a real SMTP server."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from icalendar import Calendar
from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError

from config import Settings
from models import (
    Assembly,
    AssemblyStatus,
    Delegation,
    DelegationStatus,
    MailStatus,
    MemberCity,
    OutboxMessage,
    ProxyLetter,
    ProxyStatus,
    Reminder,
    ReminderAnchor,
    ReminderAudience,
    ReminderDelivery,
    ReminderStatus,
    Role,
    utcnow,
)
from models.errors import DomainError
from services.accounts import create_user
from services.demo import load_tomsk_2014
from services.reminders.audience import recipients, sample_recipient
from services.reminders.defaults import create_default_reminders
from services.reminders.editing import create_reminder
from services.reminders.messages import render
from services.reminders.sweep import send_due_reminders
from services.reminders.timing import due_at
from tests.conftest import SmtpSink, wait_for
from webapp.extensions import db

UNDECIDED = {"DEL": ("liaison.del@example.org", "en"), "KUL": ("liaison.kul@example.org", "ja")}


def open_assembly(session: object) -> Assembly:
    """The Tomsk demo, open, with two cities undecided (each with a liaison) and Jakarta's
    liaison (absent, no letter)."""
    assembly = load_tomsk_2014(session)
    assembly.status = AssemblyStatus.OPEN
    now = utcnow().replace(microsecond=0)
    assembly.registration_deadline = now + timedelta(days=30)
    assembly.proxy_deadline = now + timedelta(days=30)
    for code, (email, language) in UNDECIDED.items():
        delegation = session.scalar(select(Delegation).join(MemberCity).where(
            Delegation.assembly_id == assembly.id, MemberCity.code == code))
        delegation.status = DelegationStatus.UNDECIDED
        create_user(session, email, Role.LIAISON, None, code, display_name=f"Liaison {code}",
                    language=language)
    # The demo's Jakarta has a verified letter to Tokyo: withdrawn here, so that Jakarta is
    # absent without a proxy.
    for letter in session.scalars(select(ProxyLetter).where(
            ProxyLetter.assembly_id == assembly.id)):
        letter.status = ProxyStatus.WITHDRAWN
    create_user(session, "liaison.jkt@example.org", Role.LIAISON, None, "JKT")
    create_user(session, "liaison.tyo@example.org", Role.LIAISON, None, "TYO")
    session.commit()
    return assembly


def settings_of(app: Flask) -> Settings:
    return app.config["SOKAI_SETTINGS"]


def test_a_new_assembly_gets_the_default_set_and_reminders_move_with_their_anchor(
        app: Flask, session: object) -> None:
    assembly = open_assembly(session)
    made = create_default_reminders(session, assembly)
    session.commit()
    assert [(r.anchor.value, r.offset, r.audience.value) for r in made] == [
        ("registration_deadline", "-P14D", "undecided_liaisons"),
        ("registration_deadline", "-P3D", "undecided_liaisons"),
        ("proxy_deadline", "-P7D", "absent_without_proxy"),
        ("proxy_deadline", "-PT72H", "absent_without_proxy"),
        ("assembly_start", "-P2D", "delegates"),
    ]
    three_days = made[1]
    assert due_at(session, three_days) == assembly.registration_deadline - timedelta(days=3)
    assembly.registration_deadline += timedelta(days=5)  # the deadline is extended
    session.commit()
    assert due_at(session, three_days) == assembly.registration_deadline - timedelta(days=3)
    # The assembly-start reminder hangs on the first item (4 Sep 2014, 16:00 in Tomsk).
    assert due_at(session, made[4]).isoformat() == "2014-09-02T09:00:00+00:00"
    # Who they go to, now.
    assert {p.address for p in recipients(session, made[0])} == {
        "liaison.del@example.org", "liaison.kul@example.org"}
    assert {p.address for p in recipients(session, made[2])} == {"liaison.jkt@example.org"}
    assert len(recipients(session, made[4])) > 20


@pytest.mark.parametrize(("offset", "field"), [("7 days", "offset"), ("-P1M", "offset"),
                                               ("-P400D", "offset")])
def test_bad_offsets_are_refused_with_the_field_named(app: Flask, session: object, offset: str,
                                                      field: str) -> None:
    assembly = open_assembly(session)
    with pytest.raises(DomainError) as error:
        create_reminder(session, assembly, anchor="proxy_deadline", offset=offset,
                        audience="absent_without_proxy", subject={"en": "a", "ja": "あ"},
                        body={"en": "b", "ja": "い"})
    assert error.value.field == field


def test_templates_naming_unknown_variables_are_refused(app: Flask, session: object) -> None:
    assembly = open_assembly(session)
    with pytest.raises(DomainError) as error:
        create_reminder(session, assembly, anchor="proxy_deadline", offset="-P1D",
                        audience="absent_without_proxy", subject={"en": "{{ nope }}", "ja": "x"},
                        body={"en": "b", "ja": "い"})
    assert error.value.field == "subject.en"
    with pytest.raises(DomainError):  # the sandbox refuses internals
        create_reminder(session, assembly, anchor="proxy_deadline", offset="-P1D",
                        audience="absent_without_proxy", subject={"en": "x", "ja": "x"},
                        body={"en": "{{ city.__class__.__mro__ }}", "ja": "い"})


def test_the_message_speaks_the_recipients_language_and_zones(app: Flask,
                                                                session: object) -> None:
    assembly = open_assembly(session)
    reminder = next(r for r in create_default_reminders(session, assembly)
                    if r.anchor is ReminderAnchor.REGISTRATION_DEADLINE and r.offset == "-P3D")
    session.commit()
    people = {p.address: p for p in recipients(session, reminder)}
    ja = render(session, reminder, people["liaison.kul@example.org"], settings_of(app))
    en = render(session, reminder, people["liaison.del@example.org"], settings_of(app))
    assert "ご出欠" in ja.subject and "クアラルンプール" in ja.text
    assert "Asia/Kuala_Lumpur" in ja.text and "Asia/Tomsk" in ja.text
    assert "Delhi has not yet told us" in en.text
    assert "Asia/Kolkata" in en.text and "Asia/Tomsk" in en.text
    assert "<p>" in en.html and "Asia/Tokyo" in en.html  # the secretariat's zone too
    assert "\n" not in en.subject
    preview = sample_recipient(session, reminder, "ja")
    assert preview.language == "ja"


def test_the_assembly_start_reminder_carries_the_delegates_programme(
        app: Flask, session: object) -> None:
    assembly = open_assembly(session)
    start = next(r for r in create_default_reminders(session, assembly)
                 if r.anchor is ReminderAnchor.ASSEMBLY_START)
    session.commit()
    person = next(p for p in recipients(session, start) if p.language == "ja")
    message = render(session, start, person, settings_of(app))
    (attachment,) = message.attachments
    assert attachment.filename == "programme.ics"
    calendar = Calendar.from_ical(attachment.content)
    zones = [str(tz["TZID"]) for tz in calendar.walk("VTIMEZONE")]
    assert zones == ["Asia/Tomsk"]
    events = calendar.walk("VEVENT")
    assert events and all(str(e["DTSTART"].params["TZID"]) == "Asia/Tomsk" for e in events)
    assert "/calendar/p/" in message.text and "webcal://" in message.text
    # As mailed: text/calendar with its charset and method, so that a mail reader (here
    # Python's parser) gets the Japanese back, not U+FFFD.
    import email
    from email import policy

    from models import OutboxMessage
    from services.mail.delivery import build_email
    from services.mail.outbox import _attachments

    row = OutboxMessage(to_address=person.address, to_name="", subject=message.subject,
                        text_body=message.text, html_body=message.html, language="ja",
                        attachments=_attachments(message.attachments),
                        message_id="<ics-test@sokai.test>", created_at=datetime.now(UTC))
    parsed = email.message_from_bytes(bytes(build_email(row, "s@sokai.test")),
                                      policy=policy.default)
    (part,) = parsed.iter_attachments()
    assert part.get_content_type() == "text/calendar"
    assert part.get_param("charset") == "utf-8" and part.get_param("method") == "PUBLISH"
    text = part.get_content()
    assert "\ufffd" not in text and text.encode() == attachment.content
    assert any("\u3040" <= ch <= "\u9fff" for ch in text)  # Japanese titles survived


def _sent(app: Flask) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(OutboxMessage.id)).where(
            OutboxMessage.status == MailStatus.SENT)) or 0


def test_a_due_reminder_reaches_each_recipient_once(app: Flask, session: object,
                                                    celery_worker: object,
                                                    smtp_sink: SmtpSink) -> None:
    from services.housekeeping import sweep

    assembly = open_assembly(session)
    # Three days before the deadline was a minute ago: the -3 d reminder is due now, the
    # -14 d one is eleven days late and must not go out.
    assembly.registration_deadline = utcnow() + timedelta(days=3) - timedelta(minutes=1)
    defaults = create_default_reminders(session, assembly)
    session.commit()

    assert sweep(session)["reminders"] == 2
    assert wait_for(lambda: _sent(app) == 2)
    by_address = {m["To"].addresses[0].addr_spec: m for m in smtp_sink.messages}
    assert set(by_address) == {"liaison.del@example.org", "liaison.kul@example.org"}
    ja = by_address["liaison.kul@example.org"]
    assert "ご出欠" in ja["Subject"]
    assert {p.get_content_type() for p in ja.walk()} >= {"text/plain", "text/html"}

    session.expire_all()
    assert defaults[1].status is ReminderStatus.SENT and defaults[1].recipient_count == 2
    assert defaults[0].status is ReminderStatus.SKIPPED  # far in the past: not sent late
    # A second sweep sends nothing.
    assert sweep(session)["reminders"] == 0
    defaults[1].status = ReminderStatus.ACTIVE  # even one that forgot it was sent
    session.commit()
    assert send_due_reminders(session, settings_of(app)) == 0
    assert len(smtp_sink.messages) == 2
    assert session.scalar(select(func.count(OutboxMessage.id))) == 2


def test_a_reminder_far_in_the_past_is_not_sent(app: Flask, session: object) -> None:
    assembly = open_assembly(session)
    assembly.proxy_deadline = utcnow() - timedelta(days=2)
    reminders = create_default_reminders(session, assembly)
    session.commit()
    assert send_due_reminders(session, settings_of(app)) == 0
    session.expire_all()
    # The proxy deadline's week-before reminder fell due five days ago: skipped, not sent.
    week_before = next(r for r in reminders
                       if r.anchor is ReminderAnchor.PROXY_DEADLINE and r.offset == "-P7D")
    assert week_before.status is ReminderStatus.SKIPPED and "not sent late" in week_before.note
    assert session.scalar(select(func.count(OutboxMessage.id))) == 0
    # Moving the deadline back into the future does not revive a skipped reminder's mail,
    # but a new reminder follows the new deadline.
    assembly.proxy_deadline = utcnow() + timedelta(days=7, seconds=-30)
    session.commit()
    assert send_due_reminders(session, settings_of(app)) == 0  # -P7D was skipped already
    fresh = create_reminder(session, assembly, anchor="proxy_deadline", offset="-P7D",
                            audience="absent_without_proxy", subject={"en": "s", "ja": "s"},
                            body={"en": "b", "ja": "b"})
    session.commit()
    assert send_due_reminders(session, settings_of(app)) == 1
    session.expire_all()
    assert session.get(Reminder, fresh.id).status is ReminderStatus.SENT


def due_to_every_delegate(session: object) -> tuple[Reminder, int]:
    """The Tomsk demo, open, with a reminder to every delegate due now, and how many it
    reaches."""
    assembly = open_assembly(session)
    reminder = create_reminder(
        session, assembly, anchor=ReminderAnchor.REGISTRATION_DEADLINE, offset="-P30D",
        audience=ReminderAudience.DELEGATES, subject={"en": "Hello", "ja": "こんにちは"},
        body={"en": "Dear {{ recipient_name }}", "ja": "{{ recipient_name }} 様"})
    assembly.registration_deadline = utcnow() + timedelta(days=30)
    session.commit()
    return reminder, len(recipients(session, reminder))


def test_two_sweeps_at_once_send_nothing_twice(app: Flask, session: object) -> None:
    reminder, expected = due_to_every_delegate(session)
    assert expected > 20
    barrier = threading.Barrier(4)
    outcomes: list[object] = []

    def run() -> None:
        with app.app_context():
            try:
                barrier.wait()
                outcomes.append(send_due_reminders(db.session, settings_of(app)))
            except DBAPIError as exc:  # SQLite: the loser's snapshot is stale, it gives up
                db.session.rollback()
                outcomes.append(type(exc).__name__)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    counted = [o for o in outcomes if isinstance(o, int)]
    assert sum(counted) == expected, outcomes
    session.expire_all()
    assert session.scalar(select(func.count(ReminderDelivery.id))) == expected
    assert session.scalar(select(func.count(OutboxMessage.id))) == expected
    assert session.scalar(select(func.count(func.distinct(OutboxMessage.to_address)))) == expected
    # Each delivery names the outbox row written with it.
    assert session.scalar(select(func.count(ReminderDelivery.id)).join(
        OutboxMessage, OutboxMessage.message_id == ReminderDelivery.message_id)) == expected


def test_a_large_audience_is_written_in_chunks_and_a_crash_part_way_resumes(
        app: Flask, session: object, monkeypatch: pytest.MonkeyPatch) -> None:
    """The first mails leave while the rest are written; a sweep that dies part-way has sent
    the chunks it committed, and sending the reminder again reaches only the others."""
    import services.reminders.sweep as sweep_module

    monkeypatch.setattr(sweep_module, "FAN_OUT_CHUNK", 7)
    monkeypatch.setattr(sweep_module, "FAN_OUT_CHUNK_ONE_WRITER", 7)
    reminder, expected = due_to_every_delegate(session)
    assert expected > 21
    written = sweep_module.queue_messages
    calls: list[int] = []

    def dies_on_the_third_chunk(s: object, drafts: list[object]) -> list[int]:
        calls.append(len(drafts))
        if len(calls) == 3:
            raise ConnectionError("the database went away")
        return written(s, drafts)  # type: ignore[arg-type]

    monkeypatch.setattr(sweep_module, "queue_messages", dies_on_the_third_chunk)
    send_due_reminders(session, settings_of(app))
    session.expire_all()
    failed = session.get(Reminder, reminder.id)
    assert failed.status is ReminderStatus.FAILED and "went away" in failed.note
    assert failed.recipient_count == 14
    assert session.scalar(select(func.count(OutboxMessage.id))) == 14
    assert session.scalar(select(func.count(ReminderDelivery.id))) == 14

    monkeypatch.setattr(sweep_module, "queue_messages", written)
    failed.status = ReminderStatus.ACTIVE  # sent again
    session.commit()
    assert send_due_reminders(session, settings_of(app)) == expected - 14
    session.expire_all()
    done = session.get(Reminder, reminder.id)
    assert done.status is ReminderStatus.SENT and done.recipient_count == expected
    assert session.scalar(select(func.count(OutboxMessage.id))) == expected
    assert session.scalar(select(func.count(func.distinct(OutboxMessage.to_address)))) == expected
    # Each recipient once, and every delivery has its outbox row.
    assert session.scalar(select(func.count(ReminderDelivery.id)).join(
        OutboxMessage, OutboxMessage.message_id == ReminderDelivery.message_id)) == expected


def test_absent_without_proxy_follows_the_attendance_rule_when_the_holder_drops_out(
        app: Flask, session: object) -> None:
    """Tokyo holds Jakarta's verified letter, then declares itself absent: the letter
    represents nobody, so attendance counts Jakarta absent and the proxy reminder reaches
    Jakarta's liaison (one rule decides both)."""
    from services.attendance import Presence, compute_attendance

    assembly = load_tomsk_2014(session)  # Jakarta's letter to Tokyo is verified here
    assembly.status = AssemblyStatus.OPEN
    create_user(session, "liaison.jkt@example.org", Role.LIAISON, None, "JKT")
    session.commit()
    reminder = next(r for r in create_default_reminders(session, assembly)
                    if r.audience is ReminderAudience.ABSENT_WITHOUT_PROXY)
    session.commit()

    def jakarta() -> Presence:
        row = next(r for r in compute_attendance(session, assembly).rows
                   if r.city.code == "JKT")
        return row.presence

    assert jakarta() is Presence.REPRESENTED
    assert "liaison.jkt@example.org" not in {p.address for p in recipients(session, reminder)}

    tokyo = session.scalar(select(Delegation).join(MemberCity).where(
        Delegation.assembly_id == assembly.id, MemberCity.code == "TYO"))
    tokyo.status = DelegationStatus.ABSENT
    session.commit()
    assert jakarta() is Presence.ABSENT
    assert "liaison.jkt@example.org" in {p.address for p in recipients(session, reminder)}
