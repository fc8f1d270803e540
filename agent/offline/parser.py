"""Natural language -> `DealSearch` (and intent, ASIN, persona) for the offline model.

The offline model must turn the common deal questions into the same tool calls an LLM would
make, with no network. This is a rule-based parser: numbers are normalized ("200k", "1,000,000",
"three", "twice"), key words are typo-corrected against a domain vocabulary (rapidfuzz), then
specific patterns (rank, drops, ROI, profit, margin, percent down) consume their part of the text
before the generic price patterns look at what is left, so "rank under 200k" never becomes a
price. Whatever is not understood is reported, never guessed.

Gating policy (documented choice): phrases that assert the user can sell an item ("that I can
sell", "ungated", "not gated", "not restricted", "I'm approved for") map to
``gated="only_ungated"`` (checked and not restricted for this user); phrases that filter gated
items away ("no gated", "hide/exclude/skip/without restricted") map to ``gated="exclude"``
(hide known-gated items, keep unchecked ones).

Text policy: subject words (nursing, calculus, ...), quoted phrases, "by Author" and "books about
X" become ``text`` (lower case, in order); well-known shelf names (medical, law, cookbooks, ...)
become ``category`` with Amazon's books sub-category name; "textbooks", "exam prep", "holiday",
"summer reading" and "year-round" become ``seasonality`` labels. Unknown words right before a
book noun ("harry potter books") and lower-case names after "books by" are title/author words
too (``text``); describing words ("expensive", "safest") are not.

Paging: "results 21 to 30", "page 3" (uses the asked page size) and "skip the first 20" set
``offset`` (and ``limit`` for an explicit range).

Signs and shorthand (issue 17): unicode and ASCII comparison signs ("roi≥100", "price <= 12",
"margin=>35") read like the words; "half off", "a third off" are percents; "N/mo", "/wk",
"/90d" are windows. Publishers ("from Pearson", "published by Wiley", a well-known house's
name) go to ``publisher`` and "written by X" / "author X" to ``author``; "cheapest first" sorts
by price. Never silently drop a constraint: every rule blanks what it read, and what is left
(agent/offline/unused.py) is reported as "I did not use: ..."; a second value for a filter
already set, or a value the search refuses, is reported in words too.

One function here also runs with a real model: `persona_in`, the router's typo-tolerant reading
of a persona's name ("Olivia, ..."), which needs this parser's normalizer.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Literal

from pydantic import ValidationError
from rapidfuzz import fuzz, process

from agent.offline.unused import unused_note, unused_phrases
from agent.personas import ALIASES
from tools.deals.search import DealSearch
from tools.validation import rule_text

Intent = Literal[
    "search_deals",
    "get_deal",
    "deal_advice",
    "check_restriction",
    "keepa_lookup",
    "search_knowledge",
    "propose_knowledge",
    "set_deal_query",
    "pipeline_status",
    "greeting",
    "unknown",
]


@dataclass
class ParsedQuestion:
    """What the offline model understood from one message."""

    intent: Intent
    query: DealSearch | None = None
    asin: str | None = None
    persona: str | None = None
    text: str = ""
    notes: list[str] = field(default_factory=list)
    # what a search question said that no filter, sort or paging rule read ("from the 90s")
    unused: list[str] = field(default_factory=list)

    @property
    def understood(self) -> bool:
        return self.intent != "unknown"


# ---------------------------------------------------------------------------------------------
# vocabulary and typo correction

_SUBJECTS = (
    "nursing",
    "calculus",
    "precalculus",
    "anatomy",
    "physiology",
    "biology",
    "microbiology",
    "biochemistry",
    "chemistry",
    "organic",
    "physics",
    "statistics",
    "algebra",
    "geometry",
    "trigonometry",
    "economics",
    "microeconomics",
    "macroeconomics",
    "accounting",
    "finance",
    "psychology",
    "sociology",
    "pharmacology",
    "genetics",
    "philosophy",
    "marketing",
    "anthropology",
    "astronomy",
    "geology",
    "ecology",
    "neuroscience",
    "pathology",
    "immunology",
    "kinesiology",
    "nutrition",
    "criminology",
    "linguistics",
    "literature",
    "ethics",
    "radiology",
    "dental",
    "pharmacy",
    "veterinary",
    "surgery",
    "pediatrics",
    "cardiology",
    "epidemiology",
    "spanish",
    "french",
    "german",
    "latin",
    "nclex",
    "mcat",
    "lsat",
    "gmat",
    "gre",
    "python",
    "java",
    "thermodynamics",
    "circuits",
    "discrete",
)
_MONTHS = {
    "january": 1,
    "jan": 1,
    "february": 2,
    "feb": 2,
    "march": 3,
    "april": 4,
    "apr": 4,
    "may": 5,
    "june": 6,
    "jun": 6,
    "july": 7,
    "jul": 7,
    "august": 8,
    "aug": 8,
    "september": 9,
    "sept": 9,
    "sep": 9,
    "october": 10,
    "oct": 10,
    "november": 11,
    "nov": 11,
    "december": 12,
    "dec": 12,
}
_VOCAB = (
    "textbooks",
    "textbook",
    "under",
    "below",
    "above",
    "between",
    "profit",
    "profits",
    "profitable",
    "unprofitable",
    "margin",
    "margins",
    "ranked",
    "ranking",
    "rank",
    "drops",
    "restricted",
    "unrestricted",
    "gated",
    "ungated",
    "amazon",
    "condition",
    "acceptable",
    "average",
    "discount",
    "discounted",
    "season",
    "seasonal",
    "selling",
    "sells",
    "month",
    "monthly",
    "percent",
    "return",
    "investment",
    "cheaper",
    "minimum",
    "maximum",
    "least",
    "fastest",
    "newest",
    "latest",
    "dollars",
    "deals",
    "books",
    "show",
    "between",
    "holiday",
    "christmas",
    "summer",
    "evergreen",
    "weekly",
    "times",
    "sales",
    "prices",
    "price",
    "cheapest",
    "olyvia",
    "evelyn",
    "errol",
    "professor",
    "flipper",
    "quant",
    "strategy",
    "restriction",
    "including",
    "include",
    "exclude",
    "excluding",
    "prep",
    "study",
    "guides",
    "medical",
    "cookbooks",
    "children",
    "engineering",
    "business",
    "computer",
    "history",
    "updated",
    "added",
    "hours",
    "listing",
    "peaks",
    "peak",
    "would",
    "should",
    "verdict",
    "pipeline",
    "status",
    "tokens",
    "buy",
    "sell",
    "like",
    "good",
    "very",
    "year",
    "yearly",
    *_SUBJECTS,
    *(m for m in _MONTHS if len(m) > 3),
)
_COMMON_WORDS = """
a an the and or of in on at to for with by from is are be me my i we you it its this that these
those what which who how why when where any anything some all show find list give get book
books deal deals item items ones one stuff things copy copies used new sell sells seller
sellers selling sold buy buying bought worth want need make made have has had can could would
should will do does did not no yes please thanks thank hi hello hey about over more than less
most least best top good great nice cheap fast quick now right today tell explain teach learn
their them they our us your yours his her so then just also too as but if only still each every
per week weeks day days hour hours year years month months time times rank ranks ranked drop
drops sale sales price priced prices cost costs costing pay profit margin roi return look
looking check checked see seen keep money dollars bucks percent off down up out last past first
step stop post rest note tone team meat mate tame steal slate tales stale lead dale said aids
side dies eat tea ate seal lease ease there three were here hear heard live evil veil vile file
life lift left felt market markets think doing going opinion general overall trend trends
dropped dropping fell fallen falling cut slashed reduced lowered decreased half third quarter
publisher publishers published publishing written author authors authored order sorted sort
lowest highest flipping flip flips source sourcing picking offers shipping signed hardcover
paperback weighing weigh pounds editions edition first ascending descending recent resell
reselling resale resold reseller resellers
"""
# Publishers a seller names without saying "publisher" ("Pearson books"): textbook and trade
# houses. Multi-word names are matched as phrases; their words are never typo-corrected.
PUBLISHERS = (
    "pearson",
    "mcgraw-hill",
    "mcgraw hill",
    "mcgraw",
    "wiley",
    "cengage",
    "elsevier",
    "springer",
    "oxford university press",
    "cambridge university press",
    "norton",
    "macmillan",
    "sage",
    "routledge",
    "wolters kluwer",
    "lippincott",
    "jones & bartlett",
    "jones and bartlett",
    "f.a. davis",
    "mosby",
    "saunders",
    "houghton mifflin",
    "bedford",
    "kaplan",
    "barron's",
    "princeton review",
    "dover",
    "penguin",
    "harpercollins",
    "random house",
    "scholastic",
    "simon & schuster",
    "o'reilly",
    "no starch",
    "packt",
    "thieme",
    "openstax",
    "bloomsbury",
    "zondervan",
    "taylor & francis",
    "crc press",
    "prentice hall",
    "addison-wesley",
    "jossey-bass",
)
_PUBLISHER_WORDS = frozenset(w for name in PUBLISHERS for w in re.findall(r"[a-z]+", name))
_COMMON = frozenset(_COMMON_WORDS.split())
_KNOWN = frozenset(_VOCAB) | _COMMON | _PUBLISHER_WORDS
_ANAGRAMS: dict[str, str] = {}
for _w in _VOCAB:
    _ANAGRAMS.setdefault("".join(sorted(_w)), _w)


# fuzz.ratio >= 80 needs the longer word within 1.5x the shorter's length: a longer word can
# never be a typo of the vocabulary, and comparing it would cost time proportional to its length
_MAX_TYPO_LEN = 2 * max(map(len, _VOCAB))


@lru_cache(maxsize=4096)
def _correct(word: str) -> str:
    """The vocabulary word a typo most likely meant, or the word itself."""
    if len(word) < 4 or len(word) > _MAX_TYPO_LEN or word in _KNOWN or not word.isalpha():
        return word
    swapped = _ANAGRAMS.get("".join(sorted(word)))
    if swapped:
        return swapped
    cutoff = 85 if len(word) <= 5 else 80
    hit = process.extractOne(word, _VOCAB, scorer=fuzz.ratio, score_cutoff=cutoff)
    return hit[0] if hit else word


# ---------------------------------------------------------------------------------------------
# how much of a message is read

# A deal question is a sentence or two (the evaluation sets' longest is under 100 characters).
# The parser reads this much of a message, whatever its length: every pattern below is linear
# in what it reads, and with this bound one parse costs a few milliseconds of CPU at worst.
MAX_PARSE_CHARS = 1_000
CLIPPED_NOTE = f"I read only the first {MAX_PARSE_CHARS:,} characters of your message"
# normalizing can lengthen the part read (each "≥" becomes " >= "): the patterns read at most
# this much of the normalized text
MAX_NORM_CHARS = MAX_PARSE_CHARS + MAX_PARSE_CHARS // 5


def clip(text: str) -> tuple[str, bool]:
    """The part of a message the parser reads (cut at a blank, so no number is cut in two),
    and whether anything was left out."""
    if len(text) <= MAX_PARSE_CHARS:
        return text, False
    head = text[:MAX_PARSE_CHARS]
    blank = max(head.rfind(" "), head.rfind("\n"), head.rfind("\t"))
    return (head[:blank] if blank > MAX_PARSE_CHARS // 2 else head), True


# ---------------------------------------------------------------------------------------------
# identifiers

_ASIN_RE = re.compile(r"\b(B0[A-Z0-9]{8})\b", re.IGNORECASE)
_ISBN13_RE = re.compile(r"\b(97[89](?:-?\d){10})\b")
_ISBN10_RE = re.compile(r"\b(\d{9}[\dX])\b", re.IGNORECASE)


def _isbn10_ok(s: str) -> bool:
    total = sum((10 - i) * (10 if c in "Xx" else int(c)) for i, c in enumerate(s))
    return total % 11 == 0


def _isbn13_to_10(s: str) -> str | None:
    digits = s.replace("-", "")
    if not digits.startswith("978"):
        return None  # 979 ISBNs have no ISBN-10 (and so no book ASIN of that form)
    core = digits[3:12]
    check = (11 - sum((10 - i) * int(c) for i, c in enumerate(core)) % 11) % 11
    return core + ("X" if check == 10 else str(check))


def find_asin(text: str) -> tuple[str | None, str]:
    """The first ASIN / ISBN-10 / ISBN-13 (converted) in the text, and the text without it."""
    for rx in (_ASIN_RE, _ISBN13_RE, _ISBN10_RE):
        m = rx.search(text)
        if not m:
            continue
        raw = m.group(1)
        if rx is _ISBN13_RE:
            asin = _isbn13_to_10(raw)
        elif rx is _ISBN10_RE:
            asin = raw.upper() if _isbn10_ok(raw) else None
        else:
            asin = raw.upper()
        if asin:
            return asin, text[: m.start()] + " " + text[m.end() :]
    return None, text


# ---------------------------------------------------------------------------------------------
# normalization

# A number as the patterns read it: never starts inside a digit run (so a run of digits is
# tried once, not once per digit: that made a 2,000-digit message cost seconds) and has at most
# 12 integer digits (a longer run is not a number anyone asks about, and float() of it is inf).
_N = r"(?<!\d)(\d{1,12}+(?!\d)(?:\.\d+)?)"

_WORD_NUMS = {
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "fifteen": 15,
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fifty": 50,
    "dozen": 12,
}
_NUM_WORD_RE = re.compile(r"\b(" + "|".join(_WORD_NUMS) + r")\b")


# unicode signs, dashes and full-width symbols as the patterns spell them ("roi≥100" ->
# "roi>=100", "$20–$40" -> "$20-$40")
_SIGNS = str.maketrans(
    {
        "≥": ">=",
        "≧": ">=",
        "⩾": ">=",
        "≤": "<=",
        "≦": "<=",
        "⩽": "<=",
        "–": "-",
        "—": "-",
        "−": "-",
        "＄": "$",
        "％": "%",
        "＋": "+",
        "＜": "<",
        "＞": ">",
        "＝": "=",
        "\u00a0": " ",
        "’": "'",
        "‘": "'",
        "“": '"',
        "”": '"',
    }
)
_OPERATOR = re.compile(r" ?(=>|>=|=<|<=|<|>) ?")
_OPERATOR_AS = {"=>": ">=", "=<": "<="}
# "N/mo", "N per mo", "N/wk", "N/yr", "N/90d": the windows the velocity patterns read
_PER_WINDOW = [
    (re.compile(r" ?/ ?(?:mo|mos|mon|mnth|month)\b|\b(?:per|a|an|each) mo\b"), " a month"),
    (re.compile(r" ?/ ?(?:wk|week)\b|\b(?:per|a) wk\b"), " a week"),
    (re.compile(r" ?/ ?(?:yr|year)\b|\b(?:per|a) yr\b"), " a year"),
    (re.compile(r" ?/ ?(30|90|365) ?d(?:ays?)?\b"), r" in \1 days"),
]
# "half off", "a third off", "cut by a quarter": fractions of the average as percents
_FRACTIONS = [
    (
        re.compile(
            r"\bhalf(?:[- ](?:off|price[ds]?)| (?:of )?(?:the |their |its |a )?"
            r"(?:(?:usual|normal|typical|yearly|annual|1 year) )?(?:(?:average|avg) )?"
            r"(?:price|average|avg)\b)"
        ),
        "50% off",
    ),
    (re.compile(r"\b(by|least|than|cut|dropped|fell|down|over) (?:a|1)[- ]third\b"), r"\1 33%"),
    (re.compile(r"\b(?:a|1)[- ]third (?=off|down|below|under|cheaper)"), "33% "),
    (
        re.compile(r"\b(by|least|than|cut|dropped|fell|down|over) (?:a|1)[- ]quarter\b"),
        r"\1 25%",
    ),
    (re.compile(r"\b(?:a|1)[- ]quarter (?=off|down|below|under|cheaper)"), "25% "),
]


def _normalize(text: str) -> str:
    t = text.translate(_SIGNS).lower()
    t = re.sub(r"\s+", " ", t)
    t = _OPERATOR.sub(lambda m: f" {_OPERATOR_AS.get(m.group(1), m.group(1))} ", t)
    t = re.sub(r"\b(at|no|or)(least|most|more|less|better)\b", r"\1 \2", t)
    t = re.sub(r"[a-z]+", lambda m: _correct(m.group(0)), t)
    t = re.sub(r"\bonce\b", "1 times", t)
    t = re.sub(r"\btwice\b", "2 times", t)
    t = re.sub(r"\bthrice\b", "3 times", t)
    t = re.sub(r"\ba dozen\b", "12", t)
    t = _NUM_WORD_RE.sub(lambda m: str(_WORD_NUMS[m.group(1)]), t)
    for _ in range(3):
        t = re.sub(r"(\d),(\d{3})\b", r"\1\2", t)
    t = re.sub(_N + r"\s*k\b", lambda m: str(int(float(m.group(1)) * 1000)), t)
    t = re.sub(_N + r"\s*(?:m|mil|million)\b", lambda m: str(int(float(m.group(1)) * 1_000_000)), t)
    t = re.sub(r"\s*(?:percent|pct|per cent)\b", "%", t)
    t = re.sub(r"(\d)\s+%", r"\1%", t)
    t = re.sub(r"\$\s+(\d)", r"$\1", t)
    t = re.sub(r"(?<![\d$])(\d++(?:\.\d+)?)\s*(?:dollars?|bucks|usd)\b", r"$\1", t)
    t = re.sub(r"\br\.?o\.?i\.?\b", "roi", t)
    t = re.sub(r"return on investment|\breturns?\b(?! policy)", "roi", t)
    t = re.sub(r"\bb\.?s\.?r\.?\b", "rank", t)
    for rx, repl in _PER_WINDOW:
        t = rx.sub(repl, t)
    t = re.sub(r"\b(?:1|one)[- ]half\b", "half", t)
    for rx, repl in _FRACTIONS:
        t = rx.sub(repl, t)
    t = re.sub(r"\s+", " ", t)
    if len(t) > MAX_NORM_CHARS:  # only a message of signs grows this much ("≥" -> " >= ")
        t = t[: t.rfind(" ", 0, MAX_NORM_CHARS) + 1 or MAX_NORM_CHARS]
    return f" {t.strip()} "


# ---------------------------------------------------------------------------------------------
# patterns (applied to normalized text; each match is blanked so later patterns skip it)

_MONEY = r"\$?" + _N
_LT = (
    r"(?:under|below|less than|lower than|cheaper than|at most|(?:at )?(?:a )?max(?:imum)?"
    r"(?: of)?|no more than|not more than|(?:no|not) (?:higher|pricier|worse|greater) than|"
    r"up to|<=?|beneath|within|fewer than|not over|not above|sub-?|tops)"
)
_GT = (
    r"(?:over|above|more than|greater than|higher than|at least|(?:at )?(?:a )?min(?:imum)?"
    r"(?: of)?|>=?|no less than|not less than|(?:no|not) (?:lower|cheaper|fewer) than|"
    r"exceeding|in excess of|north of|better than|upwards of|starting at|clears?|clearing|"
    r"beats?)"
)
# "roi somewhere between 25% and 45%", "profit from $8 up to $20"
_ROUGHLY = r"(?:\s+(?:somewhere|anywhere|roughly|approximately|about|around|ideally))?"
_TO = r"(?:and|up to|to|through|thru|-)"
# each word once: "of" was listed twice, so "price of of of ... of" could be read 2^n ways
_FILL = r"(?:\s+(?:of|is|at|be|should|must|needs?|to|has|that|a|an|are|it's|its|:|=|around))*"
_MORE = (
    r"(?:\s*\+|\s+or (?:more|better|higher|above|greater|up)|\s+plus|\s+and up|"
    r"\s+min(?:imum)?|\s+at least)"
)
_LESS = (
    r"(?:\s+or (?:less|lower|under|below|cheaper)|\s+and (?:under|below|less)|"
    r"\s+max(?:imum)?|\s+tops|\s+at most)"
)


@dataclass
class _Acc:
    """Accumulated fields while parsing, with the text left to look at."""

    text: str
    fields: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    # (field, value kept, value not used): a second value for a field already set
    conflicts: list[tuple[str, Any, Any]] = field(default_factory=list)
    unused: list[str] = field(default_factory=list)  # phrases no rule read

    def take(
        self, rx: re.Pattern[str], keep: Callable[[re.Match[str]], bool] | None = None
    ) -> list[re.Match[str]]:
        """The matches of `rx` (those `keep` accepts), blanked out of the text left to read."""
        found = [m for m in rx.finditer(self.text) if keep is None or keep(m)]
        for m in reversed(found):
            self.blank(m.start(), m.end())
        return found

    def blank(self, start: int, end: int) -> None:
        self.text = self.text[:start] + " " * (end - start) + self.text[end:]

    def set(self, key: str, value: Any) -> None:
        """Set a field once; a different second value is kept aside, to be reported."""
        old = self.fields.setdefault(key, value)
        if old != value and not key.startswith("_"):
            self.conflicts.append((key, old, value))


def _num(s: str) -> float:
    return float(s.replace("$", "").replace(",", ""))


# a count (rank, drops): never a dollar amount or a percent ("under $15 ranked ..." is a price)
_N_COUNT = r"(?<![\d$.])(\d{1,12}+(?!\d)(?:\.\d+)?)(?![\d%])"


@lru_cache(maxsize=16)
def _metric_patterns(
    kw: str, u: str, count: bool = False
) -> tuple[tuple[re.Pattern[str], str], ...]:
    """One metric's patterns, compiled once (not looked up in re's cache on every message).
    `count`: the number is a count (rank), never a dollar amount or a percent."""
    uo = f"(?:{u})?" if u else ""
    n = _N_COUNT if count else _N
    if "$" in u:  # a dollar amount is never a percent ("clear a 30% margin" is a margin)
        n += r"(?!\s*%)"
    pats: list[tuple[str, str]] = [
        (rf"(?:max(?:imum)?|at most|highest|top)\s+{kw}{_FILL}\s*{u}{n}{uo}", "hi"),
        (rf"(?:min(?:imum)?|at least|lowest)\s+{kw}{_FILL}\s*{u}{n}{uo}", "lo"),
        (
            rf"{kw}{_FILL}{_ROUGHLY}\s+(?:between|from)\s+{u}{n}{uo}\s*{_TO}\s*{u}{n}{uo}",
            "range",
        ),
        (
            rf"(?:between|from)\s+{u}{n}{uo}\s*{_TO}\s*{u}{n}{uo}\s+(?:in\s+)?{kw}",
            "range",
        ),
        (rf"{kw}{_FILL}\s+{u}{n}{uo}\s*(?:-|to)\s*{u}{n}{uo}", "range"),
        (rf"{kw}{_FILL}\s+{_LT}\s*{u}{n}{uo}", "hi"),
        (rf"{kw}{_FILL}\s+{_GT}\s*{u}{n}{uo}", "lo"),
        (rf"{_LT}\s*(?:an?\s+)?{u}{n}{uo}\s+(?:in\s+)?{kw}", "hi"),
        (rf"{_GT}\s*(?:an?\s+)?{u}{n}{uo}\s+(?:in\s+)?{kw}", "lo"),
        (rf"{u}{n}{uo}{_LESS}\s+(?:in\s+)?{kw}", "hi"),
        (rf"{u}{n}{uo}{_MORE}?\s+(?:in\s+)?{kw}(?:{_MORE})?", "lo"),
        (rf"{kw}{_FILL}\s*{u}{n}{uo}{_LESS}", "hi"),
        (rf"{kw}{_FILL}\s*{u}{n}{uo}{_MORE}?", "lo"),
    ]
    return tuple((re.compile(pat), kind) for pat, kind in pats)


def _metric(acc: _Acc, kw: str, unit: str, lo_key: str, hi_key: str, as_int: bool = False) -> None:
    """Bounds for one metric: 'KW over N', 'at least N KW', 'N+ KW', 'KW between A and B'."""

    def val(s: str) -> float | int:
        v = _num(s)
        return int(v) if as_int else v

    for rx, kind in _metric_patterns(kw, unit, as_int):
        for m in acc.take(rx):
            if kind == "range":
                acc.set(lo_key, val(m.group(1)))
                acc.set(hi_key, val(m.group(2)))
            elif kind == "hi":
                acc.set(hi_key, val(m.group(1)))
            else:
                acc.set(lo_key, val(m.group(1)))


_RANK_KW = r"(?:sales\s+)?(?:rank(?:ed|ing|s)?)"
# "/" items take no trailing \s* (the next item or the final \s* reads it): with it, each blank
# between two slashes could go to either side and "5 drops / / / ... x" took 2^n steps
_WINDOW = (
    r"(?:\s*/|\s+(?:in|over|per|a|an|every|each|within|during|the|last|past))*\s*"
    r"(30 days|month|90 days|3 months|quarter|year|365 days|12 months|week)"
)
_WINDOW_FIELD = {
    "30 days": ("min_drops_30", 1),
    "month": ("min_drops_30", 1),
    "week": ("min_drops_30", 4),
    "90 days": ("min_drops_90", 1),
    "3 months": ("min_drops_90", 1),
    "quarter": ("min_drops_90", 1),
    "year": ("min_drops_365", 1),
    "365 days": ("min_drops_365", 1),
    "12 months": ("min_drops_365", 1),
}

_OR_MORE = r"(?:\s+or more)?"
_DROPS_PATS = [
    re.compile(
        rf"(?:{_GT}\s*)?{_N_COUNT}\s*\+?\s*(?:or more\s+)?(?:sales\s+)?(?:rank\s+)?drops?\b"
        rf"(?:{_WINDOW})?{_OR_MORE}"
    ),
    re.compile(rf"(?:rank\s+)?drops?{_FILL}\s*(?:{_GT}\s*)?{_N_COUNT}\+?(?:{_WINDOW})?"),
    re.compile(
        rf"(?:sells?|selling|sold|sales)\s+(?:{_GT}\s*)?{_N_COUNT}\s*\+?\s*"
        rf"(?:x|times|sales|copies)?(?:{_WINDOW}){_OR_MORE}"
    ),
    re.compile(
        rf"(?:{_GT}\s*)?{_N_COUNT}(?:\s*\+|\s+or more)?\s*(?:x|times|sales)(?:{_WINDOW})"
        rf"{_OR_MORE}"
    ),
]
_SELLS_EVERY = re.compile(
    r"(?:sells?|selling|moves?)\s+(?:at least\s+)?(daily|weekly|monthly|"
    r"every (?:day|week|month))"
)

# "... from (the) average", "vs the 1yr avg": the average a discount is measured against
_VS_AVG = (
    r"(?:\s*\+)?(?:\s+(?:from|vs\.?|versus|compared to|below|under|off|of)\s+"
    r"(?:the\s+|their\s+|its\s+|a\s+)?(?:(?:1 ?(?:yr|year)\.?|one[- ]year|yearly|annual|"
    r"12[- ]month|usual|normal|typical)\s+)?(?:avg|average)(?:\s+price)?)?"
)
_PCT_DOWN_PATS = [
    # a range such as "20-50% off": DealSearch keeps only the lower bound, the real filter
    re.compile(rf"{_N}\s*%?\s*(?:-|–|to)\s*{_N}%\s*(?:below|under|off|down|discount(?:ed)?)\b"),
    re.compile(
        rf"(?:{_GT}\s*)?{_N}%\s*\+?\s*(?:or more\s+)?(?:below|under|off|less than|beneath|"
        r"cheaper than|down from|lower than|down on)\s+(?:the\s+|their\s+|its\s+|a\s+)?"
        r"(?:1[- ]?(?:yr|year)\.?|one[- ]year|yearly|annual|12[- ]month|usual|normal|"
        r"typical)?\s*(?:avg|average)(?:\s+price)?"
    ),
    re.compile(
        rf"(?:discount(?:ed)?|marked down|down|off|percent down)\s+(?:by\s+)?"
        rf"(?:{_GT}\s*)?{_N}%{_VS_AVG}"
    ),
    re.compile(
        rf"(?:{_GT}\s*)?{_N}%\s*\+?\s*(?:or more\s+)?(?:down|discount(?:ed)?|off)\b{_VS_AVG}"
    ),
    # a price that dropped: "dropped 30%", "price fell by at least 25%", "40% dropped"
    re.compile(
        r"(?:(?:its |the |their )?prices?\s+)?(?:dropped|drops?|fell|fallen|falls?|cut|reduced|"
        rf"slashed|lowered|decreased)\s+(?:by\s+|of\s+)?(?:{_GT}\s*)?{_N}%"
        r"(?:\s*\+|\s+or more)?"
        r"(?:\s+in price)?"
    ),
    re.compile(
        rf"(?:{_GT}\s*)?{_N}%\s*\+?\s*(?:or more\s+)?(?:price\s+)?(?:dropped|drop|fall|cut|"
        r"reduction|decrease|markdown)\b"
    ),
]

_UPDATED = re.compile(
    r"(?:updated|added|refreshed|found|seen|listed|changed|new)\s+"
    r"(?:(?:in|within|over|during|from)\s+)?(?:the\s+)?(?:last|past)\s+"
    r"(\d{1,6}+)?(?!\d)\s*(hours?|hrs?|h|days?|weeks?)\b"
)
_UPDATED_TODAY = re.compile(r"(?:updated|added|refreshed|found|listed|new)\s+today")
_UPDATED_THIS_WEEK = re.compile(r"(?:updated|added|refreshed|found|listed|new)\s+this week")
# when the seller means to buy, not a filter ("what should I source this week?")
_WHEN = re.compile(r"\b(?:this (?:week|weekend)|right now|at the moment|these days)\b")
# a price filter says what "cheap" meant
_PRICE_WORDS = re.compile(
    r"\b(?:cheap|cheaper|inexpensive|affordable|budget|expensive|pricey|pricier|costly)\b"
)

_UNPROFITABLE = re.compile(
    r"(?:includ(?:e|ing)|even|also|with|show(?: me)?|plus|and|all)\s+(?:the\s+)?"
    r"(?:unprofitable|losing|losers|money[- ]losing|negative[- ]profit|zero[- ]profit|"
    r"no[- ]profit|non[- ]profitable)(?:\s+(?:ones|deals|items|books))?"
    r"|unprofitable(?:\s+ones|\s+deals)?\s+(?:too|as well|included)"
)

_ONLY_UNGATED = re.compile(
    r"(?:that |which |ones |deals )?(?:i|we) (?:can|am able to|'m able to|are able to|could|"
    r"may) (?:actually )?(?:sell|list)"
    r"|(?:i'?m|i am|we'?re|we are) (?:allowed|approved|ungated|eligible|cleared)"
    r"(?: (?:to sell|to list|for))?"
    r"|\bungated\b(?: for me)?|\bunrestricted\b|\bsellable\b"
    r"|(?:not|aren'?t|are not|isn'?t|is not|never|n't) (?:gated|restricted)(?: for me)?"
    r"|(?:with )?no restrictions?\b"
    # the question forms: "which deals can I sell?", "can I sell any ...", "am I allowed to";
    # not "what can I (re)sell for a 50% roi" (a price or a return: worth flipping, not gating)
    r"|\b(?:which|what)\b(?:\s+[\w']+){0,3}?\s+(?:can|could|may)\s+(?:i|we)\s+"
    r"(?:actually\s+)?(?:sell|list)\b(?!\s+(?:for|at)\b)"
    r"|\b(?:can|could|may)\s+(?:i|we)\s+(?:actually\s+)?(?:sell|list)\s+(?:any|anything|some)\b"
    r"|\b(?:am i|are we)\s+(?:allowed|approved|able|eligible)\s+to\s+(?:sell|list)\b"
)
_EXCLUDE_GATED = re.compile(
    r"(?:exclude|excluding|hide|hiding|skip|skipping|without|no|remove|filter out|drop|ignore|"
    r"minus|leave out|except)\s+(?:the\s+|any\s+|all\s+)?(?:gated|restricted)"
    r"(?:\s+(?:deals|items|books|ones|stuff|asins|listings))?"
    r"|(?:gated|restricted)\s+(?:ones|deals|items)?\s*(?:excluded|hidden|removed)"
)
_INCLUDE_GATED = re.compile(r"(?:includ(?:e|ing)|even|with)\s+(?:the\s+)?(?:gated|restricted)")

_NO_AMAZON = re.compile(
    r"(?:no|without|not|minus|excluding)\s+(?:an?\s+)?amazon(?:\s+(?:offers?|sellers?|selling|"
    r"on (?:the )?listing|competition|on it))?"
    r"|amazon\s+(?:is\s+)?(?:not|n't|isn'?t|is not|never|doesn'?t|does not|not currently)\s+"
    r"(?:on|selling|in|a seller|sell|have|offering|there)(?:\s+(?:the\s+)?(?:listing|it|stock))?"
    r"|(?:not|isn'?t|aren'?t) sold by amazon|amazon[- ]free|amazon off (?:the )?listing"
    r"|amazon out of stock"
)
_WITH_AMAZON = re.compile(
    r"(?:with\s+)?amazon\s+(?:is\s+|also\s+)?(?:on\s+(?:the\s+)?listing|selling|in stock|"
    r"as a seller|offer|sells|on it|on them)|sold by amazon"
)

_CONDITIONS = [
    (re.compile(r"like[- ]new"), "like_new"),
    (
        re.compile(r"very good(?!\s+(?:deals?|roi|profit|margin|price|picks?|ones|books))"),
        "very_good",
    ),
    (
        re.compile(
            r"(?:in |used )good (?:condition|shape)|good (?:condition|shape|copies|copy)|"
            r"condition:? good|used[- ]good"
        ),
        "good",
    ),
    (re.compile(r"acceptable(?!\s+(?:roi|profit|margin|price))"), "acceptable"),
]

_SEASON_PATS = [
    (re.compile(r"(?:exam|test)[- ]?prep|study guides?|review books?|prep books?"), "exam_prep"),
    (re.compile(r"text\s?books?"), "textbook"),
    (re.compile(r"holiday|christmas|xmas|gift books?"), "holiday"),
    (re.compile(r"summer (?:reading|reads?|books?)|beach reads?"), "summer"),
    (
        re.compile(
            r"year[- ]round|evergreen|non[- ]?seasonal|not seasonal|all[- ]year|"
            r"steady sellers?"
        ),
        "year_round",
    ),
]
_MONTH_RX = r"(" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\b"
_PEAK_MONTH = [
    re.compile(
        r"peak(?:s|ing)?(?:\s+(?:season|month))?\s+(?:is\s+|in\s+|during\s+|around\s+|"
        r"of\s+)*" + _MONTH_RX
    ),
    re.compile(_MONTH_RX + r"\s+peak"),
    re.compile(
        r"(?:sells?|selling|sell)\s+(?:the\s+)?(?:best|most)\s+(?:in|during|around)\s+" + _MONTH_RX
    ),
    re.compile(r"(?:busiest|best month)\s+(?:is\s+|in\s+)?" + _MONTH_RX),
]
_IN_PEAK = re.compile(
    r"in[- ]season(?: now| right now)?|in (?:its |their )?peak(?: season)?(?: now)?"
    r"|peak(?:ing)?(?: season)? (?:now|right now|currently|this month)|currently peaking"
    r"|at (?:its |their )?peak|(?:seasonal )?(?:peak|high) season(?: now)?"
)

_CATEGORY_EXPLICIT = re.compile(
    r"in (?:the )?([a-z][a-z &',-]{2,40}?) (?:category|section|department|shelf)"
    # possessive blanks: "\s*(?:is)?\s*" could split a long blank run n^2 ways
    r"|categor(?:y|ies)\s*+(?:(?:is|=|:)\s*+)?\"?([a-z][a-z &',-]{2,40}?)\"?"
    r"(?=[,.?!]| and | with |\s*$)"
)
_CATEGORIES = [
    (re.compile(r"\bmedical\b|\bmedicine\b"), "Medical Books"),
    (re.compile(r"\blaw\b|\blegal\b"), "Law"),
    (re.compile(r"\bbusiness\b"), "Business & Money"),
    (re.compile(r"\bcomputers?\b|\bprogramming\b|\bcoding\b"), "Computers & Technology"),
    (re.compile(r"\bchildren'?s?\b|\bkids'?\b"), "Children's Books"),
    (re.compile(r"\bcook ?books?\b|\bcooking\b"), "Cookbooks, Food & Wine"),
    (re.compile(r"\bengineering\b"), "Engineering & Transportation"),
    (re.compile(r"\breligio(?:n|us)\b|\bchristian\b|\bbibles?\b"), "Religion & Spirituality"),
    (re.compile(r"\bhistory\b"), "History"),
    (re.compile(r"\bself[- ]help\b"), "Self-Help"),
    (re.compile(r"\bhealth\b|\bfitness\b|\bdiet\b"), "Health, Fitness & Dieting"),
    (re.compile(r"\beducation\b|\bteaching\b"), "Education & Teaching"),
    (re.compile(r"\bsci-?fi\b|\bscience fiction\b|\bfantasy\b"), "Science Fiction & Fantasy"),
    (re.compile(r"\bscience (?:and|&) math\b"), "Science & Math"),
]
_SUBJECT_RX = re.compile(r"\b(" + "|".join(sorted(_SUBJECTS, key=len, reverse=True)) + r")\b")
_QUOTED = re.compile(r"[\"']([^\"']{2,60})[\"']")
_ABOUT = re.compile(
    r"(?:books?|titles?|deals|textbooks?|anything)\s+(?:about|on|covering)\s+"
    r"([a-z]{3,30})"
)
_AUTHOR = re.compile(r"\bby\s+([A-Z][A-Za-z.'-]+(?:\s+[A-Z][A-Za-z.'-]+)?)")
_NOT_AUTHOR = {"roi", "profit", "margin", "rank", "drops", "price", "newest", "velocity", "the"}
# "books by stephen king": after a book noun, a lower-case name is an author too; it ends at the
# first word the parser knows ("under", "with", ...).
_AUTHOR_LOWER = re.compile(
    r"\b(?:books?|novels?|titles?|textbooks?|anything|stuff|works?)"
    r"\s+by\s+((?:[a-z][a-z.'-]+\s*){1,3})"
)
# "harry potter books": unknown words right before a book noun name the book (title words).
# (a word starts only after a non-word character, and is read whole: "a-a-a-..." was tried
# at every "a", each try reading to the end of the run)
_TITLE_BEFORE_NOUN = re.compile(
    r"((?:(?<![a-z'-])[a-z][a-z'-]{2,}+\s+){1,3})(?:text\s?)?(?:books?|novels?|"
    r"series|titles?|editions?)\b"
)
# describing words that are not title words ("expensive books", "college textbooks")
_NOT_TITLE_WORDS = """
expensive pricey rare popular old older vintage collectible hardcover hardback paperback signed
college university school academic required assigned classic other similar random recent newer
fresh hot trending seasonal profitable unprofitable gated ungated restricted unrestricted
sellable reading these those such cheaper pricier priciest lucrative high low cool interesting
bestselling bestseller selling moving flipping decent solid safe risky gift gifts all
amazing awesome excellent fantastic wonderful worthwhile underpriced overpriced undervalued
discounted
"""
_NOT_TITLE = frozenset(_NOT_TITLE_WORDS.split()) | frozenset(ALIASES)
# paging: "results 21 to 30", "page 3", "skip the first 20"
_RESULTS_RANGE = re.compile(
    r"\b(?:results?|deals|items|books|rows|numbers?|#|nos?\.?)\s*(\d{1,4})"
    r"\s*(?:to|-|through|thru)\s*#?(\d{1,4})\b(?!\s*%|\.\d)"
)
_PAGE = re.compile(r"\bpage\s+(?:#\s*)?(\d{1,4})\b")
# "after 20" alone is not paging ("published after 2015"): "after/past the first N" is
_SKIP = re.compile(
    r"\b(?:(?:skip|skipping|offset)\s+(?:the\s+)?(?:first\s+|top\s+)?|"
    r"(?:after|past|start(?:ing)? (?:at|from) after)\s+(?:the\s+)?(?:first|top)\s+)"
    r"(\d{1,5})\b(?!\s*(?:%|days?|hours?|weeks?|months?|years?))"
)

_SORTS = [
    (
        re.compile(
            r"(?:most|highest|best|biggest|max(?:imum)?|top|largest|greatest|by|on)\s+"
            r"(?:profits?|profitable|money|net)\b|most profitable"
        ),
        "profit",
    ),
    (re.compile(r"(?:best|highest|biggest|top|largest|by|fattest)\s+margins?"), "margin"),
    (
        re.compile(
            r"fastest[- ]?(?:selling|moving|flipping|turning|sellers?|flips?|movers?)|"
            r"(?:sells?|selling|flips?|flipping|moves?|moving|turns?|turning) (?:the )?"
            r"fastest|(?:best|top|fast|hot)[- ]?sellers?|most (?:rank )?"
            r"drops|most sales|sells? (?:the )?most|by (?:velocity|drops|sales(?! rank))|velocity|"
            r"quickest|fast movers?|hottest|moves? (?:the )?fastest|quick flips?"
        ),
        "drops",
    ),
    (re.compile(r"(?:best|lowest|by|top)\s+(?:sales\s+)?rank(?:ed|ing)?\b|lowest rank"), "rank"),
    (
        re.compile(
            r"newest|latest|most recent(?:ly)?(?: (?:updated|added|listed|changed))?|"
            r"recently (?:added|updated)|just added|new(?:est)? first|freshest|\bnew deals|"
            r"\bany new\b"
        ),
        "newest",
    ),
    (
        re.compile(
            r"(?:biggest discounts?|deepest discounts?|most discounted|largest discounts?|"
            r"most below (?:the )?average|(?:biggest|largest)(?:\s*%\s*|\s+price\s+|\s+)drops?|"
            r"by discount|by percent down|most (?:percent )?down)" + _VS_AVG
        ),
        "percent_down",
    ),
    (re.compile(r"(?:best|highest|top|biggest|by|max(?:imum)?)\s+roi"), "roi"),
    (
        re.compile(
            r"cheapest|least expensive|lowest[- ]priced|(?:lowest|cheapest) (?:price|cost)|"
            r"by (?:the )?(?:lowest )?price|price,? (?:low(?:est)? to high(?:est)?|ascending)"
        ),
        "price",
    ),
]
# the words around a sort that say only "sort" ("sort by", "first", "low to high")
_SORT_WORDS = re.compile(
    r"\b(?:(?:sort(?:ed)?|order(?:ed)?|rank(?:ed)?|list(?:ed)?)\s+(?:them\s+|it\s+)?by|"
    r"(?:sort(?:ed)?|order(?:ed)?)\s+(?:them|it|these|those|results)|"
    r"first|on top|at the top|low(?:est)? to high(?:est)?|high(?:est)? to low(?:est)?|"
    r"ascending|descending|sort(?:ed)?|order(?:ed)?)\b"
)

_LIMIT_PATS = [
    re.compile(r"\btop\s+(\d{1,3})\b(?!\s*(?:%|\$))"),
    re.compile(
        r"\b(?:best|first|show(?: me)?|give me|list|find(?: me)?|get(?: me)?|pull(?: up)?"
        r"|see)\s+(?:the\s+)?(\d{1,3})\b(?!\s*(?:%|times|x\b|drops|days|hours))"
    ),
    re.compile(
        r"\b(\d{1,3})\s+(?:best |top |good |great |cheapest |new |more )?(?:[a-z]+\s+){0,2}"
        r"(?:deals|books|items|results|picks|options|titles|textbooks|ones|listings|"
        r"products)\b"
    ),
]

_RANK_PATS = [
    re.compile(rf"top\s+{_N}(?:\s+(?:in\s+)?{_RANK_KW})?"),
]


def _parse_rank(acc: _Acc) -> None:
    for m in acc.take(re.compile(rf"top\s+{_N}\s+(?:in\s+)?(?:sales\s+)?rank(?:ed|ing)?\b")):
        acc.set("max_rank", int(_num(m.group(1))))
    for m in acc.take(re.compile(rf"(?:{_RANK_KW}\s+)?(?:in\s+)?(?:the\s+)?top\s+{_N}\b")):
        n = int(_num(m.group(1)))
        if n > 100:
            acc.set("max_rank", n)
        else:  # "top 5": a count, put it back for the limit patterns
            acc.text = acc.text[: m.start()] + m.group(0) + acc.text[m.end() :]
    for m in acc.take(re.compile(rf"{_RANK_KW}{_FILL}\s+(?:better|higher|lower) than\s+{_N}")):
        acc.set("max_rank", int(_num(m.group(1))))
    for m in acc.take(re.compile(rf"{_LT}\s+(?:an?\s+|the\s+)?{_RANK_KW}(?:\s+of)?\s+{_N}")):
        acc.set("max_rank", int(_num(m.group(1))))  # "under rank 200k"
    for m in acc.take(re.compile(rf"sub[- ]?{_N}\s*{_RANK_KW}?")):
        acc.set("max_rank", int(_num(m.group(1))))
    for m in acc.take(re.compile(rf"{_RANK_KW}\s+{_N}\s+or\s+(?:better|lower|less)")):
        acc.set("max_rank", int(_num(m.group(1))))
    _metric(acc, _RANK_KW, "", "min_rank", "max_rank", as_int=True)


def _parse_drops(acc: _Acc) -> None:
    for rx in _DROPS_PATS:
        for m in acc.take(rx):
            n = int(_num(m.group(1)))
            window = m.group(2) if m.lastindex and m.lastindex >= 2 else None
            key, mult = _WINDOW_FIELD.get(window or "month", ("min_drops_30", 1))
            acc.set(key, n * mult)
    for m in acc.take(_SELLS_EVERY):
        every = m.group(1)
        n = 30 if "day" in every else 4 if "week" in every else 1
        acc.set("min_drops_30", n)


# a bare number followed by one of these counts something else ("fewer than 5 offers")
_NOT_PRICE_UNIT = re.compile(
    r"\s*(?:times|x\b|drops|days?|hours?|weeks?|months?|years?|yrs?|sales|offers?|sellers?|"
    r"reviews?|ratings?|stars?|pages?|pounds?|lbs?|oz|ounces?|kgs?|kilos?|grams?|inch(?:es)?|"
    r"copies|units|editions?|people|buyers?|ranks?|ranked|%)"
)


def _a_price(number_group: int, dollar_group: int | None = None) -> Callable[[re.Match[str]], bool]:
    """Whether a match's number is a price: it has a "$", or no unit word follows it."""

    def keep(m: re.Match[str]) -> bool:
        if dollar_group is not None and m.group(dollar_group):
            return True
        return not _NOT_PRICE_UNIT.match(m.string, m.end(number_group))

    return keep


