"""A new alert starts from what matches now: those deals were in the answer that created it,
so they are recorded as already seen (and fire later only if they get better or come back)."""

from __future__ import annotations

from datetime import datetime

import numpy as np
from sqlmodel import Session, select

from tools.alerts.matching import DEAL_COLUMNS, DealBatch, compile_search, evaluate, gating_masks
from tools.db import table_of, upsert
from tools.deals.search.filters import VISIBLE_STATUSES
from tools.models import AlertState, Deal, SavedSearch, User, UserRestriction
from tools.user_settings import load_user_settings

CHUNK = 5000
D = table_of(Deal)
R = table_of(UserRestriction)


def seed_states(session: Session, search: SavedSearch, owner: User, now: datetime) -> int:
    """Record every deal the search matches now as seen; returns how many there are."""
    compiled = compile_search(
        search.id or 0, owner.id or 0, search.query, load_user_settings(owner)
    )
    statuses = (
        list(session.execute(select(R.c.asin, R.c.status).where(R.c.user_id == owner.id)))
        if compiled.needs_gating
        else []
    )
    total, last = 0, ""
    cols = [D.c[c] for c in DEAL_COLUMNS]
    while True:
        rows = list(
            session.execute(
                select(*cols)
                .where(D.c.status.in_(VISIBLE_STATUSES), D.c.asin > last)
                .order_by(D.c.asin)
                .limit(CHUNK)
            ).mappings()
        )
        if not rows:
            return total
        last = rows[-1]["asin"]
        batch = DealBatch.from_rows(rows)
        gating = gating_masks(batch.asins, statuses) if compiled.needs_gating else None
        hits = np.flatnonzero(evaluate(compiled, batch, now, gating))
        cost, net, price = batch.cost(compiled.settings), batch.cols["net"], batch.cols["price_now"]
        writes = []
        for i in hits:
            raw = float(net[i] - cost[i])
            profit = None if np.isnan(raw) else raw
            writes.append(
                {
                    "search_id": compiled.search_id,
                    "asin": batch.asins[i],
                    "matching": True,
                    "price": None if np.isnan(price[i]) else float(price[i]),
                    "profit": profit,
                    "roi": profit / float(cost[i]) * 100
                    if profit is not None and cost[i] > 0
                    else None,
                    "fired_at": now,
                    "changed_at": now,
                }
            )
        upsert(session, AlertState, writes)
        total += len(writes)
