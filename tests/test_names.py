"""Names as people write them: order, capitals, the local-script name for readers of it."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient

from models import Role, User
from models.names import NameOrder, default_order, latin_name, name_for, reads, scripts_of
from services.demo import load_tomsk_2014
from tests.test_api import token_for
from webapp.extensions import db


@pytest.mark.parametrize(("given", "family", "order", "shown"), [
    ("Hong Son", "Le", NameOrder.FAMILY_FIRST, "LE Hong Son"),
    ("Yoichi", "Masuzoe", NameOrder.FAMILY_FIRST, "MASUZOE Yoichi"),
    ("Yoichi", "Masuzoe", NameOrder.GIVEN_FIRST, "Yoichi MASUZOE"),
    ("Sergei", "Zhvachkin", NameOrder.GIVEN_FIRST, "Sergei ZHVACHKIN"),
    ("", "Prabowo", NameOrder.GIVEN_FIRST, "PRABOWO"),  # one name only
])
def test_latin_name_follows_the_order_with_the_family_name_in_capitals(
        given: str, family: str, order: NameOrder, shown: str) -> None:
    assert latin_name(given, family, order) == shown


def test_the_order_defaults_from_the_country() -> None:
    assert default_order("VN") is NameOrder.FAMILY_FIRST
    assert default_order("jp") is NameOrder.FAMILY_FIRST
    assert default_order("KR") is NameOrder.FAMILY_FIRST
    assert default_order("RU") is NameOrder.GIVEN_FIRST
    assert default_order("TH") is NameOrder.GIVEN_FIRST
    assert default_order(None) is NameOrder.GIVEN_FIRST


def test_a_reader_sees_the_local_name_only_in_a_script_they_read() -> None:
    assert scripts_of("舛添 要一") == {"Hani"}
    assert scripts_of("オ・セフン") == {"Kana"}
    assert reads("ja", "舛添 要一") and reads("ja", "ジャカルタ")
    assert not reads("ja", "오세훈") and not reads("en", "오세훈") and not reads("ja", "Томск")
    person = {"given": "Yoichi", "family": "Masuzoe", "local": "舛添 要一",
              "order": NameOrder.FAMILY_FIRST}
    assert name_for("ja", **person) == "舛添 要一"
    assert name_for("en", **person) == "MASUZOE Yoichi"
    korean = {"given": "Se-hoon", "family": "Oh", "local": "오세훈",
              "order": NameOrder.FAMILY_FIRST}
    assert name_for("ja", **korean) == "OH Se-hoon"  # a Japanese reader is not assumed to read
    assert name_for("xx", **korean) == "OH Se-hoon"  # Hangul; an unknown language is English


def test_delegates_take_their_citys_order_and_may_change_it(
        app: Flask, client: FlaskClient, make_user: Callable[..., User]) -> None:
    with app.app_context():
        load_tomsk_2014(db.session)
        db.session.commit()
    headers = token_for(app, make_user, "sec@example.org", Role.SECRETARIAT)
    url = "/api/v1/assemblies/anmc21-tomsk-2014/delegates"
    hanoi = client.post(url, headers=headers, json={
        "city": "HAN", "family_name": "Nguyen", "given_name": "Thi Anh",
        "name_local": "Nguyễn Thị Ánh"}).get_json()
    assert hanoi["name_order"] == "family_first" and hanoi["full_name"] == "NGUYEN Thi Anh"
    tomsk = client.post(url, headers=headers, json={
        "city": "TOF", "family_name": "Ivanova", "given_name": "Anna",
        "honorific": "Dr."}).get_json()
    assert tomsk["name_order"] == "given_first" and tomsk["full_name"] == "Anna IVANOVA"
    assert tomsk["honorific"] == "Dr."
    changed = client.patch(f"{url}/{tomsk['id']}", headers=headers,
                           json={"name_order": "family_first"}).get_json()
    assert changed["full_name"] == "IVANOVA Anna"
    refused = client.patch(f"{url}/{tomsk['id']}", headers=headers,
                           json={"name_order": "backwards"})
    assert refused.status_code == 422 and "name_order" in refused.get_json()["error"]["fields"]
