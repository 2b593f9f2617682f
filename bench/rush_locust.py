"""The people of the registration rush, for Locust (run by bench/rush.py, not on its own).

RUSH_DATA names a JSON file written by bench/rush.py: the assembly, the liaisons' accounts,
the delegates' personal links and the optional visits. RUSH_MODE picks who runs:
`rush` (liaisons and delegates doing the real flows), `register` (the delegate-registration
API call as fast as it goes) or `floor` (the one-INSERT endpoint of bench/rush_floor.py).
"""

from __future__ import annotations

import itertools
import json
import os
import random
import re
import threading

from locust import FastHttpUser, between, constant, task

DATA = json.loads(open(os.environ["RUSH_DATA"]).read())  # noqa: SIM115
MODE = os.environ.get("RUSH_MODE", "rush")
SLUG = DATA["slug"]
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
_counters: dict[int, itertools.count[int]] = {}
_lock = threading.Lock()


def _take(pool: list) -> object:  # type: ignore[type-arg]
    """The next entry of this pool: each liaison, delegate or city is played once."""
    with _lock:
        counter = _counters.setdefault(id(pool), itertools.count())
        return pool[next(counter) % len(pool)]


def _csrf(text: str) -> str:
    found = CSRF.search(text)
    if not found:
        raise AssertionError("no CSRF token on the page")
    return found.group(1)


class Liaison(FastHttpUser):
    """Logs in, opens My city, declares, adds delegates (one in four imports a file), one in
    ten cities sends a proxy letter instead; then keeps an eye on My city."""

    weight = 1 if MODE == "rush" else 0
    fixed_count = len(DATA["liaisons"]) if MODE == "rush" else 0
    # The last hour compressed twelve-fold: a liaison who looks at My city every few minutes
    # while the deadline nears does so every 10–30 s here.
    wait_time = between(10, 30)

    def on_start(self) -> None:
        self.me = _take(DATA["liaisons"])
        page = self.client.get("/login", name="GET /login").text
        with self.client.post("/login", name="POST /login", allow_redirects=False,
                              data={"email": self.me["email"], "password": DATA["password"],
                                    "csrf_token": _csrf(page)}, catch_response=True) as answer:
            if answer.status_code != 302:
                answer.failure(f"login answered {answer.status_code}")
        self.client.get("/my/", name="GET /my/")
        my = self.client.get(f"/my/{SLUG}", name="GET /my/<slug>").text
        token = _csrf(my)
        if self.me["absent"]:
            self._post(f"/my/{SLUG}/status", {"status": "absent", "csrf_token": token},
                       "POST /my/<slug>/status")
            self._post(f"/my/{SLUG}/letter",
                       {"holder": self.me["holder"], "signatory_name": "Mayor of the city",
                        "signatory_title": "Mayor", "csrf_token": token},
                       "POST /my/<slug>/letter",
                       files={"document": ("letter.pdf", DATA["pdf"].encode("latin-1"),
                                           "application/pdf")})
            return
        self._post(f"/my/{SLUG}/status", {"status": "attending", "csrf_token": token},
                   "POST /my/<slug>/status")
        if self.me["imports"]:
            rows = ["family_name,given_name,email,role"] + [
                f"Import{n},{self.me['code']},imp{n}.{self.me['code'].lower()}@example.org,"
                f"delegate" for n in range(5)]
            self._post(f"/my/{SLUG}/import", {"csrf_token": token}, "POST /my/<slug>/import",
                       files={"file": ("delegation.csv", "\n".join(rows).encode(),
                                       "text/csv")})
        else:
            for n in range(3):
                self._post(f"/my/{SLUG}/delegates",
                           {"family_name": f"Added{n}", "given_name": self.me["code"],
                            "role": "delegate", "language": "en",
                            "email": f"add{n}.{self.me['code'].lower()}@example.org",
                            "csrf_token": token}, "POST /my/<slug>/delegates")

    def _post(self, path: str, data: dict, name: str, files: dict | None = None) -> None:  # type: ignore[type-arg]
        with self.client.post(path, name=name, data=data, files=files, allow_redirects=False,
                              catch_response=True) as answer:
            if answer.status_code not in (302, 303):
                answer.failure(f"{name} answered {answer.status_code}")

    @task
    def my_city(self) -> None:
        self.client.get(f"/my/{SLUG}", name="GET /my/<slug>")


class Delegate(FastHttpUser):
    """Opens the personal link from the invitation, confirms and picks an optional visit."""

    weight = 0
    fixed_count = len(DATA["delegates"]) if MODE == "rush" else 0
    wait_time = constant(3600)  # one visit: the page, the confirmation

    @task
    def confirm(self) -> None:
        me = _take(DATA["delegates"])
        path = f"/d/{me['token']}"
        page = self.client.get(path, name="GET /d/<token>").text
        data = {"family_name": me["family_name"], "given_name": me["given_name"],
                "email": me["email"], "language": "en", "role": "delegate",
                "csrf_token": _csrf(page)}
        items = [str(random.choice(DATA["items"]))]
        with self.client.post(path, name="POST /d/<token>", allow_redirects=False,
                              data={**data, "items": items}, catch_response=True) as answer:
            if answer.status_code not in (302, 303):
                answer.failure(f"confirmation answered {answer.status_code}")


class Register(FastHttpUser):
    """The delegate-registration API call, back to back."""

    weight = 1 if MODE == "register" else 0
    wait_time = constant(0)

    def on_start(self) -> None:
        self.city = _take(DATA["attending"])
        self.n = 0

    @task
    def register(self) -> None:
        self.n += 1
        tag = f"{threading.get_ident()}-{self.n}"
        with self.client.post(
                f"/api/v1/assemblies/{SLUG}/delegates", name="POST /api/v1/…/delegates",
                headers={"Authorization": f"Bearer {DATA['api_token']}"},
                json={"city": self.city, "family_name": f"Rush{tag}", "role": "delegate",
                      "email": f"r{tag}@example.org"}, catch_response=True) as answer:
            if answer.status_code != 201:
                answer.failure(f"answered {answer.status_code}: {answer.text[:200]}")


class Floor(FastHttpUser):
    """One INSERT per request on the same stack."""

    weight = 1 if MODE == "floor" else 0
    wait_time = constant(0)

    def on_start(self) -> None:
        self.n = 0

    @task
    def insert(self) -> None:
        self.n += 1
        tag = f"{threading.get_ident()}-{self.n}"
        with self.client.post("/floor", name="POST /floor", catch_response=True,
                              json={"family_name": f"Rush{tag}",
                                    "email": f"r{tag}@example.org"}) as answer:
            if answer.status_code != 201:
                answer.failure(f"answered {answer.status_code}")
