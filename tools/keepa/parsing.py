"""Validate Keepa product dicts before anything indexes into them.

A null-laden or ragged `csv` would crash consumers (and `keepa.parse_csv`, which indexes all 36
history slots and assumes well-formed pairs/triplets) with IndexError for a whole batch. We
check the shape first and turn every defect into a `MalformedProduct` naming the ASIN and
field; batches keep the good products. A `csv` narrower than 36 is Keepa's older width (its
2025 answers were 34 wide): accepted, the slots it lacks are empty, as for the stats arrays
(consumers read slots through tools/deals/series.py, which treats an absent slot as null).

Speed (>= 500 sandbox products/s, >= 50/s for a 600 KB history, one core: bench/keepa_parse.py):
the structural check runs at C speed (`set(map(type, series))`); the keepa package's pydantic
backend model is ~1.5 ms per product, so it is opt-in (`model=True`, the fidelity tests).
Consumers then read the series they need as numpy arrays (tools/deals/series.py).

Bounds (issue 16): Keepa's numbers are 32-bit integers (Java ints), its times minutes since 2011
(-1 unknown), its prices cents with -1 / -2 for "no offer" / "unknown", and an ASIN is 10
capital letters or digits. Anything else is not a Keepa value: a price of 1.18e19 passed the
type check, then overflowed numpy's int64 or a database column. Such a product is refused like
any malformed one, and so is such a /deal/ row (`validate_deal_row`).
"""

from __future__ import annotations

import math
import re
import reprlib
from collections.abc import Iterable
from itertools import chain
from typing import Any

import numpy as np
import orjson
from pydantic import ValidationError

from tools.keepa.conventions import CSV_NAMES, CSV_SLOTS, PRICE_SLOTS, TRIPLET_SLOTS
from tools.keepa.errors import MalformedProduct

_INT = frozenset({int})
_INT_OR_NONE = frozenset({int, type(None)})
_LIST = frozenset({list})
_TWO = frozenset({2})
# cheap type checks of top-level fields consumers read (the full model is opt-in)
_FIELD_TYPES: dict[str, tuple[type, ...]] = {
    "title": (str,),
    "lastUpdate": (int,),
    "lastPriceChange": (int,),
    "trackingSince": (int,),
    "rootCategory": (int,),
    "categories": (list,),
    "categoryTree": (list,),
    "salesRanks": (dict,),
    "fbaFees": (dict,),
    "monthlySold": (int,),
    "referralFeePercentage": (int, float),
    "referralFeePercent": (int,),
    "packageWeight": (int,),
    "itemWeight": (int,),
    "binding": (str,),
    "brand": (str,),
    "productGroup": (str,),
    "type": (str,),
    "availabilityAmazon": (int,),
    "domainId": (int,),
}
STATS_ARRAYS = (
    "current",
    "avg",
    "avg30",
    "avg90",
    "avg180",
    "avg365",
    "atIntervalStart",
    "outOfStockPercentage30",
    "outOfStockPercentage90",
    "outOfStockPercentageInInterval",
)
STATS_PAIRS = ("min", "max", "minInInterval", "maxInInterval")
# stats scalars the deal analytics reads (tools/deals): counts, each a 32-bit integer
STATS_SCALARS = (
    "salesRankDrops30",
    "salesRankDrops90",
    "salesRankDrops180",
    "salesRankDrops365",
    "offerCountFBA",
    "offerCountFBM",
    "totalOfferCount",
)

