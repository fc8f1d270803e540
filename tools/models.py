"""SQLModel tables: the whole persistent data model in one place.

Money columns are dollars (float); Keepa's integer cents are converted at the parsing edge.
Money that depends on a user's settings (cost, profit, ROI, margin) is derived in SQL from the
stored inputs, so changing settings never needs a re-fetch; the `*_default` columns hold the
values under the policy defaults for fast default sorting.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import IntEnum, StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Index, Text, UniqueConstraint, false, text
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    """Aware UTC now: SQLModel stores aware datetimes and returns them in UTC."""
    return datetime.now(UTC)


class DealStatus(StrEnum):
    pending = "pending"
    active = "active"
    stale = "stale"


class Role(StrEnum):
    user = "user"
    admin = "admin"


class RestrictionStatus(IntEnum):
    """Stored gating state per user, ASIN and condition (docs/domain.md "Gating")."""

    error = -1
    not_restricted = 0
    restricted = 1


_DEAL_MONEY_INPUTS = ("status", "price_now", "list_at", "amz_fees", "shipping_included")

# ROI sort keys at a few fixed-cost levels (migration 0006). A user's ROI order is the order of
# net / (price + K), K = the user's fixed costs / (1 + tax), so an index on
# net / (price + level) near the user's K gives tight, provable bounds (tools/deals/search/).
# Each level is (K for rows without shipping included, K for rows whose price includes
# shipping: about the prep fee's share). Expression indexes, not stored columns: no writer can
# leave them stale. The SQL text must stay what search.py puts in its queries (same tokens).
ROI_LEVELS = ((1.5, 0.6), (3.5, 1.4), (6.0, 2.4), (10.0, 4.0))


def roi_level_sql(level: tuple[float, float]) -> str:
    """SQL of one ROI key (denominator >= the level's smaller K > 0: no division error on
    PostgreSQL; NULL when List at or fees are NULL)."""
    plain, included = level
    return (
        f"((list_at - amz_fees) / (CASE WHEN price_now > 0 THEN price_now ELSE 0.0 END + "
        f"CASE WHEN shipping_included THEN {included!r} ELSE {plain!r} END))"
    )


def roi_level_index(level: tuple[float, float]) -> str:
    return f"ix_deal_roi_k{round(level[0] * 10)}"


class DealListingFields(SQLModel):
    """What a search result row shows of a deal.

    The deal's fields are declared once, in this class and the two below (the pattern of the
    FastAPI/SQLModel template: shared base models -> the table and the read models). The
    table `Deal` and the read models of tools/deals/search/models.py inherit them; column
    lists are derived from them; analytics' fast `DealRecord` is held to them by a test.
    """

    asin: str = Field(primary_key=True, max_length=10)
    title: str | None = Field(default=None, sa_type=Text)
    author: str | None = None
    publisher: str | None = None  # Keepa's `manufacturer` (a book's publisher)
    category: str | None = None
    condition: str | None = None
    price_now: float | None = None
    price_now_source: str | None = None  # "offers" | "stats"
    list_at: float | None = None
    amz_fees: float | None = None  # referral + FBA + closing fee at List at: no user setting
    sales_rank: int | None = None
    rank_drops_30: int | None = None
    rank_drops_90: int | None = None
    rank_drops_365: int | None = None
    percent_down: float | None = None
    avg_1yr: float | None = None
    seasonality: str | None = None
    peak_months: str | None = None  # comma separated month numbers, e.g. "8,9,1"
    deal_trust: float | None = None
    seller_quality: float | None = None  # 0-10: 10 × Wilson lower bound of the rating
    amazon_offer: bool | None = None
    trend: str | None = None
    updated_at: datetime = Field(default_factory=utcnow)


class DealDetailFields(DealListingFields):
    """What the detail of one deal shows besides its listing fields."""

    binding: str | None = None
    category_path: str | None = Field(default=None, sa_type=Text)
    publication_year: int | None = None
    image_url: str | None = None
    status: DealStatus = Field(default=DealStatus.pending, max_length=10)
    # market state
    offers_used: int | None = None
    offers_new: int | None = None
    offers_fba: int | None = None
    offers_fbm: int | None = None
    buy_box_amazon_share: float | None = None
    amazon_new_low: float | None = None
    rank_drops_180: int | None = None
    # analytics
    inferred_sales_count: int | None = None
    offer_drops_count: int | None = None
    seller_id: str | None = None
    trough_months: str | None = None
    expected_trough_price: float | None = None
    # money inputs (settings independent)
    referral_pct: float | None = None
    referral_min: float | None = None
    fba_fee: float | None = None
    fba_fee_source: str | None = None  # "keepa" | "estimate" (size tier and weight)
    closing_fee: float | None = None
    keepa_last_update: datetime | None = None
    missing: dict[str, str] | None = Field(default=None, sa_type=JSON)  # field -> reason


class DealFields(DealDetailFields):
    """Every analysed field of a deal: the detail's, and those only SQL and the pipeline read."""

    # Amazon browse-node ids pass 2**31 (2335752011 is Cell Phones): 64-bit on every database.
    root_category_id: int | None = Field(default=None, sa_type=BigInteger)
    shipping_included: bool = False
    peak_mask: int | None = None  # bit (m - 1) set per peak month m: "in peak now" in SQL


