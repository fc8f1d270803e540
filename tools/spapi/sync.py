"""The three sync streams of one seller, each resumable from its checkpoint (checkpoint.py).

- inventory: a full walk of getInventorySummaries (details=true) every run; when a walk
  completes, SKUs it did not report hold nothing any more. (startDateTime would be cheaper,
  but it does not see changes of the inbound quantities, the ones "what's stuck inbound?"
  asks about.) Its nextToken lives 30 s, so a walk cut short starts over next time.
- orders: the first run walks every order created in the last `history_days`
  (CreatedAfter/CreatedBefore); later runs walk what changed since the watermark
  (LastUpdatedAfter = watermark - a small overlap, LastUpdatedBefore = what Amazon says it
  used). Items (getOrderItems, one call an order at 0.5/s) are read only for orders of the
  last `order_items_days` that lack them: older orders' SKUs, quantities and money come from
  their financial events, and 50,000 orders would take 28 hours of getOrderItems.
- finances: listFinancialEvents by PostedDate in windows of at most 180 days (wider ones
  answer nothing), oldest first; later runs re-read an overlap (events can post late) that the
  natural keys make free of duplicates.

Every page's rows and the checkpoint past them commit together; a refused nextToken (expired)
restarts the current window from its start. A run stops between pages when its time slice
is over or `should_stop` says so, and the next run continues from the checkpoint.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from tools.clock import Clock
from tools.db import session_scope
from tools.models import SpapiSyncStream
from tools.restrictions.errors import SpApiError
from tools.settings import Settings
from tools.spapi import checkpoint, records, store
from tools.spapi.checkpoint import FULL, INCREMENTAL
from tools.spapi.client import SpApiCaller, SpApiInputError
from tools.spapi.plans import FINANCES_MAX_WINDOW_DAYS, FINANCES_PAGE_SIZE, MIN_AGE_S

INVENTORY_PATH = "/fba/inventory/v1/summaries"
ORDERS_PATH = "/orders/v0/orders"
ORDER_ITEMS_PATH = "/orders/v0/orders/{}/orderItems"
FINANCES_PATH = "/finances/v0/financialEvents"
STREAMS = tuple(s.value for s in SpapiSyncStream)
MAX_PAGES_PER_ORDER = 20  # getOrderItems pages of one order (an order has few items)
MAX_TOKEN_CHARS = 16_384  # a nextToken longer than this is not one to store and send back


@dataclass(frozen=True)
class SyncOptions:
    history_days: float = 365.0
    order_items_days: float = 7.0
    orders_overlap_s: float = 300.0
    finances_overlap_s: float = 48 * 3600.0
    catch_up_s: float = 600.0  # a window ending this close to "now" means caught up
    max_seconds: float | None = 240.0  # a run's slice, on the sync's clock; None: no limit
    items_per_sweep: int = 100


@dataclass
class SyncResult:
    stream: str
    pages: int = 0
    rows: int = 0  # rows written (inventory and orders: upserted; events: new ones)
    items: int = 0  # orders whose items were read
    skipped: int = 0  # records without their natural key
    restarts: int = 0  # windows started over after a refused nextToken
    windows: int = 0  # windows completed
    done: bool = False  # caught up: nothing left to walk until time passes
    stopped: str | None = None  # why the run ended before catching up
    seconds: float = 0.0  # on the sync's clock
    calls: dict[str, int] = field(default_factory=dict)
    throttled: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items()}


@dataclass
class SyncContext:
    caller: SpApiCaller
    settings: Settings
    user_id: int
    clock: Clock
    marketplace_id: str = "ATVPDKIKX0DER"
    options: SyncOptions = field(default_factory=SyncOptions)
    should_stop: Callable[[], bool] | None = None
    _started: float = 0.0

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.clock.now(), UTC)

    def out_of_time(self, result: SyncResult) -> bool:
        if self.should_stop is not None and self.should_stop():
            result.stopped = "asked to stop"
            return True
        limit = self.options.max_seconds
        if limit is not None and self.clock.now() - self._started >= limit:
            result.stopped = f"time slice of {limit:g}s used"
            return True
        return False


def _iso(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _next_token(value: Any) -> str | None:
    """A page's nextToken (None: last page); one past any plausible size is refused."""
    if not value:
        return None
    token = str(value)
    if len(token) > MAX_TOKEN_CHARS:
        raise SpApiError(f"SP-API sent a nextToken of {len(token)} characters")
    return token


