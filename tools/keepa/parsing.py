"""Validate Keepa product dicts, then parse them with the `keepa` package's definitions.

`keepa.parse_csv` indexes all 36 history slots and assumes well-formed pairs/triplets, so a short
or null-laden `csv` would crash a whole batch with IndexError. We check the shape first and turn
every defect into a `MalformedProduct` naming the ASIN and field; batches keep the good products.

Speed (issue 3: >= 500 sandbox products/s, >= 50/s for a 600 KB history, one core): the
structural check runs at C speed (`set(map(type, series))`); the keepa package's pydantic backend
model is ~1.5 ms per product, so it is opt-in (`model=True`, the fidelity tests).
`keepa.parse_csv` builds a pandas DataFrame and a datetime array for all 36 series (~0.3 ms
each, 10x the processor's budget), so `ParsedProduct.history` is a lazy mapping with the same
keys and values, computed with numpy only for the series actually read (`df_*` still builds
keepa's DataFrame on access). A test keeps both paths equal on the real fixtures and sandbox.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterable, Iterator, Mapping
from functools import cached_property
from itertools import chain
from typing import Any

import keepa
import numpy as np
import numpy.typing as npt
import orjson
from keepa.models import backend as keepa_models
from keepa.utils import _parse_stats  # the package's own stats parser (used by Keepa.query)
from pydantic import ValidationError

from tools.keepa.errors import MalformedProduct

CSV_SLOTS = len(keepa.csv_indices)  # 36
CSV_NAMES: dict[int, str] = {i: name for i, name, _ in keepa.csv_indices}
_TRIPLET = frozenset(i for i, name, _ in keepa.csv_indices if "SHIPPING" in name)
_IS_FLOAT: dict[int, bool] = {i: isfloat for i, _, isfloat in keepa.csv_indices}
_SLOT: dict[str, int] = {name: i for i, name, _ in keepa.csv_indices}
# docs/domain.md "Time, prices and histories": unix_ms = (keepa_minutes + 21564000) * 60000
KEEPA_EPOCH_OFFSET_MIN = 21_564_000
_KEEPA_EPOCH = np.datetime64("2011-01-01T00:00", "m")
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
    if len(csv) < CSV_SLOTS:
        raise MalformedProduct(asin, "csv", f"has {len(csv)} entries, needs {CSV_SLOTS}")
    for idx in range(CSV_SLOTS):
        series = csv[idx]
        if series is None:
            continue
        if not isinstance(series, list):
            raise MalformedProduct(asin, _csv_name(idx), f"must be a list or null, got "
                                                         f"{type(series).__name__}")
        step = 3 if idx in _TRIPLET else 2
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


def keepa_minutes_to_unix_ms(minutes: npt.ArrayLike) -> npt.NDArray[np.int64]:
    """Keepa minutes -> unix milliseconds, vectorized (scalars give a 0-d array)."""
    return (np.asarray(minutes, dtype=np.int64) + KEEPA_EPOCH_OFFSET_MIN) * 60_000


def _slot(key: str | int) -> int:
    if isinstance(key, int):
        return key
    return _SLOT[key]


class KeepaHistory(Mapping[str, Any]):
    """`keepa.parse_csv(csv, to_datetime)` as a lazy mapping: same keys, same values.

    `KEY` (prices in dollars, NaN when out of stock, like keepa), `KEY_time` and `df_KEY` are
    computed on first access of that series only. `series(KEY)` gives the raw integers:
    (Keepa minutes, values in cents with shipping added for *_SHIPPING types, as keepa does).
    """

    def __init__(self, csv: list[list[int] | None], to_datetime: bool = True) -> None:
        self._csv = csv
        self._to_datetime = to_datetime
        self._names = [name for i, name, _ in keepa.csv_indices if csv[i]]
        self._cache: dict[str, Any] = {}

    def series(self, key: str | int) -> tuple[np.ndarray, np.ndarray]:
        """(keepa_minutes, values) int64 arrays of one series (empty if absent)."""
        idx = _slot(key)
        raw = self._csv[idx]
        if not raw:
            empty = np.empty(0, dtype=np.int64)
            return empty, empty
        a = np.asarray(raw, dtype=np.int64).reshape(-1, 3 if idx in _TRIPLET else 2)
        values = a[:, 1] + a[:, 2] if idx in _TRIPLET else a[:, 1]
        return a[:, 0], values

    def unix_ms(self, key: str | int) -> np.ndarray:
        """A series' times as unix milliseconds (docs/domain.md formula, no datetime objects)."""
        return keepa_minutes_to_unix_ms(self.series(key)[0])

    def _compute(self, name: str) -> None:
        idx = _SLOT[name]
        minutes, values = self.series(idx)
        if _IS_FLOAT[idx]:  # keepa: cents -> dollars, negative (no offer) -> NaN; RATING x10
            nan = values < 0
            values = values.astype(float) / 100
            values[nan] = np.nan
            if name == "RATING":
                values *= 10
        times = minutes.astype("timedelta64[m]") + _KEEPA_EPOCH
        self._cache[name] = values
        self._cache[f"{name}_time"] = times.astype(_dt.datetime) if self._to_datetime else times

    def __getitem__(self, key: str) -> Any:
        hit = self._cache.get(key)
        if hit is not None:
            return hit
        if key.startswith("df_") and key[3:] in self._names:
            import pandas as pd

            name = key[3:]
            df = pd.DataFrame({"value": self[name]}, index=self[f"{name}_time"])
            self._cache[key] = df
            return df
        name = key[:-5] if key.endswith("_time") else key
        if name not in self._names:
            raise KeyError(key)
        self._compute(name)
        return self._cache[key]

    def __iter__(self) -> Iterator[str]:
        for name in self._names:
            yield f"{name}_time"
            yield name
            yield f"df_{name}"

    def __len__(self) -> int:
        return 3 * len(self._names)

    def __contains__(self, key: object) -> bool:
        if not isinstance(key, str):
            return False
        name = key[3:] if key.startswith("df_") else key[:-5] if key.endswith("_time") else key
        return name in self._names