class DealMoney(SQLModel):
    """Money that depends on a user's settings: the read models carry it under the asking
    user's settings, DealRecord under the analysis settings, and the table stores it under
    the policy defaults as `<name>_default` (DEFAULT_MONEY_COLUMNS)."""

    all_in_cost: float | None = None
    profit: float | None = None
    roi: float | None = None
    margin: float | None = None
    min_listing_price: float | None = None


class Deal(DealFields, table=True):
    __tablename__ = "deal"
    __table_args__ = (
        Index("ix_deal_status_priority_due", "status", "priority", "next_refresh_at"),
        # Deal search (tools/deals/search/) walks these in sort order and stops early:
        # money sorts on the stored default money plus every per-user money input and the
        # common filters (covering: no row reads); plain sorts on (column, asin) in the ORDER
        # BY's direction. Hand-written in migration 0005 (kept equal here).
        Index(
            "ix_deal_roi_cover",
            "roi_default",
            *_DEAL_MONEY_INPUTS,
            "sales_rank",
            "rank_drops_30",
            "rank_drops_90",
            "rank_drops_365",
            "percent_down",
            "peak_mask",
            "seasonality",
            "amazon_offer",
            "condition",
            "updated_at",
            "asin",
        ),
        Index("ix_deal_profit_cover", "profit_default", *_DEAL_MONEY_INPUTS, "asin"),
        Index("ix_deal_margin_cover", "margin_default", *_DEAL_MONEY_INPUTS, "asin"),
        Index("ix_deal_rank_asin", "sales_rank", "asin"),
        Index("ix_deal_drops_asin", text("rank_drops_30 DESC"), "asin"),
        Index("ix_deal_updated_asin", text("updated_at DESC"), "asin"),
        Index("ix_deal_percent_down_asin", text("percent_down DESC"), "asin"),
        # "cheapest first" walks it; max(price_now) reads its end (migration 0015)
        Index("ix_deal_price_asin", "price_now", "asin"),
        *(Index(roi_level_index(k), text(roi_level_sql(k))) for k in ROI_LEVELS),
        Index("ix_deal_last_seen", "last_seen_utc"),
        Index("ix_deal_category", "category"),
        Index("ix_deal_season_peak", "seasonality", "peak_mask"),
        Index("ix_deal_due", "next_refresh_at"),
        # the processor's claim order (workers/pipeline/processor.py claim_due): walked in
        # order, it stops at the batch size instead of sorting every due deal (migration 0009)
        Index("ix_deal_claim", text("priority DESC"), "next_refresh_at"),
    )

    # DealMoney under the policy defaults, for fast default sorting (DEFAULT_MONEY_COLUMNS)
    all_in_cost_default: float | None = None
    profit_default: float | None = None
    margin_default: float | None = None
    roi_default: float | None = None
    min_listing_price_default: float | None = None

    # pipeline bookkeeping
    priority: int = 0
    next_refresh_at: datetime | None = None
    last_seen_utc: datetime = Field(default_factory=utcnow)
    fetched_at: datetime | None = None  # last successful Keepa product fetch: "age" starts here
    offers_fetched_at: datetime | None = None  # last fetch that included offers (6 tokens/page)
    created_at: datetime = Field(default_factory=utcnow)


