"""Every person in their own language (issue 13): the registry, mail in the recipient's
language and script, a Korean delegate, a tenth language added with one entry and one
catalogue."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from html.parser import HTMLParser
from pathlib import Path

import pytest
from babel import Locale
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from models import Assembly, Delegate, MemberCity, OutboxMessage, Role, User
from models.languages import REGISTRY, Language
from services import i18n
from services.accounts import create_user, issue_token
from services.calendar.content import feed_name
from services.delegations import add_delegate
from services.demo import load_tomsk_2014
from services.i18n import in_language, show_date, show_day
from services.invitations import invite_delegate, invite_liaison
from services.proxies import Document, submit_letter, verify_letter
from services.reminders.audience import Recipient
from services.reminders.defaults import TEXTS, create_default_reminders
from services.reminders.messages import render
from services.summaries.jobs import request_summary
from tests.conftest import dropped_mail, wait_for
from tests.registration_helpers import PDF

# Three Latin words in a row: an English sentence (a URL, an address or one brand name is not).
ENGLISH = re.compile(r"[A-Za-z]{2,}(?:[ ,'’-]+[A-Za-z]{2,}){2,}")
URL = re.compile(r"(?:https?|webcal)://\S+|\S+@\S+")


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: object) -> None:
        self._skip += tag in ("style", "script")

    def handle_endtag(self, tag: str) -> None:
        self._skip -= tag in ("style", "script")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def visible_text(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    return " ".join(parser.parts)


def english_in(*texts: str) -> list[str]:
    return [hit for text in texts for hit in ENGLISH.findall(URL.sub(" ", text))]


def assert_japanese(subject: str, text: str, html: str, name: str) -> None:
    assert not english_in(subject, text, visible_text(html)), (subject, text)
    assert f"{name} 様" in text, text
    assert f"{name} 様" in visible_text(html)


# --- the registry ---------------------------------------------------------------------------


def test_every_registered_language_has_a_locale_formats_and_a_catalogue_name() -> None:
    assert set(REGISTRY) >= {"en", "ja", "ko", "zh-Hant", "ru", "vi", "th", "id", "mn"}
    for code, lang in REGISTRY.items():
        Locale.parse(lang.locale)  # Babel knows it
        assert lang.catalogue_dir == code.replace("-", "_")
        with in_language(code):
            assert show_day(date(2014, 9, 4)) and "2014" in show_day(date(2014, 9, 4))
    assert REGISTRY["zh-Hant"].catalogue_dir == "zh_Hant"
    assert REGISTRY["vi"].family_name_first and not REGISTRY["mn"].family_name_first


def test_days_as_each_language_writes_them() -> None:
    day = date(2014, 9, 4)
    expected = {"ja": "2014年9月4日（木）", "en": "Thursday 4 September 2014",
                "ko": "2014년 9월 4일 (목)", "ru": "четверг, 4 сентября 2014\u202fг."}
    for code, text in expected.items():
        with in_language(code):
            assert show_day(day) == text
    with in_language("ja"):
        assert show_date(day) == "2014年9月4日"


# --- mail in the recipient's language and script ------------------------------------------


@pytest.fixture
def tomsk(session) -> Assembly:
    assembly = load_tomsk_2014(session)
    create_user(session, "sec@example.org", Role.SECRETARIAT, display_name="高橋 健二",
                language="ja")
    create_user(session, "jkt@example.org", Role.LIAISON, None, "JKT",
                display_name="鈴木 花子", language="ja")
    session.commit()
    return assembly


def _user(session, email: str) -> User:
    user = session.scalar(select(User).where(User.email == email))
    assert user is not None
    return user


def _city(session, code: str) -> MemberCity:
    city = session.scalar(select(MemberCity).where(MemberCity.code == code))
    assert city is not None
    return city


def _last_mail(session, address: str, kind: str) -> OutboxMessage:
    message = session.scalar(select(OutboxMessage).where(
        OutboxMessage.to_address == address, OutboxMessage.kind == kind)
        .order_by(OutboxMessage.id.desc()))
    assert message is not None
    return message


def test_a_japanese_liaison_invitation_is_japanese_and_addressed_with_sama(session, tomsk
                                                                           ) -> None:
    invite_liaison(session, _city(session, "SEL"), "seoul.liaison@example.org", "ja",
                   _user(session, "sec@example.org"), name="鈴木 花子")
    message = _last_mail(session, "seoul.liaison@example.org", "invitation")
    assert message.language == "ja" and message.html_body
    assert_japanese(message.subject, message.text_body, message.html_body, "鈴木 花子")


def test_a_proxy_verification_is_japanese_and_delivered_as_text_and_html(
        session, tomsk, celery_worker, settings) -> None:
    assembly = tomsk
    letter = submit_letter(session, assembly, _city(session, "JKT"), _city(session, "TYO"),
                           signatory_name="Signatory", user=_user(session, "jkt@example.org"),
                           document=Document(PDF, "letter.pdf"),
                           now=assembly.proxy_deadline.replace(year=2014, month=8, day=1))
    session.commit()
    verify_letter(session, letter, _user(session, "sec@example.org"))
    session.commit()
    mail = wait_for(lambda: [m for m in dropped_mail(settings)
                             if m["To"].addresses[0].addr_spec == "jkt@example.org"])
    delivered = mail[-1]
    assert delivered.get_content_type() == "multipart/alternative"
    text = delivered.get_body(("plain",)).get_content()
    html = delivered.get_body(("html",)).get_content()
    assert_japanese(str(delivered["Subject"]), text, html, "鈴木 花子")
    assert "東京" in text  # the holder, in Japanese


def test_a_default_reminder_is_japanese_for_a_japanese_liaison(session, tomsk, settings) -> None:
    reminder = create_default_reminders(session, tomsk)[2]  # proxy letter, 7 days before
    session.commit()
    assert reminder.subject.get("ja")
    person = Recipient(address="jkt@example.org", name="鈴木 花子", language="ja",
                       timezone="Asia/Jakarta", city=_city(session, "JKT"))
    message = render(session, reminder, person, settings)
    assert_japanese(message.subject, message.text, message.html, "鈴木 花子")
    assert "Asia/Jakarta" in message.text  # the deadline with its zone


def test_the_summary_ready_mail_is_japanese(session, tomsk, celery_worker) -> None:
    request_summary(session, tomsk, _user(session, "sec@example.org"), "ja")

    def sent() -> OutboxMessage | None:
        session.expire_all()
        return session.scalar(select(OutboxMessage).where(
            OutboxMessage.kind == "summary_ready"))

    message = wait_for(sent, timeout=180)
    assert_japanese(message.subject, message.text_body, message.html_body, "高橋 健二")


def test_a_korean_delegate_gets_a_korean_invitation_and_a_korean_feed(
        session, tomsk, client: FlaskClient) -> None:
    tomsk.title = {**tomsk.title, "ko": "동북아시아 자치단체연합 제13회 총회"}
    seoul = _city(session, "SEL")
    secretariat = _user(session, "sec@example.org")  # registration closed in 2014
    delegate = add_delegate(session, tomsk, seoul, {
        "family_name": "Oh", "given_name": "Se-hoon", "name_local": "오세훈",
        "email": "oh@example.org", "language": "ko"}, secretariat)
    session.commit()
    _invitation, token = invite_delegate(session, delegate, secretariat)
    session.commit()
    message = _last_mail(session, "oh@example.org", "delegate_invitation")
    assert message.language == "ko"
    assert "동북아시아 자치단체연합 제13회 총회" in message.subject
    assert "오세훈" in message.text_body and "Se-hoon" not in message.text_body
    assert not english_in(message.subject, message.text_body, visible_text(message.html_body))
    assert re.search(r"[\uac00-\ud7af]{2,}", message.text_body.split("\n")[2])  # Hangul prose
    # The personal feed is named in Korean with the Hangul name.
    assert feed_name(tomsk, "ko", delegate) == "동북아시아 자치단체연합 제13회 총회 — 오세훈"
    # The delegate's page speaks Korean (no login, no cookie, an English browser).
    page = client.get(f"/d/{token}", headers={"Accept-Language": "en"})
    assert page.status_code == 200
    assert '<html lang="ko">' in page.get_data(as_text=True)
    # … unless the reader chooses another language with the switch.
    switched = client.get(f"/d/{token}?lang=en", headers={"Accept-Language": "en"})
    assert '<html lang="en">' in switched.get_data(as_text=True)


def test_public_pages_follow_the_browser_and_the_switch_overrides(app: Flask,
                                                                  client: FlaskClient) -> None:
    for header, expected in (("ko-KR,ko;q=0.9,en;q=0.5", "ko"), ("zh-TW,zh;q=0.8", "zh-Hant"),
                             ("ru", "ru"), ("fr-FR, th;q=0.5", "th"), ("de", "en")):
        html = client.get("/", headers={"Accept-Language": header}).get_data(as_text=True)
        assert f'<html lang="{expected}">' in html, header
    html = client.get("/?lang=mn", headers={"Accept-Language": "ko"}).get_data(as_text=True)
    assert '<html lang="mn">' in html


# --- a tenth language: one registry entry and one catalogue --------------------------------


@pytest.fixture
def french(tmp_path: Path) -> Iterator[Language]:
    """fr with its catalogue compiled into a temporary folder; nothing else is touched."""
    catalogue = Catalog(locale="fr", domain="messages")
    for msgid, msgstr in {
        "Dear %(name)s,": "Madame, Monsieur %(name)s,",
        "Please confirm your registration for %(assembly)s":
            "Veuillez confirmer votre inscription à %(assembly)s",
        "You are registered for %(assembly)s.\n\nCheck your details and choose optional "
        "visits here (your personal link; do not share it):\n%(link)s\n":
            "Vous êtes inscrit(e) à %(assembly)s.\n\nVérifiez vos données et choisissez les "
            "visites facultatives ici (lien personnel, à ne pas partager) :\n%(link)s\n",
        "Your programme and personal calendar (to subscribe to in your calendar app):\n"
        "%(link)s\n": "Votre programme et votre agenda personnel (à ajouter à votre "
                      "application d'agenda) :\n%(link)s\n",
        TEXTS["start"]["subject"]: "{{ assembly_title }} commence le {{ deadline }}",
    }.items():
        catalogue.add(msgid, msgstr)
    folder = tmp_path / "fr" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    with (folder / "messages.mo").open("wb") as handle:
        write_mo(handle, catalogue)
    entry = Language("fr", "Français", "fr", "French", date_format="d MMMM y",
                     day_format="EEEE d MMMM y", catalogue=str(tmp_path / "fr"))
    REGISTRY["fr"] = entry
    i18n.translations.cache_clear()
    try:
        yield entry
    finally:
        del REGISTRY["fr"]
        i18n.translations.cache_clear()


def test_a_tenth_language_needs_only_its_entry_and_catalogue(session, tomsk, french,
                                                               client: FlaskClient) -> None:
    with in_language("fr"):
        assert show_day(date(2014, 9, 4)) == "jeudi 4 septembre 2014"
    tomsk.title = {**tomsk.title, "fr": "13e Assemblée générale de l'ANMC21"}
    secretariat = _user(session, "sec@example.org")
    delegate: Delegate = add_delegate(session, tomsk, _city(session, "TOF"), {
        "family_name": "Dupont", "given_name": "Marie", "email": "marie@example.org",
        "language": "fr"}, secretariat)
    session.commit()
    invite_delegate(session, delegate, secretariat)
    session.commit()
    message = _last_mail(session, "marie@example.org", "delegate_invitation")
    assert message.subject == ("Veuillez confirmer votre inscription à 13e Assemblée générale "
                               "de l'ANMC21")
    assert message.text_body.startswith("Madame, Monsieur Marie DUPONT,\n\nVous êtes inscrit(e)")
    assert '<html lang="fr">' in message.html_body
    assert feed_name(tomsk, "fr", delegate) == "13e Assemblée générale de l'ANMC21 — Marie DUPONT"
    # The API takes French texts like any other registered language's, the pages speak it.
    secret = issue_token(session, "sec@example.org")
    session.commit()
    answer = client.patch(f"/api/v1/assemblies/{tomsk.slug}",
                          json={"venue": {"fr": "Université d'État de Tomsk"}},
                          headers={"Authorization": f"Bearer {secret}"})
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json()["venue"]["fr"] == "Université d'État de Tomsk"
    refused = client.patch(f"/api/v1/assemblies/{tomsk.slug}", json={"venue": {"xx": "?"}},
                           headers={"Authorization": f"Bearer {secret}"})
    assert refused.status_code == 422
    page = client.get("/?lang=fr")
    assert '<html lang="fr">' in page.get_data(as_text=True)


def test_migration_0018_goes_down_and_up(tmp_path: Path) -> None:
    """The host organisation and sitting days columns come and go with 0018 (own SQLite
    file: the shared test database stays at head)."""
    from alembic import command
    from sqlalchemy import create_engine, inspect

    from models.migrate import alembic_config, upgrade

    url = f"sqlite:///{tmp_path / 'm.db'}"
    upgrade(url)
    engine = create_engine(url)

    def columns() -> set[str]:
        with engine.connect() as conn:
            return {c["name"] for c in inspect(conn).get_columns("assemblies")}

    assert {"host_organisation", "sitting_days"} <= columns()
    command.downgrade(alembic_config(url), "0017")
    assert not {"host_organisation", "sitting_days"} & columns()
    upgrade(url)
    assert {"host_organisation", "sitting_days"} <= columns()
    engine.dispose()


def test_the_report_prints_the_roll_host_and_sitting_days_as_the_seed(session, tomsk) -> None:
    from services.summaries.report import build_report

    with in_language("ja"):
        report = build_report(session, tomsk, "ja")
    roll = {entry.city_code: entry for entry in report.roll}
    assert roll["BKK"].heading == "【バンコク / Bangkok】"
    assert roll["BKK"].english == "Ms. Nitaya JESSADACHATR (Minister, Royal Thai Embassy)"
    assert roll["BKK"].second == "ニタヤ・ジェサダチャル 在ロシア・タイ大使館公使"
    assert roll["TYO"].english == "Mr. MASUZOE Yoichi (Governor of Tokyo)"  # his order
    assert roll["TYO"].second.startswith("舛添 要一 ")
    assert roll["HAN"].english.startswith("Mr. LE Hong Son (")  # family name first
    assert roll["DEL"].english == "Unable to attend (欠席)"
    assert roll["JKT"].english.startswith("Unable to attend (欠席 ※")  # a proxy letter
    assert report.host == "トムスク州"
    assert report.sitting == "2014年9月5日（金）、2014年9月6日（土）"
    assert report.dates == "2014年9月4日 – 2014年9月6日"  # the programme's span
    with in_language("en"):
        english = build_report(session, tomsk, "en")
    assert english.host == "Tomsk Oblast"
    assert english.sitting == "Friday 5 September 2014 and Saturday 6 September 2014"
