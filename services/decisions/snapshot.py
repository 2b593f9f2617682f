"""The attendance picture a decision freezes when it is put to the assembly.

A *picture* says which member cities are present, which are represented (and by whom, through
which verified letter) and which are absent. Pictures are registered by name in `PICTURES`;
the decision records the name it was taken on (its *basis*) next to the frozen lists.

- `"registration"`: present / represented / absent as registered, the one rule of
  `services.attendance.presence_of`.
- `"checkin"`: the same rule on who is at the venue (`services.checkin.presence`: a city is
  present once one of its delegates has checked in); refused (409) before check-in starts.
- Another basis is added with `register_picture(name, fn)`, where
  `fn(session, assembly) -> Picture` (`picture_of(attendance)` turns any attendance picture
  into one). Keep the rule for represented cities the same: a verified letter whose holder is
  present (or the chair, where allowed).

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
from services.attendance import Attendance, Presence, compute_attendance


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


def picture_of(picture: Attendance) -> Picture:
    """The frozen lists of an attendance picture (any basis)."""
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


def registration_picture(session: Session, assembly: Assembly) -> Picture:
    """As registered: delegations that attend, verified letters to them."""
    return picture_of(compute_attendance(session, assembly))


def checkin_picture(session: Session, assembly: Assembly) -> Picture:
    """Who is at the venue (409 before check-in has started)."""
    from services.checkin.presence import attendance_on  # the check-in area's own rule

    return picture_of(attendance_on(session, assembly, "checkin"))


# The bases a decision can be put on; DEFAULT_BASIS is used when none is named.
PICTURES: dict[str, PictureFn] = {"registration": registration_picture,
                                  "checkin": checkin_picture}
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