# DealMoney field -> the table's column holding it under the policy defaults
DEFAULT_MONEY_COLUMNS = {name: f"{name}_default" for name in DealMoney.model_fields}


class DealHistory(SQLModel, table=True):
    """Compact series for charts: parallel arrays, one row per ASIN."""

    __tablename__ = "deal_history"

    asin: str = Field(primary_key=True, max_length=10, foreign_key="deal.asin", ondelete="CASCADE")
    # each series is {"t": [unix seconds...], "v": [values...]}
    used_price: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    sales_rank: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    amazon_price: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    new_price: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    inferred_sales: list[dict[str, Any]] | None = Field(  # [{"t", "price"}]
        default=None, sa_column=Column(JSON)
    )
    updated_at: datetime = Field(default_factory=utcnow)


class SystemState(SQLModel, table=True):
    __tablename__ = "system_state"

    key: str = Field(primary_key=True, max_length=100)
    value: dict[str, Any] | list[Any] | str | int | float | None = Field(
        default=None, sa_column=Column(JSON)
    )
    updated_at: datetime = Field(default_factory=utcnow)


class KeepaSeller(SQLModel, table=True):
    """Keepa /seller/ feedback per seller: 1 token a lookup, so cached and refetched by age.

    rating_pct is Keepa's `currentRating` (percent positive, 0-100), rating_count its
    `currentRatingCount`; both None when Keepa does not know the seller (cached too, so an
    unknown id is not paid for on every batch).
    """

    __tablename__ = "keepa_seller"

    seller_id: str = Field(primary_key=True, max_length=40)
    name: str | None = None
    rating_pct: int | None = None
    rating_count: int | None = None
    fetched_at: datetime = Field(default_factory=utcnow)


class User(SQLModel, table=True):
    __tablename__ = "user"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(index=True, unique=True, max_length=64)
    password_hash: str
    role: Role = Field(default=Role.user, max_length=10)
    seller_id: str | None = None
    settings: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    created_at: datetime = Field(default_factory=utcnow)
    # sign-in sessions carry this number; bumping it ends them all (tools/users.py)
    token_version: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    disabled: bool = Field(default=False, sa_column_kwargs={"server_default": false()})


class UserRestriction(SQLModel, table=True):
    __tablename__ = "user_restriction"
    __table_args__ = (
        UniqueConstraint("user_id", "asin", "condition", name="uq_user_asin_cond"),
        # deal search's gated filter: "this user's ASINs with status S", index-only
        Index("ix_user_restriction_user_status_asin", "user_id", "status", "asin"),
    )

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True, ondelete="CASCADE")
    asin: str = Field(max_length=10, index=True)
    condition: str = Field(default="used_very_good", max_length=32)
    status: int = RestrictionStatus.not_restricted
    reason_code: str | None = None
    message: str | None = Field(default=None, sa_column=Column(Text))
    approval_url: str | None = None
    checked_at: datetime = Field(default_factory=utcnow)


class UserCredential(SQLModel, table=True):
    """SP-API credentials; every secret column holds Fernet ciphertext, never plain text."""

    __tablename__ = "user_credential"

    user_id: int = Field(primary_key=True, foreign_key="user.id", ondelete="CASCADE")
    seller_id: str
    refresh_token_enc: str = Field(sa_column=Column(Text, nullable=False))
    client_id_enc: str | None = Field(default=None, sa_column=Column(Text))
    client_secret_enc: str | None = Field(default=None, sa_column=Column(Text))
    state: str = Field(default="connected", max_length=32)  # connected | reconnect_required
    last_error: str | None = Field(default=None, sa_column=Column(Text))
    updated_at: datetime = Field(default_factory=utcnow)


