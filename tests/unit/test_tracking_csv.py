"""Purchases out to CSV and costs back in, as a seller round-trips their spreadsheet."""

from __future__ import annotations

import csv
import io

import pytest

from tests.unit.agent_helpers import add_user, make_deal, seed
from tools.db import session_scope
from tools.settings import Settings
from tools.tracking import TrackingError
from tools.tracking.csv_io import MAX_BYTES, MAX_ROWS, export_csv, import_costs
from tools.tracking.purchases import PurchaseInput, list_purchases, record_purchase
from tools.users import get_user

ASIN = "0131103628"


@pytest.fixture
def sam(settings: Settings) -> Settings:
    seed(settings, make_deal(ASIN, title='=HYPERLINK("http://evil")'))
    with session_scope(settings) as s:
        user = add_user(s, "sam")
        add_user(s, "kim")
        record_purchase(s, user, PurchaseInput(ASIN, 3, 12.4, "good", "2025-11-03", sku="C-1"))
        record_purchase(s, user, PurchaseInput(ASIN, 2, 9.0, None, "2025-11-05", sku="C-2"))
    return settings


def _rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def _import(settings: Settings, name: str, text: str, **kw: bool):  # type: ignore[no-untyped-def]
    with session_scope(settings) as s:
        user = get_user(s, name)
        assert user is not None
        return import_costs(s, user, text.encode(), **kw)


def _costs(settings: Settings, name: str = "sam") -> list[tuple[str | None, float, int]]:
    with session_scope(settings) as s:
        user = get_user(s, name)
        assert user is not None
        return sorted((p.sku, p.unit_cost, p.quantity) for p in list_purchases(s, user))


def test_export_has_every_purchase_with_its_prediction_and_defuses_formulas(sam: Settings) -> None:
    with session_scope(sam) as s:
        user = get_user(s, "sam")
        assert user is not None
        text, n = export_csv(s, user)
    rows = _rows(text)
    assert n == 2 and [r["sku"] for r in rows] == ["C-1", "C-2"]
    assert rows[0]["purchased_on"] == "2025-11-03" and rows[0]["unit_cost"] == "12.40"
    assert rows[0]["min_list_price"] == "33.41" and rows[0]["profit_pred"] == "42.94"
    assert rows[0]["title"].startswith("'=HYPERLINK")  # a spreadsheet shows it as text


def test_an_edited_export_imported_back_corrects_costs(sam: Settings) -> None:
    with session_scope(sam) as s:
        user = get_user(s, "sam")
        assert user is not None
        text, _ = export_csv(s, user)
    rows = _rows(text)
    rows[1]["unit_cost"] = "8.25"
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    report = _import(sam, "sam", out.getvalue())
    assert (report.updated, report.unchanged, report.added, report.skipped) == (1, 1, 0, 0)
    assert _costs(sam) == [("C-1", 12.4, 3), ("C-2", 8.25, 2)]


def test_a_spreadsheets_own_headers_match_by_sku_and_add_new_rows(sam: Settings) -> None:
    text = (
        "Seller SKU;Cost;Qty;ASIN;Date\n"
        "C-1;$11.00;;;\n"
        "NEW-9;4.50;2;0134685997;2025-11-20\n"
        "NOPE;3;;;\n"
        "C-2;abc;;;\n"
    )
    report = _import(sam, "sam", text)
    assert (report.updated, report.added, report.skipped) == (1, 1, 2)
    assert report.reasons[0].startswith("line 4: matches no purchase")
    assert "unit cost must be an amount" in report.reasons[1]
    assert _costs(sam) == [("C-1", 11.0, 3), ("C-2", 9.0, 2), ("NEW-9", 4.5, 2)]


def test_a_dry_run_changes_nothing(sam: Settings) -> None:
    report = _import(sam, "sam", "sku,cost\nC-1,1.00\n", dry_run=True)
    assert report.updated == 1
    assert _costs(sam)[0] == ("C-1", 12.4, 3)


def test_an_import_never_touches_another_sellers_purchases(sam: Settings) -> None:
    report = _import(sam, "kim", "id,sku,cost\n1,,0.01\n,C-1,0.01\n")
    assert report.updated == 0 and report.skipped == 2
    assert "you have no purchase #1" in report.reasons[0]
    assert _costs(sam) == [("C-1", 12.4, 3), ("C-2", 9.0, 2)]


def test_oversized_or_odd_files_are_refused_before_anything_changes(sam: Settings) -> None:
    with pytest.raises(TrackingError, match="larger than"):
        _import(sam, "sam", "sku,cost\n" + "C-1,1\n" * (MAX_BYTES // 6))
    with pytest.raises(TrackingError, match="more than"):
        _import(sam, "sam", "sku,cost\n" + "C-1,1\n" * (MAX_ROWS + 1))
    with pytest.raises(TrackingError, match="no cost column"):
        _import(sam, "sam", "sku,quantity\nC-1,2\n")
    assert _costs(sam) == [("C-1", 12.4, 3), ("C-2", 9.0, 2)]
