"""Schemas of the summaries API."""

from __future__ import annotations

from apiflask import Schema
from apiflask.fields import Boolean, DateTime, Dict, Integer, List, Nested, String
from apiflask.validators import OneOf

from models import SUMMARY_FORMATS, SummaryStatus


class SummaryIn(Schema):
    language = String(validate=OneOf(["en", "ja"]),
                      metadata={"description": "the report's language; default: yours"})


class SummaryFileOut(Schema):
    format = String(required=True, validate=OneOf(list(SUMMARY_FORMATS)))
    filename = String(required=True)
    size = Integer(required=True)
    sha256 = String(required=True)
    url = String(required=True)


class SummaryOut(Schema):
    id = Integer(required=True)
    assembly = String(required=True)
    status = String(required=True, validate=OneOf([s.value for s in SummaryStatus]))
    progress = Integer(required=True, metadata={"description": "percent"})
    stage = String(required=True, metadata={"example": "pdf"})
    language = String(required=True)
    data_version = String(required=True, metadata={"description": "fingerprint of the data"})
    error = String(required=True)
    attempts = Integer(required=True)
    requested_by = String(allow_none=True)
    created_at = DateTime(required=True)
    started_at = DateTime(allow_none=True)
    finished_at = DateTime(allow_none=True)
    files = List(Nested(SummaryFileOut), required=True)
    downloads = Dict(keys=String(), values=String(), required=True,
                     metadata={"description": "format → download URL, once done"})
    joined = Boolean(required=True, metadata={"description": "an existing job was returned"})
    url = String(required=True)
