"""Score a chat model on the evaluation sets: the first tool call it makes for each question,
against the call the set expects, with accuracy per category.

A model is scored on what the seller depends on, the tool call: `search_deals` with exactly
the expected filters (compared as `DealSearch(...).filters()`, so equivalent spellings of the
same search agree), or the single-deal tool with the expected ASIN. The prompt is the one the
chat gives Ava or the persona the question names (agent/prompts.py), with the tools a signed-in
seller is offered; no tool runs and no database is read, so a run costs one model call per
question. Works the same for the offline model and any OpenAI-compatible endpoint.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage
from pydantic import ValidationError

from agent.context import AgentContext
from agent.evaluation import fresh, holdout, independent, own
from tools.deals.search import DealSearch

SETS = ("own", "independent", "fresh", "holdout")

# a search's filters as the categories a seller would name them
FIELD_CATEGORY = {
    "min_price": "price",
    "max_price": "price",
    "min_roi": "roi",
    "max_roi": "roi",
    "min_profit": "profit",
    "max_profit": "profit",
    "min_margin": "margin",
    "max_margin": "margin",
    "min_rank": "rank",
    "max_rank": "rank",
    "min_drops_30": "velocity",
    "min_drops_90": "velocity",
    "min_drops_365": "velocity",
    "gated": "gating",
    "amazon_offer": "amazon",
    "condition": "condition",
    "seasonality": "season",
    "peak_month": "season",
    "in_peak_now": "season",
    "min_percent_down": "discount",
    "text": "words",
    "category": "words",
    "author": "publisher/author",
    "publisher": "publisher/author",
    "sort": "sort",
    "limit": "paging",
    "offset": "paging",
    "updated_within_hours": "freshness",
    "include_unprofitable": "freshness",
}


@dataclass(frozen=True)
class Case:
    """One question, the tool call it should make, and the categories it counts for."""

    source: str  # own | independent | fresh | holdout
    question: str
    tool: str  # search_deals, or the single-deal intent (deal_advice, get_deal, ...)
    filters: dict[str, Any] = field(default_factory=dict)  # search_deals' expected filters
    asin: str | None = None  # a single-deal tool's expected ASIN
    categories: tuple[str, ...] = ()


def _categories(filters: dict[str, Any], *extra: str) -> tuple[str, ...]:
    names = {FIELD_CATEGORY.get(k, "other") for k in filters} or {"no filters"}
    return tuple(sorted(names | set(extra)))


def cases(sets: Iterable[str] = SETS) -> list[Case]:
    """Every case of the named sets (own, independent, fresh, holdout)."""
    out: list[Case] = []
    wanted = set(sets)
    if "own" in wanted:
        out += [
            Case("own", q, "search_deals", f, categories=_categories(f)) for q, f in own.EVAL_SET
        ]
        out += [
            Case("own", q, "search_deals", f, categories=_categories(f, "unusable part"))
            for q, f, _ in own.EVAL_UNUSED
        ]
    if "independent" in wanted:
        out += [
            Case("independent", q, "search_deals", f, categories=_categories(f))
            for q, f in independent.INDEPENDENT_SET
        ]
        out += [
            Case("independent", q, intent, asin=a, categories=("single deal",))
            for q, intent, a in independent.INDEPENDENT_ID_SET
        ]
    for name, module_set, unused in (
        ("fresh", fresh.FRESH_SET, fresh.FRESH_UNUSED),
        ("holdout", holdout.HOLDOUT_SET, holdout.HOLDOUT_UNUSED),
    ):
        if name in wanted:
            out += [
                Case(name, q, "search_deals", f, categories=_categories(f, f"phrasing: {c}"))
                for c, q, f in module_set
            ]
            out += [
                Case(name, q, "search_deals", f, categories=_categories(f, "unusable part"))
                for q, f, _ in unused
            ]
    return out


def _normalized(filters: dict[str, Any]) -> dict[str, Any] | None:
    """Filters as DealSearch keeps them (ints as floats for money, defaults dropped); None
    when they are not a valid search."""
    try:
        return DealSearch(**filters).filters()
    except (ValidationError, TypeError):
        return None


@dataclass
class Outcome:
    case: Case
    tool: str | None  # what the model called first (None: it answered without a tool)
    args: dict[str, Any]
    right: bool
    error: str | None = None


def judge(case: Case, message: AIMessage | None, error: str | None = None) -> Outcome:
    """Whether the model's first tool call is the one the case expects."""
    calls = list(message.tool_calls) if message is not None else []
    if not calls:
        return Outcome(case, None, {}, False, error)
    name, args = calls[0]["name"], dict(calls[0].get("args") or {})
    if name != case.tool:
        return Outcome(case, name, args, False, error)
    if case.tool == "search_deals":
        right = _normalized(args) == _normalized(case.filters)
    else:
        right = str(args.get("asin", "")).upper() == (case.asin or "")
    return Outcome(case, name, args, right, error)


