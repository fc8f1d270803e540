"""Follow-ups to the thread's current search, read by rules (the offline model's side).

Given a message and the thread's search record (agent/thread_search.py), decide which of these
it is, by classes of phrasing rather than fixed sentences:

- a reference to a row: an ordinal or a number with a row noun ("the second one", "the 3rd
  book", "#4", "number 2", "the last one"), or the list's recommendation ("which one should I
  buy?", "the best one") -> that row's ASIN, and the message is then read as a question about
  it ("should I buy the second one?" -> deal_advice);
- paging: "next page", "more", "next 5", "previous page", "page 3", "back to the first page";
- removing a filter: a verb of removal and a filter name ("drop the price limit", "forget the
  rank filter", "without the ROI floor"), "any price", "regardless of rank", "not just
  textbooks", "include the gated ones too";
- a comparative without a number: "cheaper ones" (the price cap becomes the median price of
  the rows shown), "pricier ones", "more profitable ones" / "faster selling ones" / "newer
  ones" (a sort);
- new filters, a sort or a page size with a marker of continuation ("only the ones ...",
  "which of those ...", "what about ...", "and ...", "sort those by ...") or on their own, with
  no fresh subject of their own ("rank under 200k", "roi over 50%");
- a new topic: a marker ("new search", "start over", "forget that") or a full question with its
  own deal noun and no continuation marker ("nursing books under $40") -> a fresh search.

Nothing here runs a search: the result is the `search_deals` arguments (with `refine=true`) an
LLM would send, and the tool merges them into the stored search.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from statistics import median
from typing import Any, Literal

from agent.offline.parser import clip, find_asin, parse_filters
from agent.thread_search import current_query, row_asin

Kind = Literal["refine", "deal", "new", "unclear"]


@dataclass
class FollowUp:
    """`refine`: `args` for search_deals; `deal`: `text` is the message with the row named by
    its ASIN (`asin` None: the row does not exist, `note` says why); `new`: `text` is the
    question without the new-topic marker; `unclear`: a change to the search was meant but
    not understood (`note` says what), so the search is kept, not replaced by a bare one."""

    kind: Kind
    args: dict[str, Any] = field(default_factory=dict)
    text: str = ""
    asin: str | None = None
    note: str | None = None


# ---- classes of phrasing -------------------------------------------------------------------

_NEW_TOPIC = re.compile(
    r"\b(?:new (?:search|question|topic)|start (?:over|again|fresh|anew)|from scratch|"
    r"forget (?:that|those|them|it|this|all that|the last (?:one|search)|my last (?:one|search))|"
    r"something (?:else|different)|different (?:search|question|topic)|reset (?:the )?"
    r"(?:search|filters)?|clear (?:the |all )?(?:search|filters))\b[\s,.:;!-]*"
)
_ORDINALS = {
    "first": 1,
    "1st": 1,
    "second": 2,
    "2nd": 2,
    "third": 3,
    "3rd": 3,
    "fourth": 4,
    "4th": 4,
    "fifth": 5,
    "5th": 5,
    "sixth": 6,
    "6th": 6,
    "seventh": 7,
    "7th": 7,
    "eighth": 8,
    "8th": 8,
    "ninth": 9,
    "9th": 9,
    "tenth": 10,
    "10th": 10,
    "top": 1,
    "last": -1,
    "final": -1,
    "bottom": -1,
}
_ROW_NOUN = r"(?:one|deal|book|textbook|item|result|row|entry|title|listing|option|asin|isbn|copy)"
_ORD_RX = r"(" + "|".join(sorted(_ORDINALS, key=len, reverse=True)) + r"|\d{1,3}(?:st|nd|rd|th))"
_ROW_REFS = [
    # "the second one", "the 3rd book", "the last deal", "the top one"
    re.compile(rf"\b(?:the\s+|that\s+|this\s+)?{_ORD_RX}\s+{_ROW_NOUN}\b(?!\s+\d)"),
    # "the second on the list", "the 2nd in the table"
    re.compile(
        rf"\b(?:the\s+)?{_ORD_RX}\s+(?:on|in|from)\s+(?:the|that|this|your)\s+"
        r"(?:list|table|results?)\b"
    ),
    # "#4", "number 2", "no. 3", "row 5", "item 7"
    re.compile(
        r"(?:#\s*|\b(?:number|no\.?|row|item|result|deal|pick|entry)\s+#?)(\d{1,3})\b"
        r"(?!\s*(?:to|-|through|thru)\s*\d)(?!\s*%)(?!\s*(?:k|m)\b)"
    ),
]
_BEST_REF = re.compile(
    r"\b(?:which|what)(?:\s+(?:one|book|deal|title|of (?:those|these|them)))*"
    r"\s+(?:should|would|do|can)\s+(?:i|you|we)\s+(?:buy|pick|get|choose|go (?:with|for)|"
    r"recommend|start with)\b"
    r"|\b(?:the\s+)?best\s+(?:one|pick|choice|of (?:those|these|them|the bunch|the lot))\b"
    r"|\byour\s+(?:top\s+)?(?:pick|choice|favou?rite)\b"
    r"|\b(?:that|the)\s+(?:best\s+)?pick\b"
    r"|\bwhat do you (?:think|make) (?:of|about) (?:those|these|them|the list|the results)\b"
    r"|\b(?:are|is) any (?:of (?:those|these|them) )?(?:worth|a buy|good)\b"
)
_SUPERLATIVES: list[tuple[re.Pattern[str], str, bool]] = [
    # (phrase, row field, highest first?)
    (re.compile(r"cheapest|least expensive|lowest[- ]priced"), "price", False),
    (re.compile(r"most profitable|highest profit|biggest profit|most profit"), "profit", True),
    (re.compile(r"(?:best|highest|biggest) roi"), "roi", True),
    (re.compile(r"best[- ](?:sales[- ])?rank(?:ed)?|lowest rank|most popular"), "rank", False),
    (re.compile(r"fastest(?:[- ](?:selling|moving|seller|mover))?|quickest"), "drops", True),
]
_SUPER_REF = re.compile(
    r"\bthe\s+(cheapest|least expensive|lowest[- ]priced|most profitable|highest profit|"
    r"biggest profit|most profit|(?:best|highest|biggest) roi|best[- ](?:sales[- ])?rank(?:ed)?|"
    r"lowest rank|most popular|fastest(?:[- ](?:selling|moving|seller|mover))?|quickest)"
    r"(?:\s+(?:one|deal|book|textbook|title|item|of (?:those|these|them|the lot)))\b"
    r"|\bwhich\s+(?:one\s+|of (?:those|these|them)\s+)?(?:is|sells)\s+(?:the\s+)?"
    r"(cheapest|most profitable|fastest|best[- ]ranked)\b"
)
_NEXT = re.compile(
    r"\b(?:next\s+page|next\s+(\d{1,3})(?:\s+(?:deals|books|results|ones|items))?|"
    r"next\s+(?:ones|results|deals|books|batch|set|few)|(?:show|give|load|see)\s+(?:me\s+)?"
    r"(?:some\s+)?more(?!\s+(?:profitable|expensive|affordable|recent|popular|discounted|"
    r"sales|drops|than|like|about|info|details?|on|of (?:the|that|this|it)\b))"
    r"(?:\s+(?:deals|books|results|ones|of (?:those|them|these)))?|"
    r"keep going|the rest(?: of (?:them|those|the list))?|go on|continue)\b|^\s*more\W*$"
)
_PREV = re.compile(
    r"\b(?:previous|prev|prior)\s+page\b|\bgo\s+back(?:\s+a\s+page)?\b|\bback\s+a\s+page\b"
    r"|\bpage\s+back\b"
)
_FIRST_PAGE = re.compile(
    r"\b(?:first\s+page|back\s+to\s+(?:the\s+)?(?:start|top|beginning|first\s+page)|"
    r"page\s+one)\b"
)
_PAGE_N = re.compile(r"\bpage\s+(?:#\s*|number\s+)?(\d{1,4})\b")

# (words, filter name, strict): a strict word is also a filter value ("without amazon" is a
# filter, "no gated" too), so only "drop the amazon filter" removes it, never "any amazon"
_FILTER_WORDS: list[tuple[str, str, bool]] = [
    (r"(?:the\s+)?(?:sales\s+)?rank(?:ing)?|bsr", "rank", False),
    (r"prices?|costs?|budget", "price", False),
    (r"roi|return(?: on investment)?", "roi", False),
    (r"profits?", "profit", False),
    (r"margins?", "margin", False),
    (r"(?:rank\s+)?drops|velocity|sales(?:\s+(?:count|velocity|per month))?", "drops", False),
    (r"seasons?|seasonality|peak(?:\s+(?:month|season))?", "season", False),
    (r"text\s?books?|exam prep|holiday|summer|year[- ]round", "season", True),
    (r"discount|percent(?:age)? (?:down|off|below)|below[- ]average", "discount", False),
    (r"gat(?:ed|ing)|restrict(?:ed|ions?)|sellable|can[- ]sell", "gating", True),
    (r"amazon(?: offer)?", "amazon", True),
    (r"condition", "condition", False),
    (r"categor(?:y|ies)|shelf", "category", False),
    (r"subject|topic|keywords?|search (?:words|terms)|title words?", "text", False),
    (r"updated|freshness|age", "updated", False),
]
_NOUNS = (
    r"filter|limit|cap|ceiling|floor|minimum|maximum|min|max|requirement|constraint|"
    r"restriction|range|bound|cutoff|cut-off|rule|part|criteri(?:on|a)|setting"
)
_REMOVE_VERB = (
    r"(?:remove|drop|clear|forget(?: about)?|ignore|lose|get rid of|take (?:off|out|away)|"
    r"scrap|undo|lift|relax|delete|cancel|skip|without|no longer (?:filter(?:ing)? (?:by|on))?|"
    r"don'?t (?:care about|need|filter (?:by|on)|limit(?: by)?)|never ?mind)"
)


def _removal_patterns() -> list[tuple[re.Pattern[str], str]]:
    out: list[tuple[re.Pattern[str], str]] = []
    for words, name, strict in _FILTER_WORDS:
        noun = rf"\s+(?:{_NOUNS})s?" if strict else rf"(?:\s+(?:{_NOUNS})s?)?"
        out.append(
            (
                re.compile(
                    rf"\b{_REMOVE_VERB}\s+(?:the\s+|my\s+|that\s+|any\s+|this\s+)?"
                    rf"(?:(?:min(?:imum)?|max(?:imum)?|lowest|highest)\s+)?(?:{words}){noun}\b"
                ),
                name,
            )
        )
        if not strict:
            out.append(
                (re.compile(rf"\b(?:any|whatever|regardless of(?: the)?)\s+(?:{words})\b"), name)
            )
        out.append((re.compile(rf"\bno\s+(?:{words})\s+(?:{_NOUNS})s?\b"), name))
    return out


_REMOVALS = _removal_patterns()
_NOT_JUST = re.compile(
    r"\bnot\s+(?:just|only)\s+(?:the\s+)?(text\s?books?|exam prep|holiday|summer|"
    r"year[- ]round|seasonal)|\b(?:all|any|every)\s+seasons?\b|\bother\s+(?:kinds|types)\b"
)
_INCLUDE_GATED = re.compile(
    r"\b(?:includ(?:e|ing)|with|show|add|plus|also|even)\s+(?:the\s+)?(?:gated|restricted)"
    r"(?:\s+(?:ones|deals|books|items))?(?:\s+(?:too|as well|again))?\b"
    r"|\b(?:gated|restricted)\s+ones\s+(?:too|as well|again)\b"
)
_INCLUDE_AMAZON = re.compile(
    r"\b(?:includ(?:e|ing)|allow|with)\s+(?:the\s+)?amazon(?:\s+(?:ones|offers?|listings?))?"
    r"(?:\s+(?:too|as well))?\b"
)

# "which of those can I sell?": the question form of "the ones I can sell" (a single "can I
# sell it?" is a gating check of one deal, read elsewhere)
_SELLABLE = re.compile(
    r"\b(?:which|what|any)\b(?:\s+[\w']+){0,4}?\s+(?:can|could|may)\s+(?:i|we)\s+"
    r"(?:actually\s+|really\s+)?(?:sell|list)\b"
    r"|\b(?:can|could|may)\s+(?:i|we)\s+(?:actually\s+|really\s+)?(?:sell|list)\s+"
    r"(?:any\s+(?:of\s+)?)?(?:them|those|these|any)\b"
    r"|\b(?:am i|are we)\s+(?:allowed|approved|ungated|eligible|cleared)\s+(?:to sell|to list|"
    r"for)\s+(?:any\s+(?:of\s+)?)?(?:them|those|these)\b"
    r"|\b(?:which|what|any)\b(?:\s+[\w']+){0,4}?\s+(?:am i|are we)\s+(?:allowed|approved|"
    r"eligible|cleared|able)\s+(?:to\s+)?(?:sell|list)\b"
    r"|\b(?:which|what)(?:\s+(?:ones?|of (?:those|these|them)))?\s+(?:are|is)\s+"
    r"(?:ungated|not gated|not restricted|sellable|unrestricted|open)(?:\s+for\s+me)?\b"
)
_CHEAPER = re.compile(
    r"\b(?:cheaper|less expensive|lower[- ]priced|more affordable|(?:a\s+)?(?:bit|little)\s+"
    r"cheaper|under (?:that|those|these))\b(?!\s+than\s+\$?\d)"
)
_PRICIER = re.compile(
    r"\b(?:pricier|more expensive|higher[- ]priced|costlier)\b(?!\s+than\s+\$?\d)"
)
_COMPARATIVE_SORTS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"\b(?:more|most|higher|bigger|better)\s+(?:profitable|profits?)\b"), "profit"),
    (re.compile(r"\b(?:better|higher|bigger|best)\s+roi\b"), "roi"),
    (re.compile(r"\b(?:better|higher|bigger|fatter)\s+margins?\b"), "margin"),
    (
        re.compile(
            r"\b(?:faster|quicker)(?:[- ](?:selling|moving|sellers?|movers?|flips?))?\b"
            r"|\bsells?\s+(?:faster|quicker|more)\b|\bmore\s+(?:sales|drops)\b"
        ),
        "drops",
    ),
    (re.compile(r"\b(?:better|lower)\s+(?:sales\s+)?rank(?:ed|ing)?\b|\bmore popular\b"), "rank"),
    (re.compile(r"\b(?:bigger|deeper|larger)\s+discounts?\b|\bmore discounted\b"), "percent_down"),
    (re.compile(r"\b(?:newer|fresher|more recent)\b"), "newest"),
]
_SORT_VERB = re.compile(
    r"\b(?:sort|order|rank|re-?sort|re-?order|arrange)\w*\s+"
    r"(?:them|those|these|it|that|the list|the results|results|by)\b"
)

_MARKERS = re.compile(
    r"\b(?:those|these|them|they|ones|of those|of these|among (?:them|those|these)|only|just|"
    r"also|too|as well|instead|narrow(?: (?:it|that|them|those))?(?: down)?|filter (?:them|those|"
    r"these|it|that|down)|keep|same(?: search| ones| thing)?|what about|how about|make it|"
    r"change (?:it|that|the)|raise|lower|tighten|loosen|increase|decrease|bump)\b"
    r"|^\s*(?:and|but|also|now|ok(?:ay)?|so|then|plus|with|except|minus|same)\b"
)
_FRESH_NOUN = re.compile(
    r"(?<!those )(?<!these )(?<!the )(?<!them )(?<!of )(?<!such )\b(?:deals|books|textbooks|"
    r"items|titles|listings|products|novels|copies)\b"
)
_NOT_SEARCH = re.compile(
    r"^\s*(?:why|explain|teach|how (?:do|does|should|can|come|to)|define|what does|"
    r"tell me about (?:seasonality|deal trust|roi|the))\b"
)


# ---- reading --------------------------------------------------------------------------------


def _blank(text: str, m: re.Match[str]) -> str:
    return text[: m.start()] + " " * (m.end() - m.start()) + text[m.end() :]


def _low(text: str) -> str:
    """Lower case with the same length (spans found here blank the raw text)."""
    out = text.replace("’", "'").replace("‘", "'").replace("“", '"').replace("”", '"')
    low = out.lower()
    return low if len(low) == len(out) else out.casefold()[: len(out)].ljust(len(out))


def _row_reference(low: str, search: Mapping[str, Any]) -> tuple[int, re.Match[str]] | None:
    for rx in _ROW_REFS:
        for m in rx.finditer(low):
            word = m.group(1)
            if word in _ORDINALS:
                pos = _ORDINALS[word]
            elif word.isdigit():
                pos = int(word)
            else:
                pos = int(re.sub(r"\D", "", word) or 0)
            if pos:
                return pos, m
    return None


def _superlative(low: str, search: Mapping[str, Any]) -> tuple[str | None, re.Match[str]] | None:
    """ "the cheapest one", "which of those sells fastest" -> that row's ASIN."""
    m = _SUPER_REF.search(low)
    if m is None:
        return None
    phrase = m.group(1) or m.group(2) or ""
    rows = [r for r in (search.get("rows") or []) if isinstance(r, Mapping)]
    for rx, key, high in _SUPERLATIVES:
        if rx.fullmatch(phrase) or rx.search(phrase):
            valued = [r for r in rows if isinstance(r.get(key), int | float)]
            if not valued:
                return None, m
            row = (max if high else min)(valued, key=lambda r: r[key])
            return str(row.get("asin")), m
    return None, m


