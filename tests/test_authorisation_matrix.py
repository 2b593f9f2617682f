"""The authorisation matrix: every route and method of the app × secretariat / own liaison /
another city's liaison / delegate / anonymous, with the status each must get.

Generated from app.url_map: a route without an entry below fails the test, so a new page or
API operation cannot escape the matrix. "Own" is Jakarta (absent, with a letter to Tokyo and
two delegates); "other" is Tokyo's liaison.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from models import (
    AssemblyStatus,
    Decision,
    MemberCity,
    OutboxMessage,
    ProgrammeItem,
    Role,
    SideEvent,
    SideEventContribution,
    SummaryJob,
    User,
)
from services.accounts import issue_token
from services.calendar.tokens import issue_token as issue_token_for_feed
from services.checkin.badges import build_badges, request_badges
from services.checkin.staff import assign_staff
from services.delegations import add_delegate, set_delegation_status
from services.demo import load_tomsk_2014
from services.invitations import invite_delegate, invite_liaison
from services.proxies import Document, submit_letter
from services.reminders.defaults import create_default_reminders
from services.summaries.building import render_report
from services.summaries.report import data_version
from tests.conftest import csrf_token, login
from tests.registration_helpers import PDF
from webapp.extensions import db

SLUG = "anmc21-tomsk-2014"
ROLES = ("secretariat", "own", "other", "delegate", "anonymous", "staff")
OK, CREATED, NO_CONTENT, REDIRECT = 200, 201, 204, 302
# Statuses per role, in the order of ROLES; a tuple allows several.
SEC_PAGE = (OK, 403, 403, 403, REDIRECT)
SEC_POST_FORM = (422, 403, 403, 403, REDIRECT)  # empty form: says what is wrong
SEC_POST_ACTION = (REDIRECT, 403, 403, 403, REDIRECT)
MY_PAGE = (OK, OK, OK, 403, REDIRECT)  # "other" sees its own city, never Jakarta's
MY_FORM = (422, 422, 422, 403, REDIRECT)
MY_OBJECT = (OK, OK, 404, 403, REDIRECT)  # Jakarta's delegate: unknown to Tokyo
MY_OBJECT_FORM = (REDIRECT, REDIRECT, 404, 403, REDIRECT)  # unchanged: saved as is
MY_OBJECT_ACTION = (REDIRECT, REDIRECT, 404, 403, REDIRECT)
EVERYONE = (OK,) * 5
API_ANY = (OK, OK, OK, OK, 401)
API_SEC = (OK, 403, 403, 403, 401)
API_SEC_CREATE = (CREATED, 403, 403, 403, 401)
API_CITY = (OK, OK, 403, 403, 401)  # the delegation of Jakarta
API_OWN_LIST = (OK, OK, OK, 403, 401)  # a liaison's list holds its own city only
API_OBJECT = (OK, OK, 404, 403, 401)
API_DECIDE = ((OK, 409), 403, 403, 403, 401)
API_SEC_DELETE = (NO_CONTENT, 403, 403, 403, 401)

EXPECTED: dict[tuple[str, str], tuple[Any, ...]] = {
    ("public.index", "GET"): EVERYONE,
    ("public.favicon", "GET"): EVERYONE,
    ("public.assembly", "GET"): EVERYONE,
    ("static", "GET"): EVERYONE,
    ("health.healthz", "GET"): ((OK, 503),) * 5,
    ("metrics.metrics", "GET"): (404,) * 5,  # only with METRICS_TOKEN (test_operations)
    ("i18n.switch_language", "GET"): (REDIRECT,) * 5,
    ("auth.login", "GET"): EVERYONE,
    ("auth.login", "POST"): EVERYONE,  # the form again, with what is wrong
    ("auth.logout", "POST"): (REDIRECT,) * 5,
    ("openapi.spec", "GET"): EVERYONE,
    ("api_docs.docs", "GET"): EVERYONE,
    ("secretariat.dashboard", "GET"): SEC_PAGE,
    ("secretariat.worker_check", "POST"): SEC_POST_ACTION,
    ("secretariat.audit", "GET"): SEC_PAGE,
    ("api.list_audit", "GET"): API_SEC,
    ("api.export_personal_data", "GET"): API_SEC,
    ("api.erase_personal_data", "DELETE"): API_SEC_DELETE,
    ("registration_admin.cities", "GET"): SEC_PAGE,
    ("registration_admin.cities", "POST"): SEC_POST_FORM,
    ("registration_admin.edit_city", "GET"): SEC_PAGE,
    ("registration_admin.edit_city", "POST"): SEC_POST_ACTION,  # unchanged: saved as is
    ("registration_admin.invite", "POST"): SEC_POST_ACTION,
    ("registration_admin.new_assembly", "GET"): SEC_PAGE,
    ("registration_admin.new_assembly", "POST"): SEC_POST_FORM,
    ("registration_admin.edit_assembly", "GET"): SEC_PAGE,
    ("registration_admin.edit_assembly", "POST"): SEC_POST_FORM,
    ("registration_admin.registration_status", "POST"): SEC_POST_ACTION,
    ("registration_admin.attendance", "GET"): SEC_PAGE,
    ("registration_admin.proxies", "GET"): SEC_PAGE,
    ("registration_admin.verify", "POST"): SEC_POST_ACTION,
    ("registration_admin.reject", "POST"): SEC_POST_ACTION,
    ("registration.my_assemblies", "GET"): (403, OK, OK, 403, REDIRECT),
    ("registration.my_city", "GET"): MY_PAGE,
    ("registration.my_status", "POST"): MY_FORM,
    ("registration.my_add_delegate", "POST"): MY_FORM,
    ("registration.my_import", "POST"): MY_FORM,
    ("registration.my_letter", "POST"): MY_FORM,
    ("registration.my_edit_delegate", "GET"): MY_OBJECT,
    ("registration.my_edit_delegate", "POST"): MY_OBJECT_FORM,
    ("registration.my_cancel_delegate", "POST"): MY_OBJECT_ACTION,
    ("registration.my_restore_delegate", "POST"): MY_OBJECT_ACTION,
    ("registration.my_invite_delegate", "POST"): MY_OBJECT_ACTION,
    ("registration.letter_document", "GET"): (OK, OK, 404, 404, REDIRECT),
    # The personal link is the key: whoever holds it is the delegate.
    ("registration.delegate_page", "GET"): EVERYONE,
    ("registration.delegate_page", "POST"): (REDIRECT,) * 5,  # confirmed as is
    ("registration.accept_invitation", "GET"): (404,) * 5,  # an unknown token
    ("registration.accept_invitation", "POST"): (404,) * 5,
    ("api.list_cities", "GET"): API_ANY,
    ("api.get_city", "GET"): API_ANY,
    ("api.create_city_api", "POST"): API_SEC_CREATE,
    ("api.update_city_api", "PATCH"): API_SEC,
    ("api.list_assemblies", "GET"): API_ANY,
    ("api.get_assembly", "GET"): API_ANY,
    ("api.create_assembly_api", "POST"): API_SEC_CREATE,
    ("api.update_assembly_api", "PATCH"): API_SEC,
    ("api.attendance", "GET"): API_SEC,
    ("api.get_delegation", "GET"): API_CITY,
    ("api.put_delegation", "PUT"): API_CITY,
    ("api.list_delegates", "GET"): API_OWN_LIST,
    ("api.create_delegate", "POST"): (CREATED, CREATED, 403, 403, 401),
    ("api.get_delegate", "GET"): API_OBJECT,
    ("api.patch_delegate", "PATCH"): API_OBJECT,
    ("api.delete_delegate", "DELETE"): API_OBJECT,
    ("api.import_delegates", "POST"): (CREATED, CREATED, 403, 403, 401),
    ("api.invite_liaison_api", "POST"): API_SEC_CREATE,
    ("api.list_proxies", "GET"): API_OWN_LIST,
    ("api.create_proxy", "POST"): (CREATED, CREATED, 403, 403, 401),
    ("api.get_proxy", "GET"): API_OBJECT,
    ("api.proxy_document", "GET"): API_OBJECT,
    ("api.verify_proxy", "POST"): API_DECIDE,
    ("api.reject_proxy", "POST"): API_DECIDE,
    # Summaries and the report (issue 6): the secretariat's alone.
    ("reports.summaries", "GET"): SEC_PAGE,
    ("reports.generate", "POST"): SEC_POST_ACTION,
    ("reports.summary", "GET"): (REDIRECT, 403, 403, 403, REDIRECT),
    ("reports.status", "GET"): SEC_PAGE,
    ("reports.retry", "POST"): SEC_POST_ACTION,
    ("reports.download", "GET"): SEC_PAGE,
    ("reports.report", "GET"): SEC_PAGE,
    ("reports.side_event_list", "GET"): SEC_PAGE,
    ("reports.side_event_list", "POST"): SEC_POST_FORM,
    ("reports.side_event", "GET"): SEC_PAGE,
    ("reports.side_event", "POST"): SEC_POST_FORM,
    ("reports.add_contribution", "POST"): SEC_POST_FORM,
    ("reports.delete_contribution", "POST"): SEC_POST_ACTION,
    ("reports.delete_side_event", "POST"): SEC_POST_ACTION,
    ("api.create_summary", "POST"): ((202, 200), 403, 403, 403, 401),
    ("api.list_summaries", "GET"): API_SEC,
    ("api.get_summary", "GET"): API_SEC,
    ("api.download_summary", "GET"): API_SEC,
    ("api.retry", "POST"): ((202, 409), 403, 403, 403, 401),  # a finished job: nothing to redo
    # Issue 4: the programme is public; editing it and delegates' links are the secretariat's.
    ("programme.page", "GET"): EVERYONE,
    ("programme.editor", "GET"): SEC_PAGE,
    ("programme.new_item", "GET"): SEC_PAGE,
    ("programme.new_item", "POST"): SEC_POST_FORM,
    ("programme.edit_item", "GET"): SEC_PAGE,
    ("programme.edit_item", "POST"): SEC_POST_FORM,
    ("programme.change_status", "POST"): SEC_POST_ACTION,
    ("programme.feed_tokens", "GET"): SEC_PAGE,
    ("programme.change_token", "POST"): SEC_POST_ACTION,  # revoke
    ("calendar.public", "GET"): EVERYONE,
    # A valid feed token is the key to the personal feed and page, like the delegate page.
    ("calendar.personal", "GET"): EVERYONE,
    ("calendar.my_programme", "GET"): EVERYONE,
    ("calendar.set_alarm", "POST"): (REDIRECT,) * 5,  # no choice: says so on the page
    ("calendar.rotate", "POST"): (REDIRECT,) * 5,  # to the page at the new link
    ("api.list_programme", "GET"): API_ANY,
    ("api.create_programme_item", "POST"): API_SEC_CREATE,
    ("api.update_programme_item", "PATCH"): API_SEC,
    ("api.revoke_feed_token", "DELETE"): API_SEC_DELETE,
    # Issue 5: mail and reminders are the secretariat's.
    ("mailing.mail_log", "GET"): SEC_PAGE,
    ("mailing.mail_message", "GET"): SEC_PAGE,
    ("mailing.mail_resend", "POST"): SEC_POST_ACTION,  # not failed: says so
    ("mailing.reminders", "GET"): SEC_PAGE,
    ("mailing.reminder_form", "GET"): SEC_PAGE,  # new and edit
    ("mailing.reminder_form", "POST"): SEC_POST_FORM,
    ("mailing.reminder_pause", "POST"): SEC_POST_ACTION,
    ("api.list_reminders", "GET"): API_SEC,
    ("api.create_reminder", "POST"): API_SEC_CREATE,
    ("api.get_reminder", "GET"): API_SEC,
    ("api.update_reminder", "PATCH"): API_SEC,
    ("api.delete_reminder", "DELETE"): API_SEC_DELETE,
    # Issue 11: setup is gone once there is a network; settings and cities at scale are the
    # secretariat's.
    ("network.setup", "GET"): (404,) * 5,
    ("network.setup", "POST"): (404,) * 5,
    ("network.settings", "GET"): SEC_PAGE,
    ("network.settings", "POST"): SEC_POST_ACTION,  # unchanged: saved as is
    ("registration_admin.import_cities_page", "POST"): SEC_POST_FORM,
    ("registration_admin.invite_in_bulk", "POST"): SEC_POST_FORM,
    ("registration_admin.invitation_action", "POST"): SEC_POST_ACTION,  # void
    ("programme.issue_all", "POST"): (OK, 403, 403, 403, REDIRECT),  # the CSV of links
    ("api.get_network", "GET"): API_ANY,
    ("api.update_network_api", "PATCH"): API_SEC,
    # Issue 14: the secretariat decides; everyone reads what was adopted (the demo's Tomsk
    # Declaration), a second adoption or a vote on it is a conflict.
    ("decisions.decision_list", "GET"): SEC_PAGE,
    ("decisions.decision_list", "POST"): SEC_POST_FORM,
    ("decisions.decision_page", "GET"): SEC_PAGE,
    ("decisions.decision_action", "POST"): SEC_POST_ACTION,
    ("decisions.record_vote", "POST"): SEC_POST_ACTION,
    ("decisions.sign", "POST"): SEC_POST_ACTION,
    ("decisions.minutes_page", "GET"): SEC_PAGE,
    ("decisions.minutes_page", "POST"): SEC_POST_ACTION,  # empty minutes: saved
    ("decisions.public_decisions", "GET"): EVERYONE,
    ("decisions.public_decision", "GET"): EVERYONE,
    ("api.list_decisions", "GET"): EVERYONE,
    ("api.create_decision_op", "POST"): API_SEC_CREATE,
    ("api.get_decision", "GET"): EVERYONE,
    ("api.update_decision_op", "PATCH"): API_SEC,
    ("api.open_decision_op", "POST"): (409, 403, 403, 403, 401),
    ("api.put_vote", "PUT"): (409, 403, 403, 403, 401),
    ("api.close_decision_op", "POST"): (409, 403, 403, 403, 401),
    ("api.adopt_decision_op", "POST"): (409, 403, 403, 403, 401),
    ("api.list_signatories", "GET"): EVERYONE,
    ("api.add_signatory_op", "POST"): (409, 403, 403, 403, 401),  # Jakarta was not present
    ("api.get_minutes", "GET"): API_ANY,
    ("api.put_minutes", "PUT"): API_SEC,
    # Issue 15: badges are the secretariat's; check-in is the secretariat's and the door
    # staff's (a sixth column, below), never a liaison's.
    ("api.create_checkin", "POST"): API_SEC_CREATE,
    ("api.delete_checkin", "DELETE"): API_SEC_DELETE,
    ("api.list_checkins", "GET"): API_SEC,
    ("api.search_checkins", "GET"): (422, 403, 403, 403, 401),  # no q: says so
    ("api.create_badges", "POST"): (202, 403, 403, 403, 401),
    ("api.get_badge_job", "GET"): API_SEC,
    ("api.badge_download", "GET"): API_SEC,
    ("api.reissue_badge_api", "POST"): API_SEC_CREATE,
    ("api.revoke_badge_api", "DELETE"): API_SEC_DELETE,
    ("checkin.scanner", "GET"): SEC_PAGE,
    ("checkin.scan", "POST"): (400, 403, 403, 403, REDIRECT),  # no JSON: says so
    ("checkin.undo", "POST"): (404, 403, 403, 403, REDIRECT),  # undone already by the API
    ("checkin.search", "GET"): SEC_PAGE,
    ("checkin.person", "GET"): SEC_PAGE,
    ("checkin.board", "GET"): SEC_PAGE,
    ("checkin.board_json", "GET"): SEC_PAGE,
}

# Door staff (assigned to Tomsk): the check-in routes, and otherwise 403 wherever a login or
# a token is needed; what anybody may open (public pages, a personal link) stays as it is.
STAFF: dict[tuple[str, str], Any] = {
    ("api.create_checkin", "POST"): CREATED,
    ("api.delete_checkin", "DELETE"): NO_CONTENT,
    ("api.list_checkins", "GET"): OK,
    ("api.search_checkins", "GET"): 422,
    ("checkin.scanner", "GET"): OK,
    ("checkin.scan", "POST"): 400,
    ("checkin.undo", "POST"): 404,
    ("checkin.search", "GET"): OK,
    ("checkin.person", "GET"): OK,
    ("checkin.board", "GET"): 403,
    ("checkin.board_json", "GET"): 403,
    ("auth.logout", "POST"): REDIRECT,
    ("metrics.metrics", "GET"): 403,  # staff are kept to the door pages before any route
    # Adopted decisions are public: a door-staff token reads them as anybody may.
    ("api.list_decisions", "GET"): OK,
    ("api.get_decision", "GET"): OK,
    ("api.list_signatories", "GET"): OK,
}


def expected_for(endpoint: str, method: str, role: str) -> Any:
    if role != "staff":
        return EXPECTED[(endpoint, method)][ROLES.index(role)]
    if (endpoint, method) in STAFF:
        return STAFF[(endpoint, method)]
    if endpoint.startswith("api."):
        return 403  # a staff token opens the check-in operations only
    everyone = EXPECTED[(endpoint, method)]
    # The same for everybody (a public page, a personal link): the same for staff too.
    return everyone[0] if len(set(everyone)) == 1 else 403


def _world(app: Flask, make_user: Callable[..., User]) -> dict[str, Any]:
    """Tomsk 2014, open; Jakarta absent with a letter to Tokyo and three delegates, two of
    them with a personal feed; the default reminders; an invitation in the outbox."""
    with app.app_context():
        assembly = load_tomsk_2014(db.session)
        db.session.commit()
    for email, role, city in (("m.sec@example.org", Role.SECRETARIAT, None),
                              ("m.jkt@example.org", Role.LIAISON, "JKT"),
                              ("m.tyo@example.org", Role.LIAISON, "TYO"),
                              ("m.delegate@example.org", Role.DELEGATE, None),
                              ("m.staff@example.org", Role.STAFF, None)):
        make_user(email, role, city=city)
    with app.app_context():
        session = db.session
        assembly = session.merge(assembly)
        assembly.status = AssemblyStatus.OPEN
        assembly.registration_deadline = assembly.proxy_deadline = datetime(2099, 1, 1,
                                                                            tzinfo=UTC)
        sec = session.scalar(select(User).where(User.email == "m.sec@example.org"))
        jakarta = session.scalar(select(MemberCity).where(MemberCity.code == "JKT"))
        tokyo = session.scalar(select(MemberCity).where(MemberCity.code == "TYO"))
        set_delegation_status(session, assembly, jakarta, _absent(), sec)
        main = add_delegate(session, assembly, jakarta, {
            "family_name": "Widodo", "role": "representative", "email": "m.joko@example.org"},
            sec)
        victim = add_delegate(session, assembly, jakarta, {"family_name": "Victim"}, sec)
        letter = submit_letter(session, assembly, jakarta, tokyo, signatory_name="Joko",
                               user=sec, document=Document(PDF, "letter.pdf"))
        spare = add_delegate(session, assembly, jakarta, {"family_name": "Spare"}, sec)
        _, token = invite_delegate(session, main, sec)
        liaison_invitation, _secret = invite_liaison(session, tokyo, "m.new.tyo@example.org",
                                                     "en", sec)
        # Separate links: rotating one and revoking another leave the main one working.
        feeds = {"feed": issue_token_for_feed(session, main),
                 "rotate_feed": issue_token_for_feed(session, victim)}
        issue_token_for_feed(session, spare)
        reminders = create_default_reminders(session, assembly)
        item = session.scalar(select(ProgrammeItem).where(
            ProgrammeItem.assembly_id == assembly.id).order_by(ProgrammeItem.id))
        message = session.scalar(select(OutboxMessage.id).order_by(OutboxMessage.id))
        tokens = {name: issue_token(session, email) for name, email in (
            ("secretariat", "m.sec@example.org"), ("own", "m.jkt@example.org"),
            ("other", "m.tyo@example.org"), ("delegate", "m.delegate@example.org"),
            ("staff", "m.staff@example.org"))}
        staff = session.scalar(select(User).where(User.email == "m.staff@example.org"))
        assign_staff(session, staff, SLUG)
        badges = request_badges(session, assembly, sec, city="JKT")
        # A summary built to the end, so that its files can be downloaded; the side events
        # the demo brings: the first is looked at, the last deleted, and one contribution of
        # the second deleted.
        job = SummaryJob(assembly_id=assembly.id, requested_by_id=sec.id, language="en",
                         data_version=data_version(session, assembly))
        session.add(job)
        session.commit()
        render_report(session, job.id, app.config["SOKAI_SETTINGS"])
        build_badges(session, badges.id, app.config["SOKAI_SETTINGS"])
        events = session.scalars(select(SideEvent).where(SideEvent.assembly_id == assembly.id)
                                 .order_by(SideEvent.id)).all()
        contribution = session.scalar(select(SideEventContribution.id).where(
            SideEventContribution.side_event_id == events[1].id))
        session.commit()
        assert item is not None and message is not None and contribution is not None
        decision = session.scalar(select(Decision.id).where(Decision.assembly_id == assembly.id))
        return {"decision": decision, "invitation": liaison_invitation.id,
                "main": main.id, "victim": victim.id, "spare": spare.id, "letter": letter.id,
                "token": token, "bearer": tokens, **feeds, "item": item.id,
                "reminder": reminders[0].id, "spare_reminder": reminders[1].id,
                "message": message, "job": job.id, "badges": badges.id,
                "event": events[0].id,
                "spare_event": events[-1].id, "contribution": contribution}


def _absent() -> Any:
    from models import DelegationStatus

    return DelegationStatus.ABSENT


def _url(app: Flask, endpoint: str, rule: Any, world: dict[str, Any]) -> str:
    values = {"slug": SLUG, "city": "JKT", "code": "JKT", "letter_id": world["letter"],
              "delegate_id": world["main"], "token": world["token"],
              "filename": "css/sokai.css", "status": "open", "item_id": world["item"],
              "reminder_id": world["reminder"], "message_id": world["message"],
              "action": "cancel", "job_id": world["job"], "fmt": "csv",
              "event_id": world["event"], "contribution_id": world["contribution"],
              "decision_id": world["decision"]}
    if endpoint == "decisions.decision_action":
        values["action"] = "withdraw"  # an adopted decision: refused, said on the page
    if endpoint == "reports.delete_side_event":
        values["event_id"] = world["spare_event"]
    if endpoint in ("registration.my_cancel_delegate", "api.delete_delegate"):
        values["delegate_id"] = world["victim"]
    if endpoint in ("api.revoke_feed_token", "programme.change_token"):
        values["delegate_id"], values["action"] = world["spare"], "revoke"
    if endpoint.startswith("calendar."):
        values["token"] = world["rotate_feed" if endpoint == "calendar.rotate" else "feed"]
    if endpoint in ("api.get_badge_job", "api.badge_download"):
        values["job_id"] = world["badges"]
    if endpoint == "api.delete_reminder":
        values["reminder_id"] = world["spare_reminder"]
    if endpoint == "api.erase_personal_data":
        values["delegate_id"] = world["spare"]
    if endpoint == "registration_admin.invitation_action":
        values["invitation_id"], values["action"] = world["invitation"], "void"
    if endpoint == "registration.accept_invitation":
        values["token"] = "not-a-real-token"
    with app.test_request_context():
        from flask import url_for

        query = {"city": "JKT"} if endpoint.startswith("registration.my_") else {}
        return url_for(endpoint, **{k: v for k, v in values.items() if k in rule.arguments},
                       **query)


_counter = iter(range(1, 10_000))


def _api_body(endpoint: str, world: dict[str, Any] | None = None) -> dict[str, Any]:
    n = next(_counter)
    if endpoint == "api.create_city_api":
        return {"json": {"code": f"NEW{n}", "name": {"en": f"New {n}"}, "country": "JP",
                         "timezone": "Asia/Tokyo"}}
    if endpoint == "api.update_city_api":
        return {"json": {"country": "ID"}}
    if endpoint == "api.create_assembly_api":
        return {"json": {"slug": f"new-{n}", "title": {"en": "New"}, "host_city": "TYO",
                         "timezone": "Asia/Tokyo", "starts_on": "2030-01-01",
                         "ends_on": "2030-01-02",
                         "registration_deadline": "2029-12-01T00:00:00+09:00",
                         "proxy_deadline": "2029-12-15T00:00:00+09:00"}}
    if endpoint == "api.update_assembly_api":
        return {"json": {"max_proxies_per_holder": 2}}
    if endpoint == "api.put_delegation":
        return {"json": {"status": "absent"}}
    if endpoint == "api.create_delegate":
        return {"json": {"city": "JKT", "family_name": f"Person {n}"}}
    if endpoint == "api.patch_delegate":
        return {"json": {"given_name": "Joko"}}
    if endpoint == "api.reject_proxy":
        return {"json": {"reason": "unreadable"}}
    if endpoint == "api.import_delegates":
        csv = f"family_name,role\nImported {n},delegate\n".encode()
        return {"data": {"file": (io.BytesIO(csv), "people.csv")},
                "content_type": "multipart/form-data"}
    if endpoint == "api.create_programme_item":
        return {"json": {"title": {"en": f"Item {n}"}, "starts_at": "2014-09-05T09:30",
                         "ends_at": "2014-09-05T10:30"}}
    if endpoint == "api.update_programme_item":
        return {"json": {"location": {"en": "Hall B"}}}
    if endpoint == "api.create_reminder":
        return {"json": {"anchor": "registration_deadline", "offset": "-P1D",
                         "audience": "undecided_liaisons",
                         "subject": {"en": "Reply", "ja": "ご回答"},
                         "body": {"en": "Dear {{ recipient_name }}", "ja": "{{ city }}"}}}
    if endpoint == "api.update_reminder":
        return {"json": {"offset": "-P2D"}}
    if endpoint == "api.update_network_api":
        return {"json": {"sender_name": "Secretariat"}}
    if endpoint == "api.invite_liaison_api":
        return {"json": {"email": "m.jkt@example.org"}}
    if endpoint == "api.create_decision_op":
        return {"json": {"title": {"en": f"Resolution {n}"}}}
    if endpoint in ("api.update_decision_op", "api.open_decision_op", "api.close_decision_op",
                    "api.adopt_decision_op"):
        return {"json": {}}
    if endpoint == "api.put_vote":
        return {"json": {"choice": "yes"}}
    if endpoint == "api.add_signatory_op":
        return {"json": {"delegate": "main"}}
    if endpoint == "api.put_minutes":
        return {"json": {"summary": {"en": "Opened."}}}
    if endpoint == "api.create_checkin":
        return {"json": {"delegate": (world or {}).get("main", 1)}}
    if endpoint == "api.create_proxy":
        return {"data": {"grantor": "JKT", "holder": "TYO", "signatory_name": "Joko",
                         "document": (io.BytesIO(PDF), "letter.pdf")},
                "content_type": "multipart/form-data"}
    return {}


def _operations(app: Flask) -> list[tuple[str, str, Any]]:
    ops = []
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            ops.append((rule.endpoint, method, rule))
    # Logging out last, so the client stays logged in for the rest; an erasure just before,
    # as it removes the summary's files (built again later) that the downloads read.
    return sorted(ops, key=lambda op: (op[0] == "auth.logout",
                                       op[0] == "api.erase_personal_data", op[0], op[1]))


def test_every_route_has_an_expectation(app: Flask) -> None:
    missing = [(endpoint, method) for endpoint, method, _ in _operations(app)
               if (endpoint, method) not in EXPECTED]
    assert not missing, f"add these routes to the authorisation matrix: {missing}"
    stale = set(EXPECTED) - {(e, m) for e, m, _ in _operations(app)}
    assert not stale, f"routes gone from the app: {stale}"


@pytest.mark.parametrize("role", ROLES)
def test_authorisation_matrix(app: Flask, make_user: Callable[..., User], role: str) -> None:
    world = _world(app, make_user)
    client = app.test_client()
    email = {"secretariat": "m.sec@example.org", "own": "m.jkt@example.org",
             "other": "m.tyo@example.org", "delegate": "m.delegate@example.org",
             "staff": "m.staff@example.org"}.get(role)
    if email:
        assert login(client, email).status_code == 302
    headers = {"Authorization": f"Bearer {world['bearer'][role]}"} if email else {}
    wrong = []
    app.config["WTF_CSRF_ENABLED"] = False  # CSRF is checked on its own below
    try:
        for endpoint, method, rule in _operations(app):
            url = _url(app, endpoint, rule, world)
            kwargs = _api_body(endpoint, world) if endpoint.startswith("api.") else {}
            if endpoint == "api.add_signatory_op":
                kwargs["json"]["delegate"] = world["main"]
            response = client.open(url, method=method, headers=headers, **kwargs)
            expected = expected_for(endpoint, method, role)
            allowed = expected if isinstance(expected, tuple) else (expected,)
            if response.status_code not in allowed:
                wrong.append(f"{method} {url}: {response.status_code}, expected {expected}")
            if response.status_code == REDIRECT and role == "anonymous" and (
                    endpoint.startswith(("registration_admin.", "secretariat.",
                                         "registration.my_", "registration.letter",
                                         "programme.", "mailing."))):
                assert "/login" in response.headers["Location"], url
    finally:
        app.config["WTF_CSRF_ENABLED"] = True
    assert not wrong, "\n".join(wrong)


def test_every_web_form_needs_its_csrf_token(app: Flask, make_user: Callable[..., User]
                                             ) -> None:
    world = _world(app, make_user)
    client = app.test_client()
    login(client, "m.sec@example.org")
    for endpoint, method, rule in _operations(app):
        if method != "POST" or endpoint.startswith("api.") or endpoint == "auth.logout":
            continue
        url = _url(app, endpoint, rule, world)
        assert client.post(url, data={}).status_code == 400, url
    page = client.get("/secretariat/cities").get_data(as_text=True)
    assert csrf_token(page)


def test_api_writes_check_the_role_before_the_input(app: Flask,
                                                    make_user: Callable[..., User]) -> None:
    """A token whose role may not write gets 403 whatever it sends: the role is checked
    before the body is validated, so a refused caller learns nothing about the schema."""
    world = _world(app, make_user)
    client = app.test_client()
    garbage = {"json": {"not a field": ["of", "any", "schema"]}}
    wrong = []
    for endpoint, method, rule in _operations(app):
        if not endpoint.startswith("api.") or method == "GET":
            continue
        expected = EXPECTED[(endpoint, method)]
        # Refused for the role itself (not for another city's object, which needs the body).
        roles = ["delegate", "staff"] + (["own", "other"] if expected[1] == expected[2] == 403
                                         else [])
        for role in roles:
            if expected_for(endpoint, method, role) != 403:
                continue
            headers = {"Authorization": f"Bearer {world['bearer'][role]}"}
            url = _url(app, endpoint, rule, world)
            response = client.open(url, method=method, headers=headers, **garbage)
            if response.status_code != 403:
                wrong.append(f"{role}: {method} {url}: {response.status_code}")
            elif response.get_json()["error"]["code"] != "forbidden":
                wrong.append(f"{role}: {method} {url}: {response.get_json()}")
    assert not wrong, "\n".join(wrong)
