"""bench/freshness.py runs end to end on a tiny market and reports consistent numbers."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

import pytest

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
    # the baseline buys offers for every deal; ours fetches stats first
    assert run["baseline"]["tokens_by_purpose"].get("processor-offers", 0) == 0
    assert run["budget"]["tokens_per_day"] == 20 * 1440
