"""Turn the deals the processor wrote into alert messages: queue -> match -> state + outbox.

The processor queues every deal it writes (alert_queue, in its own transaction). `match_queued`
takes a slice of the queue, evaluates every active saved search over it in memory
(tools/alerts/matching.py), and in one transaction records each (search, ASIN) pair's state,
writes the outbox rows and removes the slice from the queue: a crash before the commit leaves
the queue as it was, after it the outbox holds the messages. A pair fires once while it keeps
matching; it fires again when the deal came back after going away, or got materially better
(profit up by both FIRE_AGAIN_PROFIT_PCT and FIRE_AGAIN_PROFIT_USD, or Price Now down by
FIRE_AGAIN_PRICE_PCT, against the last time it fired).
"""

from __future__ import annotations

import json
import logging
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy import delete, insert
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from tools.alerts.matching import (
    DEAL_COLUMNS,
    CompiledSearch,
    DealBatch,
    Gating,
    compile_search,
    evaluate,
    gating_masks,
)
from tools.alerts.schedule import due_at
from tools.db import table_of, upsert
from tools.models import (
    AlertOutbox,
    AlertQueue,
    AlertSettings,
    AlertState,
    Deal,
    SavedSearch,
    User,
    UserRestriction,
)
from tools.user_settings import UserSettings, settings_from

log = logging.getLogger(__name__)

FIRE_AGAIN_PROFIT_PCT = 25.0
FIRE_AGAIN_PROFIT_USD = 3.0
FIRE_AGAIN_PRICE_PCT = 10.0
MAX_DEALS_PER_MESSAGE = 10  # a message lists this many deals and counts the rest
AMAZON_URL = "https://www.amazon.com/dp/{asin}"

D = table_of(Deal)
R = table_of(UserRestriction)
S = table_of(AlertState)


def alerts_wanted(session: Session) -> bool:
    """Any active saved search at all? (Without one, queueing deals would only pile them up.)"""
    return (
        session.exec(
            select(SavedSearch.id).where(col(SavedSearch.active).is_(True)).limit(1)
        ).first()
        is not None
    )


def queue_deals(session: Session, asins: Iterable[str], now: datetime) -> int:
    """Queue deals for matching (the processor calls this inside its own transaction)."""
    rows = [{"asin": a, "queued_at": now} for a in dict.fromkeys(asins)]
    return upsert(session, AlertQueue, rows, on_conflict="nothing") if rows else 0


@dataclass
class MatchReport:
    deals: int = 0
    searches: int = 0
    matches: int = 0  # (search, deal) pairs matching now
    fired: int = 0  # pairs that fired (new, back or better)
    gone: int = 0  # pairs that stopped matching
    messages: int = 0  # outbox rows written
    skipped_searches: list[str] = field(default_factory=list)  # could not be evaluated
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


SS, U = table_of(SavedSearch), table_of(User)


# compiled searches kept between runs: (search id, updated_at, owner's settings) -> compiled
_COMPILED: dict[tuple[int, Any, str], CompiledSearch] = {}
_COMPILED_MAX = 200_000


def load_searches(session: Session) -> tuple[list[CompiledSearch], list[str]]:
    """Every active saved search of an enabled account, compiled with its owner's settings.

    Plain rows, not ORM objects; each owner's settings parsed once; and a search compiled in an
    earlier run is reused until it or its owner's settings change."""
    rows = session.execute(
        sa_select(SS.c.id, SS.c.owner_id, SS.c.query, SS.c.updated_at, U.c.settings)
        .join(U, U.c.id == SS.c.owner_id)
        .where(SS.c.active.is_(True), U.c.disabled.is_(False))
        .order_by(SS.c.id)
    ).all()
    compiled, skipped = [], []
    owners: dict[int, tuple[str, UserSettings | ValueError]] = {}
    if len(_COMPILED) > _COMPILED_MAX:
        _COMPILED.clear()
    for sid, owner, query, updated, raw in rows:
        if owner not in owners:
            try:
                owners[owner] = (json.dumps(raw, sort_keys=True), settings_from(raw))
            except ValueError as err:
                owners[owner] = ("!", err)
        key_settings, settings = owners[owner]
        key = (sid, updated, key_settings)
        hit = _COMPILED.get(key)
        if hit is not None:
            compiled.append(hit)
            continue
        try:
            if isinstance(settings, ValueError):
                raise settings
            _COMPILED[key] = made = compile_search(sid, owner, query or {}, settings)
            compiled.append(made)
        except ValueError as err:  # a search stored by an older version, or a bad setting
            skipped.append(f"#{sid}: {str(err)[:200]}")
    return compiled, skipped


