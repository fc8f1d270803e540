"""Deterministic verdicts per persona and Ava's 50-80 word advice."""

from __future__ import annotations

from typing import Any

import pytest

from agent.advice import ava_advice, ava_verdict
from agent.offline.verdicts import verdict_for
from agent.tools import UserRateLimiter

GOOD: dict[str, Any] = dict(
    asin="B0AAAAAAA1",
    title="Calculus Early Transcendentals",
    price_now=20.0,
    list_at=80.0,
    all_in_cost=27.7,
    profit=35.0,
    roi=126.0,
    margin=43.7,
    sales_rank=45_000,
    rank_drops_30=5,
    rank_drops_90=15,
    rank_drops_365=60,
    seasonality="textbook",
    peak_months=[8, 9, 1],
    percent_down=35.0,
    avg_1yr=70.0,
    deal_trust=85.0,
    inferred_sales_count=12,
    amazon_offer=False,
    gated="not_restricted",
    expected_trough_price=55.0,
)


@pytest.mark.parametrize(
    ("change", "persona", "verdict", "words"),
    [
        ({}, "ava", "buy", "profit"),
        ({"profit": -3.0, "roi": -10.0}, "ava", "pass", "no profit"),
        ({"gated": "restricted"}, "ava", "pass", "gated"),
        ({"list_at": None, "profit": None}, "ava", "watch", "sale price"),
        ({"amazon_offer": True, "roi": 40.0}, "ava", "watch", "Amazon"),
        ({"deal_trust": 30.0}, "ava", "watch", "Deal Trust"),
        # seasonal textbook, high off-season rank, quiet month: its yearly drops still make it a buy
        ({"sales_rank": 900_000, "rank_drops_30": 0, "rank_drops_90": 1}, "ava", "buy", "season"),
        ({"margin": 22.0}, "olyvia", "pass", "22 % margin is too thin; we need 30 %"),
        ({}, "olyvia", "buy", "margin"),
        ({}, "joel", "buy", "rank is dropping fast"),
        ({"rank_drops_30": 0}, "joel", "pass", "not moving"),
        # 5 drops in 30 days and $35 profit, but the seller may not list it: never a buy
        ({"gated": "restricted"}, "joel", "pass", "gated"),
        ({"inferred_sales_count": 1}, "errol", "watch", "sample"),
        ({}, "errol", "buy", "confidence"),
    ],
)
def test_verdict_rules(change: dict[str, Any], persona: str, verdict: str, words: str) -> None:
    got, reasons = verdict_for(persona, {**GOOD, **change})
    assert got == verdict and words in " ".join(reasons)


def test_ava_advice_is_50_to_80_words_and_cites_the_strategy() -> None:
    advice = ava_advice(
        GOOD,
        [
            {
                "ref": "S4",
                "kind": "strategy",
                "text": "IF a textbook is "
                "30% below its yearly average in June THEN buy for August.",
            }
        ],
    )
    n = len(advice.text.split())
    assert 50 <= n <= 80, advice.text
    assert advice.text.startswith("Buy:") and "S4" in advice.text and advice.cited == ["S4"]
    assert "$35.00" in advice.text and "126 %" in advice.text


def test_keepa_lookups_are_limited_per_user() -> None:
    limiter = UserRateLimiter(limit=2, window_s=60)
    assert limiter.check("a", now=0) == 0 and limiter.check("a", now=1) == 0
    assert limiter.check("a", now=2) == pytest.approx(58)
    assert limiter.check("b", now=2) == 0  # another user has their own budget
    assert limiter.check("a", now=61) == 0


def test_ava_passes_on_a_gated_deal_even_without_a_sale_price() -> None:
    verdict, reasons = ava_verdict({"gated": "restricted", "list_at": None, "profit": None})
    assert verdict == "pass" and "gated" in reasons[0]
