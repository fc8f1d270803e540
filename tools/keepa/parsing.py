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
"""

from __future__ import annotations

from collections.abc import Iterable
from itertools import chain
from typing import Any

import orjson
from keepa.models import backend as keepa_models
from pydantic import ValidationError

from tools.keepa.conventions import CSV_NAMES, CSV_SLOTS, TRIPLET_SLOTS
from tools.keepa.errors import MalformedProduct

_INT = frozenset({int})
_INT_OR_NONE = frozenset({int, type(None)})
_LIST = frozenset({list})
_TWO = frozenset({2})
# cheap type checks of top-level fields consumers read (the full model is opt-in)
_FIELD_TYPES: dict[str, tuple[type, ...]] = {
    "title": (str,), "lastUpdate": (int,), "lastPriceChange": (int,), "trackingSince": (int,),
    "rootCategory": (int,), "categories": (list,), "categoryTree": (list,),
    "salesRanks": (dict,), "fbaFees": (dict,), "monthlySold": (int,),
    "referralFeePercentage": (int, float), "referralFeePercent": (int,),
    "packageWeight": (int,), "itemWeight": (int,), "binding": (str,), "brand": (str,),
    "productGroup": (str,), "type": (str,), "availabilityAmazon": (int,), "domainId": (int,),
}
STATS_ARRAYS = ("current", "avg", "avg30", "avg90", "avg180", "avg365", "atIntervalStart",
                "outOfStockPercentage30", "outOfStockPercentage90",
                "outOfStockPercentageInInterval")
STATS_PAIRS = ("min", "max", "minInInterval", "maxInInterval")


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
    for idx in range(min(len(csv), CSV_SLOTS)):
        series = csv[idx]
        if series is None:
            continue
        if not isinstance(series, list):
            raise MalformedProduct(asin, _csv_name(idx), f"must be a list or null, got "
                                                         f"{type(series).__name__}")
        step = 3 if idx in TRIPLET_SLOTS else 2
        if len(series) % step:
            raise MalformedProduct(asin, _csv_name(idx),
                                   f"length {len(series)} is not a multiple of {step}")
        if not _all_ints(series):  # bool, float, str and None fail
            pos, bad = next((k, v) for k, v in enumerate(series) if type(v) is not int)
            raise MalformedProduct(asin, _csv_name(idx), f"entry {pos} is null" if bad is None
                                   else f"entry {pos} is {bad!r}, not an integer")


def _csv_name(idx: int) -> str:
    return f"csv[{idx}] ({CSV_NAMES[idx]})"


def _check_int_list(asin: str | None, name: str, value: object) -> None:
    if not isinstance(value, list):
        raise MalformedProduct(asin, name, f"must be a list, got {type(value).__name__}")
    if not set(map(type, value)) <= _INT_OR_NONE:  # C speed; the loop only names the culprit
        pos, v = next((k, v) for k, v in enumerate(value)
                      if v is not None and type(v) is not int)
        raise MalformedProduct(asin, name, f"entry {pos} is {v!r}, not an integer")


def _bad_pair(pair: object) -> bool:
    return pair is not None and not (type(pair) is list and len(pair) == 2
                                     and all(_is_int(x) for x in pair))


def _check_stats(asin: str | None, stats: object) -> None:
    if not isinstance(stats, dict):
        raise MalformedProduct(asin, "stats", "is missing" if stats is None
                               else f"must be an object, got {type(stats).__name__}")
    if stats.get("current") is None:
        raise MalformedProduct(asin, "stats.current", "is missing")
    for key in STATS_ARRAYS:
        if stats.get(key) is not None:
            _check_int_list(asin, f"stats.{key}", stats[key])
    for key in STATS_PAIRS:
        pairs = stats.get(key)
        if pairs is None:
            continue
        if not isinstance(pairs, list):
            raise MalformedProduct(asin, f"stats.{key}", "must be a list")
        full = [p for p in pairs if p is not None]
        if (set(map(type, full)) <= _LIST and set(map(len, full)) <= _TWO
                and set(map(type, chain.from_iterable(full))) <= _INT):
            continue
        pos, pair = next((k, p) for k, p in enumerate(pairs) if _bad_pair(p))
        raise MalformedProduct(asin, f"stats.{key}",
                               f"entry {pos} is {pair!r}, not [keepaTime, value]")


def _check_offers(asin: str | None, offers: object) -> None:
    if not isinstance(offers, list):
        raise MalformedProduct(asin, "offers", "must be a list")
    for pos, offer in enumerate(offers):
        name = f"offers[{pos}]"
        if not isinstance(offer, dict):
            raise MalformedProduct(asin, name, "must be an object")
        ocsv = offer.get("offerCSV")
        if not isinstance(ocsv, list) or len(ocsv) % 3 or not all(_is_int(v) for v in ocsv):
            raise MalformedProduct(asin, f"{name}.offerCSV",
                                   "must be a list of [time, price, shipping] integer triplets")
        if not _is_int(offer.get("condition")):
            raise MalformedProduct(asin, f"{name}.condition", "must be an integer")
        for flag in ("isFBA", "isAmazon"):
            if not isinstance(offer.get(flag), bool):
                raise MalformedProduct(asin, f"{name}.{flag}", "must be true or false")


def _check_fields(asin: str, product: dict[str, Any]) -> None:
    for key, types in _FIELD_TYPES.items():
        value = product.get(key)
        if value is not None and (not isinstance(value, types) or isinstance(value, bool)):
            raise MalformedProduct(asin, key, f"is {type(value).__name__}, expected "
                                              f"{' or '.join(t.__name__ for t in types)}")


def validate_product(product: object, *, require_history: bool = True,
                     require_stats: bool = True, model: bool = False) -> dict[str, Any]:
    """Return the product unchanged if usable, else raise MalformedProduct(asin, field, reason).

    `require_history`/`require_stats` follow the request: `history=0` answers have `csv: null`.
    The structural check covers everything our code indexes (csv, stats, offers, the common
    top-level fields); `model=True` also runs the keepa package's backend model over every field
    (~1.5 ms per product, so only where fidelity matters more than throughput).
    """
    if not isinstance(product, dict):
        raise MalformedProduct(None, "product", f"must be an object, got {type(product).__name__}")
    asin = product.get("asin")
    if not isinstance(asin, str) or not asin.strip():
        raise MalformedProduct(None, "asin", f"is {asin!r}, not an ASIN string")
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
        try:
            keepa_models.Product.model_validate(product)
        except ValidationError as err:
            first = err.errors()[0]
            loc = ".".join(str(p) for p in first.get("loc", ())) or "product"
            raise MalformedProduct(asin, loc, first.get("msg", "invalid")) from None
    return product


def validate_products(products: Iterable[object], *, require_history: bool = True,
                      require_stats: bool = True, model: bool = False,
                      ) -> tuple[list[dict[str, Any]], list[MalformedProduct]]:
    """Split a batch into usable products and per-product errors; never raises for one bad item."""
    good: list[dict[str, Any]] = []
    errors: list[MalformedProduct] = []
    for p in products:
        try:
            good.append(validate_product(p, require_history=require_history,
                                         require_stats=require_stats, model=model))
        except MalformedProduct as err:
            errors.append(err)
    return good, errors
