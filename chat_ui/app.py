"""The Chainlit app: login, Ava and the mentors, streamed answers with steps, tables and charts.

Handlers stay thin: who is asking (the user row, read again every turn: chat_ui/auth.py),
their persona and what they configured is read here, the graph does the work
(chat_ui/agent_bridge.py), chat_ui/turns.py renders the stream.
Chainlit's thread id is the LangGraph thread id, so a resumed chat continues the same graph
thread; history is kept by the SQLAlchemy data layer on the app's own database.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from pathlib import Path
from typing import Any

import chainlit as cl
from chainlit.config import config as chainlit_config
from chainlit.server import app as chainlit_server
from chainlit.session import WebsocketSession
from chainlit.types import ThreadDict, ToastType
from fastapi import Request, Response

from chat_ui import agent_bridge, alerts_feed, tracking_actions
from chat_ui.auth import (
    Account,
    LoginThrottled,
    account_by_name,
    account_for_token_async,
    check_password,
    session_token,
    sign_out,
    token_from_cookie_header,
)
from chat_ui.data_layer import make_data_layer
from chat_ui.errors import user_message
from chat_ui.http_guard import install as install_http_guard
from chat_ui.http_guard import login_attempt
from chat_ui.metrics_route import install as install_metrics_route
from chat_ui.profiles import BY_NAME, DEFAULT_PROFILE, admin_commands, chat_profiles, persona_for
from chat_ui.request_gate import install as install_request_gate
from chat_ui.serve import use_data_files_dir
from chat_ui.turns import run_turn
from chat_ui.upload_gate import install as install_upload_gate
from chat_ui.uploads import UploadError, read_teaching_file
from chat_ui.user_prefs import RESTORE, load_prefs, save_prefs, widgets
from tools.db import migrate
from tools.metrics import CHAT_SECONDS, CHAT_SESSIONS, CHAT_TURNS
from tools.private_files import private_umask
from tools.settings import Settings, get_settings

log = logging.getLogger("chat_ui")
TEACH_COMMAND = "teach"
REVIEW_TIMEOUT_S = 900
SESSION_ENDED = (
    "Your sign-in has ended (signed out, password or role changed, or the account "
    "was disabled). Reload the page and sign in again."
)


def _allowed_origins() -> list[str]:
    return get_settings().origins(port=chainlit_config.run.port, host=chainlit_config.run.host)


private_umask()  # `chainlit run chat_ui/app.py` too: uploads and history files stay private
# a login lasts SESSION_LIFETIME_HOURS (the token's expiry and the cookie's max-age)
chainlit_config.project.user_session_timeout = get_settings().session_lifetime_s
install_upload_gate(chainlit_server)  # sellers cannot POST files either (only admins teach)
install_request_gate(chainlit_server)  # history writes over HTTP only into the caller's threads
use_data_files_dir(get_settings().data_dir)  # uploads under DATA_DIR, not in the code folder
install_http_guard(chainlit_server, _allowed_origins)  # origins, sessions, headers
install_metrics_route(chainlit_server)  # outermost: GET /metrics has its own guard


# ---- startup, auth, data layer --------------------------------------------------------------


_warming: set[asyncio.Task[None]] = set()


@cl.on_app_startup
async def _startup() -> None:
    await asyncio.to_thread(migrate, get_settings())
    # The agent loads while the server already answers (sign-in, /health): its imports are
    # a third of the chat's start-up CPU. A chat that starts meanwhile waits for it.
    task = asyncio.create_task(_warm_agent())
    _warming.add(task)
    task.add_done_callback(_warming.discard)


async def _agent_loaded() -> None:
    """Until the warm-up is done: the agent's modules are imported by one thread only (a
    handler importing them on the event loop at the same time could see them half-made)."""
    for task in list(_warming):
        await asyncio.shield(task)


async def _warm_agent() -> None:
    """Import the agent (off the event loop) and open its checkpointer now, not in the
    first user's turn (seconds)."""
    import importlib

    try:
        for module in ("agent.graph", "agent.runner", "agent.tools"):
            await asyncio.to_thread(importlib.import_module, module)
        await agent_bridge.get_graph()
    except Exception:  # the first turn retries and shows the user an actionable message
        log.exception("could not open the agent graph at startup")
    # What start-up loaded (Chainlit, LangChain, the graph) lives as long as the process:
    # keep it out of the garbage collector's full passes, which otherwise stall every chat
    # of this process for ~250 ms the first time they run under load.
    gc.collect()
    gc.freeze()


