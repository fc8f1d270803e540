"""Prometheus metrics: processes add up through one directory, /metrics is guarded and
parseable, and the bundled Grafana dashboard only asks for metrics that exist."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis as redis_lib
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client import metrics as prom_metrics
from prometheus_client import multiprocess as mp
from prometheus_client.parser import text_string_to_metric_families

from chat_ui.metrics_route import MetricsRoute, allowed, render
from tools import metrics
from tools.db import session_scope
from tools.keepa.envelope import TokenEnvelope
from tools.keepa.factory import make_token_budget
from tools.models import Deal, DealStatus, utcnow
from tools.settings import Settings, load_settings

REPO = Path(__file__).resolve().parents[2]
DASHBOARD = REPO / "deploy" / "grafana" / "arbitrage-dashboard.json"
TOKEN = "scrape-token-0123456789"


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """{(sample name, sorted labels): value} of an exposition, via the official parser."""
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def total(parsed: dict[Any, float], name: str, **labels: str) -> float:
    want = set(labels.items())
    return sum(v for (n, ls), v in parsed.items() if n == name and want <= set(ls))


# ---- several processes, one directory --------------------------------------------------------

CHILD = textwrap.dedent(
    """
    import os, sys, time
    from tools.settings import load_settings
    from tools import metrics
    metrics.enable_multiprocess(load_settings(data_dir=sys.argv[1]))
    metrics.KEEPA_429.labels("scout").inc(3)
    metrics.TASK_SECONDS.labels("processor").observe(1.5)
    metrics.CHAT_SESSIONS.labels("ava").inc()
    print("ready", flush=True)
    if sys.argv[2] == "hang":
        time.sleep(60)
    else:
        sys.stdin.readline()  # until told to stop, then a normal exit
    """
)


def _child(data: Path, mode: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(data), mode],
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    return proc


def _scrape_dir(path: Path) -> dict[Any, float]:
    reg = CollectorRegistry()
    mp.MultiProcessCollector(reg, path=str(path))
    return samples(generate_latest(reg).decode())


def test_processes_add_up_and_a_new_start_clears_the_dead(tmp_path: Path) -> None:
    data = tmp_path / "data"
    path = data / "metrics"
    clean, killed = _child(data, "wait"), _child(data, "hang")
    parsed = _scrape_dir(path)
    assert total(parsed, "arbitrage_keepa_http_429_total", purpose="scout") == 6
    assert total(parsed, "arbitrage_task_duration_seconds_count", task="processor") == 2
    assert total(parsed, "arbitrage_chat_sessions_open") == 2
    host = metrics.process_id().rsplit("-", 1)[0]
    assert all(f.stem.rsplit("_", 1)[-1].startswith(host + "-") for f in path.glob("*.db"))
    assert clean.stdin is not None
    clean.stdin.close()  # a normal stop: its open sessions stop counting, its counts stay
    clean.wait(timeout=30)
    killed.send_signal(signal.SIGKILL)  # no chance to say it died
    killed.wait(timeout=10)
    parsed = _scrape_dir(path)
    assert total(parsed, "arbitrage_keepa_http_429_total") == 6
    assert total(parsed, "arbitrage_chat_sessions_open") == 1  # only the killed one's
    # the next process to start removes what dead processes of this host left: a new run
    live = _child(data, "hang")
    try:
        parsed = _scrape_dir(path)
        assert total(parsed, "arbitrage_keepa_http_429_total") == 3
        assert total(parsed, "arbitrage_chat_sessions_open") == 1
    finally:
        live.kill()
        live.wait()


def test_other_hosts_files_are_left_alone(tmp_path: Path) -> None:
    theirs = tmp_path / "counter_otherbox-1.db"
    ours_dead = tmp_path / f"counter_{metrics.process_id().rsplit('-', 1)[0]}-999999999.db"
    theirs.write_bytes(b"")
    ours_dead.write_bytes(b"")
    assert metrics.remove_stale(tmp_path) == 1
    assert theirs.exists() and not ours_dead.exists()


# ---- who may scrape --------------------------------------------------------------------------


def _scope(host: str, headers: dict[bytes, bytes] | None = None) -> dict[str, Any]:
    return {"type": "http", "client": (host, 5555), "headers": list((headers or {}).items())}


def test_without_a_token_only_local_scrapers_that_no_proxy_forwarded() -> None:
    s = load_settings()
    assert allowed(_scope("127.0.0.1"), s)[0] == 200
    assert allowed(_scope("::1"), s)[0] == 200
    assert allowed(_scope("10.0.0.7"), s)[0] == 403
    # a reverse proxy on this machine makes every visitor look local
    assert allowed(_scope("127.0.0.1", {b"x-forwarded-for": b"203.0.113.9"}), s)[0] == 403
    assert allowed(_scope("127.0.0.1", {b"forwarded": b"for=203.0.113.9"}), s)[0] == 403


def test_with_a_token_every_client_needs_it() -> None:
    s = load_settings(metrics_token=TOKEN)
    assert allowed(_scope("10.0.0.7", {b"authorization": f"Bearer {TOKEN}".encode()}), s)[0] == 200
    assert allowed(_scope("127.0.0.1"), s)[0] == 401
    assert (
        allowed(_scope("10.0.0.7", {b"authorization": b"Bearer wrong-token-xxxxxxxx"}), s)[0] == 401
    )


def test_a_short_token_is_refused_at_startup() -> None:
    from tools.settings import SettingsError

    with pytest.raises(SettingsError, match="METRICS_TOKEN"):
        load_settings(metrics_token="short")


async def _app(scope: Any, receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"chat"})


async def test_the_route_answers_only_its_path_and_can_be_turned_off(settings: Settings) -> None:
    transport = httpx.ASGITransport(app=MetricsRoute(_app, settings), client=("127.0.0.1", 1))
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
        r = await c.get("/metrics")
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
        assert "arbitrage_state_up" in r.text
        assert (await c.get("/")).text == "chat"
    off = load_settings(metrics_enabled=False)
    transport = httpx.ASGITransport(app=MetricsRoute(_app, off), client=("127.0.0.1", 1))
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
        assert (await c.get("/metrics")).text == "chat"


# ---- the shared state ------------------------------------------------------------------------


def _fill_state(settings: Settings, redis_url: str) -> None:
    budget = make_token_budget(settings)
    now_ms = int(time.time() * 1000)
    budget.sync(TokenEnvelope(1200, 30_000, 20, now_ms))
    res = budget.acquire(5, "scout")
    budget.settle(None, 5, 5, purpose="scout", reservation=res.id)
    budget.redis.hincrbyfloat(budget.k_waits, "processor:seconds", 12.5)
    budget.redis.hincrby(budget.k_waits, "processor:count", 2)
    client = redis_lib.Redis.from_url(redis_url)
    client.sadd("_kombu.binding.scout", "scout")
    client.sadd("_kombu.binding.celeryev", "x")
    client.rpush("scout", "m1", "m2")
    client.close()
    with session_scope(settings) as session:
        now = utcnow()
        for i, status in enumerate([DealStatus.active, DealStatus.active, DealStatus.pending]):
            session.add(Deal(asin=f"B00000000{i}", status=status, created_at=now, fetched_at=now))


def test_state_is_read_from_redis_and_the_database(settings: Settings, redis_url: str) -> None:
    settings = load_settings()
    _fill_state(settings, redis_url)
    parsed = samples(render(settings).decode())
    assert total(parsed, "arbitrage_state_up", source="redis") == 1
    assert total(parsed, "arbitrage_state_up", source="database") == 1
    assert 1000 < total(parsed, "arbitrage_keepa_tokens_balance") <= 1200
    assert total(parsed, "arbitrage_keepa_tokens_floor") == settings.keepa_token_floor
    assert total(parsed, "arbitrage_keepa_tokens_spent_total", purpose="scout") == 5
    assert total(parsed, "arbitrage_keepa_token_wait_seconds_total", purpose="processor") == 12.5
    assert total(parsed, "arbitrage_queue_length", queue="scout") == 2
    assert not [k for k in parsed if k[0] == "arbitrage_queue_length" and "celeryev" in str(k)]
    assert total(parsed, "arbitrage_deals", status="active") == 2
    assert total(parsed, "arbitrage_deals", status="pending") == 1
    assert total(parsed, "arbitrage_deal_age_hours", quantile="0.95") < 0.1


def test_an_unreachable_redis_is_reported_not_raised(settings: Settings) -> None:
    broken = load_settings(redis_url="redis://127.0.0.1:1/0")
    parsed = samples(render(broken).decode())
    assert total(parsed, "arbitrage_state_up", source="redis") == 0
    assert total(parsed, "arbitrage_state_up", source="database") == 1


# ---- the Grafana dashboard -------------------------------------------------------------------


def exported_names(settings: Settings, redis_url: str) -> set[str]:
    """Sample names this app can export: per-process metrics from their definitions, the
    shared state from a real scrape of filled Redis and database."""
    names: set[str] = set()
    for obj in vars(metrics).values():
        if isinstance(obj, prom_metrics.MetricWrapperBase):
            base = obj._name
            suffixes = {
                "counter": ("_total",),
                "histogram": ("_bucket", "_count", "_sum"),
                "gauge": ("",),
            }[str(obj._type)]
            names.update(base + s for s in suffixes)
    _fill_state(settings, redis_url)
    names.update(k[0] for k in samples(render(settings).decode()))
    return names


def test_every_dashboard_panel_asks_for_an_exported_metric(
    settings: Settings, redis_url: str
) -> None:
    dash = json.loads(DASHBOARD.read_text())
    assert dash["title"] and dash["uid"] and isinstance(dash["schemaVersion"], int)
    panels = [p for p in dash["panels"] if p["type"] != "row"]
    ids = [p["id"] for p in dash["panels"]]
    assert len(ids) == len(set(ids))
    names = exported_names(load_settings(), redis_url)
    used: set[str] = set()
    for p in panels:
        assert p["targets"], p["title"]
        for t in p["targets"]:
            found = set(re.findall(r"\barbitrage_[a-z0-9_]+", t["expr"]))
            assert found, (p["title"], t["expr"])
            missing = found - names
            assert not missing, f"panel {p['title']!r} asks for {missing}"
            used |= found
    # and every metric the app defines is on the dashboard
    defined = {
        o._name for o in vars(metrics).values() if isinstance(o, prom_metrics.MetricWrapperBase)
    }
    assert {n for n in defined if not any(u.startswith(n) for u in used)} == set()