def _page_args(low: str, query: Any) -> tuple[dict[str, Any], list[re.Match[str]]]:
    """Paging words -> offset / limit on the stored search's page size."""
    args: dict[str, Any] = {}
    spans: list[re.Match[str]] = []
    m = _NEXT.search(low)
    if m:
        n = m.group(1)
        args["offset"] = query.offset + query.limit
        if n:
            args["limit"] = max(1, min(100, int(n)))
        spans.append(m)
    elif (m := _PREV.search(low)) is not None:
        args["offset"] = max(0, query.offset - query.limit)
        spans.append(m)
    elif (m := _FIRST_PAGE.search(low)) is not None:
        args["offset"] = 0
        spans.append(m)
    elif (m := _PAGE_N.search(low)) is not None:
        args["offset"] = (max(1, int(m.group(1))) - 1) * query.limit
        spans.append(m)
    return args, spans


def _removals(low: str, query: Any) -> tuple[list[str], dict[str, Any], list[re.Match[str]]]:
    """Filters to drop (names) and what replaces them ("include the gated ones")."""
    names: list[str] = []
    sets: dict[str, Any] = {}
    spans: list[re.Match[str]] = []
    for rx, name in _REMOVALS:
        for m in rx.finditer(low):
            if name not in names:
                names.append(name)
            spans.append(m)
    for m in _NOT_JUST.finditer(low):
        names.append("season")
        spans.append(m)
    for m in _INCLUDE_GATED.finditer(low):
        sets["gated"] = "include"
        spans.append(m)
    for m in _SELLABLE.finditer(low):
        sets["gated"] = "only_ungated"
        spans.append(m)
    for m in _INCLUDE_AMAZON.finditer(low):
        names.append("amazon")
        spans.append(m)
    stored = query.model_dump(exclude_unset=True)
    if "season" in names and "seasonality" not in stored and "category" in stored:
        names[names.index("season")] = "category"  # "not just medical ones"
    return list(dict.fromkeys(names)), sets, spans


