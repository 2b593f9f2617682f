"""The outbox: a queued message is delivered by the worker after commit, into the mail drop."""

from __future__ import annotations

import pytest
from flask import Flask

from config import Settings
from models import MailStatus, OutboxMessage
from services.mail.outbox import HeaderInjectionError, queue_message
from tests.conftest import dropped_mail, wait_for
from webapp.extensions import db


def test_a_queued_message_reaches_the_mail_drop(app: Flask, settings: Settings,
                                                celery_worker: object) -> None:
    if settings.smtp_url is not None:
        pytest.skip("SMTP configured: the mail drop is not used")
    with app.app_context():
        message = queue_message(db.session, kind="test", to_address="yoichi@example.org",
                                to_name="舛添 要一", subject="総会のご案内", language="ja",
                                text_body="トムスクでお会いしましょう。",
                                html_body="<p>トムスクでお会いしましょう。</p>")
        db.session.commit()
        message_id, header_id = message.id, message.message_id
    def sent() -> bool:
        with app.app_context():
            return db.session.get(OutboxMessage, message_id).status is MailStatus.SENT

    assert wait_for(sent)
    delivered = next(m for m in dropped_mail(settings) if m["Message-ID"] == header_id)
    assert "yoichi@example.org" in delivered["To"]
    assert delivered["Subject"] == "総会のご案内"
    sent_parts = delivered
    assert {part.get_content_type() for part in sent_parts.walk()} >= {"text/plain",
                                                                       "text/html"}


@pytest.mark.parametrize("field", ["to_address", "to_name", "subject"])
def test_header_values_refuse_line_breaks(session, field: str) -> None:
    values = {"to_address": "a@example.org", "to_name": "A", "subject": "Hello"}
    values[field] = "x\r\nBcc: victim@example.org"
    with pytest.raises(HeaderInjectionError):
        queue_message(session, kind="test", text_body="body", **values)
    assert session.query(OutboxMessage).count() == 0
