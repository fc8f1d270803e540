"""The real Keepa used-book market in numbers, and the same numbers computed on any answers.

keepa_used_books.json (derived statistics of real answers; README.md says where from and how
each is defined), the computation of those statistics from raw /deal/ and /product/ answers
(stats), the three requests they come from (strata) and the sandbox-vs-real comparison
(compare). Nothing here depends on the sandbox: bench/market_realism.py feeds it the sandbox's
answers; a real capture could be fed the same way.
"""

from tools.sandbox.calibration.compare import compare
from tools.sandbox.calibration.stats import (
    deal_stats,
    live_flags,
    offer_stats,
    product_rank_drops,
    profit_usd,
    scan_rows,
)
from tools.sandbox.calibration.strata import Stratum, load_calibration, strata

__all__ = [
    "Stratum",
    "compare",
    "deal_stats",
    "live_flags",
    "load_calibration",
    "offer_stats",
    "product_rank_drops",
    "profit_usd",
    "scan_rows",
    "strata",
]
