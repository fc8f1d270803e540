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