@cl.on_app_shutdown
async def _shutdown() -> None:
    await agent_bridge.close_graph()


@cl.data_layer
def _data_layer() -> Any:
    return make_data_layer(get_settings(), forget_thread=agent_bridge.forget_thread)


@cl.password_auth_callback
async def auth(username: str, password: str) -> cl.User | None:
    attempt = login_attempt.get()
    try:
        # argon2 takes tens of milliseconds: keep it off the event loop other sessions use
        return await asyncio.to_thread(
            check_password, username, password, attempt.address if attempt else None
        )
    except LoginThrottled as err:
        if attempt is not None:  # the guard answers 429 with Retry-After
            attempt.retry_after, attempt.message = err.retry_after, err.message
        return None


@cl.on_logout
async def logout(request: Request, response: Response) -> dict[str, bool]:
    """Signing out ends the account's sessions everywhere, not only this browser's cookie."""
    token = token_from_cookie_header(request.headers.get("cookie"))
    await asyncio.to_thread(sign_out, token)
    return {"success": True}


async def _account() -> Account | None:
    """The signed-in account as the users table says now; None once the session has ended.

    Chainlit checks the token only when the socket connects: a session open before a
    password or role change, a disable or a sign-out would otherwise keep acting.
    """
    return await account_for_token_async(session_token(cl.context.session))


async def _end_session() -> None:
    """Tell the user, then drop the socket: its reconnect is refused until they sign in."""
    from chainlit.server import sio

    session = cl.context.session
    if not isinstance(session, WebsocketSession):  # only a socket has a session to end
        return
    await cl.Message(content=SESSION_ENDED, author="Sign-in").send()
    session.to_clear = True  # as the client's clear_session: not restorable on reconnect
    await sio.disconnect(session.socket_id)


async def _require_account() -> Account | None:
    account = await _account()
    if account is None:
        await _end_session()
    return account


async def _require_account_with_agent() -> Account | None:
    await _agent_loaded()  # the buttons' answers are written by agent modules
    return await _require_account()


tracking_actions.install(_require_account_with_agent)  # the buy list and purchase buttons


@cl.set_chat_profiles
async def _profiles(current_user: cl.User | None, language: str | None = None) -> list[Any]:
    account = (
        await asyncio.to_thread(account_by_name, current_user.identifier) if current_user else None
    )
    return chat_profiles(is_admin=bool(account and account.is_admin))


# ---- session start / resume -----------------------------------------------------------------


def mode_banner(settings: Settings) -> str | None:
    """Say plainly when answers or data come from the embedded stand-ins."""
    notes = []
    if settings.llm_mode == "offline":
        notes.append(
            "answers come from the **offline model** (deterministic, no LLM; set "
            "LLM_API_KEY for a real one)"
        )
    if settings.keepa_mode == "sandbox":
        notes.append(
            "deal data comes from the **Keepa sandbox** (a synthetic market; set "
            "KEEPA_API_KEY for live data)"
        )
    if settings.spapi_mode == "sandbox":
        notes.append("gating checks use the **SP-API sandbox**")
    if not notes:
        return None
    return "Heads-up: " + "; ".join(notes) + "."


async def _setup_session() -> Account | None:
    account = await _require_account()
    if account is None:
        return None
    prefs = await asyncio.to_thread(load_prefs, account.name)
    cl.user_session.set("prefs", prefs.model_dump())
    await cl.ChatSettings(widgets(prefs)).send()
    if account.is_admin:
        await cl.context.emitter.set_commands(admin_commands())
    return account