def _whole(when: datetime) -> datetime:
    """Windows are asked for in whole seconds (what the ISO strings carry)."""
    return when.replace(microsecond=0)


async def run_stream(ctx: SyncContext, stream: str) -> SyncResult:
    """Run one stream from its checkpoint and record the run (and any error) on it."""
    runner = {"inventory": _inventory, "orders": _orders, "finances": _finances}[stream]
    result = SyncResult(stream)
    ctx._started = ctx.clock.now()
    calls_before = dict(ctx.caller.calls)
    throttled_before = dict(ctx.caller.throttled)
    wall = time.monotonic()
    try:
        await runner(ctx, result)
    except Exception as err:
        _tally(ctx, result, calls_before, throttled_before)
        with session_scope(ctx.settings) as session:
            checkpoint.record_run(
                session,
                ctx.user_id,
                stream,
                now=ctx.now(),
                ok=False,
                info=result.as_dict(),
                error=f"{err.__class__.__name__}: {err}",
            )
        raise
    _tally(ctx, result, calls_before, throttled_before)
    result.seconds = round(ctx.clock.now() - ctx._started, 3)
    info = {**result.as_dict(), "wall_s": round(time.monotonic() - wall, 3)}
    with session_scope(ctx.settings) as session:
        checkpoint.record_run(session, ctx.user_id, stream, now=ctx.now(), ok=True, info=info)
    return result


def _tally(
    ctx: SyncContext, result: SyncResult, calls: dict[str, int], throttled: dict[str, int]
) -> None:
    result.calls = {
        k: v - calls.get(k, 0) for k, v in ctx.caller.calls.items() if v - calls.get(k, 0)
    }
    result.throttled = {
        k: v - throttled.get(k, 0)
        for k, v in ctx.caller.throttled.items()
        if v - throttled.get(k, 0)
    }


# ---- inventory -------------------------------------------------------------------------------


async def _inventory(ctx: SyncContext, result: SyncResult) -> None:
    uid, stream = ctx.user_id, "inventory"
    with session_scope(ctx.settings) as session:
        row = checkpoint.load(session, uid, stream)
        token = row.next_token
        walk_started = row.window_start
    if walk_started is None:
        walk_started = ctx.now()
    while True:
        if ctx.out_of_time(result):
            return
        params: dict[str, Any] = {
            "details": "true",
            "granularityType": "Marketplace",
            "granularityId": ctx.marketplace_id,
            "marketplaceIds": ctx.marketplace_id,
        }
        if token:
            params["nextToken"] = token
        try:
            body = await ctx.caller.get("getInventorySummaries", INVENTORY_PATH, params)
        except SpApiInputError:
            if not token:
                raise
            token, walk_started = None, ctx.now()  # expired (30 s): walk again from the start
            result.restarts += 1
            continue
        parsed = records.inventory_rows(body, uid, ctx.now())
        pagination = body.get("pagination")
        nxt = _next_token(pagination.get("nextToken") if isinstance(pagination, dict) else None)
        with session_scope(ctx.settings) as session:
            result.rows += store.save_inventory(session, uid, parsed.rows)
            row = checkpoint.load(session, uid, stream)
            if token is None:
                checkpoint.start_window(row, walk_started, None, FULL)
            row.next_token = nxt
            row.pages += 1
            row.rows += len(parsed.rows)
            if nxt is None:
                store.zero_unseen_inventory(session, uid, walk_started)
                checkpoint.finish_window(row, walk_started)
            checkpoint.store(session, row)
        result.pages += 1
        result.skipped += parsed.skipped
        token = nxt
        if token is None:
            result.windows += 1
            result.done = True
            return