Ask = Callable[[str, str], Any]  # (persona, question) -> awaitable AIMessage


def model_asker(make_model: Callable[[str], BaseChatModel], ctx: AgentContext) -> Ask:
    """One model call per question with the chat's prompt and a seller's tools; the persona
    is the one the question names (as the chat's router reads it), else Ava."""
    from agent.offline.model import OfflineChatModel
    from agent.prompts import system_prompt
    from agent.tools import tools_for

    tools = tools_for(ctx)
    bound: dict[str, Any] = {}

    async def ask(key: str, question: str) -> Any:
        if key not in bound:
            bound[key] = make_model(key).bind_tools(tools)
        model = bound[key]
        prompt = [
            SystemMessage(system_prompt(key, user_name=ctx.user_name, role=ctx.role, knowledge=[])),
            HumanMessage(question),
        ]
        if isinstance(model, OfflineChatModel):
            return await model.ainvoke(prompt, persona=key, knowledge=[])
        return await model.ainvoke(prompt)

    return ask


async def evaluate(ask: Ask, chosen: Sequence[Case], *, concurrency: int = 4) -> list[Outcome]:
    """Ask every case (at most `concurrency` at once) and judge the answers, in case order."""
    from agent.offline.parser import persona_in

    gate = asyncio.Semaphore(max(1, concurrency))

    async def one(case: Case) -> Outcome:
        async with gate:
            try:
                message = await ask(persona_in(case.question) or "ava", case.question)
            except Exception as err:  # one failed call is a wrong answer, not a failed run
                return judge(case, None, f"{type(err).__name__}: {err}"[:300])
        return judge(case, message if isinstance(message, AIMessage) else None)

    return list(await asyncio.gather(*(one(c) for c in chosen)))


def report(outcomes: Sequence[Outcome]) -> dict[str, Any]:
    """Accuracy overall, per set and per category (a case counts in each of its categories)."""
    right: Counter[str] = Counter()
    total: Counter[str] = Counter()
    by_set_right: Counter[str] = Counter()
    by_set: Counter[str] = Counter()
    for o in outcomes:
        by_set[o.case.source] += 1
        by_set_right[o.case.source] += o.right
        for c in o.case.categories:
            total[c] += 1
            right[c] += o.right
    n = len(outcomes)
    return {
        "cases": n,
        "right": sum(o.right for o in outcomes),
        "accuracy": round(sum(o.right for o in outcomes) / n, 4) if n else None,
        "sets": {s: _share(by_set_right[s], by_set[s]) for s in sorted(by_set)},
        "categories": {c: _share(right[c], total[c]) for c in sorted(total)},
        "errors": sum(1 for o in outcomes if o.error),
        "misses": [
            {
                "question": o.case.question,
                "want": {"tool": o.case.tool, "args": o.case.filters or {"asin": o.case.asin}},
                "got": {"tool": o.tool, "args": o.args},
                **({"error": o.error} if o.error else {}),
            }
            for o in outcomes
            if not o.right
        ],
    }


def _share(right: int, total: int) -> dict[str, Any]:
    return {"right": right, "total": total, "accuracy": round(right / total, 4) if total else None}