def _parse_price(acc: _Acc) -> None:
    kw = r"(?:price[ds]?|costs?|costing|priced|buy price|buy cost)"
    _metric(acc, kw, r"\$?", "min_price", "max_price")
    # no leading \s*: tried at every blank of a long blanked run it cost O(n^2)
    rng = re.compile(
        rf"(?:(?:between|from)\s*)?\$?{_N}\s*{_TO}\s*\$?{_N}(?!\s*%)"
        r"(?=\s|$|[,.?!])"
    )
    for m in re.finditer(rng, acc.text):
        if "$" in m.group(0) or re.match(r"\s*between", m.group(0)):
            acc.take(re.compile(re.escape(m.group(0))))
            acc.set("min_price", _num(m.group(1)))
            acc.set("max_price", _num(m.group(2)))
            break
    for m in acc.take(re.compile(rf"{_LT}\s*(\$)?{_N}(?![\d%])"), keep=_a_price(2, 1)):
        v = _num(m.group(2))
        if not m.group(1) and v >= 10_000:
            acc.set("max_rank", int(v))
        else:
            acc.set("max_price", v)
    for m in acc.take(re.compile(rf"{_GT}\s*\${_N}")):
        acc.set("min_price", _num(m.group(1)))
    for m in acc.take(re.compile(rf"(?:over|above|more than)\s+{_N}(?![\d%])"), keep=_a_price(1)):
        acc.set("min_price", _num(m.group(1)))
    for m in acc.take(re.compile(rf"\${_N}{_LESS}")):
        acc.set("max_price", _num(m.group(1)))
    for m in acc.take(re.compile(rf"\${_N}{_MORE}")):
        acc.set("min_price", _num(m.group(1)))


