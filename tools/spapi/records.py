"""SP-API answers turned into table rows (fba_inventory, seller_order, seller_order_item,
financial_event), bounded at the edge: strings cut to their column's length, amounts parsed
as numbers, records without their natural key skipped (and counted) rather than stored.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from tools.models import FinancialEventKind

# FinancialEvents list -> (our kind, the item list's name, whether it holds adjustments)
EVENT_LISTS: dict[str, tuple[str, str, bool]] = {
    "ShipmentEventList": (FinancialEventKind.shipment, "ShipmentItemList", False),
    "RefundEventList": (FinancialEventKind.refund, "ShipmentItemAdjustmentList", True),
    "GuaranteeClaimEventList": (
        FinancialEventKind.guarantee_claim,
        "ShipmentItemAdjustmentList",
        True,
    ),
    "ChargebackEventList": (FinancialEventKind.chargeback, "ShipmentItemAdjustmentList", True),
}
SHIPPING_CHARGES = frozenset({"ShippingCharge"})
TAX_CHARGES = frozenset({"Tax", "ShippingTax", "GiftWrapTax", "GiftwrapChargeback"})


@dataclass
class Parsed:
    rows: list[dict[str, Any]] = field(default_factory=list)
    skipped: int = 0


def text(value: Any, limit: int) -> str | None:
    if value is None:
        return None
    out = str(value).strip()
    return out[:limit] if out else None


def when(value: Any) -> datetime | None:
    """An SP-API ISO 8601 date-time as an aware UTC datetime (None when absent or bad)."""
    if not isinstance(value, str) or not value or len(value) > 40:
        return None
    raw = value.strip()
    if raw.endswith("Z"):
        raw = raw[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(raw)
    except ValueError:
        return None
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).astimezone(UTC)


def number(value: Any) -> float | None:
    try:
        out = float(value)
    except (TypeError, ValueError):
        return None
    return out if math.isfinite(out) and abs(out) < 1e9 else None


def count(value: Any) -> int:
    try:
        out = int(value)
    except (TypeError, ValueError):
        return 0
    return out if 0 <= out < 10**9 else 0


def _money(value: Any) -> tuple[float | None, str | None]:
    """Orders API Money {"CurrencyCode", "Amount": "12.34"}."""
    if not isinstance(value, dict):
        return None, None
    return number(value.get("Amount")), text(value.get("CurrencyCode"), 3)


def _currency(value: Any) -> tuple[float, str | None]:
    """Finances API Currency {"CurrencyCode", "CurrencyAmount": 12.34}."""
    if not isinstance(value, dict):
        return 0.0, None
    return number(value.get("CurrencyAmount")) or 0.0, text(value.get("CurrencyCode"), 3)


def _sub(details: dict[str, Any], name: str, total: str) -> int:
    part = details.get(name)
    return count(part.get(total)) if isinstance(part, dict) else 0


def inventory_rows(body: dict[str, Any], user_id: int, now: datetime) -> Parsed:
    """fba_inventory rows from one getInventorySummaries page."""
    out = Parsed()
    payload = body.get("payload") if isinstance(body.get("payload"), dict) else {}
    for s in (payload or {}).get("inventorySummaries") or []:
        sku = text(s.get("sellerSku"), 100) if isinstance(s, dict) else None
        if not sku:
            out.skipped += 1
            continue
        d = s.get("inventoryDetails") if isinstance(s.get("inventoryDetails"), dict) else {}
        out.rows.append(
            {
                "user_id": user_id,
                "sku": sku,
                "asin": text(s.get("asin"), 16),
                "fnsku": text(s.get("fnSku"), 16),
                "condition": text(s.get("condition"), 40),
                "product_name": text(s.get("productName"), 2000),
                "fulfillable": count(d.get("fulfillableQuantity")),
                "inbound_working": count(d.get("inboundWorkingQuantity")),
                "inbound_shipped": count(d.get("inboundShippedQuantity")),
                "inbound_receiving": count(d.get("inboundReceivingQuantity")),
                "reserved": _sub(d, "reservedQuantity", "totalReservedQuantity"),
                "unfulfillable": _sub(d, "unfulfillableQuantity", "totalUnfulfillableQuantity"),
                "researching": _sub(d, "researchingQuantity", "totalResearchingQuantity"),
                "total_quantity": count(s.get("totalQuantity")),
                "amazon_updated_at": when(s.get("lastUpdatedTime")),
                "seen_at": now,
                "updated_at": now,
            }
        )
    return out


def order_rows(body: dict[str, Any], user_id: int, now: datetime) -> Parsed:
    """seller_order rows from one getOrders page (items come from getOrderItems)."""
    out = Parsed()
    payload = body.get("payload") if isinstance(body.get("payload"), dict) else {}
    for o in (payload or {}).get("Orders") or []:
        if not isinstance(o, dict):
            out.skipped += 1
            continue
        order_id = text(o.get("AmazonOrderId"), 32)
        purchased, updated = when(o.get("PurchaseDate")), when(o.get("LastUpdateDate"))
        status = text(o.get("OrderStatus"), 32)
        if not (order_id and purchased and updated and status):
            out.skipped += 1
            continue
        total, code = _money(o.get("OrderTotal"))
        out.rows.append(
            {
                "user_id": user_id,
                "amazon_order_id": order_id,
                "purchase_date": purchased,
                "last_update_date": updated,
                "status": status,
                "fulfillment_channel": text(o.get("FulfillmentChannel"), 8),
                "order_total": total,
                "currency": code,
                "items_shipped": count(o.get("NumberOfItemsShipped")),
                "items_unshipped": count(o.get("NumberOfItemsUnshipped")),
                "marketplace_id": text(o.get("MarketplaceId"), 20),
                "updated_at": now,
            }
        )
    return out


def order_item_rows(body: dict[str, Any], user_id: int, order_id: str, now: datetime) -> Parsed:
    """seller_order_item rows from one getOrderItems page."""
    out = Parsed()
    payload = body.get("payload") if isinstance(body.get("payload"), dict) else {}
    for it in (payload or {}).get("OrderItems") or []:
        if not isinstance(it, dict):
            out.skipped += 1
            continue
        item_id, asin = text(it.get("OrderItemId"), 64), text(it.get("ASIN"), 16)
        if not (item_id and asin):
            out.skipped += 1
            continue
        price, code = _money(it.get("ItemPrice"))
        out.rows.append(
            {
                "user_id": user_id,
                "amazon_order_id": order_id,
                "order_item_id": item_id,
                "asin": asin,
                "sku": text(it.get("SellerSKU"), 100),
                "title": text(it.get("Title"), 2000),
                "quantity_ordered": count(it.get("QuantityOrdered")),
                "quantity_shipped": count(it.get("QuantityShipped")),
                "item_price": price,
                "item_tax": _money(it.get("ItemTax"))[0],
                "shipping_price": _money(it.get("ShippingPrice"))[0],
                "promotion_discount": _money(it.get("PromotionDiscount"))[0],
                "currency": code,
                "condition_id": text(it.get("ConditionId"), 20),
                "condition_subtype_id": text(it.get("ConditionSubtypeId"), 20),
                "updated_at": now,
            }
        )
    return out


def _by_type(components: Any, type_key: str, amount_key: str) -> tuple[dict[str, float], str]:
    out: dict[str, float] = {}
    code = ""
    for c in components if isinstance(components, list) else []:
        if not isinstance(c, dict):
            continue
        name = text(c.get(type_key), 80) or "Other"
        amount, cur = _currency(c.get(amount_key))
        out[name] = round(out.get(name, 0.0) + amount, 2)
        code = code or (cur or "")
    return out, code


def _withheld(item: dict[str, Any]) -> float:
    total = 0.0
    for w in item.get("ItemTaxWithheldList") or []:
        if isinstance(w, dict):
            taxes, _ = _by_type(w.get("TaxesWithheld"), "ChargeType", "ChargeAmount")
            total += sum(taxes.values())
    return round(total, 2)


def _promotions(items: Any) -> float:
    total = 0.0
    for p in items if isinstance(items, list) else []:
        if isinstance(p, dict):
            total += _currency(p.get("PromotionAmount"))[0]
    return round(total, 2)


def financial_event_rows(body: dict[str, Any], user_id: int) -> Parsed:
    """financial_event rows (one per shipment item or adjustment item) from one
    listFinancialEvents page; other event lists (fees, adjustments, ...) are not kept."""
    out = Parsed()
    payload = body.get("payload") if isinstance(body.get("payload"), dict) else {}
    lists = (payload or {}).get("FinancialEvents")
    if not isinstance(lists, dict):
        return out
    for list_name, (kind, items_name, adjustment) in EVENT_LISTS.items():
        for event in lists.get(list_name) or []:
            if not isinstance(event, dict):
                out.skipped += 1
                continue
            order_id = text(event.get("AmazonOrderId"), 32)
            posted = when(event.get("PostedDate"))
            if not (order_id and posted):
                out.skipped += 1
                continue
            for n, item in enumerate(event.get(items_name) or []):
                if not isinstance(item, dict):
                    out.skipped += 1
                    continue
                row = _event_item(item, adjustment, n)
                row.update(
                    user_id=user_id, kind=str(kind), amazon_order_id=order_id, posted_at=posted
                )
                out.rows.append(row)
    return out


def _event_item(item: dict[str, Any], adjustment: bool, n: int) -> dict[str, Any]:
    suffix = "Adjustment" if adjustment else ""
    charges, c1 = _by_type(item.get(f"ItemCharge{suffix}List"), "ChargeType", "ChargeAmount")
    fees, c2 = _by_type(item.get(f"ItemFee{suffix}List"), "FeeType", "FeeAmount")
    promotions = _promotions(item.get(f"Promotion{suffix}List"))
    withheld = _withheld(item)
    order_item = text(item.get("OrderItemId"), 64)
    sku = text(item.get("SellerSKU"), 100)
    key_field = "OrderAdjustmentItemId" if adjustment else "OrderItemId"
    key = text(item.get(key_field), 64) or f"{order_item or sku or 'item'}#{n}"[:64]
    principal = charges.get("Principal", 0.0)
    shipping = round(sum(v for k, v in charges.items() if k in SHIPPING_CHARGES), 2)
    tax = round(sum(v for k, v in charges.items() if k in TAX_CHARGES), 2)
    other = round(sum(charges.values()) - principal - shipping - tax, 2)
    fees_total = round(sum(fees.values()), 2)
    return {
        "item_key": key,
        "sku": sku,
        "order_item_id": order_item,
        "quantity": count(item.get("QuantityShipped")),
        "principal": principal,
        "shipping": shipping,
        "tax": tax,
        "other_charges": other,
        "promotions": promotions,
        "tax_withheld": withheld,
        "fees_total": fees_total,
        "net": round(sum(charges.values()) + fees_total + promotions + withheld, 2),
        "charges": charges or None,
        "fees": fees or None,
        "currency": c1 or c2 or None,
    }
