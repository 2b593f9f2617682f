"""The worked example: the 13th General Assembly of ANMC21 (Tomsk, 4-6 September 2014).

Everything below comes from the Tokyo secretariat's report of October 2014
(shared/reference/anmc21-tomsk-2014-report.md): the 13 member cities, the programme at its
local times, the six attending delegations with their sizes (107 participants) and their
representatives. The report lists only the representatives by name, so the rest of each
delegation is synthetic but fixed: the same people, in the same order, on every run.

Longer than ~400 lines on purpose: most of it is the report's data (cities, programme,
delegations), kept together so it reads against the reference document.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import (
    Assembly,
    AssemblyStatus,
    Delegate,
    DelegateRole,
    DelegateStatus,
    Delegation,
    DelegationStatus,
    ItemKind,
    MemberCity,
    Network,
    ProgrammeItem,
    ProxyLetter,
    ProxyLetterEvent,
    ProxyStatus,
    Quorum,
    Role,
)
from models.names import default_order
from services.accounts import create_user
from services.side_events import load_tomsk_2014_side_events

# --- the network and its member cities ------------------------------------------------------

NETWORK: dict[str, Any] = {
    "code": "ANMC21",
    "name": {"en": "Asian Network of Major Cities 21", "ja": "アジア大都市ネットワーク21"},
    "secretariat_email": "secretariat@anmc21.example.org",
    "home_timezone": "Asia/Tokyo",  # the secretariat is the Tokyo Metropolitan Government
}

# (code, English name, Japanese name, ISO country, IANA zone), in the report's order.
CITIES: tuple[tuple[str, str, str, str, str], ...] = (
    ("BKK", "Bangkok", "バンコク", "TH", "Asia/Bangkok"),
    ("DEL", "Delhi", "デリー", "IN", "Asia/Kolkata"),
    ("HAN", "Hanoi", "ハノイ", "VN", "Asia/Ho_Chi_Minh"),
    ("JKT", "Jakarta", "ジャカルタ", "ID", "Asia/Jakarta"),
    ("KUL", "Kuala Lumpur", "クアラルンプール", "MY", "Asia/Kuala_Lumpur"),
    ("MNL", "Metropolitan Manila", "マニラ首都圏", "PH", "Asia/Manila"),
    ("SEL", "Seoul", "ソウル", "KR", "Asia/Seoul"),
    ("SIN", "Singapore", "シンガポール", "SG", "Asia/Singapore"),
    ("TPE", "Taipei", "台北", "TW", "Asia/Taipei"),
    ("TYO", "Tokyo", "東京", "JP", "Asia/Tokyo"),
    ("TOF", "Tomsk", "トムスク", "RU", "Asia/Tomsk"),
    ("ULN", "Ulaanbaatar", "ウランバートル", "MN", "Asia/Ulaanbaatar"),
    ("RGN", "Yangon", "ヤンゴン", "MM", "Asia/Yangon"),
)

# --- the assembly ---------------------------------------------------------------------------

TOMSK = ZoneInfo("Asia/Tomsk")  # UTC+7 in September 2014, UTC+6 from October 2014

ASSEMBLY: dict[str, Any] = {
    "slug": "anmc21-tomsk-2014",
    "number": 13,
    "title": {"en": "13th General Assembly of the Asian Network of Major Cities 21",
              "ja": "アジア大都市ネットワーク21 第13回総会"},
    "venue": {"en": "Tomsk Polytechnic University", "ja": "トムスク工科大学"},
    # 主催 トムスク州: the region hosted, not the city.
    "host_organisation": {"en": "Tomsk Oblast", "ja": "トムスク州"},
    # 会期 9月5日(金)、6日(土): the assembly sat on two of the programme's three days.
    "sitting_days": ["2014-09-05", "2014-09-06"],
    "timezone": "Asia/Tomsk",
    "home_timezone": "Asia/Tokyo",
    # The sessions were on 5-6 September; the programme (and the ANMC21 exhibition) began on
    # the 4th, so the assembly's dates span all three days.
    "starts_on": date(2014, 9, 4),
    "ends_on": date(2014, 9, 6),
    # Deadlines are instants in the host's zone, built with zoneinfo (never a fixed offset).
    "registration_deadline": datetime(2014, 8, 15, 18, 0, tzinfo=TOMSK),
    "proxy_deadline": datetime(2014, 9, 1, 18, 0, tzinfo=TOMSK),
    "quorum": Quorum.MAJORITY,
    "max_proxies_per_holder": 2,
    "proxy_to_chair_allowed": True,
    "status": AssemblyStatus.CLOSED,  # held and reported on
}
HOST_CITY = "TOF"

# --- the programme (日程表) ------------------------------------------------------------------

UNIVERSITY = {"en": "Tomsk Polytechnic University", "ja": "トムスク工科大学"}
CULTURAL_CENTRE = {"en": "International Cultural Centre", "ja": "国際文化センター"}
# The report does not say where the meals, the reception and the first meeting were held.
IN_TOMSK = {"en": "Tomsk", "ja": "トムスク"}
FIELD_SITES = {"en": "Tomsk Special Economic Zone and a dacha",
               "ja": "トムスク技術革新型経済特区・ダーチャ"}
CITY_CENTRE = {"en": "Tomsk city centre", "ja": "トムスク市内"}


class Item(NamedTuple):
    day: int  # of September 2014
    start: str  # local time (現地時間), Asia/Tomsk
    kind: ItemKind
    ja: str
    en: str
    location: dict[str, str]
    until: str | None = None  # local end of a day's last item; otherwise the next item's start
    capacity: int | None = None  # set for items people sign up to


PROGRAMME: tuple[Item, ...] = (
    Item(4, "16:00", ItemKind.MEETING, "各都市代表者との顔合わせ",
         "Meeting with the representatives of the cities", IN_TOMSK),
    Item(4, "17:00", ItemKind.SIDE_EVENT, "ANMC21展オープニングセレモニー",
         "ANMC21 Exhibition opening ceremony", CULTURAL_CENTRE),
    Item(4, "19:00", ItemKind.RECEPTION, "ウェルカム・レセプション", "Welcome reception", IN_TOMSK),
    Item(5, "09:30", ItemKind.CEREMONY, "開会式", "Opening ceremony", UNIVERSITY),
    Item(5, "10:00", ItemKind.POLICY_DIALOGUE,
         "政策対話「新たな社会的取組による都市住民の生活の向上」",
         "Policy dialogue: “Improving the lives of urban residents through new social "
         "initiatives”", UNIVERSITY),
    Item(5, "12:30", ItemKind.MEAL, "昼食", "Lunch", IN_TOMSK),
    Item(5, "14:00", ItemKind.FIELD_TRIP, "フィールドワーク（経済特区、植樹、ダーチャ）",
         "Field work (Special Economic Zone, tree planting, dacha)", FIELD_SITES,
         until="18:00", capacity=40),
    Item(6, "09:15", ItemKind.PLENARY, "共同事業報告", "Reports on the joint projects", UNIVERSITY),
    Item(6, "10:30", ItemKind.PLENARY, "新規共同事業等の提案・共同事業の見直し",
         "Proposals for new joint projects and review of the joint projects", UNIVERSITY),
    Item(6, "10:40", ItemKind.PLENARY, "次回開催都市の決定", "Decision on the next host city",
         UNIVERSITY),
    Item(6, "11:00", ItemKind.PLENARY, "トムスク宣言の検討・採択",
         "Discussion and adoption of the Tomsk Declaration", UNIVERSITY),
    Item(6, "11:25", ItemKind.CEREMONY, "トムスク宣言の署名", "Signing of the Tomsk Declaration",
         UNIVERSITY),
    Item(6, "11:40", ItemKind.PRESS_CONFERENCE, "共同記者会見", "Joint press conference",
         UNIVERSITY),
    Item(6, "12:45", ItemKind.MEAL, "昼食", "Lunch", IN_TOMSK),
    # An excursion for everyone, not a sign-up item: no capacity.
    Item(6, "14:30", ItemKind.FIELD_TRIP, "州知事によるトムスク市内案内",
         "Tour of Tomsk guided by the Governor", CITY_CENTRE),
)
LAST_ITEM_LENGTH = timedelta(hours=2)  # for a day's last item without an explicit end

# --- the delegations ------------------------------------------------------------------------

_R = DelegateRole


class Person(NamedTuple):
    family: str
    given: str
    local: str  # the name as the Japanese report (or a Japanese reader) writes it
    role: DelegateRole
    title: tuple[str, str]  # (English, Japanese)
    email: bool = True  # some people were registered without an address


# Shared titles, so that the lists below stay one person per line where they can.
TYO_OFFICER = ("Officer, International Cooperation Projects Section", "国際共同事業課 職員")
TYO_BOOTH = ("Booth staff, Tokyo city PR exhibition (kendama and origami)",
             "東京都市PRブース担当職員（けん玉・折り紙指導）")
SUBLIMIT = ("Heaven Artist: Sublimit (acrobatics)", "ヘブンアーティスト サブリミット（曲芸）")
MIYAMU = ("Heaven Artist: Miyamu (juggling)", "ヘブンアーティスト ミヤム（ジャグリング）")
JA_RU = ("Interpreter (Japanese-Russian)", "通訳（日本語・ロシア語）")
TYO_PRESS = ("Reporter, Tokyo Metropolitan Government press club", "都庁記者クラブ 記者")
TOF_COMMITTEE = ("Organising committee, International and Regional Relations Department",
                 "トムスク州 国際・地域関係局（総会組織委員会）")
VOLUNTEER = ("Student volunteer, Tomsk Polytechnic University", "トムスク工科大学 学生ボランティア")
FOLK = ("Performer, Tomsk folk ensemble", "出演者（トムスク民族アンサンブル）")
# The report lists two koto teachers from a Tomsk-based group in Tokyo's stage programme.
KOTO = ("Koto teacher, Tomsk-based Japanese culture group", "琴指導者（在トムスク団体）")
RU_EN = ("Interpreter (Russian-English)", "通訳（ロシア語・英語）")
RU_JA = ("Interpreter (Russian-Japanese)", "通訳（ロシア語・日本語）")
TOF_TV = ("Reporter, Tomsk regional television", "トムスク地方テレビ 記者")

# Attending cities and their people, the representative first (names as in the report).
# The list lengths are the report's participant counts: 4 + 9 + 7 + 31 + 53 + 3 = 107.
DELEGATIONS: dict[str, tuple[Person, ...]] = {
    "BKK": (
        Person("Jessadachatr", "Nitaya", "ニタヤ・ジェサダチャル", _R.REPRESENTATIVE,
               ("Minister, Royal Thai Embassy", "在ロシア・タイ大使館公使")),
        Person("Srisawat", "Kanokwan", "カノックワン・シーサワット", _R.DELEGATE,
               ("Director, International Affairs Division, Bangkok Metropolitan Administration",
                "バンコク都 国際課長")),
        Person("Wongsuwan", "Pakorn", "パコーン・ウォンスワン", _R.DELEGATE,
               ("First Secretary, Royal Thai Embassy", "在ロシア・タイ大使館一等書記官")),
        Person("Chaiyaporn", "Supaporn", "スパポーン・チャイヤポーン", _R.STAFF,
               ("Foreign Relations Officer, Bangkok Metropolitan Administration",
                "バンコク都 国際担当職員")),
    ),
    "HAN": (
        Person("Le", "Hong Son", "レー・ホン・ソン", _R.REPRESENTATIVE,
               ("Vice Chairman, Hanoi People's Committee", "ハノイ副市長（人民委員会副委員長）")),
        Person("Nguyen", "Thi Lan Anh", "グエン・ティ・ラン・アイン", _R.DELEGATE,
               ("Director, Department of External Relations", "ハノイ市 外務局長")),
        Person("Tran", "Van Hung", "チャン・ヴァン・フン", _R.DELEGATE,
               ("Deputy Director, Department of Planning and Investment",
                "ハノイ市 計画投資局副局長")),
        Person("Pham", "Thu Ha", "ファム・トゥー・ハー", _R.DELEGATE,
               ("Deputy Director, Department of Labour, Invalids and Social Affairs",
                "ハノイ市 労働・傷病兵・社会局副局長")),
        Person("Do", "Minh Tuan", "ドー・ミン・トゥアン", _R.DELEGATE,
               ("Secretary, Hanoi Youth Union", "ハノイ青年団 書記")),
        Person("Vu", "Thi Hoa", "ヴー・ティ・ホア", _R.STAFF,
               ("Officer, Department of External Relations", "ハノイ市 外務局職員")),
        Person("Hoang", "Duc Anh", "ホアン・ドゥック・アイン", _R.STAFF,
               ("Officer, Office of the People's Committee", "ハノイ市 人民委員会事務局職員")),
        Person("Bui", "Thanh Mai", "ブイ・タイン・マイ", _R.INTERPRETER,
               ("Interpreter (Vietnamese-Russian)", "通訳（ベトナム語・ロシア語）")),
        Person("Dang", "Quoc Bao", "ダン・クオック・バオ", _R.PRESS,
               ("Reporter, Hanoi Moi newspaper", "ハノイモイ紙 記者"), email=False),
    ),
    "SEL": (
        Person("Im", "Jong Seok", "イム・ジョン・ソク", _R.REPRESENTATIVE,
               ("Vice Mayor of Political Affairs", "副市長（政務担当）")),
        Person("Kim", "Soo Jin", "キム・スジン", _R.DELEGATE,
               ("Director General for International Relations, Seoul Metropolitan Government",
                "ソウル特別市 国際交流担当局長")),
        Person("Park", "Sung Ho", "パク・ソンホ", _R.DELEGATE,
               ("Director, International Cooperation Division", "ソウル特別市 国際協力課長")),
        Person("Lee", "Ji Hye", "イ・ジヘ", _R.STAFF,
               ("Officer, International Cooperation Division", "ソウル特別市 国際協力課職員")),
        Person("Choi", "Yun Seo", "チェ・ユンソ", _R.INTERPRETER,
               ("Interpreter (Korean-Russian)", "通訳（韓国語・ロシア語）")),
        Person("Jung", "Hae Won", "チョン・ヘウォン", _R.PERFORMER,
               ("Performer, gayageum (Korean zither)", "出演者（伽倻琴）")),
        Person("Kang", "Min Woo", "カン・ミヌ", _R.PERFORMER,
               ("Performer, janggu (Korean drum)", "出演者（チャング）")),
    ),
    "TYO": (
        # The report's attendee list misprints the Governor's name as 舩添; the body has 舛添.
        Person("MASUZOE", "Yoichi", "舛添 要一", _R.REPRESENTATIVE,
               ("Governor of Tokyo", "東京都知事")),
        Person("TAKAHASHI", "Kenji", "高橋 健二", _R.DELEGATE,
               ("Director General, Bureau of Policy Planning", "政策企画局長")),
        Person("NAKAMURA", "Yumiko", "中村 由美子", _R.DELEGATE,
               ("Director, Foreign Affairs Department", "政策企画局外務部長")),
        Person("YAMAMOTO", "Takeshi", "山本 剛", _R.DELEGATE,
               ("Director, International Cooperation Projects Section",
                "政策企画局外務部国際共同事業課長")),
        Person("KOBAYASHI", "Makoto", "小林 誠", _R.DELEGATE,
               ("Director, Sports Promotion Department, Bureau of Sports",
                "スポーツ振興局スポーツ推進部長")),
        Person("WATANABE", "Akiko", "渡辺 明子", _R.DELEGATE,
               ("Director, Environmental Policy Division, Bureau of Environment",
                "環境局環境政策課長")),
        Person("ITO", "Hiroshi", "伊藤 博", _R.DELEGATE,
               ("Director, Tourism Division, Bureau of Industrial and Labor Affairs",
                "産業労働局観光部振興課長")),
        Person("KATO", "Naoko", "加藤 直子", _R.DELEGATE,
               ("Director for Protocol, Foreign Affairs Department",
                "政策企画局外務部儀典担当課長")),
        Person("SUZUKI", "Daisuke", "鈴木 大輔", _R.DELEGATE,
               ("Director, Disaster Prevention Division, General Affairs Bureau",
                "総務局総合防災部防災管理課長")),
        Person("YOSHIDA", "Shota", "吉田 翔太", _R.STAFF,
               ("Secretary to the Governor", "知事秘書")),
        Person("YAMADA", "Mai", "山田 舞", _R.STAFF, TYO_OFFICER),
        Person("SASAKI", "Yuta", "佐々木 雄太", _R.STAFF, TYO_OFFICER),
        Person("YAMAGUCHI", "Aya", "山口 彩", _R.STAFF, TYO_OFFICER),
        Person("MORI", "Kazuya", "森 和也", _R.STAFF, TYO_OFFICER),
        Person("MATSUMOTO", "Ryo", "松本 亮", _R.STAFF,
               ("Officer, Protocol Section", "外務部儀典担当 職員")),
        Person("INOUE", "Kaori", "井上 香織", _R.STAFF, TYO_BOOTH),
        Person("KIMURA", "Taro", "木村 太郎", _R.STAFF, TYO_BOOTH),
        Person("HAYASHI", "Emi", "林 恵美", _R.STAFF, TYO_BOOTH),
        Person("SHIMIZU", "Koji", "清水 浩二", _R.STAFF,
               ("Officer, Bureau of Sports", "スポーツ振興局 職員")),
        Person("YAMAZAKI", "Nanami", "山崎 七海", _R.STAFF,
               ("Officer, Bureau of Environment", "環境局 職員")),
        Person("ABE", "Sayaka", "阿部 さやか", _R.STAFF,
               ("Photographer, Public Relations Section", "広報担当 職員（写真記録）")),
        # The Heaven Artists on the exhibition stage: Sublimit (2) and Miyamu (1).
        Person("IKEDA", "Sho", "池田 翔", _R.PERFORMER, SUBLIMIT),
        Person("HASHIMOTO", "Ren", "橋本 蓮", _R.PERFORMER, SUBLIMIT),
        Person("ISHIKAWA", "Miyu", "石川 美優", _R.PERFORMER, MIYAMU),
        Person("OKADA", "Natsuki", "岡田 夏希", _R.INTERPRETER, JA_RU),
        Person("FUJITA", "Kenta", "藤田 健太", _R.INTERPRETER, JA_RU),
        Person("GOTO", "Rie", "後藤 理恵", _R.INTERPRETER,
               ("Interpreter (Japanese-English)", "通訳（日本語・英語）")),
        Person("OGAWA", "Masato", "小川 雅人", _R.PRESS, TYO_PRESS),
        Person("MAEDA", "Yuki", "前田 由紀", _R.PRESS, TYO_PRESS),
        Person("MURAKAMI", "Hayato", "村上 隼人", _R.PRESS, TYO_PRESS),
        Person("OKAMOTO", "Tatsuya", "岡本 達也", _R.PRESS,
               ("Cameraman, television press pool", "テレビ記者団 カメラマン"), email=False),
    ),
    "TOF": (
        Person("ZHIVACHKIN", "Sergei", "セルゲイ・ジバーチキン", _R.REPRESENTATIVE,
               ("Governor of Tomsk Oblast", "トムスク州知事")),
        Person("Ivanov", "Andrei", "アンドレイ・イワノフ", _R.DELEGATE,
               ("Deputy Governor for the Economy", "トムスク州副知事（経済担当）")),
        Person("Petrova", "Elena", "エレーナ・ペトロワ", _R.DELEGATE,
               ("Deputy Governor for Social Policy", "トムスク州副知事（社会政策担当）")),
        Person("Smirnov", "Dmitry", "ドミトリー・スミルノフ", _R.DELEGATE,
               ("Head, International and Regional Relations Department",
                "トムスク州 国際・地域関係局長")),
        Person("Kuznetsova", "Olga", "オリガ・クズネツォワ", _R.DELEGATE,
               ("Head, Department of Youth Policy, Physical Culture and Sport",
                "トムスク州 青少年政策・体育・スポーツ局長")),
        Person("Popov", "Alexei", "アレクセイ・ポポフ", _R.DELEGATE,
               ("Director, Tomsk Special Economic Zone", "トムスク技術革新型経済特区 所長")),
        Person("Sokolova", "Natalia", "ナタリア・ソコロワ", _R.DELEGATE,
               ("Head, Department of Social Protection", "トムスク州 社会保護局長")),
        Person("Lebedev", "Mikhail", "ミハイル・レベデフ", _R.DELEGATE,
               ("Head, Department of General Education", "トムスク州 普通教育局長")),
        Person("Kozlova", "Irina", "イリーナ・コズロワ", _R.DELEGATE,
               ("Head, Department of Culture and Tourism", "トムスク州 文化・観光局長")),
        Person("Novikov", "Pavel", "パーヴェル・ノヴィコフ", _R.DELEGATE,
               ("Vice-Rector for International Affairs, Tomsk Polytechnic University",
                "トムスク工科大学 副学長（国際担当）")),
        Person("Morozova", "Tatiana", "タチアナ・モロゾワ", _R.DELEGATE,
               ("Vice-Rector, Tomsk State University", "トムスク国立大学 副学長")),
        Person("Volkov", "Nikolai", "ニコライ・ヴォルコフ", _R.DELEGATE,
               ("Deputy Mayor of the City of Tomsk", "トムスク市 副市長")),
        Person("Solovyova", "Anna", "アンナ・ソロヴィヨワ", _R.DELEGATE,
               ("Chair, Youth Parliament of Tomsk Oblast", "トムスク州青年議会 議長")),
        Person("Vasiliev", "Igor", "イーゴリ・ワシリエフ", _R.DELEGATE,
               ("Deputy, Legislative Duma of Tomsk Oblast", "トムスク州議会 議員")),
        Person("Zaitseva", "Svetlana", "スヴェトラーナ・ザイツェワ", _R.DELEGATE,
               ("Head, Department of Investment", "トムスク州 投資局長")),
        Person("Pavlov", "Maxim", "マクシム・パヴロフ", _R.STAFF,
               ("Chief of Protocol, Tomsk Oblast Administration", "トムスク州 儀典長")),
        Person("Semenova", "Yulia", "ユリア・セミョーノワ", _R.STAFF, TOF_COMMITTEE),
        Person("Golubev", "Artem", "アルチョム・ゴルベフ", _R.STAFF, TOF_COMMITTEE),
        Person("Vinogradova", "Maria", "マリア・ヴィノグラードワ", _R.STAFF, TOF_COMMITTEE),
        Person("Bogdanov", "Roman", "ロマン・ボグダノフ", _R.STAFF,
               ("Transport, organising committee", "総会組織委員会（輸送担当）")),
        Person("Vorobyova", "Ekaterina", "エカテリーナ・ヴォロビヨワ", _R.STAFF,
               ("Exhibition coordinator, International Cultural Centre",
                "国際文化センター 展示担当")),
        Person("Fedorov", "Denis", "デニス・フョードロフ", _R.STAFF,
               ("Technical staff, Tomsk Polytechnic University", "トムスク工科大学 技術スタッフ")),
        Person("Mikhailova", "Daria", "ダリア・ミハイロワ", _R.STAFF,
               ("Press Secretary to the Governor", "州知事報道官")),
        Person("Belov", "Kirill", "キリル・ベロフ", _R.STAFF,
               ("Security, Tomsk Oblast Administration", "トムスク州 警備担当"), email=False),
        # One Tomsk resident in five is a student (policy dialogue): the volunteers are students.
        Person("Tarasova", "Polina", "ポリーナ・タラソワ", _R.STAFF, VOLUNTEER),
        Person("Belyaev", "Ilya", "イリヤ・ベリャーエフ", _R.STAFF, VOLUNTEER),
        Person("Komarova", "Anastasia", "アナスタシア・コマロワ", _R.STAFF, VOLUNTEER),
        Person("Orlov", "Nikita", "ニキータ・オルロフ", _R.STAFF, VOLUNTEER),
        Person("Kiseleva", "Sofia", "ソフィア・キセリョワ", _R.STAFF, VOLUNTEER),
        Person("Makarov", "Egor", "エゴール・マカロフ", _R.STAFF, VOLUNTEER, email=False),
        Person("Andreeva", "Ksenia", "クセニア・アンドレーエワ", _R.STAFF, VOLUNTEER),
        Person("Kovalev", "Vladislav", "ヴラジスラフ・コワリョフ", _R.STAFF, VOLUNTEER),
        Person("Ilyina", "Alina", "アリーナ・イリイナ", _R.STAFF, VOLUNTEER, email=False),
        Person("Gusev", "Timofei", "チモフェイ・グセフ", _R.PERFORMER, FOLK),
        Person("Titova", "Valeria", "ワレリヤ・チトワ", _R.PERFORMER, FOLK),
        Person("Kuzmin", "Stepan", "ステパン・クジミン", _R.PERFORMER, FOLK, email=False),
        Person("Kudryavtseva", "Veronika", "ヴェロニカ・クドリャフツェワ", _R.PERFORMER, FOLK),
        Person("Baranov", "Gleb", "グレブ・バラノフ", _R.PERFORMER, FOLK, email=False),
        Person("Kulikova", "Milana", "ミラナ・クリコワ", _R.PERFORMER, FOLK),
        Person("Alekseeva", "Vera", "ヴェラ・アレクセーエワ", _R.PERFORMER, KOTO),
        Person("Stepanova", "Lyudmila", "リュドミラ・ステパノワ", _R.PERFORMER, KOTO),
        Person("Yakovlev", "Oleg", "オレグ・ヤコヴレフ", _R.INTERPRETER, RU_JA),
        Person("Nikolaeva", "Marina", "マリーナ・ニコラエワ", _R.INTERPRETER, RU_JA),
        Person("Sorokin", "Evgeny", "エフゲニー・ソローキン", _R.INTERPRETER, RU_EN),
        Person("Romanova", "Kristina", "クリスティーナ・ロマノワ", _R.INTERPRETER, RU_EN),
        Person("Zakharov", "Anton", "アントン・ザハロフ", _R.INTERPRETER,
               ("Interpreter (Russian-Korean)", "通訳（ロシア語・韓国語）")),
        Person("Efimova", "Inna", "インナ・エフィモワ", _R.INTERPRETER,
               ("Interpreter (Russian-Vietnamese)", "通訳（ロシア語・ベトナム語）")),
        Person("Nikitin", "Vadim", "ワジム・ニキーチン", _R.PRESS, TOF_TV),
        Person("Frolova", "Alla", "アラ・フロロワ", _R.PRESS, TOF_TV),
        Person("Zhukov", "Ruslan", "ルスラン・ジューコフ", _R.PRESS,
               ("Cameraman, Tomsk regional television", "トムスク地方テレビ カメラマン"),
               email=False),
        Person("Sergeeva", "Galina", "ガリーナ・セルゲーエワ", _R.PRESS,
               ("Correspondent, regional newspaper", "地元紙 記者")),
        Person("Krylov", "Yuri", "ユーリー・クリロフ", _R.PRESS,
               ("Correspondent, regional news agency", "地元通信社 記者")),
        Person("Gromova", "Oksana", "オクサナ・グロモワ", _R.PRESS,
               ("Photographer, Tomsk Oblast press service", "トムスク州広報室 カメラマン")),
    ),
    "ULN": (
        Person("Tseyen", "Enkhtsengel", "エンフツェンゲル・ツェイエン", _R.REPRESENTATIVE,
               ("Deputy Governor in charge of Social Issues", "副市長")),
        Person("Ganbold", "Oyunchimeg", "オユンチメグ・ガンボルド", _R.DELEGATE,
               ("Head, External Relations Division, Capital City Governor's Office",
                "ウランバートル市 渉外課長")),
        Person("Dorj", "Bat-Erdene", "バトエルデネ・ドルジ", _R.INTERPRETER,
               ("Interpreter (Mongolian-Russian)", "通訳（モンゴル語・ロシア語）")),
    ),
}
# Every other member city was absent. Jakarta sent a proxy letter (委任状): see
# add_jakarta_proxy_letter below.

MAIL_DOMAIN = "demo.sokai.example"  # reserved for examples: no mail can reach a real person


# --- loading --------------------------------------------------------------------------------


def load_tomsk_2014(session: Session) -> Assembly:
    """Add the Tomsk 2014 assembly with its network, cities, programme and delegations.

    Only adds and flushes: the caller owns the transaction and commits.
    """
    if session.scalar(select(Network).where(Network.code == NETWORK["code"])) is not None:
        raise ValueError(f"network {NETWORK['code']} already exists: load the demo only once")

    network = Network(**NETWORK)
    cities = {code: MemberCity(network=network, code=code, name={"en": en, "ja": ja},
                               country=country, timezone=zone)
              for code, en, ja, country, zone in CITIES}
    assembly = Assembly(network=network, host_city=cities[HOST_CITY], **ASSEMBLY)
    session.add_all([network, *cities.values(), assembly])
    session.flush()  # delegates carry assembly_id directly

    session.add_all(tomsk_programme(assembly))
    for code, city in cities.items():
        people = DELEGATIONS.get(code, ())
        status = DelegationStatus.ATTENDING if people else DelegationStatus.ABSENT
        delegation = Delegation(assembly=assembly, city=city, status=status)
        domain = f"{_ascii(city.name['en'])}.{MAIL_DOMAIN}"
        language = "ja" if code == "TYO" else "en"
        delegation.delegates = [_delegate(assembly, person, domain, language, city.country)
                                for person in people]
        session.add(delegation)
    session.flush()
    add_jakarta_proxy_letter(session, assembly)
    load_tomsk_2014_side_events(session, assembly)
    from services.demo_outcome import load_tomsk_2014_outcome

    load_tomsk_2014_outcome(session, assembly)
    return assembly


def tomsk_programme(assembly: Assembly | None) -> list[ProgrammeItem]:
    """The items as UTC instants; each ends when the next one on the same day starts.

    With no assembly the items stay unattached (e.g. to be entered through the API)."""
    items = []
    for item, following in zip(PROGRAMME, (*PROGRAMME[1:], None), strict=True):
        starts_at = _instant(item.day, item.start)
        if following is not None and following.day == item.day:
            ends_at = _instant(following.day, following.start)
        elif item.until is not None:
            ends_at = _instant(item.day, item.until)
        else:
            ends_at = starts_at + LAST_ITEM_LENGTH
        items.append(ProgrammeItem(assembly=assembly, title={"en": item.en, "ja": item.ja},
                                   starts_at=starts_at, ends_at=ends_at,
                                   location=dict(item.location), kind=item.kind,
                                   capacity=item.capacity))
    return items


def _instant(day: int, local_time: str) -> datetime:
    """A wall-clock time in Tomsk on a September 2014 day, as an aware UTC datetime."""
    local = datetime.combine(date(2014, 9, day), time.fromisoformat(local_time), tzinfo=TOMSK)
    return local.astimezone(UTC)


def _delegate(assembly: Assembly, person: Person, domain: str, language: str,
              country: str) -> Delegate:
    email = f"{_ascii(person.given)}.{_ascii(person.family)}@{domain}" if person.email else None
    return Delegate(
        assembly_id=assembly.id, family_name=person.family, given_name=person.given,
        name_local=person.local, title={"en": person.title[0], "ja": person.title[1]},
        role=person.role, email=email, language=language, name_order=default_order(country),
        # The report addresses every representative as Mr. or Ms.
        honorific=("Ms." if person.given == "Nitaya" else "Mr.")
        if person.role is DelegateRole.REPRESENTATIVE else "",
        # Those with an address confirmed their own details through the invitation link.
        status=DelegateStatus.CONFIRMED if email else DelegateStatus.REGISTERED,
    )


def _ascii(text: str) -> str:
    """Lower-case ASCII letters and digits only, for mail addresses ("Hong Son" → "hongson")."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]", "", plain.lower())


