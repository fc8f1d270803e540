"""Extraction (offline rules and the LLM structured-output path) and admin approval."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest
from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from pydantic import Field
from sqlmodel import Session, select

from knowledge import PermissionDenied, list_knowledge, save_strategy
from knowledge.extraction import (
    Candidate,
    approve,
    extract,
    extract_candidates,
    mark_duplicates,
    offline_extract,
    summarize,
)
from tools.db import session_scope
from tools.models import MentalModel, Role, Strategy, User

ARTICLE = """Textbook Arbitrage: What I Learned After Five Seasons

Hi everyone, welcome back to the blog! Thanks for reading.

Textbook prices follow the academic calendar because students buy at the start of each
semester. Demand collapses in October once classes are underway, which means used prices drop
to their yearly low.

If a used textbook sells for under $20 in October and its peak price last August was above $60,
buy it and hold it until the August rush.
- Skip any book where Amazon holds the buy box more than 50% of the time.
- Only buy when the ROI is at least 30% after the 15% referral fee and the $1.80 closing fee.

Why does this work? I love coffee.
"""


class ScriptedToolModel(BaseChatModel):
    """A chat model that answers with scripted tool calls, so with_structured_output really
    runs its bind_tools + PydanticToolsParser path."""

    replies: list[dict[str, Any]]
    seen: list[list[BaseMessage]] = Field(default_factory=list)
    bound: list[Any] = Field(default_factory=list)
    fail: bool = False

    @property
    def _llm_type(self) -> str:
        return "scripted-tools"

    def bind_tools(self, tools: Sequence[Any], **kwargs: Any) -> Any:  # type: ignore[override]
        self.bound.extend(tools)
        return self

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        if self.fail:
            raise ConnectionError("endpoint unreachable")
        self.seen.append(messages)
        args = self.replies[min(len(self.seen), len(self.replies)) - 1]
        msg = AIMessage(
            content="",
            tool_calls=[
                {"name": "ExtractedKnowledge", "args": args, "id": f"call_{len(self.seen)}"}
            ],
        )
        return ChatResult(generations=[ChatGeneration(message=msg)])


@pytest.fixture
def session():  # type: ignore[no-untyped-def]
    with session_scope() as s:
        yield s


@pytest.fixture
def admin(session: Session) -> User:
    u = User(name="teacher", password_hash="x", role=Role.admin)
    session.add(u)
    session.flush()
    return u


def test_offline_extraction_gives_sensible_candidates() -> None:
    cands = offline_extract(ARTICLE, "https://blog.example/textbooks")
    strategies = [c for c in cands if c.kind == "strategy"]
    models = [c for c in cands if c.kind == "mental_model"]
    texts = " || ".join(c.text for c in strategies)
    assert "under $20 in October" in texts and "50%" in texts and "$1.80" in texts
    buy = next(c for c in strategies if "$20" in c.text)
    assert {"$20", "$60", "October", "August"} <= set(buy.numbers)
    assert buy.conditions and buy.conditions[0].startswith("If a used textbook")
    fees = next(c for c in strategies if "$1.80" in c.text)
    assert fees.category == "fees"
    assert any(
        "academic calendar" in m.text and m.title and m.category == "textbooks" for m in models
    )
    # greetings, questions and chit-chat are not knowledge
    assert not any(
        "welcome" in c.text.lower() or "coffee" in c.text or c.text.endswith("?") for c in cands
    )
    assert all(
        c.source == "https://blog.example/textbooks" and c.origin == "offline" for c in cands
    )


def test_offline_extraction_of_plain_notes() -> None:
    notes = (
        "never buy a book ranked over 2,000,000 unless it is a textbook\n\n"
        "keep at least $500 in reserve for the August textbook season"
    )
    cands = extract_candidates(notes)
    assert [c.kind for c in cands] == ["strategy", "strategy"]
    assert "2,000,000" in cands[0].numbers and "$500" in cands[1].numbers


def test_llm_path_uses_structured_output() -> None:
    model = ScriptedToolModel(
        replies=[
            {
                "strategies": [
                    {
                        "text": "If a textbook is under $20 in October, buy and hold it until "
                        "August.",
                        "category": "Textbooks",
                        "conditions": ["under $20", "October"],
                        "numbers": ["$20"],
                    },
                    {"text": "ok", "category": "general"},
                ],
                "mental_models": [
                    {
                        "title": "Academic calendar",
                        "text": "Textbook demand follows "
                        "semester starts, so prices peak in August and January.",
                        "category": "seasonal",
                    }
                ],
            }
        ]
    )
    result = extract(ARTICLE, "https://blog.example/t", model)
    assert result.method == "llm" and result.note is None
    assert model.bound and model.bound[0].__name__ == "ExtractedKnowledge"
    system, human = model.seen[0]
    assert "Never invent rules" in str(system.content)
    assert "https://blog.example/t" in str(human.content) and "academic calendar" in str(
        human.content
    )
    kinds = [(c.kind, c.category, c.origin) for c in result.candidates]
    assert kinds == [("strategy", "textbooks", "llm"), ("mental_model", "seasonal", "llm")]
    assert result.candidates[0].conditions == ["under $20", "October"]
    assert result.candidates[1].title == "Academic calendar"


def test_llm_long_text_is_chunked() -> None:
    model = ScriptedToolModel(replies=[{"strategies": [], "mental_models": []}])
    long_text = "\n\n".join(f"Paragraph {i}. " + "Word " * 400 for i in range(20))
    assert extract(long_text, "pasted", model).candidates == []
    assert 2 <= len(model.seen) <= 6


def test_llm_failure_falls_back_with_a_note() -> None:
    model = ScriptedToolModel(replies=[], fail=True)
    result = extract(ARTICLE, "pasted", model)
    assert result.method == "offline" and result.candidates
    assert result.note and "ConnectionError" in result.note


def test_approve_persists_only_approved_with_provenance(session: Session, admin: User) -> None:
    cands = offline_extract(ARTICLE, "https://blog.example/textbooks")
    decisions = [c.kind == "mental_model" or "$20" in c.text for c in cands]
    results = approve(session, cands, decisions, admin)
    summary = summarize(results)
    assert summary.saved == sum(decisions) and summary.rejected == len(cands) - sum(decisions)
    rows = list(session.exec(select(Strategy)))
    assert len(rows) == 1 and "$20" in rows[0].text
    assert rows[0].source == "https://blog.example/textbooks"
    assert rows[0].approved_by == "teacher" and rows[0].approved_at is not None
    mm = list(session.exec(select(MentalModel)))
    assert mm and all(m.approved_by == "teacher" and m.title for m in mm)
    # approving the same candidates again saves nothing twice
    again = summarize(approve(session, cands, decisions, admin))
    assert again.saved == 0 and again.duplicates == sum(decisions)


def test_approve_by_index_and_duplicates_marked(session: Session, admin: User) -> None:
    save_strategy(
        session,
        "Skip any book where Amazon holds the buy box more than 50% of the time.",
        "pricing",
        "pasted",
        admin,
    )
    cands = mark_duplicates(session, offline_extract(ARTICLE))
    dup = [c for c in cands if c.duplicate_of]
    assert len(dup) == 1 and "buy box" in dup[0].text
    assert dup[0].duplicate_of is not None and dup[0].duplicate_of.startswith("S")
    results = approve(session, cands, {0: True}, admin)
    assert results[0].status == "saved"
    assert all(r.status == "rejected" for r in results[1:])


def test_non_admin_cannot_approve(session: Session) -> None:
    user = User(name="seller", password_hash="x", role=Role.user)
    session.add(user)
    session.flush()
    cands = [Candidate(kind="strategy", text="Buy textbooks under $20 in October.")]
    with pytest.raises(PermissionDenied):
        approve(session, cands, [True], user)
    assert list_knowledge(session) == []