ASIN_RE = re.compile(r"[A-Z0-9]{10}")
INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1
ID_MAX = 2**63 - 1  # category ids: Amazon's browse nodes pass 2^31 (a 64-bit id is Keepa's long)
MIN_PRICE_CENTS = -2  # -1 no offer, -2 unknown
MAX_TEXT_CHARS = 10_000  # a title or category name; Amazon's are a few hundred at most
Bounds = tuple[float, float, str]  # low, high, what the unit is
_ANY_INT32: Bounds = (INT32_MIN, INT32_MAX, "a 32-bit integer")
_TIME_BOUNDS: Bounds = (-1, INT32_MAX, "Keepa minutes, -1 unknown")
_PRICE_BOUNDS: Bounds = (MIN_PRICE_CENTS, INT32_MAX, "cents")
_ID_BOUNDS: Bounds = (0, ID_MAX, "a category id")
# a history's values by csv slot: prices in cents, the rest counts, ranks and ratings
_VALUE_BOUNDS: dict[int, Bounds] = {
    i: _PRICE_BOUNDS if i in PRICE_SLOTS else _ANY_INT32 for i in range(CSV_SLOTS)
}
_LOWEST_COMMON = -1  # -1..INT32_MAX is within every bound: one min/max pass clears a history
# top-level numbers the code reads, beyond their type (checked in _FIELD_TYPES)
_FIELD_BOUNDS: dict[str, Bounds] = {
    "rootCategory": _ID_BOUNDS,
    "referralFeePercentage": (0, 100, "a percentage"),
    "referralFeePercent": (0, 100, "a percentage"),
    **{
        k: _ANY_INT32
        for k in (
            "lastUpdate",
            "lastPriceChange",
            "trackingSince",
            "monthlySold",
            "packageWeight",
            "itemWeight",
            "packageHeight",
            "packageLength",
            "packageWidth",
            "publicationDate",
            "availabilityAmazon",
            "domainId",
        )
    },
}
_short = reprlib.Repr()
_short.maxstring = _short.maxother = 40


def _is_int(v: object) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _all_ints(series: list[Any]) -> bool:
    """Every entry is an int (not a bool), at C speed: sum() fails on None, str and containers
    and turns any float into a float; orjson writes a list of ints with digits and signs only,
    so an 'e' means a true/false. ~2x faster than set(map(type, ...)) (a history holds
    thousands of ints); ints orjson cannot write (> 64 bits) take that slower path."""
    try:
        return type(sum(series)) is int and b"e" not in orjson.dumps(series)
    except (TypeError, orjson.JSONEncodeError):
        return set(map(type, series)) <= _INT


def _check_csv(asin: str | None, csv: object) -> None:
    if not isinstance(csv, list):
        raise MalformedProduct(asin, "csv", f"must be a list, got {type(csv).__name__}")
    present: list[int] = []
    for idx in range(min(len(csv), CSV_SLOTS)):
        series = csv[idx]
        if series is None:
            continue
        if not isinstance(series, list):
            raise MalformedProduct(
                asin, _csv_name(idx), f"must be a list or null, got {type(series).__name__}"
            )
        step = 3 if idx in TRIPLET_SLOTS else 2
        if len(series) % step:
            raise MalformedProduct(
                asin, _csv_name(idx), f"length {len(series)} is not a multiple of {step}"
            )
        if not _all_ints(series):  # bool, float, str and None fail
            pos, bad = next((k, v) for k, v in enumerate(series) if type(v) is not int)
            raise MalformedProduct(
                asin,
                _csv_name(idx),
                f"entry {pos} is null"
                if bad is None
                else f"entry {pos} is {_show(bad)}, not an integer",
            )
        present.append(idx)
    if not _csv_in_bounds(csv, present):  # then find and name the culprit
        for idx in present:
            step = 3 if idx in TRIPLET_SLOTS else 2
            _check_bounds(asin, _csv_name(idx), csv[idx], 0, step, _TIME_BOUNDS)
            _check_bounds(asin, _csv_name(idx), csv[idx], 1, step, _VALUE_BOUNDS[idx])
            if step == 3:
                _check_bounds(asin, _csv_name(idx), csv[idx], 2, step, _PRICE_BOUNDS)


def _csv_in_bounds(csv: list[Any], present: list[int]) -> bool:
    """Every history entry within its bound, vectorized (a long history holds tens of thousands
    of ints): one int64 array of all series (an int beyond int64 does not even convert), one
    min/max, and per-position lower bounds only when something is below -1."""
    count = sum(len(csv[i]) for i in present)
    if not count:
        return True
    try:
        values = np.fromiter(chain.from_iterable(csv[i] for i in present), np.int64, count)
    except OverflowError:
        return False
    if values.max() > INT32_MAX:
        return False
    if values.min() >= _LOWEST_COMMON:
        return True
    low = np.empty_like(values)
    pos = 0
    for idx in present:
        step = 3 if idx in TRIPLET_SLOTS else 2
        block = low[pos : pos + len(csv[idx])].reshape(-1, step)
        block[:, 0] = _TIME_BOUNDS[0]
        block[:, 1] = _VALUE_BOUNDS[idx][0]
        if step == 3:
            block[:, 2] = _PRICE_BOUNDS[0]
        pos += len(csv[idx])
    return bool((values >= low).all())


