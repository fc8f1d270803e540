"""`arbitrage knowledge list|show|edit|delete` through the real CLI."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from chat_ui.cli import app
from knowledge import get_entry, save_mental_model, save_strategy
from tools.db import session_scope
from tools.models import Role
from tools.users import add_user

pytestmark = pytest.mark.integration


@pytest.fixture
def refs() -> tuple[str, str]:
    with session_scope() as s:
        boss = add_user(s, "teacher", "long-password", Role.admin)
        add_user(s, "seller", "long-password", Role.user)
        s1 = save_strategy(
            s,
            "Buy textbooks in October when prices bottom out, sell in August.",
            "seasonal",
            "notes",
            boss,
        ).entry
        m1 = save_mental_model(
            s,
            "Academic calendar",
            "Textbook demand follows the start of each semester.",
            "seasonal",
            "notes",
            boss,
        ).entry
        return s1.ref, m1.ref


def _run(*args: str, input: str | None = None) -> tuple[int, str]:
    r = CliRunner().invoke(app, ["knowledge", *args], input=input)
    return r.exit_code, r.output


def test_list_search_and_show(refs: tuple[str, str]) -> None:
    s1, m1 = refs
    code, out = _run("list", "--json")
    assert code == 0 and {e["ref"] for e in json.loads(out)["entries"]} == {s1, m1}
    code, out = _run("list", "--search", "october", "--json")
    assert [e["ref"] for e in json.loads(out)["entries"]] == [s1]
    code, out = _run("list", "--kind", "mental_model")
    assert code == 0 and m1 in out and s1 not in out
    code, out = _run("show", m1)
    assert code == 0 and "Academic calendar" in out and "approved by teacher" in out
    code, out = _run("show", "S999")
    assert code == 1 and "there is no S999" in out


def test_edit_is_shown_then_saved_only_when_approved(refs: tuple[str, str]) -> None:
    s1, _ = refs
    new = "Buy textbooks in November when prices bottom out, sell in August."
    code, out = _run("edit", s1, "--text", new, input="n\n")
    assert code == 0 and "after the edit" in out and "Not changed" in out
    assert "October" in _text(s1)
    code, out = _run("edit", s1, "--text", new, input="y\n")
    assert code == 0 and f"{s1} updated (text); approved by teacher" in out
    assert _text(s1) == new
    code, out = _run("edit", s1, "--category", "timing", "--as", "seller", "--yes")
    assert code == 1 and "seller is not an admin" in out


def test_delete_asks_then_deletes(refs: tuple[str, str]) -> None:
    s1, _ = refs
    code, out = _run("delete", s1, input="n\n")
    assert code == 0 and "Not deleted" in out
    code, out = _run("delete", s1, "--yes")
    assert code == 0 and f"{s1} deleted (by teacher)" in out
    code, out = _run("show", s1)
    assert code == 1


def _text(ref: str) -> str:
    with session_scope() as s:
        entry = get_entry(s, "strategy", int(ref[1:]))
        assert entry is not None
        return entry.text
