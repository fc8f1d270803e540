"""A fresh evaluation set for the offline parser, by class of phrasing (issue 17, item 2).

Written before the parser changes of issue 17, from the phrasings a seller uses and the
parser's own sets do not hold: ranges, "half off", "at least N% dropped", comparison signs
(ASCII and unicode), verbs ("worth flipping?"), publishers and authors, the sorts a seller
expects, velocity shorthand ("3+ sales/mo"), conditions, and combinations. Each class has
several wordings, so a parser that learns the examples and not the class fails here.

Conventions are the other sets' (agent/evaluation/own.py docstring), plus:
- a publisher ("from Pearson", "published by Wiley", a well-known publisher's name before a
  book noun) -> ``publisher`` (lower case); "written by X" / "author X" -> ``author`` (lower
  case); "by X" alone stays ``text`` (title or author), as in the other sets;
- "cheapest first" / "lowest price first" / "by price" -> sort "price"; "best rank" -> "rank";
  "biggest drop" / "most below average" -> "percent_down"; "newest" -> "newest";
- "half off" / "half price" -> min_percent_down 50; "N% dropped" / "dropped N%" (a price) ->
  min_percent_down N;
- a rank range "between A and B" -> min_rank A, max_rank B;
- "sales/mo", "sales a month" -> min_drops_30; "per week" x 4 (as the other sets).

`FRESH_SET`: (class, question, expected `DealSearch.filters()`).
`FRESH_UNUSED`: (question, expected filters, words the answer must say it did not use).
"""

from __future__ import annotations

from typing import Any

