"""Pipeline functions on a real SQLite database with a scripted /deal/ feed.

The feed is a tiny stand-in for Keepa's /deal/ pages (the Keepa sandbox is exercised by the
integration tests); it lets these tests pin exact paging, watermark and load-shedding cases.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlmodel import Session, select

from tools.clock import SimClock
from tools.db import session_scope
from tools.deal_selection import (
    DEFAULT_SELECTION,
    DealSelectionError,
    get_deal_selection,
    set_deal_selection,
)
from tools.keepa.conventions import to_keepa_minutes
from tools.models import Deal, DealStatus
from workers import checkpoints
from workers.pipeline import policy
from workers.pipeline.common import BUMP_PRIORITY, PENDING_PRIORITY
from workers.pipeline.janitor import run_janitor
from workers.pipeline.processor import batch_size_for, claim_due
from workers.pipeline.refresher import run_refresher
from workers.pipeline.scout import run_scout

T0 = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


@dataclass
class Answer:
    body: dict[str, Any]


@dataclass
class Feed:
    """/deal/ pages newest first: rows are (asin, lastUpdate keepa minutes)."""

    rows: list[tuple[str, int]] = field(default_factory=list)
    calls: list[int] = field(default_factory=list)

    def deals(self, selection: dict[str, Any], *, purpose: str | None = None) -> Answer:
        page = selection["page"]
        self.calls.append(page)
        ordered = sorted(self.rows, key=lambda r: -r[1])
        chunk = ordered[page * 150 : (page + 1) * 150]
        return Answer(
            {"deals": {"dr": [{"asin": a, "lastUpdate": lu, "title": f"t {a}"} for a, lu in chunk]}}
        )


def asin(i: int) -> str:
    return f"B{i:09d}"


def count(session: Session, status: DealStatus | None = None) -> int:
    q = select(Deal)
    if status:
        q = q.where(Deal.status == status)
    return len(session.exec(q).all())


def test_deal_selection_defaults_to_used_books_and_rejects_bad_input() -> None:
    with session_scope() as session:
        q = get_deal_selection(session)
        assert q["includeCategories"] == [283155] and q["priceTypes"] == [2]
        assert q["domainId"] == 1
        with pytest.raises(DealSelectionError, match="priceTypes"):
            set_deal_selection(session, {**DEFAULT_SELECTION, "priceTypes": [2, 1]})
        with pytest.raises(DealSelectionError, match="bogus"):
            set_deal_selection(session, {**DEFAULT_SELECTION, "bogus": 1})
        with pytest.raises(DealSelectionError, match="salesRankRange"):
            set_deal_selection(session, {**DEFAULT_SELECTION, "salesRankRange": [10, 1]})
        assert get_deal_selection(session) == q  # nothing stored by the failed attempts
        set_deal_selection(
            session, {**DEFAULT_SELECTION, "salesRankRange": [1, 500_000], "page": 7}
        )
    with session_scope() as session:
        stored = get_deal_selection(session)
        assert stored["salesRankRange"] == [1, 500_000] and "page" not in stored


def test_watermark_never_moves_backward() -> None:
    with session_scope() as session:
        assert checkpoints.advance_watermark(session, 500) == 500
        assert checkpoints.advance_watermark(session, 400) == 500
        assert checkpoints.get_watermark(session) == 500


def test_scout_sheds_load_without_losing_deals() -> None:
    base = to_keepa_minutes(T0.timestamp())
    feed = Feed([(asin(i), base - i) for i in range(450)])
    clock = SimClock(T0.timestamp())
    with session_scope() as session:
        r1 = run_scout(feed, session, clock, max_new=200)
        assert (r1.inserted, r1.backlog, r1.pages) == (200, 250, 4)
        assert count(session, DealStatus.pending) == 200
        r2 = run_scout(feed, session, clock, max_new=200)
        # the watermark stops paging after the first page, the backlog still drains
        assert (r2.inserted, r2.backlog, r2.pages) == (200, 50, 1)
        r3 = run_scout(feed, session, clock, max_new=200)
        assert (r3.inserted, r3.backlog) == (50, 0)
        rows = session.exec(select(Deal)).all()
        assert sorted(d.asin for d in rows) == sorted(asin(i) for i in range(450))
        assert all(d.priority == PENDING_PRIORITY and d.next_refresh_at is not None for d in rows)
        assert checkpoints.get_watermark(session) == base


def test_scout_takes_the_deepest_drops_first_and_lets_none_wait_for_ever() -> None:
    """Load shedding keeps the most promising new deals (deepest price drop) for this run and
    the processor claims them first; an hour of waiting counts like 10 points of drop."""
    from workers.pipeline.scout import intake_order

    base = to_keepa_minutes(T0.timestamp())
    drops = {asin(i): (i * 37) % 101 for i in range(300)}
    feed = Feed([(a, base - i) for i, a in enumerate(drops)])
    plain = feed.deals

    def deals(selection: dict[str, Any], *, purpose: str | None = None) -> Answer:
        ans = plain(selection, purpose=purpose)
        for r in ans.body["deals"]["dr"]:  # Keepa's deltaPercent[dateRange][priceType]
            r["deltaPercent"] = [[0] * 36 for _ in range(4)]
            r["deltaPercent"][1][2] = drops[r["asin"]]
        return ans

    feed.deals = deals  # type: ignore[method-assign]
    clock = SimClock(T0.timestamp())
    with session_scope() as session:
        r = run_scout(feed, session, clock, max_new=100)
        assert (r.inserted, r.backlog) == (100, 200)
        taken = {d.asin: d.priority for d in session.exec(select(Deal)).all()}
        assert min(drops[a] for a in taken) >= max(
            drops[a] for a in drops if a not in taken
        )  # the 100 deepest drops
        assert all(p == PENDING_PRIORITY + min(9, drops[a] // 10) for a, p in taken.items())
        claimed = claim_due(session, T0, 10)
        assert (
            sorted((drops[c.asin] for c in claimed), reverse=True)
            == sorted(drops.values(), reverse=True)[:10]
        )
    # a 5 % drop that has waited 10 h goes before a fresh 95 % drop
    old = {"asin": "OLD", "drop": 5, "since": base - 600}
    new = {"asin": "NEW", "drop": 95, "since": base}
    assert [b["asin"] for b in intake_order([new, old], base)] == ["OLD", "NEW"]
    legacy = {"asin": "LEGACY"}  # queued by an earlier version: no drop, no since
    assert intake_order([new, old, legacy], base)[0]["asin"] == "LEGACY"


def test_scout_bumps_changed_known_deals_only() -> None:
    base = to_keepa_minutes(T0.timestamp())
    feed = Feed([(asin(i), base - 100 - i) for i in range(5)])
    clock = SimClock(T0.timestamp())
    with session_scope() as session:
        run_scout(feed, session, clock)
        for d in session.exec(select(Deal)).all():  # pretend the processor handled them
            d.status, d.priority = DealStatus.active, policy.UNPROFITABLE
            d.fetched_at = T0
            d.next_refresh_at = T0 + timedelta(hours=8)
            session.add(d)
        session.commit()
        feed.rows[2] = (asin(2), base + 10)  # Keepa changed one of them after our fetch
        clock.advance(600)
        r = run_scout(feed, session, clock)
        assert (r.inserted, r.bumped) == (0, 1)
        bumped = session.get(Deal, asin(2))
        assert bumped is not None and bumped.priority == BUMP_PRIORITY
        assert bumped.next_refresh_at is not None and bumped.next_refresh_at <= T0 + timedelta(
            seconds=600
        )
        other = session.get(Deal, asin(3))
        assert other is not None and other.next_refresh_at == T0 + timedelta(hours=8)


def test_scout_bumps_on_a_price_change_not_on_a_mere_recrawl() -> None:
    """With currentSince, a re-crawl that left the used price alone is no reason to refetch
    (Keepa re-crawls every hour or two: bumping on each ate the budget of unbumped deals)."""
    base = to_keepa_minutes(T0.timestamp())
    clock = SimClock(T0.timestamp())
    since = [-1] * 30
    with session_scope() as session:
        for i in (1, 2):
            session.add(
                _deal(
                    asin(i),
                    status=DealStatus.active,
                    priority=policy.UNPROFITABLE,
                    fetched_at=T0,
                    next_refresh_at=T0 + timedelta(hours=8),
                    last_seen_utc=T0,
                )
            )
        session.commit()
        feed = Feed()
        clock.advance(3600)
        rows = [
            {
                "asin": asin(1),
                "lastUpdate": base + 50,  # price unchanged since before
                "currentSince": [*since[:2], base - 600, *since[3:]],
            },
            {
                "asin": asin(2),
                "lastUpdate": base + 50,  # price moved after our fetch
                "currentSince": [*since[:2], base + 40, *since[3:]],
            },
        ]

        def one_page(selection: dict[str, Any], *, purpose: str | None = None) -> Answer:
            return Answer({"deals": {"dr": rows if selection["page"] == 0 else []}})

        feed.deals = one_page  # type: ignore[method-assign]
        r = run_scout(feed, session, clock)
        assert r.bumped == 1
        session.expire_all()
        quiet, moved = session.get(Deal, asin(1)), session.get(Deal, asin(2))
        assert quiet is not None and moved is not None
        assert quiet.priority == policy.UNPROFITABLE
        assert quiet.next_refresh_at == T0 + timedelta(hours=8)
        assert quiet.keepa_last_update is not None and quiet.last_seen_utc == T0 + timedelta(
            hours=1
        )  # still seen and its Keepa update recorded
        assert moved.priority == BUMP_PRIORITY
        assert moved.next_refresh_at == T0 + timedelta(hours=1)


def test_scout_continues_deeper_when_out_of_pages() -> None:
    base = to_keepa_minutes(T0.timestamp())
    feed = Feed([(asin(i), base - 1000 - i) for i in range(10)])
    clock = SimClock(T0.timestamp())
    with session_scope() as session:
        run_scout(feed, session, clock)
        old_mark = checkpoints.get_watermark(session)
        feed.rows += [(asin(100 + i), base + i) for i in range(400)]  # 3 pages of news
        r = run_scout(feed, session, clock, max_pages=2, max_new=10_000)
        assert r.watermark == old_mark and not r.reached_watermark  # not advanced yet
        r = run_scout(feed, session, clock, max_pages=2, max_new=10_000)
        assert r.reached_watermark and r.watermark == base + 399
        assert count(session) == 410  # nothing on page 3 was skipped


def _deal(a: str, **kw: Any) -> Deal:
    return Deal(asin=a, **kw)


def test_janitor_skips_while_ingestion_is_stalled() -> None:
    clock = SimClock(T0.timestamp())
    with session_scope() as session:
        session.add(
            _deal(asin(1), status=DealStatus.active, last_seen_utc=T0 - timedelta(hours=100))
        )
        session.add(_deal(asin(2), status=DealStatus.active, last_seen_utc=T0))
        session.commit()
        r = run_janitor(session, clock)
        assert r.skipped and "never completed" in (r.reason or "") and count(session) == 2
        checkpoints.record_run(session, "scout", now=T0 - timedelta(hours=10), ok=True)
        checkpoints.record_run(session, "processor", now=T0, ok=True)
        session.commit()
        r = run_janitor(session, clock)
        assert r.skipped and "scout last succeeded 10.0 h ago" in (r.reason or "")
        assert count(session) == 2
        checkpoints.record_run(session, "scout", now=T0, ok=True)
        session.commit()
        r = run_janitor(session, clock)
        assert not r.skipped and r.deleted == 1
        assert session.get(Deal, asin(2)) is not None


def test_refresher_requeues_old_deals_and_ages_priority() -> None:
    clock = SimClock(T0.timestamp())
    with session_scope() as session:
        # hot deal fetched 5 h ago but scheduled far out: over its 4 h max age
        session.add(
            _deal(
                asin(1),
                status=DealStatus.active,
                price_now=10,
                profit_default=30,
                roi_default=80,
                fetched_at=T0 - timedelta(hours=5),
                next_refresh_at=T0 + timedelta(hours=10),
                priority=policy.HOT,
            )
        )
        # cheap deal overdue by 10 h: climbs above fresh bumps
        session.add(
            _deal(
                asin(2),
                status=DealStatus.active,
                price_now=10,
                profit_default=-3,
                fetched_at=T0 - timedelta(hours=18),
                next_refresh_at=T0 - timedelta(hours=10),
                priority=1,
            )
        )
        # fresh, not due: untouched
        session.add(
            _deal(
                asin(3),
                status=DealStatus.active,
                price_now=10,
                profit_default=-3,
                fetched_at=T0,
                next_refresh_at=T0 + timedelta(hours=8),
                priority=1,
            )
        )
        # data older than 48 h: marked stale so users can tell
        session.add(
            _deal(
                asin(4),
                status=DealStatus.active,
                price_now=10,
                profit_default=-3,
                fetched_at=T0 - timedelta(hours=50),
                next_refresh_at=T0 - timedelta(hours=42),
                priority=1,
            )
        )
        session.commit()
        r = run_refresher(session, clock)
        assert r.requeued == 1 and r.marked_stale == 1
        d1, d2, d3, d4 = (session.get(Deal, asin(i)) for i in (1, 2, 3, 4))
        session.expire_all()
        d1, d2, d3, d4 = (session.get(Deal, asin(i)) for i in (1, 2, 3, 4))
        assert d1 and d1.next_refresh_at == T0 and d1.priority == policy.HOT
        assert d2 and d2.priority == policy.UNPROFITABLE + 5
        assert d3 and d3.next_refresh_at == T0 + timedelta(hours=8) and d3.priority == 1
        assert d4 and d4.status == DealStatus.stale


def test_claims_never_overlap_between_workers() -> None:
    with session_scope() as session:
        for i in range(30):
            session.add(
                _deal(
                    asin(i),
                    next_refresh_at=T0 - timedelta(minutes=i),
                    priority=PENDING_PRIORITY if i < 5 else 1,
                )
            )
    with session_scope() as a, session_scope() as b:
        first = claim_due(a, T0, 10)
        second = claim_due(b, T0, 10)
        again = claim_due(a, T0, 100)
    got = [d.asin for d in first] + [d.asin for d in second] + [d.asin for d in again]
    assert len(got) == len(set(got)) == 30
    assert {asin(i) for i in range(5)} <= {d.asin for d in first}  # pending first


def test_batch_size_follows_the_balance_above_the_floor() -> None:
    assert batch_size_for(None, 20) == 10  # unsynced: about a minute's refill
    assert batch_size_for(60, 20, floor=50) == 0  # at the floor: wait, never overdraw
    assert batch_size_for(1200, 20, floor=50) == 100  # full bucket: biggest batch
    assert 0 < batch_size_for(90, 5, floor=50) < 20
    # 1 token/min: Keepa's bucket tops out at 60; the processor must still get to spend
    assert batch_size_for(60, 1, floor=50) > 0
    # no tiny tail batches: under half a minute's refill waits for the next refill
    assert batch_size_for(66, 20, floor=50) == 0 and batch_size_for(72, 20, floor=50) >= 5


def test_batch_upsert_writes_the_same_rows_as_upsert_deal(settings: Any) -> None:
    """The processor's executemany writer must store exactly what upsert_deal stores."""
    from sqlalchemy import inspect as sa_inspect

    from tests.unit.deal_builders import NOW, km, product, sales_history
    from tools.db import get_engine
    from tools.deals import analyse_product, upsert_deal
    from tools.models import DealHistory
    from workers.pipeline.processor import upsert_records

    def rec(asin_: str, cents: int) -> Any:
        sales = [(km(2025, 6, 1), 3000), (km(2025, 7, 1), 5000)]
        p = product(**sales_history(sales), current={21: cents})
        p["asin"] = asin_
        return analyse_product(p, now=NOW)

    def rows(session: Session, model: Any) -> list[dict[str, Any]]:
        cols = [c.key for c in sa_inspect(model).mapper.column_attrs]
        return [
            {c: getattr(r, c) for c in cols if c not in ("asin", "created_at")}
            for r in session.exec(select(model)).all()
        ]

    with Session(get_engine(settings)) as s:
        upsert_deal(s, rec("B000000001", 1500), now=NOW)
        upsert_records(s, [(rec("B000000002", 1500), True)], now=NOW)
        s.commit()
        assert len(rows(s, Deal)) == 2
        a, b = rows(s, Deal)
        assert a == b
        ha, hb = rows(s, DealHistory)
        assert ha == hb
        # a stats-only refresh (no history row) updates the deal in place, charts untouched
        upsert_records(s, [(rec("B000000002", 1200), False)], now=NOW)
        s.commit()
        s.expire_all()
        assert s.get(Deal, "B000000002").price_now == 12.0  # type: ignore[union-attr]
        assert len(rows(s, DealHistory)) == 2 and rows(s, DealHistory)[1] == ha


