"""One page of a long list (thousands of delegates): the rows of the page, counted and cut by
the database, and the page numbers worth a link."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from flask import request
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from webapp.paths import MAX_ID


@dataclass(frozen=True)
class Page:
    items: Sequence[Any]
    number: int
    pages: int
    total: int

    @property
    def links(self) -> list[int | None]:
        """The page numbers to link: the first, the last and two either side of this one;
        None where numbers are left out (so the row fits a phone's width)."""
        shown = sorted({1, self.pages, *range(max(self.number - 2, 1),
                                             min(self.number + 2, self.pages) + 1)})
        out: list[int | None] = []
        for n in shown:
            if out and n - (out[-1] or 0) > 1:
                out.append(None)
            out.append(n)
        return out


def requested_page() -> int:
    """The ?page= of the request, 1 when absent or nonsense."""
    return min(max(request.args.get("page", 1, type=int) or 1, 1), MAX_ID)


def paginate(session: Session, stmt: Select[Any], per_page: int, number: int,
             *, scalars: bool = True) -> Page:
    """The `number`th page of `stmt` (ordered), past the end meaning the last page."""
    total = session.scalar(select(func.count()).select_from(
        stmt.order_by(None).subquery())) or 0
    pages = max((total + per_page - 1) // per_page, 1)
    number = min(number, pages)
    cut = stmt.offset((number - 1) * per_page).limit(per_page)
    items = session.scalars(cut).unique().all() if scalars else session.execute(cut).all()
    return Page(items=items, number=number, pages=pages, total=total)
