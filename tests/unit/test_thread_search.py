"""The thread's current search: refined by follow-ups, said in words, kept by the checkpointer.

The same state serves an LLM (a scripted tool-calling model here: it reads the search from its
system prompt and sends `refine=true` with the change) and the offline model (it reads the
search from the graph and makes the same call).
"""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core.messages import AIMessage
from langgraph.checkpoint.memory import InMemorySaver

from agent.context import AgentContext
from agent.graph import build_graph, open_graph
from agent.runner import run_turn, stream_turn
from tests.unit.agent_helpers import add_user, call, make_deal, say, scripted, seed
from tools.db import session_scope
from tools.deals.search import DealSearch, DealSearchError
from tools.deals.search.refine import describe, refine
from tools.settings import Settings


def no_knowledge(ctx: AgentContext, question: str) -> list[dict[str, Any]]:
    return []


@pytest.fixture
def seller(settings: Settings) -> AgentContext:
    with session_scope(settings) as session:
        return AgentContext.for_user(add_user(session, "sam"), settings=settings)


@pytest.fixture
def shelf(settings: Settings) -> None:
    """Eight textbooks at $11-$18, ranks 50k-400k (four under 200k), and two year-round."""
    seed(
        settings,
        *(
            make_deal(f"B0SHELF00{i}", price_now=10.0 + i, sales_rank=50_000 * i)
            for i in range(1, 9)
        ),
        make_deal("B0OTHER001", seasonality="year_round", price_now=12.0),
        make_deal("B0OTHER002", seasonality="year_round", price_now=45.0),
    )


# ---- the merge and its words ----------------------------------------------------------------


def _q(**kw: Any) -> DealSearch:
    return DealSearch(**kw)


def test_refine_adds_changes_removes_and_restarts_paging() -> None:
    stored = {"seasonality": "textbook", "max_price": 30.0, "offset": 20}
    added = refine(stored, {"max_rank": 200_000}).query
    assert added.model_dump(exclude_unset=True) == {
        "seasonality": "textbook",
        "max_price": 30.0,
        "max_rank": 200_000,
    }  # a new filter starts again at the first page
    assert refine(stored, {"offset": 30}).query.offset == 30  # paging keeps the filters
    removed = refine(stored, {}, ["price"]).query
    assert removed.model_dump(exclude_unset=True) == {"seasonality": "textbook"}
    # "min_roi" left unset, not null: the user's saved ROI floor applies to it again
    assert "min_roi" not in refine({"min_roi": 40.0}, {}, ["roi"]).query.model_fields_set
    contradicted = refine({"min_price": 10.0}, {"max_price": 5.0})
    assert contradicted.query.model_dump(exclude_unset=True) == {"max_price": 5.0}
    assert contradicted.dropped == ["min_price"]
    with pytest.raises(DealSearchError, match="not a filter"):
        refine(stored, {}, ["colour"])


@pytest.mark.parametrize(
    ("before", "after", "totals", "line"),
    [
        (
            {"max_price": 30},
            {"max_price": 30, "max_rank": 200_000},
            (21, 6),
            "added rank <= 200,000 to your search: 6 of 21 remain",
        ),
        (
            {"max_price": 30},
            {"max_price": 20},
            (21, 12),
            "changed price <= $30 to price <= $20: 12 of 21 remain",
        ),
        (
            {"max_price": 30, "min_roi": 40},
            {"min_roi": 40},
            (21, 48),
            "removed price <= $30: now 48 match (was 21)",
        ),
        ({"max_price": 30}, {"max_price": 30, "sort": "profit"}, (21, 21), None),
        (
            {"max_price": 30},
            {"max_price": 30, "offset": 10},
            (21, 21),
            "page 2 of your search: deals 11-20 of 21",
        ),
        (
            {"max_price": 30},
            {"max_price": 30, "gated": "only_ungated"},
            (21, 7),
            "added only deals you can sell to your search: 7 of 21 remain",
        ),
    ],
)
def test_what_changed_in_words(
    before: dict[str, Any], after: dict[str, Any], totals: tuple[int, int], line: str | None
) -> None:
    got = describe(_q(**before), _q(**after), totals[0], totals[1])
    assert got == (line or "sorted your search by profit (21 deals)")


# ---- an LLM's follow-ups (scripted model) ---------------------------------------------------


