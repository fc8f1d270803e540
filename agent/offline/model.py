"""The offline model: a deterministic `BaseChatModel` that needs no network.

It reads the last human message with the question parser (parser.py) and makes the same tool
call an LLM would make; after the tool results arrive it writes the answer from them, the
retrieved knowledge and the persona's templates (templates.py). When it does not understand,
it says so plainly, and every answer says it comes from the offline model.

The persona, the turn's knowledge, whether the client draws deal tables itself and the thread's
current deal search (a follow-up refines it, agent/offline/followup.py) come as invoke
kwargs (`persona=`, `knowledge=`, `renders_tables=`) from the graph's persona node;
`bind_tools` returns a copy that knows which tools it may call.

On the async path (the chat) the model thinks in a worker thread under a deadline: the event
loop every other chat session streams on never waits for one message's parse, and a parse that
overruns ends in a plain answer instead of a hung turn.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import uuid
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from functools import lru_cache
from typing import Any

from langchain_core.callbacks import (
    AsyncCallbackManagerForLLMRun,
    CallbackManagerForLLMRun,
)
from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    HumanMessage,
    ToolMessage,
)
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from langchain_core.utils.function_calling import convert_to_openai_tool

from agent import personas
from agent.offline import (
    alert_answers,
    alert_intents,
    knowledge_answers,
    knowledge_intents,
    tracking_answers,
    tracking_intents,
)
from agent.offline import templates as T
from agent.offline.followup import FollowUp, read_followup
from agent.offline.gating_text import search_gating_text
from agent.offline.parser import (
    ParsedQuestion,
    clip,
    find_asin,
    parse_question,
    parse_selection,
)

log = logging.getLogger(__name__)

MODEL_NAME = "offline"
# a conversation's joining word before a question of its own ("and", "now what is ...")
_CONTINUATION = re.compile(r"^\s*(?:and|also|now|so|ok(?:ay)?|then|but|well)\b[\s,]*", re.I)
# A parse takes milliseconds (agent/offline/parser.py bounds it); this only catches a machine
# so loaded, or a message so odd, that the turn would otherwise seem to hang.
THINK_TIMEOUT_S = 5.0
TIMEOUT_TEXT = (
    "I could not read that message in time, so I stopped. Please ask one short "
    "question, for example: "
)
# what an off-topic or unreadable message gets, instead of a guess
CAPABILITIES = (
    "I can help with deals (find and filter them, and judge one: buy, pass or watch), gating "
    "(can you sell an ASIN), the mentors' takes (Olyvia on margins, Joel on speed, Evelyn on "
    "why, Errol on the numbers), your buy list and purchases, and the selling strategies "
    "taught here; not with that."
)
EXAMPLES = (
    '"textbooks under $30 with ROI over 40 %"',
    '"nursing books that I can sell, rank under 200k"',
    '"should I buy 0134685997?"',
    '"Joel, what sells fastest?"',
)


def _text(msg: BaseMessage) -> str:
    c = msg.content
    if isinstance(c, str):
        return c
    return " ".join(p.get("text", "") if isinstance(p, dict) else str(p) for p in c)


def _load(content: str) -> Any:
    try:
        return json.loads(content)
    except (TypeError, ValueError):
        return None


def _with_note(text: str, data: Mapping[str, Any]) -> str:
    """A deal answer plus the tool's note that its gating is not known yet, if any."""
    note = data.get("gating_note")
    return f"{text}\n\n{note}" if note else text


@lru_cache(maxsize=256)
def _parse_notes(question: str) -> tuple[str, ...]:
    """The parser's notes for a question, parsed once more when the answer is written (the
    plan step parsed it a tool round-trip ago); cached, the parse is the model's main cost."""
    return tuple(parse_question(question).notes)


def last_asin(messages: Sequence[BaseMessage]) -> str | None:
    """The ASIN most recently mentioned in the thread (a tool call, result or message)."""
    for msg in reversed(messages):
        if isinstance(msg, AIMessage):
            for call in reversed(msg.tool_calls):
                if isinstance(call.get("args"), dict) and call["args"].get("asin"):
                    return str(call["args"]["asin"]).upper()
        if isinstance(msg, ToolMessage):
            data = _load(_text(msg))
            if isinstance(data, dict):
                if data.get("asin"):
                    return str(data["asin"])
                best = data.get("best_pick")
                if isinstance(best, dict) and best.get("asin"):  # "that one": the pick named
                    return str(best["asin"])
                items = data.get("items")
                if isinstance(items, list) and items and isinstance(items[0], dict):
                    return items[0].get("asin")
        if isinstance(msg, HumanMessage):
            asin, _ = find_asin(clip(_text(msg))[0])
            if asin:
                return asin
    return None