def _show(value: object) -> str:
    """A value for an error message: short, whatever it is (repr() of an int of more than 4,300
    digits even raises)."""
    if isinstance(value, int) and value.bit_length() > 64:
        return f"an integer of {value.bit_length()} bits"
    return _short.repr(value)


def _check_bounds(
    asin: str | None, name: str, flat: list[int], offset: int, step: int, bounds: Bounds
) -> None:
    """Entries offset, offset + step, ... of a list of ints lie within bounds (min/max over a
    slice at C speed; the loop only names the culprit)."""
    part = flat[offset::step]
    low, high, unit = bounds
    if not part or (min(part) >= low and max(part) <= high):
        return
    pos = next(offset + k * step for k, v in enumerate(part) if not low <= v <= high)
    raise MalformedProduct(
        asin, name, f"entry {pos} is {_show(flat[pos])}, outside {low:,}..{high:,} ({unit})"
    )


def _csv_name(idx: int) -> str:
    return f"csv[{idx}] ({CSV_NAMES[idx]})"


def _check_int_list(asin: str | None, name: str, value: object, by_slot: bool = False) -> None:
    """A list of ints or nulls; `by_slot`: entry i is a value of csv slot i (prices in cents)."""
    if not isinstance(value, list):
        raise MalformedProduct(asin, name, f"must be a list, got {type(value).__name__}")
    if not set(map(type, value)) <= _INT_OR_NONE:  # C speed; the loop only names the culprit
        pos, v = next((k, v) for k, v in enumerate(value) if v is not None and type(v) is not int)
        raise MalformedProduct(asin, name, f"entry {pos} is {_show(v)}, not an integer")
    ints = [v for v in value if v is not None]
    if not ints or (min(ints) >= MIN_PRICE_CENTS and max(ints) <= INT32_MAX):
        return  # within every slot's bounds
    for pos, v in enumerate(value):
        low, high, unit = _VALUE_BOUNDS.get(pos, _ANY_INT32) if by_slot else _ANY_INT32
        if v is not None and not low <= v <= high:
            raise MalformedProduct(
                asin, name, f"entry {pos} is {_show(v)}, outside {low:,}..{high:,} ({unit})"
            )


def _bad_pair(pair: object) -> bool:
    return pair is not None and not (
        type(pair) is list and len(pair) == 2 and all(_is_int(x) for x in pair)
    )


def _check_stats(asin: str | None, stats: object) -> None:
    if not isinstance(stats, dict):
        raise MalformedProduct(
            asin,
            "stats",
            "is missing" if stats is None else f"must be an object, got {type(stats).__name__}",
        )
    if stats.get("current") is None:
        raise MalformedProduct(asin, "stats.current", "is missing")
    for key in STATS_ARRAYS:
        if stats.get(key) is not None:
            _check_int_list(
                asin, f"stats.{key}", stats[key], by_slot=not key.startswith("outOfStock")
            )
    for key in STATS_PAIRS:
        pairs = stats.get(key)
        if pairs is None:
            continue
        if not isinstance(pairs, list):
            raise MalformedProduct(asin, f"stats.{key}", "must be a list")
        full = [p for p in pairs if p is not None]
        if not (
            set(map(type, full)) <= _LIST
            and set(map(len, full)) <= _TWO
            and set(map(type, chain.from_iterable(full))) <= _INT
        ):
            pos, pair = next((k, p) for k, p in enumerate(pairs) if _bad_pair(p))
            raise MalformedProduct(
                asin, f"stats.{key}", f"entry {pos} is {_show(pair)}, not [keepaTime, value]"
            )
        flat = list(chain.from_iterable(full))
        if flat and (min(flat) < _LOWEST_COMMON or max(flat) > INT32_MAX):
            for pos, pair in enumerate(pairs):
                if pair is not None:
                    _check_pair_bounds(asin, f"stats.{key}[{pos}]", pair, pos)
    for key in STATS_SCALARS:
        _check_number(asin, f"stats.{key}", stats.get(key), _ANY_INT32)