State = tuple[bool, float | None, float | None]  # (matching, price, profit at the last fire)


def _improved(state: State, price: float | None, profit: float | None) -> bool:
    _, was_price, was_profit = state
    if profit is not None and was_profit is not None:
        gain = profit - was_profit
        if gain >= FIRE_AGAIN_PROFIT_USD and gain >= abs(was_profit) * FIRE_AGAIN_PROFIT_PCT / 100:
            return True
    if price is not None and was_price:
        return price <= was_price * (1 - FIRE_AGAIN_PRICE_PCT / 100)
    return False


def _gating(
    session: Session, searches: Sequence[CompiledSearch], asins: list[str]
) -> dict[int, Gating]:
    owners = sorted({s.owner_id for s in searches if s.needs_gating})
    if not owners:
        return {}
    per_owner: dict[int, list[tuple[str, int]]] = defaultdict(list)
    for user_id, asin, status in session.execute(
        select(R.c.user_id, R.c.asin, R.c.status).where(
            R.c.user_id.in_(owners), R.c.asin.in_(asins)
        )
    ):
        per_owner[user_id].append((asin, status))
    return {o: gating_masks(asins, per_owner.get(o, [])) for o in owners}


def channels_for(
    target: AlertSettings, now: datetime
) -> list[tuple[str, datetime, datetime | None]]:
    """(channel, due at, sent at) for a message made now: the app inbox (delivered once
    committed), and the seller's webhook and email unless removed or disabled."""
    out: list[tuple[str, datetime, datetime | None]] = [("app", now, now)]
    if target.webhook_url and target.webhook_disabled_at is None:
        out.append(("webhook", due_at(target, "webhook", now), None))
    if target.email and target.email_disabled_at is None:
        out.append(("email", due_at(target, "email", now), None))
    return out


def match_queued(
    session: Session,
    now: datetime,
    *,
    limit: int = 500,
    searches: tuple[list[CompiledSearch], list[str]] | None = None,
) -> MatchReport:
    """Match one slice of the queue against every active saved search; the caller commits."""
    started = time.perf_counter()
    report = MatchReport()
    asins = list(
        session.exec(select(AlertQueue.asin).order_by(col(AlertQueue.queued_at)).limit(limit)).all()
    )
    if not asins:
        return report
    compiled, report.skipped_searches = searches or load_searches(session)
    report.deals, report.searches = len(asins), len(compiled)
    fires: dict[int, list[dict[str, Any]]] = defaultdict(list)
    if compiled:
        rows = session.execute(
            select(*[D.c[c] for c in DEAL_COLUMNS]).where(D.c.asin.in_(asins))
        ).mappings()
        batch = DealBatch.from_rows(rows)
        _match_batch(session, batch, compiled, now, report, fires)
        vanished = sorted(set(asins) - set(batch.asins))  # deleted by the janitor meanwhile
        if vanished:
            session.execute(
                S.update()
                .where(S.c.asin.in_(vanished), S.c.matching.is_(True))
                .values(matching=False, changed_at=now)
            )
    report.messages = _write_outbox(session, compiled, fires, now)
    session.execute(delete(AlertQueue).where(col(AlertQueue.asin).in_(asins)))
    report.seconds = time.perf_counter() - started
    return report