_SET_VERB = (
    r"(?:raise|lower|increase|decrease|bump|set|change|move|put|make|adjust|reduce|cut|lift|"
    r"push|drop|loosen|tighten)"
)
_SET_TO = re.compile(
    rf"\b{_SET_VERB}\s+(?:the\s+|my\s+|that\s+)?(?:(min(?:imum)?|max(?:imum)?|lowest|highest)\s+)?"
    r"(price|cost|budget|rank(?:ing)?|bsr|roi|return|profit|margin|drops)"
    rf"(?:\s+({_NOUNS}))?\s+(?:up\s+|down\s+|back\s+)?to\s+(?:an?\s+)?"
    r"(?:under\s+|below\s+|over\s+|above\s+|at least\s+|at most\s+)?"
    r"\$?(\d[\d,]*(?:\.\d+)?)\s*(k|m|%)?"
)
_LOW_END = {"floor", "minimum", "min", "lowest", "cutoff", "cut-off"}
_HIGH_END = {"limit", "cap", "ceiling", "maximum", "max", "highest"}
_SET_FIELDS = {
    "price": ("min_price", "max_price", "max"),
    "rank": ("min_rank", "max_rank", "max"),
    "roi": ("min_roi", "max_roi", "min"),
    "profit": ("min_profit", "max_profit", "min"),
    "margin": ("min_margin", "max_margin", "min"),
    "drops": ("min_drops_30", "", "min"),
}