def test_stats_only_refresh_keeps_the_amazon_cap_with_todays_amazon_price() -> None:
    """Stored List at $50 (capped against yesterday's Amazon $60); Amazon now sells new at $40:
    List at must become 0.9 x 40 = $36, and the money follows it."""
    from tools.deals.analytics import DealRecord
    from tools.models import Deal
    from workers.pipeline.processor import merge_history_fields

    stored = Deal(asin="B0CAPCAP01", list_at=50.0, avg_1yr=48.0, seasonality="textbook")
    rec = DealRecord(
        asin="B0CAPCAP01",
        price_now=10.0,
        amazon_new_low=40.0,
        referral_pct=15.0,
        referral_min=0.0,
        fba_fee=3.0,
        closing_fee=1.8,
    )
    merged = merge_history_fields(rec, stored)
    assert merged.list_at == 36.0
    # fees 36 x 15 % + 3.00 + 1.80 = 10.20; cost 10 + 0.50 tax + 2.75 + 3.99 = 17.24
    assert merged.amz_fees == pytest.approx(10.2)
    assert merged.profit == pytest.approx(36.0 - 17.24 - 10.2)


@pytest.mark.parametrize(("flag", "scouts"), [("true", 1), ("false", 0)])
def test_a_starting_worker_scouts_at_once_unless_told_not_to(
    monkeypatch: pytest.MonkeyPatch, redis_url: str, flag: str, scouts: int
) -> None:
    """A fresh install should not wait for beat's first scout tick to show deals."""
    from tools.settings import reset_settings_cache
    from workers import tasks

    monkeypatch.setenv("SCOUT_ON_START", flag)
    reset_settings_cache()
    sent: list[str] = []
    monkeypatch.setattr(
        tasks.scout, "apply_async", lambda *a, **k: sent.append(f"scout:{k.get('queue')}")
    )
    tasks._on_worker_ready()
    assert sent.count("scout:scout") == scouts


