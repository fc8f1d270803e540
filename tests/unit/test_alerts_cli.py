"""`arbitrage alerts` for one seller at a time."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from chat_ui.cli import app
from tests.unit.agent_helpers import add_user
from tools.alerts import store
from tools.db import session_scope
from tools.settings import Settings

runner = CliRunner()


def _run(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return " ".join(result.output.split())


def test_list_pause_resume_delete_stay_with_their_seller(settings: Settings) -> None:
    with session_scope(settings) as s:
        sam, _ = add_user(s, "sam"), add_user(s, "kim")
        sid = store.create_search(s, sam.id or 0, {"text": "nursing", "max_price": 30}).id
    (row,) = json.loads(_run("alerts", "list", "--user", "sam", "--json"))["alerts"]
    assert row["summary"] == "nursing, ≤ $30" and row["active"] is True
    assert json.loads(_run("alerts", "list", "--user", "kim", "--json"))["alerts"] == []
    for cmd in ("pause", "resume", "delete"):
        refused = runner.invoke(app, ["alerts", cmd, str(sid), "--user", "kim"])
        assert refused.exit_code == 1 and "no alert named or numbered" in refused.output
    assert "paused" in _run("alerts", "pause", str(sid), "--user", "sam")
    assert (
        json.loads(_run("alerts", "list", "--user", "sam", "--json"))["alerts"][0]["active"]
        is False
    )
    assert "resumed" in _run("alerts", "resume", "nursing, ≤ $30", "--user", "sam")
    assert "deleted" in _run("alerts", "delete", str(sid), "--user", "sam")
    assert json.loads(_run("alerts", "list", "--user", "sam", "--json"))["alerts"] == []
