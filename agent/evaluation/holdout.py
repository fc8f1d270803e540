"""A second fresh set, written after the parser changes of issue 17 and scored once before any
fix, to measure how the classes of phrasing generalize (the first fresh set,
agent/evaluation/fresh.py, was used to build them). Same conventions as that set.

`HOLDOUT_SET`: (class, question, expected `DealSearch.filters()`).
`HOLDOUT_UNUSED`: (question, expected filters, words the answer must say it did not use).
"""

from __future__ import annotations

from typing import Any

HOLDOUT_SET: list[tuple[str, str, dict[str, Any]]] = [
    # ---- ranges
    ("range", "anything priced $7 to $14", {"min_price": 7, "max_price": 14}),
    ("range", "roi somewhere between 25% and 45%", {"min_roi": 25, "max_roi": 45}),
    ("range", "profit from $8 up to $20", {"min_profit": 8, "max_profit": 20}),
    ("range", "ranked from 10,000 to 90,000", {"min_rank": 10_000, "max_rank": 90_000}),
    ("range", "margins 15-25%", {"min_margin": 15, "max_margin": 25}),
    ("range", "books in the $30-50 range", {"min_price": 30, "max_price": 50}),
    # ---- half off / fractions
    ("half_off", "stuff going for half off", {"min_percent_down": 50}),
    ("half_off", "law books at half the usual price", {"category": "Law", "min_percent_down": 50}),
    ("half_off", "a quarter off or more", {"min_percent_down": 25}),
    ("half_off", "at least 70% off average", {"min_percent_down": 70}),
    # ---- percent dropped
    ("pct_dropped", "whose price has dropped by 35% or more", {"min_percent_down": 35}),
    ("pct_dropped", "price drops of at least 20%", {"min_percent_down": 20}),
    ("pct_dropped", "books that fell 40%", {"min_percent_down": 40}),
    (
        "pct_dropped",
        "textbooks with a 25% price drop",
        {"seasonality": "textbook", "min_percent_down": 25},
    ),
    # ---- comparison signs
    ("signs", "profit>10", {"min_profit": 10}),
    ("signs", "price<=30 roi>=40", {"max_price": 30, "min_roi": 40}),
    ("signs", "rank ≤ 75k", {"max_rank": 75_000}),
    ("signs", "margin ≥ 30%", {"min_margin": 30}),
    ("signs", "roi ≥ 150%", {"min_roi": 150}),
    ("signs", "drops>=6", {"min_drops_30": 6}),
    # ---- comparison words
    ("words", "profit not less than $12", {"min_profit": 12}),
    ("words", "priced no higher than $16", {"max_price": 16}),
    ("words", "roi of no less than 35 percent", {"min_roi": 35}),
    ("words", "a rank no worse than 400k", {"max_rank": 400_000}),
    ("words", "margin at a minimum of 20%", {"min_margin": 20}),
    ("words", "cost under twenty dollars", {"max_price": 20}),
    # ---- verbs
    ("verbs", "what's worth sourcing under $12?", {"max_price": 12}),
    ("verbs", "anything I should flip with profit over $25?", {"min_profit": 25}),
    ("verbs", "which nursing books are worth buying?", {"text": "nursing"}),
    ("verbs", "what can I resell for a 50% roi", {"min_roi": 50}),
    # ---- publishers and authors
    ("publisher", "books put out by Cengage", {"publisher": "cengage"}),
    (
        "publisher",
        "anything published by Oxford University Press",
        {"publisher": "oxford university press"},
    ),
    ("publisher", "Wiley titles under $25", {"publisher": "wiley", "max_price": 25}),
    (
        "publisher",
        "deals from Macmillan with roi over 30%",
        {"publisher": "macmillan", "min_roi": 30},
    ),
    ("author", "authored by Mankiw", {"author": "mankiw"}),
    ("author", "author is Hewitt", {"author": "hewitt"}),
    # ---- sorts
    ("sorts", "cheapest ones first", {"sort": "price"}),
    ("sorts", "show the least expensive textbooks", {"sort": "price", "seasonality": "textbook"}),
    ("sorts", "sorted by best sales rank", {"sort": "rank"}),
    ("sorts", "most recently updated first", {"sort": "newest"}),
    ("sorts", "largest price drop first", {"sort": "percent_down"}),
    # ---- velocity
    ("velocity", "at least 4 sales/month", {"min_drops_30": 4}),
    ("velocity", "2+ drops per mo", {"min_drops_30": 2}),
    ("velocity", "sells 6x a month or more", {"min_drops_30": 6}),
    ("velocity", "15+ sales/yr", {"min_drops_365": 15}),
    # ---- condition
    ("condition", "very good copies only", {"condition": "very_good"}),
    (
        "condition",
        "books in good condition under 10 dollars",
        {"condition": "good", "max_price": 10},
    ),
    # ---- combinations
    (
        "combo",
        "Elsevier nursing books, rank<200k, cheapest first",
        {"publisher": "elsevier", "text": "nursing", "max_rank": 200_000, "sort": "price"},
    ),
    (
        "combo",
        "half off textbooks with 3+ sales/mo and roi ≥ 50%",
        {"min_percent_down": 50, "seasonality": "textbook", "min_drops_30": 3, "min_roi": 50},
    ),
]

HOLDOUT_UNUSED: list[tuple[str, dict[str, Any], list[str]]] = [
    ("books under $20 with at least 4 stars", {"max_price": 20}, ["4 stars"]),
    ("first edition hardcovers", {}, ["hardcovers"]),
    (
        "textbooks in Spanish under $15",
        {"seasonality": "textbook", "text": "spanish", "max_price": 15},
        [],
    ),
    ("deals shipped from California", {}, ["California"]),
    ("roi over 40% from sellers with 98% feedback", {"min_roi": 40}, ["feedback"]),
]
