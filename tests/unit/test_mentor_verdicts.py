"""Each mentor's verdict states the rule that decided it (issue 17, item 5).

For every persona, a deal is built to trip each of its rules in turn; the verdict must name
that rule's reason with the deal's own numbers, and the whole answer must not give another
rule's reason (a gated pass once said "expected value is not positive ... ROI 235 %", and Joel
asked for "4+ drops a month" about a book with 10).
"""

from __future__ import annotations

from typing import Any

import pytest

from agent.offline.parser import parse_filters
from agent.offline.templates import deal_take
from agent.offline.verdicts import call_for

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
    seasonality="year_round",
    peak_months=[],
    percent_down=35.0,
    avg_1yr=70.0,
    deal_trust=85.0,
    inferred_sales_count=12,
    amazon_offer=False,
    gated="not_restricted",
    expected_trough_price=55.0,
)
GATED_BUT_GREAT = {"gated": "restricted", "roi": 235.0, "profit": 60.0, "rank_drops_30": 10}
NO_PRICE = {"list_at": None, "profit": None, "roi": None, "margin": None}
LOSES = {"profit": -4.0, "roi": -14.0, "margin": -6.0}

# what each rule's reason says; an answer decided by one rule must not say another's
SIGNATURE = {
    "gated": "gated",
    "no_value": ("no reliable sale price", "cannot value", "expected value unknown"),
    "loses_money": ("loses money", "negative", "no profit at this price"),
    "no_profit": "no profit in it",
    "thin_margin": "too thin",
    "amazon": "Amazon on the listing is a pricing risk",
    "low_trust": "under my 70 % floor",
    "fast": "dropping fast",
    "slow": ("I want 4+", "under the buy line", "too few rank drops"),
    "dead": "not moving",
    "low_confidence": "sample too small",
    "below_line": "under the 30 % buy line",
}

CASES: list[tuple[str, dict[str, Any], str, str, str]] = [
    # persona, change, verdict, rule, words the reason must hold (the deal's own numbers)
    ("olyvia", GATED_BUT_GREAT, "pass", "gated", "not approved"),
    ("olyvia", NO_PRICE, "pass", "no_value", "cannot value"),
    ("olyvia", LOSES, "pass", "loses_money", "-$4.00"),
    ("olyvia", {"margin": 22.4}, "pass", "thin_margin", "22 % margin is too thin; we need 30 %"),
    ("olyvia", {"amazon_offer": True}, "watch", "amazon", "Amazon"),
    ("olyvia", {"deal_trust": 55.0}, "watch", "low_trust", "Deal Trust 55 %"),
    ("olyvia", {}, "buy", "clears", "44 % margin and 126 % ROI"),
    ("joel", GATED_BUT_GREAT, "pass", "gated", "can't flip what you can't list"),
    ("joel", LOSES, "pass", "no_profit", "don't flip for free"),
    ("joel", {"rank_drops_30": 10}, "buy", "fast", "10 drops in 30 days"),
    (
        "joel",
        {"rank_drops_30": 2, "rank_drops_90": 10},
        "watch",
        "slow",
        "2 drops in 30 days (10 in 90)",
    ),
    ("joel", {"rank_drops_30": 1, "rank_drops_90": 2}, "watch", "slow", "only 1 drop in 30 days"),
    (
        "joel",
        {"rank_drops_30": None, "rank_drops_90": 10},
        "watch",
        "slow",
        "about 3 a month (10 drops in 90 days)",
    ),
    ("joel", {"rank_drops_30": 0, "rank_drops_90": 0}, "pass", "dead", "0 drops in 30 days"),
    ("errol", GATED_BUT_GREAT, "pass", "gated", "expected value is zero"),
    ("errol", NO_PRICE, "watch", "no_value", "expected value unknown"),
    ("errol", LOSES, "pass", "loses_money", "profit -$4.00"),
    ("errol", {"inferred_sales_count": 1}, "watch", "low_confidence", "1 inferred sale)"),
    ("errol", {"roi": 22.0}, "watch", "below_line", "ROI 22 %"),
    (
        "errol",
        {"rank_drops_30": 1, "rank_drops_90": 2, "rank_drops_365": 3},
        "watch",
        "slow",
        "1/30d",
    ),
    ("errol", {}, "buy", "clears", "ROI 126 % at high confidence"),
    ("evelyn", GATED_BUT_GREAT, "pass", "gated", "not approved"),
    ("evelyn", NO_PRICE, "watch", "no_value", "no reliable sale price"),
    ("evelyn", LOSES, "pass", "loses_money", "-$4.00"),
    ("evelyn", {"amazon_offer": True, "roi": 40.0}, "watch", "amazon", "Amazon"),
    ("evelyn", {"deal_trust": 30.0}, "watch", "low_trust", "Deal Trust is only 30 %"),
    ("evelyn", {"rank_drops_30": 0, "rank_drops_90": 1}, "watch", "slow", "too few rank drops"),
    ("evelyn", {}, "buy", "buy", "$35.00 profit at 126 % ROI"),
]


@pytest.mark.parametrize(("persona", "change", "verdict", "rule", "words"), CASES)
def test_the_stated_reason_is_the_rule_that_decided(
    persona: str, change: dict[str, Any], verdict: str, rule: str, words: str
) -> None:
    deal = {**GOOD, **change}
    call = call_for(persona, deal)
    assert (call.verdict, call.rule) == (verdict, rule), call
    assert words in call.reason, call.reason
    answer = deal_take(persona, deal, [])
    assert call.reason[1:] in answer  # the answer gives the reason (capitalized or not)
    for other, said in SIGNATURE.items():
        if other != rule and not (rule == "gated" and other == "no_value"):
            for phrase in (said,) if isinstance(said, str) else said:
                assert phrase not in answer, (other, phrase, answer)


def test_every_rule_of_every_mentor_is_tripped() -> None:
    rules = {
        "olyvia": {
            "gated",
            "no_value",
            "loses_money",
            "thin_margin",
            "amazon",
            "low_trust",
            "clears",
        },
        "joel": {"gated", "no_profit", "fast", "slow", "dead"},
        "errol": {
            "gated",
            "no_value",
            "loses_money",
            "low_confidence",
            "below_line",
            "slow",
            "clears",
        },
        "evelyn": {"gated", "no_value", "loses_money", "amazon", "low_trust", "slow", "buy"},
    }
    for persona, want in rules.items():
        assert {rule for p, _, _, rule, _ in CASES if p == persona} == want, persona


def test_joel_speaks_of_the_drops_the_deal_has() -> None:
    """A gated book with 10 drops a month: Joel passes on gating and asks for no drops."""
    answer = deal_take("joel", {**GOOD, **GATED_BUT_GREAT}, [])
    assert answer.startswith("Pass. It's gated for you")
    assert "10 drops in 30 days" in answer and "I want" not in answer


def test_olyvias_own_question_is_a_margin_not_dollars() -> None:
    assert parse_filters("Olyvia, which deals clear a 30% margin?").filters() == {
        "min_margin": 30.0
    }
    assert parse_filters("deals that clear $30").filters() == {"min_profit": 30.0}
    assert parse_filters("clear a 40% roi").filters() == {"min_roi": 40.0}