def _title_words(text: str) -> list[str]:
    """Unknown words right before a book noun ("harry potter books"), minus words that another
    rule already read (seasons, shelves, conditions, subjects) or that only describe the book."""
    taken = [
        (m.start(), m.end())
        for rx, _ in (*_SEASON_PATS, *_CATEGORIES, *_CONDITIONS)
        for m in rx.finditer(text)
    ]
    found: list[str] = []
    for m in _TITLE_BEFORE_NOUN.finditer(text):
        run: list[str] = []
        pos = m.start(1)
        for w in re.finditer(r"[a-z][a-z'-]+", m.group(1)):
            start, end = pos + w.start(), pos + w.end()
            word = w.group(0)
            unknown = (
                word not in _KNOWN
                and word not in _NOT_TITLE
                and word not in _MONTHS
                and not (len(word) > 5 and word.endswith("est"))  # "safest", "hottest"
                and not _SUBJECT_RX.fullmatch(word)
                and not any(a < end and start < b for a, b in taken)
            )
            if unknown:
                run.append(word)
            else:
                run = []  # only the words touching the noun name the book
        if run:
            found.append(" ".join(run))
    return found


# publishers and authors ("anything from Pearson", "published by Wiley", "written by Stewart")
_NAME = r"([a-z][a-z&.'-]*(?:\s(?:&|[a-z][a-z&.'-]*)){0,3})"
_PUBLISHER_RX = re.compile(
    r"(?:\b(?:from|by)\s+)?\b("
    + "|".join(re.escape(p) for p in sorted(PUBLISHERS, key=len, reverse=True))
    + r")(?![a-z'-])(?:\s+(?:education|publishing|publishers|press|learning|inc\.?|co\.?))*"
)
_PUBLISHER_EXPLICIT = re.compile(
    rf"(?:published|put out|printed|released)\s+by\s+{_NAME}"
    rf"|publisher(?:\s+is|\s+named|\s*:|\s*=)?\s+{_NAME}"
)
_AUTHOR_EXPLICIT = re.compile(
    rf"(?:written|authored)\s+by\s+{_NAME}|author(?:\s+is|\s+named|\s*:|\s*=)?\s+{_NAME}"
)
# "anything from Pearson": a capitalised name after "<book noun> from" in the message as typed
# ("shipped from California" is not a publisher)
_FROM_NAME = re.compile(
    r"\b(?:anything|something|everything|stuff|books?|titles?|deals?|textbooks?|novels?|ones|"
    r"only|all|editions?|copies|items?)\s+from\s+"
    r"([A-Z][A-Za-z&.'-]*(?:\s(?:&|[A-Z][A-Za-z&.'-]*)){0,3})"
)
_NOT_A_NAME = frozenset({"amazon", "keepa", "i", "the", "my", "a", "an", *ALIASES})


