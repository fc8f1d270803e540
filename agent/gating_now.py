"""The agent's side of gating checked on the spot (tools/deals/sellable.py, spot.py).

A search for deals the seller can sell checks its candidates now, with progress streamed to
the chat as a step (LangGraph's custom stream: `{"kind": "gating", ...}` events that
agent/runner.py passes on as "progress"); one deal's numbers or verdict check that deal first
when its gating is unknown, and say so when it still is.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from agent.context import AgentContext
from tools.deals.search import DealSearch

if TYPE_CHECKING:  # the checker (redis, httpx, the SP-API sandbox) loads only to check
    from tools.restrictions.spot import SpotCheck

UNKNOWN = ("pending", "error")
DETAIL_DEADLINE_S = 5.0


def progress_writer(runtime: Any) -> Callable[[SpotCheck], None]:
    """A spot-check progress callback that writes to the run's custom stream (if any)."""
    writer = getattr(runtime, "stream_writer", None)

    def report(spot: SpotCheck) -> None:
        if callable(writer):
            writer(
                {
                    "kind": "gating",
                    "done": spot.checked + spot.errors,
                    "asked": spot.asked,
                    "allowed": spot.allowed,
                    "restricted": spot.restricted,
                }
            )

    return report


def wants_checks(ctx: AgentContext, query: DealSearch) -> bool:
    """A signed-in seller asking for deals they can sell."""
    return ctx.user_id is not None and query.gated == "only_ungated"


async def sellable(
    ctx: AgentContext, query: DealSearch, runtime: Any
) -> tuple[Any, dict[str, Any]]:
    """The search with its candidates' gating checked now: (SearchResult, gating summary)."""
    from tools.deals.sellable import search_sellable

    assert ctx.user_id is not None
    found = await search_sellable(
        ctx.settings, ctx.user_id, query, on_progress=progress_writer(runtime)
    )
    return found.result, found.gating()


def unknown_note(gated: Any, why: str | None = None) -> str:
    """What a verdict says about a deal whose gating is not known."""
    reason = f" ({why})" if why else ""
    return (
        f"Gating is not known yet for you{reason}: check that you can list it "
        '("can I sell it?") before you buy.'
        if gated in UNKNOWN
        else ""
    )


async def check_one(ctx: AgentContext, asin: str, condition: str | None) -> str | None:
    """Check one deal's gating now; None when it is now known, else why it is not."""
    from tools.restrictions.spot import check_now

    if ctx.user_id is None:
        return "no seller is signed in"
    spot = await check_now(
        ctx.settings, ctx.user_id, [(asin, condition)], deadline_s=DETAIL_DEADLINE_S
    )
    if spot.checked:
        return None
    return spot.stopped or "the check failed; it is retried in the background"
