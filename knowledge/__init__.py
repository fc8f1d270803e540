"""Knowledge: strategies and mental models taught by admins and used by every persona.

Public API (import from `knowledge`): store (save/list/delete, admin-only writes), retrieval
(BM25 / PostgreSQL full-text, bounded), extraction (LLM or offline) and the starter base.
Extraction and fetching import lazily, so the agent's retrieval path stays light.
"""

from __future__ import annotations

from typing import Any

from knowledge.retrieval import (
    KnowledgeHit,
    deal_query,
    render_knowledge,
    retrieve,
    retrieve_angled,
    retrieve_for_deal,
)
from knowledge.store import (
    Actor,
    EditResult,
    KnowledgeEntry,
    KnowledgeError,
    PermissionDenied,
    SaveResult,
    SystemActor,
    delete_knowledge,
    edit_knowledge,
    find_duplicate,
    get_entry,
    is_admin,
    knowledge_counts,
    list_knowledge,
    parse_ref,
    plan_edit,
    require_admin,
    save_mental_model,
    save_strategy,
    search_entries,
)

_LAZY = {
    "Candidate": "knowledge.extraction",
    "StrategyCandidate": "knowledge.extraction",
    "MentalModelCandidate": "knowledge.extraction",
    "Extraction": "knowledge.extraction",
    "ApprovalResult": "knowledge.extraction",
    "extract": "knowledge.extraction",
    "extract_candidates": "knowledge.extraction",
    "offline_extract": "knowledge.extraction",
    "approve": "knowledge.extraction",
    "mark_duplicates": "knowledge.extraction",
    "summarize": "knowledge.extraction",
    "ExtractedKnowledge": "knowledge.extraction",
    "SourceText": "knowledge.sources",
    "SourceError": "knowledge.sources",
    "load_source": "knowledge.sources",
    "FetchError": "knowledge.fetch",
    "safe_fetch": "knowledge.fetch",
    "seed_starter_knowledge": "knowledge.starter",
}

__all__ = [
    "Actor",
    "KnowledgeEntry",
    "KnowledgeError",
    "KnowledgeHit",
    "PermissionDenied",
    "SaveResult",
    "SystemActor",
    "deal_query",
    "EditResult",
    "delete_knowledge",
    "edit_knowledge",
    "find_duplicate",
    "get_entry",
    "is_admin",
    "knowledge_counts",
    "list_knowledge",
    "parse_ref",
    "plan_edit",
    "render_knowledge",
    "require_admin",
    "retrieve",
    "retrieve_angled",
    "retrieve_for_deal",
    "save_mental_model",
    "save_strategy",
    "search_entries",
    *_LAZY,
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'knowledge' has no attribute {name!r}")