def _set_to(low: str, query: Any) -> tuple[dict[str, Any], list[re.Match[str]]]:
    """ "raise the ROI to 60%", "lower the price cap to $20", "set the rank limit to 100k": a
    new value for a bound; which end (min or max) is the one the search has, else the one
    the word names, else the usual one (a price cap, an ROI floor)."""
    args: dict[str, Any] = {}
    spans: list[re.Match[str]] = []
    stored = query.model_dump(exclude_unset=True)
    for m in _SET_TO.finditer(low):
        end_word, word, noun, number, unit = m.groups()
        kind = {"cost": "price", "budget": "price", "bsr": "rank", "return": "roi"}.get(
            word, "rank" if word.startswith("rank") else word
        )
        lo, hi, usual = _SET_FIELDS[kind]
        words = {end_word or "", noun or ""}
        if words & _LOW_END and lo:
            name = lo
        elif words & _HIGH_END and hi:
            name = hi
        elif lo in stored and hi not in stored:
            name = lo
        elif hi in stored and lo not in stored:
            name = hi
        else:
            name = hi if usual == "max" else lo
        value = float(number.replace(",", "")) * {"k": 1_000, "m": 1_000_000}.get(unit or "", 1)
        args[name] = int(value) if name in ("min_rank", "max_rank", "min_drops_30") else value
        spans.append(m)
    return args, spans


