"""Retrieval: the few knowledge entries most relevant to a question or a deal, size-bounded.

Ranking happens in the database: SQLite FTS5 BM25 (table + triggers from migration 0002) or
PostgreSQL full-text (ts_rank_cd over GIN-indexed to_tsvector). Prompts then carry only what
matters instead of the whole base. A plain Python ranking covers databases without either.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text as sql
from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlmodel import Session, col

from knowledge.entries import KINDS, Kind, KnowledgeEntry, model_for, select_rows, to_entry
from knowledge.text import iter_tokens, token_set
from tools.models import MentalModel, Strategy

log = logging.getLogger(__name__)

DEFAULT_K = 4
DEFAULT_MAX_CHARS = 1800
MAX_TERMS = 32
MAX_QUERY_CHARS = 2_000  # a question's terms are in its start; a 100 KB message is not read
MIN_SNIPPET = 80

# Keep in step with the GIN indexes of migration 0002.
_PG_STRATEGY_DOC = "to_tsvector('english', coalesce(category, '') || ' ' || coalesce(text, ''))"
_PG_MENTAL_DOC = (
    "to_tsvector('english', coalesce(title, '') || ' ' || coalesce(category, '') "
    "|| ' ' || coalesce(text, ''))"
)


@dataclass
class KnowledgeHit(KnowledgeEntry):
    """A retrieved entry with its relevance score (higher is better)."""

    score: float = 0.0


def _terms(query: str) -> list[str]:
    """The first MAX_TERMS distinct words of the query's first MAX_QUERY_CHARS (read no further:
    the query may be a chat message of any length)."""
    seen: dict[str, None] = {}
    for t in iter_tokens(query[:MAX_QUERY_CHARS]):
        t = t.replace("'", "")
        if t and len(t) > 1:
            seen.setdefault(t, None)
            if len(seen) == MAX_TERMS:
                break
    return list(seen)


def _sqlite_rank(
    session: Session, terms: list[str], limit: int, kind: str | None = None
) -> list[tuple[str, int, float]]:
    match = " OR ".join(f'"{t}"' for t in terms)
    only = "" if kind is None else f" AND rowid % 2 = {0 if kind == 'strategy' else 1}"
    rows = session.execute(
        sql(
            "SELECT rowid, bm25(knowledge_fts, 3.0, 1.0, 2.0) AS score FROM knowledge_fts "
            f"WHERE knowledge_fts MATCH :q{only} ORDER BY score LIMIT :n"
        ),
        {"q": match, "n": limit},
    ).all()
    # bm25() is lower-is-better (negative); flip it so every backend says higher-is-better
    return [
        ("strategy" if r[0] % 2 == 0 else "mental_model", r[0] // 2, -float(r[1])) for r in rows
    ]


_PG_PARTS = {
    "strategy": f"""SELECT 'strategy' AS kind, id, ts_rank_cd({_PG_STRATEGY_DOC}, q, 1) AS score
        FROM strategy, to_tsquery('english', :q) q WHERE {_PG_STRATEGY_DOC} @@ q""",
    "mental_model": f"""SELECT 'mental_model' AS kind, id,
        ts_rank_cd({_PG_MENTAL_DOC}, q, 1) AS score
        FROM mental_model, to_tsquery('english', :q) q WHERE {_PG_MENTAL_DOC} @@ q""",
}


def _pg_rank(
    session: Session, terms: list[str], limit: int, kind: str | None = None
) -> list[tuple[str, int, float]]:
    q = " | ".join(terms)
    union = " UNION ALL ".join(_PG_PARTS[k] for k in ([kind] if kind else KINDS))
    rows = session.execute(
        sql(f"{union} ORDER BY score DESC, id LIMIT :n"),
        {"q": q, "n": limit},
    ).all()
    return [(r[0], int(r[1]), float(r[2])) for r in rows]


def _python_rank(
    session: Session, terms: list[str], limit: int, kind: str | None = None
) -> list[tuple[str, int, float]]:
    """Overlap weighted by inverse document frequency: fine for a few thousand entries."""
    want = token_set(" ".join(terms))
    docs: list[tuple[str, int, frozenset[str]]] = []
    for k in [kind] if kind else KINDS:
        for row in session.exec(select_rows(k)):
            words = token_set(f"{getattr(row, 'title', '') or ''} {row.category} {row.text}")
            docs.append((k, int(row.id or 0), words))
    n = len(docs)
    df = {t: sum(1 for d in docs if t in d[2]) for t in want}
    scored = []
    for k, rid, words in docs:
        s = sum(math.log(1 + n / df[t]) for t in want if t in words)
        if s > 0:
            scored.append((k, rid, s))
    scored.sort(key=lambda x: -x[2])
    return scored[:limit]


def _rank(
    session: Session, terms: list[str], limit: int, kind: str | None = None
) -> list[tuple[str, int, float]]:
    dialect = session.get_bind().dialect.name
    try:
        if dialect == "sqlite":
            with session.begin_nested():
                return _sqlite_rank(session, terms, limit, kind)
        if dialect == "postgresql":
            with session.begin_nested():
                return _pg_rank(session, terms, limit, kind)
    except (OperationalError, ProgrammingError) as err:  # schema without migration 0002
        log.warning("full-text search unavailable (%s); ranking in Python", err.orig)
    return _python_rank(session, terms, limit, kind)


def ranked_ids(session: Session, query: str, kind: str, limit: int) -> list[int]:
    """Ids of the `limit` entries of one kind that best match `query` (duplicate pre-filter)."""
    terms = _terms(query)
    return [rid for _, rid, _ in _rank(session, terms, limit, kind)] if terms else []


def ranked_refs(
    session: Session, query: str, kind: str | None = None, limit: int = 20
) -> list[tuple[Kind, int]]:
    """(kind, id) of the `limit` entries (one kind or both) that best match `query`, best
    first: an admin's "strategies about seasonality" in the knowledge list."""
    terms = _terms(query)
    out: list[tuple[Kind, int]] = []
    for k, rid, _ in _rank(session, terms, limit, kind) if terms else []:
        out.append(("strategy" if k == "strategy" else "mental_model", rid))
    return out


