"""Flask extensions, created once and bound to the app in create_app()."""

from __future__ import annotations

from flask_babel import Babel
from flask_login import LoginManager
from flask_sqlalchemy import SQLAlchemy
from flask_talisman import Talisman
from flask_wtf import CSRFProtect

from models import Base

# Flask-SQLAlchemy gives a session per request / app context (and so per Celery task);
# the models themselves stay plain SQLAlchemy 2 classes.
db = SQLAlchemy(metadata=Base.metadata)
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
