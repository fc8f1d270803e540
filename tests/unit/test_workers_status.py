"""workers.status.gather: the numbers `arbitrage status` shows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tools.db import session_scope
from tools.models import Deal, DealStatus
from tools.settings import Settings, get_settings
from workers import checkpoints
from workers.status import gather, percentile

NOW = datetime(2026, 3, 2, 12, tzinfo=UTC)


def test_percentile_is_nearest_rank() -> None:
    assert percentile([], 50) is None
    assert percentile([3.0, 1.0, 2.0], 50) == 2.0
    assert percentile([float(i) for i in range(1, 101)], 95) == 95.0


def test_gather_reports_deals_freshness_and_task_runs(settings: Settings, redis_url: str) -> None:
    with session_scope() as session:
        for i in range(10):
            session.add(
                Deal(
                    asin=f"B{i:09d}", status=DealStatus.active, fetched_at=NOW - timedelta(hours=i)
                )
            )
        session.add(Deal(asin="B999999999", status=DealStatus.pending))
        checkpoints.record_run(session, "scout", now=NOW, ok=False, error="KeepaError: boom")
    out = gather(get_settings(), now=NOW)  # after redis_url set REDIS_URL
    assert out["deals"] == {"active": 10, "pending": 1}
    assert out["freshness"] == {"active": 10, "median_age_h": 4.0, "p95_age_h": 9.0}
    assert out["tasks"]["scout"]["last_error"] == "KeepaError: boom"
    assert out["tasks"]["janitor"] == {}
    assert out["queues"].get("scout") == 0, out["queues"]
    assert "error" not in out


def test_gather_reports_each_sellers_sync_streams(settings: Settings, redis_url: str) -> None:
    from tools.spapi import checkpoint
    from tools.users import add_user

    with session_scope() as session:
        ann = add_user(session, "ann", "password123").id
        assert ann is not None
        row = checkpoint.load(session, ann, "orders")
        checkpoint.start_window(row, NOW - timedelta(days=365), NOW, checkpoint.FULL)
        row.next_token, row.pages = "tok", 42
        checkpoint.store(session, row)
        checkpoint.record_run(
            session, ann, "orders", now=NOW, ok=True, info={"pages": 42, "stopped": "slice"}
        )
        done = checkpoint.load(session, ann, "inventory")
        checkpoint.finish_window(done, NOW)
        checkpoint.store(session, done)
        checkpoint.record_run(
            session, ann, "inventory", now=NOW, ok=False, info={}, error="SpApiError: HTTP 500"
        )
    rows = {r["stream"]: r for r in gather(get_settings(), now=NOW)["seller_sync"]}
    assert rows["orders"]["state"] == "walking (42 pages in)"
    assert rows["orders"]["last_success"] == NOW.isoformat() and not rows["orders"]["last_error"]
    assert rows["inventory"]["state"] == "caught up"
    assert rows["inventory"]["synced_to"] == NOW.isoformat()
    assert rows["inventory"]["last_error"] == "SpApiError: HTTP 500"
    assert {r["user"] for r in rows.values()} == {"ann"}
