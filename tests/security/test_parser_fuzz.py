"""One hostile chat message costs the parser milliseconds, not everyone's chat (issue 16, item 1).

A 2,000-digit message used to hold the chat process for seconds ("5 drops / / / ... /" with 40
slashes, or "price of of of ... of", for hours): every call that reads a user's message as text
(the offline model's parser, the persona router's reading of names and the knowledge query's
terms, the last two with a real LLM too) must stay bounded. The bound is CPU time of this
thread, and generous (a parse takes a few milliseconds), so a loaded machine cannot make it
flaky; wall time is what the chat bench (bench/abuse.py) measures.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from langchain_core.messages import HumanMessage

from agent import graph as agent_graph
from agent.offline import model as offline_model
from agent.offline.model import OfflineChatModel
from agent.offline.parser import (
    CLIPPED_NOTE,
    ParsedQuestion,
    find_asin,
    parse_filters,
    parse_question,
    parse_selection,
    persona_in,
)
from knowledge.retrieval import _terms as retrieval_terms

CPU_BUDGET_S = 0.050
MAX_CHARS = 20_000

_MODEL = OfflineChatModel().bind_tools([])


def _respond(text: str) -> Any:
    return _MODEL.respond([HumanMessage(text)])


PARSERS: dict[str, Callable[[str], Any]] = {
    "parse_question": parse_question,
    "parse_filters": parse_filters,
    "persona_in": persona_in,
    "parse_selection": parse_selection,
    "find_asin": find_asin,
    "respond": _respond,
    "retrieval_terms": retrieval_terms,  # each message is a knowledge query, on any model
}

# Pieces a hostile message is built from: digit runs, separators the patterns repeat over,
# key words that start a pattern, unicode digits and blanks.
ATOMS = (
    "1",
    "9",
    "1 ",
    "1.",
    "1,",
    "1-",
    "$1",
    "1%",
    "1k ",
    " ",
    "  ",
    "/",
    " /",
    " / ",
    "-",
    ".",
    ",",
    "+",
    "%",
    "$",
    "'",
    '"',
    "{",
    "}",
    "[",
    "a",
    "a-",
    "ab ",
    " of",
    " is",
    " in",
    " a",
    " an",
    " the",
    " or more",
    " to",
    " and",
    " in peak",
    "5 drops",
    "drops",
    "rank",
    "roi",
    "profit",
    "price",
    "margin",
    "top",
    "under",
    "over",
    "between 1 and",
    "sells 5",
    "categories",
    "books by",
    "results 1 to 2 ",
    "page 1 ",
    "skip 1 ",
    "joel, ",
    "teach ",
    "B0CXYZ1234",
    "0306406152",
    # issue 17: signs, fractions, per-window shorthand, publishers and authors
    "≥",
    "≤ ",
    ">= ",
    "=>",
    "half ",
    "a third ",
    "/mo ",
    "/90d",
    "dropped ",
    "from ",
    "Pearson ",
    "A ",
    "published by ",
    "written by ",
    "publisher: ",
    "cheapest ",
    " vs the average",
    "١",
    "𝟙",
    "\u200b",
    "\u00a0",
    "é",
    "İ",
    "\n",
    "\t",
)


@st.composite
def hostile_text(draw: st.DrawFn) -> str:
    """A few atoms, each repeated up to thousands of times, up to MAX_CHARS characters."""
    parts = draw(
        st.lists(st.tuples(st.sampled_from(ATOMS), st.integers(1, 5_000)), min_size=1, max_size=4)
    )
    return "".join(atom * n for atom, n in parts)[:MAX_CHARS]


def _warm_up() -> None:
    for fn in PARSERS.values():  # compiled patterns and caches: paid once, not per message
        fn("Joel, textbooks under $30 with roi over 40% and rank under 200k, top 5")


def _cpu_times(text: str) -> dict[str, float]:
    spent = {}
    for name, fn in PARSERS.items():
        start = time.thread_time()
        fn(text)
        spent[name] = time.thread_time() - start
    return spent


@settings(
    max_examples=60,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(text=st.one_of(hostile_text(), st.text(max_size=3_000)))
@example(text="1" * 2_000)  # seconds before the fix
@example(text="1" * 4_000)
@example(text="7" * MAX_CHARS)
@example(text="5 drops" + " /" * 40 + " x")  # 2^40 steps before the fix
@example(text="price" + " of" * 40 + " x")  # 2^40 steps before the fix
@example(text="categories" + " in peak" * 2_000)
@example(text="page 1 " * 2_800)
@example(text="{" * MAX_CHARS)
@example(text="set the deal query {" + "[" * 5_000 + "]" * 5_000 + "}")
@example(text="rank under " + "9" * 500 + "k")  # float("9" * 500) is inf: was OverflowError
@example(text="updated in the last " + "9" * 5_000 + " hours")  # int() of 5,000 digits
@example(text="Joel, 𝟙𝟘𝟘 textbooks ١٢٣ " * 700)
@example(text="anything from " + "Pearson " * 2_500)  # a capitalised name run
@example(text="published by " + "a " * 5_000)
@example(text="roi" + " ≥" * 5_000)
@example(text="1% " * 3_000 + "off vs the average")
def test_every_parser_call_is_bounded(text: str) -> None:
    _warm_up()
    spent = _cpu_times(text)
    slow = {name: f"{s * 1000:.0f} ms" for name, s in spent.items() if s > CPU_BUDGET_S}
    assert not slow, f"{len(text):,} characters starting {text[:40]!r}: {slow}"


def test_a_100_kb_message_is_read_in_part_and_says_so() -> None:
    _warm_up()
    text = "textbooks under $30 " + "1" * 100_000 + " Joel"
    spent = _cpu_times(text)
    assert max(spent.values()) <= CPU_BUDGET_S, spent
    parsed = parse_question(text)
    assert parsed.intent == "search_deals"
    assert parsed.query is not None and parsed.query.max_price == 30
    assert CLIPPED_NOTE in parsed.notes
    assert parsed.text == text  # the whole message stays the message
    assert persona_in(text) is None  # a name past the part read is not seen


def test_short_questions_read_as_before() -> None:
    parsed = parse_question("Joel, nursing textbooks under $40 with 3+ drops a month")
    assert parsed.persona == "joel"
    assert parsed.query is not None
    assert parsed.query.filters() == {
        "text": "nursing",
        "seasonality": "textbook",
        "max_price": 40.0,
        "min_drops_30": 3,
    }
    assert CLIPPED_NOTE not in parsed.notes


async def _with_heartbeat(work: Any) -> tuple[Any, int]:
    """Run `work` while a task ticks on the same loop: ticks > 0 means the loop stayed free."""
    ticks = 0

    async def beat() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.005)
            ticks += 1

    beating = asyncio.create_task(beat())
    try:
        result = await work
    finally:
        beating.cancel()
    return result, ticks


async def test_a_stuck_parse_ends_in_a_clear_answer_and_never_holds_the_loop(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    release = threading.Event()

    def stuck(text: str, **_: Any) -> ParsedQuestion:
        release.wait(10)  # blocks its thread as a runaway parse would
        return ParsedQuestion("unknown")

    monkeypatch.setattr(offline_model, "parse_question", stuck)
    model = OfflineChatModel(think_timeout_s=0.3).bind_tools([])
    try:
        answer, ticks = await _with_heartbeat(model.ainvoke([HumanMessage("textbooks")]))
        streamed, _ = await _with_heartbeat(_collect(model.astream([HumanMessage("roi")])))
    finally:
        release.set()
    assert "could not read that message in time" in str(answer.content)
    assert "could not read that message in time" in streamed
    assert ticks > 0


async def _collect(chunks: Any) -> str:
    return "".join([str(c.content) async for c in chunks])


async def test_the_router_falls_back_to_the_profile_when_reading_names_overruns(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    release = threading.Event()

    def stuck(text: str) -> str:
        release.wait(10)
        return "joel"

    monkeypatch.setattr(agent_graph, "persona_in", stuck)
    monkeypatch.setattr(agent_graph, "ROUTE_TIMEOUT_S", 0.3)
    runtime = type("R", (), {"context": agent_graph.AgentContext(persona="evelyn")})()
    try:
        update, ticks = await _with_heartbeat(
            agent_graph.route({"messages": [HumanMessage("Joel, anything?")]}, runtime)
        )
    finally:
        release.set()
    assert update["persona"] == "evelyn"
    assert ticks > 0
