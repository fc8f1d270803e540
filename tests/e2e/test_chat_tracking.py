"""The seller's loop in the chat, over a real server's socket and HTTP: the deal table's
"+ Buy list" button, the buy list table, the purchase form, and the costs CSV upload that is
the one file a seller may send."""

from __future__ import annotations

import asyncio
import sqlite3
from typing import Any

import pytest

from tests.e2e.harness import ChatClient, ChatServer, Turn, login
from tests.e2e.seed import KNOWN_ASIN

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(180)]


def _db(server: ChatServer) -> sqlite3.Connection:
    return sqlite3.connect(server.data_dir / "arbitrage.db")


def _says(text: str) -> Any:
    return lambda turn: text in turn.answer


def _elements(turn: Turn, name: str) -> list[dict[str, Any]]:
    return [e for e in turn.elements if e.get("name") == name]


async def _form(ask: dict[str, Any], actions: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The seller fills in the purchase form the ask shows."""
    if ask.get("spec", {}).get("type") != "element":
        return None
    return {
        "submitted": True,
        "quantity": "2",
        "unit_cost": "9.50",
        "condition": "used_good",
        "purchased_on": "",
        "sku": "E2E-1",
        "order_number": "112-7654321-7654321",
    }


def test_buy_list_from_the_deal_table_then_a_purchase_from_the_form(
    chat_server: ChatServer, credentials: dict[str, str]
) -> None:
    token = login(chat_server.url, "seller", credentials["seller"])
    with _db(chat_server) as db:  # the server is shared: start from an empty buy list
        db.execute(
            'DELETE FROM buy_list_item WHERE user_id = (SELECT id FROM "user" WHERE name = ?)',
            ("seller",),
        )

    async def go() -> None:
        client = ChatClient(chat_server.url, token, on_ask=_form)
        await client.connect()
        turn = await client.send("top 5 deals by profit")
        [table] = _elements(turn, "DealTable")
        assert table["props"]["rows"]
        asin = table["props"]["rows"][0]["asin"]
        answer, turn = await client.click(
            "buy_list_add", {"asin": asin}, until=_says("to your buy list")
        )
        assert answer["response"]["added"] is True
        turn = await client.send("show my buy list")
        [buy_list] = _elements(turn, "BuyList")
        assert [r["asin"] for r in buy_list["props"]["rows"]] == [asin]
        assert buy_list["props"]["rows"][0]["state"] == "ok"
        _, turn = await client.click(
            "purchase_form", {"asin": asin}, until=_says("Recorded purchase")
        )
        assert [a["spec"]["type"] for a in turn.asks] == ["element"]
        assert "2 × " in turn.answer and "at $9.50 each (used good" in turn.answer
        assert "minimum list price $" in turn.answer
        await client.close()

    asyncio.run(go())
    rows = (
        _db(chat_server)
        .execute(
            "SELECT p.quantity, p.unit_cost, p.sku, u.name FROM purchase p JOIN user u "
            "ON u.id = p.user_id WHERE p.sku = 'E2E-1'"
        )
        .fetchall()
    )
    assert rows == [(2, 9.5, "E2E-1", "seller")]


def test_a_verdict_offers_the_buy_list_and_purchase_buttons(
    chat_server: ChatServer, credentials: dict[str, str]
) -> None:
    token = login(chat_server.url, "seller", credentials["seller"])

    async def go() -> list[dict[str, Any]]:
        client = ChatClient(chat_server.url, token)
        await client.connect()
        turn = await client.send(f"should I buy {KNOWN_ASIN}?")
        await client.close()
        answer_ids = {s["id"] for s in turn.steps("assistant_message")}
        return [a for i in answer_ids for a in client.actions.get(i, [])]

    actions = asyncio.run(go())
    assert {(a["name"], a["payload"]["asin"]) for a in actions} == {
        ("buy_list_add", KNOWN_ASIN),
        ("purchase_form", KNOWN_ASIN),
    }


def test_a_seller_imports_costs_through_the_ask_and_nothing_else(
    chat_server: ChatServer, credentials: dict[str, str]
) -> None:
    token = login(chat_server.url, "seller", credentials["seller"])
    statuses: list[int] = []

    async def go() -> Turn:
        client = ChatClient(chat_server.url, token)

        async def upload(ask: dict[str, Any], actions: list[dict[str, Any]]) -> Any:
            if ask.get("spec", {}).get("type") != "file":
                return None
            csv = f"asin,quantity,cost,sku\n{KNOWN_ASIN},4,3.25,E2E-CSV\n".encode()
            parent = ask["msg"]["parentId"]
            stored = await client.upload("costs.csv", csv, "text/csv", ask_parent_id=parent)
            statuses.append(200)
            return [{"id": stored["id"]}]

        client.on_ask = upload
        await client.connect()
        try:
            await client.upload("sneaky.csv", b"asin,cost\n", "text/csv")
        except Exception as err:  # httpx.HTTPStatusError: 403, no ask pending
            statuses.append(err.response.status_code)  # type: ignore[attr-defined]
        _, turn = await client.click("purchases_import", {}, until=_says("Imported costs.csv"))
        await client.close()
        return turn

    turn = asyncio.run(go())
    assert statuses == [403, 200]
    assert "added 1" in turn.answer
    row = (
        _db(chat_server)
        .execute("SELECT quantity, unit_cost FROM purchase WHERE sku = 'E2E-CSV'")
        .fetchone()
    )
    assert row == (4, 3.25)