def _check_pair_bounds(asin: str | None, name: str, pair: list[int], slot: int) -> None:
    low, high, unit = _VALUE_BOUNDS.get(slot, _ANY_INT32)
    if not _TIME_BOUNDS[0] <= pair[0] <= _TIME_BOUNDS[1]:
        raise MalformedProduct(
            asin, name, f"time {_show(pair[0])} is outside -1..{INT32_MAX:,} (Keepa minutes)"
        )
    if not low <= pair[1] <= high:
        raise MalformedProduct(
            asin, name, f"value {_show(pair[1])} is outside {low:,}..{high:,} ({unit})"
        )


def _check_number(asin: str | None, name: str, value: object, bounds: Bounds) -> None:
    """An optional number (not a bool), finite and within bounds."""
    if value is None:
        return
    low, high, unit = bounds
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise MalformedProduct(asin, name, f"is {_show(value)}, not a number")
    if not (math.isfinite(value) and low <= value <= high):
        raise MalformedProduct(asin, name, f"is {_show(value)}, outside {low:,}..{high:,} ({unit})")


def _check_offers(asin: str | None, offers: object) -> None:
    if not isinstance(offers, list):
        raise MalformedProduct(asin, "offers", "must be a list")
    for pos, offer in enumerate(offers):
        name = f"offers[{pos}]"
        if not isinstance(offer, dict):
            raise MalformedProduct(asin, name, "must be an object")
        ocsv = offer.get("offerCSV")
        if not isinstance(ocsv, list) or len(ocsv) % 3 or not all(_is_int(v) for v in ocsv):
            raise MalformedProduct(
                asin,
                f"{name}.offerCSV",
                "must be a list of [time, price, shipping] integer triplets",
            )
        _check_bounds(asin, f"{name}.offerCSV", ocsv, 0, 3, _TIME_BOUNDS)
        _check_bounds(asin, f"{name}.offerCSV", ocsv, 1, 3, _PRICE_BOUNDS)
        _check_bounds(asin, f"{name}.offerCSV", ocsv, 2, 3, _PRICE_BOUNDS)
        if not _is_int(offer.get("condition")):
            raise MalformedProduct(asin, f"{name}.condition", "must be an integer")
        _check_number(asin, f"{name}.condition", offer["condition"], _ANY_INT32)
        for flag in ("isFBA", "isAmazon"):
            if not isinstance(offer.get(flag), bool):
                raise MalformedProduct(asin, f"{name}.{flag}", "must be true or false")


def _check_fields(asin: str, product: dict[str, Any]) -> None:
    for key, types in _FIELD_TYPES.items():
        value = product.get(key)
        if value is not None and (not isinstance(value, types) or isinstance(value, bool)):
            raise MalformedProduct(
                asin,
                key,
                f"is {type(value).__name__}, expected {' or '.join(t.__name__ for t in types)}",
            )
        if isinstance(value, str) and len(value) > MAX_TEXT_CHARS:
            raise MalformedProduct(
                asin, key, f"has {len(value):,} characters, more than {MAX_TEXT_CHARS:,}"
            )
    for key, bounds in _FIELD_BOUNDS.items():
        _check_number(asin, key, product.get(key), bounds)
    _check_categories(asin, product)
    fees = product.get("fbaFees")
    if isinstance(fees, dict):  # the fee the money formulas read, in cents
        _check_number(asin, "fbaFees.pickAndPackFee", fees.get("pickAndPackFee"), _ANY_INT32)


def _check_categories(asin: str, product: dict[str, Any]) -> None:
    """categoryTree: [{"catId": id, "name": text}, ...]; categories: [id, ...]."""
    for pos, node in enumerate(product.get("categoryTree") or []):
        name = f"categoryTree[{pos}]"
        if not isinstance(node, dict):
            raise MalformedProduct(asin, name, f"is {_show(node)}, not an object")
        cat_id, label = node.get("catId"), node.get("name")
        if not _is_int(cat_id):
            raise MalformedProduct(asin, f"{name}.catId", f"is {_show(cat_id)}, not an id")
        _check_number(asin, f"{name}.catId", cat_id, _ID_BOUNDS)
        if label is not None and not (isinstance(label, str) and len(label) <= MAX_TEXT_CHARS):
            raise MalformedProduct(asin, f"{name}.name", f"is {_show(label)}, not a name")
    for pos, cat_id in enumerate(product.get("categories") or []):
        if not _is_int(cat_id) or not 0 <= cat_id <= ID_MAX:
            raise MalformedProduct(
                asin, f"categories[{pos}]", f"is {_show(cat_id)}, not a category id"
            )


