"""A delegate's personal data on request: export (JSON) and erasure, for the secretariat."""

from __future__ import annotations

from typing import Any

from models import Delegate
from services.retention import erase_delegate, export_delegate
from webapp.api import SECRETARIAT, api_user, assembly_or_404, bp, row_or_404, token_auth
from webapp.extensions import db


def _delegate(slug: str, delegate_id: int) -> Delegate:
    assembly = assembly_or_404(slug)
    return row_or_404(Delegate, delegate_id, f"no delegate {delegate_id} in {slug!r}",
                      lambda d: d.assembly_id == assembly.id)


@bp.get("/assemblies/<slug>/delegates/<int:delegate_id>/personal-data")
@bp.auth_required(token_auth, roles=SECRETARIAT)
@bp.doc(summary="Everything held about one delegate (a subject access request), as JSON",
        responses={200: "The delegate's data: the assembly, the person, the mail and the "
                        "audit entries about them", 403: "Not the secretariat",
                   404: "No such delegate in this assembly"})
def export_personal_data(slug: str, delegate_id: int) -> Any:
    return export_delegate(db.session, _delegate(slug, delegate_id), api_user())


@bp.delete("/assemblies/<slug>/delegates/<int:delegate_id>/personal-data")
@bp.auth_required(token_auth, roles=SECRETARIAT)
@bp.output({}, status_code=204)
@bp.doc(summary="Erase one delegate's personal data (counts and reports keep their numbers)",
        responses=[403, 404, 409])
def erase_personal_data(slug: str, delegate_id: int) -> Any:
    erase_delegate(db.session, _delegate(slug, delegate_id), api_user())
    db.session.commit()
    return ""