def _name_words(text: str) -> str:
    """The leading words of `text` that can be a name: up to the first word the parser reads
    as something else ("wiley under $30" -> "wiley")."""
    out: list[str] = []
    for w in text.split():
        if (w in _KNOWN and w not in _PUBLISHER_WORDS) or w in _MONTHS or w in _NOT_A_NAME:
            break
        out.append(w)
    return " ".join(out).strip(".,;:!?")


def _parse_people(acc: _Acc, raw: str) -> set[str]:
    """Publisher and author filters; returns the names read, so the title/author rule of
    `text` does not read them a second time."""
    names: set[str] = set()
    for m in acc.take(_AUTHOR_EXPLICIT):
        name = _name_words(m.group(1) or m.group(2) or "")
        if name:
            acc.set("author", name)
            names.add(name)
    for m in acc.take(_PUBLISHER_EXPLICIT):
        name = _name_words(m.group(1) or m.group(2) or "")
        if name:
            acc.set("publisher", name)
            names.add(name)
    for m in acc.take(_PUBLISHER_RX):
        acc.set("publisher", m.group(1))
        names.add(m.group(1))
    for m in _FROM_NAME.finditer(raw):
        name = _name_words(m.group(1).lower())
        if name and "publisher" not in acc.fields:
            acc.set("publisher", name)
            names.add(name)
            acc.take(re.compile(r"\bfrom\s+" + re.escape(name) + r"\b"))
    return names