def ingestion_banner(settings: Settings) -> str | None:
    """For admins: say so when deals stopped coming in (tools/ingestion.py), and where to look."""
    from tools.db import session_scope
    from tools.ingestion import ingestion

    try:
        with session_scope(settings) as session:
            warning = ingestion(session, settings.ingestion_stall_minutes * 60).warning()
    except Exception:  # a greeting never fails over its banner
        log.exception("could not read the ingestion state")
        return None
    if warning is None:
        return None
    return (
        f"**Admin: {warning[0].upper() + warning[1:]}.** Deals are not being refreshed; "
        "run `arbitrage status` and look at the worker log."
    )


def _profile_name() -> str:
    profile = cl.user_session.get("chat_profile") or DEFAULT_PROFILE
    return profile if profile in BY_NAME else DEFAULT_PROFILE


def _plain(text: str) -> str:
    """A banner without its markdown, for a toast (shown as plain text)."""
    return text.replace("**", "").replace("`", "")


@cl.on_chat_start
async def start() -> None:
    """No message here: Chainlit shows the profile's starters only in an empty chat, so the
    notes a new chat needs (stand-ins in use, stalled ingestion for admins, unread alerts) go
    out as toasts now and as one message just before the first answer (`_first_notes`)."""
    account = await _setup_session()
    if account is None:
        return
    person = BY_NAME[_profile_name()]
    _session_opened(person.name)
    notes: list[tuple[str, ToastType]] = []
    if banner := mode_banner(get_settings()):
        notes.append((banner, "info"))
    if account.is_admin and (stalled := await asyncio.to_thread(ingestion_banner, get_settings())):
        notes.append((stalled, "warning"))
    if unread := await asyncio.to_thread(alerts_feed.unread_line, account.id):
        notes.append((unread, "info"))
    for text, kind in notes:
        await cl.context.emitter.send_toast(_plain(text), kind)
    cl.user_session.set("first_notes", "\n\n".join(text for text, _ in notes) or None)
    await alerts_feed.start_feed(account.id)


async def _first_notes(author: str) -> None:
    """The new chat's notes, once, as a message just before its first answer."""
    notes = cl.user_session.get("first_notes")
    if notes:
        cl.user_session.set("first_notes", None)
        await cl.Message(content=notes, author=author).send()


@cl.on_chat_resume
async def resume(thread: ThreadDict) -> None:
    if account := await _setup_session():
        _session_opened(BY_NAME[_profile_name()].name)
        await alerts_feed.start_feed(account.id)


def _session_opened(persona: str) -> None:
    """Count the session open (once) until on_chat_end; its process's end closes it too."""
    if cl.user_session.get("metrics_persona") is None:
        cl.user_session.set("metrics_persona", persona.lower())
        CHAT_SESSIONS.labels(persona.lower()).inc()


@cl.on_chat_end
async def end() -> None:
    alerts_feed.stop_feed()
    persona = cl.user_session.get("metrics_persona")
    if persona is not None:
        cl.user_session.set("metrics_persona", None)
        CHAT_SESSIONS.labels(persona).dec()


# ---- settings -------------------------------------------------------------------------------


@cl.on_settings_update
async def settings_update(values: dict[str, Any]) -> None:
    account = await _require_account()
    if account is None:
        return
    try:
        prefs = await asyncio.to_thread(save_prefs, account.name, values)
    except ValueError as e:
        await cl.Message(content=f"Settings not saved: {e}", author="Settings").send()
        return
    cl.user_session.set("prefs", prefs.model_dump())
    if values.get(RESTORE):  # the panel shows the defaults now (and the switch off again)
        await cl.ChatSettings(widgets(prefs)).send()
        await cl.context.emitter.send_toast("Settings back to the defaults.", "success")
        return
    await cl.context.emitter.send_toast("Settings saved; every answer now uses them.", "success")


# ---- messages -------------------------------------------------------------------------------


