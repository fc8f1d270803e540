"""The thread's current deal search: graph state, not the model's memory.

Every `search_deals` call stores what it searched (the fields that were set), how many deals
matched and the rows it showed, in the state's `search` channel; the checkpointer keeps it with
the thread, so it survives resuming a chat or `arbitrage ask --thread NAME`. A follow-up that
refines ("only rank under 200k", "sort those by profit", "page 2", "which of those can I
sell?") calls the tool with `refine=true` and just the change; the tool merges it into the
stored search (tools/deals/search/refine.py) and says what changed. "The second one" is row 2
of the stored page. The offline model reads the record from its invoke kwargs, an LLM from
the system prompt (`prompt_block`); both make the same tool call.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from tools.deals.search import DealSearch
from tools.deals.search.refine import (
    describe,
    fields_to_remove,
    refine,
    restore,
    stored_fields,
)

MAX_ROWS = 100  # a page holds at most 100 rows (DealSearch.limit)
TITLE_CHARS = 70
# the numbers kept per shown row (deal field -> row key)
ROW_NUMBERS = {
    "price_now": "price",
    "profit": "profit",
    "roi": "roi",
    "sales_rank": "rank",
    "rank_drops_30": "drops",
}


def latest(left: dict[str, Any] | None, right: dict[str, Any] | None) -> dict[str, Any] | None:
    """The channel's reducer: the last search of a step wins (two searches in one tool round
    would otherwise be a concurrent-update error)."""
    return right if right is not None else left


@dataclass
class Plan:
    """The search a call will run and what it refines."""

    query: DealSearch
    refined: bool = False
    before: DealSearch | None = None
    before_total: int | None = None
    before_capped: bool = False
    dropped: list[str] = field(default_factory=list)
    absent: list[str] = field(default_factory=list)  # asked to remove, but never set
    note: str | None = None


def plan_search(
    stored: Mapping[str, Any] | None,
    changes: Mapping[str, Any],
    remove: Sequence[str] = (),
    refine_it: bool = False,
) -> Plan:
    """The query for one search_deals call: `changes` alone for a new search, or merged into
    the stored search for a refinement (raises DealSearchError with what to fix)."""
    if not refine_it:
        return Plan(refine(None, changes).query)
    if not stored or not isinstance(stored.get("query"), Mapping):
        plan = Plan(refine(None, changes).query)
        plan.note = "there was no earlier search in this conversation, so this is a new one"
        return plan
    merged = refine(stored["query"], changes, remove)
    present = set(stored["query"])
    absent = [name for name in remove if not set(fields_to_remove([name])) & present]
    return Plan(
        merged.query,
        refined=True,
        before=restore(stored["query"]),
        before_total=int(stored.get("total") or 0),
        before_capped=bool(stored.get("capped")),
        dropped=merged.dropped,
        absent=absent,
    )


def what_changed(plan: Plan, total: int, capped: bool) -> str | None:
    """The "what changed" line of a refinement, capitalized for the answer."""
    if not plan.refined or plan.before is None:
        return None
    line = describe(
        plan.before,
        plan.query,
        plan.before_total,
        total,
        before_capped=plan.before_capped,
        after_capped=capped,
        dropped=plan.dropped,
    )
    if plan.absent:
        names = " or ".join(plan.absent)
        line = f"your search had no {names} filter to remove; " + line.replace(
            "your search is unchanged: ", ""
        )
    return line[:1].upper() + line[1:]


def record(
    query: DealSearch,
    total: int,
    capped: bool,
    items: Sequence[Mapping[str, Any]],
    best: str | None = None,
) -> dict[str, Any]:
    """What the state keeps of a search: the query as set, the counts and the rows shown."""
    return {
        "query": stored_fields(query),
        "total": int(total),
        "capped": bool(capped),
        "rows": [_row(d) for d in list(items)[:MAX_ROWS]],
        "best": best,
    }


def _row(d: Mapping[str, Any]) -> dict[str, Any]:
    """A shown row as the thread remembers it: enough to name it and to compare rows ("the
    cheapest one", "cheaper ones")."""
    row: dict[str, Any] = {
        "asin": str(d.get("asin")),
        "title": str(d.get("title") or "")[:TITLE_CHARS],
    }
    for key, name in ROW_NUMBERS.items():
        v = d.get(key)
        if isinstance(v, int | float) and not isinstance(v, bool):
            row[name] = round(v, 2) if isinstance(v, float) else v
    return row


def row_asin(search: Mapping[str, Any] | None, position: int) -> str | None:
    """The ASIN of row `position` (1-based; -1 is the last) of the stored page."""
    rows = list((search or {}).get("rows") or [])
    if not rows or position == 0 or abs(position) > len(rows):
        return None
    row = rows[position - 1] if position > 0 else rows[position]
    return str(row.get("asin")) if isinstance(row, Mapping) else None


def current_query(search: Mapping[str, Any] | None) -> DealSearch | None:
    """The stored search as a DealSearch (None when the thread has none)."""
    if not search or not isinstance(search.get("query"), Mapping):
        return None
    return restore(search["query"])


def prompt_block(search: Mapping[str, Any] | None) -> str:
    """The system prompt's part about the current search (an LLM has no other memory of it)."""
    query = current_query(search)
    if search is None or query is None:
        return "Current deal search: none yet. A deal question starts one with search_deals."
    total = int(search.get("total") or 0)
    shown = f"{total}+" if search.get("capped") else str(total)
    first = query.offset + 1
    rows = list(search.get("rows") or [])
    lines = [
        "Current deal search of this conversation (the state of the last search_deals call):",
        f"filters {json.dumps(stored_fields(query), sort_keys=True)}; sort {query.sort}; "
        f"{shown} matched; rows {first}-{query.offset + len(rows)} shown:",
        *(f"  {i}. {r.get('asin')} {r.get('title')}" for i, r in enumerate(rows[:20], 1)),
        "A follow-up that changes this search (adds, removes or changes a filter, sorts, "
        "pages, 'which of those ...', 'cheaper ones', 'only the ones ...') is a refinement: "
        "call search_deals with refine=true and ONLY the changed fields (remove=[names] to "
        "drop a filter, e.g. ['price'] or ['max_rank']; offset for another page). A new topic "
        "is a new search (refine=false). 'The second one' is row 2 above: use its ASIN with "
        "get_deal, deal_advice or check_restriction. When a result has a 'changed' line, "
        "start your answer with it.",
    ]
    if search.get("best"):
        lines.insert(3 + min(len(rows), 20), f"The last answer's best pick: {search['best']}.")
    return "\n".join(lines)
