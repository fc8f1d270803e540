"""Knowledge store and retrieval on the migrated SQLite database (FTS5 from migration 0002)."""

from __future__ import annotations

import pytest
from sqlalchemy import text as sql
from sqlmodel import Session

from knowledge import (
    KnowledgeError,
    PermissionDenied,
    deal_query,
    delete_knowledge,
    edit_knowledge,
    list_knowledge,
    parse_ref,
    plan_edit,
    render_knowledge,
    retrieve,
    retrieve_for_deal,
    save_mental_model,
    save_strategy,
    search_entries,
)
from tools.db import session_scope
from tools.models import Role, Strategy, User


def _user(session: Session, name: str, role: Role) -> User:
    u = User(name=name, password_hash="x", role=role)
    session.add(u)
    session.flush()
    return u


@pytest.fixture
def session():  # type: ignore[no-untyped-def]
    with session_scope() as s:
        yield s


@pytest.fixture
def admin(session: Session) -> User:
    return _user(session, "boss", Role.admin)


@pytest.fixture
def seller(session: Session) -> User:
    return _user(session, "seller", Role.user)


def test_admin_saves_with_provenance(session: Session, admin: User) -> None:
    res = save_strategy(
        session,
        "Buy textbooks in October when the used price is at its trough.",
        "Textbooks",
        "https://example.com/post",
        admin,
        author="Jane",
    )
    assert res.status == "saved" and res.saved
    row = session.get(Strategy, res.entry.id)
    assert row is not None
    assert (row.category, row.source, row.approved_by, row.author) == (
        "textbooks",
        "https://example.com/post",
        "boss",
        "Jane",
    )
    assert row.approved_at is not None
    assert res.entry.ref == f"S{row.id}"


def test_non_admin_cannot_save_or_delete(session: Session, admin: User, seller: User) -> None:
    with pytest.raises(PermissionDenied):
        save_strategy(session, "Always buy everything under five dollars.", "general", None, seller)
    with pytest.raises(PermissionDenied):
        save_mental_model(
            session, "Velocity", "Fast sellers turn capital quickly.", None, None, seller
        )
    assert list_knowledge(session) == []
    res = save_strategy(
        session, "Skip books with Deal Trust under 70 percent.", "risk", None, admin
    )
    with pytest.raises(PermissionDenied):
        delete_knowledge(session, "strategy", res.entry.id, seller)
    assert len(list_knowledge(session)) == 1
    assert delete_knowledge(session, "strategy", res.entry.id, admin) is True
    assert list_knowledge(session) == []


def test_near_duplicates_refused_or_merged(session: Session, admin: User) -> None:
    first = save_strategy(
        session,
        "Buy textbooks in October when prices are at the yearly low.",
        "textbooks",
        "pasted",
        admin,
    )
    dup = save_strategy(
        session,
        "Buy textbooks in October, when prices are at the yearly low!",
        "textbooks",
        "https://other.example",
        admin,
    )
    assert dup.status == "duplicate" and dup.entry.id == first.entry.id
    assert dup.similarity >= 0.85
    merged = save_strategy(
        session,
        "Buy textbooks in October when prices are at their yearly low point.",
        "textbooks",
        "https://other.example",
        admin,
        on_duplicate="merge",
    )
    assert merged.status == "merged" and merged.entry.id == first.entry.id
    assert "https://other.example" in merged.entry.source
    assert len(list_knowledge(session, kind="strategy")) == 1
    other = save_strategy(
        session, "Never buy a book when Amazon itself holds the buy box.", "general", None, admin
    )
    assert other.status == "saved"


def test_bad_input_is_a_clear_error(session: Session, admin: User) -> None:
    with pytest.raises(KnowledgeError, match="too short"):
        save_strategy(session, "  ", "general", None, admin)
    with pytest.raises(KnowledgeError, match="title"):
        save_mental_model(session, "", "Some long enough explanation text.", None, None, admin)
    with pytest.raises(KnowledgeError):
        parse_ref("X9")
    assert parse_ref("m3") == ("mental_model", 3)


