"""One seller cannot write into another seller's chat (issue 16, item 4).

Chainlit takes ids from the browser: a message's id (its upsert moved and overwrote any step
with that id), an element's id and thread (`PUT/DELETE /project/element`), a feedback's step
and id (`PUT/DELETE /feedback`). Each attack is tried twice: straight at the data layer, as the
socket session or HTTP request of the rival would run it, and over a real server the way a
rival's browser would send it.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from chat_ui.actor import Actor, ThreadAccessDenied, acting_as
from chat_ui.render import deal_row
from tests.e2e.harness import ChatClient, ChatServer, login
from tests.e2e.seed import KNOWN_ASIN
from tests.unit.chat_history import http_context
from tools.settings import Settings

# ---- the data layer --------------------------------------------------------------------------


async def _victim_thread(layer: Any) -> dict[str, str]:
    """Ann's thread (a question, an answer with a deal table, her feedback) and Bob's own."""
    from chainlit.element import CustomElement
    from chainlit.types import Feedback
    from chainlit.user import User

    ann = await layer.create_user(User(identifier="ann", metadata={}))
    bob = await layer.create_user(User(identifier="bob", metadata={}))
    ids = {
        k: str(uuid.uuid4()) for k in ("ann_thread", "bob_thread", "question", "answer", "bob_step")
    }
    await layer.update_thread(ids["ann_thread"], name="Ann's deals", user_id=ann.id)
    await layer.update_thread(ids["bob_thread"], name="Bob's deals", user_id=bob.id)
    base = {"streaming": False, "metadata": {}, "createdAt": "2025-01-01T00:00:00Z"}
    await layer.create_step(
        {
            **base,
            "id": ids["question"],
            "threadId": ids["ann_thread"],
            "name": "ann",
            "type": "user_message",
            "output": "my supplier",
        }
    )
    await layer.create_step(
        {
            **base,
            "id": ids["answer"],
            "threadId": ids["ann_thread"],
            "name": "Ava",
            "type": "assistant_message",
            "output": "5 deals",
        }
    )
    await layer.create_step(
        {
            **base,
            "id": ids["bob_step"],
            "threadId": ids["bob_thread"],
            "name": "bob",
            "type": "user_message",
            "output": "hello",
        }
    )
    table = CustomElement(
        name="DealTable",
        props={"rows": [{"asin": KNOWN_ASIN}]},
        display="inline",
        for_id=ids["answer"],
        thread_id=ids["ann_thread"],
    )
    await layer.create_element(table)
    ids["element"] = table.id
    ids["feedback"] = await layer.upsert_feedback(
        Feedback(forId=ids["answer"], value=1, comment="great")
    )
    ids["bob_id"] = bob.id
    return ids


def test_data_layer_refuses_writes_into_another_users_thread(settings: Settings) -> None:
    from chainlit.element import CustomElement
    from chainlit.types import Feedback

    from chat_ui.data_layer import make_data_layer

    async def go() -> tuple[dict[str, Any], dict[str, str], list[str]]:
        layer = make_data_layer(settings)
        http_context()
        ids = await _victim_thread(layer)  # written by the server's own code: no actor
        base = {"streaming": False, "metadata": {}, "createdAt": "2025-01-01T00:00:01Z"}
        refused: list[str] = []

        async def attempt(name: str, coro: Any) -> None:
            try:
                await coro
            except ThreadAccessDenied:
                refused.append(name)

        # Bob's socket session (its thread is his own) sends ids of Ann's rows
        with acting_as(Actor("bob", thread_id=ids["bob_thread"], user_id=ids["bob_id"])):
            await layer.create_step(
                {
                    **base,
                    "id": ids["question"],
                    "threadId": ids["bob_thread"],
                    "name": "bob",
                    "type": "user_message",
                    "output": "overwritten",
                }
            )  # the upsert may not move it
            await attempt(
                "step into her thread",
                layer.create_step(
                    {
                        **base,
                        "id": str(uuid.uuid4()),
                        "threadId": ids["ann_thread"],
                        "name": "bob",
                        "type": "assistant_message",
                        "output": "inserted",
                    }
                ),
            )
            await layer.create_element(
                CustomElement(
                    id=ids["element"],
                    name="DealTable",
                    display="inline",
                    for_id=ids["bob_step"],
                    thread_id=ids["bob_thread"],
                    props={"rows": []},
                )
            )
            await attempt(
                "element into her thread",
                layer.create_element(
                    CustomElement(
                        name="DealTable",
                        display="inline",
                        for_id=ids["answer"],
                        thread_id=ids["ann_thread"],
                        props={"rows": []},
                    )
                ),
            )
            await attempt("delete her element", layer.delete_element(ids["element"]))
            await attempt("delete her step", layer.delete_step(ids["question"]))
            await attempt(
                "claim her thread", layer.update_thread(ids["ann_thread"], user_id=ids["bob_id"])
            )
        # Bob's HTTP requests (feedback, rename, delete) naming Ann's rows
        with acting_as(Actor("bob")):
            await attempt(
                "feedback on her answer",
                layer.upsert_feedback(Feedback(forId=ids["answer"], value=0, comment="spam")),
            )
            await attempt(
                "overwrite her feedback",
                layer.upsert_feedback(Feedback(id=ids["feedback"], forId=ids["bob_step"], value=0)),
            )
            await attempt("delete her feedback", layer.delete_feedback(ids["feedback"]))
            await attempt("rename her thread", layer.update_thread(ids["ann_thread"], name="pwned"))
            await attempt("delete her thread", layer.delete_thread(ids["ann_thread"]))
            own = await layer.upsert_feedback(Feedback(forId=ids["bob_step"], value=1))
        thread = await layer.get_thread(ids["ann_thread"])
        bob_thread = await layer.get_thread(ids["bob_thread"])
        await layer.close()
        assert thread is not None and bob_thread is not None
        assert [s["id"] for s in bob_thread["steps"]] == [ids["bob_step"]]
        feedback = bob_thread["steps"][0]["feedback"]
        assert feedback is not None and feedback["id"] == own  # his own writes still work
        return dict(thread), ids, refused

    thread, ids, refused = asyncio.run(go())
    assert refused == [
        "step into her thread",
        "element into her thread",
        "delete her element",
        "delete her step",
        "claim her thread",
        "feedback on her answer",
        "overwrite her feedback",
        "delete her feedback",
        "rename her thread",
        "delete her thread",
    ]
    steps = {s["id"]: s for s in thread["steps"]}
    assert list(steps) == [ids["question"], ids["answer"]]
    assert steps[ids["question"]]["output"] == "my supplier"
    assert steps[ids["answer"]]["feedback"]["value"] == 1
    assert steps[ids["answer"]]["feedback"]["comment"] == "great"
    assert thread["name"] == "Ann's deals" and thread["userIdentifier"] == "ann"
    assert [e["props"] for e in thread["elements"]] == [{"rows": [{"asin": KNOWN_ASIN}]}]


def test_the_deal_table_links_only_to_https() -> None:
    row = deal_row(
        {
            "asin": KNOWN_ASIN,
            "amazon_url": "javascript:alert(document.cookie)",
            "keepa_url": "data:text/html,<script>alert(1)</script>",
        }
    )
    assert row["amazon_url"] == f"https://www.amazon.com/dp/{KNOWN_ASIN}"
    assert row["keepa_url"].startswith("https://keepa.com/")
    assert (
        deal_row({"asin": "x/../y?z"})["amazon_url"] == "https://www.amazon.com/dp/x%2F..%2Fy%3Fz"
    )
    jsx = (
        Path(__file__).resolve().parents[2] / "chat_ui" / "public" / "elements" / "DealTable.jsx"
    ).read_text()
    assert "href={r." not in jsx, "the table renders row links without checking them"


# ---- over a real server ----------------------------------------------------------------------


def _rows(server: ChatServer, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    with sqlite3.connect(server.data_dir / "arbitrage.db") as conn:
        return conn.execute(sql, args).fetchall()


@pytest.mark.e2e
@pytest.mark.timeout(180)
def test_a_rival_cannot_write_into_a_sellers_chat_over_http_or_socket(
    chat: ChatServer, make_user: Callable[..., tuple[str, str]]
) -> None:
    server = chat
    seller, rival = (login(server.url, *make_user()) for _ in range(2))

    async def victim() -> str:
        client = ChatClient(server.url, seller, chat_profile="Ava")
        await client.connect()
        await client.send("show me the best deals")
        await asyncio.sleep(0.5)  # history writes are batched
        await client.close()
        return client.thread_id

    thread = asyncio.run(victim())
    question = _rows(
        server, 'SELECT id FROM steps WHERE "threadId" = ? AND type = ?', thread, "user_message"
    )[0][0]
    answer, element = _rows(
        server, 'SELECT "forId", id FROM elements WHERE "threadId" = ?', thread
    )[0]
    r = httpx.put(
        server.url + "/feedback",
        headers={"Cookie": seller},
        timeout=30,
        json={
            "feedback": {"forId": answer, "value": 1, "comment": "mine"},
            "sessionId": str(uuid.uuid4()),
        },
    )
    assert r.status_code == 200, r.text  # the owner's own feedback is taken
    feedback = r.json()["feedbackId"]
    time.sleep(0.5)  # history writes are batched
    before = {
        "steps": _rows(
            server, 'SELECT id, output FROM steps WHERE "threadId" = ? ORDER BY id', thread
        ),
        "elements": _rows(server, 'SELECT id, props FROM elements WHERE "threadId" = ?', thread),
        "feedbacks": _rows(server, "SELECT id, value, comment FROM feedbacks"),
    }

    async def attack() -> list[int]:
        client = ChatClient(server.url, rival, chat_profile="Ava")
        await client.connect()
        evil = {
            "id": element,
            "threadId": thread,
            "forId": answer,
            "type": "custom",
            "name": "DealTable",
            "display": "inline",
            "props": {"rows": [{"asin": "X", "amazon_url": "javascript:alert(1)"}]},
        }
        statuses = []
        async with httpx.AsyncClient(
            base_url=server.url, timeout=30, headers={"Cookie": rival}
        ) as http:
            for method, path, body in (
                ("PUT", "/project/element", {"element": evil, "sessionId": client.session_id}),
                ("DELETE", "/project/element", {"element": evil, "sessionId": client.session_id}),
                (
                    "PUT",
                    "/feedback",
                    {
                        "feedback": {"forId": answer, "value": 0, "comment": "spam"},
                        "sessionId": client.session_id,
                    },
                ),
                (
                    "PUT",
                    "/feedback",
                    {
                        "feedback": {"id": feedback, "forId": answer, "value": 0},
                        "sessionId": client.session_id,
                    },
                ),
                ("DELETE", "/feedback", {"feedbackId": feedback}),
            ):
                r = await http.request(method, path, json=body)
                statuses.append(r.status_code)
        # the socket: a message whose id is the seller's question (Chainlit upserts by id)
        await client.sio.emit(
            "client_message",
            {
                "message": {
                    "id": question,
                    "threadId": client.thread_id,
                    "name": "rival",
                    "type": "user_message",
                    "output": "moved into my chat",
                    "createdAt": "2025-01-01T00:00:00Z",
                },
                "fileReferences": None,
            },
        )
        await asyncio.sleep(3)  # the turn runs; its writes are batched
        await client.close()
        return statuses

    statuses = asyncio.run(attack())
    after = {
        "steps": _rows(
            server, 'SELECT id, output FROM steps WHERE "threadId" = ? ORDER BY id', thread
        ),
        "elements": _rows(server, 'SELECT id, props FROM elements WHERE "threadId" = ?', thread),
        "feedbacks": _rows(server, "SELECT id, value, comment FROM feedbacks"),
    }
    assert after == before, "the rival changed the seller's chat"
    assert statuses == [403, 403, 403, 403, 403]
