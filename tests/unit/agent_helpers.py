"""Helpers for the agent tests: a scripted tool-calling chat model and seeded deals."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.language_models.fake_chat_models import FakeMessagesListChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from pydantic import Field
from sqlmodel import Session

from tools.db import session_scope
from tools.deals.money import MoneyInputs, compute_money
from tools.models import Deal, DealStatus, Role, User
from tools.settings import Settings
from tools.user_settings import UserSettings


class ScriptedModel(BaseChatModel):
    """Answers with the scripted messages in order; remembers what it was shown and offered.

    A real BaseChatModel (not GenericFakeChatModel, which drops tool calls when streamed), and
    `bind_tools` keeps the same script so the graph's binding does not reset it.
    """

    script: list[AIMessage]
    seen: list[list[BaseMessage]] = Field(default_factory=list)
    offered: list[list[str]] = Field(default_factory=list)

    @property
    def _llm_type(self) -> str:
        return "scripted"

    def bind_tools(self, tools: Sequence[Any], **kwargs: Any) -> ScriptedModel:  # type: ignore[override]
        self.offered.append([t.name for t in tools])
        return self

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: Any = None,
        **kwargs: Any,
    ) -> ChatResult:
        self.seen.append(list(messages))
        if not self.script:
            raise AssertionError("the scripted model ran out of answers")
        msg = self.script.pop(0)
        msg = msg.model_copy(update={"response_metadata": {"model_name": "scripted"}})
        return ChatResult(generations=[ChatGeneration(message=msg)])


class LoopingModel(FakeMessagesListChatModel):
    """Gives its responses in a circle: a model stuck calling tools. Each answer is a new
    message with new tool call ids, as a real model's would be (the fake hands back the same
    object, which the thread would merge into the earlier one by its id). Past `max_calls` it
    fails the test instead of looping on (LangGraph's own step limit is 10,007)."""

    max_calls: int = 100
    calls: int = 0

    def bind_tools(self, tools: Sequence[Any], **kwargs: Any) -> LoopingModel:  # type: ignore[override]
        return self

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: Any = None,
        **kwargs: Any,
    ) -> ChatResult:
        self.calls += 1
        if self.calls > self.max_calls:
            raise AssertionError(f"the graph let the model loop {self.max_calls} times")
        msg = super()._generate(messages, stop, run_manager, **kwargs).generations[0].message
        calls = [
            {**c, "id": f"call_{uuid.uuid4().hex[:12]}"} for c in getattr(msg, "tool_calls", [])
        ]
        fresh = AIMessage(content=msg.content, tool_calls=calls)
        return ChatResult(generations=[ChatGeneration(message=fresh)])


def call(name: str, args: dict[str, Any], call_id: str = "c1") -> AIMessage:
    return AIMessage(
        content="", tool_calls=[{"name": name, "args": args, "id": call_id, "type": "tool_call"}]
    )


def say(text: str) -> AIMessage:
    return AIMessage(content=text)


def scripted(*msgs: AIMessage) -> ScriptedModel:
    return ScriptedModel(script=list(msgs), seen=[], offered=[])


def make_deal(asin: str, **kw: Any) -> Deal:
    """An active deal with sane money inputs (profit ~ $38 under default settings)."""
    base: dict[str, Any] = dict(
        asin=asin,
        title=f"Calculus Early Transcendentals {asin}",
        author="Stewart",
        category="Mathematics",
        category_path="Books > Textbooks > Science & Math",
        status=DealStatus.active,
        condition="very_good",
        price_now=20.0,
        list_at=80.0,
        referral_pct=15.0,
        referral_min=0.0,
        fba_fee=3.5,
        closing_fee=1.8,
        sales_rank=45_000,
        rank_drops_30=5,
        rank_drops_90=15,
        rank_drops_365=60,
        seasonality="textbook",
        peak_months="8,9,1",
        trough_months="10",
        percent_down=35.0,
        avg_1yr=70.0,
        deal_trust=85.0,
        inferred_sales_count=12,
        amazon_offer=False,
        expected_trough_price=55.0,
    )
    base.update(kw)
    # the stored money columns, exactly as the pipeline writes them (search pre-filters on them)
    money = compute_money(
        MoneyInputs(
            base["price_now"],
            base["list_at"],
            base["referral_pct"],
            base["referral_min"],
            base["fba_fee"],
            base["closing_fee"],
            False,
        ),
        UserSettings(),
    )
    base.update(
        amz_fees=money.amz_fees,
        all_in_cost_default=money.all_in_cost,
        profit_default=money.profit,
        margin_default=money.margin,
        roi_default=money.roi,
        min_listing_price_default=money.min_listing_price,
    )
    return Deal(**base)


def seed(settings: Settings, *deals: Deal) -> None:
    with session_scope(settings) as session:
        for d in deals:
            session.add(d)


def add_user(session: Session, name: str, role: Role = Role.user) -> User:
    from tools.users import add_user as _add

    return _add(session, name, "password123", role)