# Accounts printed by `sokai demo`: the secretariat, and the liaisons of a city that attends
# and of one that stayed away (Jakarta, whose voice went to another city by proxy letter).
DEMO_ACCOUNTS = (
    ("secretariat@anmc21.example.org", Role.SECRETARIAT, None, "secretariat (Tokyo)"),
    ("liaison.tyo@anmc21.example.org", Role.LIAISON, "TYO", "liaison of Tokyo (attending)"),
    ("liaison.jkt@anmc21.example.org", Role.LIAISON, "JKT",
     "liaison of Jakarta (absent; in the 14th GA its letter waits for verification)"),
    ("liaison.bkk@anmc21.example.org", Role.LIAISON, "BKK",
     "liaison of Bangkok (undecided in the 14th GA: try registering)"),
)


def create_demo_accounts(session: Session, password: str) -> list[tuple[str, str]]:
    """The demo's login accounts, all with `password`; returns (email, description) pairs."""
    for email, role, city, _ in DEMO_ACCOUNTS:
        create_user(session, email, role, password, city)
    return [(email, description) for email, _, _, description in DEMO_ACCOUNTS]


# --- Jakarta's proxy letter ----------------------------------------------------------------

# The report says only "委任状提出" (proxy letter submitted); it names neither the holder nor the
# signatory. The demo gives Jakarta's voice to Tokyo, the secretariat's city, signed by the
# governor's office.
JAKARTA_LETTER = {
    "holder": "TYO",
    # No person is named: the office signs, and the title says which (shown "Name, Title").
    "signatory_name": "Office of the Governor",
    "signatory_title": "Special Capital Region of Jakarta",
    "instructions": "",
}


