"""The shipped starter knowledge base and its idempotent seeding.

Seeding runs at app start (`arbitrage up`), not in a migration, so the content can be revised
without schema changes. A version mark in system_state makes each starter version seed once:
restarts add nothing, and an entry an admin deleted stays deleted.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from sqlmodel import Session

from knowledge.entries import Kind
from knowledge.store import SystemActor, _save
from tools.models import SystemState, utcnow

STARTER_FILE = Path(__file__).with_name("starter.yaml")
STATE_KEY = "knowledge.starter_version"


@dataclass
class SeedReport:
    version: int
    added: int = 0
    skipped: int = 0  # near-duplicates of entries already in the base
    already_seeded: bool = False


@lru_cache(maxsize=1)
def load_starter() -> dict[str, Any]:
    """The parsed starter file (validated enough to fail loudly on a broken edit)."""
    data = yaml.safe_load(STARTER_FILE.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or not isinstance(data.get("version"), int):
        raise ValueError(f"{STARTER_FILE}: needs an integer `version`")
    for key in ("strategies", "mental_models"):
        if not isinstance(data.get(key), list):
            raise ValueError(f"{STARTER_FILE}: `{key}` must be a list")
    return data


def seed_starter_knowledge(session: Session) -> SeedReport:
    """Add the starter entries once per starter version; safe to call on every start."""
    data = load_starter()
    version = int(data["version"])
    state = session.get(SystemState, STATE_KEY)
    done = state.value.get("version", 0) if state and isinstance(state.value, dict) else 0
    if done >= version:
        return SeedReport(version, already_seeded=True)
    actor = SystemActor()
    source, author = str(data.get("source", "starter")), data.get("author")
    report = SeedReport(version)
    items: list[tuple[Kind, dict[str, Any]]] = [("strategy", s) for s in data["strategies"]]
    items += [("mental_model", m) for m in data["mental_models"]]
    for kind, item in items:
        res = _save(
            session,
            kind,
            text=item["text"],
            category=item.get("category"),
            source=source,
            approver=actor.name,
            author=author,
            title=item.get("title"),
            on_duplicate="refuse",
        )
        if res.status == "saved":
            report.added += 1
        else:
            report.skipped += 1
    value = {"version": version, "added": report.added, "at": utcnow().isoformat()}
    if state is None:
        session.add(SystemState(key=STATE_KEY, value=value))
    else:
        state.value, state.updated_at = value, utcnow()
        session.add(state)
    session.flush()
    return report
