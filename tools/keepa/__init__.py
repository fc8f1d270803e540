"""Keepa: async client, shared Redis token budget, parsing/validation (sandbox: tools.sandbox).

Products travel through the system as Keepa-JSON dicts (the `products[]` items of a /product/
answer); `validate_product` guarantees their shape (cheaply; `model=True` adds keepa's pydantic
model), `parse_product` adds keepa's parsed views, computed lazily with numpy.
"""

from tools.keepa.budget import PURPOSES, KeepaPurpose, Reservation, TokenBudget
from tools.keepa.client import KeepaClient, KeepaResult, ProductsResult, SyncKeepaClient
from tools.keepa.costs import (
    estimate_deal_cost,
    estimate_finder_cost,
    estimate_product_cost,
    estimate_seller_cost,
)
from tools.keepa.envelope import TokenEnvelope
from tools.keepa.errors import (
    BudgetWaitTimeout,
    KeepaError,
    KeepaNotFound,
    KeepaPaymentRequired,
    KeepaRequestRejected,
    KeepaServerError,
    KeepaTokensExhausted,
    KeepaTransportError,
    MalformedProduct,
)
from tools.keepa.factory import (
    get_sandbox_market,
    make_keepa_client,
    make_sync_keepa_client,
    make_token_budget,
)
from tools.keepa.keepatime import keepa_minutes_to_unix, to_keepa_minutes
from tools.keepa.parsing import (
    KeepaHistory,
    ParsedProduct,
    keepa_minutes_to_unix_ms,
    parse_product,
    parse_products,
    validate_product,
    validate_products,
)

__all__ = [
    "PURPOSES",
    "BudgetWaitTimeout",
    "KeepaClient",
    "KeepaError",
    "KeepaHistory",
    "KeepaNotFound",
    "KeepaPaymentRequired",
    "KeepaPurpose",
    "KeepaRequestRejected",
    "KeepaResult",
    "KeepaServerError",
    "KeepaTokensExhausted",
    "KeepaTransportError",
    "MalformedProduct",
    "ParsedProduct",
    "ProductsResult",
    "Reservation",
    "SyncKeepaClient",
    "TokenBudget",
    "TokenEnvelope",
    "estimate_deal_cost",
    "estimate_finder_cost",
    "estimate_product_cost",
    "estimate_seller_cost",
    "get_sandbox_market",
    "keepa_minutes_to_unix",
    "keepa_minutes_to_unix_ms",
    "make_keepa_client",
    "make_sync_keepa_client",
    "make_token_budget",
    "parse_product",
    "parse_products",
    "to_keepa_minutes",
    "validate_product",
    "validate_products",
]
