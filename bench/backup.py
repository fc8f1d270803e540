"""Backup and restore of a full SQLite install while a writer keeps committing.

Fills 100,000 deals (bench/query.py's generator) plus their checkpoints file, then runs
`create_backup` while a thread commits one deal at a time, and restores the file into a fresh
DATA_DIR. Prints one JSON document: backup and restore seconds, database and archive sizes,
the writer's commits per second before and during the backup and its longest wait for one
commit (the backup must not stop the app's writers), and whether the restored row counts match
the manifest. Target: restored counts equal, longest commit wait under 1 s.

    .venv/bin/python bench/backup.py [--deals 100000] [--data-dir DIR]

--data-dir keeps the filled database there and reuses it on the next run.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import sqlite3
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tools.backup.service import create_backup, restore_backup  # noqa: E402
from tools.db import dispose_engines, get_engine, migrate, session_scope  # noqa: E402
from tools.models import Deal  # noqa: E402
from tools.settings import Settings  # noqa: E402

MAX_COMMIT_WAIT_S = 1.0


def _load_fill() -> Any:
    spec = importlib.util.spec_from_file_location("bench_query", ROOT / "bench" / "query.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.fill


class Writer(threading.Thread):
    """Commits one deal at a time; records when each commit finished."""

    def __init__(self, settings: Settings) -> None:
        super().__init__(daemon=True)
        self.settings = settings
        self.done: list[float] = []
        self.longest = 0.0
        self.stop = threading.Event()

    def run(self) -> None:
        n = 0
        while not self.stop.is_set():
            started = time.perf_counter()
            with session_scope(self.settings) as s:
                s.add(Deal(asin=f"W{n:09d}", title="written during the backup"))
            now = time.perf_counter()
            self.longest = max(self.longest, now - started)
            self.done.append(now)
            n += 1
            time.sleep(0.002)  # an app's steady trickle, not a write storm

    def rate(self, start: float, end: float) -> float:
        return round(sum(start <= t < end for t in self.done) / max(end - start, 1e-9), 1)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--deals", type=int, default=100_000)
    ap.add_argument("--data-dir", type=Path, default=None)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        source = Settings(data_dir=args.data_dir or Path(tmp) / "live")
        reuse = (source.data_dir / "arbitrage.db").exists()
        migrate(source)
        t = time.perf_counter()
        if not reuse:
            _load_fill()(get_engine(source), args.deals)
            with sqlite3.connect(source.data_dir / "checkpoints.db") as conn:  # agent memory
                conn.execute("CREATE TABLE IF NOT EXISTS checkpoints (thread_id, blob)")
                conn.executemany(
                    "INSERT INTO checkpoints VALUES (?, ?)",
                    [
                        (f"t{i}", (f"turn {i}: best deals under $30 " * 64).encode())
                        for i in range(5_000)
                    ],
                )
        fill_s = time.perf_counter() - t
        writer = Writer(source)
        writer.start()
        time.sleep(3.0)
        writer.longest = 0.0  # only waits during the backup count
        t0 = time.perf_counter()
        result = create_backup(source, Path(tmp))
        t1 = time.perf_counter()
        longest = writer.longest
        time.sleep(1.0)
        writer.stop.set()
        writer.join()
        dispose_engines()
        target = Settings(data_dir=Path(tmp) / "restored")
        t2 = time.perf_counter()
        restored = restore_backup(target, result.path)
        restore_s = time.perf_counter() - t2
        dispose_engines()
        counts_match = restored.counts == result.manifest["counts"]
        db_mb = (source.data_dir / "arbitrage.db").stat().st_size / 1e6
        report = {
            "benchmark": "backup and restore under writes",
            "database": "sqlite (file, WAL)",
            "deals": result.manifest["counts"]["deal"],
            "cpu_count": os.cpu_count(),
            "load_avg_1m": round(os.getloadavg()[0], 2),
            "fill_seconds": round(fill_s, 1),
            "database_mb": round(db_mb, 1),
            "archive_mb": round(result.path.stat().st_size / 1e6, 1),
            "backup_seconds": round(t1 - t0, 2),
            "restore_seconds": round(restore_s, 2),
            "writer_commits_per_s_before": writer.rate(t0 - 3.0, t0),
            "writer_commits_per_s_during": writer.rate(t0, t1),
            "writer_longest_commit_s_during": round(longest, 3),
            "restored_counts_match_manifest": counts_match,
            "target": f"counts match; longest commit wait < {MAX_COMMIT_WAIT_S} s",
        }
    ok = counts_match and longest < MAX_COMMIT_WAIT_S
    report["meets_target"] = ok
    print(json.dumps(report, indent=2))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