class ParsedProduct:
    """A validated product plus keepa's parsed views of it, computed lazily.

    `history`: keepa.parse_csv's mapping (lazy, numpy; `keepa_parse=True` in parse_product gives
    the package's own eager dict); `stats`: keepa's stats parser output (dollars, datetimes),
    computed on first access.
    """

    def __init__(self, asin: str, raw: dict[str, Any], history: Mapping[str, Any],
                 to_datetime: bool = True) -> None:
        self.asin = asin
        self.raw = raw
        self.history = history
        self._to_datetime = to_datetime

    @cached_property
    def stats(self) -> dict[str, Any]:
        raw_stats = self.raw.get("stats")
        if not raw_stats:
            return {}
        try:
            parsed: dict[str, Any] = _parse_stats(raw_stats, self._to_datetime)
        except (IndexError, ValueError, TypeError) as err:
            raise MalformedProduct(self.asin, "stats", f"keepa stats parsing failed: {err}"
                                   ) from None
        return parsed

    def __repr__(self) -> str:
        return f"ParsedProduct(asin={self.asin!r})"


def parse_product(product: object, *, to_datetime: bool = True, require_history: bool = True,
                  require_stats: bool = True, model: bool = False,
                  keepa_parse: bool = False) -> ParsedProduct:
    """Validate then parse one product (lazy numpy history; `keepa_parse=True`: keepa.parse_csv).

    `model=True` adds the keepa backend-model validation (see validate_product).
    """
    raw = validate_product(product, require_history=require_history,
                           require_stats=require_stats, model=model)
    asin = raw["asin"]
    csv = raw.get("csv")
    history: Mapping[str, Any]
    if not csv:
        history = {}
    elif keepa_parse:
        try:
            history = keepa.parse_csv(csv, to_datetime)
        except (IndexError, ValueError, TypeError) as err:  # defensive: shape checked above
            raise MalformedProduct(asin, "csv", f"keepa.parse_csv failed: {err}") from None
    else:
        history = KeepaHistory(csv, to_datetime)
    return ParsedProduct(asin=asin, raw=raw, history=history, to_datetime=to_datetime)


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


def parse_products(products: Iterable[object], *, to_datetime: bool = True,
                   model: bool = False, keepa_parse: bool = False,
                   ) -> tuple[list[ParsedProduct], list[MalformedProduct]]:
    """parse_product over a batch, collecting errors instead of raising."""
    good: list[ParsedProduct] = []
    errors: list[MalformedProduct] = []
    for p in products:
        try:
            good.append(parse_product(p, to_datetime=to_datetime, model=model,
                                      keepa_parse=keepa_parse))
        except MalformedProduct as err:
            errors.append(err)
    return good, errors
