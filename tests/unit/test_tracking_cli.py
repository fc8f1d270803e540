"""`arbitrage purchases` and `arbitrage buylist` for one seller at a time."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from chat_ui.cli import app
from tests.unit.agent_helpers import add_user, make_deal, seed
from tools.db import session_scope
from tools.settings import Settings

runner = CliRunner()
ASIN = "0131103628"


def _run(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return " ".join(result.output.split())  # rich wraps long lines at the terminal width


def _users(settings: Settings) -> None:
    seed(settings, make_deal(ASIN))
    with session_scope(settings) as s:
        add_user(s, "sam")
        add_user(s, "kim")


def test_a_purchase_round_trip_in_the_shell_stays_with_its_seller(
    settings: Settings, tmp_path: Path
) -> None:
    _users(settings)
    out = _run("purchases", "add", ASIN, "3", "12.40", "--user", "sam", "--sku", "C-1")
    assert "min list $33.41 (break-even $29.48)" in out and "List at $80.00" in out
    csv_path = tmp_path / "p.csv"
    _run("purchases", "export", "--user", "sam", "-o", str(csv_path))
    assert "C-1" in csv_path.read_text()
    assert json.loads(_run("purchases", "list", "--user", "kim", "--json")) == []
    assert "skipped 1" in _run("purchases", "import", str(csv_path), "--user", "kim")
    csv_path.write_text("sku,cost\nC-1,11.00\n")
    assert "updated 1" in _run("purchases", "import", str(csv_path), "--user", "sam")
    [row] = json.loads(_run("purchases", "list", "--user", "sam", "--json"))
    assert (row["unit_cost"], row["quantity"]) == (11.0, 3)
    refused = runner.invoke(app, ["purchases", "delete", str(row["id"]), "--user", "kim"])
    assert refused.exit_code == 1 and f"no purchase #{row['id']}" in refused.output


def test_the_buy_list_in_the_shell(settings: Settings) -> None:
    _users(settings)
    assert "added 0131103628" in _run("buylist", "add", "--user", "sam", ASIN)
    [row] = json.loads(_run("buylist", "list", "--user", "sam", "--json"))
    assert row["state"] == "ok" and row["profit"] == row["profit_at_add"]
    assert json.loads(_run("buylist", "list", "--user", "kim", "--json")) == []
    assert "removed 0" in _run("buylist", "remove", "--user", "kim", ASIN)
    assert "removed 1" in _run("buylist", "remove", "--user", "sam", ASIN)
    unknown = runner.invoke(app, ["buylist", "list", "--user", "nobody"])
    assert unknown.exit_code == 1 and "no user named 'nobody'" in unknown.output
