"""General questions draw on several strategies and mental models, each persona from its own
angle (issue 17, item 5: four of five personas once answered "how do I pick textbooks in
August?" with the same single snippet)."""

from __future__ import annotations

import re

from langgraph.checkpoint.memory import InMemorySaver

from agent.context import AgentContext
from agent.graph import build_graph
from agent.personas import PERSONAS
from agent.runner import run_turn
from knowledge import retrieve_angled
from knowledge.starter import seed_starter_knowledge
from tools.db import session_scope
from tools.settings import Settings

QUESTION = "how do I pick textbooks in August?"


async def test_each_persona_answers_a_general_question_from_several_entries(
    settings: Settings,
) -> None:
    with session_scope(settings) as session:
        seed_starter_knowledge(session)
    graph = build_graph(InMemorySaver())
    answers: dict[str, str] = {}
    for key in PERSONAS:
        r = await run_turn(
            graph, QUESTION, thread_id=key, user=AgentContext(settings=settings), persona=key
        )
        assert r.tool_calls == [
            {"name": "search_knowledge", "args": {"query": QUESTION, "persona": key, "k": 5}}
        ]
        refs = re.findall(r"^- \[([SM]\d+)\]", r.answer, flags=re.M)
        assert len(refs) >= 3, r.answer
        assert any(x.startswith("S") for x in refs) and any(x.startswith("M") for x in refs)
        answers[key] = r.answer
    leads = {re.findall(r"^- \[([SM]\d+)\]", a, flags=re.M)[0] for a in answers.values()}
    assert len(leads) >= 4, leads  # each angle brings its own entry first
    first_lines = {a.split("\n")[0] for a in answers.values()}
    assert len(first_lines) == len(PERSONAS)  # and its own words
    assert answers["evelyn"].split("\n")[1].startswith("- [M")  # the why before the how


def test_angled_retrieval_stays_on_topic_and_puts_the_angle_first(settings: Settings) -> None:
    with session_scope(settings) as session:
        seed_starter_knowledge(session)
        topical = retrieve_angled(session, "textbooks in August", ())
        joel = retrieve_angled(session, "textbooks in August", PERSONAS["joel"].angle)
        assert [h.kind for h in topical] == ["strategy"] * 3 + ["mental_model"] * 2
        assert {h.ref for h in joel} != {h.ref for h in topical}
        assert "flip" in joel[0].text.lower() or "velocity" in joel[0].text.lower()
        assert retrieve_angled(session, "zzzz qqqq", PERSONAS["olyvia"].angle) == []