def test_a_deal_keepa_keeps_changing_is_not_starved_by_scout_bumps() -> None:
    """Regression (1 token/min bench week: p95 age 143 h): each scout bump reset a changing
    deal's due time to now, so its age boost never grew past BUMP_PRIORITY while every
    unbumped deal climbed above it; the deals Keepa changed most were never fetched again."""
    base = to_keepa_minutes(T0.timestamp())
    clock = SimClock(T0.timestamp())
    with session_scope() as session:
        for i, due_h in ((1, 8), (2, 9)):  # same tier and age; the changing one was due first
            session.add(
                _deal(
                    asin(i),
                    status=DealStatus.active,
                    price_now=10,
                    profit_default=-3,
                    fetched_at=T0,
                    priority=policy.UNPROFITABLE,
                    next_refresh_at=T0 + timedelta(hours=due_h),
                )
            )
        session.commit()
        feed = Feed()
        for h in range(1, 31):  # a busy processor fetches neither; Keepa changes deal 1 hourly
            clock.advance(3600)
            feed.rows = [(asin(1), base + 60 * h)]
            run_scout(feed, session, clock)
            run_refresher(session, clock)
        session.expire_all()
        changing, quiet = session.get(Deal, asin(1)), session.get(Deal, asin(2))
        assert changing is not None and quiet is not None
        # due at its first bump and never pushed back by the later ones
        assert changing.next_refresh_at == T0 + timedelta(hours=1)
        assert changing.priority >= quiet.priority > BUMP_PRIORITY
        now = T0 + timedelta(hours=30)
        assert [d.asin for d in claim_due(session, now, 1)] == [asin(1)]


