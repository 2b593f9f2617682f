"""The report's 会議結果 and the Tomsk Declaration with its signatories, built by the real
worker from a declaration entered through the API, in XLSX, CSV and PDF."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from models import User
from tests.conftest import wait_for
from tests.decision_helpers import enter_tomsk_declaration
from tests.registration_helpers import enter_tomsk_through_api

# The representatives who signed, as the Japanese report writes them; Bangkok's did not sign.
SIGNED = ("レー・ホン・ソン", "イム・ジョン・ソク", "舛添 要一", "エンフツェンゲル・ツェイエン",
          "セルゲイ・ジバーチキン")


def _download(client: FlaskClient, url: str, headers: dict[str, str]) -> bytes:
    response = client.get(url.replace("http://sokai.test", ""), headers=headers)
    assert response.status_code == 200
    return response.data


def _build(client: FlaskClient, slug: str, headers: dict[str, str],
           language: str) -> dict[str, str]:
    job = client.post(f"/api/v1/assemblies/{slug}/summaries", json={"language": language},
                      headers=headers)
    assert job.status_code == 202, job.get_json()

    def done() -> dict[str, Any] | None:
        body = client.get(f"/api/v1/summaries/{job.get_json()['id']}",
                          headers=headers).get_json()
        assert body["status"] != "failed", body
        return body if body["status"] == "done" else None

    finished = wait_for(done, timeout=120)
    assert finished is not None
    return finished["downloads"]


def test_the_report_prints_the_declaration_and_its_signatories(
        app: Flask, client: FlaskClient, celery_worker: Any,
        make_user: Callable[..., User]) -> None:
    tomsk = enter_tomsk_through_api(app, client, make_user)
    sec = tomsk.secretariat
    enter_tomsk_declaration(client, tomsk.slug, sec)
    items = client.get(f"/api/v1/assemblies/{tomsk.slug}/programme", headers=sec).get_json()
    reports = next(i for i in items if i["title"]["ja"] == "共同事業報告")
    response = client.put(
        f"/api/v1/assemblies/{tomsk.slug}/programme/{reports['id']}/minutes", headers=sec,
        json={"summary": {"ja": "12の共同事業のうち、以下の事業について報告した。",
                          "en": "Nine of the twelve joint projects reported."},
              "points": [{"kind": "report", "title": {"ja": "都市と地球の環境問題",
                                                      "en": "Cities and the environment"},
                          "cities": ["TYO", "ULN"]}]})
    assert response.status_code == 200, response.get_json()

    downloads = _build(client, tomsk.slug, sec, "ja")
    from openpyxl import load_workbook
    from pypdf import PdfReader

    book = load_workbook(io.BytesIO(_download(client, downloads["xlsx"], sec)))
    results = [row for row in book["Results"].iter_rows(values_only=True) if any(row)]
    assert results[0][0] == "会議結果"
    assert any(row[1] == "共同事業報告" and row[3] == "東京、ウランバートル" for row in results)
    signed = [row for row in results if row[0] == "署名者"]
    assert [row[1] for row in signed] == ["ハノイ", "ソウル", "東京", "ウランバートル", "トムスク"]
    assert [row[3] for row in signed] == list(SIGNED)
    assert any(row[0] == "結果" and row[1] == "全会一致で採択" for row in results)
    attendance = next(row[1] for row in results if row[0] == "出欠")
    assert "出席 6" in attendance and "ジャカルタ（代理：東京）" in attendance
    assert "13都市中 7都市" in attendance and "定足数に達しています" in attendance

    text = "\n".join(page.extract_text() for page in PdfReader(
        io.BytesIO(_download(client, downloads["pdf"], sec))).pages)
    for words in ("会議結果", "共同事業報告", "報告都市：東京、ウランバートル",
                  "アジア大都市ネットワーク21 トムスク宣言",
                  "我々、ハノイ、ソウル、東京、ウランバートル及びトムスクの代表は",
                  "We, the representatives of Hanoi, Seoul, Tokyo, Ulaanbaatar and Tomsk",
                  "2014年9月6日", "全会一致で採択", *SIGNED):
        assert words in text, words
    # The signatories come after the declaration's text, in its order.
    tail = text[text.index("トムスクにて"):]
    assert [tail.index(name) for name in SIGNED] == sorted(tail.index(name) for name in SIGNED)
    assert "ニタヤ" not in tail[:tail.index(SIGNED[-1])]  # Bangkok's minister did not sign

    rows = list(csv.reader(io.StringIO(
        _download(client, downloads["csv"], sec).decode("utf-8-sig"))))
    assert [row[7] for row in rows if row[0] == "署名者"] == [
        "LE Hong Son", "IM Jong Seok", "MASUZOE Yoichi", "Enkhtsengel TSEYEN",
        "Sergei ZHIVACHKIN"]

    english = _build(client, tomsk.slug, sec, "en")
    text = "\n".join(page.extract_text() for page in PdfReader(
        io.BytesIO(_download(client, english["pdf"], sec))).pages)
    for words in ("Results of the meeting", "Adopted by consensus", "6 September 2014",
                  "Signed at Tomsk", "MASUZOE Yoichi"):
        assert words in text, words
    assert text.index("We, the representatives") < text.index("我々、ハノイ")
