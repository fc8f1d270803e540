"""`arbitrage backup` / `restore`: a copy made under write load restores a working app elsewhere;
restore refuses while the app runs and refuses damaged files without touching anything."""

from __future__ import annotations

import asyncio
import io
import os
import sqlite3
import subprocess
import sys
import tarfile
import threading
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from chat_ui.cli import app
from tests.unit.chat_history import check_resumed, http_context, write_and_resume
from tools.backup.service import (
    BackupError,
    create_backup,
    nightly_backup,
    read_manifest,
    restore_backup,
)
from tools.db import dispose_engines, get_engine, head_revision, session_scope
from tools.models import Deal, Role
from tools.settings import Settings, get_settings, reset_settings_cache

pytestmark = pytest.mark.integration
runner = CliRunner()
REPO = Path(__file__).resolve().parents[2]
FILE_KEY = "user-1/element-1/notes.txt"


def _storage(settings: Settings) -> Any:
    """Where the chat keeps files shown in history (an admin's upload)."""
    from chat_ui.data_layer import LocalFileStorage

    return LocalFileStorage(settings.data_dir / "chat_files")


def _populate(settings: Settings, n_deals: int = 3000) -> dict[str, Any]:
    """What a working install holds: an admin, a seller with SP-API credentials, a taught
    strategy, deals, a chat thread with a chart file, and the agent's checkpoint."""
    from langchain_core.runnables import RunnableConfig
    from langgraph.checkpoint.base import empty_checkpoint
    from langgraph.checkpoint.sqlite import SqliteSaver

    from knowledge import save_strategy
    from tools.restrictions.credentials import connect_account
    from tools.users import add_user

    with session_scope(settings) as s:
        admin = add_user(s, "boss", "boss-password-1", Role.admin)
        seller = add_user(s, "sam", "sam-password-1")
        assert seller.id is not None
        connect_account(s, settings, seller.id, "A2EXAMPLE123", "Atzr|refresh-token-value")
        save_strategy(
            s,
            "Skip textbooks whose rank climbs above 2,000,000 in summer.",
            "sourcing",
            None,
            admin,
        )
    with get_engine(settings).begin() as conn:
        conn.execute(
            text(
                "INSERT INTO deal (asin, shipping_included, status, priority, last_seen_utc, "
                "created_at, updated_at, title) VALUES (:a, 0, 'active', 1, '2025-01-01', "
                "'2025-01-01', '2025-01-01', :t)"
            ),
            [{"a": f"B{i:09d}", "t": f"Calculus edition {i}"} for i in range(n_deals)],
        )
    history = asyncio.run(write_and_resume(settings))
    asyncio.run(_storage(settings).upload_file(FILE_KEY, b"notes", "text/plain"))  # an upload
    config: RunnableConfig = {"configurable": {"thread_id": "t-1", "checkpoint_ns": ""}}
    with SqliteSaver.from_conn_string(str(settings.data_dir / "checkpoints.db")) as saver:
        saver.put(config, empty_checkpoint(), {"source": "input", "step": 0}, {})
    return {"history": history, "seller_id": seller.id}


class Writer(threading.Thread):
    """Commits one new deal at a time until stopped; remembers how many and any error."""

    def __init__(self, settings: Settings) -> None:
        super().__init__(daemon=True)
        self.settings, self.written, self.errors = settings, 0, []  # type: ignore[var-annotated]
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                with session_scope(self.settings) as s:
                    s.add(Deal(asin=f"W{self.written:09d}", title="written during the backup"))
                self.written += 1
            except Exception as err:  # the test asserts there were none
                self.errors.append(err)
                return

    def wait_for(self, n: int) -> None:
        target = self.written + n
        while self.written < target and not self.errors and self.is_alive():
            self.stop.wait(0.005)


def _flat(output: str) -> str:
    """CLI output with the console's line wrapping undone."""
    return " ".join(output.split())


def _use_data_dir(monkeypatch: pytest.MonkeyPatch, data: Path) -> Settings:
    monkeypatch.setenv("DATA_DIR", str(data))
    reset_settings_cache()
    dispose_engines()
    return get_settings()


def _count(settings: Settings, table: str) -> int:
    with get_engine(settings).connect() as conn:
        return conn.execute(text(f'SELECT count(*) FROM "{table}"')).scalar_one()