def _parse_text_and_category(acc: _Acc, raw: str, names: set[str]) -> None:
    words: list[str] = []
    for m in _QUOTED.finditer(raw):
        words.append(m.group(1).strip().lower())
    for m in _AUTHOR.finditer(raw):
        author = m.group(1)
        taken = any(author.lower() in name for name in names)
        if author.split()[0].lower() not in _NOT_AUTHOR and not taken:
            words.append(author.lower())
    for m in _AUTHOR_LOWER.finditer(raw.lower()):
        author_words: list[str] = []
        for w in m.group(1).split():
            if w in _KNOWN or w in _NOT_AUTHOR or w in _MONTHS:
                break
            author_words.append(w)
        name = " ".join(author_words)
        taken = any(name in x for x in (*names, *words))
        if author_words and not taken:
            words.append(name)
    words.extend(_title_words(acc.text))
    explicit = _CATEGORY_EXPLICIT.search(acc.text)
    if explicit:
        name = (explicit.group(1) or explicit.group(2) or "").strip()
        if name:
            acc.set("category", name.title().replace("'S", "'s").replace(" And ", " & "))
            acc.take(re.compile(re.escape(explicit.group(0))))
    if "category" not in acc.fields:
        for rx, name in _CATEGORIES:
            found = rx.search(acc.text)
            if found:
                acc.set("category", name)
                acc.blank(found.start(), found.end())
                break
    for m in acc.take(_ABOUT):
        w = m.group(1)
        if w not in _COMMON:
            words.append(w)
    for m in _SUBJECT_RX.finditer(acc.text):
        w = m.group(1)
        if w == "organic":
            nxt = acc.text[m.end() :].lstrip()
            w = "organic chemistry" if nxt.startswith("chemistry") else w
        if (not any(w in x.split() or w in x for x in words) and w != "chemistry") or (
            w == "chemistry" and not any("chemistry" in x for x in words)
        ):
            words.append(w)
    acc.take(_SUBJECT_RX)
    if words:
        seen: list[str] = []
        for w in words:
            if w not in seen:
                seen.append(w)
        acc.set("text", " ".join(seen)[:200])


