"""The knowledge store: strategies and mental models with provenance, admin-only writes.

Every write names the acting user and is refused for non-admins here (not only in the UI),
because the agent's tools can be called with any user's context. Near-duplicates are caught on
save so the base stays small and retrieval stays sharp.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal, Protocol

from sqlalchemy import func
from sqlmodel import Session, col, select

from knowledge.entries import (
    KINDS,
    Kind,
    KnowledgeEntry,
    KnowledgeError,
    get_row,
    model_for,
    select_rows,
    to_entry,
)
from knowledge.retrieval import ranked_ids, ranked_refs
from knowledge.text import normalize_category, similarity
from tools.models import MentalModel, Role, Strategy, utcnow

DUPLICATE_THRESHOLD = 0.85
MAX_TEXT = 4000
MAX_TITLE = 200
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_DUP_POOL = 40  # entries compared in full after the cheap overlap pre-filter


class PermissionDenied(PermissionError):
    """The acting user may not change the knowledge base."""


class Actor(Protocol):
    """Anything with a name and a role: a tools.models.User or the agent's run context."""

    @property
    def name(self) -> str: ...

    @property
    def role(self) -> Any: ...


@dataclass(frozen=True)
class SystemActor:
    """The app itself (starter knowledge seeding): an admin that is not a person."""

    name: str = "starter"
    role: Role = Role.admin


@dataclass
class SaveResult:
    """Outcome of a save: "saved" (new row), "duplicate" (refused) or "merged" (into existing).

    `entry` is the stored entry the caller should show: the new one, or the existing one that
    the new text duplicated.
    """

    status: Literal["saved", "duplicate", "merged"]
    entry: KnowledgeEntry
    similarity: float = 0.0

    @property
    def saved(self) -> bool:
        return self.status != "duplicate"


def is_admin(actor: Actor | None) -> bool:
    role = getattr(actor, "role", None)
    return str(getattr(role, "value", role)) == Role.admin.value


def require_admin(actor: Actor | None) -> str:
    """The actor's name if it is an admin; PermissionDenied otherwise."""
    if actor is None or not is_admin(actor):
        who = getattr(actor, "name", None) or "anonymous"
        raise PermissionDenied(f"only admins can change the knowledge base ({who} is not one)")
    return str(actor.name)


def _clean_text(text: str, what: str = "text", limit: int = MAX_TEXT) -> str:
    text = " ".join((text or "").split())
    if len(text) < 10:
        raise KnowledgeError(f"{what} is empty or too short (at least 10 characters)")
    if len(text) > limit:
        raise KnowledgeError(f"{what} is too long ({len(text)} > {limit} characters); split it")
    return text


def find_duplicate(
    session: Session,
    kind: Kind,
    text: str,
    title: str | None = None,
    threshold: float = DUPLICATE_THRESHOLD,
) -> tuple[KnowledgeEntry, float] | None:
    """The most similar stored entry of this kind if it is at least `threshold` similar."""
    model = model_for(kind)
    probe = f"{title or ''} {text}".strip()
    # the full-text index finds the few entries sharing the most words; only those are compared
    ids = ranked_ids(session, probe, kind, _DUP_POOL)
    rows: Sequence[Strategy | MentalModel] = (
        session.exec(select_rows(kind).where(col(model.id).in_(ids))).all() if ids else []
    )
    best: tuple[KnowledgeEntry, float] | None = None
    for row in rows:
        score = max(similarity(text, row.text), similarity(probe, _probe_of(row)))
        if score >= threshold and (best is None or score > best[1]):
            best = (to_entry(row), score)
    return best


def _probe_of(row: Strategy | MentalModel) -> str:
    return f"{getattr(row, 'title', '') or ''} {row.text}".strip()


def _save(
    session: Session,
    kind: Kind,
    *,
    text: str,
    category: str | None,
    source: str | None,
    approver: str,
    author: str | None,
    title: str | None,
    on_duplicate: Literal["refuse", "merge"],
) -> SaveResult:
    text = _clean_text(text)
    if kind == "mental_model":
        title = " ".join((title or "").split())[:MAX_TITLE]
        if not title:
            raise KnowledgeError("a mental model needs a title")
    category = normalize_category(category)
    source = (source or "pasted").strip() or "pasted"
    dup = find_duplicate(session, kind, text, title)
    if dup is not None:
        existing, score = dup
        if on_duplicate == "refuse":
            return SaveResult("duplicate", existing, score)
        row = get_row(session, kind, existing.id)
        assert row is not None
        if len(text) > len(row.text):  # keep the more complete wording
            row.text = text
        if source not in row.source.split(" | "):
            row.source = f"{row.source} | {source}"[:2000]
        row.approved_by, row.approved_at = approver, utcnow()
        session.add(row)
        session.flush()
        return SaveResult("merged", to_entry(row), score)
    now = utcnow()
    row_new: Strategy | MentalModel
    if kind == "strategy":
        row_new = Strategy(
            text=text,
            category=category,
            source=source,
            author=author,
            approved_by=approver,
            approved_at=now,
        )
    else:
        row_new = MentalModel(
            title=title or "",
            text=text,
            category=category,
            source=source,
            author=author,
            approved_by=approver,
            approved_at=now,
        )
    session.add(row_new)
    session.flush()
    return SaveResult("saved", to_entry(row_new), 0.0)


def save_strategy(
    session: Session,
    text: str,
    category: str | None,
    source: str | None,
    approved_by: Actor,
    author: str | None = None,
    *,
    on_duplicate: Literal["refuse", "merge"] = "refuse",
) -> SaveResult:
    """Save an approved strategy (admin only). A near-duplicate is refused or merged."""
    approver = require_admin(approved_by)
    return _save(
        session,
        "strategy",
        text=text,
        category=category,
        source=source,
        approver=approver,
        author=author,
        title=None,
        on_duplicate=on_duplicate,
    )


