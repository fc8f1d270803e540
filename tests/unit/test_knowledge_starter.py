"""The shipped starter knowledge base: seeded once, useful for the known lessons."""

from __future__ import annotations

from sqlmodel import Session

from knowledge import delete_knowledge, knowledge_counts, list_knowledge, retrieve
from knowledge.starter import load_starter, seed_starter_knowledge
from tools.db import session_scope
from tools.models import Role, User


def test_seed_is_idempotent_and_respects_deletions() -> None:
    data = load_starter()
    with session_scope() as s:
        report = seed_starter_knowledge(s)
    assert report.skipped == 0  # no near-duplicates inside the starter file itself
    assert report.added == len(data["strategies"]) + len(data["mental_models"])
    with session_scope() as s:
        counts = knowledge_counts(s)
        assert 15 <= counts["strategy"] <= 25 and 8 <= counts["mental_model"] <= 12
        entries = list_knowledge(s, limit=500)
        assert all(
            e.source == "starter" and e.approved_by == "starter" and e.approved_at for e in entries
        )
        admin = User(name="root", password_hash="x", role=Role.admin)
        s.add(admin)
        s.flush()
        victim = entries[0]
        delete_knowledge(s, victim.kind, victim.id, admin)
    with session_scope() as s:
        again = seed_starter_knowledge(s)
        assert again.already_seeded and again.added == 0
        assert sum(knowledge_counts(s).values()) == report.added - 1


def _top(session: Session, query: str) -> str:
    hits = retrieve(session, query, k=3)
    assert hits, query
    return " ".join(f"{h.title or ''} {h.text}" for h in hits).lower()


def test_starter_answers_the_known_lessons() -> None:
    with session_scope() as s:
        seed_starter_knowledge(s)
        assert "off-season" in _top(s, "textbook with a terrible sales rank right now, reject?")
        assert "counterfeit" in _top(s, "is there counterfeit risk with this textbook?")
        assert "$1.80" in _top(s, "which amazon fees apply to a book? closing fee referral")
        flips = _top(s, "velocity flip or seasonal hold?")
        assert "flip" in flips and "hold" in flips
        assert "approval" in _top(s, "the book is gated for me")
        assert "ghost" in _top(s, "profit based on an old peak price")
