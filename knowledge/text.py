"""Small text helpers shared by store, retrieval and extraction: tokens, categories, similarity.

Similarity is rapidfuzz's edit-distance ratios plus token-set overlap (Jaccard): reworded
punctuation, reordered words and small edits all count as "the same rule".
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache

from rapidfuzz import fuzz

_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
_STOPWORDS_TEXT = """a about above after again against all am an and any are as at be because been
    before being below between both but by can could did do does doing down during each few for from
    further had has have having he her here hers him his how i if in into is it its itself just
    me more most my no nor not now of off on once only or other our out over own same she should
    so some such than that the their them then there these they this those through to too under
    until up very was we were what when where which while who whom why will with would you your
    yours s t don't isn't it's"""
STOPWORDS = frozenset(_STOPWORDS_TEXT.split())

CATEGORY_KEYWORDS: dict[str, tuple[str, ...]] = {
    "textbooks": (
        "textbook",
        "college",
        "semester",
        "edition",
        "student",
        "campus",
        "course",
        "isbn",
        "counterfeit",
    ),
    "seasonal": (
        "season",
        "seasonal",
        "seasonality",
        "peak",
        "trough",
        "holiday",
        "q4",
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
        "off-season",
    ),
    "fees": ("fee", "fees", "referral", "closing", "pick-and-pack", "fulfillment", "storage"),
    "gating": (
        "gated",
        "gating",
        "ungated",
        "restricted",
        "restriction",
        "approval",
        "ungate",
        "brand registry",
    ),
    "risk": ("risk", "trust", "ghost", "counterfeit", "variance", "stale", "return"),
    "pricing": ("price", "pricing", "buy box", "list at", "undercut", "repricing"),
}
_CATEGORY_RES = {
    cat: re.compile(r"\b(?:" + "|".join(map(re.escape, words)) + ")")
    for cat, words in CATEGORY_KEYWORDS.items()
}
DEFAULT_CATEGORY = "general"
MAX_CATEGORY_LEN = 32


def tokens(text: str, *, keep_stopwords: bool = False) -> list[str]:
    """Lower-case word tokens (stopwords dropped unless asked)."""
    words = _WORD.findall(text.lower())
    return words if keep_stopwords else [w for w in words if w not in STOPWORDS]


def iter_tokens(text: str) -> Iterator[str]:
    """tokens() one at a time: a caller that needs the first few stops reading there (a
    100 KB chat message is a retrieval query too)."""
    for m in _WORD.finditer(text.lower()):
        if m.group(0) not in STOPWORDS:
            yield m.group(0)


@lru_cache(maxsize=65536)
def _stem(word: str) -> str:
    # Just enough folding that "textbooks"/"textbook" and "prices"/"price" compare equal.
    for suffix in ("ings", "ing", "ies", "es", "s"):
        if len(word) > len(suffix) + 2 and word.endswith(suffix):
            return word[: -len(suffix)] + ("y" if suffix == "ies" else "")
    return word


def token_set(text: str) -> frozenset[str]:
    return _features(text)[1]


def normalize(text: str) -> str:
    return _features(text)[0]


@lru_cache(maxsize=8192)
def _features(text: str) -> tuple[str, frozenset[str]]:
    """Normalized text and stemmed token set, cached: duplicate checks compare the same stored
    texts again and again."""
    words = tokens(text, keep_stopwords=True)
    return " ".join(words), frozenset(_stem(w) for w in words if w not in STOPWORDS)


def similarity(a: str, b: str) -> float:
    """0..1: the higher of character-sequence similarity and token-set Jaccard overlap.

    Either catches a different kind of near-duplicate: reworded punctuation and small edits
    (sequence) or the same words in another order (set overlap).
    """
    na, nb = normalize(a), normalize(b)
    if not na or not nb:
        return 0.0
    seq = max(fuzz.ratio(na, nb), fuzz.token_sort_ratio(na, nb)) / 100.0
    sa, sb = token_set(a), token_set(b)
    jac = len(sa & sb) / len(sa | sb) if sa and sb else 0.0
    return max(seq, jac)


def normalize_category(category: str | None) -> str:
    """A short lower-case slug; empty means "general"."""
    slug = re.sub(r"[^a-z0-9]+", "-", (category or "").strip().lower()).strip("-")
    return slug[:MAX_CATEGORY_LEN] or DEFAULT_CATEGORY


def guess_category(text: str) -> str:
    """Keyword vote over CATEGORY_KEYWORDS; textbooks win ties because they dominate the trade."""
    low = text.lower()
    best, best_score = DEFAULT_CATEGORY, 0
    for cat, pattern in _CATEGORY_RES.items():
        score = len(set(pattern.findall(low)))
        score *= 2 if cat == "textbooks" else 1  # the most specific category for this trade
        if score > best_score:
            best, best_score = cat, score
    return best
