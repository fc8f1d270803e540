"""Embedded Redis: started when REDIS_URL is unset, reused by other processes, stopped on exit."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest
import redis

from tools.redis_embedded import RedisUnavailable, ensure_redis, redis_url, running_embedded_url

pytestmark = pytest.mark.integration


def test_start_reuse_across_processes_and_stop(settings) -> None:
    with pytest.raises(RedisUnavailable, match="arbitrage up"):
        redis_url(settings)
    url, owner = ensure_redis(settings)
    assert owner is not None
    try:
        client = redis.Redis.from_url(url)
        client.set("shared", "from-parent")
        # another process with the same DATA_DIR finds and reuses the same server
        code = textwrap.dedent("""
            import redis
            from tools.redis_embedded import ensure_redis
            url, owner = ensure_redis()
            assert owner is None, "must reuse, not start a second server"
            print(redis.Redis.from_url(url).get("shared").decode())
        """)
        env = {**os.environ, "DATA_DIR": str(settings.data_dir)}
        out = subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60
        )
        assert out.returncode == 0, out.stderr
        assert out.stdout.strip() == "from-parent"
        assert (settings.data_dir / "redis").is_dir()
    finally:
        owner.stop()
    assert running_embedded_url(settings) is None
    with pytest.raises(redis.ConnectionError):
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()


def test_data_survives_a_restart(settings) -> None:
    url, owner = ensure_redis(settings)
    assert owner is not None, "this test's data dir starts its own server"
    redis.Redis.from_url(url).set("queued-task", "keep me")
    owner.stop()
    url2, owner2 = ensure_redis(settings)
    assert owner2 is not None
    try:
        assert redis.Redis.from_url(url2).get("queued-task") == b"keep me"
    finally:
        owner2.stop()


def test_configured_redis_url_is_used_as_is(monkeypatch, redis_url) -> None:
    from tools.settings import get_settings

    url, owner = ensure_redis(get_settings())
    assert owner is None
    assert url == redis_url