class OfflineChatModel(BaseChatModel):
    """Deterministic tool-calling chat model for the embedded default and for tests."""

    persona: str = "ava"
    tool_names: tuple[str, ...] = ()
    think_timeout_s: float = THINK_TIMEOUT_S

    @property
    def _llm_type(self) -> str:
        return "agent-arbitrage-offline"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"model_name": MODEL_NAME, "persona": self.persona}

    def bind_tools(self, tools: Sequence[Any], **kwargs: Any) -> OfflineChatModel:
        names = []
        for t in tools:
            name = getattr(t, "name", None) or convert_to_openai_tool(t)["function"]["name"]
            names.append(str(name))
        return self.model_copy(update={"tool_names": tuple(names)})

    # ---- the decision ------------------------------------------------------------------------

    def respond(
        self,
        messages: Sequence[BaseMessage],
        *,
        persona: str | None = None,
        knowledge: Sequence[dict[str, Any]] | None = None,
        renders_tables: bool = False,
        search: dict[str, Any] | None = None,
    ) -> AIMessage:
        """The next message of the turn. `search`: the thread's current deal search (graph
        state), which a follow-up refines or points into."""
        key = (persona or self.persona or "ava").lower()
        knowledge = list(knowledge or [])
        h = max((i for i, m in enumerate(messages) if isinstance(m, HumanMessage)), default=-1)
        if h < 0:
            return self._say(personas.persona(key).greeting)
        turn = messages[h + 1 :]
        results = [m for m in turn if isinstance(m, ToolMessage)]
        if results:
            return self._say(self._answer(key, messages[h], results, knowledge, renders_tables))
        text = _text(messages[h])
        earlier = last_asin(messages[:h])
        manage = knowledge_intents.plan(text)  # an admin's "delete S14", "show strategies ..."
        if isinstance(manage, knowledge_intents.Reply):
            return self._say(manage.text)
        if manage is not None:
            if (call := self._call(manage.tool, manage.args)) is not None:
                return call
            if manage.tool != "knowledge_list":  # a seller asking to list gets the mentors
                return self._say(knowledge_intents.ADMIN_ONLY)
        alert = alert_intents.plan(text, last_alert=alert_intents.last_alert(messages[:h]))
        if isinstance(alert, alert_intents.Reply):
            return self._say(alert.text)
        if alert is not None and (call := self._call(alert.tool, alert.args)) is not None:
            return call
        follow = read_followup(text, search)  # the thread's search: refine it, or point into it
        named = follow is not None and follow.kind == "deal" and follow.asin is not None
        step = tracking_intents.plan(  # the seller's loop ("add the second one to my buy list")
            follow.text if named and follow else text,
            last_asin=follow.asin if named and follow else earlier,
        )
        if isinstance(step, tracking_intents.Reply):
            return self._say(step.text)
        if step is not None and (call := self._call(step.tool, step.args)) is not None:
            return call
        if follow is not None:
            return self._follow(key, follow, knowledge)
        parsed = parse_question(text, last_asin=earlier)
        if parsed.intent == "unknown" and (rest := _CONTINUATION.sub("", text, count=1)) != text:
            parsed = parse_question(rest, last_asin=earlier)  # "now what is Deal Trust?"
        return self._plan(key, parsed, knowledge)

    def _follow(self, key: str, f: FollowUp, knowledge: list[dict[str, Any]]) -> AIMessage:
        """A follow-up to the thread's search: the refining call, or the question about one of
        its rows, or a fresh search."""
        if f.kind == "refine":
            return self._call("search_deals", f.args) or self._say(
                "I understood a change to your search, but searching is not available now."
            )
        if f.kind == "unclear":
            return self._say(
                f"I kept your search as it was: {f.note}. Try for example "
                '"only the ones under rank 200k", "sort those by profit", "page 2" or '
                '"drop the price limit".'
            )
        if f.kind == "deal":
            if f.asin is None:
                return self._say(f"Which deal do you mean? {f.note or ''}.".replace(" .", "."))
            return self._plan(key, parse_question(f.text, last_asin=f.asin), knowledge)
        parsed = parse_question(f.text) if f.text else None
        if parsed is not None and parsed.intent != "search_deals" and parsed.understood:
            return self._plan(key, parsed, knowledge)
        query = parsed.query.filters() if parsed is not None and parsed.query is not None else {}
        return self._call("search_deals", query) or self._say(
            "Searching is not available right now."
        )

    def _say(self, text: str) -> AIMessage:
        return AIMessage(
            content=f"{text}\n\n{T.OFFLINE_NOTE}", response_metadata={"model_name": MODEL_NAME}
        )

    def _call(self, name: str, args: dict[str, Any]) -> AIMessage | None:
        if name not in self.tool_names:
            return None
        return AIMessage(
            content="",
            tool_calls=[
                {
                    "name": name,
                    "args": args,
                    "id": f"call_{uuid.uuid4().hex[:12]}",
                    "type": "tool_call",
                }
            ],
            response_metadata={"model_name": MODEL_NAME},
        )

    def _plan(self, key: str, q: ParsedQuestion, knowledge: list[dict[str, Any]]) -> AIMessage:
        call: AIMessage | None = None
        admin_only = False
        if q.intent == "search_deals" and q.query is not None:
            call = self._call("search_deals", q.query.filters())
        elif q.intent in ("get_deal", "deal_advice", "check_restriction", "keepa_lookup"):
            call = self._call(q.intent, {"asin": q.asin})
            if call is None and q.intent == "keepa_lookup":
                call = self._call("get_deal", {"asin": q.asin})
        elif q.intent == "search_knowledge":
            # several strategies and mental models, ranked from the asking persona's angle
            args: dict[str, Any] = {"query": q.text[:500], "persona": key, "k": 5}
            call = self._call("search_knowledge", args)
        elif q.intent == "propose_knowledge":
            admin_only = True
            body = re.sub(
                r"^\s*(?:teach|learn|remember|propose|save this|study this)"
                r"(?:\s+(?:this|from|me))*\s*[:,-]?\s*",
                "",
                q.text,
                flags=re.I,
            )
            call = self._call("propose_knowledge", {"url_or_text": body or q.text})
        elif q.intent == "set_deal_query":
            admin_only = True
            sel = parse_selection(q.text)
            if sel is None and "set_deal_query" in self.tool_names:
                return self._say(
                    'Tell me what the scout should look for, e.g. "set the deal '
                    'query: price $5 to $40, rank under 500k" or paste the Keepa '
                    "selection JSON."
                )
            call = self._call("set_deal_query", {"selection": sel or {}})
        elif q.intent == "pipeline_status":
            admin_only = True
            call = self._call("pipeline_status", {})
        if call is not None:
            return call
        if admin_only:
            return self._say(
                "That is an admin task (teaching, the deal query, the pipeline), "
                "and you are not signed in as an admin, so I can't do it."
            )
        if q.intent == "greeting":
            return self._say(f"{personas.persona(key).greeting}\n\nTry: " + "; ".join(EXAMPLES))
        if q.intent in (
            "search_deals",
            "get_deal",
            "deal_advice",
            "check_restriction",
            "keepa_lookup",
            "search_knowledge",
        ):
            return self._say(
                f"I understood a {q.intent.replace('_', ' ')} request, but that "
                "tool is not available right now."
            )
        if q.notes:  # the parser knows what is missing ("which deal? give me its ASIN")
            return self._say(f"Sorry, {q.notes[0]}. Try: " + "; ".join(EXAMPLES) + ".")
        return self._say(CAPABILITIES + " Try: " + "; ".join(EXAMPLES) + ".")

    # ---- writing the answer from tool results -----------------------------------------------

    def _answer(
        self,
        key: str,
        human: BaseMessage,
        results: list[ToolMessage],
        knowledge: list[dict[str, Any]],
        renders_tables: bool = False,
    ) -> str:
        parts = []
        for res in results:
            name = res.name or ""
            data = _load(_text(res))
            if res.status == "error" or data is None:
                parts.append(T.failure_text(name, _text(res)))
                continue
            parts.append(self._write(key, name, data, _text(human), knowledge, renders_tables))
        return "\n\n".join(parts)

    def _write(
        self,
        key: str,
        name: str,
        data: Any,
        question: str,
        knowledge: list[dict[str, Any]],
        renders_tables: bool = False,
    ) -> str:
        told = alert_answers.answer(key, name, data, question)
        if told is not None:
            return told
        managed = knowledge_answers.answer(name, data)
        if managed is not None:
            return managed
        loop = tracking_answers.answer(key, name, data, question, table=renders_tables)
        if loop is not None:
            return loop
        if name == "search_deals":
            notes = _parse_notes(question)
            gating, instead = search_gating_text(data)
            text = instead or T.search_answer(key, data, knowledge, table=not renders_tables)
            if gating:  # unchecked rows shown: say so before the table, else after it
                unchecked = (data.get("gating") or {}).get("shown_unchecked")
                text = f"{gating}\n\n{text}" if unchecked else f"{text}\n\n{gating}"
            if data.get("changed"):  # a refinement says first what it changed
                text = f"{data['changed']}.\n\n{text}"
            return text + T.notes_text(notes)
        if name == "deal_advice":
            kn = list(data.get("knowledge") or []) + knowledge
            if key == "ava":
                return str(data.get("text"))  # the tool's verdict says it already
            take = _with_note(T.deal_take(key, data.get("deal") or {}, kn), data)
            record = tracking_answers.record_line(data.get("track_record"))
            return take + (f"\n\n{record}" if record else "")
        if name in ("get_deal", "keepa_lookup"):
            if key != "ava":
                return _with_note(T.deal_take(key, data, knowledge), data)
            return _with_note(T.deal_facts(data), data)
        if name == "check_restriction":
            return T.restriction_text(data)
        if name == "search_knowledge":
            return T.knowledge_answer(key, question, data.get("hits") or [])
        if name == "propose_knowledge":
            return T.approval_text(data)
        if name == "set_deal_query":
            return T.selection_text(data)
        if name == "pipeline_status":
            return T.pipeline_text(data)
        return f"{name}: {json.dumps(data)[:800]}"

    # ---- BaseChatModel plumbing -------------------------------------------------------------

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        msg = self.respond(
            messages,
            persona=kwargs.get("persona"),
            knowledge=kwargs.get("knowledge"),
            renders_tables=bool(kwargs.get("renders_tables")),
            search=kwargs.get("search"),
        )
        return ChatResult(generations=[ChatGeneration(message=msg)])

    async def _arespond(self, messages: Sequence[BaseMessage], **kwargs: Any) -> AIMessage:
        """respond() in a worker thread, within `think_timeout_s` (see the module docstring)."""
        call = asyncio.to_thread(
            self.respond,
            messages,
            persona=kwargs.get("persona"),
            knowledge=kwargs.get("knowledge"),
            renders_tables=bool(kwargs.get("renders_tables")),
            search=kwargs.get("search"),
        )
        try:
            return await asyncio.wait_for(call, self.think_timeout_s)
        except TimeoutError:
            log.warning(
                "offline model: no answer within %.1f s; the user was told", self.think_timeout_s
            )
            return self._say(TIMEOUT_TEXT + "; ".join(EXAMPLES) + ".")

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        msg = await self._arespond(messages, **kwargs)
        return ChatResult(generations=[ChatGeneration(message=msg)])

    def _chunks(self, msg: AIMessage) -> Iterator[ChatGenerationChunk]:
        if msg.tool_calls:
            yield ChatGenerationChunk(
                message=AIMessageChunk(
                    content="",
                    tool_call_chunks=[
                        {
                            "name": c["name"],
                            "args": json.dumps(c["args"]),
                            "id": c["id"],
                            "index": i,
                            "type": "tool_call_chunk",
                        }
                        for i, c in enumerate(msg.tool_calls)
                    ],
                    response_metadata=msg.response_metadata,
                )
            )
            return
        pieces = re.findall(r"\S+\s*|\s+", str(msg.content))
        for i in range(0, len(pieces), 8):
            last = i + 8 >= len(pieces)
            yield ChatGenerationChunk(
                message=AIMessageChunk(
                    content="".join(pieces[i : i + 8]),
                    response_metadata=msg.response_metadata if last else {},
                )
            )

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        msg = self.respond(
            messages,
            persona=kwargs.get("persona"),
            knowledge=kwargs.get("knowledge"),
            renders_tables=bool(kwargs.get("renders_tables")),
            search=kwargs.get("search"),
        )
        for chunk in self._chunks(msg):
            if run_manager:
                run_manager.on_llm_new_token(str(chunk.message.content), chunk=chunk)
            yield chunk

    async def _astream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[ChatGenerationChunk]:
        msg = await self._arespond(messages, **kwargs)
        for chunk in self._chunks(msg):
            if run_manager:
                await run_manager.on_llm_new_token(str(chunk.message.content), chunk=chunk)
            yield chunk
