"""Upgrades never lose data: a database populated at each earlier schema revision is migrated
to the newest one (as every start does) and every row comes back with its values, on SQLite
and on PostgreSQL; then the app reads them: sign-in, decrypted credentials, knowledge and deal
search, a resumed chat thread.

Rows are written with plain SQL against the tables as they were at that revision (reflected
from the database, never from tools/models.py, which describes only the newest schema). A new
table, or a new required column, makes the test fail until SEEDS has a value for it.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from functools import cache
from typing import Any

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, MetaData, inspect, select, text

from tools.db import alembic_config, get_engine, head_revision, migrate
from tools.security import encrypt, hash_password
from tools.settings import Settings, get_settings, reset_settings_cache

pytestmark = [
    pytest.mark.integration,
    pytest.mark.no_template_db,
    pytest.mark.filterwarnings("ignore:Skipped unsupported reflection"),
]

_SCRIPTS = ScriptDirectory.from_config(alembic_config("sqlite://"))
EARLIER = [r.revision for r in reversed(list(_SCRIPTS.walk_revisions()))][:-1]
# Derived tables, rebuilt from the seeded rows by triggers or migrations; the search checks at
# the end show they were.
DERIVED_PREFIXES = ("knowledge_fts", "deal_fts")
NOT_DATA = {"alembic_version"}

T0 = datetime(2025, 3, 4, 5, 6, 7, 890000, tzinfo=UTC)
THREAD_ID = "7c8f5a2e-0d5b-4b61-9a53-3a1f1f0c0001"
PASSWORD = "correct-horse-battery"
REFRESH_TOKEN = "Atzr|IwEBIExample-refresh-token"


@cache  # argon2 hashing and encryption once per key, not once per case
def seeds(key: str) -> dict[str, list[dict[str, Any]]]:
    """Representative rows for every data table, with every column a user's data lives in."""
    return {
        "user": [
            {
                "id": 1,
                "name": "boss",
                "password_hash": hash_password(PASSWORD),
                "role": "admin",
                "seller_id": None,
                "settings": None,
                "created_at": T0,
                "token_version": 0,
                "disabled": False,
            },
            {
                "id": 2,
                "name": "sam",
                "password_hash": hash_password(PASSWORD),
                "role": "user",
                "seller_id": "A2EXAMPLE123",
                "settings": {"tax_pct": 8.25, "prep_fee": 0.5, "hide_gated": True},
                "created_at": T0,
                "token_version": 3,
                "disabled": False,
            },
        ],
        "user_credential": [
            {
                "user_id": 2,
                "seller_id": "A2EXAMPLE123",
                "refresh_token_enc": encrypt(REFRESH_TOKEN, key),
                "client_id_enc": encrypt("amzn1.application-oa2-client.x", key),
                "client_secret_enc": encrypt("client-secret-value", key),
                "state": "connected",
                "last_error": None,
                "updated_at": T0,
            },
        ],
        "user_restriction": [
            {
                "id": 1,
                "user_id": 2,
                "asin": "0131103628",
                "condition": "used_very_good",
                "status": 2,
                "reason_code": "APPROVAL_REQUIRED",
                "message": "You need approval",
                "approval_url": "https://sellercentral.amazon.com/hz/approvalrequest",
                "checked_at": T0,
            },
        ],
        "deal": [
            {
                "asin": "0131103628",
                "title": "Café Calculus – Early Transcendentals, 3rd Edition",
                "author": "Ana Núñez",
                "binding": "Hardcover",
                "category": "Textbooks",
                "root_category_id": 283155,
                "category_path": "Books > Textbooks > Mathematics",
                "publication_year": 2019,
                "image_url": "https://images.example/calc.jpg",
                "condition": "used_very_good",
                "price_now": 12.34,
                "price_now_source": "used",
                "shipping_included": False,
                "sales_rank": 45678,
                "rank_drops_30": 9,
                "rank_drops_90": 25,
                "rank_drops_180": 40,
                "rank_drops_365": 77,
                "offers_used": 14,
                "offers_new": 3,
                "offers_fba": 4,
                "offers_fbm": 10,
                "amazon_offer": False,
                "buy_box_amazon_share": 0.125,
                "amazon_new_low": 89.5,
                "avg_1yr": 41.25,
                "percent_down": 37.5,
                "inferred_sales_count": 31,
                "offer_drops_count": 12,
                "deal_trust": 0.82,
                "seller_id": "A1SELLER",
                "seller_quality": 0.97,
                "trend": "rising",
                "peak_months": "1,8",
                "trough_months": "5",
                "peak_mask": 258,
                "seasonality": "textbook",
                "list_at": 64.99,
                "expected_trough_price": 30.1,
                "referral_pct": 0.15,
                "referral_min": 0.0,
                "fba_fee": 5.4,
                "fba_fee_source": "dims",
                "closing_fee": 1.8,
                "amz_fees": 16.95,
                "all_in_cost_default": 14.84,
                "profit_default": 33.2,
                "margin_default": 0.511,
                "roi_default": 2.237,
                "min_listing_price_default": 35.0,
                "missing": {"weight": "not in Keepa data"},
                "status": "active",
                "priority": 2,
                "next_refresh_at": T0,
                "last_seen_utc": T0,
                "keepa_last_update": T0,
                "fetched_at": T0,
                "offers_fetched_at": T0,
                "created_at": T0,
                "updated_at": T0,
            },
        ],
        "deal_history": [
            {
                "asin": "0131103628",
                "used_price": {"t": [1, 2], "v": [40.0, 12.34]},
                "sales_rank": {"t": [1, 2], "v": [90000, 45678]},
                "amazon_price": None,
                "new_price": {"t": [1], "v": [89.5]},
                "inferred_sales": [{"t": 2, "price": 39.0}],
                "updated_at": T0,
            },
        ],
        "system_state": [
            {
                "key": "backfill",
                "value": {"next_page": 7, "pages_done": 7, "rows": 700},
                "updated_at": T0,
            },
        ],
        "keepa_seller": [
            {
                "seller_id": "A1SELLER",
                "name": "Bookworm Ltd",
                "rating_pct": 97,
                "rating_count": 15321,
                "fetched_at": T0,
            },
        ],
        "strategy": [
            {
                "id": 1,
                "text": "Skip textbooks whose rank climbs above two million in summer.",
                "category": "sourcing",
                "source": "https://example.com/podcast-42",
                "author": "boss",
                "approved_by": "boss",
                "approved_at": T0,
                "created_at": T0,
            },
        ],
        "mental_model": [
            {
                "id": 1,
                "title": "Margin of safety",
                "text": "Buy only when the worst plausible sale price still leaves a profit.",
                "category": "risk",
                "source": "pasted",
                "author": "boss",
                "approved_by": "boss",
                "approved_at": T0,
                "created_at": T0,
            },
        ],
        "fba_inventory": [
            {
                "id": 1,
                "user_id": 2,
                "sku": "BK-0131103628-UG",
                "asin": "0131103628",
                "fnsku": "X001EXAMPLE",
                "condition": "UsedGood",
                "product_name": "Café Calculus – Early Transcendentals",
                "fulfillable": 2,
                "inbound_working": 0,
                "inbound_shipped": 1,
                "inbound_receiving": 0,
                "reserved": 1,
                "unfulfillable": 0,
                "researching": 0,
                "total_quantity": 4,
                "amazon_updated_at": T0,
                "seen_at": T0,
                "updated_at": T0,
            },
        ],
        "seller_order": [
            {
                "id": 1,
                "user_id": 2,
                "amazon_order_id": "112-1234567-7654321",
                "purchase_date": T0,
                "last_update_date": T0,
                "status": "Shipped",
                "fulfillment_channel": "AFN",
                "order_total": 39.95,
                "currency": "USD",
                "items_shipped": 1,
                "items_unshipped": 0,
                "marketplace_id": "ATVPDKIKX0DER",
                "items_fetched_at": T0,
                "items_fetched_status": "Shipped",
                "updated_at": T0,
            },
        ],
        "seller_order_item": [
            {
                "id": 1,
                "user_id": 2,
                "amazon_order_id": "112-1234567-7654321",
                "order_item_id": "68828574383266",
                "asin": "0131103628",
                "sku": "BK-0131103628-UG",
                "title": "Café Calculus",
                "quantity_ordered": 1,
                "quantity_shipped": 1,
                "item_price": 39.95,
                "item_tax": 3.3,
                "shipping_price": 0.0,
                "promotion_discount": 0.0,
                "currency": "USD",
                "condition_id": "Used",
                "condition_subtype_id": "Good",
                "updated_at": T0,
            },
        ],
        "financial_event": [
            {
                "id": 1,
                "user_id": 2,
                "kind": "shipment",
                "amazon_order_id": "112-1234567-7654321",
                "item_key": "68828574383266",
                "posted_at": T0,
                "sku": "BK-0131103628-UG",
                "order_item_id": "68828574383266",
                "quantity": 1,
                "principal": 39.95,
                "shipping": 0.0,
                "tax": 3.3,
                "other_charges": 0.0,
                "promotions": 0.0,
                "tax_withheld": -3.3,
                "fees_total": -12.48,
                "net": 27.47,
                "charges": {"Principal": 39.95, "Tax": 3.3},
                "fees": {"Commission": -5.99, "FBAPerUnitFulfillmentFee": -4.69},
                "currency": "USD",
                "created_at": T0,
            },
        ],
        "spapi_sync": [
            {
                "user_id": 2,
                "stream": "finances",
                "phase": "incremental",
                "window_start": T0,
                "window_end": T0,
                "next_token": "token-of-page-3",
                "watermark": T0,
                "pages": 2,
                "rows": 200,
                "runs": 5,
                "last_run_at": T0,
                "last_success_at": T0,
                "last_error": None,
                "last_error_at": None,
                "info": {"pages": 2},
                "updated_at": T0,
            },
        ],
        "buy_list_item": [
            {
                "id": 1,
                "user_id": 2,
                "asin": "0131103628",
                "title": "Café Calculus – Early Transcendentals, 3rd Edition",
                "condition": "used_good",
                "note": "check the cover",
                "price_at_add": 12.34,
                "list_at_at_add": 64.99,
                "profit_at_add": 33.2,
                "roi_at_add": 224.0,
                "added_at": T0,
            },
        ],
        "purchase": [
            {
                "id": 1,
                "user_id": 2,
                "asin": "0131103628",
                "title": "Café Calculus – Early Transcendentals, 3rd Edition",
                "category": "Textbooks",
                "seasonality": "textbook",
                "quantity": 3,
                "unit_cost": 12.4,
                "condition": "used_good",
                "purchased_at": T0,
                "sku": "CALC-3E-G",
                "order_number": "112-1234567-1234567",
                "note": None,
                "tax_pct": 8.25,
                "prep_fee": 0.5,
                "inbound_shipping": 3.99,
                "markup_pct": 10.0,
                "list_at_pred": 64.99,
                "referral_pct_pred": 15.0,
                "referral_min_pred": 0.0,
                "fba_fee_pred": 5.4,
                "closing_fee_pred": 1.8,
                "sales_per_year_pred": 77.0,
                "amz_fees_pred": 16.95,
                "break_even_price": 31.2,
                "min_list_price": 35.36,
                "profit_pred": 30.62,
                "days_to_sell_pred": 9.48,
                "units_sold": 1,
                "realized_profit": 21.5,
                "days_to_sell_sum": 12.0,
                "last_sold_at": T0,
                "created_at": T0,
                "updated_at": T0,
            },
        ],
        "saved_search": [
            {
                "id": 1,
                "owner_id": 2,
                "name": "cheap nursing",
                "query": {"text": "nursing", "max_price": 30.0, "min_roi": 50.0},
                "text": "tell me when a nursing book under $30 with ROI over 50% shows up",
                "active": True,
                "created_at": T0,
                "updated_at": T0,
            },
        ],
        "alert_state": [
            {
                "search_id": 1,
                "asin": "0131103628",
                "matching": True,
                "price": 12.34,
                "profit": 21.5,
                "roi": 93.2,
                "fired_at": T0,
                "changed_at": T0,
            },
        ],
        "alert_queue": [{"asin": "0131103628", "queued_at": T0}],
        "alert_outbox": [
            {
                "id": 1,
                "owner_id": 2,
                "search_id": 1,
                "kind": "match",
                "channel": "webhook",
                "payload": {"search": "cheap nursing", "deals": [{"asin": "0131103628"}]},
                "created_at": T0,
                "due_at": T0,
                "sent_at": None,
                "attempts": 2,
                "last_error": "example.com answered HTTP 502",
                "read_at": None,
            },
        ],
        "alert_settings": [
            {
                "user_id": 2,
                "webhook_url": "https://discord.com/api/webhooks/1/abc",
                "webhook_secret_enc": encrypt("whsec-example", key),
                "webhook_failures": 2,
                "webhook_disabled_at": None,
                "email": "sam@example.com",
                "email_failures": 0,
                "email_disabled_at": None,
                "timezone": "America/Chicago",
                "quiet_start": 22,
                "quiet_end": 7,
                "digest": "hourly",
                "picks_count": 5,
                "picks_hour": 8,
                "last_picks_on": "2025-03-04",
                "updated_at": T0,
            },
        ],
        "sale_allocation": [
            {
                "id": 1,
                "user_id": 2,
                "event_id": 1,
                "purchase_id": 1,
                "kind": "sale",
                "at": T0,
                "month": "2025-03",
                "asin": "0131103628",
                "sku": "BK-0131103628-UG",
                "amazon_order_id": "112-1234567-7654321",
                "quantity": 1,
                "sale_price": 39.95,
                "fees": -10.68,
                "proceeds": 29.27,
                "cost": 17.92,
                "profit": 11.35,
                "days_to_sell": 12.5,
            },
        ],
        "sale_month": [
            {
                "user_id": 2,
                "month": "2025-03",
                "sold": 1,
                "returned": 0,
                "sales": 39.95,
                "fees": -10.68,
                "proceeds": 29.27,
                "cost": 17.92,
                "profit": 11.35,
                "unmatched_units": 0,
                "unmatched_proceeds": 0.0,
            },
        ],
        "users": [
            {
                "id": "5d1f0a7e-6a1c-4c8e-8f0e-000000000002",
                "identifier": "sam",
                "metadata": {"role": "user", "provider": "credentials"},
                "createdAt": "2025-03-04T05:06:07Z",
            },
        ],
        "threads": [
            {
                "id": THREAD_ID,
                "createdAt": "2025-03-04T05:06:08Z",
                "name": "Best deals",
                "userId": "5d1f0a7e-6a1c-4c8e-8f0e-000000000002",
                "userIdentifier": "sam",
                "tags": '["Ava"]',
                "metadata": {"chat_profile": "Ava", "persona": "ava"},
            },
        ],
        "steps": [
            {
                "id": "7c8f5a2e-0d5b-4b61-9a53-3a1f1f0c1001",
                "name": "sam",
                "type": "user_message",
                "threadId": THREAD_ID,
                "parentId": None,
                "streaming": False,
                "waitForAnswer": False,
                "isError": False,
                "metadata": {"location": "chat"},
                "tags": None,
                "input": "",
                "output": "Is 0131103628 a buy?",
                "createdAt": "2025-03-04T05:06:09Z",
                "command": None,
                "modes": None,
                "start": "2025-03-04T05:06:09Z",
                "end": "2025-03-04T05:06:09Z",
                "generation": None,
                "showInput": "json",
                "language": None,
                "indent": 0,
                "defaultOpen": False,
                "autoCollapse": False,
                "icon": None,
            },
            {
                "id": "7c8f5a2e-0d5b-4b61-9a53-3a1f1f0c1002",
                "name": "Ava",
                "type": "assistant_message",
                "threadId": THREAD_ID,
                "parentId": "7c8f5a2e-0d5b-4b61-9a53-3a1f1f0c1001",
                "streaming": False,
                "waitForAnswer": False,
                "isError": False,
                "metadata": {"persona": "ava"},
                "tags": None,
                "input": "",
                "output": "Buy: profit $33.20 at 224% ROI.",
                "createdAt": "2025-03-04T05:06:10Z",
                "command": None,
                "modes": {"persona": "ava"},
                "start": None,
                "end": None,
                "generation": {"model": "offline", "tokens": 42},
                "showInput": None,
                "language": None,
                "indent": 1,
                "defaultOpen": True,
                "autoCollapse": False,
                "icon": "bot",
            },
        ],
        "elements": [
            {
                "id": "7c8f5a2e-0d5b-4b61-9a53-3a1f1f0c2001",
                "threadId": THREAD_ID,
                "type": "custom",
                "url": None,
                "chainlitKey": None,
                "name": "DealTable",
                "display": "inline",
                "objectKey": None,
                "size": None,
                "page": None,
                "language": None,
                "forId": "7c8f5a2e-0d5b-4b61-9a53-3a1f1f0c1002",
                "mime": None,
                "props": '{"rows": [{"asin": "0131103628"}]}',
                "autoPlay": None,
                "playerConfig": None,
            },
        ],
        "feedbacks": [
            {
                "id": "7c8f5a2e-0d5b-4b61-9a53-3a1f1f0c3001",
                "forId": "7c8f5a2e-0d5b-4b61-9a53-3a1f1f0c1002",
                "threadId": THREAD_ID,
                "value": 1,
                "comment": "spot on",
            },
        ],
    }


