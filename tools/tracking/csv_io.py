"""Purchases out to CSV, and costs in from the CSV a seller keeps in a spreadsheet.

Export writes every purchase with its prediction and what it realized; text cells that a
spreadsheet would run as a formula (=, +, -, @) are written with a leading apostrophe (titles
come from Keepa, not from the seller).

Import is bounded (MAX_BYTES, MAX_ROWS, MAX_FIELD) and forgiving about headers ("Cost",
"unit cost", "Qty", "Seller SKU", "Order #", ...). Each row either updates one of the
seller's purchases, found by `id`, else by SKU, else by order number and ASIN (a date column
narrows both), or, when it matches none and names an ASIN, quantity and cost, records a new
purchase. A row that matches several purchases, or has a bad value, is skipped with the
reason; the other rows are applied.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from tools.models import Purchase, User
from tools.tracking import TrackingError
from tools.tracking import purchases as P

MAX_BYTES = 1_000_000
MAX_ROWS = 5_000
MAX_FIELD = 300
MAX_COLUMNS = 40
MAX_REASONS = 20

EXPORT_COLUMNS = (
    "id",
    "asin",
    "title",
    "quantity",
    "unit_cost",
    "condition",
    "purchased_on",
    "sku",
    "order_number",
    "note",
    "unit_all_in",
    "list_at_pred",
    "break_even_price",
    "min_list_price",
    "profit_pred",
    "days_to_sell_pred",
    "units_sold",
    "realized_profit",
)
_TEXT = frozenset({"title", "sku", "order_number", "note", "condition"})
_HEADERS = {
    "id": "id",
    "purchase_id": "id",
    "asin": "asin",
    "isbn": "asin",
    "isbn10": "asin",
    "cost": "unit_cost",
    "unit_cost": "unit_cost",
    "cost_per_unit": "unit_cost",
    "unit_price": "unit_cost",
    "price": "unit_cost",
    "buy_cost": "unit_cost",
    "qty": "quantity",
    "quantity": "quantity",
    "units": "quantity",
    "sku": "sku",
    "msku": "sku",
    "seller_sku": "sku",
    "order": "order_number",
    "order_number": "order_number",
    "order_no": "order_number",
    "order_id": "order_number",
    "date": "purchased_on",
    "purchase_date": "purchased_on",
    "purchased_on": "purchased_on",
    "purchased": "purchased_on",
    "bought": "purchased_on",
    "condition": "condition",
    "note": "note",
    "notes": "note",
}


def _cell(name: str, value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.2f}"
    if isinstance(value, datetime):
        return value.date().isoformat()
    text = str(value)
    if name in _TEXT and text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + text
    return text


def export_rows(purchases: Iterable[Purchase]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(EXPORT_COLUMNS)
    for p in purchases:
        view = P.purchase_view(p)
        view["purchased_on"] = p.purchased_at
        writer.writerow([_cell(c, view.get(c)) for c in EXPORT_COLUMNS])
    return out.getvalue()


def export_csv(session: Session, user: User) -> tuple[str, int]:
    """(CSV text, row count) of every purchase of the seller, oldest first."""
    if user.id is None:
        raise TrackingError("purchases belong to a signed-in seller")
    rows = list(
        session.exec(
            select(Purchase)
            .where(Purchase.user_id == user.id)
            .order_by(col(Purchase.purchased_at), col(Purchase.id))
        ).all()
    )
    return export_rows(rows), len(rows)


@dataclass
class ImportReport:
    updated: int = 0
    added: int = 0
    unchanged: int = 0
    skipped: int = 0
    reasons: list[str] = field(default_factory=list)

    def skip(self, line: int, why: str) -> None:
        self.skipped += 1
        if len(self.reasons) < MAX_REASONS:
            self.reasons.append(f"line {line}: {why}")

    def as_dict(self) -> dict[str, Any]:
        return {
            "updated": self.updated,
            "added": self.added,
            "unchanged": self.unchanged,
            "skipped": self.skipped,
            "reasons": self.reasons,
        }


def _header(name: str) -> str | None:
    key = re.sub(r"[^a-z0-9]+", "_", name.strip().lower()).strip("_")
    return _HEADERS.get(key)


def read_rows(data: bytes) -> tuple[list[tuple[int, dict[str, str]]], list[str]]:
    """The CSV's rows as {our column: text} with their line numbers, and the ignored headers."""
    if len(data) > MAX_BYTES:
        raise TrackingError(f"the file is larger than {MAX_BYTES // 1000:,} kB; split it")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    sample = text[:4096]
    try:
        dialect: Any = csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text), dialect)
    csv.field_size_limit(MAX_FIELD * 4)
    try:
        header = next(reader)
    except (StopIteration, csv.Error):
        raise TrackingError("the file is empty or not CSV") from None
    if len(header) > MAX_COLUMNS:
        raise TrackingError(f"more than {MAX_COLUMNS} columns: is this the purchases CSV?")
    names = [_header(h) for h in header]
    if "unit_cost" not in names:
        raise TrackingError(
            "no cost column: name one 'unit_cost' (or 'cost'), and identify rows by 'id', "
            "'sku' or 'order_number' + 'asin'"
        )
    ignored = [h for h, n in zip(header, names, strict=True) if n is None and h.strip()]
    rows: list[tuple[int, dict[str, str]]] = []
    try:
        for values in reader:
            if len(rows) >= MAX_ROWS:
                raise TrackingError(f"more than {MAX_ROWS:,} rows; split the file")
            if not any(v.strip() for v in values):
                continue
            row = {
                n: v.strip()[:MAX_FIELD]
                for n, v in zip(names, values, strict=False)
                if n is not None and v.strip()
            }
            rows.append((reader.line_num, row))
    except csv.Error as err:
        raise TrackingError(f"the CSV is malformed near line {reader.line_num}: {err}") from None
    return rows, ignored


