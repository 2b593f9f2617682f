"""API of the network itself: its settings (read by anyone with a token, changed by the
secretariat)."""

from __future__ import annotations

from typing import Any

from apiflask import Schema
from apiflask.fields import Email, String
from apiflask.validators import Length

from models.text import CITY_NAME_MAX
from services.cities import the_network
from services.network import update_network
from webapp.api import SECRETARIAT, bp, token_auth
from webapp.api.schemas import Localized, Text
from webapp.extensions import db


class NetworkOut(Schema):
    code = String(required=True, metadata={"example": "ANMC21"})
    name = Localized(required=True, metadata={
        "example": {"en": "Asian Network of Major Cities 21", "ja": "アジア大都市ネットワーク21"}})
    home_timezone = String(required=True, metadata={"example": "Asia/Tokyo"})
    secretariat_email = String(required=True, metadata={"example": "secretariat@example.org"})
    sender_name = String(required=True, metadata={"example": "ANMC21 Secretariat"})


class NetworkPatch(Schema):
    name = Localized(CITY_NAME_MAX)
    home_timezone = Text(min_length=1, max_length=64)
    secretariat_email = Email(validate=Length(3, 254))
    sender_name = Text(max_length=120)


@bp.get("/network")
@bp.auth_required(token_auth)
@bp.output(NetworkOut)
@bp.doc(summary="The network: name per language, the secretariat's zone and address",
        responses=[409])
def get_network() -> Any:
    return the_network(db.session)


@bp.patch("/network")
@bp.auth_required(token_auth, roles=SECRETARIAT)
@bp.input(NetworkPatch, arg_name="data")
@bp.output(NetworkOut)
@bp.doc(summary="Change the network's settings (secretariat)", responses=[403, 409, 422])
def update_network_api(data: dict[str, Any]) -> Any:
    network = update_network(db.session, the_network(db.session), **data)
    db.session.commit()
    return network