async def _teaching_text(message: cl.Message) -> str | None:
    """The text an admin wants to teach from: attached files, else the message itself."""
    parts = []
    for element in message.elements or []:
        path = getattr(element, "path", None)
        if not path:
            continue
        parts.append(await asyncio.to_thread(read_teaching_file, Path(path), element.name))
    if parts:
        note = message.content.strip()
        return "\n\n".join(([note] if note else []) + parts)
    text = message.content.strip()
    return text or None


def _candidate_text(c: Any) -> str:
    if not isinstance(c, dict):
        return str(c)
    kind = c.get("kind", "strategy")
    title = c.get("title")
    body = c.get("text") or c.get("body") or ""
    category = c.get("category")
    head = f"**{kind.replace('_', ' ').title()}**" + (f" ({category})" if category else "")
    dup = c.get("duplicate_of")
    note = f"\n\n_Looks like a duplicate of {dup}; approving merges it._" if dup else ""
    return f"{head}{': ' + title if title else ''}\n\n{body}{note}"


def _change_text(value: dict[str, Any]) -> str:
    """An edit or delete as the admin approves it: the entry now, and after the edit."""
    ref = value.get("ref", "?")
    before = value.get("before") or {}
    if value.get("action") == "delete":
        return f"Delete **{ref}**?\n\n{_candidate_text(before)}"
    after = value.get("after") or {}
    fields = ", ".join(value.get("fields") or [])
    return (
        f"Change **{ref}** ({fields})?\n\n**Now:** {_candidate_text(before)}\n\n"
        f"**After the edit:** {_candidate_text(after)}"
    )


async def review_change(value: dict[str, Any]) -> bool:
    """The admin's yes or no to an edit or delete of a taught entry (no answer in time: no)."""
    account = await _account()
    if account is None or not account.is_admin:
        return False
    content = _change_text(value)
    ask = cl.AskActionMessage(
        content=content,
        actions=[
            cl.Action(name="approve", label="Approve", payload={"d": "approve"}, icon="check"),
            cl.Action(name="reject", label="Reject", payload={"d": "reject"}, icon="x"),
        ],
        timeout=REVIEW_TIMEOUT_S,
        author="Review",
    )
    res = await ask.send()
    ask.content = (
        content + "\n\n" + (f"**{res.get('label')}**" if res else "_No answer in time: rejected._")
    )
    await ask.update()
    choice = (res or {}).get("payload", {}).get("d") if res else None
    return choice == "approve"


async def review_candidates(value: Any) -> Any:
    """The admin's approve / reject decisions for the graph's knowledge interrupt (taught
    candidates, or an edit / delete of a taught entry)."""
    if isinstance(value, dict) and value.get("type") == "knowledge_change":
        return await review_change(value)
    candidates = value.get("candidates", []) if isinstance(value, dict) else list(value or [])
    decisions: list[bool] = []
    bulk: str | None = None
    for i, cand in enumerate(candidates):
        account = await _account()  # a review can take minutes: the role may change meanwhile
        if account is None or not account.is_admin:
            decisions += [False] * (len(candidates) - i)
            break
        if bulk is None:
            actions = [
                cl.Action(name="approve", label="Approve", payload={"d": "approve"}, icon="check"),
                cl.Action(name="reject", label="Reject", payload={"d": "reject"}, icon="x"),
            ]
            if len(candidates) - i > 1:
                actions += [
                    cl.Action(
                        name="approve_all",
                        label="Approve all remaining",
                        payload={"d": "approve_all"},
                    ),
                    cl.Action(
                        name="reject_all", label="Reject all remaining", payload={"d": "reject_all"}
                    ),
                ]
            content = f"Candidate {i + 1} of {len(candidates)}\n\n{_candidate_text(cand)}"
            ask = cl.AskActionMessage(
                content=content, actions=actions, timeout=REVIEW_TIMEOUT_S, author="Review"
            )
            res = await ask.send()
            choice = (res or {}).get("payload", {}).get("d") if res else None
            ask.content = (
                content
                + "\n\n"
                + (f"**{res.get('label')}**" if res else "_No answer in time: rejected._")
            )
            await ask.update()
            if choice in ("approve_all", "reject_all"):
                bulk = choice
                choice = choice.removesuffix("_all")
        else:
            choice = bulk.removesuffix("_all")
        decisions.append(choice == "approve")
    return {"decisions": decisions}


