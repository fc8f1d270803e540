"""A freshly started worker checks each seller's top deals without being asked (what
`arbitrage up` relies on for a seller's first "deals I can sell"): a REAL Celery worker
process, real Redis, the restrictions sandbox."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import select

from tests.integration.test_workers_celery import celery_worker, wait_for, worker_env
from tests.unit.agent_helpers import make_deal, seed
from tools.db import dispose_engines, session_scope
from tools.models import UserRestriction
from tools.settings import Settings
from tools.users import add_user

pytestmark = pytest.mark.integration


def test_a_started_worker_checks_the_sellers_top_deals(
    settings: Settings, redis_url: str, tmp_path: Path
) -> None:
    asins = [f"B0WK{i:06d}" for i in range(8)]
    seed(settings, *(make_deal(a, price_now=10.0 + i) for i, a in enumerate(asins)))
    with session_scope() as session:
        for name in ("ann", "bob"):
            add_user(session, name, "password123")
    env = worker_env(
        settings, redis_url, RESTRICTIONS_TOP_START_DELAY_S="0", RESTRICTIONS_TOP_N="5"
    )

    def answered() -> set[tuple[int, str]]:
        dispose_engines()
        with session_scope() as session:
            return {(r.user_id, r.asin) for r in session.exec(select(UserRestriction))}

    with celery_worker(env, tmp_path / "worker.log", queues="restrictions"):
        # top 5 by ROI (the cheapest five) and by profit (the same five here), per seller
        wait_for(lambda: len(answered()) >= 10, 60, "the sellers' top deals to be checked")
    got = answered()
    assert {a for _, a in got} == set(asins[:5]) and len({u for u, _ in got}) == 2
