"""Flask extensions, created once and bound to the app in create_app()."""

from __future__ import annotations

from flask_babel import Babel
from flask_login import LoginManager
from flask_wtf import CSRFProtect

from models.db import db

__all__ = ["babel", "csrf", "db", "login_manager"]

login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
