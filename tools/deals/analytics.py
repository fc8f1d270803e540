"""Deal analytics: one Keepa product dict -> one `DealRecord` (pure; no I/O).

Every metric follows docs/domain.md "Deal analytics"; where a rule there leaves a choice open, the
choice is written next to the code that makes it. Histories are read as numpy arrays
(tools/deals/series.py says why not `keepa.parse_csv`); loops run only over events (offer drops
that found no rank drop, the 12 months, the <= 100 offers), never over history points.

Missing inputs never turn into zeros: the dependent fields stay None and `missing[field]` says
why, so a user sees "unknown" rather than a number that looks like data.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np

from tools.deals import money as m
from tools.deals import series as s
from tools.user_settings import UserSettings

INFER_WINDOW_MIN = 240 * 60  # rank drop within 240 h of the offer-count drop
LOOKAHEAD_MIN = 30 * s.MINUTES_PER_DAY  # else a better rank within 30 days counts
# a rank improvement is a fall of at least 1 % from the rank before it, not any decrease (a
# wiggle of a few hundred places at rank 400,000 is no sale). Measured against Keepa's
# salesRankDrops365 (rank-only sales): the two real answers in tests/fixtures/keepa give
# 303/424 and 74/99 at 1 %, 258/424 and 69/99 at 2 %, 171/424 and 55/99 at 5 %; the sandbox
# market (seed 7, 53 products with >= 5 drops) is within 1.5x for 100 % at 1 %, 74 % at 5 %
RANK_IMPROVEMENT = 0.01
SALES_WINDOWS = (30, 90, 365)  # days: inferred sales counted beside Keepa's rank drops
YEAR_MIN = 365 * s.MINUTES_PER_DAY
CHART_WINDOW_MIN = 2 * YEAR_MIN  # history kept for charts
MAX_LIST_AT_CENTS = 150_000  # docs/domain.md "Deal analytics": over $1,500 is rejected
AMAZON_CAP = 0.90  # List at <= 90 % of the lowest Amazon new price


def amazon_cap_cents(amazon_new_low: float) -> int:
    """The highest List at (cents) the 90 % Amazon cap allows: floored, so rounding to the
    cent can never lift a price above the cap (a $1.95 Amazon price caps at $1.75, not $1.76)."""
    return math.floor(AMAZON_CAP * amazon_new_low * 100.0 + 1e-9)


AMAZON_SELLER_ID = "ATVPDKIKX0DER"
WILSON_Z = 1.96

# Keepa offer condition codes (1 = new) -> our used conditions.
OFFER_CONDITIONS = {2: "like_new", 3: "very_good", 4: "good", 5: "acceptable"}
STATS_CONDITIONS = {
    s.USED_LIKE_NEW: "like_new",
    s.USED_VERY_GOOD: "very_good",
    s.USED_GOOD: "good",
    s.USED_ACCEPTABLE: "acceptable",
}

TEXTBOOK_MONTHS = frozenset({8, 9, 1})
HOLIDAY_MONTHS = frozenset({11, 12})
SUMMER_MONTHS = frozenset({5, 6, 7})
_HINTS: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "exam_prep",
        re.compile(
            r"\b(test prep(aration)?|exam|study guide|review book|practice tests?|mcat|lsat|gmat|"
            r"gre|nclex|cpa|pmp|comptia|usmle|praxis|certification)\b",
            re.I,
        ),
    ),
    (
        "holiday",
        re.compile(
            r"\b(christmas|holiday|halloween|thanksgiving|hanukkah|advent|santa|xmas)\b", re.I
        ),
    ),
    ("summer", re.compile(r"\b(summer|beach|pool|swim(ming)?)\b", re.I)),
    ("textbook", re.compile(r"\b(textbooks?|\d+(st|nd|rd|th) edition)\b", re.I)),
)


class DealInputError(ValueError):
    """The product dict cannot be analysed; the message names the ASIN and the field."""


@dataclass(frozen=True, slots=True)
class SellerInfo:
    """The Price Now seller's feedback from Keepa /seller/ (`rating` 0-500, `ratingCount`)."""

    rating: float
    rating_count: int

    def __post_init__(self) -> None:
        if not 0 <= self.rating <= 500:
            raise ValueError(f"seller rating must be 0-500, got {self.rating}")
        if self.rating_count < 0:
            raise ValueError(f"seller rating_count must be >= 0, got {self.rating_count}")


def wilson_lower_bound(fraction: float, trials: int, z: float = WILSON_Z) -> float | None:
    """Lower bound of the Wilson score interval: a rating backed by few reviews scores low."""
    if trials <= 0:
        return None
    n, p = float(trials), min(max(fraction, 0.0), 1.0)
    z2 = z * z
    centre = p + z2 / (2 * n)
    spread = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    return (centre - spread) / (1 + z2 / n)


