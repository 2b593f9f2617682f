"""Proxy letters (委任状): submitting, verifying, rejecting, and the document.

The rules (DESIGN.md): a letter comes from an absent city before the proxy deadline; it names
a city that attends (or the chair where the assembly allows it); no chains either way; one
active letter per grantor (a new one supersedes the old); a holder carries at most the
assembly's limit, also under concurrent submissions; only the secretariat verifies or
rejects, and the grantor's liaison is told by email; every change appends to the history.
"""

from __future__ import annotations

import hashlib
import io
import secrets
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import event, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from config import current_settings
from models import (
    ACTIVE_PROXY_STATUSES,
    Assembly,
    Delegation,
    DelegationStatus,
    MemberCity,
    ProxyLetter,
    ProxyLetterEvent,
    ProxyStatus,
    Role,
    User,
    utcnow,
)
from models.errors import DomainError
from models.languages import language_or_default
from models.text import column_limit, strip_unstorable
from services.access import require_city_access, require_secretariat, user_zone
from services.audit import record
from services.delegations import delegation_for
from services.i18n import N_, _, gettext, in_language, instant_in_zone, salutation
from services.mail.outbox import queue_message
from services.text import checked_text

MAX_DOCUMENT_BYTES = 10 * 1024 * 1024
PDF_MAGIC = b"%PDF-"
INSTRUCTIONS_MAX = 5000  # the letter form's limits
REASON_MAX = 2000


@dataclass(frozen=True)
class Document:
    content: bytes
    filename: str


def check_document(document: Document | None) -> None:
    """A PDF by its content (not its declared type), not empty, at most 10 MB, that a PDF
    library can read page by page, and with nothing that runs on opening (JavaScript,
    automatic or launch actions): the secretariat opens these files."""
    if document is None or not document.content:
        raise DomainError(_("The signed letter is missing or empty: attach the PDF."),
                          code="empty_document", status=422, field="document")
    if len(document.content) > MAX_DOCUMENT_BYTES:
        raise DomainError(_("The document is larger than 10 MB."), code="payload_too_large",
                          status=413, field="document")
    if not document.content.startswith(PDF_MAGIC):
        raise DomainError(_("The document is not a PDF file (whatever its name says)."),
                          code="not_a_pdf", status=422, field="document")
    try:
        active = _active_content(document.content)
    except Exception:  # noqa: BLE001 - whatever the parser trips on, the file is refused
        raise DomainError(_("The document cannot be read as a PDF: it may be damaged. Save "
                            "or scan it again as a PDF."),
                          code="unreadable_pdf", status=422, field="document") from None
    if active:
        raise DomainError(_("The document contains %(what)s, which a signed letter does not "
                            "need: print it to a new PDF or scan it, then upload that.",
                            what=gettext(active)),
                          code="active_pdf", status=422, field="document")


# Keys that make a PDF act by itself: JavaScript (also the /JavaScript names tree),
# additional actions (on open, on page view, on focus …) and an action run on opening.
_ACTIVE_KEYS = {"/JS": N_("JavaScript"), "/JavaScript": N_("JavaScript"),
                "/AA": N_("automatic actions")}
_ACTIVE_ACTIONS = {"/JavaScript": N_("JavaScript"), "/Launch": N_("a launch action"),
                   "/Rendition": N_("a media action")}
_MAX_OBJECTS = 200_000  # a 10 MB file has far fewer; more means a trap, not a letter


def _active_content(content: bytes) -> str | None:
    """What in the PDF would run by itself, or None. Raises when the file does not parse.

    Walks every object reachable from the trailer. /OpenAction is refused when it is an
    action; a plain destination (which page to show first, as LibreOffice and Word write
    it) is harmless and kept."""
    from pypdf import PdfReader
    from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject

    reader = PdfReader(io.BytesIO(content), strict=False)
    if reader.is_encrypted and not reader.decrypt(""):
        raise ValueError("encrypted with a password")
    if len(reader.pages) == 0:
        raise ValueError("no pages")
    seen: set[tuple[int, int]] = set()
    stack: list[object] = [reader.trailer]
    while stack:
        value = stack.pop()
        if isinstance(value, IndirectObject):
            ref = (value.idnum, value.generation)
            if ref in seen:
                continue
            seen.add(ref)
            if len(seen) > _MAX_OBJECTS:
                raise ValueError("too many objects")
            value = value.get_object()
        if isinstance(value, DictionaryObject):
            for key, label in _ACTIVE_KEYS.items():
                if key in value:
                    return label
            action = value.get("/S")
            if action in _ACTIVE_ACTIONS:
                return _ACTIVE_ACTIONS[str(action)]
            opening = value.get("/OpenAction")
            if opening is not None and isinstance(opening.get_object(), DictionaryObject):
                return N_("an action run on opening")
            stack.extend(value.values())
        elif isinstance(value, ArrayObject):
            stack.extend(value)
    return None


