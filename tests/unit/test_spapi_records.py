"""SP-API answers become rows the way a seller's money works: a sale's charges and fees by type,
a refund's adjustments with their signs, what reached the seller; and hostile or broken
records are skipped or cut, never stored as they came."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from tools.restrictions.errors import SpApiError
from tools.spapi.records import (
    financial_event_rows,
    inventory_rows,
    order_item_rows,
    order_rows,
)
from tools.spapi.sync import _next_token

NOW = datetime(2026, 12, 1, tzinfo=UTC)


def _amount(v: float) -> dict[str, Any]:
    return {"CurrencyCode": "USD", "CurrencyAmount": v}


def test_a_sale_and_its_refund_keep_fees_by_type_and_what_reached_the_seller() -> None:
    body = {
        "payload": {
            "FinancialEvents": {
                "ShipmentEventList": [
                    {
                        "AmazonOrderId": "112-0000001-0000001",
                        "PostedDate": "2026-11-03T10:00:00Z",
                        "ShipmentItemList": [
                            {
                                "SellerSKU": "BK-1",
                                "OrderItemId": "111",
                                "QuantityShipped": 1,
                                "ItemChargeList": [
                                    {"ChargeType": "Principal", "ChargeAmount": _amount(40.0)},
                                    {"ChargeType": "Tax", "ChargeAmount": _amount(3.2)},
                                    {"ChargeType": "ShippingCharge", "ChargeAmount": _amount(0)},
                                ],
                                "ItemFeeList": [
                                    {"FeeType": "Commission", "FeeAmount": _amount(-6.0)},
                                    {
                                        "FeeType": "FBAPerUnitFulfillmentFee",
                                        "FeeAmount": _amount(-3.22),
                                    },
                                    {"FeeType": "VariableClosingFee", "FeeAmount": _amount(-1.8)},
                                ],
                                "ItemTaxWithheldList": [
                                    {
                                        "TaxCollectionModel": "MarketplaceFacilitator",
                                        "TaxesWithheld": [
                                            {
                                                "ChargeType": "MarketplaceFacilitatorTax-Principal",
                                                "ChargeAmount": _amount(-3.2),
                                            }
                                        ],
                                    }
                                ],
                                "PromotionList": [],
                            }
                        ],
                    }
                ],
                "RefundEventList": [
                    {
                        "AmazonOrderId": "112-0000001-0000001",
                        "PostedDate": "2026-11-20T10:00:00Z",
                        "ShipmentItemAdjustmentList": [
                            {
                                "SellerSKU": "BK-1",
                                "OrderItemId": "111",
                                "OrderAdjustmentItemId": "999",
                                "QuantityShipped": 1,
                                "ItemChargeAdjustmentList": [
                                    {"ChargeType": "Principal", "ChargeAmount": _amount(-40.0)}
                                ],
                                "ItemFeeAdjustmentList": [
                                    {"FeeType": "Commission", "FeeAmount": _amount(6.0)},
                                    {"FeeType": "RefundCommission", "FeeAmount": _amount(-1.2)},
                                ],
                            }
                        ],
                    }
                ],
                "ServiceFeeEventList": [{"FeeReason": "not an item event"}],
            }
        }
    }
    parsed = financial_event_rows(body, user_id=7)
    sale, refund = parsed.rows
    assert (sale["kind"], sale["item_key"], sale["user_id"]) == ("shipment", "111", 7)
    assert sale["principal"] == 40.0 and sale["tax"] == 3.2 and sale["tax_withheld"] == -3.2
    assert sale["fees"] == {
        "Commission": -6.0,
        "FBAPerUnitFulfillmentFee": -3.22,
        "VariableClosingFee": -1.8,
    }
    assert sale["fees_total"] == -11.02 and sale["net"] == 28.98  # 40 - 11.02, tax nets out
    assert (refund["kind"], refund["item_key"], refund["order_item_id"]) == ("refund", "999", "111")
    assert refund["principal"] == -40.0 and refund["net"] == -35.2  # commission back, less fee
    assert refund["posted_at"] == datetime(2026, 11, 20, 10, tzinfo=UTC)


def test_broken_and_hostile_records_are_skipped_or_cut() -> None:
    huge = "x" * 100_000
    inv = inventory_rows(
        {
            "payload": {
                "inventorySummaries": [
                    {"sellerSku": huge, "asin": huge, "totalQuantity": -5},
                    {"asin": "0131103628"},  # no SKU: no natural key
                    "not an object",
                    {"sellerSku": "OK", "inventoryDetails": {"fulfillableQuantity": "3"}},
                ]
            }
        },
        1,
        NOW,
    )
    assert inv.skipped == 2 and len(inv.rows) == 2
    long_row, ok = inv.rows
    assert len(long_row["sku"]) == 100 and len(long_row["asin"]) == 16
    assert long_row["total_quantity"] == 0  # a negative count is not a count
    assert ok["fulfillable"] == 3
    orders = order_rows(
        {
            "payload": {
                "Orders": [
                    {"AmazonOrderId": "1", "PurchaseDate": "yesterday", "OrderStatus": "Shipped"},
                    {
                        "AmazonOrderId": "112-1",
                        "PurchaseDate": "2026-11-01T00:00:00Z",
                        "LastUpdateDate": "2026-11-02T00:00:00Z",
                        "OrderStatus": "Shipped",
                        "OrderTotal": {"CurrencyCode": "USD", "Amount": "1e400"},
                    },
                ]
            }
        },
        1,
        NOW,
    )
    assert orders.skipped == 1 and orders.rows[0]["order_total"] is None
    items = order_item_rows({"payload": {"OrderItems": [{"OrderItemId": "1"}]}}, 1, "112-1", NOW)
    assert items.skipped == 1 and not items.rows  # an item without its ASIN
    assert financial_event_rows({"payload": {"FinancialEvents": "nope"}}, 1).rows == []
    assert _next_token("abc") == "abc" and _next_token("") is None
    with pytest.raises(SpApiError):
        _next_token("t" * 20_000)
