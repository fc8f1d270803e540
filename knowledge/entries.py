"""What a stored knowledge entry is: its kinds, tables and typed view.

Shared by the store (writes) and retrieval (ranking), which both build on it; neither imports
the other's internals for these.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlmodel import Session, select
from sqlmodel.sql.expression import SelectOfScalar

from tools.models import MentalModel, Strategy

Kind = Literal["strategy", "mental_model"]
KINDS: tuple[Kind, ...] = ("strategy", "mental_model")


class KnowledgeError(ValueError):
    """Bad knowledge input (empty text, unknown kind, ...), with a message fit to show."""


@dataclass
class KnowledgeEntry:
    """A compact, typed view of one stored entry (what tools and prompts get)."""

    kind: Kind
    id: int
    title: str | None
    text: str
    category: str
    source: str
    author: str | None
    approved_by: str | None
    approved_at: datetime | None

    @property
    def ref(self) -> str:
        """A short stable reference like "S12" / "M3" for citing in answers and deleting."""
        return f"{'S' if self.kind == 'strategy' else 'M'}{self.id}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "ref": self.ref,
            "kind": self.kind,
            "id": self.id,
            "title": self.title,
            "text": self.text,
            "category": self.category,
            "source": self.source,
            "author": self.author,
            "approved_by": self.approved_by,
            "approved_at": self.approved_at.isoformat() if self.approved_at else None,
        }


def model_for(kind: str) -> type[Strategy] | type[MentalModel]:
    if kind == "strategy":
        return Strategy
    if kind == "mental_model":
        return MentalModel
    raise KnowledgeError(f"unknown knowledge kind {kind!r} (strategy or mental_model)")


def select_rows(kind: str) -> SelectOfScalar[Strategy] | SelectOfScalar[MentalModel]:
    """`select(model_for(kind))` typed per table (a select over the union of the two types
    its rows as plain SQLModel)."""
    return select(Strategy) if model_for(kind) is Strategy else select(MentalModel)


def get_row(session: Session, kind: str, entry_id: int) -> Strategy | MentalModel | None:
    return (
        session.get(Strategy, entry_id)
        if model_for(kind) is Strategy
        else session.get(MentalModel, entry_id)
    )


def to_entry(row: Strategy | MentalModel) -> KnowledgeEntry:
    kind: Kind = "strategy" if isinstance(row, Strategy) else "mental_model"
    return KnowledgeEntry(
        kind=kind,
        id=int(row.id or 0),
        title=getattr(row, "title", None),
        text=row.text,
        category=row.category,
        source=row.source,
        author=row.author,
        approved_by=row.approved_by,
        approved_at=row.approved_at,
    )