def _data_tables(engine: Engine) -> list[str]:
    return [
        t
        for t in inspect(engine).get_table_names()
        if t not in NOT_DATA and not t.startswith(DERIVED_PREFIXES)
    ]


def _primary_key(table: Any) -> list[str]:
    return [c.name for c in table.primary_key.columns]


def _populate(
    engine: Engine, rows_by_table: dict[str, list[dict[str, Any]]]
) -> dict[str, list[dict[str, Any]]]:
    """Insert the seed rows that fit the schema as it is now; returns what was inserted."""
    tables = _data_tables(engine)
    missing = sorted(set(tables) - set(rows_by_table))
    assert not missing, (
        f"tables {missing} have no seed rows: add some to SEEDS so upgrades "
        "are checked not to lose them"
    )
    meta = MetaData()
    meta.reflect(engine, only=tables)
    inserted: dict[str, list[dict[str, Any]]] = {}
    with engine.begin() as conn:
        for table in meta.sorted_tables:  # parents before children
            rows = [
                {k: v for k, v in row.items() if k in table.columns}
                for row in rows_by_table[table.name]
            ]
            required = {
                c.name for c in table.columns if not c.nullable and c.server_default is None
            }
            lacking = required - set(rows[0])
            assert not lacking, f"SEEDS[{table.name!r}] needs a value for {sorted(lacking)}"
            conn.execute(table.insert(), rows)
            inserted[table.name] = rows
        if engine.dialect.name == "postgresql":  # as if the rows had been added one by one
            for table in meta.sorted_tables:
                [*_, pk] = _primary_key(table)
                if table.c[pk].type.python_type is not int:
                    continue  # setval(NULL, ...) below when an integer key has no sequence
                conn.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('\"{table.name}\"', '{pk}'), "
                        f'(SELECT max("{pk}") FROM "{table.name}"))'
                    )
                )
    return inserted


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, datetime) and isinstance(b, datetime):

        def utc(d: datetime) -> datetime:
            return d.replace(tzinfo=UTC) if d.utcoffset() is None else d.astimezone(UTC)

        return utc(a) == utc(b)
    return bool(a == b)


