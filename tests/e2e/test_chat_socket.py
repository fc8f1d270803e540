"""The chat as a seller and an admin use it, driven over a real Chainlit server's socket.io."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import uuid
from typing import Any

import httpx
import pytest

from tests.e2e.harness import ChatClient, ChatServer, alogin, choose, login
from tests.e2e.seed import KNOWN_ASIN

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]


def _db(server: ChatServer) -> sqlite3.Connection:
    return sqlite3.connect(server.data_dir / "arbitrage.db")


def test_login_rejects_a_wrong_password(chat_server: ChatServer) -> None:
    r = httpx.post(
        chat_server.url + "/login",
        data={"username": "seller", "password": "not-the-password"},
        timeout=30,
    )
    assert r.status_code == 401


def test_socket_refuses_a_connection_without_login(chat_server: ChatServer) -> None:
    async def go() -> None:
        client = ChatClient(chat_server.url, "access_token=forged")
        with pytest.raises(Exception):  # noqa: B017  (socketio.ConnectionError)
            await client.connect()

    asyncio.run(go())


def test_seller_sees_mentors_but_no_admin_commands(
    chat_server: ChatServer, credentials: dict[str, str]
) -> None:
    token = login(chat_server.url, "seller", credentials["seller"])
    settings = httpx.get(
        chat_server.url + "/project/settings",
        params={"language": "en-US"},
        headers={"Cookie": token},
        timeout=30,
    ).json()
    names = [p["name"] for p in settings["chatProfiles"]]
    assert names == ["Ava", "Olyvia", "Joel", "Evelyn", "Errol"]
    assert all(p.get("icon") and p.get("markdown_description") for p in settings["chatProfiles"])
    ava = settings["chatProfiles"][0]
    labels = [s["label"] for s in ava["starters"]]
    assert "Best textbook deals I can sell right now" in labels
    assert not any("admin" in label.lower() for label in labels)
    assert _uploads_enabled(chat_server, token) is False  # no paperclip: files are for admins

    # each persona's replies carry its own avatar (Chainlit serves /avatars/<author>)
    joel = httpx.get(chat_server.url + "/avatars/Joel", headers={"Cookie": token}, timeout=30)
    assert joel.status_code == 200 and ">J</text>" in joel.text
    assert not settings["ui"].get("default_avatar_file_url")
    for profile in settings["chatProfiles"]:  # every profile offers what to ask first
        assert len(profile["starters"]) >= 2, profile["name"]
        assert all(s["label"] and s["message"] for s in profile["starters"])

    async def go() -> None:
        client = ChatClient(chat_server.url, token)
        opened = await client.connect()
        # nothing in the new chat before the seller's first message: Chainlit shows the
        # starters only in an empty chat; the stand-ins note is a toast, then comes once
        # just before the first answer
        assert [s for s in opened.steps() if s.get("type", "").endswith("_message")] == []
        assert any("offline model" in t and "Keepa sandbox" in t for t in client.toasts)
        assert "**" not in " ".join(client.toasts)
        first = await client.send("Is 0131103628 a buy?", timeout=60)
        second = await client.send("Is 0131103628 a buy?", timeout=60)
        await client.close()
        assert "Heads-up" in first.answer and "offline model" in first.answer
        assert "Heads-up" not in second.answer
        assert client.commands is None  # the teach command is never offered
        assert client.chat_settings is not None
        ids = [w["id"] for w in client.chat_settings]
        assert ids[:3] == ["tax_pct", "prep_fee", "inbound_shipping"]

    asyncio.run(go())


def _uploads_enabled(server: ChatServer, token: str) -> bool:
    """What the composer is told about file attachments in the default profile."""
    settings = httpx.get(
        server.url + "/project/settings",
        params={"language": "en-US", "chat_profile": "Ava"},
        headers={"Cookie": token},
        timeout=30,
    ).json()
    return bool(settings["features"]["spontaneous_file_upload"]["enabled"])


def test_admin_gets_the_teach_command(chat_server: ChatServer, credentials: dict[str, str]) -> None:
    token = login(chat_server.url, "admin", credentials["admin"])
    assert _uploads_enabled(chat_server, token) is True

    async def go() -> None:
        client = ChatClient(chat_server.url, token)
        await client.connect()
        await client.close()
        assert [c["id"] for c in client.commands] == ["teach"]

    asyncio.run(go())


def test_regular_user_cannot_teach(chat_server: ChatServer, credentials: dict[str, str]) -> None:
    token = login(chat_server.url, "seller", credentials["seller"])
    before = _db(chat_server).execute("SELECT count(*) FROM strategy").fetchone()[0]

    async def go() -> str:
        client = ChatClient(chat_server.url, token)
        await client.connect()
        turn = await client.send(
            "IF rank is under 100k THEN buy every copy under $5.", command="teach"
        )
        await client.close()
        return turn.answer

    answer = asyncio.run(go())
    assert "Only admins can teach" in answer
    assert _db(chat_server).execute("SELECT count(*) FROM strategy").fetchone()[0] == before


def test_only_an_admin_can_attach_a_file(
    chat_server: ChatServer, credentials: dict[str, str]
) -> None:
    """A seller has no paperclip, and a file POSTed by hand is refused, not stored, however
    the query is crafted (repeated or blank parameters read differently by parsers)."""

    async def upload_as(user: str) -> list[httpx.Response]:
        token = login(chat_server.url, user, credentials[user])
        client = ChatClient(chat_server.url, token)
        await client.connect()
        sid = client.session_id
        queries = [
            f"session_id={sid}",
            f"session_id={sid}&ask_parent_id=x&ask_parent_id=",
            f"session_id=bogus&session_id={sid}",
        ]
        try:
            async with httpx.AsyncClient(base_url=chat_server.url, timeout=60) as http:
                return [
                    await http.post(
                        f"/project/file?{q}",
                        headers={"Cookie": token},
                        files={
                            "file": ("rules.txt", b"IF rank < 50k THEN buy under $4.", "text/plain")
                        },
                    )
                    for q in queries
                ]
        finally:
            await client.close()

    refused = asyncio.run(upload_as("seller"))
    assert [r.status_code for r in refused] == [403, 403, 403]
    assert "Only admins can attach files" in refused[0].json()["detail"]
    accepted = asyncio.run(upload_as("admin"))[0]
    assert accepted.status_code == 200 and accepted.json().get("id")


def test_settings_are_saved_per_user(chat_server: ChatServer, credentials: dict[str, str]) -> None:
    token = login(chat_server.url, "seller", credentials["seller"])

    async def go() -> None:
        client = ChatClient(chat_server.url, token)
        await client.connect()
        await client.change_settings(
            {
                "tax_pct": 8.5,
                "prep_fee": 1.0,
                "inbound_shipping": 2.5,
                "min_roi": 30,
                "min_profit": "",
                "hide_gated": True,
            }
        )
        await client.close()
        saved = [t for t in client.toasts if t.startswith("Settings saved")]
        assert len(saved) == 1, client.toasts  # one toast per save

    asyncio.run(go())
    row = _db(chat_server).execute("SELECT settings FROM user WHERE name='seller'").fetchone()
    saved = json.loads(row[0])
    assert saved["tax_pct"] == 8.5 and saved["min_roi"] == 30 and saved["hide_gated"] is True
    assert saved["min_profit"] is None

    # a fresh session shows the saved values in the panel
    async def again() -> list[dict]:
        client = ChatClient(chat_server.url, token)
        await client.connect()
        await client.close()
        return client.chat_settings

    panel = {w["id"]: w["initial"] for w in asyncio.run(again())}
    assert panel["tax_pct"] == 8.5 and panel["hide_gated"] is True

    # "Restore all defaults": the defaults (not the last saved values), in the database and
    # in the panel the server sends back; one toast per save
    async def restore() -> tuple[list[dict], list[str]]:
        client = ChatClient(chat_server.url, token)
        await client.connect()
        client.chat_settings = None
        await client.change_settings({**panel, "tax_pct": 9.0, "restore_defaults": True})
        await client.close()
        return client.chat_settings, client.toasts

    widgets, toasts = asyncio.run(restore())
    restored = {w["id"]: w["initial"] for w in widgets}
    assert restored["tax_pct"] == 5.0 and restored["hide_gated"] is False  # the defaults
    assert restored["min_roi"] is None and restored["restore_defaults"] is False
    assert [t for t in toasts if t.startswith("Settings")] == ["Settings back to the defaults."]
    row = _db(chat_server).execute("SELECT settings FROM user WHERE name='seller'").fetchone()
    assert json.loads(row[0])["tax_pct"] == 5.0
    # put the defaults back for the other tests
    with _db(chat_server) as conn:
        conn.execute("UPDATE user SET settings=NULL WHERE name='seller'")


def test_deal_question_streams_a_table_and_a_tool_step(
    chat_server: ChatServer, credentials: dict[str, str]
) -> None:
    token = login(chat_server.url, "seller", credentials["seller"])

    async def go():  # type: ignore[no-untyped-def]
        client = ChatClient(chat_server.url, token)
        await client.connect()
        turn = await client.send("Best textbook deals I can sell right now")
        await client.close()
        return turn

    turn = asyncio.run(go())
    assert turn.tokens, "the answer was streamed token by token"
    tools = turn.tool_steps()
    assert tools and tools[0]["name"] == "search_deals"
    assert tools[0]["output"] and "deals" in tools[0]["output"]
    tables = [e for e in turn.elements if e.get("name") == "DealTable"]
    assert tables
    rows = tables[0]["props"]["rows"]
    assert rows and all(r["amazon_url"].endswith(r["asin"]) for r in rows)
    assert all(r["profit"] is not None and r["profit"] > 0 for r in rows)
    assert all(r["gated"] == "ok" for r in rows)  # "I can sell": checked and not restricted
    assert turn.answer.strip()


def test_deal_detail_has_a_price_rank_chart(
    chat_server: ChatServer, credentials: dict[str, str]
) -> None:
    token = login(chat_server.url, "seller", credentials["seller"])

    async def go():  # type: ignore[no-untyped-def]
        client = ChatClient(chat_server.url, token)
        await client.connect()
        turn = await client.send(f"Is {KNOWN_ASIN} a buy?")
        await client.close()
        return turn

    turn = asyncio.run(go())
    assert any(s["name"] in ("get_deal", "deal_advice") for s in turn.tool_steps())
    charts = [e for e in turn.elements if e.get("type") == "plotly"]
    assert charts, [e.get("type") for e in turn.elements]
    assert KNOWN_ASIN in turn.answer or "C Programming" in turn.answer


def test_thread_resumes_with_its_history(
    chat_server: ChatServer, credentials: dict[str, str], server_settings
) -> None:  # type: ignore[no-untyped-def]
    token = login(chat_server.url, "seller", credentials["seller"])
    thread_id = str(uuid.uuid4())

    async def first() -> str:
        client = ChatClient(chat_server.url, token, chat_profile="Ava", thread_id=thread_id)
        await client.connect()
        turn = await client.send(f"Is {KNOWN_ASIN} a buy?")
        await client.close()
        return turn.answer

    answer = asyncio.run(first())
    assert answer

    async def second() -> tuple[dict, str]:
        await asyncio.sleep(0.5)  # the data layer writes steps in background tasks
        client = ChatClient(chat_server.url, token, thread_id=thread_id)
        await client.connect()
        assert client.resumed is not None, client.resume_error
        follow = await client.send("and what did I just ask about?")
        await client.close()
        return client.resumed, follow.answer

    resumed, _follow = asyncio.run(second())
    outputs = [s.get("output", "") for s in resumed["steps"]]
    assert any(f"Is {KNOWN_ASIN} a buy?" in o for o in outputs)
    assert any(answer[:40] in o for o in outputs)
    assert resumed["tags"] == ["Ava"]  # stored JSON-encoded, read back as a list

    async def graph_history() -> list[str]:
        from agent.graph import open_graph

        async with open_graph(server_settings) as graph:
            snap = await graph.aget_state({"configurable": {"thread_id": thread_id}})
        return [m.content for m in snap.values["messages"] if m.type == "human"]

    # the resumed chat continued the same LangGraph thread (Chainlit thread id = graph thread)
    assert asyncio.run(graph_history()) == [
        f"Is {KNOWN_ASIN} a buy?",
        "and what did I just ask about?",
    ]


def test_admin_approves_one_extracted_strategy(
    chat_server: ChatServer, credentials: dict[str, str], server_settings
) -> None:  # type: ignore[no-untyped-def]
    from knowledge import retrieve
    from tools.db import session_scope

    token = login(chat_server.url, "admin", credentials["admin"])
    text = (
        "IF a used textbook's sales rank is above 1,000,000 in October THEN hold it for "
        "the January peak instead of passing, since rank recovers when classes start. "
        "Never pay more than 40% of the expected peak price for a hold."
    )
    answers = iter(["approve", "reject", "reject"])

    def decide(payload, actions):  # type: ignore[no-untyped-def]
        return choose(next(answers))(payload, actions)

    async def go():  # type: ignore[no-untyped-def]
        client = ChatClient(chat_server.url, token, on_ask=decide)
        await client.connect()
        turn = await client.send(text, command="teach", timeout=60)
        await client.close()
        return turn

    turn = asyncio.run(go())
    assert len(turn.asks) >= 2, "each candidate is reviewed"
    reviews = [s["output"] for s in turn.steps() if s.get("name") == "Review"]
    assert any("Candidate 1 of" in r and "Approve" in r for r in reviews)
    assert "Saved 1" in turn.answer and "rejected 1" in turn.answer
    with session_scope(server_settings) as session:
        hits = retrieve(session, "textbook rank October hold January peak", k=3)
    assert any("January peak" in h.text for h in hits)
    assert not any("40%" in h.text for h in hits), "the rejected candidate was not saved"


def test_admin_finds_edits_and_deletes_what_was_taught_after_approving(
    chat_server: ChatServer, credentials: dict[str, str], server_settings
) -> None:  # type: ignore[no-untyped-def]
    from knowledge import get_entry, save_strategy
    from tools.db import session_scope
    from tools.users import get_user

    with session_scope(server_settings) as session:
        admin = get_user(session, "admin")
        assert admin is not None
        ref = save_strategy(
            session,
            "Send seasonality holds in July so they are live for the August rush.",
            "seasonal",
            "e2e",
            admin,
        ).entry.ref
    answers = iter(["reject", "approve", "approve"])

    def decide(payload, actions):  # type: ignore[no-untyped-def]
        return choose(next(answers))(payload, actions)

    async def go():  # type: ignore[no-untyped-def]
        token = await alogin(chat_server.url, "admin", credentials["admin"])
        client = ChatClient(chat_server.url, token, on_ask=decide)
        await client.connect()
        turns = [
            await client.send("show strategies about seasonality holds", timeout=60),
            await client.send(f"set the category of {ref} to timing", timeout=60),
            await client.send(f"set the category of {ref} to timing", timeout=60),
            await client.send(f"delete {ref}", timeout=60),
        ]
        await client.close()
        return turns

    listed, rejected, edited, deleted = asyncio.run(go())
    assert f"**{ref}** (seasonal)" in listed.answer
    reviews = [s["output"] for s in rejected.steps() if s.get("name") == "Review"]
    assert any(f"Change **{ref}** (category)" in r and "After the edit" in r for r in reviews)
    assert f"Not changed: you rejected the edit of {ref}" in rejected.answer
    assert f"Updated {ref} (category)" in edited.answer
    assert f"Deleted {ref}" in deleted.answer
    with session_scope(server_settings) as session:
        assert get_entry(session, "strategy", int(ref[1:])) is None

    token = login(chat_server.url, "seller", credentials["seller"])

    async def seller():  # type: ignore[no-untyped-def]
        client = ChatClient(chat_server.url, token)
        await client.connect()
        turn = await client.send("delete S1", timeout=60)
        await client.close()
        return turn

    assert "for admins, and you are not signed in as one" in asyncio.run(seller()).answer


def test_an_admin_is_told_when_ingestion_stalled(
    chat_server: ChatServer, credentials: dict[str, str]
) -> None:
    """No processor success for 40 minutes: the admin's greeting says so; a seller's does not."""
    from datetime import timedelta

    from tools.db import dispose_engines, session_scope
    from tools.models import utcnow
    from tools.settings import Settings
    from workers import checkpoints

    settings = Settings(data_dir=chat_server.data_dir)
    old = (utcnow() - timedelta(minutes=40)).isoformat()
    with session_scope(settings) as session:
        checkpoints.set_state(session, "task:scout", {"last_ok": True, "last_success_wall": old})
        checkpoints.set_state(
            session, "task:processor", {"last_ok": True, "last_success_wall": old}
        )

    async def greeting(user: str) -> str:
        client = ChatClient(chat_server.url, login(chat_server.url, user, credentials[user]))
        turn = await client.connect()
        await client.close()
        # a toast: the new chat stays empty for its starters
        assert [s for s in turn.steps() if s.get("type", "").endswith("_message")] == []
        return "\n".join(client.toasts)

    try:
        admin = asyncio.run(greeting("admin"))
        seller = asyncio.run(greeting("seller"))
    finally:
        with session_scope(settings) as session:
            for key in ("task:scout", "task:processor"):
                session.delete(session.get(checkpoints.SystemState, key))
        dispose_engines()
    assert "Admin: Ingestion stalled for 40 min: the scout last succeeded 40 min ago" in admin
    assert "arbitrage status" in admin
    assert "stalled" not in seller


def test_an_alert_set_in_chat_arrives_live_in_the_open_session(
    chat_server: ChatServer, credentials: dict[str, str], server_settings: Any
) -> None:
    """ "tell me when ..." saves an alert; a matching deal written and matched as the worker
    does it shows up in the seller's open chat without them asking."""
    from sqlmodel import Session as DbSession

    from tests.unit.alert_helpers import put_deal
    from tools.alerts import store
    from tools.alerts.engine import match_queued, queue_deals
    from tools.db import get_engine
    from tools.models import utcnow
    from tools.users import get_user

    token = login(chat_server.url, "seller", credentials["seller"])

    async def go() -> None:
        client = ChatClient(chat_server.url, token)
        await client.connect()
        turn = await client.send("tell me when a zoology book under $30 with ROI over 50% shows up")
        assert "Saved alert #" in turn.answer and "Nothing matches right now" in turn.answer
        with DbSession(get_engine(server_settings)) as session:  # the processor and matcher
            put_deal(session, "Z000000001", 9.5, title="Zoology: Field Methods")
            queue_deals(session, ["Z000000001"], utcnow())
            match_queued(session, utcnow())
            session.commit()
        shown = ""
        for _ in range(100):  # the session polls its inbox every few seconds
            await asyncio.sleep(0.2)
            shown = "\n".join(
                str(data.get("output"))
                for event, data in client.all_events
                if event == "new_message"
                and isinstance(data, dict)
                and data.get("name") == "Alerts"
            )
            if shown:
                break
        await client.close()
        assert "Zoology: Field Methods" in shown and "Z000000001" in shown
        with DbSession(get_engine(server_settings)) as session:
            seller = get_user(session, "seller")
            assert seller is not None and store.unread_since(session, seller.id or 0)[0] == 0
            for s in store.list_searches(session, seller.id or 0):
                store.delete_search(session, seller.id or 0, s.id or 0)
            session.commit()

    asyncio.run(go())