def _parse_updated(acc: _Acc) -> None:
    for m in acc.take(_UPDATED):
        n = int(m.group(1) or 1)
        unit = m.group(2)
        hours = n if unit.startswith("h") else n * 24 if unit.startswith("d") else n * 24 * 7
        acc.set("updated_within_hours", hours)
    if acc.take(_UPDATED_TODAY):
        acc.set("updated_within_hours", 24)
    if acc.take(_UPDATED_THIS_WEEK):
        acc.set("updated_within_hours", 24 * 7)
    acc.take(_WHEN)


def _parse_money(acc: _Acc) -> None:
    """ROI, profit and margin bounds."""
    if acc.take(re.compile(r"double (?:my|your|the|our) money")):
        acc.set("min_roi", 100.0)
    _metric(acc, r"roi", "%?", "min_roi", "max_roi")
    _metric(
        acc,
        r"(?:profits?|net(?: profit)?|make|earn|clear|gain|in profit)",
        r"\$?",
        "min_profit",
        "max_profit",
    )
    _metric(acc, r"margins?", "%?", "min_margin", "max_margin")


def _parse_paging(acc: _Acc) -> None:
    for m in acc.take(_RESULTS_RANGE):
        first, last = int(m.group(1)), int(m.group(2))
        if 1 <= first <= last:
            acc.set("offset", first - 1)
            acc.set("limit", min(last - first + 1, 100))
    for m in acc.take(_SKIP):
        acc.set("offset", int(m.group(1)))
    for m in acc.take(_PAGE):
        acc.set("_page", int(m.group(1)))


