"""The floor for the registration rush: a bare Flask app on the same stack (gunicorn, the
same database) whose one endpoint does one INSERT per request and answers 201 with JSON.

Started by bench/rush.py with `gunicorn rush_floor:app`; RUSH_FLOOR_DATABASE_URL names the
database (a table `rush_floor` is created in it)."""

from __future__ import annotations

import os

from flask import Flask, jsonify, request
from sqlalchemy import Column, Integer, MetaData, String, Table, create_engine, insert

engine = create_engine(os.environ["RUSH_FLOOR_DATABASE_URL"], pool_pre_ping=True)
metadata = MetaData()
rows = Table("rush_floor", metadata, Column("id", Integer, primary_key=True),
             Column("family_name", String(100)), Column("email", String(254)))
metadata.create_all(engine)
app = Flask(__name__)


@app.post("/floor")
def floor():  # type: ignore[no-untyped-def]
    data = request.get_json()
    with engine.begin() as conn:
        new_id = conn.execute(insert(rows).values(
            family_name=data["family_name"], email=data.get("email"))).inserted_primary_key[0]
    return jsonify({"id": new_id}), 201
