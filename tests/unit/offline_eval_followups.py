"""Evaluation set for follow-ups: conversations whose later turns refine, sort, page, point
into or replace the thread's current search (agent/offline/followup.py).

Each chain is (name, turns); each turn is (message, expected):
- a dict: the turn runs search_deals and the thread's search is then exactly these
  `DealSearch.filters()` (defaults never listed);
- (intent, row): the turn asks about one row of the shown page with that tool; row is 1-based,
  -1 the last, "best" the best pick, or a row field name for "the cheapest one" style
  superlatives ("price-", "drops+": lowest / highest);
- (intent, None): the turn is not about the search (e.g. a knowledge question); ("answer",
  None): the model answers without a tool (a change it could not read: the search is kept).

The rows every search "shows" are ROWS below (the scorer fakes the table), so "cheaper ones"
(a price cap at the median price shown, 13.25 -> 13.24) and superlatives have fixed answers.
Cover classes of phrasing (markers, removal verbs, comparatives, ordinals, paging words, new
topic markers, bare filters), not one sentence each.
"""

from __future__ import annotations

from typing import Any

# price, profit, roi, rank, drops30 of the ten rows every fake search shows
ROWS: list[tuple[float, float, float, int, int]] = [
    (12.5, 30.0, 120.0, 150_000, 3),
    (8.0, 12.0, 90.0, 800_000, 1),
    (25.0, 45.0, 110.0, 40_000, 9),
    (5.5, 6.0, 60.0, 2_100_000, 0),
    (18.0, 22.0, 80.0, 300_000, 4),
    (30.0, 51.0, 140.0, 90_000, 2),
    (9.9, 15.0, 95.0, 500_000, 6),
    (14.0, 19.0, 85.0, 250_000, 2),
    (22.0, 28.0, 75.0, 60_000, 5),
    (6.75, 9.0, 70.0, 1_200_000, 1),
]
BEST_ROW = 3  # the fake search's best pick

Expect = dict[str, Any] | tuple[str, int | str | None]
TB30 = {"seasonality": "textbook", "max_price": 30, "min_roi": 40}
TB = {"seasonality": "textbook", "max_price": 30}

# more wordings of the same classes (tried after the rules were written), each after TB
_VARIANTS: list[tuple[str, Expect]] = [
    ("limit those to roi 70% or more", {**TB, "min_roi": 70}),
    ("can you narrow it down to ones with 5+ drops per month", {**TB, "min_drops_30": 5}),
    ("lose the price cap", {"seasonality": "textbook"}),
    ("i don't care about price", {"seasonality": "textbook"}),
    ("same but under $20", {**TB, "max_price": 20}),
    ("raise the price limit to $50", {**TB, "max_price": 50}),
    ("go to page 2", {**TB, "offset": 10}),
    ("next 20 please", {**TB, "offset": 10, "limit": 20}),
    ("results 11 to 20", {**TB, "offset": 10}),
    ("thanks! now sort by margin", {**TB, "sort": "margin"}),
    ("which of these am I allowed to sell", {**TB, "gated": "only_ungated"}),
    ("less expensive ones please", {"seasonality": "textbook", "max_price": 13.24}),
    ("give me your top pick", ("deal_advice", "best")),
    ("is the top one gated for me?", ("check_restriction", 1)),
    ("the most profitable one - should I buy it?", ("deal_advice", "profit+")),
]