async def test_an_llm_refines_the_stored_search_and_sees_it_in_its_prompt(
    settings: Settings, shelf: None, seller: AgentContext
) -> None:
    model = scripted(
        call("search_deals", {"seasonality": "textbook", "max_price": 30}),
        say("8 textbooks."),
        call("search_deals", {"refine": True, "max_rank": 200_000}, "c2"),
        say("Narrowed."),
        call("search_deals", {"refine": True, "remove": ["price"], "sort": "rank"}, "c3"),
        say("Widened."),
    )
    graph = build_graph(InMemorySaver(), models={"*": model}, retrieve=no_knowledge)
    first = await run_turn(graph, "textbooks under $30", thread_id="t", user=seller)
    assert first.tool_results[0]["total"] == 8 and "changed" not in first.tool_results[0]
    second = await run_turn(graph, "only the ones under rank 200k", thread_id="t", user=seller)
    result = second.tool_results[0]
    assert result["changed"] == "Added rank <= 200,000 to your search: 4 of 8 remain"
    assert result["query"] == {"seasonality": "textbook", "max_price": 30.0, "max_rank": 200_000}
    assert {d["asin"] for d in result["items"]} == {f"B0SHELF00{i}" for i in range(1, 5)}
    prompt = str(model.seen[2][0].content)  # the system prompt of the second turn
    assert "Current deal search" in prompt and '"max_price": 30.0' in prompt
    assert "1. B0SHELF001" in prompt and "refine=true" in prompt
    third = await run_turn(graph, "any price, sort by rank", thread_id="t", user=seller)
    assert third.tool_results[0]["changed"] == (
        "Removed price <= $30, sorted by best sales rank: now 4 match (was 4)"
    )
    assert third.search is not None
    assert third.search["query"] == {"seasonality": "textbook", "max_rank": 200_000, "sort": "rank"}
    assert [r["asin"] for r in third.search["rows"]][:2] == ["B0SHELF001", "B0SHELF002"]


async def test_two_searches_in_one_tool_round_keep_the_last(
    settings: Settings, shelf: None, seller: AgentContext
) -> None:
    both = AIMessage(
        content="",
        tool_calls=[
            {"name": "search_deals", "args": {"max_price": 12}, "id": "a", "type": "tool_call"},
            {"name": "search_deals", "args": {"max_price": 40}, "id": "b", "type": "tool_call"},
        ],
    )
    graph = build_graph(
        InMemorySaver(), models={"*": scripted(both, say("two"))}, retrieve=no_knowledge
    )
    r = await run_turn(graph, "cheap and not so cheap", thread_id="t", user=seller)
    assert r.search is not None and r.search["query"] == {"max_price": 40.0}


async def test_a_refine_without_an_earlier_search_is_a_new_search_and_says_so(
    settings: Settings, shelf: None, seller: AgentContext
) -> None:
    model = scripted(call("search_deals", {"refine": True, "max_price": 12}), say("ok"))
    graph = build_graph(InMemorySaver(), models={"*": model}, retrieve=no_knowledge)
    r = await run_turn(graph, "only the cheap ones", thread_id="t", user=seller)
    assert r.tool_results[0]["query"] == {"max_price": 12.0}
    assert "no earlier search" in r.tool_results[0]["note"]


# ---- the offline model, across a resumed thread ----------------------------------------------


async def test_offline_follow_ups_survive_resuming_the_thread(
    settings: Settings, shelf: None, seller: AgentContext
) -> None:
    """Each turn opens the graph again on the same SQLite checkpointer (a new process, or a
    chat resumed tomorrow): the search is the thread's, not the model's."""

    async def turn(text: str) -> Any:
        async with open_graph(settings, retrieve=no_knowledge) as graph:
            return await run_turn(graph, text, thread_id="resumed", user=seller)

    first = await turn("textbooks under $30")
    assert first.tool_results[0]["total"] == 8
    refined = await turn("only the ones under rank 200k")
    assert refined.tool_calls == [
        {"name": "search_deals", "args": {"refine": True, "max_rank": 200_000}}
    ]
    assert refined.answer.startswith("Added rank <= 200,000 to your search: 4 of 8 remain.")
    paged = await turn("sort those by rank")
    assert paged.answer.startswith("Sorted your search by best sales rank (4 deals).")
    second = await turn("tell me about the second one")
    assert second.tool_calls == [{"name": "get_deal", "args": {"asin": "B0SHELF002"}}]
    fresh = await turn("year-round books over $40")
    assert "refine" not in fresh.tool_calls[0]["args"]
    assert [d["asin"] for d in fresh.tool_results[0]["items"]] == ["B0OTHER002"]


async def test_the_chat_stream_reports_the_search_the_turn_made(
    settings: Settings, shelf: None, seller: AgentContext
) -> None:
    graph = build_graph(InMemorySaver(), retrieve=no_knowledge)
    events = [
        e async for e in stream_turn(graph, "textbooks under $30", thread_id="s", user=seller)
    ]
    results = [e.data for e in events if e.kind == "tool_result"]
    assert results[0]["artifact"]["items"]  # the table's rows reach the UI
    done = events[-1].data
    assert done.search["query"] == {"seasonality": "textbook", "max_price": 30.0}
