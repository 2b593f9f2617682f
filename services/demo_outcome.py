"""The outcome of the Tomsk 2014 assembly, as the seed report records it (会議結果 and
別紙1): the minutes of the opening, the policy dialogue, the joint-project reports and the
review of the network, and the Tomsk Declaration adopted by consensus on 6 September 2014 and
signed by the representatives of Hanoi, Seoul, Tokyo, Ulaanbaatar and Tomsk (Bangkok,
represented by its embassy's minister, did not sign).

The report is in Japanese only; the English texts are the demo's translation. Also: an
upcoming assembly with a draft resolution, to try a vote with a proxy letter.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import (
    Assembly,
    Decision,
    DecisionKind,
    DecisionMethod,
    DecisionStatus,
    Delegate,
    DelegateRole,
    Delegation,
    Majority,
    MemberCity,
    Minutes,
    MinutesPoint,
    MinutesPointKind,
    MinutesSpeaker,
    ProgrammeItem,
    Signatory,
)
from services.decisions.snapshot import DEFAULT_BASIS, take_snapshot
from services.demo import TOMSK

_K = MinutesPointKind

# (the programme item's Japanese title, summary, speakers by city code, points)
MINUTES: tuple[tuple[str, dict[str, str], tuple[str, ...], tuple[dict[str, Any], ...]], ...] = (
    ("開会式", {
        "ja": "開会にあたり、主催都市であるトムスク州のセルゲイ・ジバーチキン州知事から歓迎の挨拶"
              "が行われた。続いて、舛添要一東京都知事が、アジア大都市ネットワーク21事務局を代表"
              "して挨拶した。",
        "en": "Opening the assembly, Governor Sergei Zhivachkin of the host, Tomsk Oblast, "
              "welcomed the delegations. Governor Yoichi Masuzoe of Tokyo then spoke for the "
              "secretariat of the Asian Network of Major Cities 21."},
     ("TOF", "TYO"),
     ({"kind": _K.STATEMENT, "cities": ["TYO"],
       "title": {"ja": "東京都知事の挨拶", "en": "Address by the Governor of Tokyo"},
       "text": {"ja": "今回は、一昨年に新しく加入されたトムスク州で開かれる、初めてのANMC21総会。"
                      "2000年に本ネットワークが提唱されてから、ほぼ15年が経過し、ネットワークの"
                      "あり方を見直すべき時期にきていると考える。",
                "en": "This is the first ANMC21 assembly in Tomsk Oblast, which joined two years "
                      "ago. Almost fifteen years after the network was proposed in 2000, it is "
                      "time to review how it works."}},)),
    ("政策対話「新たな社会的取組による都市住民の生活の向上」", {
        "ja": "開催都市トムスクより現状や取組の紹介があり、東京からは舛添知事がスポーツに関する"
              "取組について発表した。このほか、ソウル、ハノイ、ウランバートルから各都市における"
              "取組についての報告があった。",
        "en": "The host, Tomsk, presented its situation and initiatives; Governor Masuzoe "
              "presented Tokyo's work on sport. Seoul, Hanoi and Ulaanbaatar reported on their "
              "own initiatives."},
     ("TOF", "TYO", "SEL", "HAN", "ULN"),
     ({"kind": _K.STATEMENT, "cities": ["TOF"],
       "title": {"ja": "トムスク", "en": "Tomsk"},
       "text": {"ja": "住民の5人に一人が学生で、若者の支援に力を入れている。",
                "en": "One resident in five is a student; Tomsk puts its effort into "
                      "supporting young people."}},
      {"kind": _K.STATEMENT, "cities": ["TYO"],
       "title": {"ja": "東京", "en": "Tokyo"},
       "text": {"ja": "「スポーツ都市東京」を実現していく。",
                "en": "Tokyo will become a “Sport City” where everyone can enjoy sport."}},
      {"kind": _K.STATEMENT, "cities": ["SEL", "HAN", "ULN"],
       "title": {"ja": "ソウル、ハノイ、ウランバートル", "en": "Seoul, Hanoi and Ulaanbaatar"},
       "text": {"ja": "各都市における取組についての報告があった。",
                "en": "Each city reported on its initiatives."}})),
    ("共同事業報告", {
        "ja": "12の共同事業のうち、以下の事業について、事業の実績と成果を報告した。",
        "en": "Of the twelve joint projects, the following reported on their work and "
              "results."},
     ("TYO", "HAN", "ULN", "TOF"),
     tuple({"kind": _K.REPORT, "cities": list(cities), "title": {"ja": ja, "en": en}}
           for ja, en, cities in (
               ("経済交流促進のプラットフォーム", "Platform for promoting economic exchange",
                ("TYO",)),
               ("ウェルカム・アジアキャンペーン", "Welcome Asia Campaign", ("TYO",)),
               ("アジアのビジネス及び投資促進プロジェクト",
                "Asian business and investment promotion project", ("HAN",)),
               ("都市と地球の環境問題", "Cities and global environmental issues",
                ("TYO", "ULN")),
               ("危機管理ネットワーク", "Crisis management network", ("TYO",)),
               ("アジア感染症対策プロジェクト", "Asian infectious disease control project",
                ("TYO",)),
               ("アジア舞台芸術祭", "Asian Performing Arts Festival", ("TYO",)),
               ("ジュニアスポーツ交流", "Junior sports exchange", ("TYO", "TOF")),
               ("職員能力向上プログラム", "Staff capacity-building programme", ("TYO",)),
           ))),
    ("新規共同事業等の提案・共同事業の見直し", {
        "ja": "舛添知事より、アジア大都市ネットワークの見直しについて提案を行った。今回の総会では"
              "次期開催都市は決めず、真摯に見直しをすること、その間、共同事業は継続させることが"
              "提案された。",
        "en": "Governor Masuzoe proposed a review of the network: no next host city to be "
              "chosen at this assembly, a serious review instead, and the joint projects to "
              "continue meanwhile."},
     ("TYO",),
     ({"kind": _K.PROPOSAL, "cities": ["TYO"],
       "title": {"ja": "アジア大都市ネットワークの見直し",
                 "en": "Review of the Asian Network of Major Cities 21"},
       "text": {}},)),
)

DECLARATION_TITLE = {"ja": "アジア大都市ネットワーク21 トムスク宣言",
                     "en": "Tomsk Declaration of the Asian Network of Major Cities 21"}
DECLARATION_TEXT = {
    "ja": "我々、ハノイ、ソウル、東京、ウランバートル及びトムスクの代表は、2014年9月5日から6日まで"
          "トムスクで開催されたアジア大都市ネットワーク21第13回総会に参加した。我々は、開催都市"
          "として会議を成功に導いたトムスクに対し、深い感謝の意を表す。\n"
          "そして、ここに以下のことを宣言する。\n"
          "1. 世代間で異なる関心やニーズについて特に留意しながら、都市部に暮らす住民に重要性の高い"
          "課題について議論を深め、その課題解決策を共同で検討する。\n"
          "2. 都市生活における若者世代のニーズに対処し、都市生活のあらゆる場面における若者世代の"
          "参画を促していく。\n"
          "3. 若者世代とシニア世代が手を取り合うことを目指し、世代間を超えた先進的な取組に重点的に"
          "取り組む。\n"
          "4. 様々な社会集団に属する都市住民の生活を向上させるための政策を改善し、その優良取組事例"
          "の情報共有を会員都市間で確実に行う。\n"
          "5. 会員都市間の教育分野における協力を高め、緊密な文化的結びつきを促進するための共同事業"
          "とパイロット・プログラムを実施することに合意する。\n"
          "6. アジア大都市ネットワーク21のあり方について抜本的な見直しを行うこと、事務局は、"
          "トムスク総会の結果を会員都市に周知し、2014年末までに会員都市から意見を集めることに"
          "合意する。",
    "en": "We, the representatives of Hanoi, Seoul, Tokyo, Ulaanbaatar and Tomsk, took part in "
          "the 13th General Assembly of the Asian Network of Major Cities 21, held in Tomsk on "
          "5 and 6 September 2014. We thank Tomsk for leading the assembly to success as its "
          "host.\n"
          "We hereby declare:\n"
          "1. We will deepen the discussion of the issues that matter most to urban residents, "
          "with particular attention to the different interests and needs of each generation, "
          "and look for solutions together.\n"
          "2. We will address the needs of the young generation in city life and encourage its "
          "participation in every part of it.\n"
          "3. We will concentrate on advanced initiatives across generations, so that the "
          "young and the senior generations join hands.\n"
          "4. We will improve the policies that better the lives of urban residents of every "
          "social group, and make sure the member cities share their good practice.\n"
          "5. We agree to carry out joint projects and pilot programmes that raise cooperation "
          "in education among the member cities and promote close cultural ties.\n"
          "6. We agree to review the Asian Network of Major Cities 21 fundamentally; the "
          "secretariat will inform the member cities of the results of the Tomsk assembly and "
          "collect their views by the end of 2014.",
}
DECLARATION_SIGNERS = ("HAN", "SEL", "TYO", "ULN", "TOF")  # in the declaration's order
ADOPTION_ITEM = "トムスク宣言の検討・採択"


def _at(day: int, local: str) -> datetime:
    return datetime.combine(date(2014, 9, day), time.fromisoformat(local),
                            tzinfo=TOMSK).astimezone(UTC)


def load_tomsk_2014_outcome(session: Session, assembly: Assembly) -> Decision:
    """The minutes and the declaration, written as the secretariat would have entered them
    (the snapshot taken by the same rule as a live decision). Only adds and flushes."""
    items = {item.title.get("ja", ""): item for item in session.scalars(
        select(ProgrammeItem).where(ProgrammeItem.assembly_id == assembly.id))}
    representatives = {city_id: delegate for city_id, delegate in session.execute(
        select(Delegation.city_id, Delegate).join(Delegate.delegation)
        .where(Delegation.assembly_id == assembly.id,
               Delegate.role == DelegateRole.REPRESENTATIVE))}
    cities = {c.code: c for c in session.scalars(
        select(MemberCity).where(MemberCity.network_id == assembly.network_id))}
    for title, summary, speakers, points in MINUTES:
        minutes = Minutes(assembly_id=assembly.id, item=items[title], summary=summary)
        minutes.speakers = [MinutesSpeaker(delegate=representatives[cities[code].id],
                                           position=index)
                            for index, code in enumerate(speakers)]
        minutes.points = [MinutesPoint(position=index, kind=point["kind"],
                                       title=point["title"], text=point.get("text", {}),
                                       cities=point["cities"])
                          for index, point in enumerate(points)]
        session.add(minutes)
    opened, adopted, signed = _at(6, "11:00"), _at(6, "11:20"), _at(6, "11:25")
    declaration = Decision(
        assembly=assembly, item=items[ADOPTION_ITEM], kind=DecisionKind.DECLARATION,
        title=DECLARATION_TITLE, text=DECLARATION_TEXT, method=DecisionMethod.CONSENSUS,
        majority=Majority.SIMPLE, status=DecisionStatus.ADOPTED,
        snapshot=take_snapshot(session, assembly, DEFAULT_BASIS, opened),
        opened_at=opened, decided_at=adopted)
    for index, code in enumerate(DECLARATION_SIGNERS):
        person = representatives[cities[code].id]
        declaration.signatories.append(Signatory(
            delegate=person, city_id=cities[code].id, position=index, name=person.full_name,
            name_local=person.name_local, title=dict(person.title), signed_at=signed))
    session.add(declaration)
    session.flush()
    return declaration


# --- the upcoming assembly ------------------------------------------------------------------

def add_draft_resolution(session: Session, assembly: Assembly) -> Decision:
    """A draft resolution to put to a vote at an assembly to come (the demo's next one)."""
    decision = Decision(
        assembly=assembly, kind=DecisionKind.RESOLUTION, method=DecisionMethod.VOTE,
        majority=Majority.TWO_THIRDS,
        title={"en": "Resolution on the review of the network",
               "ja": "ネットワークの見直しに関する決議"},
        text={"en": "The assembly adopts the secretariat's proposals for the review of the "
                    "Asian Network of Major Cities 21, collected since the Tomsk assembly.",
              "ja": "総会は、トムスク総会以降に集められた事務局のアジア大都市ネットワーク21見直し"
                    "案を採択する。"})
    session.add(decision)
    session.flush()
    return decision
