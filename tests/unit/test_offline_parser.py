"""The offline model's question parser: the evaluation set score, identifiers, intents."""

from __future__ import annotations

import pytest

from agent.evaluation.own import EVAL_SET, EVAL_UNUSED
from agent.offline.parser import find_asin, parse_filters, parse_question


def test_eval_set_is_big_enough_and_valid() -> None:
    from tools.deals.search import DealSearch

    assert len(EVAL_SET) >= 80
    assert len({q for q, _ in EVAL_SET}) == len(EVAL_SET)
    for _, expected in EVAL_SET:
        DealSearch(**expected)  # every expectation is itself a valid query


def test_offline_parser_scores_100_percent(capsys: pytest.CaptureFixture[str]) -> None:
    """Every question of the set exactly right: a regression fails the build."""
    misses = []
    for question, expected in EVAL_SET:
        got = parse_filters(question).filters()
        want = {
            k: (
                float(v)
                if isinstance(v, int)
                and not isinstance(v, bool)
                and k.endswith(("price", "roi", "profit", "margin", "down"))
                else v
            )
            for k, v in expected.items()
        }
        if got != want:
            misses.append((question, want, got))
    score = 1 - len(misses) / len(EVAL_SET)
    with capsys.disabled():
        print(
            f"\noffline parser eval: {len(EVAL_SET) - len(misses)}/{len(EVAL_SET)} "
            f"exactly right ({score:.1%})"
        )
        for q, want, got in misses:
            print(f"  MISS {q!r}\n     want {want}\n     got  {got}")
    assert not misses


@pytest.mark.parametrize(
    ("text", "asin"),
    [
        ("what about B0CXYZ1234?", "B0CXYZ1234"),
        ("Joel, would you buy b0abcdefgh", "B0ABCDEFGH"),
        ("isbn 0306406152 please", "0306406152"),
        ("check 978-0-306-40615-7", "0306406152"),
        ("is 0306406153 any good", None),  # bad ISBN-10 check digit: not an identifier
    ],
)
def test_find_asin(text: str, asin: str | None) -> None:
    assert find_asin(text)[0] == asin


@pytest.mark.parametrize(
    ("text", "intent", "persona"),
    [
        ("Joel, would you buy B0CXYZ1234?", "deal_advice", "joel"),
        ("ask the CFO about B0CXYZ1234", "deal_advice", "olyvia"),
        ("Is B0CXYZ1234 gated for me?", "check_restriction", None),
        ("refresh B0CXYZ1234 from keepa", "keepa_lookup", None),
        ("tell me about B0CXYZ1234", "get_deal", None),
        ("Evelyn, why do textbooks peak in August?", "search_knowledge", "evelyn"),
        ("what is the counterfeit risk strategy?", "search_knowledge", None),
        ("teach: IF rank < 100k THEN buy", "propose_knowledge", None),
        ("https://example.com/article", "propose_knowledge", None),
        ("how is the pipeline doing?", "pipeline_status", None),
        # "market" is a word, not a typo of the subject "marketing" (was a marketing-books search)
        ("Errol, what do you think about the market?", "search_knowledge", "errol"),
        ("how is the market doing?", "search_knowledge", None),
        ("hello", "greeting", None),
        ("purple monkey dishwasher", "unknown", None),
        ("Olivia, should I buy it?", "unknown", "olyvia"),
    ],
)
def test_intents_and_personas(text: str, intent: str, persona: str | None) -> None:
    parsed = parse_question(text)
    assert (parsed.intent, parsed.persona) == (intent, persona)


def test_this_refers_to_the_last_asin_in_the_thread() -> None:
    parsed = parse_question("Joel, would you buy this?", last_asin="B0CXYZ1234")
    assert (parsed.intent, parsed.asin, parsed.persona) == ("deal_advice", "B0CXYZ1234", "joel")


def test_conflicting_range_is_dropped_with_a_note() -> None:
    parsed = parse_question("books over $50 and under $20")
    assert parsed.query is not None
    assert parsed.notes == [
        "I did not use the lowest price $50: it is above the highest price you asked for ($20)"
    ]
    assert parsed.query.max_price == 20


def test_an_out_of_range_value_is_named_in_words() -> None:
    parsed = parse_question("roi over 20000%")
    assert parsed.notes == ["I did not use the lowest ROI 20,000 %: it must be at most 10,000"]


def test_a_second_value_for_the_same_filter_is_reported() -> None:
    parsed = parse_question("textbooks under $30, and under $25")
    assert parsed.query is not None and parsed.query.max_price == 30
    assert parsed.notes == ["you gave two values for the highest price: I used $30, not $25"]


@pytest.mark.parametrize(("question", "expected", "unused"), EVAL_UNUSED)
def test_what_no_filter_reads_is_said_in_one_line(
    question: str, expected: dict[str, object], unused: list[str]
) -> None:
    parsed = parse_question(question)
    assert parsed.intent == "search_deals" and parsed.query is not None
    assert parsed.query.filters() == pytest.approx(expected)
    line = [n for n in parsed.notes if n.startswith("I did not use: ")]
    assert len(line) == 1 and all(w in line[0] for w in unused), parsed.notes


def test_every_word_of_the_evaluation_questions_is_used() -> None:
    """The sets' expectations are complete, so no question may report an unused part (one
    question says something no filter can: that one must be reported)."""
    from agent.evaluation.independent import INDEPENDENT_SET

    commentary = "roi under 200% please, the crazy ones are usually errors"
    reported = {q: parse_question(q).unused for q, _ in EVAL_SET + INDEPENDENT_SET}
    assert reported.pop(commentary) == ["crazy ones are usually errors"]
    assert {q: u for q, u in reported.items() if u} == {}


def test_a_concept_question_about_textbooks_is_a_knowledge_question() -> None:
    assert (
        parse_question("what is the counterfeit risk strategy for textbooks?").intent
        == "search_knowledge"
    )
    assert parse_question("textbook strategies with roi over 50%").intent == "search_deals"
