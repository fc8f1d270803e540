"""SQLite: a consistent copy of a live database, checked, and put back in place."""

from __future__ import annotations

import contextlib
import shutil
import sqlite3
from pathlib import Path

from tools.backup.archive import BackupError

BUSY_TIMEOUT_S = 30.0


def online_copy(src: Path, dest: Path) -> None:
    """Copy a live database through SQLite's online backup API, in one step.

    One step reads one snapshot: in WAL mode the writers carry on meanwhile. A stepwise copy
    restarts whenever another connection commits, so under steady writes it might never end.
    The copy is switched to a rollback journal so it is a single self-contained file.
    """
    if not src.is_file():
        raise BackupError(f"no database at {src}: nothing to back up (`arbitrage up` creates it)")
    source = sqlite3.connect(src, timeout=BUSY_TIMEOUT_S)
    try:
        target = sqlite3.connect(dest)
        try:
            source.backup(target)
            target.execute("PRAGMA journal_mode=DELETE")
        finally:
            target.close()
    except sqlite3.Error as err:
        raise BackupError(f"copying {src} failed: {err}") from None
    finally:
        source.close()


def checked_counts(path: Path) -> dict[str, int]:
    """Rows per table of a database file, after SQLite's integrity check passed."""
    conn = sqlite3.connect(path)
    try:
        result = [r[0] for r in conn.execute("PRAGMA integrity_check")]
        if result != ["ok"]:
            raise BackupError(
                f"{path.name} failed SQLite's integrity check: {'; '.join(result[:3])}"
            )
        tables = [
            r[0]
            for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
                "ORDER BY name"
            )
        ]
        return {t: conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}
    except sqlite3.DatabaseError as err:
        raise BackupError(f"{path.name} is not a usable SQLite database: {err}") from None
    finally:
        conn.close()


def revision(path: Path) -> str | None:
    """The Alembic revision stored in a database file (None before the first migration)."""
    conn = sqlite3.connect(path)
    try:
        row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.DatabaseError:
        return None
    finally:
        conn.close()
    return str(row[0]) if row else None


def install(copy: Path, target: Path) -> None:
    """Put a checked copy where the app reads its database (nothing may have it open).

    The old write-ahead log goes first: left beside the new file, SQLite would replay the
    old database's last commits onto it.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("-wal", "-shm", "-journal"):
        with contextlib.suppress(FileNotFoundError):
            target.with_name(target.name + suffix).unlink()
    shutil.move(copy, target)


def remove(target: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        with contextlib.suppress(FileNotFoundError):
            target.with_name(target.name + suffix).unlink()
