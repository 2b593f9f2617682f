"""The HTML part of Sokai's mail: one layout for every message, the body written as plain
text (escaped, paragraphs kept, links made clickable)."""

from __future__ import annotations

import re
from collections.abc import Sequence

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup, escape

_env = Environment(loader=PackageLoader("services.mail", "templates"),
                   autoescape=select_autoescape(["html"]))
_URL = re.compile(r"(https?://[^\s<]+)")


def text_to_html(text: str) -> Markup:
    """The body as HTML paragraphs: every character escaped, links made clickable."""
    paragraphs = [p for p in re.split(r"\n\s*\n", text.strip()) if p.strip()]
    html = []
    for paragraph in paragraphs:
        escaped = str(escape(paragraph))
        linked = _URL.sub(r'<a href="\1">\1</a>', escaped)
        html.append(f"<p>{linked.replace(chr(10), '<br>')}</p>")
    return Markup("\n".join(html))


def render_mail_html(*, subject: str, body: Markup, lang: str, heading: str = "",
                     link: str = "", times: Sequence[tuple[str, str]] = ()) -> str:
    """The message in the layout: a heading (the assembly), the body, optionally the times
    that matter in several zones, and a link back to Sokai."""
    return _env.get_template("message.html").render(
        subject=subject, body=body, lang=lang, heading=heading, link=link, times=times)
