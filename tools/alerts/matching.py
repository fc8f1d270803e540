"""Which saved searches a batch of deals matches, evaluated in memory over numpy columns.

One SQL query per saved search per batch would be 10,000 queries for 10,000 alerts, so the
batch's deal rows are read once into columns and each search is a handful of vectorised
comparisons over them. The comparisons are the deal search's own WHERE terms
(tools/deals/search/filters.py `where_terms`), written the same way (money multiplied out over
net and cost, thresholds from the owner's settings, gating from their checked ASINs), and
tests hold the two to the same answers. Sorting and paging do not apply to an alert.

Words (title/author, author, publisher, category) match like the embedded default's full-text
search: every word must start a word of the field, accents and case ignored.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import RowMapping

from tools.deals.search.filters import VISIBLE_STATUSES, DealSearch, effective_thresholds
from tools.models import RestrictionStatus
from tools.user_settings import UserSettings

# The deal columns a batch needs (the search's filters and the money inputs).
DEAL_COLUMNS: tuple[str, ...] = (
    "asin",
    "status",
    "title",
    "author",
    "publisher",
    "category",
    "category_path",
    "price_now",
    "list_at",
    "amz_fees",
    "shipping_included",
    "sales_rank",
    "rank_drops_30",
    "rank_drops_90",
    "rank_drops_365",
    "seasonality",
    "peak_mask",
    "percent_down",
    "amazon_offer",
    "condition",
    "updated_at",
)

# DealSearch fields that shape a result page but not which deals match.
_PAGING = frozenset({"sort", "limit", "offset"})
# Every DealSearch field this matcher evaluates; a field added to the search and not here makes
# compile_search refuse (and a test fail) instead of an alert silently ignoring a filter.
HANDLED_FIELDS = frozenset(
    {
        "text",
        "author",
        "publisher",
        "category",
        "min_price",
        "max_price",
        "min_roi",
        "max_roi",
        "min_profit",
        "max_profit",
        "min_margin",
        "max_margin",
        "max_rank",
        "min_rank",
        "min_drops_30",
        "min_drops_90",
        "min_drops_365",
        "seasonality",
        "in_peak_now",
        "peak_month",
        "min_percent_down",
        "gated",
        "amazon_offer",
        "condition",
        "updated_within_hours",
        "include_unprofitable",
    }
    | _PAGING
)

_TOKEN = re.compile(r"[^\W_]+")  # FTS5 unicode61: runs of letters and digits

Mask = NDArray[np.bool_]
Term = tuple[Any, ...]  # one comparison, hashable: a batch computes each distinct one once
Row = Mapping[str, Any] | RowMapping  # a deal row as SQLAlchemy returns it, or a dict


def fold(text: str) -> str:
    """Lower case without accents (FTS5 unicode61's remove_diacritics)."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def tokens(text: str | None) -> list[str]:
    return _TOKEN.findall(fold(text)) if text else []


def _phrase_in(words: Sequence[str], phrase: Sequence[str]) -> bool:
    """The phrase's words appear consecutively, the last one as a prefix ("bio" -> Biology)."""
    n = len(phrase)
    for i in range(len(words) - n + 1):
        if words[i : i + n - 1] == list(phrase[:-1]) and words[i + n - 1].startswith(phrase[-1]):
            return True
    return False


def query_phrases(text: str) -> list[list[str]] | None:
    """The search's words as FTS phrases (first 8 words); None when no word has a letter or
    digit, which the full-text search answers with no match at all."""
    phrases = []
    for word in text.split()[:8]:
        if not re.search(r"\w", word):
            continue
        parts = tokens(word)
        if not parts:
            return None
        phrases.append(parts)
    return phrases or None


@dataclass
class DealBatch:
    """A batch of deal rows as columns; NaN stands for SQL NULL (comparisons are false)."""

    asins: list[str]
    cols: dict[str, NDArray[Any]]
    # per row, the tokens of each field a kind searches: "text" (title, author), "category"
    words: dict[str, list[tuple[list[str], ...]]]
    _word_masks: dict[tuple[str, str], Mask] = field(default_factory=dict)
    _costs: dict[tuple[float, float, float], NDArray[np.float64]] = field(default_factory=dict)
    terms: dict[Any, Mask] = field(default_factory=dict)  # each distinct term's mask, once

    @classmethod
    def from_rows(cls, rows: Iterable[Row]) -> DealBatch:
        rows = list(rows)

        def num(name: str) -> NDArray[np.float64]:
            return np.array(
                [np.nan if r[name] is None else float(r[name]) for r in rows], dtype=np.float64
            )

        def obj(name: str) -> NDArray[Any]:
            return np.array([r[name] for r in rows], dtype=object)

        cols: dict[str, NDArray[Any]] = {
            name: num(name)
            for name in (
                "price_now",
                "list_at",
                "amz_fees",
                "sales_rank",
                "rank_drops_30",
                "rank_drops_90",
                "rank_drops_365",
                "percent_down",
            )
        }
        for name in ("status", "seasonality", "condition"):
            cols[name] = obj(name)
        cols["shipping_included"] = np.array([bool(r["shipping_included"]) for r in rows])
        cols["peak_mask"] = np.array([int(r["peak_mask"] or 0) for r in rows], dtype=np.int64)
        cols["has_peak_mask"] = np.array([r["peak_mask"] is not None for r in rows])
        # amazon_offer is three-valued in SQL: NULL matches neither true nor false
        cols["amazon_true"] = np.array([r["amazon_offer"] is True for r in rows])
        cols["amazon_false"] = np.array([r["amazon_offer"] is False for r in rows])
        cols["updated_at"] = np.array(
            [r["updated_at"].timestamp() if r["updated_at"] else np.nan for r in rows]
        )
        cols["visible"] = np.isin(cols["status"], list(VISIBLE_STATUSES))
        cols["net"] = cols["list_at"] - cols["amz_fees"]
        words: dict[str, list[tuple[list[str], ...]]] = {
            "text": [(tokens(r["title"]), tokens(r["author"])) for r in rows],
            "author": [(tokens(r["author"]),) for r in rows],
            "publisher": [(tokens(r["publisher"]),) for r in rows],
            "category": [(tokens(r["category_path"]),) for r in rows],
        }
        return cls(asins=[r["asin"] for r in rows], cols=cols, words=words)

    def __len__(self) -> int:
        return len(self.asins)

    def cost(self, settings: UserSettings) -> NDArray[np.float64]:
        """All-in cost under these settings (money_sql's expression, per row)."""
        key = (settings.tax_pct, settings.prep_fee, settings.inbound_shipping)
        if key not in self._costs:
            fixed = np.where(
                self.cols["shipping_included"],
                settings.prep_fee,
                settings.prep_fee + settings.inbound_shipping,
            )
            self._costs[key] = self.cols["price_now"] * (1.0 + settings.tax_pct / 100.0) + fixed
        return self._costs[key]

    def word_mask(self, kind: str, text: str) -> Mask:
        key = (kind, text)
        if key not in self._word_masks:
            phrases = query_phrases(text)
            if phrases is None:
                mask = np.zeros(len(self), dtype=bool)
            else:
                mask = np.array(
                    [
                        all(any(_phrase_in(ws, p) for ws in fields) for p in phrases)
                        for fields in self.words[kind]
                    ],
                    dtype=bool,
                )
            self._word_masks[key] = mask
        return self._word_masks[key]


@dataclass(frozen=True)
class Gating:
    """One seller's checked ASINs within the batch."""

    restricted: Mask
    not_restricted: Mask


def gating_masks(asins: Sequence[str], statuses: Iterable[tuple[str, int]]) -> Gating:
    """statuses: (asin, status) rows of one user's user_restriction for the batch."""
    index = {a: i for i, a in enumerate(asins)}
    restricted = np.zeros(len(asins), dtype=bool)
    ok = np.zeros(len(asins), dtype=bool)
    for asin, status in statuses:
        i = index.get(asin)
        if i is None:
            continue
        if int(status) == int(RestrictionStatus.restricted):
            restricted[i] = True
        elif int(status) == int(RestrictionStatus.not_restricted):
            ok[i] = True
    return Gating(restricted, ok)


class UnsupportedFilter(ValueError):
    """A saved search uses a filter the alert matcher cannot evaluate."""


@dataclass(frozen=True)
class CompiledSearch:
    """A saved search ready to evaluate: the query, its owner's settings and thresholds."""

    search_id: int
    owner_id: int
    query: DealSearch
    settings: UserSettings
    min_roi: float | None
    min_profit: float | None
    gated: str
    terms: tuple[Term, ...] = ()

    @property
    def needs_gating(self) -> bool:
        return self.gated != "include"


def compile_search(
    search_id: int, owner_id: int, query: DealSearch | Mapping[str, Any], settings: UserSettings
) -> CompiledSearch:
    q = query if isinstance(query, DealSearch) else DealSearch.model_validate(dict(query))
    unknown = set(DealSearch.model_fields) - HANDLED_FIELDS
    used_unknown = sorted(name for name in unknown if name in q.model_fields_set)
    if used_unknown:
        raise UnsupportedFilter(f"alerts cannot evaluate: {', '.join(used_unknown)}")
    eff = effective_thresholds(q, settings)
    compiled = CompiledSearch(
        search_id, owner_id, q, settings, eff["min_roi"], eff["min_profit"], eff["gated"]
    )
    return replace(compiled, terms=search_terms(compiled))


def search_terms(search: CompiledSearch) -> tuple[Term, ...]:
    """The search's WHERE as terms (filters._word_terms, _money_terms and _market_terms), the
    most selective first. Many searches share terms ("max_price 30", "ROI >= 50 % at the
    default settings"), and a batch evaluates each distinct term once."""
    q, st = search.query, search.settings
    money = (st.tax_pct, st.prep_fee, st.inbound_shipping)
    terms: list[Term] = [
        ("words", kind, getattr(q, kind)) for kind in WORD_KINDS if getattr(q, kind)
    ]
    for op, col_, value in (
        ("ge", "price_now", q.min_price),
        ("le", "price_now", q.max_price),
        ("le", "sales_rank", q.max_rank),
        ("ge", "sales_rank", q.min_rank),
        ("ge", "rank_drops_30", q.min_drops_30),
        ("ge", "rank_drops_90", q.min_drops_90),
        ("ge", "rank_drops_365", q.min_drops_365),
        ("ge", "percent_down", q.min_percent_down),
        ("eq", "seasonality", q.seasonality),
        ("eq", "condition", q.condition),
    ):
        if value is not None:
            terms.append((op, col_, value))
    for name, value in (
        ("roi_ge", search.min_roi),
        ("roi_le", q.max_roi),
        ("profit_ge", search.min_profit),
        ("profit_le", q.max_profit),
        ("margin_ge", q.min_margin),
        ("margin_le", q.max_margin),
    ):
        if value is not None:
            terms.append((name, money, float(value)))
    implied = (search.min_roi is not None and search.min_roi > 0) or (
        search.min_profit is not None and search.min_profit > 0
    )
    if not q.include_unprofitable and not implied:
        terms.append(("profitable", money))
    if q.updated_within_hours is not None:
        terms.append(("since", q.updated_within_hours))
    if q.in_peak_now:
        terms.append(("peak_now",))
    if q.peak_month is not None:
        terms.append(("peak", q.peak_month))
    if q.amazon_offer is not None:
        terms.append(("amazon", q.amazon_offer))
    return tuple(terms)


WORD_KINDS = ("text", "author", "publisher", "category")


def _term_mask(batch: DealBatch, term: Term, settings: UserSettings, now: datetime) -> Mask:
    """One term over the batch (NaN compares false, as NULL does in SQL)."""
    c, kind = batch.cols, term[0]
    with np.errstate(invalid="ignore"):
        if kind == "words":
            return batch.word_mask(term[1], term[2])
        if kind in ("ge", "le", "eq"):
            column, value = c[term[1]], term[2]
            if kind == "ge":
                return np.asarray(column >= value, dtype=bool)
            if kind == "le":
                return np.asarray(column <= value, dtype=bool)
            return np.asarray(column == value, dtype=bool)
        if kind in MONEY_TERMS:
            net, list_at, cost = c["net"], c["list_at"], batch.cost(settings)
            if kind == "profitable":
                return np.asarray(net > cost, dtype=bool)
            v = term[2]
            out = {
                "roi_ge": lambda: net >= cost * (1.0 + v / 100.0),
                "roi_le": lambda: net <= cost * (1.0 + v / 100.0),
                "profit_ge": lambda: net >= cost + v,
                "profit_le": lambda: net <= cost + v,
                "margin_ge": lambda: (list_at > 0) & (net - cost >= list_at * (v / 100.0)),
                "margin_le": lambda: (list_at > 0) & (net - cost <= list_at * (v / 100.0)),
            }[kind]()
            return np.asarray(out, dtype=bool)
        if kind == "since":
            since = (now - timedelta(hours=term[1])).timestamp()
            return np.asarray(c["updated_at"] >= since, dtype=bool)
        if kind in ("peak", "peak_now"):
            month = now.month if kind == "peak_now" else term[1]
            return np.asarray(
                c["has_peak_mask"] & ((c["peak_mask"] & (1 << (month - 1))) != 0), dtype=bool
            )
        if kind == "amazon":
            return c["amazon_true"] if term[1] else c["amazon_false"]
    raise ValueError(f"unknown alert term {kind!r}")


MONEY_TERMS = frozenset(
    {"roi_ge", "roi_le", "profit_ge", "profit_le", "margin_ge", "margin_le", "profitable"}
)


def evaluate(
    search: CompiledSearch, batch: DealBatch, now: datetime, gating: Gating | None = None
) -> Mask:
    """Which rows of the batch the search matches (the deal search's WHERE, row by row)."""
    mask: Mask = batch.cols["visible"]
    for n, term in enumerate(search.terms):
        key = (term, now) if term[0] in ("since", "peak_now") else term
        cached = batch.terms.get(key)
        if cached is None:
            cached = batch.terms[key] = _term_mask(batch, term, search.settings, now)
        mask = mask & cached
        if n == 0 and not mask.any():  # the first term is the most selective (the words)
            return mask
    if search.gated != "include":
        if gating is None:
            raise ValueError("this search needs its owner's gating")
        mask = mask & ~gating.restricted
        if search.gated == "only_ungated":
            mask = mask & gating.not_restricted
    return mask