def _load(session: Session, ranked: Iterable[tuple[str, int, float]]) -> list[KnowledgeHit]:
    ranked = list(ranked)
    ids = {k: [rid for kk, rid, _ in ranked if kk == k] for k in KINDS}
    rows: dict[tuple[str, int], Strategy | MentalModel] = {}
    for kind, wanted in ids.items():
        if wanted:
            model = model_for(kind)
            for row in session.exec(select_rows(kind).where(col(model.id).in_(wanted))):
                rows[(kind, int(row.id or 0))] = row
    hits = []
    for hit_kind, rid, score in ranked:
        hit = rows.get((hit_kind, rid))
        if hit is not None:
            hits.append(KnowledgeHit(**to_entry(hit).__dict__, score=round(score, 4)))
    return hits


def _bound(hits: list[KnowledgeHit], k: int, max_chars: int) -> list[KnowledgeHit]:
    out: list[KnowledgeHit] = []
    budget = max_chars
    for hit in hits[:k]:
        if budget < MIN_SNIPPET:
            break
        if len(hit.text) > budget:
            hit.text = hit.text[: budget - 1].rsplit(" ", 1)[0] + "…"
        budget -= len(hit.text) + len(hit.title or "")
        out.append(hit)
    return out


def retrieve(
    session: Session, query: str, k: int = DEFAULT_K, max_chars: int = DEFAULT_MAX_CHARS
) -> list[KnowledgeHit]:
    """The k entries most relevant to `query`, best first, texts clipped to `max_chars` total."""
    if k <= 0 or max_chars <= 0:
        return []
    terms = _terms(query)
    if not terms:
        return []
    return _bound(_load(session, _rank(session, terms, k)), k, max_chars)