FOLLOWUP_CHAINS: list[tuple[str, list[tuple[str, Expect]]]] = [
    # ---- adding a filter, with a marker of continuation
    (
        "add rank with 'only the ones'",
        [
            ("textbooks under $30 with ROI over 40%", TB30),
            ("only the ones under rank 200k", {**TB30, "max_rank": 200_000}),
        ],
    ),
    (
        "add with 'just those'",
        [
            ("deals with profit over $20", {"min_profit": 20}),
            ("just those with at least 3 drops a month", {"min_profit": 20, "min_drops_30": 3}),
        ],
    ),
    (
        "add with a leading 'and'",
        [
            ("nursing books under $40", {"text": "nursing", "max_price": 40}),
            ("and roi over 60%", {"text": "nursing", "max_price": 40, "min_roi": 60}),
        ],
    ),
    (
        "add with 'now only'",
        [
            ("deals under $25", {"max_price": 25}),
            ("now only textbooks", {"max_price": 25, "seasonality": "textbook"}),
        ],
    ),
    (
        "add with 'of those'",
        [
            ("books with margin above 30 percent", {"min_margin": 30}),
            (
                "of those, which have no amazon offer?",
                {"min_margin": 30, "amazon_offer": False},
            ),
        ],
    ),
    (
        "bare filters refine the current search",
        [
            ("calculus textbooks", {"text": "calculus", "seasonality": "textbook"}),
            (
                "rank under 300k",
                {"text": "calculus", "seasonality": "textbook", "max_rank": 300_000},
            ),
            (
                "roi 50%+",
                {
                    "text": "calculus",
                    "seasonality": "textbook",
                    "max_rank": 300_000,
                    "min_roi": 50,
                },
            ),
        ],
    ),
    (
        "'what about' changes the subject words, keeps the rest",
        [
            ("calculus books under $30", {"text": "calculus", "max_price": 30}),
            ("what about chemistry?", {"text": "chemistry", "max_price": 30}),
        ],
    ),
    # ---- changing a filter
    (
        "change a bound with 'make it'",
        [
            ("textbooks under $30", {"seasonality": "textbook", "max_price": 30}),
            ("make it under $20", {"seasonality": "textbook", "max_price": 20}),
        ],
    ),
    (
        "change with 'instead'",
        [
            ("deals ranked under 500k", {"max_rank": 500_000}),
            ("rank under 100k instead", {"max_rank": 100_000}),
        ],
    ),
    (
        "a new bound that contradicts the old one replaces it",
        [
            ("books over $10", {"min_price": 10}),
            ("only the ones under $5", {"max_price": 5}),
        ],
    ),
    # ---- removing a filter
    (
        "remove with a verb and a filter noun",
        [
            ("textbooks under $30 with ROI over 40%", TB30),
            ("drop the price limit", {"seasonality": "textbook", "min_roi": 40}),
        ],
    ),
    (
        "remove with 'any'",
        [
            (
                "deals ranked under 200k with profit over $15",
                {"max_rank": 200_000, "min_profit": 15},
            ),
            ("any rank", {"min_profit": 15}),
        ],
    ),
    (
        "remove with 'forget the ... filter'",
        [
            ("books with roi over 80% under $20", {"min_roi": 80, "max_price": 20}),
            ("forget the roi filter", {"max_price": 20}),
        ],
    ),
    (
        "remove the season with 'not just'",
        [
            ("textbooks with profit over $25", {"seasonality": "textbook", "min_profit": 25}),
            ("not just textbooks", {"min_profit": 25}),
        ],
    ),
    (
        "let gated deals back in",
        [
            ("ungated deals under $15", {"gated": "only_ungated", "max_price": 15}),
            ("include the gated ones too", {"max_price": 15}),  # gated "include" is the default
        ],
    ),
    # ---- sorting
    (
        "sort with a verb and an anaphor",
        [
            ("textbooks under $30", {"seasonality": "textbook", "max_price": 30}),
            (
                "sort those by profit",
                {"seasonality": "textbook", "max_price": 30, "sort": "profit"},
            ),
        ],
    ),
    (
        "order them by rank",
        [
            ("law books", {"category": "Law"}),
            ("order them by rank", {"category": "Law", "sort": "rank"}),
        ],
    ),
    (
        "a comparative means a sort",
        [
            ("deals under $40", {"max_price": 40}),
            ("faster selling ones", {"max_price": 40, "sort": "drops"}),
            ("more profitable ones", {"max_price": 40, "sort": "profit"}),
        ],
    ),
    # ---- paging
    (
        "page N uses the search's page size",
        [
            ("show me 5 textbooks", {"seasonality": "textbook", "limit": 5}),
            ("page 3", {"seasonality": "textbook", "limit": 5, "offset": 10}),
        ],
    ),
    (
        "next page, then previous",
        [
            ("deals under $30", {"max_price": 30}),
            ("next page", {"max_price": 30, "offset": 10}),
            ("show me more", {"max_price": 30, "offset": 20}),
            ("previous page", {"max_price": 30, "offset": 10}),
        ],
    ),
    (
        "next N changes the page size",
        [
            ("medical books", {"category": "Medical Books"}),
            ("next 5", {"category": "Medical Books", "offset": 10, "limit": 5}),
        ],
    ),
    (
        "a refinement after paging starts again at page 1",
        [
            ("deals with roi over 30%", {"min_roi": 30}),
            ("more", {"min_roi": 30, "offset": 10}),
            ("only the ones under $10", {"min_roi": 30, "max_price": 10}),
        ],
    ),
    (
        "back to the first page",
        [
            ("holiday books", {"seasonality": "holiday"}),
            ("page 2", {"seasonality": "holiday", "offset": 10}),
            ("back to the first page", {"seasonality": "holiday"}),
        ],
    ),
    # ---- "which of those ..."
    (
        "which of those can I sell",
        [
            ("Best textbook deals right now", {"seasonality": "textbook"}),
            ("which of those can I sell?", {"seasonality": "textbook", "gated": "only_ungated"}),
        ],
    ),
    (
        "which ones are ungated",
        [
            ("deals over $20 profit", {"min_profit": 20}),
            ("which ones are ungated?", {"min_profit": 20, "gated": "only_ungated"}),
        ],
    ),
    (
        "which of them are textbooks",
        [
            ("books under $25", {"max_price": 25}),
            ("which of them are textbooks?", {"max_price": 25, "seasonality": "textbook"}),
        ],
    ),
    # ---- one row of the page
    (
        "the second one, then a verdict on the first",
        [
            ("textbooks under $30", {"seasonality": "textbook", "max_price": 30}),
            ("the second one", ("get_deal", 2)),
            ("should I buy the first one?", ("deal_advice", 1)),
        ],
    ),
    (
        "gating of one row",
        [
            ("deals under $20", {"max_price": 20}),
            ("can I sell the 3rd one?", ("check_restriction", 3)),
        ],
    ),
    (
        "a number or the last row",
        [
            ("books with roi over 50%", {"min_roi": 50}),
            ("tell me about #4", ("get_deal", 4)),
            ("is the last one worth buying?", ("deal_advice", -1)),
        ],
    ),
    (
        "superlatives pick a row by its numbers",
        [
            ("deals under $40", {"max_price": 40}),
            ("the cheapest one", ("get_deal", "price-")),
            ("Joel, which of those sells fastest?", ("deal_advice", "drops+")),
        ],
    ),
    (
        "the recommendation is the best pick",
        [
            ("textbooks with profit over $10", {"seasonality": "textbook", "min_profit": 10}),
            ("which one should I buy?", ("deal_advice", "best")),
        ],
    ),
    # ---- cheaper / pricier
    (
        "cheaper ones cap the price at the median shown",
        [
            ("textbooks with roi over 40%", {"seasonality": "textbook", "min_roi": 40}),
            ("cheaper ones", {"seasonality": "textbook", "min_roi": 40, "max_price": 13.24}),
        ],
    ),
    # ---- a new topic starts fresh
    (
        "a full question with its own subject is a new search",
        [
            ("textbooks under $30 with ROI over 40%", TB30),
            ("nursing books under $40", {"text": "nursing", "max_price": 40}),
        ],
    ),
    (
        "a new-topic marker",
        [
            ("deals under $15 with roi over 100%", {"max_price": 15, "min_roi": 100}),
            ("start over: law books", {"category": "Law"}),
        ],
    ),
    (
        "forget that",
        [
            ("exam prep books", {"seasonality": "exam_prep"}),
            (
                "forget that, show me medical books over $10",
                {"category": "Medical Books", "min_price": 10},
            ),
        ],
    ),
    (
        "a change it cannot read keeps the search instead of starting a bare one",
        [
            ("textbooks under $30", {"seasonality": "textbook", "max_price": 30}),
            ("only the good ones", ("answer", None)),
            (
                "sort those by profit",
                {"seasonality": "textbook", "max_price": 30, "sort": "profit"},
            ),
        ],
    ),
    (
        "a joining word before a question of its own",
        [
            ("deals under $30", {"max_price": 30}),
            ("now what is deal trust?", ("search_knowledge", None)),
            ("page 2", {"max_price": 30, "offset": 10}),
        ],
    ),
    (
        "a knowledge question leaves the search alone",
        [
            ("textbooks under $30", {"seasonality": "textbook", "max_price": 30}),
            ("why does seasonality matter?", ("search_knowledge", None)),
            (
                "sort those by margin",
                {"seasonality": "textbook", "max_price": 30, "sort": "margin"},
            ),
        ],
    ),
    # ---- more wordings of the same classes (tried after the rules were written)
    *(
        (f"variant: {said}", [("textbooks under $30", TB), (said, want)])
        for said, want in _VARIANTS
    ),
]