def seller_quality_score(info: SellerInfo | None) -> float | None:
    """0-10 score (10 x the Wilson lower bound of a 0-500 rating): the "seller >= 5/10" scale."""
    if info is None:
        return None
    low = wilson_lower_bound(info.rating / 500.0, info.rating_count)
    return None if low is None else low * 10.0


@dataclass(frozen=True, slots=True)
class PriceNow:
    price: float  # dollars, price + shipping
    condition: str
    source: str  # "offers" | "stats"
    seller_id: str | None = None
    is_fba: bool | None = None


def untrusted_offer(offer: dict[str, Any]) -> bool:
    """Keepa marks an offer `isScam` (a live scam listing, often absurdly cheap) or
    `isShippable: false` (it cannot reach a US buyer): neither can be bought, so neither is
    Price Now (docs/domain.md "Deal analytics")."""
    return bool(offer.get("isScam")) or offer.get("isShippable") is False


def price_now_from_offers(
    offers: list[dict[str, Any]], live_order: list[int] | None, *, skip_untrusted: bool = True
) -> PriceNow | None:
    """Lowest total (price + shipping) live used offer; on equal totals the better condition.

    Live offers are those listed in `liveOffersOrder` (all offers when it is None). An offer's
    current price is the last triplet of its `offerCSV`. MFN offers with unknown shipping (-1)
    are rejected; FBA offers with unknown shipping count as free shipping. Scam and unshippable
    offers are skipped unless `skip_untrusted=False` (to tell whether skipping moved the price).
    """
    indices = live_order if isinstance(live_order, list) else range(len(offers))
    best: tuple[int, int, PriceNow] | None = None
    for i in indices:
        if not isinstance(i, int) or not 0 <= i < len(offers):
            continue
        offer = offers[i]
        cond = OFFER_CONDITIONS.get(offer.get("condition"))  # type: ignore[arg-type]
        ocsv = offer.get("offerCSV") or []
        if cond is None or len(ocsv) < 3 or (skip_untrusted and untrusted_offer(offer)):
            continue
        price, ship = ocsv[-2], ocsv[-1]
        if price is None or price <= 0:
            continue
        fba = bool(offer.get("isFBA"))
        if ship is None or ship < 0:
            if not fba:
                continue
            ship = 0
        total = int(price) + int(ship)
        # a lower condition code is a better condition (2 like new ... 5 acceptable)
        rank = int(offer["condition"])
        if best is None or (total, rank) < best[:2]:
            best = (
                total,
                rank,
                PriceNow(total / 100.0, cond, "offers", offer.get("sellerId"), fba),
            )
    return best[2] if best else None


def price_now_from_stats(stats: dict[str, Any] | None) -> PriceNow | None:
    """Fallback without offers: lowest `stats.current` used-by-condition price (19-22), which
    includes shipping. Never the plain USED price (2): it leaves shipping out, so a $3.99
    shipping charge would be missing from the cost and show as profit."""
    best: tuple[int, str] | None = None
    for idx, cond in STATS_CONDITIONS.items():
        v = s.stat_value(stats, "current", idx)
        if v and (best is None or v < best[0]):
            best = (v, cond)
    return PriceNow(best[0] / 100.0, best[1], "stats") if best else None


@dataclass(frozen=True, slots=True)
class InferredSales:
    times: np.ndarray  # Keepa minutes of each sale (the offer-count drop, or the rank drop)
    prices: np.ndarray  # cents (float), NaN where the used price was unknown
    offer_drops: int
    from_rank: bool = False  # no offer-count drops on record: sales are the rank drops


