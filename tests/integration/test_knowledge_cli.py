"""`arbitrage teach`: the terminal teaching flow end to end through the real CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from chat_ui.cli import app
from knowledge import list_knowledge
from tools.db import session_scope
from tools.models import Role
from tools.users import add_user

pytestmark = pytest.mark.integration

NOTES = """If a used textbook sells for under $20 in October, buy it and hold it until August.

Only buy when the ROI is at least 30% after the 15% referral fee and the $1.80 closing fee.

Textbook prices follow the academic calendar because students buy at the start of each
semester.
"""


@pytest.fixture
def notes(tmp_path: Path) -> Path:
    path = tmp_path / "notes.md"
    path.write_text(NOTES)
    with session_scope() as s:
        add_user(s, "teacher", "long-password", Role.admin)
        add_user(s, "seller", "long-password", Role.user)
    return path


def _stored() -> list[tuple[str, str, str | None]]:
    with session_scope() as s:
        return [(e.kind, e.source, e.approved_by) for e in list_knowledge(s)]


def test_json_only_prints_candidates(notes: Path) -> None:
    result = CliRunner().invoke(app, ["teach", str(notes), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["method"] == "offline" and data["source"] == "file:notes.md"
    assert [c["kind"] for c in data["candidates"]] == ["strategy", "strategy", "mental_model"]
    assert _stored() == []


def test_interactive_approve_and_reject(notes: Path) -> None:
    result = CliRunner().invoke(app, ["teach", str(notes), "--as", "teacher"], input="y\nn\ny\n")
    assert result.exit_code == 0, result.output
    assert "saved 2" in result.output and "rejected 1" in result.output
    assert sorted(_stored()) == [
        ("mental_model", "file:notes.md", "teacher"),
        ("strategy", "file:notes.md", "teacher"),
    ]
    again = CliRunner().invoke(app, ["teach", str(notes), "--yes"])
    assert again.exit_code == 0, again.output
    assert "near-duplicate of" in again.output
    assert "saved 1" in again.output and "duplicates 2" in again.output


def test_stdin_with_yes_and_refusals(notes: Path) -> None:
    ok = CliRunner().invoke(app, ["teach", "-", "--yes"], input=NOTES)
    assert ok.exit_code == 0, ok.output
    assert {src for _, src, _ in _stored()} == {"pasted"}
    refused = CliRunner().invoke(app, ["teach", str(notes), "--as", "seller", "--yes"])
    assert refused.exit_code == 1 and "not an admin" in refused.output
    prompts = CliRunner().invoke(app, ["teach", "-"], input=NOTES)
    assert prompts.exit_code == 1 and "--yes" in prompts.output
    blocked = CliRunner().invoke(app, ["teach", "http://127.0.0.1:9/x", "--yes"])
    assert blocked.exit_code == 1 and "internal address" in blocked.output