def _parse_flags(acc: _Acc) -> None:
    """Profitability, gating, Amazon, condition and peak-season switches."""
    if acc.take(_UNPROFITABLE):
        acc.set("include_unprofitable", True)
    if acc.take(_EXCLUDE_GATED):
        acc.set("gated", "exclude")
    if acc.take(_ONLY_UNGATED):
        acc.set("gated", "only_ungated")
    acc.take(_INCLUDE_GATED)
    if acc.take(_NO_AMAZON):
        acc.set("amazon_offer", False)
    if acc.take(_WITH_AMAZON):
        acc.set("amazon_offer", True)
    for rx, cond in _CONDITIONS:
        if acc.take(rx):
            acc.set("condition", cond)
            acc.take(re.compile(r"\b(?:condition|shape)\b"))
            break
    for rx in _PEAK_MONTH:
        for m in acc.take(rx):
            acc.set("peak_month", _MONTHS[m.group(1)])
    if acc.take(_IN_PEAK):
        acc.set("in_peak_now", True)


def _parse_sort_and_limit(acc: _Acc) -> None:
    best: re.Match[str] | None = None
    best_key = ""
    for rx, key in _SORTS:
        found = rx.search(acc.text)
        if found and (best is None or found.start() < best.start()):
            best, best_key = found, key
    if best is not None:
        acc.set("sort", best_key)
        acc.blank(best.start(), best.end())
        acc.take(_SORT_WORDS)
    for rx in _LIMIT_PATS:
        found = rx.search(acc.text)
        if found:
            acc.blank(found.start(1), found.end(1))
            n = int(found.group(1))
            if 1 <= n <= 100:
                acc.set("limit", n)
                break
            acc.notes.append(f"I show at most 100 deals at a time, not {n}")
            acc.set("limit", 100)
            break
    page = acc.fields.pop("_page", None)
    if page and page > 1 and "offset" not in acc.fields:
        acc.set("offset", (page - 1) * int(acc.fields.get("limit", 10)))


def _parse_fields(raw: str, norm: str) -> _Acc:
    """Every filter, sort and paging rule over the normalized text, in an order where the
    specific patterns read their part before the generic ones; then what was left unread."""
    acc = _Acc(norm)
    _parse_updated(acc)
    for rx in _PCT_DOWN_PATS:  # before drops: "40% dropped" is a price, not rank drops
        for m in acc.take(rx):
            acc.set("min_percent_down", _num(m.group(1)))
    _parse_drops(acc)
    _parse_rank(acc)
    _parse_money(acc)
    _parse_paging(acc)
    _parse_price(acc)
    if "min_price" in acc.fields or "max_price" in acc.fields:
        acc.take(_PRICE_WORDS)
    _parse_flags(acc)
    names = _parse_people(acc, raw)
    season = next(((rx, label) for rx, label in _SEASON_PATS if rx.search(acc.text)), None)
    if season is not None:
        acc.set("seasonality", season[1])
    _parse_text_and_category(acc, raw, names)
    if season is not None:
        acc.take(season[0])
    _parse_sort_and_limit(acc)
    for key, kept, dropped in acc.conflicts:
        acc.notes.append(
            f"you gave two values for {_label(key)}: I used "
            f"{_show(key, kept)}, not {_show(key, dropped)}"
        )
    words = [str(acc.fields.get(k) or "") for k in ("text", "author", "publisher", "category")]
    acc.unused = unused_phrases(acc.text, words, raw)
    return acc


# how a field and its value read in a sentence ("max price", "$30")
_LABELS = {
    "min_price": "the lowest price",
    "max_price": "the highest price",
    "min_roi": "the lowest ROI",
    "max_roi": "the highest ROI",
    "min_profit": "the lowest profit",
    "max_profit": "the highest profit",
    "min_margin": "the lowest margin",
    "max_margin": "the highest margin",
    "min_rank": "the lowest rank",
    "max_rank": "the highest rank",
    "min_percent_down": "the discount",
    "peak_month": "the peak month",
    "gated": "gating",
    "limit": "the number of deals",
    "updated_within_hours": "the hours since the last update",
}


def _show(key: str, value: Any) -> str:
    """A field's value as a seller writes it ($30, 40 %, 200,000)."""
    if not isinstance(value, int | float) or isinstance(value, bool):
        return str(value).replace("_", " ")
    if key.endswith(("_price", "_profit")):
        return f"${value:,.2f}".removesuffix(".00")
    if key.endswith(("_roi", "_margin", "percent_down")):
        return f"{value:,g} %"
    return f"{value:,}"


def build_query(fields: dict[str, Any], notes: list[str]) -> DealSearch:
    """A valid DealSearch from parsed fields, dropping (and noting, in words) any value it
    rejects."""
    fields = {k: v for k, v in fields.items() if not k.startswith("_")}
    for _ in range(len(fields) + 1):
        try:
            return DealSearch(**fields)
        except ValidationError as err:
            first = err.errors()[0]
            loc = first.get("loc") or ()
            bad = str(loc[0]) if loc else None
            if bad not in fields:  # a cross-field rule: drop the lower end of the broken range
                msg = first.get("msg", "")
                bad = next((k for k in fields if k in msg and k.startswith("min_")), None)
                if bad is None:
                    break
                other = "max_" + bad.removeprefix("min_")
                value = fields.pop(bad)
                notes.append(
                    f"I did not use {_label(bad)} {_show(bad, value)}: it is above "
                    f"{_label(other)} you asked for ({_show(other, fields.get(other))})"
                )
                continue
            value = fields.pop(bad)
            notes.append(f"I did not use {_label(bad)} {_show(bad, value)}: it {rule_text(first)}")
    return DealSearch()


def _label(key: str) -> str:
    return _LABELS.get(key, "the " + key.replace("_", " "))


# ---------------------------------------------------------------------------------------------
# persona and intent

