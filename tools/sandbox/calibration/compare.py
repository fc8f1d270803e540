"""Sandbox vs real, statistic by statistic, with the tolerances the README asks for.

Quantiles pass when every one of p10..p90 is within a factor of 1.5 of the real one. A factor
means nothing for values at or near 0 or of opposite sign (price drops that are rises, loss
-making profits, 0 rank drops), so: two values of the same sign pass when the larger magnitude
is at most 1.5 x the smaller; any two values pass when they differ by no more than a small
floor in the statistic's unit (FLOORS: 0 vs $0.30 is not a 'factor' apart in any useful
sense). Opposite signs further apart than the floor fail. Shares pass within SHARE_POINTS
percentage points. A statistic whose real n is 0 cannot be compared (pass None); one with a
real n below ANECDOTAL_N is compared but not counted in the summary (3 books are an anecdote).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tools.sandbox.calibration.stats import QUANTILES

FACTOR = 1.5
SHARE_POINTS = 5.0
ANECDOTAL_N = 5
FLOORS = {"usd": 0.5, "pct": 5.0, "hours": 1.0, "count": 1.0, "rank": 0.0}
INFO_KEYS = ("n_deals", "n_asins", "n_products", "n_offers", "n_live")
TOLERANCE = {
    "quantiles": f"every p10..p90 within a factor of {FACTOR} (same sign), or within the "
    f"unit's floor {FLOORS} of the real value",
    "shares": f"within +-{SHARE_POINTS:g} percentage points",
    "counted": f"statistics with a real n >= {ANECDOTAL_N} (smaller ones are shown, not "
    "counted); a real n of 0 is not compared",
}


def unit(name: str) -> str:
    """The unit of a quantile statistic, by its name in the calibration file."""
    leaf = name.rsplit(".", 1)[-1]
    if leaf.endswith("_usd") or leaf.startswith("delta_usd_"):
        return "usd"
    if leaf.startswith("dp_") or leaf == "live_share_per_product":
        return "pct"
    if leaf.endswith("_h"):
        return "hours"
    if leaf == "sales_rank":
        return "rank"
    return "count"


def close(sandbox: float, real: float, floor: float) -> bool:
    if abs(sandbox - real) <= floor:
        return True
    if sandbox * real <= 0:
        return False
    lo, hi = sorted((abs(sandbox), abs(real)))
    return hi <= FACTOR * lo


def compare_one(
    name: str,
    sandbox: Mapping[str, Any],
    real: Mapping[str, Any],
) -> dict[str, Any]:
    """{sandbox, real, pass, counted[, failed]} for one statistic ({n, pct} / {n, p..})."""
    out: dict[str, Any] = {"sandbox": dict(sandbox), "real": dict(real)}
    keys = ["pct"] if "pct" in real else [k for k in (f"p{q}" for q in QUANTILES) if k in real]
    if not real.get("n") or any(real.get(k) is None for k in keys):
        out.update({"pass": None, "counted": False})
        return out
    if not sandbox.get("n") or any(sandbox.get(k) is None for k in keys):
        failed = keys
    elif keys == ["pct"]:
        failed = [] if abs(sandbox["pct"] - real["pct"]) <= SHARE_POINTS else ["pct"]
    else:
        floor = FLOORS[unit(name)]
        failed = [k for k in keys if not close(float(sandbox[k]), float(real[k]), floor)]
    out["pass"] = not failed
    out["counted"] = real["n"] >= ANECDOTAL_N
    if failed:
        out["failed"] = failed
    return out


def _flatten(stats: Mapping[str, Any], prefix: str = "") -> dict[str, Mapping[str, Any]]:
    """{'rank_bands.lt_100k.share': {n, pct}, ...}: every comparable entry by dotted name."""
    out: dict[str, Mapping[str, Any]] = {}
    for key, val in stats.items():
        name = f"{prefix}{key}"
        if not isinstance(val, Mapping):
            continue
        if "n" in val and ("pct" in val or "p50" in val):
            out[name] = val
        else:
            out.update(_flatten(val, f"{name}."))
    return out


def _rank_drop_entries(drops: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """product_rank_drops' {n, rank_drops30_median, ...} as {n, p50} entries."""
    return {
        f"{band}.{k}": {"n": v["n"], "p50": v[k]}
        for band, v in drops.items()
        for k in ("rank_drops30_median", "rank_drops90_median")
    }


def compare_section(sandbox: Mapping[str, Any], real: Mapping[str, Any]) -> dict[str, Any]:
    """Every statistic of the real section, compared with the sandbox's (missing = n 0)."""
    s_flat, r_flat = _flatten(sandbox), _flatten(real)
    out: dict[str, Any] = {
        "info": {
            k: {"sandbox": sandbox.get(k), "real": real.get(k)} for k in INFO_KEYS if k in real
        }
    }
    for name, r in r_flat.items():
        out[name] = compare_one(name, s_flat.get(name, {"n": 0}), r)
    return out


def compare(sandbox: Mapping[str, Any], calibration: Mapping[str, Any]) -> dict[str, Any]:
    """The full report: sandbox = {"strata": {name: deal_stats}, "offers": offer_stats,
    "product_rank_drops": ...} against the calibration file; with a summary."""
    report: dict[str, Any] = {"tolerance": TOLERANCE, "strata": {}}
    for name, spec in calibration["strata"].items():
        report["strata"][name] = compare_section(sandbox["strata"].get(name, {}), spec["stats"])
    report["offers"] = compare_section(sandbox.get("offers", {}), calibration["offers"])
    report["product_rank_drops"] = compare_section(
        _rank_drop_entries(sandbox.get("product_rank_drops", {})),
        _rank_drop_entries(calibration["product_rank_drops"]),
    )
    entries = [
        (f"{sec}.{name}", e)
        for sec, block in [
            *((f"strata.{k}", v) for k, v in report["strata"].items()),
            ("offers", report["offers"]),
            ("product_rank_drops", report["product_rank_drops"]),
        ]
        for name, e in block.items()
        if name != "info"
    ]
    counted = [(n, e) for n, e in entries if e["counted"]]
    passed = sum(1 for _, e in counted if e["pass"])
    report["failed"] = [n for n, e in counted if not e["pass"]]
    report["failed_not_counted"] = [
        n for n, e in entries if not e["counted"] and e["pass"] is False
    ]
    report["passed"], report["compared"] = passed, len(counted)
    report["not_counted"] = len(entries) - len(counted)
    report["summary"] = (
        f"{passed}/{len(counted)} statistics within tolerance "
        f"({report['not_counted']} more shown but not counted: real n < "
        f"{ANECDOTAL_N} or 0)"
    )
    return report
