"""`arbitrage status` on a machine where nothing has run yet: clear hints, no SQL dumps."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from chat_ui.cli import app


@pytest.mark.no_template_db
def test_status_before_the_first_run_says_what_to_do() -> None:
    res = CliRunner().invoke(app, ["status"], env={"COLUMNS": "200"})
    assert res.exit_code == 1  # not healthy: the database does not exist yet
    assert "not created yet (`arbitrage up` creates and migrates it" in res.output
    assert "unknown: Redis is not reachable" in res.output
    assert "Pipeline: no data until the database exists" in res.output
    assert "SELECT" not in res.output and "Traceback" not in res.output


def test_status_json_on_a_migrated_database_reports_the_schema() -> None:
    import json

    from tools.db import head_revision

    res = CliRunner().invoke(app, ["status", "--json"])
    data = json.loads(res.stdout)
    assert data["parts"]["database"]["ok"] is True
    assert f"schema {head_revision()}" in data["parts"]["database"]["detail"]
    assert data["deals"] == {} and "error" not in data["pipeline"]
