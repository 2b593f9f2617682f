"""API of member cities: the list for everyone with a token, changes and liaison invitations
for the secretariat."""

from __future__ import annotations

from typing import Any

from apiflask import Schema
from apiflask.fields import DateTime, Function, Integer, String
from apiflask.validators import OneOf, Regexp
from sqlalchemy import select

from models import InvitationState, MemberCity
from models.languages import LANGUAGES
from models.text import CITY_NAME_MAX
from services.cities import create_city, find_city, update_city
from services.invitations import invite_liaison
from webapp.api import SECRETARIAT, api_user, bp, token_auth
from webapp.api.schemas import CityOut, Localized, Text
from webapp.extensions import db


class CityIn(Schema):
    code = Text(required=True, min_length=1, max_length=16, validate=Regexp(r"^[A-Za-z0-9]+$"),
                metadata={"example": "JKT"})
    name = Localized(CITY_NAME_MAX, required=True,
                     metadata={"example": {"en": "Jakarta", "ja": "ジャカルタ"}})
    country = Text(required=True, min_length=2, max_length=2, metadata={"example": "ID"})
    timezone = Text(required=True, max_length=64, metadata={"example": "Asia/Jakarta"})

class CityPatch(Schema):
    name = Localized(CITY_NAME_MAX)
    country = Text(min_length=2, max_length=2)
    timezone = Text(max_length=64)

class InvitationIn(Schema):
    email = Text(required=True, min_length=3, max_length=254)
    language = String(load_default="en", validate=OneOf(LANGUAGES))
    name = Text(load_default="", max_length=200,
                metadata={"description": "the liaison's name as they write it (鈴木 花子): "
                                         "the invitation addresses them by it"})

class InvitationOut(Schema):
    id = Integer(required=True)
    city = String(required=True, attribute="city.code")
    email = String(required=True)
    expires_at = DateTime(required=True)
    accepted_at = DateTime(allow_none=True)
    state = Function(lambda invitation: invitation.state().value, required=True,
                     metadata={"enum": [s.value for s in InvitationState],
                               "description": "sent, opened, accepted, expired or voided"})


@bp.get("/cities")
@bp.auth_required(token_auth)
@bp.output(CityOut(many=True))
@bp.doc(summary="Member cities of the network")
def list_cities() -> Any:
    return db.session.scalars(select(MemberCity).order_by(MemberCity.code)).all()


@bp.get("/cities/<code>")
@bp.auth_required(token_auth)
@bp.output(CityOut)
@bp.doc(summary="One member city", responses=[404])
def get_city(code: str) -> Any:
    return find_city(db.session, code)


@bp.post("/cities")
@bp.auth_required(token_auth, roles=SECRETARIAT)
@bp.input(CityIn, arg_name="data")
@bp.output(CityOut, status_code=201)
@bp.doc(summary="Add a member city (secretariat)", responses=[403, 409, 422])
def create_city_api(data: dict[str, Any]) -> Any:
    city = create_city(db.session, **data)
    db.session.commit()
    return city

@bp.patch("/cities/<code>")
@bp.auth_required(token_auth, roles=SECRETARIAT)
@bp.input(CityPatch, arg_name="data")
@bp.output(CityOut)
@bp.doc(summary="Change a member city (secretariat)", responses=[403, 404, 422])
def update_city_api(code: str, data: dict[str, Any]) -> Any:
    city = update_city(db.session, find_city(db.session, code), **data)
    db.session.commit()
    return city

@bp.post("/cities/<code>/invitations")
@bp.auth_required(token_auth, roles=SECRETARIAT)
@bp.input(InvitationIn, arg_name="data")
@bp.output(InvitationOut, status_code=201)
@bp.doc(summary="Invite the city's liaison by email (secretariat): a one-time link to set a "
                "password", responses=[403, 404, 409, 422])
def invite_liaison_api(code: str, data: dict[str, Any]) -> Any:
    user = api_user()
    invitation, _token = invite_liaison(db.session, find_city(db.session, code), data["email"],
                                        data["language"], user, name=data["name"])
    db.session.commit()
    return invitation