# ---- orders ----------------------------------------------------------------------------------


async def _orders(ctx: SyncContext, result: SyncResult) -> None:
    uid, stream, opts = ctx.user_id, "orders", ctx.options
    while True:
        now = ctx.now()
        latest = _whole(now - timedelta(seconds=MIN_AGE_S + 1))
        with session_scope(ctx.settings) as session:
            row = checkpoint.load(session, uid, stream)
            if row.window_start is None:
                if row.watermark is None:
                    start, phase = _whole(now - timedelta(days=opts.history_days)), FULL
                else:
                    start = row.watermark - timedelta(seconds=opts.orders_overlap_s)
                    phase = INCREMENTAL
                if row.watermark is not None and row.watermark >= latest - timedelta(
                    seconds=opts.catch_up_s
                ):
                    result.done = True
                    await _sweep_items(ctx, result)
                    return
                checkpoint.start_window(row, start, latest, phase)
                checkpoint.store(session, row)
            phase, w_start, w_end, token = (
                row.phase,
                row.window_start,
                row.window_end,
                row.next_token,
            )
        assert w_start is not None and w_end is not None
        finished = await _order_pages(ctx, result, phase, w_start, w_end, token)
        await _sweep_items(ctx, result)
        if not finished:
            return


async def _order_pages(
    ctx: SyncContext,
    result: SyncResult,
    phase: str,
    start: datetime,
    end: datetime,
    token: str | None,
) -> bool:
    """Walk one window of getOrders; True when it is stored in full."""
    uid, stream = ctx.user_id, "orders"
    while True:
        if ctx.out_of_time(result):
            return False
        params: dict[str, Any] = {"MarketplaceIds": ctx.marketplace_id, "MaxResultsPerPage": 100}
        if token:
            params["NextToken"] = token
        elif phase == FULL:
            params.update(CreatedAfter=_iso(start), CreatedBefore=_iso(end))
        else:
            params.update(LastUpdatedAfter=_iso(start), LastUpdatedBefore=_iso(end))
        try:
            body = await ctx.caller.get("getOrders", ORDERS_PATH, params)
        except SpApiInputError:
            if not token:
                raise
            token = None  # Amazon no longer takes it: the window again, from its start
            result.restarts += 1
            with session_scope(ctx.settings) as session:
                row = checkpoint.load(session, uid, stream)
                checkpoint.start_window(row, start, end, phase)
                checkpoint.store(session, row)
            continue
        parsed = records.order_rows(body, uid, ctx.now())
        payload = body.get("payload") if isinstance(body.get("payload"), dict) else {}
        nxt = _next_token((payload or {}).get("NextToken"))
        with session_scope(ctx.settings) as session:
            result.rows += store.save_orders(session, uid, parsed.rows)
            row = checkpoint.load(session, uid, stream)
            row.next_token = nxt
            row.pages += 1
            row.rows += len(parsed.rows)
            if nxt is None:
                checkpoint.finish_window(row, end)
            checkpoint.store(session, row)
        result.pages += 1
        result.skipped += parsed.skipped
        token = nxt
        if token is None:
            result.windows += 1
            return True
        await _sweep_items(ctx, result)