def _check_rows(engine: Engine, inserted: dict[str, list[dict[str, Any]]]) -> None:
    meta = MetaData()
    meta.reflect(engine, only=list(inserted))
    with engine.connect() as conn:
        for name, rows in inserted.items():
            table = meta.tables[name]
            found = {
                tuple(r[k] for k in _primary_key(table)): r
                for r in conn.execute(select(table)).mappings()
            }
            assert len(found) == len(rows), f"{name}: {len(found)} rows, {len(rows)} inserted"
            for row in rows:
                now = found.get(tuple(row[k] for k in _primary_key(table)))
                assert now is not None, f"{name}: row {row} lost"
                changed = {k: (v, now[k]) for k, v in row.items() if not _same(v, now[k])}
                assert not changed, f"{name}: values changed by the upgrade: {changed}"


def _check_app_reads(settings: Settings, seeded: set[str]) -> None:
    """What a user would notice: sign-in, credentials, knowledge, deals, chat history."""
    from chat_ui.data_layer import make_data_layer
    from knowledge import retrieve
    from tests.unit.chat_history import http_context
    from tools.db import session_scope
    from tools.deals.search import search_deals
    from tools.restrictions.credentials import load_credentials
    from tools.users import authenticate

    with session_scope(settings) as s:
        assert authenticate(s, "sam", PASSWORD) is not None
        creds = load_credentials(s, settings, 2)
        assert creds is not None and creds.refresh_token == REFRESH_TOKEN
        assert creds.client_secret == "client-secret-value"
        hits = {h.text for h in retrieve(s, "textbook rank summer")}
        assert any("two million" in t for t in hits)
        assert any("worst plausible" in h.text for h in retrieve(s, "margin of safety"))
        found = search_deals(s, {"text": "calculus"}, None)
        assert [d.asin for d in found.items] == ["0131103628"]
        if "purchase" in seeded:  # the seller's loop arrived with revision 0015
            from tools.tracking.buylist import list_items
            from tools.tracking.purchases import list_purchases
            from tools.users import get_user

            sam = get_user(s, "sam")
            assert sam is not None
            [bought] = list_purchases(s, sam)
            assert (bought.quantity, bought.unit_cost, bought.sku) == (3, 12.4, "CALC-3E-G")
            [flagged] = list_items(s, sam)
            assert (flagged.asin, flagged.profit_at_add) == ("0131103628", 33.2)

    async def resume() -> Any:
        layer = make_data_layer(settings)
        try:
            http_context()
            return await layer.get_thread(THREAD_ID)
        finally:
            await layer.close()

    if "threads" not in seeded:
        return  # chat history arrived with revision 0003
    thread = asyncio.run(resume())
    assert thread is not None and thread["name"] == "Best deals"
    assert thread["metadata"] == {"chat_profile": "Ava", "persona": "ava"}
    assert [s["output"] for s in thread["steps"]] == [
        "Is 0131103628 a buy?",
        "Buy: profit $33.20 at 224% ROI.",
    ]
    assert thread["steps"][1]["generation"] == {"model": "offline", "tokens": 42}


