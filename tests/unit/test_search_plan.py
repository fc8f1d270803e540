"""Plan shape of text searches on SQLite, checked without timing: a text/category search must read
deal_fts once (a materialized match list or the driving scan), never re-run the MATCH per deal
row. The agent bench once hit exactly that: deal_fts JOIN deal with seasonality = ? made SQLite
start at ix_deal_seasonality and scan deal_fts for each of ~20,000 rows (10 s for one search).
Counting SQLite VM instructions catches such a plan on a 20,000-deal table without a clock."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import event, insert
from sqlmodel import Session

from tools.db import get_engine, table_of
from tools.deals import DealSearch, search_deals
from tools.deals.search import planner
from tools.models import Deal, User, UserRestriction
from tools.settings import Settings

NOW = datetime(2025, 8, 15, 12, tzinfo=UTC)
N = 20_000
WORDS = (
    "anatomy",
    "biology",
    "chemistry",
    "calculus",
    "physics",
    "nursing",
    "history",
    "economics",
    "law",
    "psychology",
    "statistics",
    "algebra",
    "marketing",
    "accounting",
)
SEASONS = ("textbook", "exam_prep", "holiday", "summer", "year_round")
MASKS = (0b1_1000_0001, 0b1100, 0b1100_0000_0000, 0b111_0000, None)


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Settings, int]]:
    """20,000 deals straight through SQL (the FTS triggers fill deal_fts), one user."""
    from tools.db import migrate

    settings = Settings(data_dir=tmp_path_factory.mktemp("plan"))
    migrate(settings)
    rng = random.Random(3)
    rows = []
    for i in range(N):
        price = round(rng.uniform(2, 60), 2)
        list_at = round(price * rng.uniform(0.7, 4.0), 2)
        fees = list_at * 0.15 + 5.0
        cost = price * 1.05 + 6.74
        profit = list_at - cost - fees
        season = i % 5
        rows.append(
            {
                "asin": f"P{i:09d}",
                "title": " ".join(rng.sample(WORDS, 4)).title(),
                "author": f"Author {i % 97}",
                "category": "Books",
                "category_path": "Books > Medical Books > Nursing"
                if i % 10 == 0
                else "Books > Law",
                "condition": "good",
                "price_now": price,
                "price_now_source": "offers",
                "shipping_included": False,
                "sales_rank": rng.randint(1, 2_000_000),
                "rank_drops_30": rng.randint(0, 8),
                "seasonality": SEASONS[season],
                "peak_mask": MASKS[season],
                "list_at": list_at,
                "referral_pct": 15.0,
                "referral_min": 0.0,
                "fba_fee": 3.2,
                "closing_fee": 1.8,
                "amz_fees": fees,
                "all_in_cost_default": cost,
                "profit_default": profit,
                "roi_default": profit / cost * 100,
                "margin_default": profit / list_at * 100,
                "status": "active",
                "priority": 0,
                "last_seen_utc": NOW,
                "created_at": NOW,
                "updated_at": NOW,
            }
        )
    engine = get_engine(settings)
    with engine.begin() as conn:
        conn.execute(insert(table_of(Deal)), rows)
    with Session(engine) as s:
        user = User(
            name="p",
            password_hash="x",
            settings={"tax_pct": 8.0, "prep_fee": 1.5, "inbound_shipping": 2.5},
        )
        s.add(user)
        s.commit()
        s.refresh(user)
        s.execute(
            insert(table_of(UserRestriction)),
            [
                {
                    "user_id": user.id,
                    "asin": f"P{i:09d}",
                    "condition": "used_very_good",
                    "status": 1 if i % 7 == 0 else 0,
                    "checked_at": NOW,
                }
                for i in range(0, N, 3)
            ],
        )
        s.commit()
        yield settings, int(user.id)  # type: ignore[arg-type]


def _run(
    settings: Settings, user_id: int, spec: dict[str, Any]
) -> tuple[int, list[tuple[str, list[str]]]]:
    """(VM instructions in thousands, [(SQL, plan lines)] of each deal_fts statement)."""
    engine = get_engine(settings)
    seen: list[tuple[str, tuple[Any, ...]]] = []

    def log(conn: Any, cursor: Any, statement: str, params: Any, *_: Any) -> None:
        if "MATCH" in statement and statement.lstrip().upper().startswith("SELECT"):
            seen.append((statement, tuple(params)))

    event.listen(engine, "before_cursor_execute", log)
    try:
        with Session(engine) as s:
            user = s.get(User, user_id)
            raw = s.connection().connection.driver_connection
            assert raw is not None
            steps = [0]

            def tick() -> int:
                steps[0] += 1
                return 0

            raw.set_progress_handler(tick, 1000)
            search_deals(s, DealSearch.model_validate(spec), user, now=NOW)
            raw.set_progress_handler(None, 0)
            event.remove(engine, "before_cursor_execute", log)
            plans = [
                (
                    sql,
                    [
                        str(r[3])
                        for r in s.connection().exec_driver_sql("EXPLAIN QUERY PLAN " + sql, params)
                    ],
                )
                for sql, params in seen
            ]
    finally:
        if event.contains(engine, "before_cursor_execute", log):
            event.remove(engine, "before_cursor_execute", log)
    return steps[0], plans


SHAPES = [
    # the agent bench's "anatomy textbooks peaking in August, profit over $15"
    {"text": "anatomy", "min_profit": 15, "seasonality": "textbook", "peak_month": 8},
    {
        "text": "anatomy calculus",
        "seasonality": "textbook",
        "peak_month": 8,
        "min_roi": 20,
        "sort": "profit",
    },
    {"category": "Nursing", "in_peak_now": True, "min_roi": 30},
    {"text": "law", "gated": "only_ungated", "sort": "profit"},
    {"text": "biology", "seasonality": "summer", "sort": "rank", "max_rank": 500_000},
]


@pytest.mark.parametrize("spec", SHAPES)
def test_text_searches_read_deal_fts_once(big: tuple[Settings, int], spec: dict[str, Any]) -> None:
    settings, user_id = big
    steps, plans = _run(settings, user_id, spec)
    assert plans  # the words went through deal_fts
    for sql, plan in plans:
        scans = [p for p in plan if "deal_fts" in p]
        assert len(scans) == 1, (sql, plan)
        # deal_fts is either the only table (the match-count probe) or a list built once
        # ("LIST SUBQUERY" above it), never the inner side of a join with deal
        assert "LIST SUBQUERY" in " ".join(plan) or not any(
            "deal" in p.replace("deal_fts", "") for p in plan
        ), (sql, plan)
        if "NOT INDEXED" in sql:  # FTS-driven: deal read by rowid only
            assert any("INTEGER PRIMARY KEY (rowid=?)" in p for p in plan), plan
    # The pathological plan runs ~3,000 MATCH scans of ~3,000 rows each (tens of millions of
    # instructions); a sane one reads each of the 20,000 deals at most a few times.
    assert steps * 1000 < 600 * N, steps


def test_few_word_matches_sort_those_rows_directly(
    big: tuple[Settings, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A selective text filter starts from deal_fts: the page query reads deal by rowid from
    the match list instead of walking the sort index past every other deal."""
    settings, user_id = big
    spec = {"text": "anatomy calculus physics", "min_profit": 30, "sort": "profit"}
    steps, plans = _run(settings, user_id, spec)
    pages = [(sql, plan) for sql, plan in plans if "ORDER BY" in sql]
    assert pages and all(
        "NOT INDEXED" in sql and not any("ix_deal" in p for p in plan) for sql, plan in pages
    ), pages
    # walking the index instead (words "not selective") reads all of it: fewer than a page match
    monkeypatch.setattr(planner, "FTS_DRIVE_MAX", 0)
    walk_steps, walk_plans = _run(settings, user_id, spec)
    assert any("INDEXED BY ix_deal_profit_cover" in sql for sql, _ in walk_plans)
    assert steps < walk_steps, (steps, walk_steps)


def test_a_rare_seasonality_is_read_from_its_index_not_by_walking_every_deal(
    big: tuple[Settings, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    """ "Exam prep in season now" in August matches nothing here (exam prep peaks in March and
    April): the answer must come from the (seasonality, peak_mask) index, not from walking the
    ROI index past all 20,000 deals to fill a page that stays empty (750 ms at 100,000)."""
    settings, user_id = big
    spec = {"seasonality": "exam_prep", "in_peak_now": True}
    steps, _ = _run(settings, user_id, spec)
    monkeypatch.setattr(planner, "FTS_DRIVE_MAX", -1)  # never "few": the old index walk
    walk_steps, _ = _run(settings, user_id, spec)
    assert steps * 5 < walk_steps, (steps, walk_steps)
