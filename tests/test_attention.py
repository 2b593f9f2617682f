"""What needs attention (issue 12): the dashboard's section per assembly and the counts on the
navigation links; a liaison's My city: invitation states, the letters a holder carries, the
role the add-person form suggests."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from models import (
    Assembly,
    AssemblyStatus,
    Delegate,
    Delegation,
    DelegationStatus,
    MailStatus,
    MemberCity,
    OutboxMessage,
    ReminderAudience,
    Role,
    SummaryJob,
    SummaryStatus,
    User,
)
from services.attention import needs_attention
from services.demo import load_tomsk_2014
from services.reminders.defaults import create_default_reminders
from tests.conftest import csrf_token, login
from webapp.extensions import db

SLUG = "anmc21-tomsk-2014"


def _open_tomsk(app: Flask) -> None:
    with app.app_context():
        assembly = load_tomsk_2014(db.session)
        assembly.status = AssemblyStatus.OPEN
        assembly.registration_deadline = datetime.now(UTC) + timedelta(days=2, hours=1)
        assembly.proxy_deadline = datetime.now(UTC) + timedelta(days=4)
        for delegation in db.session.scalars(select(Delegation).join(MemberCity).where(
                MemberCity.code.in_(("DEL", "SIN")))):
            delegation.status = DelegationStatus.UNDECIDED
        create_default_reminders(db.session, assembly)
        db.session.commit()


def test_the_dashboard_lists_what_needs_attention_with_links(
        app: Flask, client: FlaskClient, make_user: Callable[..., User]) -> None:
    _open_tomsk(app)
    make_user("n.sec@example.org", Role.SECRETARIAT)
    with app.app_context():
        assembly = db.session.scalar(select(Assembly))
        db.session.add(OutboxMessage(kind="reminder", assembly_id=assembly.id,
                                     to_address="x@example.org", subject="s", text_body="b",
                                     status=MailStatus.FAILED, last_error="550 no such user"))
        db.session.add(SummaryJob(assembly_id=assembly.id, status=SummaryStatus.FAILED,
                                  data_version="0" * 64, error="boom"))
        db.session.commit()
        attention = needs_attention(db.session, assembly)
        # Delhi and Singapore have not answered and have no liaison account: the reminder to
        # undecided liaisons reaches nobody, and the page says why.
        gaps = {(g.reminder.audience, g.reason) for g in attention.empty_reminders}
        assert (ReminderAudience.UNDECIDED_LIAISONS, "no_liaison_accounts") in gaps
        assert [c.code for c in attention.undecided] == ["DEL", "SIN"]
        assert (attention.failed_mail, attention.failed_jobs) == (1, 1)

    login(client, "n.sec@example.org")
    page = client.get("/secretariat/").get_data(as_text=True)
    assert "2 cities have not answered yet" in page and "registration closes in 2 days" in page
    assert "1 message could not be delivered" in page
    assert f'href="/secretariat/assemblies/{SLUG}/summaries">1 summary or report failed' in page
    assert "A reminder would reach nobody" in page and "have no liaison account" in page
    assert "1 failed" in page  # on the Mail log link of the navigation

    # A liaison account for each undecided city: the reminder reaches someone again.
    make_user("n.del@example.org", Role.LIAISON, city="DEL")
    with app.app_context():
        assembly = db.session.scalar(select(Assembly))
        assert not any(g.reminder.audience is ReminderAudience.UNDECIDED_LIAISONS
                       for g in needs_attention(db.session, assembly).empty_reminders)
        # A later successful run clears the failed one; closing clears the undecided.
        db.session.add(SummaryJob(assembly_id=assembly.id, status=SummaryStatus.DONE,
                                  data_version="0" * 64))
        assembly.status = AssemblyStatus.CLOSED
        db.session.commit()
        later = needs_attention(db.session, assembly)
        assert (later.failed_jobs, later.undecided) == (0, [])
    page = client.get("/secretariat/").get_data(as_text=True)
    assert "1 summary or report failed" not in page and "have not answered yet" not in page


def test_my_city_shows_invitation_states_and_suggests_the_next_role(
        app: Flask, client: FlaskClient, make_user: Callable[..., User],
        settings: Any) -> None:
    _open_tomsk(app)
    make_user("n.hkt@example.org", Role.LIAISON, city="DEL")
    login(client, "n.hkt@example.org")

    def states() -> list[str]:  # Delhi's delegation: KUMAR only
        import re

        return re.findall(r'data-state="([a-z_]+)"',
                          client.get(f"/my/{SLUG}").get_data(as_text=True))

    first = client.get(f"/my/{SLUG}").get_data(as_text=True)
    assert '<option selected value="representative">' in first
    token = csrf_token(first)
    assert client.post(f"/my/{SLUG}/delegates", data={
        "csrf_token": token, "family_name": "KUMAR", "given_name": "Anil",
        "role": "representative", "email": "anil@example.org", "language": "en",
        "name_order": "given_first"}).status_code == 302
    after = client.get(f"/my/{SLUG}").get_data(as_text=True)
    assert '<option selected value="delegate">' in after  # the representative is there
    assert states() == ["not_sent"]

    with app.app_context():
        delegate_id = db.session.scalar(select(Delegate.id).where(Delegate.family_name == "KUMAR"))
    assert client.post(f"/my/{SLUG}/delegates/{delegate_id}/invite",
                       data={"csrf_token": token}).status_code == 302
    assert states() == ["sent"]
    with app.app_context():
        mail = db.session.scalar(select(OutboxMessage).where(
            OutboxMessage.kind == "delegate_invitation"))
        link = next(w for w in mail.text_body.split() if "/d/" in w)
    assert client.get(link.replace(settings.base_url, "")).status_code == 200
    assert states() == ["opened"]


def test_a_holder_sees_the_letters_it_carries_and_others_do_not(
        app: Flask, client: FlaskClient, make_user: Callable[..., User]) -> None:
    _open_tomsk(app)
    make_user("h.tyo@example.org", Role.LIAISON, city="TYO")
    make_user("h.sel@example.org", Role.LIAISON, city="SEL")
    login(client, "h.tyo@example.org")
    page = client.get(f"/my/{SLUG}").get_data(as_text=True)
    assert 'data-testid="held-letter" data-grantor="JKT"' in page
    client.post("/logout", data={"csrf_token": csrf_token(page)})
    login(client, "h.sel@example.org")
    assert "held-letter" not in client.get(f"/my/{SLUG}").get_data(as_text=True)



def test_a_favicon_for_every_page(client: FlaskClient) -> None:
    page = client.get("/").get_data(as_text=True)
    assert '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in page
    for url in ("/static/favicon.svg", "/favicon.ico"):
        response = client.get(url)
        assert response.status_code == 200 and response.mimetype == "image/svg+xml"
        assert b"<svg" in response.get_data()