def test_backup_under_write_load_restores_a_working_app_elsewhere(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from knowledge import retrieve
    from tools.restrictions.credentials import load_credentials
    from tools.users import authenticate

    made = _populate(settings)
    writer = Writer(settings)
    writer.start()
    writer.wait_for(20)
    before = _count(settings, "deal")
    out = tmp_path / "backups"
    out.mkdir()
    r = runner.invoke(app, ["backup", str(out)])
    writer.wait_for(20)  # still writing after the copy: it ran under load, nobody waited
    writer.stop.set()
    writer.join()
    assert r.exit_code == 0, r.output
    assert writer.errors == []
    final = _count(settings, "deal")
    [path] = out.glob("arbitrage-*.tar.gz")
    assert path.stat().st_mode & 0o777 == 0o600  # it holds secret.key
    manifest = read_manifest(path)
    assert before <= manifest["counts"]["deal"] <= final
    assert manifest["secret_key"] == "file" and manifest["trees"]["chat_files"] >= 1
    assert "Backup written" in r.output and "secret.key" in _flat(r.output)

    fresh = _use_data_dir(monkeypatch, tmp_path / "elsewhere")
    r = runner.invoke(app, ["restore", str(path), "--yes"])
    assert r.exit_code == 0, r.output
    db = fresh.data_dir / "arbitrage.db"
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        for table, n in manifest["counts"].items():
            assert conn.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0] == n, table
    assert (fresh.data_dir / "secret.key").stat().st_mode & 0o777 == 0o600
    with session_scope(fresh) as s:
        assert authenticate(s, "sam", "sam-password-1")
        creds = load_credentials(s, fresh, made["seller_id"])
        assert creds is not None and creds.refresh_token == "Atzr|refresh-token-value"
        assert "rank climbs" in retrieve(s, "textbook rank summer")[0].text
    resumed = asyncio.run(_resume(fresh, made["history"]["thread"]["id"]))
    check_resumed({"thread": resumed, "ids": made["history"]["ids"]})
    assert asyncio.run(_storage(fresh).get_read_url(FILE_KEY)) == "data:text/plain;base64,bm90ZXM="
    assert _checkpoint(fresh, "t-1") is not None


async def _resume(settings: Settings, thread_id: str) -> Any:
    from chat_ui.data_layer import make_data_layer

    layer = make_data_layer(settings)
    try:
        http_context()
        return await layer.get_thread(thread_id)
    finally:
        await layer.close()


def _checkpoint(settings: Settings, thread_id: str) -> Any:
    from langgraph.checkpoint.sqlite import SqliteSaver

    with SqliteSaver.from_conn_string(str(settings.data_dir / "checkpoints.db")) as saver:
        return saver.get_tuple({"configurable": {"thread_id": thread_id}})