def uploads_folder() -> Path:
    folder: Path = current_settings().uploads_path / "proxies"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


_NEW_FILES = "sokai.proxies.new_files"


def store_document(session: Session, document: Document) -> tuple[str, str]:
    """Write under a random name; return (relative path, SHA-256).

    The file is removed again if the session's transaction rolls back, so a refused or failed
    submission leaves no document behind.
    """
    name = f"{secrets.token_hex(16)}.pdf"
    path = uploads_folder() / name
    path.write_bytes(document.content)
    session.info.setdefault(_NEW_FILES, []).append(path)
    return f"proxies/{name}", hashlib.sha256(document.content).hexdigest()


@event.listens_for(Session, "after_commit")
def _keep_new_files(session: Session) -> None:
    session.info.pop(_NEW_FILES, None)


@event.listens_for(Session, "after_rollback")
def _drop_new_files(session: Session) -> None:
    for path in session.info.pop(_NEW_FILES, []):
        path.unlink(missing_ok=True)


def document_file(letter: ProxyLetter) -> Path:
    return current_settings().uploads_path / letter.document_path


def may_see_letter(user: User, letter: ProxyLetter) -> bool:
    """The document is for the secretariat and the grantor's liaison, nobody else."""
    return user.is_secretariat or (user.role is Role.LIAISON
                                   and user.city_id == letter.grantor_city_id)


def _lock_delegations(session: Session, assembly: Assembly, cities: list[MemberCity]) -> None:
    """Serialise submissions that touch the same cities.

    PostgreSQL: SELECT … FOR UPDATE on the delegation rows (in id order, so no deadlock).
    SQLite has no row locks: a write takes the database's write lock at once, so a second
    submission waits for the first to commit before it counts the holder's letters.
    """
    rows = [delegation_for(session, assembly, city) for city in cities]
    session.flush()
    ids = sorted({row.id for row in rows})
    if session.get_bind().dialect.name == "sqlite":
        session.execute(update(Delegation).where(Delegation.id.in_(ids))
                        .values(updated_at=Delegation.updated_at)
                        .execution_options(synchronize_session=False))
    else:
        session.execute(select(Delegation.id).where(Delegation.id.in_(ids))
                        .order_by(Delegation.id).with_for_update())
    for row in rows:
        session.refresh(row)


def _active_letter(session: Session, assembly: Assembly, grantor: MemberCity
                   ) -> ProxyLetter | None:
    return session.scalar(select(ProxyLetter).where(
        ProxyLetter.assembly_id == assembly.id, ProxyLetter.grantor_city_id == grantor.id,
        ProxyLetter.status.in_(ACTIVE_PROXY_STATUSES)))


def _held(session: Session, assembly: Assembly, holder: MemberCity) -> int:
    return session.scalar(select(func.count(ProxyLetter.id)).where(
        ProxyLetter.assembly_id == assembly.id, ProxyLetter.holder_city_id == holder.id,
        ProxyLetter.status.in_(ACTIVE_PROXY_STATUSES))) or 0