def _match_batch(
    session: Session,
    batch: DealBatch,
    compiled: list[CompiledSearch],
    now: datetime,
    report: MatchReport,
    fires: dict[int, list[dict[str, Any]]],
) -> None:
    """Evaluate, compare with the stored state, and write the new state."""
    # (search -> asin -> (matching, price, profit)): every stored pair of this batch's deals
    states: dict[int, dict[str, State]] = defaultdict(dict)
    if len(batch):
        for sid, asin, matching, was_price, was_profit in session.execute(
            sa_select(S.c.search_id, S.c.asin, S.c.matching, S.c.price, S.c.profit).where(
                S.c.asin.in_(batch.asins)
            )
        ).all():
            states[sid][asin] = (bool(matching), was_price, was_profit)
    gating = _gating(session, compiled, batch.asins)
    net, price = batch.cols["net"], batch.cols["price_now"]
    writes: list[dict[str, Any]] = []
    for search in compiled:
        hits = np.flatnonzero(evaluate(search, batch, now, gating.get(search.owner_id)))
        mine = states.get(search.search_id, {})
        if not len(hits) and not mine:
            continue
        cost = batch.cost(search.settings)
        matched = set()
        for i in hits:
            asin = batch.asins[i]
            matched.add(asin)
            p = None if np.isnan(price[i]) else float(price[i])
            profit = None if np.isnan(net[i] - cost[i]) else float(net[i] - cost[i])
            roi = profit / float(cost[i]) * 100 if profit is not None and cost[i] > 0 else None
            state = mine.get(asin)
            reason = (
                "new"
                if state is None
                else "back"
                if not state[0]
                else "better"
                if _improved(state, p, profit)
                else None
            )
            report.matches += 1
            if reason is None:
                continue
            report.fired += 1
            fires[search.search_id].append(
                {"asin": asin, "price": p, "profit": profit, "roi": roi, "why": reason}
            )
            writes.append(
                {
                    "search_id": search.search_id,
                    "asin": asin,
                    "matching": True,
                    "price": p,
                    "profit": profit,
                    "roi": roi,
                    "fired_at": now,
                    "changed_at": now,
                }
            )
        for asin, state in mine.items():
            if state[0] and asin not in matched:
                report.gone += 1
                writes.append(
                    {
                        "search_id": search.search_id,
                        "asin": asin,
                        "matching": False,
                        "changed_at": now,
                    }
                )
    upsert(session, S, writes)


def _write_outbox(
    session: Session,
    compiled: list[CompiledSearch],
    fires: dict[int, list[dict[str, Any]]],
    now: datetime,
) -> int:
    """One message per search that fired, per channel of its owner."""
    if not fires:
        return 0
    by_id = {s.search_id: s for s in compiled}
    names = dict(
        session.execute(
            select(SavedSearch.id, SavedSearch.name).where(col(SavedSearch.id).in_(list(fires)))
        ).all()
    )
    asins = sorted({f["asin"] for deals in fires.values() for f in deals})
    titles = dict(session.execute(select(D.c.asin, D.c.title).where(D.c.asin.in_(asins))).all())
    owners = sorted({by_id[sid].owner_id for sid in fires})
    settings = {
        s.user_id: s
        for s in session.exec(select(AlertSettings).where(col(AlertSettings.user_id).in_(owners)))
    }
    plain = AlertSettings(user_id=0)  # an owner who never set anything: the app inbox only
    rows: list[dict[str, Any]] = []
    for sid, deals in fires.items():
        owner = by_id[sid].owner_id
        deals = sorted(deals, key=lambda d: -(d["profit"] or float("-inf")))
        payload = {
            "search_id": sid,
            "search": names.get(sid, f"#{sid}"),
            "matched": len(deals),
            "deals": [
                {**d, "title": titles.get(d["asin"]), "url": AMAZON_URL.format(asin=d["asin"])}
                for d in deals[:MAX_DEALS_PER_MESSAGE]
            ],
            "at": now.isoformat(),
        }
        for channel, due, sent in channels_for(settings.get(owner, plain), now):
            rows.append(
                {
                    "owner_id": owner,
                    "search_id": sid,
                    "kind": "match",
                    "channel": channel,
                    "payload": payload,
                    "created_at": now,
                    "due_at": due,
                    "sent_at": sent,
                    "attempts": 0,
                }
            )
    if rows:  # one executemany, not an ORM object per message
        session.execute(insert(table_of(AlertOutbox)), rows)
    return len(rows)
