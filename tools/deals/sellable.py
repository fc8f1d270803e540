""" "Deals I can sell": a search whose gating is checked on the spot, never an empty answer
just because nothing was checked yet.

`gated="only_ungated"` keeps deals checked and not restricted for the seller. On a fresh
install (or for new deals) nothing is checked, so the plain search would answer "no deals".
Here the candidates (the same search with known-gated deals hidden and unchecked ones kept,
up to the requested page) are checked now (tools/restrictions/spot.py) and the search runs
again; a few rounds, because deals found gated drop out and the next ones move up. If some
candidates are still unchecked at the end (the deadline, the account, no Redis), the answer
is that candidate page instead, its unchecked rows marked "pending", with what was checked
and why the rest was not: the seller sees deals, gating shown or checked.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tools.db import session_scope
from tools.deals.search import DealSearch, SearchResult, search_deals
from tools.models import User
from tools.restrictions.spot import SPOT_DEADLINE_S, SPOT_MAX_CHECKS, SpotCheck, check_now
from tools.settings import Settings

MAX_ROUNDS = 3
UNKNOWN = ("pending", "error")


@dataclass
class SellableSearch:
    """The result to show, the spot checks made, and whether the result is the candidate page
    with unchecked deals in it (`unchecked_shown`) rather than only sellable ones. `others`:
    matches of the rest of the search when none is sellable (how many gating hid)."""

    result: SearchResult
    spot: SpotCheck = field(default_factory=SpotCheck)
    unchecked_shown: bool = False
    others: int | None = None

    def gating(self) -> dict[str, Any]:
        out = self.spot.as_dict()
        if self.unchecked_shown:
            out["shown_unchecked"] = [d.asin for d in self.result.items if d.gated in UNKNOWN]
        if self.others is not None:
            out["matches_if_gated_included"] = self.others
        return out


def _run(settings: Settings, user_id: int, query: DealSearch) -> SearchResult:
    with session_scope(settings) as session:
        return search_deals(session, query, session.get(User, user_id))


async def search_sellable(
    settings: Settings,
    user_id: int,
    query: DealSearch,
    *,
    on_progress: Callable[[SpotCheck], Any] | None = None,
    deadline_s: float = SPOT_DEADLINE_S,
    max_checks: int = SPOT_MAX_CHECKS,
    redis_url: str | None = None,
    sandbox_app: Any = None,
) -> SellableSearch:
    """`query` (gated="only_ungated") with its candidates' gating checked now."""
    search = asyncio.to_thread
    page = query.offset + query.limit
    probe = query.model_copy(update={"gated": "exclude", "offset": 0, "limit": min(100, page)})
    report = SpotCheck()
    tried: set[str] = set()
    start = time.monotonic()
    candidates = await search(_run, settings, user_id, probe)
    for _ in range(MAX_ROUNDS):
        todo = [
            (d.asin, d.condition)
            for d in candidates.items
            if d.gated in UNKNOWN and d.asin not in tried
        ]
        left_s = deadline_s - (time.monotonic() - start)
        left_n = max_checks - report.asked
        if not todo or left_s <= 0 or left_n <= 0:
            break
        tried.update(a for a, _ in todo)

        def so_far(spot: SpotCheck, done: SpotCheck = report) -> None:
            if on_progress is not None:  # the run's totals, not this round's
                total = SpotCheck()
                total.add(done)
                total.add(spot)
                on_progress(total)

        spot = await check_now(
            settings,
            user_id,
            todo,
            max_checks=left_n,
            deadline_s=left_s,
            on_progress=so_far,
            redis_url=redis_url,
            sandbox_app=sandbox_app,
        )
        report.add(spot)
        candidates = await search(_run, settings, user_id, probe)
        if spot.stopped:
            break
    open_rows = [d for d in candidates.items[query.offset :] if d.gated in UNKNOWN]
    if open_rows:  # show the candidates, unchecked ones marked, rather than fewer or none
        shown = candidates.model_copy(
            update={
                "items": candidates.items[query.offset : page],
                "query": query.filters(),
            }
        )
        report.unchecked = [d.asin for d in open_rows]
        return SellableSearch(shown, report, unchecked_shown=True)
    result = await search(_run, settings, user_id, query)
    out = SellableSearch(result, report)
    if result.total == 0 and query.offset == 0:
        wider = query.model_copy(update={"gated": "include", "limit": 1})
        out.others = (await search(_run, settings, user_id, wider)).total
    return out
