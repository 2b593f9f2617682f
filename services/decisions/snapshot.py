"""The attendance picture a decision freezes when it is put to the assembly.

A *picture* says which member cities are present, which are represented (and by whom, through
which verified letter) and which are absent. Pictures are registered by name in `PICTURES`;
the decision records the name it was taken on (its *basis*) next to the frozen lists.

- `"registration"` (built in): present / represented / absent as registered, the one rule of
  `services.attendance.presence_of`.
- Another area adds its own basis with `register_picture("checkin", fn)`, where
  `fn(session, assembly) -> Picture` (e.g. present = cities whose representative has checked in
  at the venue). Keep the rule for represented cities the same: a verified letter whose holder
  is present (or the chair, where allowed).

The quorum is always measured the same way on any picture: cities present or represented
against the assembly's rule (`models.Quorum`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from models import Assembly
from services.attendance import Presence, compute_attendance


@dataclass(frozen=True)
class Proxy:
    city: str  # the grantor's code
    holder: str | None  # the holder city's code; None when the chair holds the letter
    letter: int  # the verified letter's id
    instructions: str = ""


@dataclass(frozen=True)
class Picture:
    """Member cities by code, in the report's order."""

    present: list[str]
    represented: list[Proxy]
    absent: list[str]
    extra: dict[str, Any] = field(default_factory=dict)  # what a basis wants to keep besides

    @property
    def members(self) -> int:
        return len(self.present) + len(self.represented) + len(self.absent)

    @property
    def counted(self) -> int:
        return len(self.present) + len(self.represented)


PictureFn = Callable[[Session, Assembly], Picture]


def registration_picture(session: Session, assembly: Assembly) -> Picture:
    """As registered: delegations that attend, verified letters to them."""
    picture = compute_attendance(session, assembly)
    present, represented, absent = [], [], []
    for row in picture.rows:
        if row.presence is Presence.PRESENT:
            present.append(row.city.code)
        elif row.presence is Presence.REPRESENTED and row.letter is not None:
            represented.append(Proxy(city=row.city.code,
                                     holder=row.holder.code if row.holder else None,
                                     letter=row.letter.id,
                                     instructions=row.letter.instructions))
        else:
            absent.append(row.city.code)
    return Picture(present=present, represented=represented, absent=absent)


# The bases a decision can be put on; the first is the default.
PICTURES: dict[str, PictureFn] = {"registration": registration_picture}
DEFAULT_BASIS = "registration"


def register_picture(name: str, picture: PictureFn) -> None:
    """Add (or replace) a basis, e.g. from the check-in area at import time."""
    PICTURES[name] = picture


def take_snapshot(session: Session, assembly: Assembly, basis: str,
                  at: datetime) -> dict[str, Any]:
    """The frozen picture as stored on the decision (plain JSON)."""
    picture = PICTURES[basis](session, assembly)
    required = assembly.quorum.required(picture.members)
    return {
        "basis": basis,
        "taken_at": at.isoformat(),
        "present": list(picture.present),
        "represented": [{"city": p.city, "holder": p.holder, "letter": p.letter,
                         "instructions": p.instructions} for p in picture.represented],
        "absent": list(picture.absent),
        "quorum": {"rule": assembly.quorum.value, "members": picture.members,
                   "required": required, "counted": picture.counted,
                   "reached": assembly.quorum.reached(picture.counted, picture.members)},
        **({"extra": picture.extra} if picture.extra else {}),
    }