class Strategy(SQLModel, table=True):
    __tablename__ = "strategy"

    id: int | None = Field(default=None, primary_key=True)
    text: str = Field(sa_column=Column(Text, nullable=False))
    category: str = Field(default="general", max_length=32, index=True)
    source: str = Field(default="pasted", sa_column=Column(Text, nullable=False))
    author: str | None = None
    approved_by: str | None = None
    approved_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)


class MentalModel(SQLModel, table=True):
    __tablename__ = "mental_model"

    id: int | None = Field(default=None, primary_key=True)
    title: str = Field(max_length=200)
    text: str = Field(sa_column=Column(Text, nullable=False))
    category: str = Field(default="general", max_length=32, index=True)
    source: str = Field(default="pasted", sa_column=Column(Text, nullable=False))
    author: str | None = None
    approved_by: str | None = None
    approved_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)


# ---- the seller's Amazon data (SP-API syncs, tools/spapi/) ------------------------------------
# Every row has an owner (user_id); tools/spapi/store.py reads and writes them only for that
# owner. Each table's natural key (a UniqueConstraint) makes a re-run or a crash mid-page an
# idempotent upsert, never a duplicate. Money is dollars as Amazon reports it (signed: what
# reaches the seller is positive, fees and refunds are negative).


class FbaInventory(SQLModel, table=True):
    """One SKU's FBA inventory summary (getInventorySummaries, details=true), latest sync."""

    __tablename__ = "fba_inventory"
    __table_args__ = (
        UniqueConstraint("user_id", "sku", name="uq_fba_inventory_user_sku"),
        Index("ix_fba_inventory_user_asin", "user_id", "asin"),
        # "what's in my inventory": the SKUs with most units first (migration 0018)
        Index("ix_fba_inventory_user_fulfillable", "user_id", "fulfillable", "sku"),
    )

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", ondelete="CASCADE")
    sku: str = Field(max_length=100)
    asin: str | None = Field(default=None, max_length=16)
    fnsku: str | None = Field(default=None, max_length=16)
    condition: str | None = Field(default=None, max_length=40)  # e.g. "UsedGood"
    product_name: str | None = Field(default=None, sa_type=Text)
    fulfillable: int = 0
    inbound_working: int = 0
    inbound_shipped: int = 0
    inbound_receiving: int = 0
    reserved: int = 0
    unfulfillable: int = 0
    researching: int = 0
    total_quantity: int = 0
    amazon_updated_at: datetime | None = None  # the summary's lastUpdatedTime
    seen_at: datetime = Field(default_factory=utcnow)  # the sync that last reported this SKU
    updated_at: datetime = Field(default_factory=utcnow)


class SellerOrder(SQLModel, table=True):
    """One order (getOrders); its items are in seller_order_item when fetched."""

    __tablename__ = "seller_order"
    __table_args__ = (
        UniqueConstraint("user_id", "amazon_order_id", name="uq_seller_order_user_order"),
        Index("ix_seller_order_user_purchase", "user_id", "purchase_date"),
    )

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", ondelete="CASCADE")
    amazon_order_id: str = Field(max_length=32)
    purchase_date: datetime
    last_update_date: datetime
    status: str = Field(max_length=32)  # OrderStatus: Pending, Unshipped, Shipped, Canceled, ...
    fulfillment_channel: str | None = Field(default=None, max_length=8)  # AFN | MFN
    order_total: float | None = None
    currency: str | None = Field(default=None, max_length=3)
    items_shipped: int | None = None
    items_unshipped: int | None = None
    marketplace_id: str | None = Field(default=None, max_length=20)
    items_fetched_at: datetime | None = None  # when getOrderItems last answered for it
    items_fetched_status: str | None = Field(default=None, max_length=32)  # status back then
    updated_at: datetime = Field(default_factory=utcnow)