def _strip_apostrophe(value: str | None) -> str | None:
    return value[1:] if value and value.startswith("'") else value


def _find(session: Session, user: User, row: dict[str, str]) -> tuple[list[Purchase], str | None]:
    """The seller's purchases this row names, and how it named them."""
    owner = user.id
    stmt = select(Purchase).where(Purchase.user_id == owner)
    if row.get("id"):
        try:
            pid = int(row["id"])
        except ValueError:
            raise TrackingError(f"id {row['id']!r} is not a number") from None
        return list(session.exec(stmt.where(Purchase.id == pid)).all()), "id"
    sku = _strip_apostrophe(row.get("sku"))
    order = _strip_apostrophe(row.get("order_number"))
    if sku:
        stmt = stmt.where(Purchase.sku == sku)
        how = "sku"
    elif order and row.get("asin"):
        stmt = stmt.where(
            Purchase.order_number == order, Purchase.asin == P.clean_asin(row["asin"])
        )
        how = "order number and ASIN"
    else:
        return [], None
    found = list(session.exec(stmt).all())
    if len(found) > 1 and row.get("purchased_on"):
        day = P.clean_when(row["purchased_on"]).date()
        found = [p for p in found if p.purchased_at.date() == day]
    return found, how


def _changes(p: Purchase, row: dict[str, str]) -> dict[str, Any]:
    changes: dict[str, Any] = {"unit_cost": row["unit_cost"]}
    for key in ("quantity", "condition", "order_number", "note"):
        if row.get(key):
            changes[key] = _strip_apostrophe(row[key])
    if row.get("sku") and not p.sku:
        changes["sku"] = _strip_apostrophe(row["sku"])
    if row.get("purchased_on"):
        when = P.clean_when(row["purchased_on"])
        if when.date() != p.purchased_at.date():  # a date column keeps the time of day
            changes["purchased_at"] = when
    return changes


def _same(p: Purchase, changes: dict[str, Any]) -> bool:
    probe = Purchase.model_validate(p.model_dump())
    for key, value in changes.items():
        cleaner = {
            "unit_cost": P.clean_cost,
            "quantity": P.clean_quantity,
            "condition": P.clean_condition,
            "purchased_at": P.clean_when,
        }.get(key)
        setattr(probe, key, cleaner(value) if cleaner else value)
    return all(getattr(probe, k) == getattr(p, k) for k in changes)


def import_costs(
    session: Session, user: User, data: bytes, *, dry_run: bool = False
) -> ImportReport:
    """Apply a costs CSV to the seller's purchases (see the module docstring)."""
    if user.id is None:
        raise TrackingError("purchases belong to a signed-in seller")
    rows, ignored = read_rows(data)
    report = ImportReport()
    touched: set[str] = set()
    if ignored:
        report.reasons.append("ignored columns: " + ", ".join(ignored[:10]))
    for line, row in rows:
        try:
            if not row.get("unit_cost"):
                report.skip(line, "no cost")
                continue
            found, how = _find(session, user, row)
            if len(found) > 1:
                report.skip(
                    line, f"{len(found)} purchases match its {how}: add an id or a date column"
                )
                continue
            if found:
                p = found[0]
                changes = _changes(p, row)
                if _same(p, changes):
                    report.unchanged += 1
                    continue
                if not dry_run:
                    P.edit_purchase(session, user, p.id or 0, changes, match=False)
                    touched.add(p.asin)
                report.updated += 1
                continue
            if how == "id":
                report.skip(line, f"you have no purchase #{row['id']}")
                continue
            if not (row.get("asin") and row.get("quantity")):
                report.skip(line, "matches no purchase; to add one it needs asin and quantity")
                continue
            new = P.PurchaseInput(
                row["asin"],
                P.clean_quantity(row["quantity"]),
                P.clean_cost(row["unit_cost"]),
                row.get("condition"),
                row.get("purchased_on"),
                _strip_apostrophe(row.get("sku")),
                _strip_apostrophe(row.get("order_number")),
                row.get("note"),
            )
            if dry_run:
                P.clean_asin(new.asin)
                P.clean_condition(new.condition)
                P.clean_when(new.purchased_at)
            else:
                touched.add(P.record_purchase(session, user, new, match=False).asin)
            report.added += 1
        except TrackingError as err:
            report.skip(line, str(err))
    if touched:  # the sales of every ASIN whose purchases changed, matched once
        from tools.tracking.realized import rematch

        rematch(session, user.id, touched)
    return report
