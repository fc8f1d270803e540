"""Validate Keepa product dicts, then parse them with the `keepa` package.

`keepa.parse_csv` indexes all 36 history slots and assumes well-formed pairs/triplets, so a short
or null-laden `csv` would crash a whole batch with IndexError. We check the shape first and turn
every defect into a `MalformedProduct` naming the ASIN and field; batches keep the good products.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import keepa
from keepa.models import backend as keepa_models
from keepa.utils import _parse_stats  # the package's own stats parser (used by Keepa.query)
from pydantic import ValidationError

from tools.keepa.errors import MalformedProduct

CSV_SLOTS = len(keepa.csv_indices)  # 36
CSV_NAMES: dict[int, str] = {i: name for i, name, _ in keepa.csv_indices}
_TRIPLET = frozenset(i for i, name, _ in keepa.csv_indices if "SHIPPING" in name)
STATS_ARRAYS = ("current", "avg", "avg30", "avg90", "avg180", "avg365", "atIntervalStart",
                "outOfStockPercentage30", "outOfStockPercentage90",
                "outOfStockPercentageInInterval")
STATS_PAIRS = ("min", "max", "minInInterval", "maxInInterval")


def _is_int(v: object) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _check_csv(asin: str | None, csv: object) -> None:
    if not isinstance(csv, list):
        raise MalformedProduct(asin, "csv", f"must be a list, got {type(csv).__name__}")
    if len(csv) < CSV_SLOTS:
        raise MalformedProduct(asin, "csv", f"has {len(csv)} entries, needs {CSV_SLOTS}")
    for idx in range(CSV_SLOTS):
        series = csv[idx]
        if series is None:
            continue
        name = f"csv[{idx}] ({CSV_NAMES[idx]})"
        if not isinstance(series, list):
            raise MalformedProduct(asin, name, f"must be a list or null, got "
                                                 f"{type(series).__name__}")
        step = 3 if idx in _TRIPLET else 2
        if len(series) % step:
            raise MalformedProduct(asin, name, f"length {len(series)} is not a multiple of {step}")
        if None in series:
            raise MalformedProduct(asin, name, f"entry {series.index(None)} is null")
    # element types (int, not str/float) are checked by the keepa backend model below


def _check_int_list(asin: str | None, name: str, value: object) -> None:
    if not isinstance(value, list):
        raise MalformedProduct(asin, name, f"must be a list, got {type(value).__name__}")
    for pos, v in enumerate(value):
        if v is not None and not _is_int(v):
            raise MalformedProduct(asin, name, f"entry {pos} is {v!r}, not an integer")


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
        for pos, pair in enumerate(pairs):
            if pair is not None and not (isinstance(pair, list) and len(pair) == 2
                                         and all(_is_int(x) for x in pair)):
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


def validate_product(product: object, *, require_history: bool = True,
                     require_stats: bool = True) -> dict[str, Any]:
    """Return the product unchanged if usable, else raise MalformedProduct(asin, field, reason).

    `require_history`/`require_stats` follow the request: `history=0` answers have `csv: null`.
    The keepa package's backend model then checks every other field's type.
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
    try:
        keepa_models.Product.model_validate(product)
    except ValidationError as err:
        first = err.errors()[0]
        loc = ".".join(str(p) for p in first.get("loc", ())) or "product"
        raise MalformedProduct(asin, loc, first.get("msg", "invalid")) from None
    return product


@dataclass(frozen=True)
class ParsedProduct:
    """A validated product plus the keepa package's parsed views of it."""

    asin: str
    raw: dict[str, Any]
    history: dict[str, Any] = field(repr=False)  # keepa.parse_csv: KEY, KEY_time, df_KEY
    stats: dict[str, Any] = field(repr=False)  # keepa's parsed stats (dollars, datetimes)


def parse_product(product: object, *, to_datetime: bool = True, require_history: bool = True,
                  require_stats: bool = True) -> ParsedProduct:
    """Validate then parse one product with keepa.parse_csv and keepa's stats parser."""
    raw = validate_product(product, require_history=require_history,
                           require_stats=require_stats)
    asin = raw["asin"]
    try:
        history = keepa.parse_csv(raw["csv"], to_datetime) if raw.get("csv") else {}
    except (IndexError, ValueError, TypeError) as err:  # defensive: shape checked above
        raise MalformedProduct(asin, "csv", f"keepa.parse_csv failed: {err}") from None
    try:
        stats = _parse_stats(raw["stats"], to_datetime) if raw.get("stats") else {}
    except (IndexError, ValueError, TypeError) as err:
        raise MalformedProduct(asin, "stats", f"keepa stats parsing failed: {err}") from None
    return ParsedProduct(asin=asin, raw=raw, history=history, stats=stats)


def validate_products(products: Iterable[object], *, require_history: bool = True,
                      require_stats: bool = True,
                      ) -> tuple[list[dict[str, Any]], list[MalformedProduct]]:
    """Split a batch into usable products and per-product errors; never raises for one bad item."""
    good: list[dict[str, Any]] = []
    errors: list[MalformedProduct] = []
    for p in products:
        try:
            good.append(validate_product(p, require_history=require_history,
                                         require_stats=require_stats))
        except MalformedProduct as err:
            errors.append(err)
    return good, errors


def parse_products(products: Iterable[object], *, to_datetime: bool = True,
                   ) -> tuple[list[ParsedProduct], list[MalformedProduct]]:
    """parse_product over a batch, collecting errors instead of raising."""
    good: list[ParsedProduct] = []
    errors: list[MalformedProduct] = []
    for p in products:
        try:
            good.append(parse_product(p, to_datetime=to_datetime))
        except MalformedProduct as err:
            errors.append(err)
    return good, errors