class SellerOrderItem(SQLModel, table=True):
    """One order item (getOrderItems). item_price is for the whole quantity, as Amazon says."""

    __tablename__ = "seller_order_item"
    __table_args__ = (
        UniqueConstraint(
            "user_id", "amazon_order_id", "order_item_id", name="uq_seller_order_item_key"
        ),
        Index("ix_seller_order_item_user_sku", "user_id", "sku"),
        # "anything new since id N?" (tools/tracking/realized.py refresh; migration 0017)
        Index("ix_seller_order_item_user_id", "user_id", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", ondelete="CASCADE")
    amazon_order_id: str = Field(max_length=32)
    order_item_id: str = Field(max_length=64)
    asin: str = Field(max_length=16)
    sku: str | None = Field(default=None, max_length=100)
    title: str | None = Field(default=None, sa_type=Text)
    quantity_ordered: int = 0
    quantity_shipped: int = 0
    item_price: float | None = None
    item_tax: float | None = None
    shipping_price: float | None = None
    promotion_discount: float | None = None
    currency: str | None = Field(default=None, max_length=3)
    condition_id: str | None = Field(default=None, max_length=20)  # New, Used, ...
    condition_subtype_id: str | None = Field(default=None, max_length=20)  # Good, Very Good, ...
    updated_at: datetime = Field(default_factory=utcnow)


class FinancialEventKind(StrEnum):
    shipment = "shipment"  # ShipmentEventList: a sale
    refund = "refund"  # RefundEventList
    guarantee_claim = "guarantee_claim"  # GuaranteeClaimEventList
    chargeback = "chargeback"  # ChargebackEventList


class FinancialEvent(SQLModel, table=True):
    """One item of one financial event (listFinancialEvents): a shipped item's charges and fees,
    or a refund's adjustments of them.

    Natural key: (user, kind, order, item_key, posted_at); item_key is the OrderItemId of a
    shipment item, the OrderAdjustmentItemId of a refund, chargeback or claim. `net` is what
    reached the seller's account for this item: charges + fees + promotions + taxes withheld.
    """

    __tablename__ = "financial_event"
    __table_args__ = (
        UniqueConstraint(
            "user_id",
            "kind",
            "amazon_order_id",
            "item_key",
            "posted_at",
            name="uq_financial_event_key",
        ),
        Index("ix_financial_event_user_posted", "user_id", "posted_at"),
        Index("ix_financial_event_user_sku", "user_id", "sku", "posted_at"),
        # "anything new since id N?" (tools/tracking/realized.py refresh; migration 0017)
        Index("ix_financial_event_user_id", "user_id", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", ondelete="CASCADE")
    kind: str = Field(max_length=20)  # a FinancialEventKind (plain text: new kinds need no DDL)
    amazon_order_id: str = Field(max_length=32)
    item_key: str = Field(max_length=64)
    posted_at: datetime
    sku: str | None = Field(default=None, max_length=100)
    order_item_id: str | None = Field(default=None, max_length=64)
    quantity: int = 0
    principal: float = 0.0  # ItemCharge Principal (negative on a refund)
    shipping: float = 0.0  # ShippingCharge
    tax: float = 0.0  # Tax, ShippingTax, GiftWrapTax, ...
    other_charges: float = 0.0  # every other charge type
    promotions: float = 0.0
    tax_withheld: float = 0.0  # ItemTaxWithheldList (marketplace facilitator tax)
    fees_total: float = 0.0  # sum of ItemFeeList (negative: charged to the seller)
    net: float = 0.0
    charges: dict[str, float] | None = Field(default=None, sa_type=JSON)  # ChargeType -> amount
    fees: dict[str, float] | None = Field(default=None, sa_type=JSON)  # FeeType -> amount
    currency: str | None = Field(default=None, max_length=3)
    created_at: datetime = Field(default_factory=utcnow)


class SpapiSyncStream(StrEnum):
    inventory = "inventory"
    orders = "orders"
    finances = "finances"


class SpapiSync(SQLModel, table=True):
    """Checkpoint of one seller's sync stream: the window being walked, the next page's token,
    and the watermark below which everything is stored (workers resume from here)."""

    __tablename__ = "spapi_sync"

    user_id: int = Field(primary_key=True, foreign_key="user.id", ondelete="CASCADE")
    stream: str = Field(primary_key=True, max_length=20)  # a SpapiSyncStream
    phase: str = Field(default="full", max_length=20)  # full | incremental
    window_start: datetime | None = None
    window_end: datetime | None = None
    next_token: str | None = Field(default=None, sa_type=Text)  # None: window not started
    watermark: datetime | None = None  # every event before it is stored
    pages: int = 0  # pages stored in the current window
    rows: int = 0  # rows written in the current window
    runs: int = 0
    last_run_at: datetime | None = None
    last_success_at: datetime | None = None
    last_error: str | None = Field(default=None, sa_type=Text)
    last_error_at: datetime | None = None
    info: dict[str, Any] | None = Field(default=None, sa_type=JSON)  # last run's counters
    updated_at: datetime = Field(default_factory=utcnow)


class SavedSearch(SQLModel, table=True):
    """A seller's "tell me when ...": a DealSearch (its non-default fields) matched against
    every deal the processor writes (tools/alerts)."""

    __tablename__ = "saved_search"
    __table_args__ = (UniqueConstraint("owner_id", "name", name="uq_saved_search_owner_name"),)

    id: int | None = Field(default=None, primary_key=True)
    owner_id: int = Field(foreign_key="user.id", index=True, ondelete="CASCADE")
    name: str = Field(max_length=80)
    query: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    text: str | None = Field(default=None, sa_column=Column(Text))  # the seller's own words
    active: bool = Field(default=True, index=True)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class AlertState(SQLModel, table=True):
    """How a (saved search, ASIN) pair looked when it last fired, and whether it matches now:
    a pair fires once, and again only when the deal got materially better or came back."""

    __tablename__ = "alert_state"

    search_id: int = Field(primary_key=True, foreign_key="saved_search.id", ondelete="CASCADE")
    asin: str = Field(primary_key=True, max_length=10)
    matching: bool = True
    price: float | None = None  # Price Now, profit and ROI (seller's settings) at the last fire
    profit: float | None = None
    roi: float | None = None
    fired_at: datetime = Field(default_factory=utcnow)
    changed_at: datetime = Field(default_factory=utcnow)


class AlertQueue(SQLModel, table=True):
    """Deals the processor wrote and the alert matcher has not looked at yet (written in the
    processor's own transaction, deleted in the matcher's: none is skipped or seen twice)."""

    __tablename__ = "alert_queue"

    asin: str = Field(primary_key=True, max_length=10)
    queued_at: datetime = Field(default_factory=utcnow)


class AlertOutbox(SQLModel, table=True):
    """One message to deliver (an alert match or the daily picks) on one channel; written in
    the same transaction as the match, marked sent by the delivery task."""

    __tablename__ = "alert_outbox"
    __table_args__ = (Index("ix_alert_outbox_pending", "sent_at", "due_at"),)

    id: int | None = Field(default=None, primary_key=True)
    owner_id: int = Field(foreign_key="user.id", index=True, ondelete="CASCADE")
    search_id: int | None = Field(
        default=None, foreign_key="saved_search.id", index=True, ondelete="SET NULL"
    )
    kind: str = Field(default="match", max_length=16)  # match | picks | notice
    channel: str = Field(max_length=16)  # app | webhook | email
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)
    due_at: datetime = Field(default_factory=utcnow)  # quiet hours and digests push it later
    sent_at: datetime | None = None
    attempts: int = 0
    last_error: str | None = Field(default=None, sa_column=Column(Text))
    read_at: datetime | None = None  # in-app messages: when the seller saw it


class AlertSettings(SQLModel, table=True):
    """Where and when a seller's alerts and daily picks go."""

    __tablename__ = "alert_settings"

    user_id: int = Field(primary_key=True, foreign_key="user.id", ondelete="CASCADE")
    webhook_url: str | None = Field(default=None, sa_column=Column(Text))
    webhook_secret_enc: str | None = Field(default=None, sa_column=Column(Text))  # Fernet
    webhook_failures: int = 0
    webhook_disabled_at: datetime | None = None
    email: str | None = Field(default=None, max_length=254)
    email_failures: int = 0
    email_disabled_at: datetime | None = None
    timezone: str = Field(default="UTC", max_length=64)
    quiet_start: int | None = None  # local hour the quiet time starts (0-23), None: never quiet
    quiet_end: int | None = None  # local hour it ends
    digest: str = Field(default="off", max_length=8)  # off | hourly | daily
    picks_count: int = 5  # 0: no daily picks
    picks_hour: int = 8  # local hour the picks are made
    last_picks_on: str | None = Field(default=None, max_length=10)  # local date of the last run
    updated_at: datetime = Field(default_factory=utcnow)


# ---- the seller's loop: buy list and purchases (tools/tracking/) ---------------------------


class BuyListItem(SQLModel, table=True):
    """A deal a seller flagged to buy, with its numbers when flagged: the buy list compares
    today's price, profit and gating with them ("got worse since you added it")."""

    __tablename__ = "buy_list_item"
    __table_args__ = (UniqueConstraint("user_id", "asin", name="uq_buy_list_user_asin"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", ondelete="CASCADE")
    asin: str = Field(max_length=10)
    title: str | None = Field(default=None, sa_type=Text)
    condition: str = Field(default="used_very_good", max_length=32)
    note: str | None = Field(default=None, sa_type=Text)
    # the deal when it was added, under the seller's settings then (None: unknown deal)
    price_at_add: float | None = None
    list_at_at_add: float | None = None
    profit_at_add: float | None = None
    roi_at_add: float | None = None
    added_at: datetime = Field(default_factory=utcnow)


class Purchase(SQLModel, table=True):
    """Units a seller bought: what they paid and what the app predicted when they bought.

    The prediction (List at, fees, minimum list price, profit, days to sell) and the money
    settings (tax, prep, inbound) are kept as they were at purchase: realized profit is
    compared with what was predicted then, and a later settings change does not rewrite it.
    The realized_* columns summarize the sales matched to this purchase (tools/tracking/).
    """

    __tablename__ = "purchase"
    __table_args__ = (
        Index("ix_purchase_user_bought", "user_id", "purchased_at", "id"),
        Index("ix_purchase_user_sku", "user_id", "sku"),
        Index("ix_purchase_user_asin", "user_id", "asin", "condition"),
        # the realized-profit questions (migration 0017): losers worst first, the latest
        # sold buys (of a kind) for a verdict's track record
        Index("ix_purchase_user_realized", "user_id", "realized_profit"),
        Index("ix_purchase_user_sold", "user_id", "last_sold_at"),
        Index("ix_purchase_user_season_sold", "user_id", "seasonality", "last_sold_at"),
        # calibration and days to sell read only this (covering; migration 0019)
        Index(
            "ix_purchase_user_sold_metrics",
            "user_id",
            "units_sold",
            "seasonality",
            "avg_days",
            "profit_diff",
            "profit_ratio",
            "days_ratio",
            "realized_profit",
            "profit_pred",
            "days_to_sell_pred",
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", ondelete="CASCADE")
    asin: str = Field(max_length=10)
    title: str | None = Field(default=None, sa_type=Text)
    category: str | None = None
    seasonality: str | None = None
    quantity: int
    unit_cost: float  # what one unit cost to buy, $ (before tax, prep and inbound)
    condition: str = Field(default="used_very_good", max_length=32)
    purchased_at: datetime
    sku: str | None = Field(default=None, max_length=40)
    order_number: str | None = Field(default=None, max_length=64)
    note: str | None = Field(default=None, sa_type=Text)
    # the seller's money settings at purchase
    tax_pct: float
    prep_fee: float
    inbound_shipping: float
    markup_pct: float
    # the deal's fee inputs and velocity at purchase (None: the deal was unknown or lacked it)
    list_at_pred: float | None = None
    referral_pct_pred: float | None = None
    referral_min_pred: float | None = None
    fba_fee_pred: float | None = None
    closing_fee_pred: float | None = None
    sales_per_year_pred: float | None = None
    # the prediction per unit, derived from the above (tools/tracking/purchases.py)
    amz_fees_pred: float | None = None
    break_even_price: float | None = None
    min_list_price: float | None = None
    profit_pred: float | None = None
    days_to_sell_pred: float | None = None
    # realized, kept by the FIFO matching of sales (tools/tracking/)
    units_sold: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    realized_profit: float = Field(default=0.0, sa_column_kwargs={"server_default": "0"})
    days_to_sell_sum: float = Field(default=0.0, sa_column_kwargs={"server_default": "0"})
    last_sold_at: datetime | None = None
    # per unit sold, against the prediction (None until a unit sold): what calibration and
    # days to sell average without dividing 10,000 rows per question (migration 0019)
    realized_per_unit: float | None = None
    profit_diff: float | None = None  # realized_per_unit - profit_pred
    profit_ratio: float | None = None  # realized_per_unit / profit_pred (profit_pred > 0)
    avg_days: float | None = None  # days_to_sell_sum / units_sold
    days_ratio: float | None = None  # avg_days / days_to_sell_pred
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class SaleAllocation(SQLModel, table=True):
    """Units of one sale or refund (a financial event) matched first-in-first-out to one
    purchase, or to none on record, with the money they realized (tools/tracking/realized.py).

    Rebuilt per ASIN whenever its sales or purchases change, so it is derived data: the
    seller's questions about sales and realized profit read it instead of matching 50,000
    orders per question. Quantities are signed (a refund's returned units are negative, and
    so is the cost they give back); `kind` is sale, refund or adjustment (money only).
    """

    __tablename__ = "sale_allocation"
    __table_args__ = (
        # the questions' range scans read only this index (covering)
        Index(
            "ix_sale_allocation_user_at",
            "user_id",
            "at",
            "month",
            "kind",
            "purchase_id",
            "quantity",
            "sale_price",
            "fees",
            "proceeds",
            "profit",
        ),
        Index("ix_sale_allocation_user_asin", "user_id", "asin"),
        Index("ix_sale_allocation_user_sku", "user_id", "sku"),
        Index("ix_sale_allocation_purchase", "purchase_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", ondelete="CASCADE")
    event_id: int = Field(foreign_key="financial_event.id", ondelete="CASCADE")
    purchase_id: int | None = Field(default=None, foreign_key="purchase.id", ondelete="SET NULL")
    kind: str = Field(max_length=12)
    at: datetime  # when the event posted
    month: str = Field(max_length=7)  # its UTC month, "2025-11": profit by month groups on it
    asin: str | None = Field(default=None, max_length=16)
    sku: str | None = Field(default=None, max_length=100)
    amazon_order_id: str = Field(max_length=32)
    quantity: int  # units sold (+) or returned (-); 0 for a money-only adjustment
    sale_price: float  # the item price (principal) share of these units
    fees: float  # Amazon's fees share (negative)
    proceeds: float  # what reached the seller for these units, tax left out
    cost: float | None = None  # all-in cost of these units (None: no purchase on record)
    profit: float | None = None  # proceeds - cost
    days_to_sell: float | None = None  # purchase to sale, per unit


class SaleMonth(SQLModel, table=True):
    """One seller's realized sales summed per UTC month (sale_allocation rolled up): profit
    over months or all time reads a row a month instead of every sale. Rebuilt for the months
    a rematch touched (tools/tracking/realized.py)."""

    __tablename__ = "sale_month"

    user_id: int = Field(primary_key=True, foreign_key="user.id", ondelete="CASCADE")
    month: str = Field(primary_key=True, max_length=7)
    sold: int = 0  # units sold (returned units not taken off)
    returned: int = 0
    sales: float = 0.0
    fees: float = 0.0
    proceeds: float = 0.0
    cost: float = 0.0
    profit: float = 0.0
    unmatched_units: int = 0
    unmatched_proceeds: float = 0.0