def rank_improvements(
    csv: list[Any] | s.Histories | None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Rank points that are a real improvement: at least RANK_IMPROVEMENT better than the rank
    just before (a relative step, so a 0.5 % wiggle at rank 400,000 is not a sale while a
    fall to 90,000 is). Returns (times, ranks) of the improvements and the known ranks."""
    rt, rv = s.pairs(csv, s.SALES)
    keep = rv > 0
    rt, rv = rt[keep], rv[keep]
    if rt.size < 2:
        return rt[:0], rv[:0], rt, rv
    better = np.flatnonzero(rv[1:] <= rv[:-1] * (1.0 - RANK_IMPROVEMENT)) + 1
    return rt[better], rv[better], rt, rv


def infer_sales(csv: list[Any] | s.Histories | None) -> InferredSales:
    """Inferred sales (docs/domain.md "Deal analytics"): a used offer-count drop confirmed by
    a real sales-rank improvement (see `rank_improvements`).

    - Offer drop: COUNT_USED falls between consecutive points (time t).
    - Confirmed by the first improvement in [t, t + 240 h] that no earlier offer drop took:
      one improvement is one sale, so it confirms one offer drop (before, one improvement
      confirmed every drop in its window and sales came out ~2x Keepa's rank drops).
      Keepa often logs the count and the rank at the same minute, so t counts.
    - Else look ahead 30 days: the first improvement left unused by those 240 h matches in
      [t, t + 30 d] to a rank at least RANK_IMPROVEMENT better than the rank just before t.
    - No offer-count drop anywhere in the history (the series is empty or never falls), yet
      the rank improves: the offer-count signal is missing, not the sales, so each rank
      improvement is a sale (`from_rank`).
    - Sale price: the lowest used price (USED) in effect just *before* t, because the offer
      that sold is the one that vanished at t (the value at t is the next-cheapest offer);
      when nothing precedes t, the value at t.
    """
    ct, cv = s.pairs(csv, s.COUNT_USED)
    keep = cv >= 0
    ct, cv = ct[keep], cv[keep]
    td = ct[np.flatnonzero(cv[1:] < cv[:-1]) + 1] if ct.size >= 2 else ct[:0]
    it, iv, rt, rv = rank_improvements(csv)
    if td.size == 0:
        times, from_rank = it, it.size > 0
    else:
        from_rank = False
        sold = np.zeros(td.size, dtype=bool)
        used = [False] * it.size
        start = np.searchsorted(it, td, side="left").tolist()
        soon = np.searchsorted(it, td + INFER_WINDOW_MIN, side="right").tolist()
        late = np.searchsorted(it, td + LOOKAHEAD_MIN, side="right").tolist()
        limit = (s.value_at(rt, rv, td, strictly_before=True) * (1.0 - RANK_IMPROVEMENT)).tolist()
        ranks = iv.tolist()
        # one iteration per offer drop (an event), not per history point; the 240 h matches
        # go first so a drop's 30-day look-ahead never takes the improvement of a later sale
        for i in range(td.size):
            for k in range(start[i], soon[i]):
                if not used[k]:
                    used[k] = sold[i] = True
                    break
        for i in np.flatnonzero(~sold).tolist():
            if limit[i] <= 0:  # no rank before the drop to beat
                continue
            for k in range(start[i], late[i]):
                if not used[k] and ranks[k] <= limit[i]:
                    used[k] = sold[i] = True
                    break
        times = td[sold]
    ut, uv = s.pairs(csv, s.USED)
    price = s.value_at(ut, uv, times, strictly_before=True)
    price = np.where(price > 0, price, s.value_at(ut, uv, times))
    prices = np.where(price > 0, price.astype(float), np.nan)
    return InferredSales(times, prices, int(td.size), bool(from_rank))


@dataclass(frozen=True, slots=True)
class SeasonalMonths:
    peak: tuple[int, ...]
    trough: tuple[int, ...]
    flat: bool  # sale prices barely move with the month


def _median(values: np.ndarray) -> float:
    """np.median without its dispatch overhead (tens of µs per call on tiny arrays)."""
    v = np.sort(values)
    n = v.size
    return float(v[n // 2]) if n % 2 else float((v[n // 2 - 1] + v[n // 2]) / 2)


def _in_months(months: np.ndarray, mask: int) -> np.ndarray:
    """Which entries fall in the months of a 12-bit mask (bit m-1 = month m)."""
    found: np.ndarray = (np.left_shift(1, months - 1) & mask) != 0
    return found


def seasonal_months(months: np.ndarray, prices: np.ndarray) -> SeasonalMonths | None:
    """Peak and trough months from inferred sales by month (needs >= 3 priced sales in >= 2
    months).

    Peak = the months whose median sale price is within 10 % of the price range from the top
    (when the market pays most: when to sell); trough = within 10 % from the bottom (when to
    buy). When the monthly medians differ by < 5 %, price says nothing, so sales volume
    decides: the busiest months are the peak and the quietest the trough.
    """
    if prices.size < 3:
        return None
    order = np.lexsort((prices, months))
    sm, sp = months[order], prices[order]
    starts = np.flatnonzero(np.concatenate(([True], sm[1:] != sm[:-1])))
    if starts.size < 2:
        return None
    present = sm[starts]
    counts = np.diff(np.append(starts, sm.size))
    # per-month median, vectorised over the month groups of the sorted prices
    med = (sp[starts + (counts - 1) // 2] + sp[starts + counts // 2]) / 2.0
    hi, lo = float(med.max()), float(med.min())
    if hi - lo > 0.05 * hi:
        band = 0.10 * (hi - lo)
        peak, trough, flat = present[med >= hi - band], present[med <= lo + band], False
    else:
        peak, trough, flat = (
            present[counts == counts.max()],
            present[counts == counts.min()],
            True,
        )
    return SeasonalMonths(tuple(int(x) for x in peak), tuple(int(x) for x in trough), flat)


def keyword_hint(*texts: str | None) -> str | None:
    """Seasonality hint from title / category / binding words (first matching rule wins)."""
    text = " ".join(t for t in texts if t)
    for label, pattern in _HINTS:
        if pattern.search(text):
            return label
    return None


def seasonality_label(hint: str | None, months: SeasonalMonths | None, media: bool) -> str | None:
    """Keyword hints win (they name the demand driver); otherwise the peak months decide:
    >= half of them in Aug/Sep/Jan -> textbook (books only), Nov/Dec -> holiday,
    May-Jul -> summer; flat prices or >= 6 peak months -> year_round. None without evidence.
    """
    if hint:
        return hint
    if months is None:
        return None
    peak = set(months.peak)
    if months.flat or len(peak) >= 6:
        return "year_round"

    def share(group: frozenset[int]) -> float:
        return len(peak & group) / len(peak)

    if media and share(TEXTBOOK_MONTHS) >= 0.5:
        return "textbook"
    if share(HOLIDAY_MONTHS) >= 0.5:
        return "holiday"
    if share(SUMMER_MONTHS) >= 0.5:
        return "summer"
    return "year_round"


def mode_price(prices: np.ndarray) -> float:
    """Most frequent price; when several share the top count, their median (stable and not
    biased toward the highest of equally common prices)."""
    values, counts = np.unique(prices, return_counts=True)
    return _median(values[counts == counts.max()])


def trend_direction(csv: list[Any] | s.Histories | None) -> str | None:
    """Direction of the last 3-10 distinct used prices: the least-squares slope over the
    window, as a share of its mean; beyond ±5 % over the window is up/down, else flat."""
    _, uv = s.pairs(csv, s.USED)
    uv = uv[uv > 0]
    if uv.size == 0:
        return None
    uv = uv[np.concatenate(([True], uv[1:] != uv[:-1]))][-10:]
    if uv.size < 3:
        return None
    n = uv.size
    x = np.arange(n, dtype=float) - (n - 1) / 2.0
    y = uv.astype(float)
    mean = float(y.sum()) / n
    slope = float((x * (y - mean)).sum() / (x * x).sum())
    change = slope * (n - 1) / mean
    return "up" if change > 0.05 else "down" if change < -0.05 else "flat"


@dataclass(slots=True, kw_only=True)
class DealRecord:
    """Every Deal column analytics can fill, the DealHistory series, and why fields are empty.

    A slotted dataclass, not a model (analytics fills thousands a second); its fields are held
    to tools.models.DealFields and DealMoney by tests/unit/test_deal_fields.py.

    Money fields (all_in_cost ... min_listing_price) are under the `settings` passed to
    `analyse_product`; `tools.deals.store.deal_row` stores the policy-default version.
    """

    asin: str
    title: str | None = None
    author: str | None = None
    publisher: str | None = None
    binding: str | None = None
    category: str | None = None
    root_category_id: int | None = None
    category_path: str | None = None
    publication_year: int | None = None
    image_url: str | None = None
    # market state
    condition: str | None = None
    price_now: float | None = None
    price_now_source: str | None = None
    shipping_included: bool = False
    sales_rank: int | None = None
    rank_drops_30: int | None = None
    rank_drops_90: int | None = None
    rank_drops_180: int | None = None
    rank_drops_365: int | None = None
    offers_used: int | None = None
    offers_new: int | None = None
    offers_fba: int | None = None
    offers_fbm: int | None = None
    amazon_offer: bool | None = None
    buy_box_amazon_share: float | None = None
    amazon_new_low: float | None = None
    # analytics
    avg_1yr: float | None = None
    percent_down: float | None = None
    inferred_sales_count: int | None = None
    # inferred sales in the last 30/90/365 days, beside Keepa's rank_drops_30/90/365
    inferred_sales_30: int | None = None
    inferred_sales_90: int | None = None
    inferred_sales_365: int | None = None
    offer_drops_count: int | None = None
    deal_trust: float | None = None
    seller_id: str | None = None
    seller_quality: float | None = None  # 0-10: 10 × Wilson lower bound of the rating
    trend: str | None = None
    peak_months: str | None = None
    trough_months: str | None = None
    peak_mask: int | None = None
    seasonality: str | None = None
    list_at: float | None = None
    expected_trough_price: float | None = None
    # money inputs and results
    referral_pct: float | None = None
    referral_min: float | None = None
    fba_fee: float | None = None
    fba_fee_source: str | None = None  # "keepa" | "estimate"
    closing_fee: float | None = None
    amz_fees: float | None = None
    all_in_cost: float | None = None
    profit: float | None = None
    margin: float | None = None
    roi: float | None = None
    min_listing_price: float | None = None
    keepa_last_update: datetime | None = None
    # Keepa's plain used price (no shipping): never Price Now, only a hint that offers exist
    used_price_hint: float | None = None
    missing: dict[str, str] = field(default_factory=dict)
    # DealHistory
    used_price_history: dict[str, list[Any]] | None = None
    sales_rank_history: dict[str, list[Any]] | None = None
    amazon_price_history: dict[str, list[Any]] | None = None
    new_price_history: dict[str, list[Any]] | None = None
    inferred_sales: list[dict[str, Any]] = field(default_factory=list)

    def money_inputs(self) -> m.MoneyInputs:
        return m.MoneyInputs(
            self.price_now,
            self.list_at,
            self.referral_pct,
            self.referral_min,
            self.fba_fee,
            self.closing_fee,
            self.shipping_included,
        )


def _validate(product: object) -> dict[str, Any]:
    """Shape check before any indexing, via tools.keepa's validator (the keepa package's own
    backend model); a defect becomes a DealInputError naming the ASIN and field."""
    try:
        from tools.keepa.errors import MalformedProduct
        from tools.keepa.parsing import validate_product
    except ImportError:  # pragma: no cover - tools.keepa ships with this package
        if not isinstance(product, dict) or not isinstance(product.get("asin"), str):
            raise DealInputError("product must be a Keepa product object with an 'asin'") from None
        return product
    try:
        return validate_product(product, require_history=False, require_stats=False)
    except MalformedProduct as err:
        raise DealInputError(str(err)) from err


def _months_csv(months: tuple[int, ...] | None) -> str | None:
    return ",".join(str(x) for x in sorted(months)) if months else None


def _mask(months: tuple[int, ...] | None) -> int | None:
    return sum(1 << (x - 1) for x in set(months)) if months else None


def _publisher(product: dict[str, Any]) -> str | None:
    """The book's publisher: Keepa's `publisher`, else `manufacturer` (what Keepa fills for
    books), trimmed; None when neither is a non-empty string."""
    for key in ("publisher", "manufacturer"):
        value = product.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()[:200]
    return None


def _publication_year(value: object) -> int | None:
    if not isinstance(value, int) or value <= 0:
        return None
    year = int(str(value)[:4])
    return year if 1400 <= year <= 2100 else None


def _image_url(product: dict[str, Any]) -> str | None:
    images = product.get("images")
    name = None
    if isinstance(images, list) and images and isinstance(images[0], dict):
        name = images[0].get("l") or images[0].get("m")
    elif isinstance(product.get("imagesCSV"), str) and product["imagesCSV"]:
        name = product["imagesCSV"].split(",")[0]
    return f"https://m.media-amazon.com/images/I/{name}" if name else None


Fields = dict[str, Any]  # DealRecord field -> value, as one section computed it
Missing = dict[str, str]  # DealRecord field -> why it stays empty
PERCENT_DOWN_MISSING = "needs both 1yr. Avg. and Price Now"


def percent_down(avg_1yr: float | None, price_now: float | None) -> float | None:
    """How far Price Now is below the 1yr. Avg., in percent (0 when above); None without both."""
    if avg_1yr and price_now is not None:
        return max(0.0, (avg_1yr - price_now) / avg_1yr * 100.0)
    return None


@dataclass(frozen=True, slots=True)
class _PricedSales:
    """The inferred sales that have a known price: all of them, and the last 365 days'."""

    times: np.ndarray
    prices: np.ndarray
    months: np.ndarray
    recent_prices: np.ndarray
    recent_months: np.ndarray


def _describe(product: dict[str, Any]) -> Fields:
    """What the product is: title, author, category path, image, Keepa's last update."""
    tree = product.get("categoryTree") or []
    names = [str(c["name"]) for c in tree if isinstance(c, dict) and c.get("name")]
    root = product.get("rootCategory")
    last_update = product.get("lastUpdate")
    return {
        "asin": product["asin"],
        "title": product.get("title"),
        "author": product.get("author"),
        "publisher": _publisher(product),
        "binding": product.get("binding"),
        "category": names[0] if names else None,
        "root_category_id": root if isinstance(root, int) else None,
        "category_path": " > ".join(names) if names else None,
        "publication_year": _publication_year(product.get("publicationDate")),
        "image_url": _image_url(product),
        "keepa_last_update": s.keepa_minutes_to_datetime(last_update)
        if isinstance(last_update, int) and last_update > 0
        else None,
    }


def _live_offers_state(
    offers: list[dict[str, Any]], live: list[Any], offers_used: int | None
) -> tuple[Fields, Missing, PriceNow | None]:
    """Amazon on the listing, used offers and Price Now from the live offers."""
    live_offers = [offers[i] for i in live if isinstance(i, int) and 0 <= i < len(offers)]
    fields: Fields = {"amazon_offer": any(bool(o.get("isAmazon")) for o in live_offers)}
    if offers_used is None:
        fields["offers_used"] = sum(
            1 for o in live_offers if o.get("condition") in OFFER_CONDITIONS
        )
    pn = price_now_from_offers(offers, live)
    missing: Missing = {} if pn else {"price_now": "no live used offer with a known total price"}
    raw = price_now_from_offers(offers, live, skip_untrusted=False)
    if raw is not None and (pn is None or raw.price < pn.price):
        missing["offers"] = (
            f"a ${raw.price:.2f} used offer Keepa marks as a scam or not "
            "shippable was skipped for Price Now"
        )
    return fields, missing, pn


def _stats_state(stats: dict[str, Any] | None) -> tuple[Fields, Missing, PriceNow | None]:
    """Amazon on the listing and Price Now from the stats alone (no offers fetched)."""
    fields: Fields = {}
    amazon_now = (stats or {}).get("current") or []
    if (
        len(amazon_now) > s.AMAZON
        and isinstance(amazon_now[s.AMAZON], int)
        and amazon_now[s.AMAZON] != -2
    ):
        fields["amazon_offer"] = amazon_now[s.AMAZON] > 0
    plain = s.stat_value(stats, "current", s.USED)
    fields["used_price_hint"] = plain / 100.0 if plain and plain > 0 else None
    pn = price_now_from_stats(stats)
    missing = (
        {}
        if pn
        else {
            "price_now": "no offers fetched and no used-by-condition price "
            "(with shipping) in stats.current"
        }
    )
    return fields, missing, pn


def _market_state(
    product: dict[str, Any], stats: dict[str, Any] | None, offers: list[dict[str, Any]] | None
) -> tuple[Fields, Missing]:
    """Rank, drops, offer counts, Amazon's presence and lowest price, Price Now."""
    missing: Missing = {"stats": "product fetched without stats"} if stats is None else {}
    fields: Fields = {
        "sales_rank": s.stat_value(stats, "current", s.SALES),
        "offers_used": s.stat_value(stats, "current", s.COUNT_USED),
        "offers_new": s.stat_value(stats, "current", s.COUNT_NEW),
        "offers_fba": s.stat_scalar(stats, "offerCountFBA"),
        "offers_fbm": s.stat_scalar(stats, "offerCountFBM"),
    }
    for days in (30, 90, 180, 365):
        fields[f"rank_drops_{days}"] = s.stat_scalar(stats, f"salesRankDrops{days}")
    live = product.get("liveOffersOrder")
    if offers is not None and not isinstance(live, list):
        # `offers` also holds past offers; without Keepa's list of the live ones an old $2
        # listing could pass for today's price: use the stats prices instead
        missing["offers"] = "Keepa sent offers without liveOffersOrder; stats prices used"
    if offers is not None and isinstance(live, list):
        found, why, pn = _live_offers_state(offers, live, fields["offers_used"])
    else:
        found, why, pn = _stats_state(stats)
    fields.update(found)
    missing.update(why)
    if fields.get("amazon_offer") is None:
        missing["amazon_offer"] = "Amazon's current price is unknown"
    if pn is not None:
        fields.update(
            price_now=pn.price,
            condition=pn.condition,
            price_now_source=pn.source,
            seller_id=pn.seller_id,
        )
    bb = (stats or {}).get("buyBoxStats")
    if isinstance(bb, dict):
        amazon = bb.get(AMAZON_SELLER_ID) or {}
        share = amazon.get("percentageWon", 0.0) if isinstance(amazon, dict) else 0.0
        fields["buy_box_amazon_share"] = float(share or 0.0)
    else:
        missing["buy_box_amazon_share"] = "no buy box statistics in the Keepa answer"
    lows = [
        v for v in (s.stat_value(stats, k, s.AMAZON) for k in ("current", "avg180", "avg365")) if v
    ]
    fields["amazon_new_low"] = min(lows) / 100.0 if lows else None
    return fields, missing


def _inferred_sales(csv: s.Histories | None, now_min: int) -> tuple[Fields, Missing, _PricedSales]:
    """Inferred sales: counts, Deal Trust, the chart list and the 1yr. Avg."""
    fields: Fields = {}
    missing: Missing = {}
    if csv is None:  # unknown, not zero: no history was fetched
        sales = InferredSales(np.empty(0, np.int64), np.empty(0, float), 0)
        for name in (
            "inferred_sales",
            "inferred_sales_count",
            "offer_drops_count",
            "deal_trust",
            *(f"inferred_sales_{d}" for d in SALES_WINDOWS),
        ):
            missing[name] = "product fetched without history"
    else:
        sales = infer_sales(csv)
        fields.update(
            inferred_sales_count=int(sales.times.size), offer_drops_count=sales.offer_drops
        )
        for days in SALES_WINDOWS:
            fields[f"inferred_sales_{days}"] = int(
                np.count_nonzero(
                    (sales.times > now_min - days * s.MINUTES_PER_DAY) & (sales.times <= now_min)
                )
            )
        if sales.offer_drops:
            fields["deal_trust"] = sales.times.size / sales.offer_drops * 100.0
        else:
            missing["deal_trust"] = "no used offer-count drops in the history"
        if sales.from_rank:
            missing["inferred_sales_count"] = (
                "the used offer count has no drops on record: sales inferred from sales-rank "
                "drops alone"
            )
    priced = ~np.isnan(sales.prices)
    p_times, p_prices = sales.times[priced], sales.prices[priced]
    p_months = s.keepa_minutes_to_month(p_times)
    # the chart list covers the chart window; counts and averages use every sale
    shown = p_times >= now_min - CHART_WINDOW_MIN
    fields["inferred_sales"] = [
        {"t": t, "price": p}
        for t, p in zip(
            s.keepa_minutes_to_unix_ms(p_times[shown]).tolist(),
            np.round(p_prices[shown] / 100.0, 2).tolist(),
            strict=True,
        )
    ]
    recent = (p_times >= now_min - YEAR_MIN) & (p_times <= now_min)
    priced_sales = _PricedSales(p_times, p_prices, p_months, p_prices[recent], p_months[recent])
    if priced_sales.recent_prices.size:
        r_prices = priced_sales.recent_prices
        fields["avg_1yr"] = float(r_prices.sum()) / r_prices.size / 100.0
    else:
        missing["avg_1yr"] = "no inferred sale with a known price in the last 365 days"
    return fields, missing, priced_sales


def _seasonality(
    sales: _PricedSales, described: Fields, media: bool
) -> tuple[Fields, Missing, SeasonalMonths | None]:
    """Peak and trough months, the expected trough price and the seasonality label."""
    fields: Fields = {}
    missing: Missing = {}
    months = seasonal_months(sales.months, sales.prices)
    if months is None:
        reason = "fewer than 3 priced inferred sales spread over 2+ months"
        missing["peak_months"] = missing["trough_months"] = reason
        missing["expected_trough_price"] = "no trough month known"
    else:
        trough = sales.prices[_in_months(sales.months, _mask(months.trough) or 0)]
        fields.update(
            peak_months=_months_csv(months.peak),
            trough_months=_months_csv(months.trough),
            peak_mask=_mask(months.peak),
            expected_trough_price=_median(trough) / 100.0,
        )
    hint = keyword_hint(described["title"], described["category_path"], described["binding"])
    fields["seasonality"] = seasonality_label(hint, months, media)
    if fields["seasonality"] is None:
        missing["seasonality"] = "no keyword hint and too few inferred sales to see a season"
    return fields, missing, months


def _list_at(
    sales: _PricedSales,
    months: SeasonalMonths | None,
    peak_mask: int | None,
    amazon_new_low: float | None,
) -> tuple[Fields, Missing]:
    """List at: the expected sale price from the last 365 days of sales only (docs/domain.md
    failure mode "ghost profit": an old peak price kept after the market moved)."""
    r_prices = sales.recent_prices
    missing: Missing = {}
    list_cents: float | None = None
    if r_prices.size == 0:
        missing["list_at"] = "no inferred sale with a known price in the last 365 days"
    elif r_prices.size < 3:
        list_cents = _median(r_prices)
    else:
        pool = r_prices
        if months is not None:
            in_peak = _in_months(sales.recent_months, peak_mask or 0)
            # a peak season needs repeated sales: one rare high sale can make its month the
            # "peak" and become List at by itself ($499.83 against a $194 1yr. Avg.)
            if np.count_nonzero(in_peak) >= 3:
                pool = r_prices[in_peak]
        # and no List at above the price two of the year's sales reached (the lower 90th
        # percentile is at most the second-highest sale)
        list_cents = min(mode_price(pool), float(np.percentile(r_prices, 90, method="lower")))
    if list_cents is not None and amazon_new_low:
        list_cents = min(list_cents, amazon_cap_cents(amazon_new_low))
    if list_cents is not None and list_cents > MAX_LIST_AT_CENTS:
        missing["list_at"] = f"expected sale price ${list_cents / 100:.2f} is over $1,500: rejected"
        list_cents = None
    return {"list_at": round(list_cents) / 100.0 if list_cents is not None else None}, missing


def _seller_and_trend(
    seller_id: str | None,
    has_price: bool,
    sellers: dict[str, SellerInfo] | None,
    csv: s.Histories | None,
) -> tuple[Fields, Missing]:
    """The Price Now seller's quality score and the used price's direction."""
    fields: Fields = {"trend": trend_direction(csv)}
    missing: Missing = {}
    if seller_id is None:
        missing["seller_quality"] = (
            "Price Now comes from stats: the seller is unknown"
            if has_price
            else "no Price Now seller"
        )
    elif not sellers or seller_id not in sellers:
        missing["seller_quality"] = f"seller {seller_id} not looked up yet"
    else:
        fields["seller_quality"] = seller_quality_score(sellers[seller_id])
        if fields["seller_quality"] is None:
            missing["seller_quality"] = "seller has no ratings"
    if fields["trend"] is None:
        missing["trend"] = "fewer than 3 distinct used prices in the history"
    return fields, missing


def _fees_and_money(
    product: dict[str, Any], media: bool, known: Fields, settings: UserSettings
) -> tuple[Fields, Missing]:
    """Fee inputs (Keepa's referral % and FBA fee, else estimates) and the money under
    `settings`; the money's missing reasons never replace an earlier section's."""
    pct = product.get("referralFeePercentage")
    fields: Fields = {
        "referral_pct": float(pct)
        if isinstance(pct, int | float) and pct > 0
        else m.DEFAULT_REFERRAL_PCT,
        "referral_min": 0.0 if media else m.NON_MEDIA_REFERRAL_MIN,
        "closing_fee": m.MEDIA_CLOSING_FEE if media else 0.0,
    }
    missing: Missing = {}
    fba = product.get("fbaFees")
    pick = fba.get("pickAndPackFee") if isinstance(fba, dict) else None
    if isinstance(pick, int) and pick > 0:
        fields.update(fba_fee=pick / 100.0, fba_fee_source="keepa")
    else:
        est = m.estimate_fba_fee(
            product.get("packageLength"),
            product.get("packageWidth"),
            product.get("packageHeight"),
            product.get("packageWeight"),
        )
        if est is None:
            missing["fba_fee"] = "Keepa has no FBA fee and package size/weight are unknown"
        else:
            fields.update(fba_fee=est.fee, fba_fee_source="estimate")
    money = m.compute_money(
        m.MoneyInputs(
            known.get("price_now"),
            known.get("list_at"),
            fields["referral_pct"],
            fields["referral_min"],
            fields.get("fba_fee"),
            fields["closing_fee"],
            known.get("shipping_included", False),
        ),
        settings,
    )
    fields.update(
        all_in_cost=money.all_in_cost,
        amz_fees=money.amz_fees,
        profit=money.profit,
        margin=money.margin,
        roi=money.roi,
        min_listing_price=money.min_listing_price,
    )
    for name, reason in money.missing.items():
        missing.setdefault(name, reason)
    return fields, missing


def _chart_data(csv: s.Histories | None, now_min: int) -> Fields:
    """The DealHistory series over the chart window (none without history)."""
    if csv is None:
        return {}
    since = now_min - CHART_WINDOW_MIN
    return {
        "used_price_history": s.chart_series(csv, s.USED, since),
        "sales_rank_history": s.chart_series(csv, s.SALES, since, cents=False),
        "amazon_price_history": s.chart_series(csv, s.AMAZON, since),
        "new_price_history": s.chart_series(csv, s.NEW, since),
    }


def analyse_product(
    product: dict[str, Any],
    *,
    sellers: dict[str, SellerInfo] | None = None,
    now: datetime | None = None,
    settings: UserSettings | None = None,
    validate: bool = True,
) -> DealRecord:
    """Turn one Keepa product (as in `/product/` `products[]`, offers optional) into a record.

    `sellers` maps seller id -> SellerInfo for the seller-quality score of the Price Now
    seller; `now` anchors the 365-day windows (default: current UTC time); `settings` prices the
    money fields (default: the policy defaults). `validate=False` skips the shape check for
    callers that already validated the product (e.g. the Keepa client).

    Each section returns its fields and why any of them stays empty; a later section's reason
    never replaces an earlier one's.
    """
    if validate:
        product = _validate(product)
    now_min = s.datetime_to_keepa_minutes(now or datetime.now(UTC))
    raw_csv = product.get("csv")
    csv = s.Histories(raw_csv) if raw_csv is not None else None
    stats = product.get("stats") if isinstance(product.get("stats"), dict) else None
    offers = product.get("offers") if isinstance(product.get("offers"), list) else None
    fields = _describe(product)
    media = m.is_media(fields["root_category_id"], fields["binding"])
    missing: Missing = {}

    def add(found: Fields, why: Missing) -> None:
        fields.update(found)
        for name, reason in why.items():
            missing.setdefault(name, reason)

    add(*_market_state(product, stats, offers))
    found, why, sales = _inferred_sales(csv, now_min)
    add(found, why)
    fields["percent_down"] = percent_down(fields.get("avg_1yr"), fields.get("price_now"))
    if fields["percent_down"] is None and ("avg_1yr" in missing or fields.get("price_now") is None):
        missing["percent_down"] = PERCENT_DOWN_MISSING
    found, why, months = _seasonality(sales, fields, media)
    add(found, why)
    add(*_list_at(sales, months, fields.get("peak_mask"), fields.get("amazon_new_low")))
    add(
        *_seller_and_trend(
            fields.get("seller_id"), fields.get("price_now") is not None, sellers, csv
        )
    )
    add(*_fees_and_money(product, media, fields, settings or UserSettings()))
    fields.update(_chart_data(csv, now_min))
    return DealRecord(**fields, missing=missing)