def test_claim_walks_the_claim_index_instead_of_sorting_every_due_deal() -> None:
    """claim_due on the migrated schema: no temp B-tree (it sorted all due deals per batch)."""
    from sqlalchemy import event

    seen: list[tuple[str, Any]] = []

    def grab(conn: Any, cursor: Any, statement: str, params: Any, *_: Any) -> None:
        if statement.lstrip().upper().startswith("UPDATE DEAL"):
            seen.append((statement, params))

    with session_scope() as session:
        session.add(_deal(asin(1), next_refresh_at=T0, priority=1))
        session.commit()
        engine = session.get_bind()
        event.listen(engine, "before_cursor_execute", grab)
        try:
            assert [d.asin for d in claim_due(session, T0, 5)] == [asin(1)]
        finally:
            event.remove(engine, "before_cursor_execute", grab)
        ((statement, params),) = seen
        plan = " | ".join(
            r[-1]
            for r in session.connection().exec_driver_sql("EXPLAIN QUERY PLAN " + statement, params)
        )
    assert "ix_deal_claim" in plan and "TEMP B-TREE" not in plan, plan


@pytest.mark.postgres
def test_claim_and_scout_bump_on_postgresql(pg_settings: Any) -> None:
    """The UPDATE ... RETURNING claim (FOR UPDATE SKIP LOCKED pick) and the scout's batch
    bump run on PostgreSQL too; two workers never get the same deal."""
    from tools.db import migrate

    migrate(pg_settings)
    base = to_keepa_minutes(T0.timestamp())
    clock = SimClock(T0.timestamp())
    with session_scope(pg_settings) as session:
        for i in range(30):
            session.add(
                _deal(
                    asin(i),
                    next_refresh_at=T0 - timedelta(minutes=i),
                    priority=PENDING_PRIORITY if i < 5 else 1,
                    fetched_at=T0,
                )
            )
    with session_scope(pg_settings) as a, session_scope(pg_settings) as b:
        first, second = claim_due(a, T0, 10), claim_due(b, T0, 10)
        again = claim_due(a, T0, 100)
    got = [d.asin for d in first] + [d.asin for d in second] + [d.asin for d in again]
    assert len(got) == len(set(got)) == 30
    assert {asin(i) for i in range(5)} <= {d.asin for d in first}
    with session_scope(pg_settings) as session:
        r = run_scout(Feed([(asin(7), base + 10)]), session, clock)
        assert r.bumped == 1
        bumped = session.get(Deal, asin(7))
        assert bumped is not None and bumped.priority == BUMP_PRIORITY
        assert bumped.next_refresh_at == T0  # its lease lapsed into "due now", never later


