"""bench/freshness.py runs end to end on a tiny market and reports consistent numbers."""

from __future__ import annotations

import importlib.util
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from sqlmodel import Session, SQLModel

from tools.clock import SimClock
from tools.db import make_engine
from tools.deals.analytics import analyse_product
from tools.models import Deal, DealStatus
from tools.sandbox.keepa import SandboxMarket

BENCH = Path(__file__).resolve().parents[2] / "bench" / "freshness.py"


def _load() -> Any:
    spec = importlib.util.spec_from_file_location("freshness_bench", BENCH)
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    sys.modules["freshness_bench"] = mod
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.timeout(60)
def test_quick_bench_reports_both_designs_with_real_token_accounting() -> None:
    bench = _load()
    out = bench.run_bench(days=2 / 24, products=150, rates=[20], jobs=1)
    run = out["runs"]["20_tokens_per_min"]
    assert run["catalogue"] > 0
    for design in ("ours", "baseline"):
        r = run[design]
        assert r["http_429"] == 0
        assert r["tokens_by_purpose"].get("scout", 0) > 0  # /deal/ pages were paid for
        assert r["tokens_total"] == sum(r["tokens_by_purpose"].values())
        assert 0 < r["coverage_pct"] <= 100
        assert r["covered"] <= run["catalogue"]
        assert r["median_age_h"] is not None and r["median_age_h"] <= r["p95_age_h"] <= 2.0
        # judged against the market's truth on the hour and at the end
        truth = r["truth"]
        assert [x["h"] for x in truth["hourly"]][-1] >= 2.0 and len(truth["hourly"]) == 2
        assert truth["bound_violations"] == 0
        for x in truth["hourly"]:
            assert x["matched"] > 0 and x["truly_profitable"] <= x["matched"]
            for k in ("precision_pct", "recall_pct"):
                assert x[k] is None or 0 <= x[k] <= 100
    # the baseline buys offers for every deal; ours fetches stats first
    assert run["baseline"]["tokens_by_purpose"].get("processor-offers", 0) == 0
    assert run["budget"]["tokens_per_day"] == 20 * 1440


def test_judge_scores_the_database_against_the_market_truth(tmp_path: Path) -> None:
    """Precision, recall and ages of one sample, with "truly profitable" taken independently:
    the processor's own analysis of a fresh /product/ answer with every live offer."""
    bench = _load()
    clock = SimClock(bench.START)
    market = SandboxMarket(n_products=600, seed=7, clock=clock)
    judge = bench.Judge(SimpleNamespace(market=market, clock=clock))
    matched = market.deal_asins(judge.selection)
    now = datetime.fromtimestamp(clock.now(), UTC)
    fresh = market.products(matched, stats=365, offers=100, update=0)
    profit = {
        p["asin"]: analyse_product(p, now=now, validate=False).profit
        for p, _ in (x for x in fresh if x)
    }
    good = sorted(a for a, p in profit.items() if p is not None and p > 0)
    bad = sorted(a for a, p in profit.items() if p is not None and p <= 0)
    assert len(good) >= 3 and len(bad) >= 2
    engine = make_engine(f"sqlite:///{tmp_path / 'judge.db'}")
    SQLModel.metadata.create_all(engine)
    shown_ok = good[:-1]  # the last truly profitable product is not in the database
    with Session(engine) as s:
        for k, asin in enumerate(shown_ok):
            s.add(_deal(asin, profit=5.0, price=1.0, fetched=now - timedelta(hours=k)))
        # shown as profitable at a price that is gone; and one not shown at all
        s.add(_deal(bad[0], profit=10.0, price=0.5, fetched=now - timedelta(hours=30)))
        s.add(_deal(bad[1], profit=-1.0, price=50.0, fetched=now))
        s.commit()
        judge.sample(s)
    x = judge.samples[-1]
    n = len(shown_ok)
    assert x["matched"] == len(matched) and x["shown"] == n + 1
    assert x["truly_profitable"] == len(good)
    assert x["precision_pct"] == round(100 * n / (n + 1), 2)
    assert x["recall_pct"] == round(100 * n / len(good), 2)
    ages = sorted([*range(n), 30])
    assert x["median_age_shown_h"] == ages[(len(ages) + 1) // 2 - 1]  # nearest rank
    assert judge.why == {"missed_not_in_database": 1, "shown_but_price_rose": 1}
    assert judge.bound_violations == 0


def _deal(asin: str, *, profit: float, price: float, fetched: datetime) -> Deal:
    return Deal(
        asin=asin,
        status=DealStatus.active,
        profit_default=profit,
        price_now=price,
        list_at=price + 40,
        referral_pct=15.0,
        referral_min=0.0,
        fba_fee=3.22,
        closing_fee=1.8,
        fetched_at=fetched,
    )
