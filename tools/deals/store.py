"""Write a `DealRecord` into the deal and deal_history tables, idempotently.

One `tools.db.upsert` per table (ON CONFLICT (asin) DO UPDATE), so concurrent workers
re-processing the same ASIN never race into duplicate-key errors and re-running is harmless.
The pipeline's own columns (priority, next_refresh_at, created_at, fetched_at...) are never
touched here; the workers own them.
"""

from __future__ import annotations

from dataclasses import fields
from datetime import datetime
from typing import Any

from sqlmodel import Session

from tools.db import table_of, upsert
from tools.deals import money as m
from tools.deals.analytics import DealRecord
from tools.models import DEFAULT_MONEY_COLUMNS, Deal, DealHistory, DealStatus, utcnow
from tools.user_settings import DEFAULT_SETTINGS

_DEAL_COLUMNS = frozenset(table_of(Deal).c.keys())
_HISTORY_FIELDS = {
    "used_price_history": "used_price",
    "sales_rank_history": "sales_rank",
    "amazon_price_history": "amazon_price",
    "new_price_history": "new_price",
    "inferred_sales": "inferred_sales",
}


def deal_row(record: DealRecord, *, now: datetime | None = None) -> dict[str, Any]:
    """The deal-table values of a record: analytics columns, default-settings money, status.

    The `*_default` money is recomputed under the policy defaults, whatever settings the
    record was analysed with, so default sorting is the same for every row.
    """
    now = now or utcnow()
    row: dict[str, Any] = {}
    for f in fields(record):
        if f.name in _DEAL_COLUMNS:
            row[f.name] = getattr(record, f.name)
    money = m.compute_money(record.money_inputs(), DEFAULT_SETTINGS)
    row["amz_fees"] = money.amz_fees
    for attr, column in DEFAULT_MONEY_COLUMNS.items():
        row[column] = getattr(money, attr)
    row["missing"] = dict(record.missing) or None
    row["status"] = DealStatus.active.value
    row["last_seen_utc"] = now
    row["updated_at"] = now
    return row


def history_row(record: DealRecord, *, now: datetime | None = None) -> dict[str, Any]:
    row: dict[str, Any] = {"asin": record.asin, "updated_at": now or utcnow()}
    for attr, column in _HISTORY_FIELDS.items():
        row[column] = getattr(record, attr)
    return row


def upsert_deal(session: Session, record: DealRecord, *, now: datetime | None = None) -> None:
    """Insert or update the deal row and its history (keyed by ASIN); caller commits."""
    now = now or utcnow()
    upsert(session, Deal, deal_row(record, now=now))
    upsert(session, DealHistory, history_row(record, now=now))