def retrieve_angled(
    session: Session,
    query: str,
    angle: Sequence[str] = (),
    *,
    strategies: int = 3,
    mental_models: int = 2,
    pool: int = 10,
    max_chars: int = DEFAULT_MAX_CHARS,
) -> list[KnowledgeHit]:
    """Strategies and mental models for a general question, seen from one angle.

    Each kind is ranked by the question alone (so every entry is on topic); within the best
    `pool` of a kind, entries that speak of the angle's concerns come first (a CFO's margin
    and risk, a flipper's velocity); the answer gets both kinds, strategies first. Two
    askers with different angles get different entries leading, from the same topical pool,
    and a question with no match gets nothing."""
    terms = _terms(query)
    if not terms:
        return []
    want = token_set(" ".join(angle))
    picked: list[KnowledgeHit] = []
    for kind, k in (("strategy", strategies), ("mental_model", mental_models)):
        if k <= 0:
            continue
        hits = _load(session, _rank(session, terms, pool, kind))
        order = {id(h): i for i, h in enumerate(hits)}
        hits.sort(
            key=lambda h: (
                -len(want & token_set(f"{h.title or ''} {h.category} {h.text}")),
                order[id(h)],
            )
        )
        picked.extend(hits[:k])
    return _bound(picked, len(picked), max_chars)


def _num(fields: Mapping[str, Any], *names: str) -> float | None:
    for name in names:
        v = fields.get(name)
        if isinstance(v, bool):
            continue
        if isinstance(v, int | float) and not math.isnan(float(v)):
            return float(v)
    return None


def deal_query(deal: Mapping[str, Any]) -> str:
    """A retrieval query describing a deal's situation (what the knowledge base talks about)."""
    parts: list[str] = []
    text_fields = " ".join(
        str(deal.get(f) or "")
        for f in ("category", "seasonality", "binding", "title", "category_path")
    )
    parts.append(" ".join(str(deal.get(f) or "") for f in ("category", "seasonality")))
    low = text_fields.lower()
    if any(w in low for w in ("textbook", "edition", "college", "exam", "study guide")):
        parts.append("textbook seasonal semester counterfeit")
    season = str(deal.get("seasonality") or "").lower()
    if deal.get("peak_months") or (season and season not in ("none", "year-round", "steady")):
        parts.append("seasonal peak trough season")
    rank = _num(deal, "sales_rank")
    if rank is not None:
        parts.append("high rank off-season slow" if rank > 300_000 else "rank")
        if rank <= 100_000:
            parts.append("velocity fast flip")
    drops = _num(deal, "rank_drops_30", "rank_drops_90")
    if drops is not None:
        parts.append("velocity flip drops" if drops >= 4 else "slow sales drops")
    trust = _num(deal, "deal_trust")
    if trust is not None and trust < 70:
        parts.append("deal trust inferred sales")
    if _num(deal, "roi", "roi_default", "profit", "profit_default") is not None:
        parts.append("roi profit threshold fees")
    margin = _num(deal, "margin", "margin_default")
    if margin is not None and margin < 30:
        parts.append("thin margin risk")
    if deal.get("amazon_offer"):
        parts.append("amazon offer buy box")
    gated = deal.get("gated", deal.get("restricted", deal.get("restriction_status")))
    if gated in (True, 1, "restricted", "1", "APPROVAL_REQUIRED"):
        parts.append("gated restricted approval ungate")
    pdown = _num(deal, "percent_down")
    if pdown is not None and pdown >= 50:
        parts.append("ghost profit old peak price")
    if str(deal.get("trend") or "").lower() == "down":
        parts.append("falling price trend")
    return " ".join(p for p in parts if p.strip())


def retrieve_for_deal(
    session: Session,
    deal_fields: Mapping[str, Any],
    k: int = DEFAULT_K,
    max_chars: int = DEFAULT_MAX_CHARS,
) -> list[KnowledgeHit]:
    """retrieve() with a query built from the deal (category, seasonality, rank, money, ...)."""
    return retrieve(session, deal_query(deal_fields), k=k, max_chars=max_chars)


def render_knowledge(hits: Iterable[KnowledgeEntry], heading: str = "Relevant knowledge") -> str:
    """Hits as a compact prompt block with references ("S3", "M1") the model can cite."""
    lines = []
    for h in hits:
        label = f"{h.ref} {'strategy' if h.kind == 'strategy' else 'mental model'}, {h.category}"
        body = f"{h.title}: {h.text}" if h.title else h.text
        lines.append(f"- [{label}] {body}")
    return f"{heading}:\n" + "\n".join(lines) if lines else ""