def _hold_app_lock(settings: Settings, role: str) -> subprocess.Popen[str]:
    """Another process that announces itself as a running part of the app."""
    code = (
        "import sys; from tools.settings import get_settings; from tools.runstate import "
        f"announce; p = announce(get_settings(), {role!r}); print('ready', flush=True); "
        "sys.stdin.read()"
    )
    env = {**os.environ, "DATA_DIR": str(settings.data_dir), "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(
        [sys.executable, "-c", code],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    return proc


def test_restore_refuses_while_the_app_runs_and_not_after_a_crash(
    settings: Settings, tmp_path: Path
) -> None:
    backup = create_backup(settings, tmp_path).path
    with session_scope(settings) as s:
        from tools.users import add_user

        add_user(s, "late", "late-password-1")  # after the backup: a restore would drop it
    worker = _hold_app_lock(settings, "worker")
    try:
        r = runner.invoke(app, ["restore", str(backup), "--yes"])
        assert r.exit_code == 1
        assert "running" in _flat(r.output) and f"worker (pid {worker.pid})" in _flat(r.output)
        assert _count(settings, "user") == 1  # untouched
    finally:
        worker.kill()  # a crash: no clean-up ran, yet nothing stale is left behind
        worker.wait()
    result = restore_backup(settings, backup)
    assert _count(settings, "user") == 0
    assert result.safety_backup is not None  # the replaced data, kept
    assert read_manifest(result.safety_backup)["counts"]["user"] == 1


def test_nothing_starts_while_a_restore_holds_the_data_dir(settings: Settings) -> None:
    from tools.runstate import RestoreInProgress, announce, exclusive

    with exclusive(settings), pytest.raises(RestoreInProgress, match="restore is in progress"):
        announce(settings, "worker")
    r = runner.invoke(app, ["backup"])
    assert r.exit_code == 0  # the restore is over: the lock went with it


def _tar_with(path: Path, entries: dict[str, bytes]) -> Path:
    with tarfile.open(path, "w:gz") as tar:
        for name, data in entries.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


@pytest.mark.parametrize(
    "case",
    ["not-a-backup", "escaping-entry", "truncated", "other-db", "newer-schema", "bad-manifest"],
)
def test_restore_refuses_a_bad_file_and_keeps_the_data(
    settings: Settings, tmp_path: Path, case: str
) -> None:
    with session_scope(settings) as s:
        from tools.users import add_user

        add_user(s, "keeper", "keeper-password-1")
    good = create_backup(settings, tmp_path).path
    manifest = b'{"format": 1, "database": "sqlite", "revision": "%s", "counts": {}}'
    head = (head_revision() or "").encode()
    bad = tmp_path / f"{case}.tar.gz"
    if case == "not-a-backup":
        bad.write_bytes(b"hello")
        expected = "not a readable backup"
    elif case == "escaping-entry":
        _tar_with(bad, {"manifest.json": manifest % head, "chat_files/../../escaped.txt": b"x"})
        expected = "refusing to restore"
    elif case == "truncated":
        bad.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
        expected = "damaged"
    elif case == "other-db":
        _tar_with(bad, {"manifest.json": manifest.replace(b"sqlite", b"postgresql") % head})
        expected = "DATABASE_URL points to sqlite"
    elif case == "newer-schema":
        _tar_with(bad, {"manifest.json": manifest % b"9999"})
        expected = "newer than this version"
    else:
        _tar_with(bad, {"manifest.json": manifest.replace(b"{}", b"[1]") % head})
        expected = "not an Agent Arbitrage backup (bad manifest)"
    r = runner.invoke(app, ["restore", str(bad), "--yes"])
    assert r.exit_code == 1
    assert expected in _flat(r.output)
    assert not (tmp_path / "escaped.txt").exists() and not Path("escaped.txt").exists()
    assert _count(settings, "user") == 1


def test_an_older_backup_is_migrated_on_restore(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from alembic import command

    from tools.db import alembic_config, current_revision

    old = _use_data_dir(monkeypatch, tmp_path / "old")
    old.ensure_dirs()
    command.upgrade(alembic_config(old.sqlalchemy_url), "0007")
    backup = create_backup(old, tmp_path).path
    assert read_manifest(backup)["revision"] == "0007"
    fresh = _use_data_dir(monkeypatch, tmp_path / "new")
    restore_backup(fresh, backup)
    assert current_revision(fresh) == head_revision()


def test_nightly_backups_keep_the_newest(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, redis_url: str
) -> None:
    from workers.celery_app import backup_schedule

    monkeypatch.setenv("BACKUP_DIR", str(tmp_path / "nightly"))
    monkeypatch.setenv("BACKUP_KEEP", "2")
    monkeypatch.setenv("BACKUP_HOUR", "4")
    reset_settings_cache()
    s = get_settings()
    manual = create_backup(s).path
    made = [nightly_backup(s)["path"] for _ in range(3)]
    left = sorted(p.name for p in s.backups_dir.iterdir())
    assert left == sorted([manual.name, Path(made[1]).name, Path(made[2]).name])
    entry = backup_schedule()["backup"]
    schedule = entry["schedule"]
    assert entry["task"] == "workers.backup.nightly" and getattr(schedule, "hour", None) == {4}
    monkeypatch.setenv("BACKUP_KEEP", "0")
    reset_settings_cache()
    assert "off" in nightly_backup(get_settings())["skipped"]
    assert backup_schedule() == {}


def test_the_nightly_task_shows_in_status(settings: Settings, redis_url: str) -> None:
    from workers.backup import nightly
    from workers.status import gather

    result = nightly.apply().get()
    assert Path(result["path"]).is_file()
    task = gather(settings)["tasks"]["backup"]
    assert task["last_ok"] is True


@pytest.mark.postgres
def test_postgres_backup_without_pg_dump_says_what_to_install(
    pg_settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no client tools here
    r = runner.invoke(app, ["backup", str(tmp_path)])
    assert r.exit_code == 1
    assert "pg_dump not found: install the PostgreSQL client tools" in _flat(r.output)
    assert list(tmp_path.glob("*.tar.gz*")) == []  # no half-written backup left


@pytest.mark.postgres
def test_postgres_backup_under_load_and_restore(pg_settings: Settings, tmp_path: Path) -> None:
    from tools.db import migrate

    migrate(pg_settings)
    with get_engine(pg_settings).begin() as conn:
        conn.execute(
            text(
                "INSERT INTO deal (asin, shipping_included, status, priority, last_seen_utc, "
                "created_at, updated_at) VALUES (:a, false, 'active', 1, now(), now(), now())"
            ),
            [{"a": f"B{i:09d}"} for i in range(2000)],
        )
    writer = Writer(pg_settings)
    writer.start()
    writer.wait_for(10)
    backup = create_backup(pg_settings, tmp_path)
    writer.wait_for(10)
    writer.stop.set()
    writer.join()
    assert writer.errors == []
    counts = backup.manifest["counts"]
    assert 2010 <= counts["deal"] <= _count(pg_settings, "deal")
    with get_engine(pg_settings).begin() as conn:
        conn.execute(text("DELETE FROM deal"))

    import psycopg

    from tools.backup.postgres import conn_env

    env = conn_env(pg_settings.sqlalchemy_url)
    with (
        psycopg.connect(
            host=env["PGHOST"],
            port=env["PGPORT"],
            user=env["PGUSER"],
            dbname=env["PGDATABASE"],
            application_name="chat on web-2",
        ),
        pytest.raises(BackupError, match=r"other clients are connected.*chat on web-2"),
    ):
        restore_backup(pg_settings, backup.path)
    result = restore_backup(pg_settings, backup.path)
    assert result.counts == counts
    assert _count(pg_settings, "deal") == counts["deal"]
