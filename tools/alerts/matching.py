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
from dataclasses import dataclass, field
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
    return CompiledSearch(
        search_id, owner_id, q, settings, eff["min_roi"], eff["min_profit"], eff["gated"]
    )


def evaluate(
    search: CompiledSearch, batch: DealBatch, now: datetime, gating: Gating | None = None
) -> Mask:
    """Which rows of the batch the search matches (the deal search's WHERE, row by row)."""
    q, c = search.query, batch.cols
    mask: Mask = c["visible"].copy()
    for kind in ("text", "author", "publisher", "category"):
        words = getattr(q, kind)
        if words:
            mask &= batch.word_mask(kind, words)
    price = c["price_now"]
    if q.min_price is not None:
        mask &= price >= q.min_price
    if q.max_price is not None:
        mask &= price <= q.max_price
    mask &= _money_mask(search, batch)
    mask &= _market_mask(q, batch, now)
    if search.gated != "include":
        if gating is None:
            raise ValueError("this search needs its owner's gating")
        mask &= ~gating.restricted
        if search.gated == "only_ungated":
            mask &= gating.not_restricted
    return mask


def _money_mask(search: CompiledSearch, batch: DealBatch) -> Mask:
    """filters._money_terms, multiplied out the same way (same floating-point results)."""
    q = search.query
    net, cost, list_at = batch.cols["net"], batch.cost(search.settings), batch.cols["list_at"]
    mask: Mask = np.ones(len(batch), dtype=bool)
    with np.errstate(invalid="ignore"):
        if search.min_roi is not None:
            mask &= net >= cost * (1.0 + search.min_roi / 100.0)
        if q.max_roi is not None:
            mask &= net <= cost * (1.0 + q.max_roi / 100.0)
        if search.min_profit is not None:
            mask &= net >= cost + search.min_profit
        if q.max_profit is not None:
            mask &= net <= cost + q.max_profit
        if q.min_margin is not None:
            mask &= (list_at > 0) & (net - cost >= list_at * (q.min_margin / 100.0))
        if q.max_margin is not None:
            mask &= (list_at > 0) & (net - cost <= list_at * (q.max_margin / 100.0))
        implied = (search.min_roi is not None and search.min_roi > 0) or (
            search.min_profit is not None and search.min_profit > 0
        )
        if not q.include_unprofitable and not implied:
            mask &= net > cost
    return mask


def _market_mask(q: DealSearch, batch: DealBatch, now: datetime) -> Mask:
    """filters._market_terms."""
    c = batch.cols
    mask: Mask = np.ones(len(batch), dtype=bool)
    with np.errstate(invalid="ignore"):
        if q.max_rank is not None:
            mask &= c["sales_rank"] <= q.max_rank
        if q.min_rank is not None:
            mask &= c["sales_rank"] >= q.min_rank
        for days in (30, 90, 365):
            value = getattr(q, f"min_drops_{days}")
            if value is not None:
                mask &= c[f"rank_drops_{days}"] >= value
        if q.min_percent_down is not None:
            mask &= c["percent_down"] >= q.min_percent_down
        if q.updated_within_hours is not None:
            since = (now - timedelta(hours=q.updated_within_hours)).timestamp()
            mask &= c["updated_at"] >= since
    if q.seasonality is not None:
        mask &= c["seasonality"] == q.seasonality
    months = ([now.month] if q.in_peak_now else []) + (
        [q.peak_month] if q.peak_month is not None else []
    )
    for month in months:
        mask &= c["has_peak_mask"] & ((c["peak_mask"] & (1 << (month - 1))) != 0)
    if q.amazon_offer is not None:
        mask &= c["amazon_true"] if q.amazon_offer else c["amazon_false"]
    if q.condition is not None:
        mask &= c["condition"] == q.condition
    return mask
