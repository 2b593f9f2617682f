"""`sokai demo --port P` as a newcomer runs it: every link in every mail and page points at
port P and answers; the printed curl line answers 200; `sokai tokens create` reaches the
demo's database."""

from __future__ import annotations

import email
import http.cookiejar
import os
import re
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from email import policy
from pathlib import Path

from tests.conftest import CSRF_RE, wait_for
from tests.test_cli import free_port, port_is_free, start, stop_with_ctrl_c, wait_until

LINK = re.compile(r"""(?:https?|webcal)://[^\s"'<>)]+""")
EXTERNAL = ("calendar.google.com", "outlook.live.com", "www.openstreetmap.org")


def _csrf(page: str) -> str:
    return next(g for g in CSRF_RE.search(page).groups() if g)


def _status(opener: urllib.request.OpenerDirector, url: str) -> int:
    try:
        with opener.open(url, timeout=30) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code


def test_every_link_of_the_demo_follows_its_port(tmp_path: Path) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items()
           if k not in ("DATABASE_URL", "CELERY_BROKER_URL", "REDIS_URL", "SMTP_URL",
                        "SECRET_KEY", "SOKAI_BASE_URL", "MAIL_FROM")}
    env["SOKAI_INSTANCE_PATH"] = str(tmp_path / "instance")
    log = tmp_path / "demo.log"
    proc = start(["demo", "--port", str(port)], env, log)
    base = f"http://127.0.0.1:{port}"
    try:
        # The token and curl line come last, once web and worker are up.
        wait_until(lambda: "curl -H" in log.read_text(), 180, "the curl line", proc)
        output = log.read_text()
        assert output.rindex("curl -H") > output.rindex("Listening at")
        curl = re.search(r"curl -H 'Authorization: Bearer (\S+)' (\S+)", output)
        token, url = curl.group(1), curl.group(2)
        assert url.startswith(f"{base}/api/v1/assemblies/anmc21-kuala-lumpur-")
        slug = url.split("/")[-2]
        api = urllib.request.build_opener()
        api.addheaders = [("Authorization", f"Bearer {token}")]
        assert _status(api, url) == 200
        password = re.search(r"with password (\S+) as:", output).group(1)

        # `sokai tokens create` (no DATABASE_URL) acts on the running demo's database.
        made = subprocess.run([sys.executable, "-m", "webapp.cli", "tokens", "create",
                               "liaison.bkk@anmc21.example.org"], env=env,
                              capture_output=True, text=True, timeout=120)
        assert made.returncode == 0, made.stderr
        assert "using the running demo's database" in made.stderr
        bangkok = urllib.request.build_opener()
        bangkok.addheaders = [("Authorization", f"Bearer {made.stdout.strip()}")]
        assert _status(bangkok, f"{base}/api/v1/assemblies/{slug}/delegations/BKK") == 200

        # Mail: a liaison invitation (API) and a delegate invitation (the page).
        request = urllib.request.Request(
            f"{base}/api/v1/cities/SEL/invitations", method="POST",
            data=b'{"email": "new.liaison@seoul.demo.sokai.example"}',
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"})
        with urllib.request.urlopen(request, timeout=30) as response:
            assert response.status == 201
        jar = http.cookiejar.CookieJar()
        browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        login = browser.open(f"{base}/login").read().decode()
        browser.open(f"{base}/login", data=urllib.parse.urlencode({
            "email": "secretariat@anmc21.example.org", "password": password,
            "csrf_token": _csrf(login)}).encode()).read()
        my_city = browser.open(f"{base}/my/{slug}?city=TYO").read().decode()
        invite = re.search(r'action="(/my/[^"]+/invite[^"]*)"', my_city).group(1)
        browser.open(base + invite.replace("&amp;", "&"), data=urllib.parse.urlencode(
            {"csrf_token": _csrf(my_city)}).encode()).read()
        drop = tmp_path / "instance" / "maildrop"
        mails = wait_for(lambda: len(list(drop.glob("*.eml"))) >= 2 and list(
            drop.glob("*.eml")), timeout=120)
        assert mails, "the two invitations were not delivered"

        links: set[str] = set()
        for path in mails:
            message = email.message_from_bytes(path.read_bytes(), policy=policy.default)
            assert message["Message-ID"].endswith("@anmc21.example.org>") or \
                message["Message-ID"].endswith("@127.0.0.1>")
            for part in message.walk():
                if part.get_content_maintype() == "text":
                    links |= set(LINK.findall(part.get_content()))
        mail_links = {link for link in links if "/invitation/" in link or "/d/" in link}
        assert len(mail_links) >= 2, links
        # Pages: the newcomer's tour, and the delegate's own pages from the mail.
        pages = ["/", f"/a/{slug}", "/secretariat/", f"/my/{slug}?city=TYO",
                 f"/secretariat/assemblies/{slug}/programme",
                 f"/secretariat/assemblies/{slug}/programme/feeds"]
        delegate_page = next(link for link in mail_links if "/d/" in link)
        for page in [*pages, delegate_page.removeprefix(base)]:
            html = browser.open(base + page).read().decode()
            links |= set(LINK.findall(html.replace("&amp;", "&")))
        calendar = re.search(r'href="(/calendar/p/[^"]+)"',
                             browser.open(delegate_page).read().decode())
        assert calendar, "the delegate page links to the personal calendar"
        html = browser.open(base + calendar.group(1)).read().decode()
        links |= set(LINK.findall(html.replace("&amp;", "&")))

        ours = set()
        for link in links:
            parts = urllib.parse.urlsplit(link)
            if parts.hostname in EXTERNAL:
                # e.g. Google's "add by URL": the feed it carries must be ours.
                inner = [v for values in urllib.parse.parse_qs(parts.query).values()
                         for v in values if "://" in v]
                ours |= set(inner)
                continue
            if parts.hostname in ("127.0.0.1", "localhost"):
                ours.add(link)
        assert any(link.startswith("webcal://") for link in ours), ours
        for link in sorted(ours):
            parts = urllib.parse.urlsplit(link)
            assert parts.port == port, f"{link} does not point at port {port}"
            fetched = urllib.parse.urlunsplit(("http", *parts[1:]))
            opener = urllib.request.build_opener()  # anonymous: links work from a mail
            assert _status(opener, fetched) in (200, 302), fetched
        assert f":{5000}" not in " ".join(links)
    finally:
        if proc.poll() is None:
            stop_with_ctrl_c(proc, log)
    assert port_is_free(port)
    assert not (tmp_path / "instance" / "demo-database-url").exists()
