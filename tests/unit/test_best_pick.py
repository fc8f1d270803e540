"""The best pick: a deal the seller can list and that sells, by a stated score, with reasons.

Rows are built to trip one rule each: the issue's cases were a gated book and one at rank
2.9M with no drops in 30 days, picked only because they topped the sort.
"""

from __future__ import annotations

from typing import Any

import pytest
from langgraph.checkpoint.memory import InMemorySaver

from agent.context import AgentContext
from agent.graph import build_graph
from agent.runner import run_turn
from tests.unit.agent_helpers import add_user, make_deal, seed
from tools.db import session_scope
from tools.deals.pick import SCORE_RULE, best_pick, sales_a_month, score
from tools.models import RestrictionStatus, UserRestriction
from tools.settings import Settings


def row(asin: str, **kw: Any) -> dict[str, Any]:
    """A result row that qualifies: listable, sells 5 a month, trusted, $30 profit."""
    base: dict[str, Any] = {
        "asin": asin,
        "title": f"Book {asin}",
        "gated": "not_restricted",
        "profit": 30.0,
        "roi": 120.0,
        "list_at": 70.0,
        "price_now": 20.0,
        "sales_rank": 60_000,
        "rank_drops_30": 5,
        "rank_drops_90": 15,
        "rank_drops_365": 60,
        "deal_trust": 90.0,
        "seasonality": "year_round",
    }
    return {**base, **kw}


@pytest.mark.parametrize(
    ("trap", "reason"),
    [
        ({"gated": "restricted"}, "gated"),
        ({"gated": "pending"}, "gating not checked"),
        ({"gated": None}, "gating not checked"),  # no seller signed in
        (
            {"sales_rank": 2_900_000, "rank_drops_30": 0, "rank_drops_90": 0, "rank_drops_365": 2},
            "barely sells",
        ),
        ({"deal_trust": 30.0}, "low Deal Trust"),
        ({"profit": -2.0}, "no profit"),
        ({"list_at": None, "profit": None}, "no profit"),
    ],
)
def test_a_row_that_breaks_a_rule_is_never_the_pick_whatever_its_money(
    trap: dict[str, Any], reason: str
) -> None:
    rich = row("B0TRAP0001", **{"profit": 400.0, "roi": 900.0, **trap})
    pick = best_pick([rich, row("B0GOOD0001", profit=12.0)])
    assert pick.asin == "B0GOOD0001"
    assert pick.skipped == {reason: 1}
    alone = best_pick([rich])
    assert alone.asin is None and alone.why.startswith("none of these 1 qualifies: 1 ")


def test_velocity_and_deal_trust_count_not_just_profit() -> None:
    slow = row("B0SLOW0001", profit=60.0, rank_drops_30=0, rank_drops_90=2, rank_drops_365=8)
    fast = row("B0FAST0001", profit=35.0, rank_drops_30=6)  # capped at 4 a month
    shaky = row("B0SHKY0001", profit=45.0, deal_trust=55.0)
    pick = best_pick([slow, shaky, fast])
    assert pick.asin == "B0FAST0001"
    assert pick.score == pytest.approx(35.0 * 4 * 0.9)
    assert pick.runner_up is not None
    assert pick.runner_up[0] == "B0SHKY0001"
    assert pick.runner_up[1] == pytest.approx(45.0 * 4 * 0.55)
    assert score(slow) == pytest.approx(60.0 * (8 / 12) * 0.9)


def test_a_seasonal_book_is_judged_on_its_year_not_its_quiet_month() -> None:
    textbook = row(
        "B0SEASON01", seasonality="textbook", rank_drops_30=0, rank_drops_90=1, rank_drops_365=24
    )
    assert sales_a_month(textbook) == 2.0
    assert best_pick([textbook]).asin == "B0SEASON01"


def test_the_pick_says_why_and_by_which_score() -> None:
    pick = best_pick([row("B0GOOD0001")]).as_dict()
    assert pick["rule"] == SCORE_RULE == "profit × sales a month (at most 4) × Deal Trust"
    assert pick["why"] == (
        "you can list it, it sells about 5 a month (rank 60,000), Deal Trust 90 %, "
        "$30.00 profit at 120 % ROI"
    )
    none = best_pick([row("B0X0000001", gated="pending"), row("B0X0000002", gated="restricted")])
    assert none.why == "none of these 2 qualifies: 1 not checked for gating yet, 1 gated for you"


# ---- in an answer --------------------------------------------------------------------------


def no_knowledge(ctx: AgentContext, question: str) -> list[dict[str, Any]]:
    return []


async def test_the_answer_names_the_pick_not_the_top_of_the_sort(settings: Settings) -> None:
    seed(
        settings,
        # the best ROI: gated for this seller
        make_deal("B0GATED001", price_now=5.0, list_at=140.0),
        # the next: rank 2.9M, no drops in 30 days, two a year
        make_deal(
            "B0STALE001",
            price_now=6.0,
            list_at=120.0,
            sales_rank=2_900_000,
            rank_drops_30=0,
            rank_drops_90=0,
            rank_drops_365=2,
        ),
        make_deal("B0UNCHK001", price_now=7.0, list_at=110.0),  # never checked
        make_deal("B0GOOD0001", price_now=20.0, list_at=90.0),
    )
    with session_scope(settings) as session:
        user = add_user(session, "sam")
        assert user.id is not None
        for asin, status in (
            ("B0GATED001", RestrictionStatus.restricted),
            ("B0STALE001", RestrictionStatus.not_restricted),
            ("B0GOOD0001", RestrictionStatus.not_restricted),
        ):
            session.add(UserRestriction(user_id=user.id, asin=asin, status=status))
        ctx = AgentContext.for_user(user, settings=settings)
    graph = build_graph(InMemorySaver(), retrieve=no_knowledge)
    r = await run_turn(graph, "textbooks sorted by roi", thread_id="t", user=ctx)
    items = r.tool_results[0]["items"]
    assert items[0]["asin"] == "B0GATED001"  # the sort's top row ...
    pick = r.tool_results[0]["best_pick"]
    assert pick["asin"] == "B0GOOD0001"  # ... is not the pick
    assert pick["skipped"] == {"gated": 1, "barely sells": 1, "gating not checked": 1}
    assert "Best pick: **Calculus Early Transcendentals B0GOOD0001** (B0GOOD0001)" in r.answer
    assert "you can list it, it sells about 5 a month (rank 45,000), Deal Trust 85 %" in r.answer
    assert f"Picked by {SCORE_RULE}" in r.answer
    assert r.search is not None and r.search["best"] == "B0GOOD0001"
    verdict = await run_turn(graph, "which one should I buy?", thread_id="t", user=ctx)
    assert verdict.tool_calls == [{"name": "deal_advice", "args": {"asin": "B0GOOD0001"}}]
