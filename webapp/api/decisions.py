"""API of the assembly's outcome: decisions, putting them to the assembly (attendance frozen),
votes city by city (through proxy letters too), closing, adopting by consensus, signatories,
and the minutes of each programme item. Only the secretariat writes; a liaison reads its own
city's votes; the public reads adopted decisions."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

from apiflask import Schema, abort
from apiflask.fields import Boolean, DateTime, Integer, List, Nested, String
from apiflask.validators import Length, OneOf
from sqlalchemy.orm import Session

from models import (
    Assembly,
    Decision,
    DecisionKind,
    DecisionMethod,
    DecisionStatus,
    Majority,
    Minutes,
    MinutesPointKind,
    User,
    Vote,
    VoteChoice,
)
from models.text import TITLE_MAX
from services.cities import find_city
from services.decisions.lifecycle import (
    DecisionDraft,
    adopt_by_consensus,
    close_vote,
    create_decision,
    decisions_of,
    find_decision,
    find_item_of,
    open_decision,
    update_decision,
    withdraw_decision,
)
from services.decisions.minutes import MinutesDraft, PointDraft, minutes_of, write_minutes
from services.decisions.signatories import add_signatory
from services.decisions.snapshot import DEFAULT_BASIS, PICTURES
from services.decisions.votes import cast_vote, votes_seen_by
from services.programme import find_item
from webapp.api import SECRETARIAT, api_user, assembly_or_404, bp, token_auth
from webapp.api.schemas import Instant, Int32, Localized, Text
from webapp.extensions import db

TEXT_MAX = 20_000  # a declaration's text, a session's summary (longer than a mail's body)


# --- schemas ---------------------------------------------------------------------------------


class QuorumSnapshotOut(Schema):
    rule = String(required=True)
    members = Integer(required=True)
    required = Integer(required=True)
    counted = Integer(required=True)
    reached = Boolean(required=True)

class ProxyVoiceOut(Schema):
    city = String(required=True, metadata={"description": "the represented city's code"})
    holder = String(allow_none=True, metadata={"description": "the holder city's code "
                                                             "(null: the chair)"})
    letter = Integer(required=True)
    instructions = String(required=True)

class SnapshotOut(Schema):
    basis = String(required=True, metadata={"description": "which attendance picture: "
                                                          "registration, checkin, …"})
    taken_at = String(required=True)
    present = List(String(), required=True)
    represented = List(Nested(ProxyVoiceOut), required=True)
    absent = List(String(), required=True)
    quorum = Nested(QuorumSnapshotOut, required=True)

class VoteOut(Schema):
    city = String(required=True)
    choice = String(required=True, validate=OneOf([c.value for c in VoteChoice]))
    cast_by = String(allow_none=True, metadata={"description": "the city whose delegation "
                                                              "cast it (the holder for a "
                                                              "represented city)"})
    by_proxy = Boolean(required=True)
    letter = Integer(allow_none=True)
    cast_at = DateTime(required=True)

class TallyOut(Schema):
    yes = Integer(required=True)
    no = Integer(required=True)
    abstain = Integer(required=True)

class SignatoryOut(Schema):
    delegate = Integer(allow_none=True)
    city = String(required=True)
    name = String(required=True)
    name_local = String(required=True)
    title = Localized(required=True)
    signed_at = DateTime(required=True)

class CastVoteOut(VoteOut):
    """The vote as recorded (its own name in the OpenAPI document)."""

class SignedOut(SignatoryOut):
    """A signatory in the signatories list (its own name in the OpenAPI document)."""

class DecisionOut(Schema):
    id = Integer(required=True)
    kind = String(required=True, validate=OneOf([k.value for k in DecisionKind]))
    title = Localized(required=True)
    text = Localized(TEXT_MAX, multiline=True, required=True)
    item = Integer(allow_none=True)
    method = String(required=True, validate=OneOf([m.value for m in DecisionMethod]))
    majority = String(required=True, validate=OneOf([m.value for m in Majority]))
    status = String(required=True, validate=OneOf([s.value for s in DecisionStatus]))
    snapshot = Nested(SnapshotOut, allow_none=True)
    opened_at = DateTime(allow_none=True)
    decided_at = DateTime(allow_none=True)
    tally = Nested(TallyOut, allow_none=True, metadata={"description": "once the vote closed"})
    votes = List(Nested(VoteOut), metadata={"description": "the secretariat: all; a liaison: "
                                                          "its own city's; the public: none"})
    signatories = List(Nested(SignatoryOut))

# The document says these answer without a token too (the public sees adopted decisions).
PUBLIC_OR_TOKEN = [{}, {"BearerAuth": []}]


class DecisionIn(Schema):
    kind = String(load_default=DecisionKind.RESOLUTION.value,
                  validate=OneOf([k.value for k in DecisionKind]))
    title = Localized(TITLE_MAX, required=True, validate=Length(min=1),
                      metadata={"example": {"en": "Tomsk Declaration", "ja": "トムスク宣言"}})
    text = Localized(TEXT_MAX, multiline=True, load_default=dict)
    item = Int32(minimum=0, allow_none=True, load_default=None,
                   metadata={"description": "the programme item it is taken under"})
    method = String(load_default=DecisionMethod.VOTE.value,
                    validate=OneOf([m.value for m in DecisionMethod]))
    majority = String(load_default=Majority.SIMPLE.value,
                      validate=OneOf([m.value for m in Majority]))

class DecisionPatch(Schema):
    """Only the fields given change; `status: withdrawn` withdraws."""

    kind = String(validate=OneOf([k.value for k in DecisionKind]))
    title = Localized(TITLE_MAX, validate=Length(min=1))
    text = Localized(TEXT_MAX, multiline=True)
    item = Int32(minimum=0, allow_none=True)
    method = String(validate=OneOf([m.value for m in DecisionMethod]))
    majority = String(validate=OneOf([m.value for m in Majority]))
    status = String(validate=OneOf([DecisionStatus.WITHDRAWN.value]))

class MomentIn(Schema):
    # When it happened (entering a past assembly); default now.
    at = Instant()

class OpenIn(MomentIn):
    basis = Text(max_length=64, load_default=DEFAULT_BASIS, metadata={
        "description": "the attendance picture to freeze: " + ", ".join(PICTURES)})

class VoteIn(Schema):
    choice = String(required=True, validate=OneOf([c.value for c in VoteChoice]))

class SignatoryIn(Schema):
    delegate = Int32(minimum=0, required=True,
                     metadata={"description": "a delegate of a present city"})
    at = Instant()

class SpeakerOut(Schema):
    delegate = Integer(required=True)
    city = String(required=True)
    name = String(required=True)
    name_local = String(required=True)
    title = Localized(required=True)

class PointIO(Schema):
    kind = String(load_default=MinutesPointKind.STATEMENT.value,
                  validate=OneOf([k.value for k in MinutesPointKind]))
    title = Localized(TITLE_MAX, load_default=dict)
    text = Localized(TEXT_MAX, multiline=True, load_default=dict)
    cities = List(Text(max_length=16), load_default=list,
                  metadata={"description": "member city codes: a report's presenting cities"})

class MinutesIn(Schema):
    summary = Localized(TEXT_MAX, multiline=True, load_default=dict)
    speakers = List(Int32(minimum=0), load_default=list,
                    metadata={"description": "delegate ids"})
    points = List(Nested(PointIO), load_default=list)

class MinutesOut(Schema):
    item = Integer(required=True)
    summary = Localized(TEXT_MAX, multiline=True, required=True)
    speakers = List(Nested(SpeakerOut), required=True)
    points = List(Nested(PointIO), required=True)
    updated_at = DateTime(allow_none=True)


# --- helpers ---------------------------------------------------------------------------------


def _viewer() -> User | None:
    return token_auth.current_user  # type: ignore[return-value]


def _decision(assembly: Assembly, decision_id: int) -> Decision:
    decision = find_decision(db.session, assembly, decision_id, _viewer())
    if decision is None:
        abort(404, f"no decision {decision_id} in {assembly.slug!r}")
    return decision


Done = TypeVar("Done")


def _write(slug: str, decision_id: int, step: Callable[[Decision, User], Done]) -> Done:
    """Every write on one decision: load it from this assembly (404 when the caller may not
    see it), run the use case as the caller, commit, and hand back what the use case made."""
    done = step(_decision(assembly_or_404(slug), decision_id), api_user())
    db.session.commit()
    return done


def _at_moment(step: Callable[[Session, Decision, User, datetime | None], Decision], slug: str,
               decision_id: int, data: dict[str, Any]) -> Any:
    """A step that takes only the moment it happened (closing, adopting)."""
    return decision_out(_write(slug, decision_id, lambda decision, user: step(
        db.session, decision, user, data.get("at"))))


View = TypeVar("View", bound=Callable[..., Any])


def _step(action: str, schema: type[Schema], summary: str) -> Callable[[View], View]:
    """Declares one of the secretariat's steps on a decision (open, close, adopt): POST
    …/<action> with a moment, answering the decision; 409 when the step does not apply now."""

    def declare(view: View) -> View:
        view = bp.doc(summary=summary, responses=[403, 404, 409, 422])(view)
        view = bp.output(DecisionOut)(view)
        view = bp.input(schema, arg_name="data")(view)
        view = bp.auth_required(token_auth, roles=SECRETARIAT)(view)
        return bp.post(f"/assemblies/<slug>/decisions/<int:decision_id>/{action}")(view)

    return declare


def vote_out(vote: Vote) -> dict[str, Any]:
    return {"city": vote.city.code, "choice": vote.choice.value,
            "cast_by": vote.cast_by.code if vote.cast_by else None, "by_proxy": vote.by_proxy,
            "letter": vote.letter_id, "cast_at": vote.cast_at}


def decision_out(decision: Decision) -> dict[str, Any]:
    counted = decision.yes_count is not None
    return {
        "id": decision.id, "kind": decision.kind.value, "title": decision.title,
        "text": decision.text, "item": decision.item_id, "method": decision.method.value,
        "majority": decision.majority.value, "status": decision.status.value,
        "snapshot": decision.snapshot, "opened_at": decision.opened_at,
        "decided_at": decision.decided_at,
        "tally": {"yes": decision.yes_count, "no": decision.no_count,
                  "abstain": decision.abstain_count} if counted else None,
        "votes": [vote_out(v) for v in votes_seen_by(decision, _viewer())],
        "signatories": [{"delegate": s.delegate_id, "city": s.city.code, "name": s.name,
                         "name_local": s.name_local, "title": s.title,
                         "signed_at": s.signed_at} for s in decision.signatories],
    }


# --- decisions -------------------------------------------------------------------------------


@bp.get("/assemblies/<slug>/decisions")
@bp.auth_required(token_auth, optional="true")
@bp.output(DecisionOut(many=True))
@bp.doc(summary="Decisions (the public: adopted ones; a liaison: those put to the assembly, "
                "with its own city's votes)", responses=[404], security=PUBLIC_OR_TOKEN)
def list_decisions(slug: str) -> Any:
    return [decision_out(d) for d in decisions_of(db.session, assembly_or_404(slug), _viewer())]


@bp.post("/assemblies/<slug>/decisions")
@bp.auth_required(token_auth, roles=SECRETARIAT)
@bp.input(DecisionIn, arg_name="data")
@bp.output(DecisionOut, status_code=201)
@bp.doc(summary="Draft a decision (secretariat)", responses=[403, 404, 422])
def create_decision_op(slug: str, data: dict[str, Any]) -> Any:
    assembly = assembly_or_404(slug)
    draft = DecisionDraft(
        title=data["title"], text=data["text"], kind=DecisionKind(data["kind"]),
        method=DecisionMethod(data["method"]), majority=Majority(data["majority"]),
        item=find_item_of(db.session, assembly, data["item"]))
    decision = create_decision(db.session, assembly, draft, api_user())
    db.session.commit()
    return decision_out(decision)


@bp.get("/assemblies/<slug>/decisions/<int:decision_id>")
@bp.auth_required(token_auth, optional="true")
@bp.output(DecisionOut)
@bp.doc(summary="One decision with its frozen attendance, tally and signatories",
        responses=[404], security=PUBLIC_OR_TOKEN)
def get_decision(slug: str, decision_id: int) -> Any:
    return decision_out(_decision(assembly_or_404(slug), decision_id))


@bp.patch("/assemblies/<slug>/decisions/<int:decision_id>")
@bp.auth_required(token_auth, roles=SECRETARIAT)
@bp.input(DecisionPatch, arg_name="data")
@bp.output(DecisionOut)
@bp.doc(summary="Change the wording (until decided) or the method (while a draft), or "
                "withdraw (secretariat)", responses=[403, 404, 409, 422])
def update_decision_op(slug: str, decision_id: int, data: dict[str, Any]) -> Any:
    assembly = assembly_or_404(slug)
    decision = _decision(assembly, decision_id)
    user = api_user()
    changes: dict[str, Any] = {k: v for k, v in data.items() if k in ("title", "text")}
    if "item" in data:
        changes["item"] = find_item_of(db.session, assembly, data["item"])
    for name, kind in (("kind", DecisionKind), ("method", DecisionMethod),
                       ("majority", Majority)):
        if name in data:
            changes[name] = kind(data[name])
    if changes:
        update_decision(db.session, decision, changes, user)
    if data.get("status") == DecisionStatus.WITHDRAWN.value:
        withdraw_decision(db.session, decision, user)
    db.session.commit()
    return decision_out(decision)


@_step("open", OpenIn, "Put to the assembly: freezes the attendance picture (`snapshot`); 409 "
                       "with the counts when the quorum is not reached (secretariat)")
def open_decision_op(slug: str, decision_id: int, data: dict[str, Any]) -> Any:
    return decision_out(_write(slug, decision_id, lambda decision, user: open_decision(
        db.session, decision, user, data.get("at"), data["basis"])))


@bp.put("/assemblies/<slug>/decisions/<int:decision_id>/votes/<city>")
@bp.auth_required(token_auth, roles=SECRETARIAT)
@bp.input(VoteIn, arg_name="data")
@bp.output(CastVoteOut)
@bp.doc(summary="Record (or replace) a member city's vote; a represented city's vote is "
                "cast by its letter's holder (`cast_by`) (secretariat)",
        responses=[403, 404, 409, 422])
def put_vote(slug: str, decision_id: int, city: str, data: dict[str, Any]) -> Any:
    return vote_out(_write(slug, decision_id, lambda decision, user: cast_vote(
        db.session, decision, find_city(db.session, city, "city"), VoteChoice(data["choice"]),
        user)))


@_step("close", MomentIn, "Close the vote: tally and adopted or rejected by the majority rule "
                         "(secretariat)")
def close_decision_op(slug: str, decision_id: int, data: dict[str, Any]) -> Any:
    return _at_moment(close_vote, slug, decision_id, data)


@_step("adopt", MomentIn, "Adopt by consensus, without a tally (a draft is put to the assembly "
                         "first) (secretariat)")
def adopt_decision_op(slug: str, decision_id: int, data: dict[str, Any]) -> Any:
    return _at_moment(adopt_by_consensus, slug, decision_id, data)


@bp.get("/assemblies/<slug>/decisions/<int:decision_id>/signatories")
@bp.auth_required(token_auth, optional="true")
@bp.output(SignedOut(many=True))
@bp.doc(summary="Who signed the declaration, with name and title as of that day",
        responses=[404], security=PUBLIC_OR_TOKEN)
def list_signatories(slug: str, decision_id: int) -> Any:
    return decision_out(_decision(assembly_or_404(slug), decision_id))["signatories"]


@bp.post("/assemblies/<slug>/decisions/<int:decision_id>/signatories")
@bp.auth_required(token_auth, roles=SECRETARIAT)
@bp.input(SignatoryIn, arg_name="data")
@bp.output(SignedOut(many=True), status_code=201)
@bp.doc(summary="Add a signatory: a delegate of a city present, one per city (secretariat)",
        responses=[403, 404, 409, 422])
def add_signatory_op(slug: str, decision_id: int, data: dict[str, Any]) -> Any:
    return decision_out(_write(slug, decision_id, lambda decision, user: add_signatory(
        db.session, decision, data["delegate"], user, data.get("at"))))["signatories"]


# --- minutes ---------------------------------------------------------------------------------


def minutes_out(item_id: int, minutes: Minutes | None) -> dict[str, Any]:
    if minutes is None:
        return {"item": item_id, "summary": {}, "speakers": [], "points": [],
                "updated_at": None}
    return {
        "item": item_id, "summary": minutes.summary, "updated_at": minutes.updated_at,
        "speakers": [{"delegate": s.delegate.id, "city": s.delegate.delegation.city.code,
                      "name": s.delegate.full_name, "name_local": s.delegate.name_local,
                      "title": s.delegate.title} for s in minutes.speakers],
        "points": [{"kind": p.kind.value, "title": p.title, "text": p.text,
                    "cities": p.cities} for p in minutes.points],
    }


def _item(assembly: Assembly, item_id: int) -> Any:
    item = find_item(db.session, assembly, item_id)
    if item is None:
        abort(404, f"no item {item_id} in {assembly.slug!r}")
    return item


@bp.get("/assemblies/<slug>/programme/<int:item_id>/minutes")
@bp.auth_required(token_auth)
@bp.output(MinutesOut)
@bp.doc(summary="The minutes of a programme item", responses=[404])
def get_minutes(slug: str, item_id: int) -> Any:
    assembly = assembly_or_404(slug)
    return minutes_out(item_id, minutes_of(db.session, _item(assembly, item_id)))


@bp.put("/assemblies/<slug>/programme/<int:item_id>/minutes")
@bp.auth_required(token_auth, roles=SECRETARIAT)
@bp.input(MinutesIn, arg_name="data")
@bp.output(MinutesOut)
@bp.doc(summary="Write the minutes of a programme item: summary per language, speakers, "
                "points such as project reports with their presenting cities (secretariat)",
        responses=[403, 404, 422])
def put_minutes(slug: str, item_id: int, data: dict[str, Any]) -> Any:
    assembly = assembly_or_404(slug)
    item = _item(assembly, item_id)
    draft = MinutesDraft(summary=data["summary"], speakers=data["speakers"], points=[
        PointDraft(kind=MinutesPointKind(p["kind"]), title=p["title"], text=p["text"],
                   cities=p["cities"]) for p in data["points"]])
    minutes = write_minutes(db.session, item, draft, api_user())
    db.session.commit()
    return minutes_out(item_id, minutes)


