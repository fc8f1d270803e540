"""The three requests of the calibration file, as the README states them.

A /deal/ answer depends on its request, so the sandbox must be asked exactly what the real
sample was: the selection comes verbatim from keepa_used_books.json; which pages count and
which rows count (the prose `pages` / `rows` of each stratum) are encoded here.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from tools.sandbox.calibration.stats import NINETY, USED, Row, scan_rows, window_value

CALIBRATION_FILE = Path(__file__).with_name("keepa_used_books.json")
DEEP_MIN_DP = 67  # arbitrage_deep: rows with a 90-day USED deltaPercent >= 67


@dataclass(frozen=True)
class Stratum:
    name: str
    selection: dict[str, Any]  # the /deal/ selection, without `page`
    all_pages: bool  # every page of a scan (else page 0 only)
    min_dp_90d: int | None = None  # keep rows with deltaPercent[90d][USED] >= this

    def rows(self, pages: Iterable[Mapping[str, Any]]) -> list[Row]:
        """The stratum's rows of one scan's answers (Books, ASIN once, the row filter)."""
        rows = scan_rows(pages)
        if self.min_dp_90d is None:
            return rows
        return [
            (r, m)
            for r, m in rows
            if window_value(r, "deltaPercent", NINETY, USED) >= self.min_dp_90d
        ]


@cache
def _load() -> str:
    return CALIBRATION_FILE.read_text()


def load_calibration() -> dict[str, Any]:
    """The calibration file (a fresh copy: callers may change it)."""
    data: dict[str, Any] = json.loads(_load())
    return data


def strata(calibration: Mapping[str, Any] | None = None) -> dict[str, Stratum]:
    """broad (page 0), arbitrage (every page), arbitrage_deep (page 0, 90-day dp >= 67)."""
    cal = calibration or load_calibration()
    spec = cal["strata"]
    rules = {
        "broad": (False, None),
        "arbitrage": (True, None),
        "arbitrage_deep": (False, DEEP_MIN_DP),
    }
    if set(spec) != set(rules):
        raise ValueError(f"calibration strata {sorted(spec)} are not {sorted(rules)}")
    deep = spec["arbitrage_deep"]
    if (
        f">= {DEEP_MIN_DP}" not in deep["rows"]
        or not deep["pages"].startswith("page 0")
        or spec["arbitrage"]["pages"] != "every page of a scan"
    ):
        raise ValueError("the calibration file's page/row rules changed: update strata.py")
    return {name: Stratum(name, dict(spec[name]["selection"]), *rules[name]) for name in rules}
