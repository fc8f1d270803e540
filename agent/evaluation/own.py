"""Evaluation set for the offline model's question parser: natural deal questions (varied
wording, typos, combinations) and the exact `DealSearch.filters()` expected for each.

Conventions the expectations follow (documented in agent/offline/parser.py):
- "textbooks" -> seasonality "textbook"; subject words / authors / quoted words -> text (lower
  case); shelf names (medical, law, cookbooks, ...) -> Amazon's books sub-category name.
- "that I can sell" / "ungated" / "not gated" -> gated "only_ungated"; "hide/exclude/no gated"
  -> gated "exclude".
- "sells N times a month" -> min_drops_30 N; "a week" multiplies by 4; "a year" -> min_drops_365.
- Default values (limit 10, sort "roi") never appear in filters().
- (issue 17) "from Pearson" / "published by X" -> publisher; "written by X" -> author;
  "cheapest" -> sort "price"; "half off" -> min_percent_down 50; a rank range -> min_rank and
  max_rank; unicode and ASCII comparison signs read like the words.

`EVAL_UNUSED`: questions with a part no filter can express, the filters still expected, and
the words the answer must say it did not use ("I did not use: ...").
"""

from __future__ import annotations

from typing import Any

EVAL_SET: list[tuple[str, dict[str, Any]]] = [
    ("Show me textbooks under $30", {"seasonality": "textbook", "max_price": 30}),
    ("Find deals between 10 and 25 dollars", {"min_price": 10, "max_price": 25}),
    ("Any books with ROI over 50%?", {"min_roi": 50}),
    ("what's got at least $20 profit", {"min_profit": 20}),
    ("deals with margin above 30 percent", {"min_margin": 30}),
    ("rank under 200k please", {"max_rank": 200_000}),
    ("show me stuff in the top 100,000", {"max_rank": 100_000}),
    ("books that sell at least 3 times a month", {"min_drops_30": 3}),
    (
        "nursing textbooks that I can sell",
        {"text": "nursing", "seasonality": "textbook", "gated": "only_ungated"},
    ),
    (
        "calculus books under $40 with roi above 40%",
        {"text": "calculus", "max_price": 40, "min_roi": 40},
    ),
    ("what's in season now?", {"in_peak_now": True}),
    ("textbooks that peak in August", {"seasonality": "textbook", "peak_month": 8}),
    ("deals at least 30% below the 1 year average", {"min_percent_down": 30}),
    ("not restricted deals with profit over $15", {"gated": "only_ungated", "min_profit": 15}),
    ("deals where amazon is not on the listing", {"amazon_offer": False}),
    ("like new copies under $20", {"condition": "like_new", "max_price": 20}),
    ("top 5 best ROI deals", {"limit": 5}),
    ("most profitable textbooks", {"sort": "profit", "seasonality": "textbook"}),
    ("fastest selling books under $15", {"sort": "drops", "max_price": 15}),
    ("newest deals", {"sort": "newest"}),
    ("top 5 deals by profit", {"limit": 5, "sort": "profit"}),
    ("shwo me textbooks undr $25", {"seasonality": "textbook", "max_price": 25}),
    ("nursng books with proffit over $20", {"text": "nursing", "min_profit": 20}),
    (
        "calculas textbooks ranked under 300k",
        {"text": "calculus", "seasonality": "textbook", "max_rank": 300_000},
    ),
    (
        "deals with a sales rank below 1 million and at least 5 drops in 30 days",
        {"max_rank": 1_000_000, "min_drops_30": 5},
    ),
    ("items that sell 10 times in 90 days", {"min_drops_90": 10}),
    ("books that sell at least 12 times a year", {"min_drops_365": 12}),
    ("ROI between 30 and 60%", {"min_roi": 30, "max_roi": 60}),
    ("profit between $10 and $40", {"min_profit": 10, "max_profit": 40}),
    (
        "no amazon, rank under 500k, roi 35%+",
        {"amazon_offer": False, "max_rank": 500_000, "min_roi": 35},
    ),
    ("exclude gated deals", {"gated": "exclude"}),
    ("hide restricted items and show the 20 best", {"gated": "exclude", "limit": 20}),
    ("medical books over $10", {"category": "Medical Books", "min_price": 10}),
    ("law books with margin at least 25%", {"category": "Law", "min_margin": 25}),
    ("acceptable condition books below $8", {"condition": "acceptable", "max_price": 8}),
    ("very good condition calculus books", {"condition": "very_good", "text": "calculus"}),
    ("good condition textbooks", {"condition": "good", "seasonality": "textbook"}),
    ("exam prep books in season now", {"seasonality": "exam_prep", "in_peak_now": True}),
    ("holiday books", {"seasonality": "holiday"}),
    ("year-round sellers with 50% roi", {"seasonality": "year_round", "min_roi": 50}),
    ("what peaks in January?", {"peak_month": 1}),
    ("books that sell best in september", {"peak_month": 9}),
    ("40% below average price, under $50", {"min_percent_down": 40, "max_price": 50}),
    ("discounted at least 25%", {"min_percent_down": 25}),
    ("biggest discounts right now", {"sort": "percent_down"}),
    ("give me 3 deals", {"limit": 3}),
    ("show me seven organic chemistry books", {"limit": 7, "text": "organic chemistry"}),
    ("Top 50 textbooks by rank", {"limit": 50, "seasonality": "textbook", "sort": "rank"}),
    ("deals updated in the last 6 hours", {"updated_within_hours": 6}),
    (
        "anything added in the last 2 days with roi over 100%",
        {"updated_within_hours": 48, "min_roi": 100},
    ),
    ("include unprofitable deals too", {"include_unprofitable": True}),
    ("books by Stewart under $35", {"text": "stewart", "max_price": 35}),
    ("titles with 'anatomy' in them", {"text": "anatomy"}),
    (
        "psychology textbooks with at least 4 drops a month and no Amazon",
        {"text": "psychology", "seasonality": "textbook", "min_drops_30": 4, "amazon_offer": False},
    ),
    (
        "cheap textbooks under 20 bucks that sell weekly",
        {"seasonality": "textbook", "max_price": 20, "min_drops_30": 4},
    ),
    ("deals with amazon on the listing", {"amazon_offer": True}),
    (
        "show me deals I'm allowed to sell, sorted by profit",
        {"gated": "only_ungated", "sort": "profit"},
    ),
    ("What are the best deals today?", {}),
    ("under $12 and rank better than 250,000", {"max_price": 12, "max_rank": 250_000}),
    ("roi > 80", {"min_roi": 80}),
    ("profit >= $25 and margin >= 35%", {"min_profit": 25, "min_margin": 35}),
    (
        "economics books priced between $5-$15",
        {"text": "economics", "min_price": 5, "max_price": 15},
    ),
    (
        "accounting textbooks, bsr < 150k, 30%+ margin",
        {"text": "accounting", "seasonality": "textbook", "max_rank": 150_000, "min_margin": 30},
    ),
    ("biology books that are ungated for me", {"text": "biology", "gated": "only_ungated"}),
    (
        "statistics books with rank drops over 8 in the last 90 days",
        {"text": "statistics", "min_drops_90": 8},
    ),
    (
        "computer books with more than $30 profit",
        {"category": "Computers & Technology", "min_profit": 30},
    ),
    ("children's books under $10", {"category": "Children's Books", "max_price": 10}),
    ("cookbooks with a 40% ROI or better", {"category": "Cookbooks, Food & Wine", "min_roi": 40}),
    ("I want to make at least $50 per book", {"min_profit": 50}),
    (
        "pharmacology textbooks that peak in august, under $60",
        {"text": "pharmacology", "seasonality": "textbook", "peak_month": 8, "max_price": 60},
    ),
    ("top 100k rank, roi above 25", {"max_rank": 100_000, "min_roi": 25}),
    ("anything over $100?", {"min_price": 100}),
    (
        "expensive textbooks over $80 with profit over $40",
        {"seasonality": "textbook", "min_price": 80, "min_profit": 40},
    ),
    ("sort by fastest selling", {"sort": "drops"}),
    ("which deals sell the fastest and aren't gated", {"sort": "drops", "gated": "only_ungated"}),
    ("deals in the Engineering category", {"category": "Engineering"}),
    ("roi of at least 60% and margin under 50%", {"min_roi": 60, "max_margin": 50}),
    ("profit under $5", {"max_profit": 5}),
    (
        "show me 15 nursing deals ranked below 400000 with amazon not selling",
        {"limit": 15, "text": "nursing", "max_rank": 400_000, "amazon_offer": False},
    ),
    (
        "Physics textbooks, very good condition, under $45, not gated",
        {
            "text": "physics",
            "seasonality": "textbook",
            "condition": "very_good",
            "max_price": 45,
            "gated": "only_ungated",
        },
    ),
    ("deals selling 2x per month with 60 % roi", {"min_drops_30": 2, "min_roi": 60}),
    ("sells at least once a month", {"min_drops_30": 1}),
    ("sells twice a month, under $20", {"min_drops_30": 2, "max_price": 20}),
    (
        "best margin textbooks in season",
        {"sort": "margin", "seasonality": "textbook", "in_peak_now": True},
    ),
    ("lowest rank first", {"sort": "rank"}),
    ("textboks with reutrn on investment over 70%", {"seasonality": "textbook", "min_roi": 70}),
    ("margn at least 20% and rnak under 1m", {"min_margin": 20, "max_rank": 1_000_000}),
    (
        "under $30 textbooks from the top 200,000 that sell 4x/month",
        {"max_price": 30, "seasonality": "textbook", "max_rank": 200_000, "min_drops_30": 4},
    ),
    (
        "anatomy and physiology books that I can sell",
        {"text": "anatomy physiology", "gated": "only_ungated"},
    ),
    (
        "show 25 deals, newest first, including unprofitable",
        {"limit": 25, "sort": "newest", "include_unprofitable": True},
    ),
    ("books 50% or more below their yearly average", {"min_percent_down": 50}),
    ("Sub-100k rank calculus books", {"max_rank": 100_000, "text": "calculus"}),
    ("deals at most $22 with margins over 28%", {"max_price": 22, "min_margin": 28}),
    ("Evelyn, which textbooks peak in January?", {"seasonality": "textbook", "peak_month": 1}),
    ("Joel, what's selling fastest under $25?", {"sort": "drops", "max_price": 25}),
    ("Olyvia, show me deals with margin over 30%", {"min_margin": 30}),
    ("errol: top 10 by roi with at least 6 drops", {"min_drops_30": 6}),
    ("used books in good shape under 15 dollars", {"condition": "good", "max_price": 15}),
    ("study guides for the MCAT", {"seasonality": "exam_prep", "text": "mcat"}),
    (
        "nursing books under $40 with no amazon offer sorted by most profit",
        {"text": "nursing", "max_price": 40, "amazon_offer": False, "sort": "profit"},
    ),
    (
        "Olivia, any law textbooks with ROI at least 45 percent and under 25 dollars?",
        {"category": "Law", "seasonality": "textbook", "min_roi": 45, "max_price": 25},
    ),
    (
        "cheapest ungated chemistry books ranked 50k or better",
        {"gated": "only_ungated", "text": "chemistry", "max_rank": 50_000, "sort": "price"},
    ),
    (
        "deals that are 20% off average with over 3 drops per month",
        {"min_percent_down": 20, "min_drops_30": 3},
    ),
    (
        "show me the 8 most profitable deals without gated items",
        {"limit": 8, "sort": "profit", "gated": "exclude"},
    ),
    ("genetics books, margin 25-40%", {"text": "genetics", "min_margin": 25, "max_margin": 40}),
    ("evergreen books with profit of $30 or more", {"seasonality": "year_round", "min_profit": 30}),
    (
        "textbooks costing less than $35 that peak in Sept",
        {"seasonality": "textbook", "max_price": 35, "peak_month": 9},
    ),
    # issue 17: signs, publishers, authors, sorts, fractions, rank ranges
    ("roi ≥ 120% and price ≤ $18", {"min_roi": 120, "max_price": 18}),
    ("margin=>35 and bsr<90k", {"min_margin": 35, "max_rank": 90_000}),
    ("anything from Pearson under $25", {"publisher": "pearson", "max_price": 25}),
    ("books written by Mankiw", {"author": "mankiw"}),
    (
        "Norton textbooks, cheapest first",
        {"publisher": "norton", "seasonality": "textbook", "sort": "price"},
    ),
    ("half-price textbooks", {"seasonality": "textbook", "min_percent_down": 50}),
    ("rank between 20k and 80k", {"min_rank": 20_000, "max_rank": 80_000}),
    ("at least 3 sales/mo, profit ≥ $12", {"min_drops_30": 3, "min_profit": 12}),
    ("price dropped 35% or more", {"min_percent_down": 35}),
    (
        "in like new, under 15 dollars ranked in the top 300000",
        {"condition": "like_new", "max_price": 15, "max_rank": 300_000},
    ),
]

EVAL_UNUSED: list[tuple[str, dict[str, Any], list[str]]] = [
    (
        "paperbacks under $10 with fewer than 3 sellers",
        {"max_price": 10},
        ["paperbacks", "3 sellers"],
    ),
    ("anything from Pearson with free shipping", {"publisher": "pearson"}, ["free shipping"]),
    ("textbooks published before 2010", {"seasonality": "textbook"}, ["2010"]),
    ("roi over 30% for the fall semester", {"min_roi": 30}, ["fall semester"]),
]