def save_mental_model(
    session: Session,
    title: str,
    text: str,
    category: str | None,
    source: str | None,
    approved_by: Actor,
    author: str | None = None,
    *,
    on_duplicate: Literal["refuse", "merge"] = "refuse",
) -> SaveResult:
    """Save an approved mental model (admin only). A near-duplicate is refused or merged."""
    approver = require_admin(approved_by)
    return _save(
        session,
        "mental_model",
        text=text,
        category=category,
        source=source,
        approver=approver,
        author=author,
        title=title,
        on_duplicate=on_duplicate,
    )


def list_knowledge(
    session: Session,
    kind: Kind | None = None,
    category: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[KnowledgeEntry]:
    """Entries newest first, optionally one kind and/or one category (readable by anyone)."""
    out: list[KnowledgeEntry] = []
    for k in [kind] if kind else list(KINDS):
        model = model_for(k)
        stmt = select_rows(k)
        if category:
            stmt = stmt.where(model.category == normalize_category(category))
        stmt = stmt.order_by(col(model.created_at).desc(), col(model.id).desc())
        stmt = stmt.limit(offset + limit)
        out.extend(to_entry(r) for r in session.exec(stmt))
    out.sort(key=lambda e: (e.approved_at or _EPOCH, e.id), reverse=True)
    return out[offset : offset + limit]


def get_entry(session: Session, kind: Kind, entry_id: int) -> KnowledgeEntry | None:
    row = get_row(session, kind, entry_id)
    return to_entry(row) if row else None


def parse_ref(ref: str) -> tuple[Kind, int]:
    """ "S12" -> ("strategy", 12), "M3" -> ("mental_model", 3)."""
    ref = ref.strip().upper()
    if len(ref) >= 2 and ref[0] in "SM" and ref[1:].isdigit():
        return ("strategy" if ref[0] == "S" else "mental_model"), int(ref[1:])
    raise KnowledgeError(f"not a knowledge reference: {ref!r} (like S12 or M3)")


def delete_knowledge(session: Session, kind: Kind, entry_id: int, acting_user: Actor) -> bool:
    """Delete one entry (admin only); False when it does not exist."""
    require_admin(acting_user)
    row = get_row(session, kind, entry_id)
    if row is None:
        return False
    session.delete(row)
    session.flush()
    return True


def search_entries(
    session: Session, query: str, kind: Kind | None = None, limit: int = 20
) -> list[KnowledgeEntry]:
    """Entries matching `query` (words of the text, title or category), best first; the
    entries of a category named by the query come first."""
    query = " ".join((query or "").split())[:500]
    if not query:
        return list_knowledge(session, kind=kind, limit=limit)
    out = list_knowledge(session, kind=kind, category=query, limit=limit)
    seen = {e.ref for e in out}
    for k, rid in ranked_refs(session, query, kind, limit):
        entry = get_entry(session, k, rid)
        if entry is not None and entry.ref not in seen and len(out) < limit:
            out.append(entry)
            seen.add(entry.ref)
    return out


@dataclass
class EditResult:
    """An applied edit: the entry before and after."""

    before: KnowledgeEntry
    after: KnowledgeEntry


def plan_edit(
    session: Session,
    kind: Kind,
    entry_id: int,
    *,
    text: str | None = None,
    title: str | None = None,
    category: str | None = None,
) -> tuple[KnowledgeEntry, dict[str, str]]:
    """The entry and the validated change (only fields that differ), before anyone approves
    it; KnowledgeError when it does not exist, changes nothing, or would duplicate another."""
    row = get_row(session, kind, entry_id)
    if row is None:
        raise KnowledgeError(f"there is no {'S' if kind == 'strategy' else 'M'}{entry_id}")
    entry = to_entry(row)
    change: dict[str, str] = {}
    if text is not None:
        new_text = _clean_text(text)
        if new_text != row.text:
            change["text"] = new_text
    if title is not None:
        if kind != "mental_model":
            raise KnowledgeError("only mental models have a title; strategies are their text")
        new_title = " ".join(title.split())[:MAX_TITLE]
        if not new_title:
            raise KnowledgeError("a mental model needs a title")
        if new_title != entry.title:
            change["title"] = new_title
    if category is not None:
        new_category = normalize_category(category)
        if new_category != row.category:
            change["category"] = new_category
    if not change:
        raise KnowledgeError(f"that changes nothing in {entry.ref}")
    if "text" in change or "title" in change:
        dup = find_duplicate(
            session, kind, change.get("text", row.text), change.get("title", entry.title)
        )
        if dup is not None and dup[0].id != entry_id:
            raise KnowledgeError(
                f"the new wording would duplicate {dup[0].ref} ({dup[1]:.0%} similar); "
                f"delete one of them instead"
            )
    return entry, change


def edit_knowledge(
    session: Session,
    kind: Kind,
    entry_id: int,
    acting_user: Actor,
    *,
    text: str | None = None,
    title: str | None = None,
    category: str | None = None,
) -> EditResult:
    """Apply an approved edit (admin only): the approver and time are the editor's now."""
    approver = require_admin(acting_user)
    before, change = plan_edit(session, kind, entry_id, text=text, title=title, category=category)
    row = get_row(session, kind, entry_id)
    assert row is not None
    for field, value in change.items():
        setattr(row, field, value)
    row.approved_by, row.approved_at = approver, utcnow()
    session.add(row)
    session.flush()
    return EditResult(before, to_entry(row))


def knowledge_counts(session: Session) -> dict[str, int]:
    return {
        k: int(session.exec(select(func.count()).select_from(model_for(k))).one()) for k in KINDS
    }