_PERSONA_RE = re.compile(r"\b(" + "|".join(ALIASES) + r")\b")
_DEAL_WORDS = re.compile(
    r"\b(deals|books|textbooks?|items|listings|products|titles|inventory|asins|hardcovers?|"
    r"paperbacks?|editions|novels|guides|manuals|workbooks|"
    r"anything|stuff|ones|copies|sells?|selling|buy|sourcing|picks|flips|opportunities)"
    r"\b"
)
_WHY = re.compile(
    r"^\s*(?:why|explain|teach me|how (?:do|does|should|can|come|to)|define|"
    r"tell me about|what does .* mean)\b"
)
_WHAT_IS = re.compile(r"^\s*(?:what(?:'s| is| are)|who is|is it true)\b")
# what the assistant knows about: a "why/what is/how do I" question without one of these
# ("what's the weather in Paris?") is not a knowledge question, and gets what it can help with
_DOMAIN = re.compile(
    r"\b(?:books?|textbooks?|novels?|editions?|isbns?|asins?|deals?|amazon|keepa|fba|fbm|"
    r"sell\w*|sold|buy\w*|flip\w*|sourc\w+|resell\w*|arbitrage|scout\w*|scan\w*|price[sd]?|"
    r"pric\w+|profit\w*|roi|margins?|ranks?|ranked|ranking|drops?|sales?|velocity|gat\w+|ungat\w+|"
    r"restrict\w*|approv\w+|strateg\w+|mental models?|lessons?|rules? of thumb|seasons?|"
    r"seasonal\w*|peaks?|trough|semesters?|college|students?|school|inventory|listings?|"
    r"offers?|buy box|fees?|shipping|prep|conditions?|counterfeit\w*|trust|markets?|"
    r"competition|competitors?|publishers?|authors?|wholesale|retail|thrift|library|"
    r"mentors?|" + "|".join(ALIASES) + "|" + "|".join(_SUBJECTS) + r")\b"
)
_KNOWLEDGE = re.compile(
    r"\b(?:strateg(?:y|ies)|mental models?|lessons?|principles?|rule of thumb|counterfeit|"
    r"what do you (?:know|think)|how is the market|seasonality|concepts?|how to)\b"
)
_ADVICE = re.compile(
    r"\b(?:buy|purchase|worth|verdict|advice|advise|recommend|should i|would you|good deal|"
    r"pass|watch|thoughts?|opinion|think|take on|grab|pick up|flip)\b"
)
_RESTRICTION = re.compile(
    r"\b(?:gated|restricted|restrictions?|ungated|approval|allowed to|"
    r"can i (?:sell|list)|eligible)\b"
)
_KEEPA = re.compile(
    r"\b(?:refresh|live|keepa|latest data|update(?: it| this| the data)?|"
    r"re-?check|fresh data|current data|pull)\b"
)
_TEACH = re.compile(
    r"^\s*(?:teach|learn|remember|add (?:this|a|the) (?:strategy|lesson|rule)|"
    r"save (?:this|these)|propose|new strategy|study this)\b|https?://"
)
_SET_QUERY = re.compile(
    r"\b(?:set|change|update) (?:the )?(?:keepa )?(?:deal )?(?:query|"
    r"selection|scout query)\b"
)
_PIPELINE = re.compile(
    r"\b(?:pipeline|ingestion|token balance|tokens? left|workers?|"
    r"scout|how fresh|freshness|last runs?|system status)\b"
)
_GREETING = re.compile(
    r"^\s*(?:hi|hello|hey|good (?:morning|afternoon|evening)|thanks|"
    r"thank you|help|what can you do|who are you)"
    r"(?:\s+(?:there|again|everyone|all))?[\s!.?,]*$"
)
_FIELD_KEYS_THAT_ARE_FILTERS = set(DealSearch.model_fields) - {"limit", "offset"}


def detect_persona(norm: str) -> str | None:
    """A persona named or addressed in the (normalized) message, e.g. 'Joel, would you buy?'."""
    m = _PERSONA_RE.search(norm)
    return ALIASES[m.group(1)] if m else None


def _strip_persona(norm: str) -> str:
    t = re.sub(
        r"^\s*(?:hey |hi |ok |so )?(?:ask )?(?:the )?(" + "|".join(ALIASES) + r")\b[,:!]?",
        " ",
        norm,
    )
    t = re.sub(
        r"\b(?:ask|and|what (?:would|does|do)|according to)\s+(?:the\s+)?("
        + "|".join(ALIASES)
        + r")\b",
        " ",
        t,
    )
    return t


def parse_question(text: str, *, last_asin: str | None = None) -> ParsedQuestion:
    """Understand one user message; `last_asin` resolves 'this one' from earlier in the thread.

    Only the first MAX_PARSE_CHARS are read (a note says so); the returned `text` is the whole
    message, and a teaching request is recognized anywhere in it (a pasted article can be long).
    """
    raw = text.strip()
    head, clipped = clip(raw)
    notes = [CLIPPED_NOTE] if clipped else []
    asin, raw_wo = find_asin(head)
    norm = _normalize(raw_wo)
    persona = detect_persona(norm)
    body = _strip_persona(norm) if persona else norm
    low = body.strip()

    if _TEACH.search(raw.lower()) and not asin:
        return ParsedQuestion("propose_knowledge", persona=persona, text=raw)
    if _SET_QUERY.search(low):
        return ParsedQuestion("set_deal_query", persona=persona, text=raw)
    if _PIPELINE.search(low) and not _DEAL_WORDS.search(low.replace("sells", "")):
        return ParsedQuestion("pipeline_status", persona=persona, text=raw)

    refers_back = re.search(r"\b(?:this|that|it|this one|that one|the first|the top one)\b", low)
    if (
        asin is None
        and last_asin
        and refers_back
        and (_ADVICE.search(low) or _RESTRICTION.search(low) or _KEEPA.search(low))
    ):
        asin = last_asin
    if asin:
        if _RESTRICTION.search(low):
            intent: Intent = "check_restriction"
        elif _KEEPA.search(low):
            intent = "keepa_lookup"
        elif _ADVICE.search(low) or persona not in (None, "ava"):
            intent = "deal_advice"
        else:
            intent = "get_deal"
        return ParsedQuestion(intent, asin=asin, persona=persona, text=raw)

    if _WHY.search(low):
        if _DOMAIN.search(low):
            return ParsedQuestion("search_knowledge", persona=persona, text=raw)
        return ParsedQuestion("unknown", persona=persona, text=raw, notes=notes)
    acc = _parse_fields(raw_wo, body)
    acc.notes[:0] = notes
    has_filters = any(k in _FIELD_KEYS_THAT_ARE_FILTERS for k in acc.fields)
    if not has_filters and refers_back and _ADVICE.search(low):
        return ParsedQuestion(
            "unknown",
            persona=persona,
            text=raw,
            notes=["which deal? give me its ASIN or ISBN", *notes],
        )
    weak = {"text", "category", "seasonality"}  # words a concept question also contains
    if _KNOWLEDGE.search(low) and not (set(acc.fields) - weak):
        return ParsedQuestion("search_knowledge", persona=persona, text=raw)
    if has_filters or "limit" in acc.fields or "offset" in acc.fields:
        return _search(acc, persona, raw)
    if _KNOWLEDGE.search(low):
        return ParsedQuestion("search_knowledge", persona=persona, text=raw)
    if _DEAL_WORDS.search(low):
        return _search(acc, persona, raw)
    if _WHAT_IS.search(low) and _DOMAIN.search(low):
        return ParsedQuestion("search_knowledge", persona=persona, text=raw)
    if _GREETING.search(low) or not low:
        return ParsedQuestion("greeting", persona=persona, text=raw)
    return ParsedQuestion("unknown", persona=persona, text=raw, notes=notes)


def _search(acc: _Acc, persona: str | None, raw: str) -> ParsedQuestion:
    """A search question: its query, and notes on anything it could not use."""
    query = build_query(acc.fields, acc.notes)
    notes = list(acc.notes)
    if acc.unused:
        notes.append(unused_note(acc.unused))
    return ParsedQuestion(
        "search_deals", query=query, persona=persona, text=raw, notes=notes, unused=acc.unused
    )


def parse_filters(text: str) -> DealSearch:
    """Only the search filters of a message, whatever its intent (the evaluation set scores
    this)."""
    _, raw_wo = find_asin(clip(text.strip())[0])
    norm = _normalize(raw_wo)
    persona = detect_persona(norm)
    body = _strip_persona(norm) if persona else norm
    acc = _parse_fields(raw_wo, body)
    return build_query(acc.fields, acc.notes)


def persona_in(text: str) -> str | None:
    """The persona a raw message names or addresses ("Joel, ...", "ask the CFO"), if any (in
    the part of the message the parser reads)."""
    return detect_persona(_normalize(clip(text)[0]))


# ---------------------------------------------------------------------------------------------
# the admin's deal selection (set_deal_query)


def parse_selection(text: str) -> dict[str, Any] | None:
    """A Keepa selection change from a JSON object in the message, or from plain filters
    ("price under $40 and rank under 500k" -> currentRange / salesRankRange in cents)."""
    start, end = text.find("{"), text.rfind("}")  # r"\{.*\}" retried .* at every "{"
    if 0 <= start < end:
        try:
            data = json.loads(text[start : end + 1])
        except (ValueError, RecursionError):  # "{[[[[...]]]]}" nests deeper than json allows
            return None
        return data if isinstance(data, dict) else None
    q = parse_question(text.split("query", 1)[-1] if "query" in text else text)
    query = q.query if q.query is not None and q.query.filters() else parse_filters(text)
    fields: dict[str, Any] = dict(query.filters())
    sel: dict[str, Any] = {}
    if "min_price" in fields or "max_price" in fields:
        sel["currentRange"] = [
            round(fields.get("min_price", 0) * 100),
            round(fields.get("max_price", 10_000) * 100),
        ]
    if "max_rank" in fields:
        sel["salesRankRange"] = [1, int(fields["max_rank"])]
    if "min_percent_down" in fields:
        sel["deltaPercentRange"] = [int(fields["min_percent_down"]), 100]
    if fields.get("amazon_offer") is False:
        sel["mustNotHaveAmazonOffer"] = True
    return sel or None