async def _confirm_teaching(results: list[tuple[str, Any]], answer: str) -> None:
    """Say exactly what the review saved (refs to cite) unless the answer already did."""
    done = [
        d
        for name, d in results
        if name == "propose_knowledge"
        and isinstance(d, dict)
        and d.get("status") in ("done", "refused", "error")
    ]
    if not done:
        return
    d = done[-1]
    if d.get("status") != "done":
        text = f"Nothing was saved: {d.get('error', 'the review did not finish')}."
    elif d.get("saved"):
        refs = ", ".join(d.get("refs") or [])
        if all(ref in answer for ref in d.get("refs") or []):
            return
        text = (
            f"Saved {d['saved']} to the knowledge base ({refs}); rejected "
            f"{d.get('rejected', 0)}. Every persona can use it from now on."
        )
    else:
        text = "Nothing was saved: every candidate was rejected."
    await cl.Message(content=text, author="Review").send()


@cl.on_message
async def on_message(message: cl.Message) -> None:
    await _agent_loaded()  # a turn right after start-up waits for the agent's warm-up
    account = await _require_account()
    if account is None:
        return
    person = BY_NAME[_profile_name()]
    persona = persona_for(person.name)
    await _first_notes(person.name)
    started = time.monotonic()
    outcome = "error"
    try:
        outcome = await _answer(message, account, person, persona)
    finally:
        label = person.name.lower()
        CHAT_TURNS.labels(label, outcome).inc()
        CHAT_SECONDS.labels(label).observe(time.monotonic() - started)


async def _answer(message: cl.Message, account: Account, person: Any, persona: Any) -> str:
    """One turn (a teaching request or a question) answered into the chat; its outcome:
    ok, refused (too long, or not allowed) or error (the user was shown what went wrong)."""
    name, role, user_id = account.name, account.role, account.id
    text = message.content
    limit = get_settings().max_message_chars
    if len(text) > limit:  # refused before anything reads it (the data layer stores the cap)
        hint = (
            " To teach from a longer text, attach it as a .txt, .md or .pdf file."
            if role == "admin"
            else " Please send a shorter question."
        )
        await cl.Message(
            content=f"Messages are limited to {limit:,} characters (yours has "
            f"{len(text):,}).{hint}",
            author=person.name,
        ).send()
        return "refused"
    try:
        teach = message.command == TEACH_COMMAND or (
            role == "admin" and any(getattr(e, "path", None) for e in message.elements or [])
        )
        if teach:
            if role != "admin":
                await cl.Message(
                    content="Only admins can teach the assistant new strategies. "
                    "Ask an admin to add what you learned.",
                    author=person.name,
                ).send()
                return "refused"
            text = await _teaching_text(message) or ""
            if not text:
                await cl.Message(
                    content="Paste a URL or some text (or attach a .txt, .md or "
                    ".pdf file) to teach from.",
                    author="Review",
                ).send()
                return "refused"
            text = "Teach: " + text
        graph = await agent_bridge.get_graph()
        context = agent_bridge.make_context(
            user_id=user_id, user_name=name, role=role, persona=persona
        )
        turn = await run_turn(
            graph,
            text,
            thread_id=cl.context.session.thread_id,
            context=context,
            author=person.name,
            on_interrupt=review_candidates,
        )
        if teach:
            await _confirm_teaching(turn.tool_results, turn.message.content if turn.message else "")
    except UploadError as e:
        await cl.Message(content=str(e), author="Review").send()
        return "refused"
    except asyncio.CancelledError:
        raise
    except Exception as e:
        await cl.Message(content=user_message(e), author=person.name).send()
        return "error"
    return "ok"
