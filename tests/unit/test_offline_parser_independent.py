"""The offline parser on an evaluation set written blind by someone else (overfit check)."""

from __future__ import annotations

from typing import Any

import pytest

from agent.evaluation.independent import INDEPENDENT_ID_SET, INDEPENDENT_SET
from agent.evaluation.own import EVAL_SET
from agent.offline.parser import parse_filters, parse_question
from tools.deals.search import DealSearch

_FLOAT_SUFFIXES = ("price", "roi", "profit", "margin", "down")


def _want(expected: dict[str, Any]) -> dict[str, Any]:
    """Expected filters with money/percent ints as floats, as DealSearch stores them."""
    return {
        k: (
            float(v)
            if isinstance(v, int) and not isinstance(v, bool) and k.endswith(_FLOAT_SUFFIXES)
            else v
        )
        for k, v in expected.items()
    }


def test_independent_set_is_valid_and_new() -> None:
    assert len(INDEPENDENT_SET) + len(INDEPENDENT_ID_SET) == 60
    questions = [q for q, _ in INDEPENDENT_SET] + [q for q, _, _ in INDEPENDENT_ID_SET]
    assert len(set(questions)) == len(questions)
    for _, expected in INDEPENDENT_SET:
        DealSearch(**expected)  # every expectation is itself a valid query


def test_offline_parser_scores_100_percent_on_the_independent_set(
    capsys: pytest.CaptureFixture[str],
) -> None:
    misses: list[tuple[str, object, object]] = []
    for question, expected in INDEPENDENT_SET:
        got = parse_filters(question).filters()
        if got != _want(expected):
            misses.append((question, _want(expected), got))
    for question, intent, asin in INDEPENDENT_ID_SET:
        parsed = parse_question(question)
        if (parsed.intent, parsed.asin) != (intent, asin):
            misses.append((question, (intent, asin), (parsed.intent, parsed.asin)))
    total = len(INDEPENDENT_SET) + len(INDEPENDENT_ID_SET)
    score = 1 - len(misses) / total
    with capsys.disabled():
        print(
            f"\noffline parser, independent set: {total - len(misses)}/{total} "
            f"exactly right ({score:.1%})"
        )
        for q, wanted, found in misses:
            print(f"  MISS {q!r}\n     want {wanted}\n     got  {found}")
    assert not misses  # was >= 90 %: every question passes now, so a regression must fail


def test_search_questions_are_routed_to_search() -> None:
    """A filter question must reach search, not knowledge or 'unknown', in the real entry point."""
    wrong = [
        (q, parse_question(q).intent)
        for q, _ in INDEPENDENT_SET + EVAL_SET
        if parse_question(q).intent != "search_deals"
    ]
    assert len(wrong) <= 0.05 * (len(INDEPENDENT_SET) + len(EVAL_SET)), wrong


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("top 20 deals page 3", {"limit": 20, "offset": 40}),
        ("skip the first 30 deals", {"offset": 30}),
        ("show me 5 deals, results 6 to 10", {"limit": 5, "offset": 5}),
        ("books over 30 days old", {}),  # "over 30 days" is neither a price nor paging
        ("anything by dr seuss under 10 dollars", {"text": "dr seuss", "max_price": 10}),
        ("the hunger games books", {"text": "hunger games"}),
        ("amazing books under $20", {"max_price": 20}),  # describing words are not title words
        ("olyvia what are the safest books with 40% margin", {"min_margin": 40}),
        ("summer reading books", {"seasonality": "summer"}),
    ],
)
def test_paging_authors_and_title_words(question: str, expected: dict[str, Any]) -> None:
    assert parse_filters(question).filters() == _want(expected)


def test_a_paging_request_alone_is_still_a_search() -> None:
    parsed = parse_question("show me page 2")
    assert parsed.intent == "search_deals"
    assert parsed.query is not None and parsed.query.offset == 10


def test_a_percent_range_is_not_paging() -> None:
    assert parse_filters("deals 20-50% off").offset == 0


def test_a_percent_off_range_keeps_its_lower_bound() -> None:
    assert parse_filters("deals 20-50% off").min_percent_down == 20
    assert parse_filters("books 30 to 60% below average").min_percent_down == 30