def _comparatives(
    low: str, search: Mapping[str, Any]
) -> tuple[dict[str, Any], list[re.Match[str]], str | None]:
    """ "cheaper ones" -> a price cap at the median price shown; "more profitable ones" -> a
    sort. Returns the changes, their spans and a note when the rows had no prices."""
    args: dict[str, Any] = {}
    spans: list[re.Match[str]] = []
    note = None
    prices = [
        float(r["price"])
        for r in (search.get("rows") or [])
        if isinstance(r, Mapping) and isinstance(r.get("price"), int | float)
    ]
    for rx, key in ((_CHEAPER, "max_price"), (_PRICIER, "min_price")):
        m = rx.search(low)
        if m:
            spans.append(m)
            if prices:
                mid = round(median(prices), 2)
                args[key] = max(0.0, mid - 0.01) if key == "max_price" else mid + 0.01
            else:
                note = "the last page showed no prices to compare with"
    for rx, sort in _COMPARATIVE_SORTS:
        m = rx.search(low)
        if m:
            args.setdefault("sort", sort)
            spans.append(m)
    return args, spans, note


def _changes(text: str) -> dict[str, Any]:
    """The filters, sort and page size a (blanked) message sets, as the parser reads them."""
    if not text.strip():
        return {}
    return parse_filters(text).model_dump(mode="json", exclude_unset=True)


