"""Flask extensions, created once and bound to the app in create_app()."""

from __future__ import annotations

from flask_babel import Babel
from flask_login import LoginManager
from flask_talisman import Talisman
from flask_wtf import CSRFProtect

from models.db import db

__all__ = ["CONTENT_SECURITY_POLICY", "babel", "csrf", "db", "login_manager", "talisman"]

login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
# Per-view header options: @talisman(content_security_policy=…) on a view. Each app gets its
# own Talisman in create_app() (an instance holds its app's settings).
talisman = Talisman()

# Scripts and styles only from files this server sends: no inline script, no CDN. Images
# may be data: URIs (Bootstrap's icons are). No page may be framed, not even by this site.
CONTENT_SECURITY_POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "font-src": "'self'",
    "connect-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}