async def _sweep_items(ctx: SyncContext, result: SyncResult) -> None:
    """Read the items of recent orders that lack them (see store.orders_needing_items)."""
    uid = ctx.user_id
    since = ctx.now() - timedelta(days=ctx.options.order_items_days)
    with session_scope(ctx.settings) as session:
        todo = store.orders_needing_items(session, uid, since, ctx.options.items_per_sweep)
    for order_id in todo:
        if ctx.out_of_time(result):
            return
        rows: list[dict[str, Any]] = []
        token: str | None = None
        for _ in range(MAX_PAGES_PER_ORDER):
            params = {"NextToken": token} if token else {}
            body = await ctx.caller.get("getOrderItems", ORDER_ITEMS_PATH.format(order_id), params)
            parsed = records.order_item_rows(body, uid, order_id, ctx.now())
            rows.extend(parsed.rows)
            result.skipped += parsed.skipped
            payload = body.get("payload") if isinstance(body.get("payload"), dict) else {}
            token = _next_token((payload or {}).get("NextToken"))
            if token is None:
                break
        with session_scope(ctx.settings) as session:
            store.save_order_items(session, uid, order_id, rows, ctx.now())
        result.items += 1


# ---- finances --------------------------------------------------------------------------------


async def _finances(ctx: SyncContext, result: SyncResult) -> None:
    uid, stream, opts = ctx.user_id, "finances", ctx.options
    max_window = timedelta(days=FINANCES_MAX_WINDOW_DAYS) - timedelta(seconds=1)
    while True:
        now = ctx.now()
        latest = _whole(now - timedelta(seconds=MIN_AGE_S + 1))
        caught_up = latest - timedelta(seconds=opts.catch_up_s)
        with session_scope(ctx.settings) as session:
            row = checkpoint.load(session, uid, stream)
            if row.window_start is None:
                mark = row.watermark
                if mark is not None and mark >= caught_up:
                    if row.phase == FULL:  # the first walk has caught up: overlap from now on
                        row.phase = INCREMENTAL
                        checkpoint.store(session, row)
                    result.done = True
                    return
                if mark is None:
                    start, phase = _whole(now - timedelta(days=opts.history_days)), FULL
                elif row.phase == FULL and mark < caught_up:
                    start, phase = mark, FULL  # the next chunk of the first walk
                else:
                    start = mark - timedelta(seconds=opts.finances_overlap_s)
                    phase = INCREMENTAL
                end = min(start + max_window, latest)
                if end <= start:
                    result.done = True
                    return
                checkpoint.start_window(row, start, end, phase)
                checkpoint.store(session, row)
            w_start, w_end, token = row.window_start, row.window_end, row.next_token
        assert w_start is not None and w_end is not None
        if not await _finance_pages(ctx, result, w_start, w_end, token):
            return


async def _finance_pages(
    ctx: SyncContext, result: SyncResult, start: datetime, end: datetime, token: str | None
) -> bool:
    """Walk one window of listFinancialEvents; True when it is stored in full."""
    uid, stream = ctx.user_id, "finances"
    while True:
        if ctx.out_of_time(result):
            return False
        params: dict[str, Any] = {"MaxResultsPerPage": FINANCES_PAGE_SIZE}
        if token:
            params["NextToken"] = token
        else:
            params.update(PostedAfter=_iso(start), PostedBefore=_iso(end))
        try:
            body = await ctx.caller.get("listFinancialEvents", FINANCES_PATH, params)
        except SpApiInputError:
            if not token:
                raise
            token = None
            result.restarts += 1
            with session_scope(ctx.settings) as session:
                row = checkpoint.load(session, uid, stream)
                row.next_token, row.pages, row.rows = None, 0, 0
                checkpoint.store(session, row)
            continue
        parsed = records.financial_event_rows(body, uid)
        payload = body.get("payload") if isinstance(body.get("payload"), dict) else {}
        nxt = _next_token((payload or {}).get("NextToken"))
        with session_scope(ctx.settings) as session:
            result.rows += store.save_financial_events(session, uid, parsed.rows)
            row = checkpoint.load(session, uid, stream)
            row.next_token = nxt
            row.pages += 1
            row.rows += len(parsed.rows)
            if nxt is None:
                checkpoint.finish_window(row, end)
            checkpoint.store(session, row)
        result.pages += 1
        result.skipped += parsed.skipped
        token = nxt
        if token is None:
            result.windows += 1
            return True