def add_jakarta_proxy_letter(session: Session, assembly: Assembly) -> ProxyLetter:
    """Jakarta's verified letter to Tokyo, with a small generated PDF stored under uploads."""
    from services.proxies import Document, store_document

    cities = {c.code: c for c in session.scalars(
        select(MemberCity).where(MemberCity.network_id == assembly.network_id))}
    content = _letter_pdf()
    path, digest = store_document(session, Document(content, "jakarta-proxy-letter.pdf"))
    submitted = datetime(2014, 8, 25, 10, 0, tzinfo=TOMSK)
    verified = datetime(2014, 8, 27, 15, 0, tzinfo=TOMSK)
    letter = ProxyLetter(
        assembly=assembly, grantor=cities["JKT"], holder=cities[JAKARTA_LETTER["holder"]],
        signatory_name=JAKARTA_LETTER["signatory_name"],
        signatory_title=JAKARTA_LETTER["signatory_title"],
        instructions=JAKARTA_LETTER["instructions"], document_path=path,
        document_sha256=digest, document_size=len(content),
        document_filename="jakarta-proxy-letter.pdf", status=ProxyStatus.VERIFIED,
        submitted_at=submitted, decided_at=verified)
    letter.events = [
        ProxyLetterEvent(at=submitted, action="submitted", from_status=None,
                         to_status=ProxyStatus.SUBMITTED.value, detail={"holder": "TYO"}),
        ProxyLetterEvent(at=verified, action="verified",
                         from_status=ProxyStatus.SUBMITTED.value,
                         to_status=ProxyStatus.VERIFIED.value, detail={}),
    ]
    session.add(letter)
    session.flush()
    return letter


def _letter_pdf() -> bytes:
    """A one-page letter, the same bytes every time (reportlab's invariant mode)."""
    import io

    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    out = io.BytesIO()
    page = canvas.Canvas(out, pagesize=A4, invariant=True)
    page.setTitle("Proxy letter - Jakarta")
    lines = ("PROXY LETTER", "",
             "13th General Assembly of the Asian Network of Major Cities 21",
             "Tomsk, 4-6 September 2014", "",
             "The Special Capital Region of Jakarta, unable to attend, hereby gives its",
             "voice at the General Assembly to the delegation of Tokyo.", "",
             "Governor of the Special Capital Region of Jakarta",
             "(demo document generated by Sokai)")
    y = 780.0
    for line in lines:
        page.drawString(72, y, line)
        y -= 18
    page.showPage()
    page.save()
    return out.getvalue()
