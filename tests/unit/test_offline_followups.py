"""The offline model on follow-up chains: every turn of every chain exactly right (100 %).

Each chain runs through the offline model's decision and the search tool's merge
(agent/thread_search.py), with the thread's search record carried from turn to turn as the
graph's state carries it; the table every search shows is the fixed ROWS of the set.
"""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core.messages import AIMessage, HumanMessage

from agent.offline.model import OfflineChatModel
from agent.thread_search import plan_search, record
from agent.tools import USER_TOOLS
from tests.unit.offline_eval_followups import BEST_ROW, FOLLOWUP_CHAINS, ROWS
from tools.deals.search import DealSearch

_FLOAT_SUFFIXES = ("price", "roi", "profit", "margin", "down")
ROW_ASINS = [f"B0ROWS{i:04d}" for i in range(1, len(ROWS) + 1)]
ROW_ITEMS = [
    {
        "asin": asin,
        "title": f"Row {i}",
        "price_now": p,
        "profit": pr,
        "roi": roi,
        "sales_rank": rank,
        "rank_drops_30": d,
    }
    for i, (asin, (p, pr, roi, rank, d)) in enumerate(zip(ROW_ASINS, ROWS, strict=True), 1)
]
_FIELD = {"price": 0, "profit": 1, "roi": 2, "rank": 3, "drops": 4}


def _want(expected: dict[str, Any]) -> dict[str, Any]:
    return {
        k: float(v)
        if isinstance(v, int) and not isinstance(v, bool) and k.endswith(_FLOAT_SUFFIXES)
        else v
        for k, v in expected.items()
    }


def _row_asin(row: int | str) -> str:
    if row == "best":
        return ROW_ASINS[BEST_ROW - 1]
    if isinstance(row, str):  # "price-": the lowest price, "drops+": the most drops
        i = _FIELD[row[:-1]]
        pick = (max if row.endswith("+") else min)(range(len(ROWS)), key=lambda r: ROWS[r][i])
        return ROW_ASINS[pick]
    return ROW_ASINS[row - 1] if row > 0 else ROW_ASINS[row]


def _turn(
    model: OfflineChatModel, message: str, stored: dict[str, Any] | None
) -> tuple[Any, dict[str, Any] | None]:
    """What one turn did: (filters of the search it ran | (tool, asin) | (tool, None)), and
    the thread's search afterwards."""
    reply = model.respond([HumanMessage(content=message)], search=stored)
    assert isinstance(reply, AIMessage)
    if not reply.tool_calls:  # an answer without a tool: the search stays as it was
        return ("answer", None), stored
    call = reply.tool_calls[0]
    if call["name"] != "search_deals":
        return (call["name"], call["args"].get("asin")), stored
    args = dict(call["args"])
    refine, remove = bool(args.pop("refine", False)), args.pop("remove", None) or []
    plan = plan_search(stored, args, remove, refine)
    after = record(plan.query, 100, False, ROW_ITEMS, best=ROW_ASINS[BEST_ROW - 1])
    return plan.query.filters(), after


def test_the_set_is_big_enough_and_valid() -> None:
    assert len(FOLLOWUP_CHAINS) >= 30
    assert len({name for name, _ in FOLLOWUP_CHAINS}) == len(FOLLOWUP_CHAINS)
    for _, turns in FOLLOWUP_CHAINS:
        assert len(turns) >= 2
        for _, expected in turns:
            if isinstance(expected, dict):
                DealSearch(**expected)  # every expectation is a valid search


def test_offline_model_gets_every_follow_up_right(capsys: pytest.CaptureFixture[str]) -> None:
    model = OfflineChatModel().bind_tools(USER_TOOLS)
    misses: list[tuple[str, str, object, object]] = []
    turns = 0
    for name, chain in FOLLOWUP_CHAINS:
        stored: dict[str, Any] | None = None
        for message, expected in chain:
            turns += 1
            got, stored = _turn(model, message, stored)
            if isinstance(expected, dict):
                want: object = _want(expected)
            else:
                intent, row = expected
                want = (intent, None if row is None else _row_asin(row))
            if got != want:
                misses.append((name, message, want, got))
    with capsys.disabled():
        print(
            f"\noffline follow-ups: {turns - len(misses)}/{turns} turns exactly right in "
            f"{len(FOLLOWUP_CHAINS)} chains"
        )
        for name, message, want, got in misses:
            print(f"  MISS [{name}] {message!r}\n     want {want}\n     got  {got}")
    assert not misses
