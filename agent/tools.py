"""LangChain tools over tools/ and knowledge/: typed arguments, compact JSON results.

Every tool returns (content, artifact): `content` is the compact JSON the model reads, the
artifact the full data for the UI (tables, charts). Errors are raised as `ToolError` with a
message that says what to fix; the graph's ToolNode turns them into error ToolMessages the model
can recover from. Admin-only tools check the role from the run context themselves, because a
model can call a tool it was never offered.
"""

from __future__ import annotations

import asyncio
import copy
import logging
import re
import time
from collections import defaultdict, deque
from typing import Annotated, Any

from langchain_core.messages import ToolMessage
from langchain_core.tools import BaseTool, InjectedToolArg, ToolException, tool
from langgraph.prebuilt import ToolRuntime
from langgraph.types import Command
from pydantic import BaseModel, ConfigDict, Field, create_model
from pydantic.fields import FieldInfo

from agent.advice import ava_advice
from agent.context import AgentContext
from agent.tool_common import ToolError, context_of, require_admin
from agent.tool_common import check_asin as _asin
from agent.tool_common import to_json as _json
from tools.db import session_scope
from tools.deals.search import DealSearch
from tools.models import User

log = logging.getLogger(__name__)
SUMMARY_KEYS = (
    "asin",
    "title",
    "price_now",
    "list_at",
    "all_in_cost",
    "profit",
    "roi",
    "margin",
    "sales_rank",
    "rank_drops_30",
    "rank_drops_90",
    "rank_drops_365",
    "percent_down",
    "avg_1yr",
    "seasonality",
    "peak_months",
    "deal_trust",
    "amazon_offer",
    "gated",
    "trend",
)
DETAIL_KEYS = (
    *SUMMARY_KEYS,
    "author",
    "publisher",
    "category",
    "condition",
    "amz_fees",
    "min_listing_price",
    "trough_months",
    "expected_trough_price",
    "inferred_sales_count",
    "offers_used",
    "seller_quality",
    "restriction_reason",
    "approval_url",
    "missing",
    "updated_at",
    "keepa_last_update",
)


def _user(session: Any, ctx: AgentContext) -> User | None:
    return session.get(User, ctx.user_id) if ctx.user_id is not None else None