def _seed(session: Session, admin: User) -> dict[str, int]:
    ids = {}
    for key, text, cat in [
        ("fees", "Count the $1.80 closing fee and the 15% referral fee on every book.", "fees"),
        (
            "season",
            "Do not reject a seasonal textbook just because its sales rank is high in "
            "the off-season; check last August and January instead.",
            "textbooks",
        ),
        ("amazon", "Pass when Amazon holds the buy box more than half of the time.", "general"),
        ("gating", "Gated items need approval; check restrictions before buying.", "gating"),
    ]:
        ids[key] = save_strategy(session, text, cat, None, admin).entry.id
    ids["velocity"] = save_mental_model(
        session,
        "Velocity vs seasonal hold",
        "A fast flip turns capital quickly while a seasonal hold waits for the peak.",
        "general",
        None,
        admin,
    ).entry.id
    return ids


def test_retrieval_ranks_relevant_entry_first(session: Session, admin: User) -> None:
    ids = _seed(session, admin)
    # ranking really runs in SQLite FTS5 (kept in sync by the 0002 triggers), not a fallback
    assert session.execute(sql("SELECT count(*) FROM knowledge_fts")).scalar_one() == 5
    hits = retrieve(session, "what fees does amazon charge on a book? referral closing")
    assert hits and hits[0].kind == "strategy" and hits[0].id == ids["fees"]
    hits = retrieve(session, "the textbook has a high sales rank in off-season, should I skip?")
    assert hits[0].id == ids["season"]
    hits = retrieve(session, "velocity or hold for the season?")
    assert (hits[0].kind, hits[0].id) == ("mental_model", ids["velocity"])
    assert retrieve(session, "the and of") == []
    block = render_knowledge(hits)
    assert block.startswith("Relevant knowledge:") and f"M{ids['velocity']}" in block


def test_retrieval_is_bounded(session: Session, admin: User) -> None:
    _seed(session, admin)
    hits = retrieve(session, "book textbook amazon fee gated velocity seasonal", k=2, max_chars=120)
    assert len(hits) <= 2
    assert sum(len(h.text) for h in hits) <= 120


def test_retrieval_follows_updates_and_deletes(session: Session, admin: User) -> None:
    ids = _seed(session, admin)
    delete_knowledge(session, "strategy", ids["gating"], admin)
    assert all(
        h.id != ids["gating"] or h.kind != "strategy"
        for h in retrieve(session, "gated approval restrictions")
    )
    row = session.get(Strategy, ids["amazon"])
    assert row is not None
    row.text = "Pass when the item is an oversized hazmat product."
    session.add(row)
    session.flush()
    assert retrieve(session, "hazmat oversized")[0].id == ids["amazon"]


def test_retrieve_for_deal_prefers_textbook_lessons(session: Session, admin: User) -> None:
    ids = _seed(session, admin)
    deal = {
        "title": "Campbell Biology, 12th Edition",
        "category": "Books",
        "seasonality": "textbook",
        "sales_rank": 850_000,
        "rank_drops_90": 3,
        "roi_default": 35.0,
        "profit_default": 22.0,
        "deal_trust": 80.0,
    }
    q = deal_query(deal)
    assert "textbook" in q and "off-season" in q
    hits = retrieve_for_deal(session, deal)
    assert hits[0].id == ids["season"] and hits[0].kind == "strategy"


def test_search_finds_by_words_and_category_edit_validates_and_keeps_the_ref(
    session: Session, admin: User, seller: User
) -> None:
    s1 = save_strategy(
        session,
        "Buy textbooks in October when prices bottom out, sell them in August.",
        "seasonal",
        "notes",
        admin,
    ).entry
    s2 = save_strategy(
        session, "Skip any book where Amazon itself sells a copy.", "competition", "notes", admin
    ).entry
    assert [e.ref for e in search_entries(session, "seasonal")] == [s1.ref]
    assert [e.ref for e in search_entries(session, "amazon copy")] == [s2.ref]
    with pytest.raises(PermissionDenied):
        edit_knowledge(session, "strategy", s1.id, seller, category="timing")
    with pytest.raises(KnowledgeError, match="changes nothing"):
        plan_edit(session, "strategy", s1.id, category="seasonal")
    with pytest.raises(KnowledgeError, match="duplicate S"):
        plan_edit(session, "strategy", s2.id, text=s1.text)
    with pytest.raises(KnowledgeError, match="only mental models have a title"):
        plan_edit(session, "strategy", s1.id, title="x")
    done = edit_knowledge(session, "strategy", s1.id, admin, category="Timing Rules")
    assert done.before.category == "seasonal" and done.after.category == "timing-rules"
    assert done.after.ref == s1.ref and done.after.approved_by == "boss"
    assert [e.ref for e in list_knowledge(session, category="timing-rules")] == [s1.ref]
