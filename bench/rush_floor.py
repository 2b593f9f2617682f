"""The floors for the registration rush: one INSERT per request, answered 201 with JSON.

Started by bench/rush.py under the same gunicorn settings as `sokai run`:

- `gunicorn rush_floor:app` — a bare Flask app with its own engine (no Sokai at all);
- `gunicorn 'rush_floor:stack_app()'` — Sokai's own app (the app factory, its middleware,
  request hooks, Flask-Babel, the session and engine) with one extra endpoint that does the
  one INSERT through Sokai's database session: the floor of "the same stack".

RUSH_FLOOR_DATABASE_URL names the database (a table `rush_floor` is created in it)."""

from __future__ import annotations

import os
from typing import Any

from flask import Flask, jsonify, request
from sqlalchemy import Column, Integer, MetaData, String, Table, create_engine, insert

metadata = MetaData()
rows = Table("rush_floor", metadata, Column("id", Integer, primary_key=True),
             Column("family_name", String(100)), Column("email", String(254)))
engine = create_engine(os.environ["RUSH_FLOOR_DATABASE_URL"], pool_pre_ping=True)
metadata.create_all(engine)
app = Flask(__name__)


def _values() -> dict[str, Any]:
    data: dict[str, Any] = request.get_json(force=True)
    return {"family_name": data["family_name"], "email": data.get("email")}


@app.post("/floor")
def floor() -> Any:
    with engine.begin() as conn:
        new_id = conn.execute(insert(rows).values(**_values()).returning(rows.c.id)).scalar_one()
    return jsonify({"id": new_id}), 201


def stack_app() -> Flask:
    """Sokai's app (settings from the environment, as `sokai run`) plus the floor endpoint."""
    from config import load_settings
    from webapp import create_app
    from webapp.extensions import csrf, db

    sokai = create_app(load_settings())

    @csrf.exempt
    def stack_floor() -> Any:
        new_id = db.session.execute(
            insert(rows).values(**_values()).returning(rows.c.id)).scalar_one()
        db.session.commit()
        return jsonify({"id": new_id}), 201

    sokai.add_url_rule("/floor", view_func=stack_floor, methods=["POST"])
    return sokai