def test_offers_and_stats_prices_are_compared_on_one_basis() -> None:
    """A stats Price Now 15 % above the stored offers one is the basis, not a move: offers
    (6 tokens) are not re-bought at every stats-only refresh; a drop below it is a move."""
    from types import SimpleNamespace

    from workers.pipeline.processor import _offers_due

    offers_at = T0 - timedelta(hours=1)

    def stats(price: float) -> Any:
        return SimpleNamespace(price_now=price, price_now_source="stats", profit=10, roi=30)

    assert not _offers_due(stats(29.48), offers_at, 25.49, T0, "offers")
    assert _offers_due(stats(23.0), offers_at, 25.49, T0, "offers")  # cheaper listing
    assert _offers_due(stats(29.48), offers_at, 25.49, T0, "stats")  # same basis: a move
    assert _offers_due(stats(29.48), T0 - timedelta(hours=25), 25.49, T0, "offers")  # aged
    assert not policy.is_volatile(29.48, 25.49, None, None, old_source="stats", new_source="offers")
    assert policy.is_volatile(25.49, 29.48, None, None, old_source="stats", new_source="offers")


def test_a_deal_with_only_the_plain_used_price_gets_its_offers_bought(settings: Any) -> None:
    """Stats with no used-by-condition price (only Keepa's plain used price, without shipping)
    give no Price Now; the processor buys the offers instead of leaving the deal unpriced."""
    from types import SimpleNamespace

    from tests.unit.deal_builders import NOW, km, offer, product, sales_history
    from workers.pipeline.common import insert_pending
    from workers.pipeline.processor import run_processor

    sales = [(km(2025, m, 10), 3000) for m in (2, 4, 6, 8, 10, 12)]
    calls: list[int | None] = []

    class Scripted:
        def products(self, asins: list[str], **kw: Any) -> Any:
            calls.append(kw.get("offers"))
            p = product(
                asin=asins[0],
                **sales_history(sales),
                current={2: 900, 12: 3},
                offers=[offer(1500, 399, condition=4)] if kw.get("offers") else None,
            )
            return SimpleNamespace(products=[p], errors=[], missing=[], tokens_consumed=1)

        def seller(self, ids: Any, **kw: Any) -> dict[str, Any]:
            return {}

    clock = SimClock(NOW.timestamp())
    with session_scope() as session:
        insert_pending(session, [{"asin": "0000000001"}], now=NOW, priority=PENDING_PRIORITY)
        session.commit()
        run_processor(Scripted(), session, clock, batch_size=10)
        deal = session.get(Deal, "0000000001")
        assert calls == [None, 20]  # stats first, then the offers
        assert deal is not None and deal.price_now == pytest.approx(18.99)
        assert deal.price_now_source == "offers" and deal.profit_default is not None


def test_a_batch_interrupted_by_a_stop_leaves_its_deals_due_at_once(settings: Any) -> None:
    """A stopping worker gives back the leases of the batch it could not finish: the next
    worker start takes those deals at once, not when the 10-minute lease runs out."""
    from tools import shutdown
    from workers.pipeline.common import insert_pending
    from workers.pipeline.processor import run_processor

    class Stopping:
        def products(self, asins: list[str], **kw: Any) -> Any:
            raise shutdown.Stopped("the process is stopping")

    clock = SimClock(T0.timestamp())
    with session_scope() as session:
        insert_pending(session, [{"asin": asin(i)} for i in range(3)], now=T0, priority=100)
        session.commit()
        with pytest.raises(shutdown.Stopped):
            run_processor(Stopping(), session, clock, batch_size=10)
    with session_scope() as session:
        assert sorted(d.asin for d in claim_due(session, T0, 10)) == [asin(i) for i in range(3)]
