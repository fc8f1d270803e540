"""The shared state as Prometheus metrics, read when scraped: token bucket, queues, deals.

Why read at scrape time: these are facts of Redis and the database, not of one process, so
any process answering /metrics reports them alike (and a stopped worker cannot leave a stale
value behind). Each part degrades on its own: `arbitrage_state_up{source}` says which part
could not be read, the rest is still reported.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Iterator
from typing import Any

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from tools.settings import Settings

log = logging.getLogger(__name__)
AGE_QUANTILES = (0.5, 0.95, 1.0)
CACHE_S = 1.0  # a burst of scrapes (several Prometheus servers) reads the database once


def _quantile(ordered: list[float], q: float) -> float:
    """Nearest-rank quantile of sorted values (as `arbitrage status` computes p50/p95)."""
    k = max(0, min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1))
    return ordered[k]


def _redis(settings: Settings) -> Any:
    import redis

    from tools.redis_embedded import redis_url

    return redis.Redis.from_url(redis_url(settings), socket_timeout=2, socket_connect_timeout=2)


def queue_lengths(client: Any) -> dict[str, int]:
    """Messages waiting per Celery queue; the queues are the broker's own bindings (kombu's
    Redis transport keeps `_kombu.binding.<queue>` for each), as Flower finds them."""
    names = sorted(
        (k.decode() if isinstance(k, bytes) else str(k)).removeprefix("_kombu.binding.")
        for k in client.scan_iter(match="_kombu.binding.*", count=100)
    )
    return {q: int(client.llen(q)) for q in names if q and "celery" not in q and "pidbox" not in q}


class StateCollector(Collector):
    """A prometheus-client collector over Redis and the database for these settings."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._cache: tuple[float, list[Metric]] | None = None

    def collect(self) -> Iterator[Metric]:
        now = time.monotonic()
        if self._cache is None or now - self._cache[0] > CACHE_S:
            self._cache = (now, self._read())
        yield from self._cache[1]

    def _read(self) -> list[Metric]:
        up = GaugeMetricFamily(
            "arbitrage_state_up",
            "1 when the shared state could be read from this source at the last scrape",
            labels=["source"],
        )
        out: list[Metric] = [up]
        for source, read in (("redis", self._redis_metrics), ("database", self._db_metrics)):
            try:
                out.extend(read())
                up.add_metric([source], 1)
            except Exception as err:  # a scrape reports what it can, never fails
                log.warning("metrics: %s unreadable: %s", source, err)
                up.add_metric([source], 0)
        return out

    def _redis_metrics(self) -> list[Metric]:
        from tools.keepa.factory import make_token_budget

        budget = make_token_budget(self.settings)
        snap = budget.snapshot()
        out: list[Metric] = []
        if snap.get("synced"):
            for name, key, doc in (
                ("balance", "balance", "Keepa tokens left (shared bucket, refilled to now)"),
                ("refill_per_minute", "refill_rate", "Keepa tokens refilled per minute"),
                ("inflight", "inflight", "Keepa tokens reserved by calls in flight"),
            ):
                out.append(GaugeMetricFamily(f"arbitrage_keepa_tokens_{name}", doc, snap[key]))
        out.append(
            GaugeMetricFamily(
                "arbitrage_keepa_tokens_floor",
                "Spending stops at or below this balance until it refills to the resume mark",
                budget.floor,
            )
        )
        waiting = GaugeMetricFamily(
            "arbitrage_keepa_token_waiters",
            "Callers waiting for Keepa tokens now",
            labels=["purpose"],
        )
        from tools.keepa.budget import PURPOSES

        counts: dict[str, int] = dict.fromkeys(PURPOSES, 0)  # every purpose, 0 included
        for w in snap.get("waiting") or []:
            counts[str(w.get("purpose"))] = counts.get(str(w.get("purpose")), 0) + 1
        for purpose, n in sorted(counts.items()):
            waiting.add_metric([purpose], n)
        spent = CounterMetricFamily(
            "arbitrage_keepa_tokens_spent",
            "Keepa tokens spent, by purpose (every process, from the shared budget)",
            labels=["purpose"],
        )
        for purpose, n in sorted((snap.get("spend_by_purpose") or {}).items()):
            spent.add_metric([purpose], n)
        waits = CounterMetricFamily(
            "arbitrage_keepa_token_waits",
            "Times a caller waited for Keepa tokens, by purpose",
            labels=["purpose"],
        )
        wait_s = CounterMetricFamily(
            "arbitrage_keepa_token_wait_seconds",
            "Time spent waiting for Keepa tokens, by purpose",
            labels=["purpose"],
        )
        for purpose, w in sorted((snap.get("waits") or {}).items()):
            waits.add_metric([purpose], w.get("count", 0))
            wait_s.add_metric([purpose], w.get("seconds", 0.0))
        queues = GaugeMetricFamily(
            "arbitrage_queue_length", "Celery messages waiting per queue", labels=["queue"]
        )
        client = _redis(self.settings)
        try:
            for q, n in queue_lengths(client).items():
                queues.add_metric([q], n)
        finally:
            client.close()
        return [*out, waiting, spent, waits, wait_s, queues]

    def _db_metrics(self) -> list[Metric]:
        from sqlalchemy import func
        from sqlmodel import col, select

        from tools.db import session_scope
        from tools.models import Deal, DealStatus, utcnow

        deals = GaugeMetricFamily("arbitrage_deals", "Deals by status", labels=["status"])
        ages = GaugeMetricFamily(
            "arbitrage_deal_age_hours",
            "Hours since the last Keepa fetch of active deals, at quantiles (1 = the oldest)",
            labels=["quantile"],
        )
        now = utcnow()
        with session_scope(self.settings) as session:
            for status, n in session.exec(
                select(Deal.status, func.count()).group_by(Deal.status)
            ).all():
                deals.add_metric([str(getattr(status, "value", status))], n)
            rows = session.exec(
                select(Deal.fetched_at, Deal.created_at).where(
                    col(Deal.status) == DealStatus.active
                )
            ).all()
        hours = sorted(max(0.0, (now - (f or c)).total_seconds() / 3600) for f, c in rows)
        if hours:
            for q in AGE_QUANTILES:
                ages.add_metric([str(q)], round(_quantile(hours, q), 3))
        return [deals, ages]