FRESH_SET: list[tuple[str, str, dict[str, Any]]] = [
    # ---- ranges
    ("range", "books between $12 and $18", {"min_price": 12, "max_price": 18}),
    ("range", "price from 5 to 9 dollars", {"min_price": 5, "max_price": 9}),
    ("range", "roi from 40% to 80%", {"min_roi": 40, "max_roi": 80}),
    ("range", "margin between 20 and 35 percent", {"min_margin": 20, "max_margin": 35}),
    ("range", "profit of $15-$30", {"min_profit": 15, "max_profit": 30}),
    (
        "range",
        "rank between 50k and 400k",
        {"min_rank": 50_000, "max_rank": 400_000},
    ),
    ("range", "textbooks $20–$40", {"seasonality": "textbook", "min_price": 20, "max_price": 40}),
    ("range", "deals costing 10 to 15 bucks", {"min_price": 10, "max_price": 15}),
    (
        "range",
        "between 25 and 60 dollars with roi over 30%",
        {"min_price": 25, "max_price": 60, "min_roi": 30},
    ),
    # ---- half off / percent off
    ("half_off", "anything half off?", {"min_percent_down": 50}),
    ("half_off", "textbooks at half price", {"seasonality": "textbook", "min_percent_down": 50}),
    ("half_off", "books selling for half their average", {"min_percent_down": 50}),
    ("half_off", "deals 60% off or more", {"min_percent_down": 60}),
    ("half_off", "at least 35% off the yearly average", {"min_percent_down": 35}),
    ("half_off", "nursing books more than half off", {"text": "nursing", "min_percent_down": 50}),
    # ---- percent dropped
    ("pct_dropped", "books whose price dropped at least 30%", {"min_percent_down": 30}),
    ("pct_dropped", "at least 40% dropped", {"min_percent_down": 40}),
    ("pct_dropped", "price fell by 25% or more", {"min_percent_down": 25}),
    ("pct_dropped", "deals down 45%+ from average", {"min_percent_down": 45}),
    (
        "pct_dropped",
        "textbooks that dropped 20 percent in price",
        {"seasonality": "textbook", "min_percent_down": 20},
    ),
    ("pct_dropped", "prices cut by at least a third", {"min_percent_down": 33}),
    # ---- comparison signs, ASCII and unicode
    ("signs", "deals with roi>=100%", {"min_roi": 100}),
    ("signs", "roi≥100", {"min_roi": 100}),
    ("signs", "profit ≥ $20", {"min_profit": 20}),
    ("signs", "price ≤ 12", {"max_price": 12}),
    ("signs", "rank<300k", {"max_rank": 300_000}),
    ("signs", "margin >= 25 %", {"min_margin": 25}),
    ("signs", "roi => 50", {"min_roi": 50}),
    ("signs", "price < $9 and profit > $10", {"max_price": 9, "min_profit": 10}),
    ("signs", "bsr ≤ 150,000", {"max_rank": 150_000}),
    ("signs", "drops ≥ 4", {"min_drops_30": 4}),
    ("signs", "roi ≧ 70 and price ≦ 25", {"min_roi": 70, "max_price": 25}),
    # ---- comparison words
    ("words", "no more than $25", {"max_price": 25}),
    ("words", "roi no less than 45%", {"min_roi": 45}),
    ("words", "price not over 18 dollars", {"max_price": 18}),
    ("words", "profit of at least 12 dollars", {"min_profit": 12}),
    ("words", "$30 tops", {"max_price": 30}),
    ("words", "margin of 40% minimum", {"min_margin": 40}),
    ("words", "ranked 250k or lower", {"max_rank": 250_000}),
    ("words", "at most 20 bucks", {"max_price": 20}),
    (
        "words",
        "books under 15 dollars ranked in the top 200000",
        {"max_price": 15, "max_rank": 200_000},
    ),
    # ---- verbs
    ("verbs", "which textbooks are worth flipping?", {"seasonality": "textbook"}),
    ("verbs", "anything worth buying under $10?", {"max_price": 10}),
    ("verbs", "what should I source this week with roi over 60%?", {"min_roi": 60}),
    ("verbs", "what can I flip for $15 profit?", {"min_profit": 15}),
    ("verbs", "good buys under 20 dollars", {"max_price": 20}),
    ("verbs", "is there anything worth flipping in nursing?", {"text": "nursing"}),
    ("verbs", "what's worth picking up at $5 or less", {"max_price": 5}),
    # ---- publishers and authors
    ("publisher", "anything from Pearson", {"publisher": "pearson"}),
    ("publisher", "books published by Wiley under $30", {"publisher": "wiley", "max_price": 30}),
    (
        "publisher",
        "McGraw-Hill textbooks with roi over 50%",
        {"publisher": "mcgraw-hill", "seasonality": "textbook", "min_roi": 50},
    ),
    ("publisher", "Cengage books", {"publisher": "cengage"}),
    ("publisher", "publisher: Elsevier", {"publisher": "elsevier"}),
    ("publisher", "nursing books from Elsevier", {"text": "nursing", "publisher": "elsevier"}),
    ("author", "books written by Stewart", {"author": "stewart"}),
    ("author", "author Campbell, under $40", {"author": "campbell", "max_price": 40}),
    # ---- sorts
    ("sorts", "textbooks, cheapest first", {"seasonality": "textbook", "sort": "price"}),
    ("sorts", "sort by price low to high", {"sort": "price"}),
    ("sorts", "lowest price first", {"sort": "price"}),
    ("sorts", "best rank first", {"sort": "rank"}),
    ("sorts", "order by sales rank", {"sort": "rank"}),
    ("sorts", "biggest drop first", {"sort": "percent_down"}),
    ("sorts", "newest first please", {"sort": "newest"}),
    ("sorts", "most recent deals under $20", {"sort": "newest", "max_price": 20}),
    ("sorts", "highest roi first", {}),  # roi is the default sort: filters() omits it
    # ---- velocity shorthand
    ("velocity", "3+ sales/mo", {"min_drops_30": 3}),
    ("velocity", "at least 5 sales a month", {"min_drops_30": 5}),
    ("velocity", "books with 2 or more sales per month", {"min_drops_30": 2}),
    ("velocity", "10+ drops/90d", {"min_drops_90": 10}),
    ("velocity", "sells 1x/week", {"min_drops_30": 4}),
    ("velocity", "20 sales per year or more", {"min_drops_365": 20}),
    # ---- condition
    ("condition", "textbooks in like new", {"seasonality": "textbook", "condition": "like_new"}),
    ("condition", "like-new condition only", {"condition": "like_new"}),
    (
        "condition",
        "copies in very good condition under $12",
        {"condition": "very_good", "max_price": 12},
    ),
    ("condition", "acceptable copies", {"condition": "acceptable"}),
    # ---- combinations
    (
        "combo",
        "ungated textbooks ≤ $25, roi ≥ 40%, 3+ sales/mo",
        {
            "gated": "only_ungated",
            "seasonality": "textbook",
            "max_price": 25,
            "min_roi": 40,
            "min_drops_30": 3,
        },
    ),
    (
        "combo",
        "Pearson books half off, cheapest first",
        {"publisher": "pearson", "min_percent_down": 50, "sort": "price"},
    ),
    (
        "combo",
        "worth flipping: rank < 100k and profit ≥ $15",
        {"max_rank": 100_000, "min_profit": 15},
    ),
    (
        "combo",
        "like new chemistry books from Wiley between $10 and $30",
        {
            "condition": "like_new",
            "text": "chemistry",
            "publisher": "wiley",
            "min_price": 10,
            "max_price": 30,
        },
    ),
]

FRESH_UNUSED: list[tuple[str, dict[str, Any], list[str]]] = [
    (
        "textbooks under $30 with fewer than 5 offers",
        {"seasonality": "textbook", "max_price": 30},
        ["5 offers"],
    ),
    ("hardcover books under $20", {"max_price": 20}, ["hardcover"]),
    ("books published after 2015 with roi over 40%", {"min_roi": 40}, ["2015"]),
    ("deals with free shipping", {}, ["free shipping"]),
    ("signed first editions under $50", {"max_price": 50}, ["signed"]),
    ("roi over 50% and weighing under 2 pounds", {"min_roi": 50}, ["pounds"]),
]