def validate_product(
    product: object,
    *,
    require_history: bool = True,
    require_stats: bool = True,
    model: bool = False,
) -> dict[str, Any]:
    """Return the product unchanged if usable, else raise MalformedProduct(asin, field, reason).

    `require_history`/`require_stats` follow the request: `history=0` answers have `csv: null`.
    The structural check covers everything our code indexes (csv, stats, offers, the common
    top-level fields); `model=True` also runs the keepa package's backend model over every field
    (~1.5 ms per product, so only where fidelity matters more than throughput).
    """
    if not isinstance(product, dict):
        raise MalformedProduct(None, "product", f"must be an object, got {type(product).__name__}")
    asin = product.get("asin")
    if not isinstance(asin, str) or not ASIN_RE.fullmatch(asin):
        raise MalformedProduct(
            None, "asin", f"is {_show(asin)}, not an ASIN (10 capital letters or digits)"
        )
    csv = product.get("csv")
    if require_history or csv is not None:
        if csv is None:
            raise MalformedProduct(asin, "csv", "is missing (history was requested)")
        _check_csv(asin, csv)
    stats = product.get("stats")
    if require_stats or stats is not None:
        _check_stats(asin, stats)
    if product.get("offers") is not None:
        _check_offers(asin, product["offers"])
    _check_fields(asin, product)
    if model:
        # imported here: the keepa package loads pandas (~55 MB in every worker and chat
        # process) and only this opt-in check needs it
        from keepa.models import backend as keepa_models

        try:
            keepa_models.Product.model_validate(product)
        except ValidationError as err:
            first = err.errors()[0]
            loc = ".".join(str(p) for p in first.get("loc", ())) or "product"
            raise MalformedProduct(asin, loc, first.get("msg", "invalid")) from None
    return product


# a /deal/ row's number arrays (current, avg as 4 x N, ...) and scalars the pipeline reads
DEAL_ROW_ARRAYS = ("current", "currentSince", "avg", "delta", "deltaPercent", "deltaLast")
DEAL_ROW_NUMBERS = (
    "lastUpdate",
    "creationDate",
    "salesRankDrops30",
    "salesRankDrops90",
    "salesRankDrops180",
    "salesRankDrops365",
)


def validate_deal_row(row: object) -> dict[str, Any]:
    """Return a `/deal/` row unchanged if the pipeline can store it, else raise
    MalformedProduct(asin, field, reason): the same ASIN and number bounds as a product's."""
    if not isinstance(row, dict):
        raise MalformedProduct(None, "deal", f"must be an object, got {type(row).__name__}")
    asin = row.get("asin")
    if not isinstance(asin, str) or not ASIN_RE.fullmatch(asin):
        raise MalformedProduct(
            None, "asin", f"is {_show(asin)}, not an ASIN (10 capital letters or digits)"
        )
    title = row.get("title")
    if title is not None and not (isinstance(title, str) and len(title) <= MAX_TEXT_CHARS):
        raise MalformedProduct(asin, "title", f"is {_show(title)}, not a title")
    _check_number(asin, "rootCat", row.get("rootCat"), _ID_BOUNDS)
    for key in DEAL_ROW_NUMBERS:
        _check_number(asin, key, row.get(key), _ANY_INT32)
    for key in DEAL_ROW_ARRAYS:
        value = row.get(key)
        if value is None:
            continue
        if not isinstance(value, list):
            raise MalformedProduct(asin, key, f"must be a list, got {type(value).__name__}")
        if value and isinstance(value[0], list):  # avg, delta, deltaPercent: 4 x N
            for i, part in enumerate(value):
                _check_int_list(asin, f"{key}[{i}]", part)
        else:
            _check_int_list(asin, key, value)
    return row


def validate_products(
    products: Iterable[object],
    *,
    require_history: bool = True,
    require_stats: bool = True,
    model: bool = False,
) -> tuple[list[dict[str, Any]], list[MalformedProduct]]:
    """Split a batch into usable products and per-product errors; never raises for one bad item."""
    good: list[dict[str, Any]] = []
    errors: list[MalformedProduct] = []
    for p in products:
        try:
            good.append(
                validate_product(
                    p, require_history=require_history, require_stats=require_stats, model=model
                )
            )
        except MalformedProduct as err:
            errors.append(err)
    return good, errors