def submit_letter(session: Session, assembly: Assembly, grantor: MemberCity,
                  holder: MemberCity | None, *, signatory_name: str, user: User,
                  document: Document | None, to_chair: bool = False,
                  signatory_title: str = "", instructions: str = "",
                  now: datetime | None = None) -> ProxyLetter:
    """Record a letter; the caller commits. Raises DomainError naming the broken rule."""
    require_city_access(user, grantor)
    now = now or utcnow()
    if now > assembly.proxy_deadline and not user.is_secretariat:
        raise DomainError(
            _("Proxy letters were due by %(deadline)s; this one is too late.",
              deadline=instant_in_zone(assembly.proxy_deadline, user_zone(user, assembly))),
            code="deadline_passed")
    signatory_name = checked_text("signatory_name", signatory_name,
                                  max_length=column_limit(ProxyLetter.signatory_name))
    signatory_title = checked_text("signatory_title", signatory_title,
                                   max_length=column_limit(ProxyLetter.signatory_title))
    instructions = checked_text("instructions", instructions, max_length=INSTRUCTIONS_MAX,
                                multiline=True)
    if not signatory_name:
        raise DomainError(_("Give the name of the person who signed the letter."),
                          code="signatory_required", status=422, field="signatory_name")
    if to_chair:
        if not assembly.proxy_to_chair_allowed:
            raise DomainError(_("This assembly does not accept letters naming the chair."),
                              code="chair_not_allowed", status=422, field="holder")
        holder = None
    elif holder is None:
        raise DomainError(_("Name the city that will hold the letter."), code="holder_required",
                          status=422, field="holder")
    elif holder.id == grantor.id:
        raise DomainError(_("A city cannot hold its own letter."), code="self_proxy",
                          status=422, field="holder")
    check_document(document)
    assert document is not None

    _lock_delegations(session, assembly, [grantor] + ([holder] if holder else []))
    if delegation_for(session, assembly, grantor).status is not DelegationStatus.ABSENT:
        raise DomainError(_("Only a city that has declared itself absent can give a proxy "
                          "letter."), code="grantor_not_absent")
    if holder is not None:
        if delegation_for(session, assembly, holder).status is not DelegationStatus.ATTENDING:
            raise DomainError(_("%(city)s does not attend, so it cannot hold a proxy letter.",
                              city=holder.name.get("en", holder.code)),
                              code="holder_not_attending", field="holder")
        if _active_letter(session, assembly, holder) is not None:
            raise DomainError(_("%(city)s has given its own letter and cannot hold one "
                              "(no chains).", city=holder.name.get("en", holder.code)),
                              code="chain", field="holder")
    if _held(session, assembly, grantor):
        raise DomainError(_("Your city holds letters of other cities and cannot pass its voice "
                          "on (no chains)."), code="chain")
    previous = _active_letter(session, assembly, grantor)
    if holder is not None:
        carried = _held(session, assembly, holder)
        if previous is not None and previous.holder_city_id == holder.id:
            carried -= 1  # the new letter replaces this one
        if carried >= assembly.max_proxies_per_holder:
            raise DomainError(_("%(city)s already holds %(count)d letters, the most this assembly "
                              "allows.", city=holder.name.get("en", holder.code),
                              count=carried),
                              code="holder_limit", field="holder")

    if previous is not None:
        previous.change_status(ProxyStatus.SUPERSEDED, user, "superseded")
        session.flush()  # the unique index allows one active letter per grantor
    path, digest = store_document(session, document)
    letter = ProxyLetter(assembly=assembly, grantor=grantor, holder=holder, to_chair=to_chair,
                         signatory_name=signatory_name.strip(),
                         signatory_title=(signatory_title or "").strip(),
                         instructions=(instructions or "").strip(), document_path=path,
                         document_sha256=digest, document_size=len(document.content),
                         document_filename=_safe_filename(document.filename),
                         status=ProxyStatus.SUBMITTED, submitted_by_id=user.id,
                         submitted_at=now)
    session.add(letter)
    session.add(ProxyLetterEvent(letter=letter, actor_id=user.id, action="submitted",
                                 from_status=None, to_status=ProxyStatus.SUBMITTED.value,
                                 detail={"holder": holder.code if holder else "chair",
                                         "sha256": digest,
                                         "supersedes": previous.id if previous else None}))
    try:
        session.flush()
    except IntegrityError:  # a concurrent letter from the same grantor won
        raise DomainError(_("Another letter from your city was recorded at the same moment; "
                          "reload and try again."), code="conflict") from None
    record(session, "proxy.submitted", f"proxy_letter:{letter.id}",
           None if previous is None else {"supersedes": previous.id},
           {"grantor": grantor.code, "holder": holder.code if holder else "chair",
            "status": letter.status.value, "sha256": digest}, user)
    return letter


def _safe_filename(name: str) -> str:
    # A file name is only shown: what the text rule refuses (NUL, CR, LF …) is dropped.
    name = strip_unstorable(Path(name or "letter.pdf").name).replace("\t", " ").strip()
    return name[:255] or "letter.pdf"