def _upgrade_and_check(settings: Settings, revision: str) -> None:
    url = settings.sqlalchemy_url
    command.upgrade(alembic_config(url), revision)
    engine = get_engine(settings)
    inserted = _populate(engine, seeds(settings.resolved_secret_key()))
    migrate(settings)  # what the next start does
    with engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == (
            head_revision()
        )
    _check_rows(engine, inserted)
    _check_app_reads(settings, set(inserted))


@pytest.fixture(autouse=True)
def _one_key(monkeypatch: pytest.MonkeyPatch) -> None:
    """The same SECRET_KEY for every case, so the seeds are made once."""
    monkeypatch.setenv("SECRET_KEY", "upgrade-test-key-0123456789abcdef0123456789")
    reset_settings_cache()


@pytest.mark.parametrize("revision", EARLIER)
def test_sqlite_upgrade_from_each_revision_keeps_every_row(
    settings: Settings, revision: str
) -> None:
    settings = get_settings()  # with the SECRET_KEY above
    assert not (settings.data_dir / "arbitrage.db").exists()  # a fresh database
    _upgrade_and_check(settings, revision)


@pytest.mark.postgres
@pytest.mark.parametrize("revision", EARLIER)
def test_postgres_upgrade_from_each_revision_keeps_every_row(
    pg_settings: Settings, revision: str
) -> None:
    _upgrade_and_check(pg_settings, revision)
