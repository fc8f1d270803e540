"""Independent evaluation set for the offline model's question parser.

Written blind by a second person (without reading the parser, then agent/query_parser.py, or
agent/evaluation/own.py) to catch a parser overfit to its author's own questions. Only
*conventions* were aligned afterwards with the first set (see its docstring): "textbooks" ->
seasonality "textbook"; subject words / authors -> lower-case text; shelf names (medical,
computers/programming, ...) -> Amazon's books sub-category; a question naming one ASIN/ISBN is a
single-deal request (intent + identifier), not a search. Wording was not changed.

`INDEPENDENT_SET`: (question, expected `DealSearch.filters()`), default values never listed.
`INDEPENDENT_ID_SET`: (question, expected intent, expected ASIN) for identifier questions.
"""

from __future__ import annotations

from typing import Any

INDEPENDENT_SET: list[tuple[str, dict[str, Any]]] = [
    (
        "show me textbooks under $30 with at least 40% roi",
        {"seasonality": "textbook", "max_price": 30, "min_roi": 40},
    ),
    ("whats selling fastest rn thats ungated for me", {"sort": "drops", "gated": "only_ungated"}),
    ("top 5 deals by profit", {"sort": "profit", "limit": 5}),
    ("any books with roi over 100%?", {"min_roi": 100}),
    ("nursing books under 25 bucks", {"text": "nursing", "max_price": 25}),
    ("deals with profit at least $15 and rank below 500k", {"min_profit": 15, "max_rank": 500_000}),
    ("hide gated stuff, sort by margin", {"gated": "exclude", "sort": "margin"}),
    ("show me 20 deals that sell at least 3 times a month", {"limit": 20, "min_drops_30": 3}),
    ("buys under $8 with 30%+ roi", {"max_price": 8, "min_roi": 30}),
    ("books at least 50% below their yearly avg", {"min_percent_down": 50}),
    ("biggest discounts vs the 1yr avg", {"sort": "percent_down"}),
    (
        "exam prep books that are in season right now",
        {"seasonality": "exam_prep", "in_peak_now": True},
    ),
    ("which ones peak in january?", {"peak_month": 1}),
    ("holiday books with no amazon offer", {"seasonality": "holiday", "amazon_offer": False}),
    ("like new copies only, profit over $20", {"condition": "like_new", "min_profit": 20}),
    (
        "calculus textbooks with roi > 50",
        {"seasonality": "textbook", "text": "calculus", "min_roi": 50},
    ),
    ("deals updated in the last 6 hours", {"updated_within_hours": 6}),
    ("newest deals", {"sort": "newest"}),
    (
        "show me the newest 15 deals that i can sell",
        {"sort": "newest", "limit": 15, "gated": "only_ungated"},
    ),
    (
        "rank under 1m, at least 2 drops in 30 days, profit 45+, roi 20%+",
        {"max_rank": 1_000_000, "min_drops_30": 2, "min_profit": 45, "min_roi": 20},
    ),
    ("price between $10 and $25", {"min_price": 10, "max_price": 25}),
    ("margin at least 30%", {"min_margin": 30}),
    ("Joel, what's flipping fastest?", {"sort": "drops"}),
    ("Olyvia, show me deals with 30% margin or better", {"min_margin": 30}),
    ("errol give me the top 10 by roi with bsr under 200k", {"max_rank": 200_000}),
    (
        "exclude restricted books and only ones where amazon isn't selling",
        {"gated": "exclude", "amazon_offer": False},
    ),
    (
        "include unprofitable deals too, sorted by rank",
        {"include_unprofitable": True, "sort": "rank"},
    ),
    ("show me results 21 to 30 by profit", {"offset": 20, "sort": "profit"}),
    ("stuff that sells year round with roi above 25", {"seasonality": "year_round", "min_roi": 25}),
    ("summer reading books under $12", {"seasonality": "summer", "max_price": 12}),
    (
        "textbooks that peak in august, ungated",
        {"seasonality": "textbook", "peak_month": 8, "gated": "only_ungated"},
    ),
    ("very good condition, under 15 dollars", {"condition": "very_good", "max_price": 15}),
    (
        "acceptable condition books with at least $10 proft",
        {"condition": "acceptable", "min_profit": 10},
    ),
    (
        "chemistry txtbooks roi 40%+",
        {"seasonality": "textbook", "text": "chemistry", "min_roi": 40},
    ),
    ("books with sales rank below 100,000", {"max_rank": 100_000}),
    ("bsr < 250k and sold 10+ times in last 90 days", {"max_rank": 250_000, "min_drops_90": 10}),
    ("at least 20 rank drops over the past year", {"min_drops_365": 20}),
    ("profit between 10 and 50 dollars", {"min_profit": 10, "max_profit": 50}),
    ("roi under 200% please, the crazy ones are usually errors", {"max_roi": 200}),
    (
        "deals with no amazon on the listing, 3 sales per month, top 25",
        {"amazon_offer": False, "min_drops_30": 3, "limit": 25},
    ),
    (
        "show deals in the Medical Books category under $50",
        {"category": "Medical Books", "max_price": 50},
    ),
    ("books by stephen king under $10", {"text": "stephen king", "max_price": 10}),
    ("harry potter books that are 30% below avg", {"text": "harry potter", "min_percent_down": 30}),
    ("show me 3 deals", {"limit": 3}),
    ("best roi deals i'm allowed to sell", {"gated": "only_ungated"}),
    ("most profitable deals with amazon on the listing", {"sort": "profit", "amazon_offer": True}),
    ("deals updated in past 2 days with roi 50%+", {"updated_within_hours": 48, "min_roi": 50}),
    ("max price $50 min roi 35", {"max_price": 50, "min_roi": 35}),
    (
        "textbooks in peak season under 60 bucks, top 8",
        {"seasonality": "textbook", "in_peak_now": True, "max_price": 60, "limit": 8},
    ),
    ("margin 35%+ and rank under 300k", {"min_margin": 35, "max_rank": 300_000}),
    ("gimme 50 deals sorted by biggest % drop", {"limit": 50, "sort": "percent_down"}),
    ("profit > $5 and price < $5", {"min_profit": 5, "max_price": 5}),
    ("books over $100 with roi above 20", {"min_price": 100, "min_roi": 20}),
    ("roi of atleast 60 percent and profit 25+", {"min_roi": 60, "min_profit": 25}),
    (
        "programming books with at least 5 sales a month",
        {"category": "Computers & Technology", "min_drops_30": 5},
    ),
    (
        "used textbooks under 20 that sell at least once a month, no gated ones",
        {"seasonality": "textbook", "max_price": 20, "min_drops_30": 1, "gated": "exclude"},
    ),
    ("anything peaking in september with profit over 30", {"peak_month": 9, "min_profit": 30}),
    ("holidy gift books i can sell", {"seasonality": "holiday", "gated": "only_ungated"}),
]

INDEPENDENT_ID_SET: list[tuple[str, str, str]] = [
    ("is B07XJ8C8F5 a good deal?", "deal_advice", "B07XJ8C8F5"),
    ("look up isbn 9780134685991", "get_deal", "0134685997"),
]