def _compact(data: dict[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    out = {}
    for k in keys:
        v = data.get(k)
        if v is None or v == [] or v == {}:
            continue
        out[k] = round(v, 2) if isinstance(v, float) else v
    return out


def _dump(model: BaseModel) -> dict[str, Any]:
    return model.model_dump(mode="json")


# ---- deals --------------------------------------------------------------------------------


def _optional(info: FieldInfo) -> tuple[Any, FieldInfo]:
    """A DealSearch field as a tool argument: same type and limits, but unset by default, so
    a refinement can tell "not sent" from "sent the default"."""
    arg = copy.copy(info)
    arg.default, arg.default_factory = None, None
    return info.annotation | None, arg  # type: ignore[operator]  # every field has a type


def _search_args() -> type[BaseModel]:
    """The search tool's arguments: every DealSearch field (optional), plus `refine` and
    `remove` for follow-ups; `runtime` is injected, never sent by the model."""
    fields: dict[str, Any] = {
        name: _optional(info) for name, info in DealSearch.model_fields.items()
    }
    fields["refine"] = (
        bool,
        Field(
            default=False,
            description="true: change the conversation's current search (only the fields "
            "sent change; unsent ones keep their values); false: a new search",
        ),
    )
    fields["remove"] = (
        list[str] | None,
        Field(
            default=None,
            max_length=20,
            description="with refine: filters to drop, by field or name (price, roi, profit, "
            "margin, rank, drops, season, gating, amazon, condition, category, text)",
        ),
    )
    fields["runtime"] = (Annotated[Any, InjectedToolArg], None)
    return create_model("SearchDealsArgs", __config__=ConfigDict(extra="forbid"), **fields)


SearchDealsArgs = _search_args()


def _search_once(ctx: AgentContext, query: DealSearch) -> tuple[Any, str | None]:
    """Run one search for the caller (blocking: the tool runs it in a thread)."""
    from tools.deals.search import search_deals as _search

    note = None
    with session_scope(ctx.settings) as session:
        user = _user(session, ctx)
        if user is None and query.gated != "include":
            # gating is per seller: without one, answer the rest of the question and say so
            query = query.model_copy(update={"gated": "include"})
            note = "gating not applied: it is per seller, and no seller is signed in"
        return _search(session, query, user), note


@tool("search_deals", args_schema=SearchDealsArgs)
async def search_deals(
    runtime: ToolRuntime, refine: bool = False, remove: list[str] | None = None, **filters: Any
) -> Command:
    """Find deals with filters (price, ROI, profit, margin, sales rank, rank drops, category,
    title words, author, publisher, seasonality, gating, Amazon on the listing, condition), a
    sort (price sorts cheapest first) and a limit. `best_pick` is the row to recommend (one the
    seller can list and that sells, by the stated score) with its reasons.
    refine=true changes the conversation's current search instead of starting a new one (send
    only what changes; remove=[...] drops filters; offset pages) and the result says what
    changed. gated="only_ungated" checks the candidates' gating now; `gating` says what was
    checked and which shown deals are still unchecked. Money uses the asking user's settings.
    Returns the total and the top rows."""
    import asyncio

    from agent import gating_now
    from agent import thread_search as ts
    from tools.deals.pick import best_pick
    from tools.deals.search import DealSearchError

    ctx = context_of(runtime)
    state = runtime.state if isinstance(runtime.state, dict) else {}
    changes = {k: v for k, v in filters.items() if k in DealSearch.model_fields and v is not None}
    try:
        plan = ts.plan_search(state.get("search"), changes, remove or (), refine)
    except DealSearchError as err:
        raise ToolError(str(err)) from None
    gating: dict[str, Any] | None = None
    note: str | None = None
    if gating_now.wants_checks(ctx, plan.query):  # "deals I can sell": check them now
        result, gating = await gating_now.sellable(ctx, plan.query, runtime)
    else:
        result, note = await asyncio.to_thread(_search_once, ctx, plan.query)
    full = _dump(result)
    content: dict[str, Any] = {
        "total": result.total,
        "total_capped": result.total_capped,  # "1000+"
        "query": result.query,
        "applied": result.applied,
        "items": [_compact(d, SUMMARY_KEYS) for d in full["items"]],
    }
    if gating is not None:
        content["gating"] = full["gating"] = gating
    pick = best_pick(full["items"])  # needs a deal the seller can list and that sells
    content["best_pick"] = full["best_pick"] = pick.as_dict()
    changed = ts.what_changed(plan, result.total, result.total_capped)
    if changed:
        content["changed"] = full["changed"] = changed
    notes = [n for n in (plan.note, note) if n]
    if notes:
        content["note"] = full["note"] = "; ".join(notes)
    msg = ToolMessage(
        content=_json(content),
        artifact=full,
        tool_call_id=runtime.tool_call_id or "search_deals",
        name="search_deals",
    )
    stored = ts.record(plan.query, result.total, result.total_capped, full["items"], best=pick.asin)
    return Command(update={"messages": [msg], "search": stored})


class AsinArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    asin: str = Field(description="the ASIN or ISBN-10, e.g. B0CXYZ1234 or 0134685997")
    runtime: Annotated[Any, InjectedToolArg] = None


def _detail(ctx: AgentContext, asin: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    from knowledge import retrieve
    from knowledge.cache import cached
    from knowledge.retrieval import deal_query
    from tools.deals.search import get_deal_detail

    with session_scope(ctx.settings) as session:
        detail = get_deal_detail(session, asin, _user(session, ctx))
        if detail is None:
            raise ToolError(
                f"No deal with ASIN {asin} in the database. Check the ASIN, or use "
                "keepa_lookup to fetch it live."
            )
        full = _dump(detail)
        query = deal_query(full)  # deals in the same situation share their knowledge
        hits = cached(
            (ctx.settings.database_url, ctx.settings.data_dir, "deal", query, 3),
            lambda: [h.as_dict() for h in retrieve(session, query, k=3)],
        )
    return full, hits


async def _detail_now(
    ctx: AgentContext, asin: str
) -> tuple[dict[str, Any], list[dict[str, Any]], str | None]:
    """_detail, with the deal's gating checked first when it is unknown for this seller; the
    note says so when it still is."""
    import asyncio

    from agent import gating_now

    full, hits = await asyncio.to_thread(_detail, ctx, asin)
    if ctx.user_id is None or full.get("gated") not in gating_now.UNKNOWN:
        return full, hits, None
    why = await gating_now.check_one(ctx, asin, full.get("condition"))
    if why is None:
        full, hits = await asyncio.to_thread(_detail, ctx, asin)
        return full, hits, None
    return full, hits, gating_now.unknown_note(full.get("gated"), why)


@tool("get_deal", args_schema=AsinArgs, response_format="content_and_artifact")
async def get_deal(asin: str, runtime: ToolRuntime) -> tuple[str, dict[str, Any]]:
    """All the numbers of one deal: price now, list at, cost, fees, profit, ROI, margin, rank,
    drops, seasonality, Deal Trust, gating for this user (checked now if unknown). The
    artifact has chart series."""
    ctx = context_of(runtime)
    full, _, note = await _detail_now(ctx, _asin(asin))
    content = _compact(full, DETAIL_KEYS)
    if note:
        content["gating_note"] = full["gating_note"] = note
    return _json(content), full


@tool("deal_advice", args_schema=AsinArgs, response_format="content_and_artifact")
async def deal_advice(asin: str, runtime: ToolRuntime) -> tuple[str, dict[str, Any]]:
    """Ava's buy / pass / watch verdict for one deal (50-80 words), from its numbers and the
    taught strategies; also returns the deal's numbers and the strategies used. Gating is
    checked first when unknown; if it still is, the verdict says so (`gating_note`)."""
    ctx = context_of(runtime)
    full, hits, note = await _detail_now(ctx, _asin(asin))
    record = await asyncio.to_thread(_track_record, ctx, full.get("seasonality"))
    advice = ava_advice(full, hits, record)
    if note:  # the numbers' verdict stands, but the seller may not be able to list it
        advice.reasons.append("gating not known yet")
        advice.text = f"{advice.text} {note}"
    content = {
        **advice.as_dict(),
        "asin": full["asin"],
        "deal": _compact(full, DETAIL_KEYS),
        "knowledge": [{k: h[k] for k in ("ref", "kind", "title", "text")} for h in hits],
    }
    if note:
        content["gating_note"] = note
    if record:
        content["track_record"] = record
    artifact = {"detail": full, "advice": advice.as_dict(), "knowledge": hits}
    return _json(content), {**artifact, "track_record": record}


def _track_record(ctx: AgentContext, seasonality: Any) -> dict[str, Any] | None:
    """The seller's last sold buys of the deal's kind (else of any kind), for the verdict; a
    failure here must never cost the seller the verdict itself."""
    from tools.tracking.reports import track_record

    if ctx.user_id is None:
        return None
    try:
        with session_scope(ctx.settings) as session:
            user = session.get(User, ctx.user_id)
            if user is None:
                return None
            kind = str(seasonality) if seasonality else None
            record = track_record(session, user, kind) if kind else None
            return record or track_record(session, user, None)
    except Exception:  # the record is a bonus; the verdict stands without it
        log.exception("track record unavailable for user %s", ctx.user_id)
        return None


class RestrictionArgs(AsinArgs):
    condition: str = Field(
        default="used_very_good",
        description="used_like_new, used_very_good, used_good, used_acceptable or new_new",
    )


@tool("check_restriction", args_schema=RestrictionArgs, response_format="content_and_artifact")
async def check_restriction(
    asin: str, runtime: ToolRuntime, condition: str = "used_very_good"
) -> tuple[str, dict[str, Any]]:
    """Can this user list the ASIN on Amazon in this condition (gating)? Returns the state
    (allowed, restricted, ...), Amazon's reason code and the approval link."""
    from tools.restrictions.service import InvalidRequest
    from tools.restrictions.service import check_restriction as _check

    ctx = context_of(runtime)
    if ctx.user_id is None:
        raise ToolError("Gating is per seller account: sign in first.")
    try:
        result = await _check(ctx.settings, ctx.user_id, _asin(asin), condition)
    except InvalidRequest as err:
        raise ToolError(str(err)) from None
    data = result.as_dict()
    return _json({k: v for k, v in data.items() if v is not None}), data


# ---- knowledge ----------------------------------------------------------------------------


class KnowledgeArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    query: str = Field(min_length=2, max_length=500, description="what to look up")
    k: int = Field(default=4, ge=1, le=10, description="how many entries")
    persona: str | None = Field(
        default=None,
        description="a mentor (olyvia, joel, evelyn, errol) whose angle ranks the entries: "
        "strategies and mental models both, the mentor's concerns first",
    )
    runtime: Annotated[Any, InjectedToolArg] = None


@tool("search_knowledge", args_schema=KnowledgeArgs, response_format="content_and_artifact")
def search_knowledge(
    query: str, runtime: ToolRuntime, k: int = 4, persona: str | None = None
) -> tuple[str, list[dict[str, Any]]]:
    """Taught strategies (IF ... THEN rules) and mental models (concepts) relevant to a
    question, best first, with references like S3 / M1 to cite. With `persona`, a mix of
    both kinds seen from that mentor's angle (a general question: "how do I ...?")."""
    from agent.personas import PERSONAS
    from knowledge import retrieve, retrieve_angled

    ctx = context_of(runtime)
    mentor = PERSONAS.get((persona or "").strip().lower())
    with session_scope(ctx.settings) as session:
        if mentor is not None:
            found = retrieve_angled(
                session, query, mentor.angle, strategies=k - k // 2, mental_models=max(2, k // 2)
            )
        else:
            found = retrieve(session, query, k=k)
        hits = [h.as_dict() for h in found]
    compact = [
        {x: h[x] for x in ("ref", "kind", "title", "text", "category") if h.get(x)} for h in hits
    ]
    return _json({"hits": compact}), hits


class ProposeArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url_or_text: str = Field(
        min_length=10,
        max_length=100_000,
        description="an http(s) link (article, YouTube video) or the pasted text to learn from",
    )
    runtime: Annotated[Any, InjectedToolArg] = None


def _source_text(value: str) -> Any:
    """A URL is fetched (safely); anything else is pasted text, never a server file path."""
    from knowledge import SourceText, load_source

    v = value.strip()
    if re.fullmatch(r"https?://\S+", v, flags=re.IGNORECASE):
        return load_source(v)
    return SourceText(v[:100_000], "pasted", "pasted", None)


@tool("propose_knowledge", args_schema=ProposeArgs)
def propose_knowledge(url_or_text: str, runtime: ToolRuntime) -> Command:
    """Admin only. Extract candidate strategies / mental models from a link or pasted text and
    ask the admin to approve them; only approved ones are saved."""
    from knowledge import SourceError, extract
    from knowledge.extraction import mark_duplicates
    from knowledge.fetch import FetchError
    from tools.llm import make_chat_model

    ctx = context_of(runtime)
    require_admin(ctx, "teaching the knowledge base")
    try:
        source = _source_text(url_or_text)
    except (SourceError, FetchError) as err:
        raise ToolError(f"Could not read that source: {err}") from None
    extraction = extract(source.text, source.source, make_chat_model("extraction", ctx.settings))
    with session_scope(ctx.settings) as session:
        candidates = mark_duplicates(session, extraction.candidates)
    call_id = runtime.tool_call_id or "propose"
    if not candidates:
        raise ToolError(
            "Found nothing teachable in that source (no rules or concepts). Try "
            "another link or paste the key passage."
        )
    pending = {
        "source": source.source,
        "method": extraction.method,
        "note": extraction.note,
        "candidates": [c.model_dump() for c in candidates],
        "tool_call_id": call_id,
        "message_id": f"propose-{call_id}",
    }
    msg = ToolMessage(
        content=_json({"status": "awaiting_approval", "candidates": len(candidates)}),
        tool_call_id=call_id,
        name="propose_knowledge",
        id=pending["message_id"],
    )
    return Command(update={"pending_knowledge": pending, "messages": [msg]})


# ---- admin: pipeline ----------------------------------------------------------------------


class SetDealQueryArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    selection: dict[str, Any] = Field(
        description='Keepa /deal/ selection keys, e.g. {"currentRange": [500, 3000], '
        '"salesRankRange": [1, 500000], "includeCategories": [283155], '
        '"deltaPercentRange": [20, 100], "priceTypes": [2]}; ranges in cents'
    )
    merge: bool = Field(
        default=True, description="merge into the stored selection (True) or replace it (False)"
    )
    runtime: Annotated[Any, InjectedToolArg] = None


# The tool keeps the admins' name "deal query": it is stored in every checkpointed thread and
# chat step that used it, and a model reading an old thread would call a renamed tool in vain.
@tool("set_deal_query", args_schema=SetDealQueryArgs, response_format="content_and_artifact")
def set_deal_query(
    selection: dict[str, Any], runtime: ToolRuntime, merge: bool = True
) -> tuple[str, dict[str, Any]]:
    """Admin only. Change the Keepa deal selection the scout and backfill use (validated;
    an invalid one is refused and the old one keeps working)."""
    from tools.deal_selection import DealSelectionError, get_deal_selection, set_deal_selection

    ctx = context_of(runtime)
    require_admin(ctx, "changing the deal query")
    with session_scope(ctx.settings) as session:
        base = get_deal_selection(session) if merge else {}
        try:
            stored = set_deal_selection(session, {**base, **selection})
        except DealSelectionError as err:
            raise ToolError(f"{err}. Nothing was changed.") from None
    return _json({"stored": stored}), stored


class NoArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    runtime: Annotated[Any, InjectedToolArg] = None


def _token_snapshot(ctx: AgentContext) -> dict[str, Any] | None:
    try:
        from tools.keepa.budget import TokenBudget
        from tools.redis_embedded import redis_url

        budget = TokenBudget.from_url(redis_url(ctx.settings))
        snap = budget.snapshot()
        return {
            k: snap[k]
            for k in (
                "synced",
                "balance",
                "refill_rate",
                "refill_in_s",
                "paused",
                "floor",
                "resume",
            )
            if k in snap
        }
    except Exception as err:  # Redis down or budget not synced yet: say so, don't fail
        return {"unavailable": f"{type(err).__name__}: {str(err)[:120]}"}


@tool("pipeline_status", args_schema=NoArgs, response_format="content_and_artifact")
def pipeline_status(runtime: ToolRuntime) -> tuple[str, dict[str, Any]]:
    """Admin only. Deal counts by status, data freshness, the Keepa token balance and the
    last run of each worker task."""
    from sqlalchemy import func
    from sqlmodel import select

    from tools.deal_selection import get_deal_selection
    from tools.ingestion import ingestion
    from tools.models import Deal, SystemState

    ctx = context_of(runtime)
    require_admin(ctx, "the pipeline status")
    with session_scope(ctx.settings) as session:
        counts = {
            str(getattr(s, "value", s)): int(n)
            for s, n in session.exec(select(Deal.status, func.count()).group_by(Deal.status)).all()
        }
        newest, oldest = session.exec(
            select(func.max(Deal.updated_at), func.min(Deal.updated_at))
        ).one()
        runs = {
            row.key.removeprefix("task:"): row.value
            for row in session.exec(
                select(SystemState).where(SystemState.key.startswith("task:"))
            ).all()
        }
        selection = get_deal_selection(session)
        stall = ingestion(session, ctx.settings.ingestion_stall_minutes * 60)
    data = {
        "deals": counts,
        "total": sum(counts.values()),
        "newest_update": newest.isoformat() if newest else None,
        "oldest_update": oldest.isoformat() if oldest else None,
        "tokens": _token_snapshot(ctx),
        "task_runs": runs,
        "ingestion": stall.as_dict(),
        "deal_query": selection,
    }
    return _json(data), data


# ---- Keepa live refresh -------------------------------------------------------------------


class UserRateLimiter:
    """At most `limit` calls per user per `window_s` seconds (in-process, sliding window)."""

    def __init__(self, limit: int = 5, window_s: float = 600.0) -> None:
        self.limit, self.window_s = limit, window_s
        self._calls: dict[str, deque[float]] = defaultdict(deque)

    def check(self, who: str, now: float | None = None) -> float:
        """0 when allowed (and counted), else the seconds until the next call is allowed."""
        now = time.monotonic() if now is None else now
        calls = self._calls[who]
        while calls and now - calls[0] >= self.window_s:
            calls.popleft()
        if len(calls) >= self.limit:
            return self.window_s - (now - calls[0])
        calls.append(now)
        return 0.0


KEEPA_LIMITER = UserRateLimiter()
KEEPA_TOOL_WAIT_S = 20.0


class KeepaLookupArgs(AsinArgs):
    offers: bool = Field(
        default=True, description="also fetch live offers (more tokens, exact Price Now)"
    )


@tool("keepa_lookup", args_schema=KeepaLookupArgs, response_format="content_and_artifact")
async def keepa_lookup(
    asin: str, runtime: ToolRuntime, offers: bool = True
) -> tuple[str, dict[str, Any]]:
    """Fetch one ASIN live from Keepa now (spends tokens from the shared budget; limited per
    user), re-run the analytics, store it, and return the fresh numbers."""
    import asyncio

    from tools.deals.analytics import analyse_product
    from tools.deals.search import get_deal_detail
    from tools.deals.store import upsert_deal
    from tools.keepa.errors import KeepaError, KeepaTokensExhausted
    from tools.keepa.factory import make_keepa_client

    ctx = context_of(runtime)
    code = _asin(asin)
    wait = KEEPA_LIMITER.check(str(ctx.user_id if ctx.user_id is not None else ctx.user_name))
    if wait:
        raise ToolError(
            f"Live Keepa lookups are limited to {KEEPA_LIMITER.limit} per "
            f"{KEEPA_LIMITER.window_s / 60:.0f} minutes per user; try again in "
            f"{wait:.0f} s, or use get_deal for the stored numbers."
        )
    settings = ctx.settings.model_copy(update={"keepa_wait_deadline_s": KEEPA_TOOL_WAIT_S})
    try:
        async with make_keepa_client(settings, purpose="agent") as client:
            res = await client.products(
                [code], stats=365, history=True, offers=20 if offers else None, purpose="agent"
            )
    except KeepaTokensExhausted:
        raise ToolError(
            "Keepa tokens are low right now (the workers have priority); try "
            "again in a few minutes, or use get_deal for the stored numbers."
        ) from None
    except KeepaError as err:
        raise ToolError(f"Keepa error: {err}") from None
    if not res.products:
        why = "; ".join(str(getattr(e, "reason", e)) for e in res.errors) or "not found"
        raise ToolError(f"Keepa has no usable product for {code}: {why}")
    record = await asyncio.to_thread(analyse_product, res.products[0])

    def store() -> dict[str, Any]:
        with session_scope(ctx.settings) as session:
            upsert_deal(session, record)
            session.flush()
            detail = get_deal_detail(session, code, _user(session, ctx))
        if detail is None:
            raise ToolError(f"{code} was fetched but could not be stored")
        return _dump(detail)

    full = await asyncio.to_thread(store)
    content = {**_compact(full, DETAIL_KEYS), "tokens_consumed": res.tokens_consumed, "live": True}
    return _json(content), full


from agent.alert_tools import ALERT_TOOLS  # noqa: E402  (alerts and daily picks)
from agent.knowledge_tools import KNOWLEDGE_ADMIN_TOOLS  # noqa: E402  (what was taught)
from agent.tracking_tools import TRACKING_TOOLS  # noqa: E402  (the seller's loop)

USER_TOOLS: list[BaseTool] = [
    search_deals,
    get_deal,
    deal_advice,
    check_restriction,
    keepa_lookup,
    search_knowledge,
    *TRACKING_TOOLS,
    *ALERT_TOOLS,
]
ADMIN_TOOLS: list[BaseTool] = [
    propose_knowledge,
    set_deal_query,
    pipeline_status,
    *KNOWLEDGE_ADMIN_TOOLS,
]
ADMIN_TOOL_NAMES = frozenset(t.name for t in ADMIN_TOOLS)


def all_tools() -> list[BaseTool]:
    """Every tool the ToolNode can run (admin tools refuse non-admins themselves)."""
    return [*USER_TOOLS, *ADMIN_TOOLS]


def tools_for(ctx: AgentContext) -> list[BaseTool]:
    """The tools offered to a model for this caller."""
    return all_tools() if ctx.is_admin else list(USER_TOOLS)


def tool_error_message(err: Exception) -> str:
    """ToolNode's error text: what went wrong and that the model may fix and retry."""
    from langgraph.prebuilt.tool_node import ToolInvocationError

    if isinstance(err, ToolInvocationError):
        return err.message
    if isinstance(err, ToolException):
        return f"Error: {err}"
    return f"Error: {type(err).__name__}: {str(err)[:300]}. Fix the arguments or tell the user."