def _searchy(raw: str) -> bool:
    """Whether the message, read on its own, is a deal search without any filter (so a
    continuation word in it meant a change this reader missed), not another kind of question."""
    from agent.offline.parser import parse_question

    parsed = parse_question(raw)
    return parsed.intent == "search_deals" and not (
        parsed.query is not None and parsed.query.model_fields_set
    )


def read_followup(message: str, search: Mapping[str, Any] | None) -> FollowUp | None:
    """What a message does to the thread's current search; None: not a follow-up (no stored
    search, a question about something else, or a named ASIN)."""
    query = current_query(search)
    if search is None or query is None:
        return None
    raw, _ = clip(message.strip())
    if find_asin(raw)[0] is not None:
        return None
    low = _low(raw)
    fresh = _NEW_TOPIC.search(low)
    if fresh:
        rest = (raw[: fresh.start()] + " " + raw[fresh.end() :]).strip(" ,.;:!-")
        return FollowUp("new", text=rest)

    sup = _superlative(low, search)
    if sup is not None:
        asin, m = sup
        text = raw[: m.start()] + f" {asin or ''} " + raw[m.end() :]
        note = None if asin else "the rows I showed do not have that number"
        return FollowUp("deal", text=text, asin=asin, note=note)
    best = _BEST_REF.search(low)
    ref = None if best is not None else _row_reference(low, search)
    if ref is not None or best is not None:
        if ref is not None:
            pos, m = ref
            asin = row_asin(search, pos)
            rows = len(search.get("rows") or [])
            note = None if asin else f"the list I showed has {rows} row{'s' if rows != 1 else ''}"
        else:
            assert best is not None
            asin = search.get("best")
            note = None if asin else "no deal on the last page qualified as a best pick"
            # a question about the list's recommendation is a verdict on the best pick
            return FollowUp("deal", text=f"should I buy {asin}?", asin=asin, note=note)
        text = raw[: m.start()] + f" {asin or ''} " + raw[m.end() :]
        return FollowUp("deal", text=text, asin=asin, note=note)

    if _NOT_SEARCH.search(low):
        return None
    blanked = raw
    args, spans = _page_args(low, query)
    set_to, sspans = _set_to(low, query)
    spans += sspans
    remove, sets, rspans = _removals(low, query)
    comp, cspans, note = _comparatives(low, search)
    for m in sorted([*spans, *rspans, *cspans], key=lambda m: m.start(), reverse=True):
        blanked = _blank(blanked, m)
    changes = _changes(blanked)
    changes = {**changes, **sets, **set_to, **{k: v for k, v in comp.items() if k not in changes}}
    if "offset" in changes and "offset" not in args:  # "results 21 to 30", "skip the first 20"
        args["offset"] = changes.pop("offset")
    changes.update(args)
    marker = _MARKERS.search(low) or _SORT_VERB.search(low)
    own_topic = bool(_FRESH_NOUN.search(low)) and not marker
    if not (changes or remove):
        if (cspans or marker) and _searchy(raw):
            what = note or "I could not tell which filter, sort or page you meant"
            return FollowUp("unclear", note=what)
        return None
    if own_topic and not (args or remove or comp):
        return None
    out = {"refine": True, **changes}
    if remove:
        out["remove"] = remove
    return FollowUp("refine", args=out, note=note)
