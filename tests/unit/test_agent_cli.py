"""`arbitrage ask`: one turn through the real graph, human or JSON output."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from chat_ui.cli import app
from tests.unit.agent_helpers import make_deal, seed
from tools.settings import Settings


def test_ask_json_prints_one_object_with_answer_persona_model_and_tools(settings: Settings) -> None:
    seed(settings, make_deal("B0AAAAAAA1"))
    res = CliRunner().invoke(app, ["ask", "Joel, calculus textbooks under $30?", "--json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert set(data) == {"answer", "persona", "model", "tool_calls", "tool_results", "search"}
    assert (data["persona"], data["model"]) == ("joel", "offline")
    assert data["tool_calls"] == [
        {
            "name": "search_deals",
            "args": {"text": "calculus", "seasonality": "textbook", "max_price": 30.0},
        }
    ]
    assert data["tool_results"][0]["items"][0]["asin"] == "B0AAAAAAA1"
    assert "B0AAAAAAA1" in data["answer"]
    assert data["search"]["query"] == {
        "text": "calculus",
        "seasonality": "textbook",
        "max_price": 30,
    }
    assert data["search"]["total"] == 1


def test_ask_with_a_persona_and_unknown_user(settings: Settings) -> None:
    res = CliRunner().invoke(app, ["ask", "hello", "--persona", "Evelyn"])
    assert res.exit_code == 0 and "Evelyn" in res.stdout
    res = CliRunner().invoke(app, ["ask", "hello", "--user", "nobody"])
    assert res.exit_code == 2 and "no user named 'nobody'" in res.output
    res = CliRunner().invoke(app, ["ask", "hello", "--persona", "bob"])
    assert res.exit_code == 2 and "unknown persona" in res.output


def _ask(*args: str) -> dict:  # type: ignore[type-arg]
    res = CliRunner().invoke(app, ["ask", *args, "--json"])
    assert res.exit_code == 0, res.output
    return json.loads(res.stdout)  # type: ignore[no-any-return]


def test_ask_thread_continues_a_named_conversation(settings: Settings) -> None:
    """Follow-ups can be scripted: each `ask --thread NAME` is one more turn of the same
    checkpointed thread, and --json shows the thread's search after it."""
    seed(
        settings,
        *(
            make_deal(f"B0AAAAAAA{i}", price_now=10.0 + i, sales_rank=50_000 * i)
            for i in range(1, 7)
        ),
    )
    first = _ask("textbooks under $30", "--thread", "shelf-1")
    assert first["search"]["query"] == {"seasonality": "textbook", "max_price": 30}
    assert first["search"]["total"] == 6
    refined = _ask("only the ones under rank 200k", "--thread", "shelf-1")
    assert refined["tool_calls"][0]["args"] == {"refine": True, "max_rank": 200_000}
    assert refined["search"]["query"] == {
        "seasonality": "textbook",
        "max_price": 30,
        "max_rank": 200_000,
    }
    assert refined["answer"].startswith("Added rank <= 200,000 to your search: 4 of 6 remain.")
    other = _ask("only the ones under rank 200k", "--thread", "shelf-2")  # a new thread
    assert "refine" not in other["tool_calls"][0]["args"]
    assert other["search"]["query"] == {"max_rank": 200_000}


def test_ask_thread_name_is_checked(settings: Settings) -> None:
    res = CliRunner().invoke(app, ["ask", "hello", "--thread", "no spaces/or slashes"])
    assert res.exit_code == 2 and "--thread" in res.output
