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
    assert set(data) == {"answer", "persona", "model", "tool_calls", "tool_results"}
    assert (data["persona"], data["model"]) == ("joel", "offline")
    assert data["tool_calls"] == [
        {
            "name": "search_deals",
            "args": {"text": "calculus", "seasonality": "textbook", "max_price": 30.0},
        }
    ]
    assert data["tool_results"][0]["items"][0]["asin"] == "B0AAAAAAA1"
    assert "B0AAAAAAA1" in data["answer"]


def test_ask_with_a_persona_and_unknown_user(settings: Settings) -> None:
    res = CliRunner().invoke(app, ["ask", "hello", "--persona", "Evelyn"])
    assert res.exit_code == 0 and "Evelyn" in res.stdout
    res = CliRunner().invoke(app, ["ask", "hello", "--user", "nobody"])
    assert res.exit_code == 2 and "no user named 'nobody'" in res.output
    res = CliRunner().invoke(app, ["ask", "hello", "--persona", "bob"])
    assert res.exit_code == 2 and "unknown persona" in res.output