def verify_letter(session: Session, letter: ProxyLetter, user: User) -> ProxyLetter:
    require_secretariat(user)
    if letter.status is not ProxyStatus.SUBMITTED:
        raise DomainError(_("Only a letter waiting for verification can be verified (this one "
                          "is %(status)s).", status=letter.status.value), code="not_submitted")
    letter.change_status(ProxyStatus.VERIFIED, user, "verified")
    letter.decided_by_id, letter.decided_at = user.id, utcnow()
    record(session, "proxy.verified", f"proxy_letter:{letter.id}",
           {"status": ProxyStatus.SUBMITTED.value}, {"status": letter.status.value}, user)
    _tell_liaisons(session, letter)
    session.flush()
    return letter


def reject_letter(session: Session, letter: ProxyLetter, user: User, reason: str) -> ProxyLetter:
    require_secretariat(user)
    reason = checked_text("reason", reason, max_length=REASON_MAX, multiline=True)
    if not reason:
        raise DomainError(_("Say why the letter is rejected: the liaison will read it."),
                          code="reason_required", status=422, field="reason")
    if letter.status not in ACTIVE_PROXY_STATUSES:
        raise DomainError(_("This letter is no longer active (it is %(status)s).",
                          status=letter.status.value), code="not_active")
    before = letter.status.value
    letter.change_status(ProxyStatus.REJECTED, user, "rejected", {"reason": reason})
    letter.rejection_reason = reason
    record(session, "proxy.rejected", f"proxy_letter:{letter.id}", {"status": before},
           {"status": letter.status.value, "reason": reason}, user)
    letter.decided_by_id, letter.decided_at = user.id, utcnow()
    _tell_liaisons(session, letter)
    session.flush()
    return letter


def _tell_liaisons(session: Session, letter: ProxyLetter) -> None:
    """Email the grantor city's liaisons, each in their own language."""
    liaisons = session.scalars(select(User).where(User.role == Role.LIAISON,
                                                  User.city_id == letter.grantor_city_id,
                                                  User.is_active.is_(True)))
    assembly = letter.assembly
    for liaison in liaisons:
        lang = language_or_default(liaison.language)
        with in_language(lang):
            title = assembly.title.get(lang) or assembly.title.get("en", "")
            holder = (letter.holder.name.get(lang) or letter.holder.name.get("en", "")
                      if letter.holder else gettext("the chair"))
            if letter.status is ProxyStatus.VERIFIED:
                subject = gettext("Your proxy letter for %(assembly)s is verified",
                                  assembly=title)
                body = gettext("The secretariat verified the proxy letter of your city for "
                               "%(assembly)s. %(holder)s will carry your city's voice.",
                               assembly=title, holder=holder)
            else:
                subject = gettext("Your proxy letter for %(assembly)s was not accepted",
                                  assembly=title)
                body = gettext("The secretariat could not accept the proxy letter of your city "
                               "for %(assembly)s.\n\nReason: %(reason)s\n\nYou may upload a "
                               "corrected letter before the proxy deadline.",
                               assembly=title, reason=letter.rejection_reason)
            body = salutation(liaison.display_name) + "\n\n" + body + "\n"
        queue_message(session, kind="proxy_decision", to_address=liaison.email,
                      to_name=liaison.display_name, subject=subject, text_body=body,
                      language=lang, assembly_id=assembly.id)


def letters_of(session: Session, assembly: Assembly, user: User) -> list[ProxyLetter]:
    """All letters for the secretariat; a liaison sees only their own city's."""
    query = select(ProxyLetter).where(ProxyLetter.assembly_id == assembly.id)
    if not user.is_secretariat:
        query = query.where(ProxyLetter.grantor_city_id == (user.city_id or -1))
    # Every list shows each letter's cities and history (with who acted): loaded up front,
    # not one query per letter.
    query = query.options(selectinload(ProxyLetter.grantor), selectinload(ProxyLetter.holder),
                          selectinload(ProxyLetter.events).selectinload(ProxyLetterEvent.actor))
    return list(session.scalars(query.order_by(ProxyLetter.submitted_at.desc(),
                                               ProxyLetter.id.desc())))


def letters_held_by(session: Session, assembly: Assembly, city: MemberCity) -> list[ProxyLetter]:
    """The active letters naming `city` as holder: the votes its delegation carries. Its
    liaison sees who gave them and their state (not the documents)."""
    return list(session.scalars(
        select(ProxyLetter).where(ProxyLetter.assembly_id == assembly.id,
                                  ProxyLetter.holder_city_id == city.id,
                                  ProxyLetter.status.in_(ACTIVE_PROXY_STATUSES))
        .options(selectinload(ProxyLetter.grantor))
        .order_by(ProxyLetter.submitted_at, ProxyLetter.id)))
