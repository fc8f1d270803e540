"""PostgreSQL: pg_dump on an exported snapshot (counted in the same snapshot), pg_restore.

The client tools run with the connection taken apart into PG* environment variables, so the
password never appears on a command line (other users can read those in `ps`).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import make_url

from tools.backup.archive import BackupError
from tools.db import dispose_engines, get_engine
from tools.settings import Settings

_LIBPQ_QUERY = ("sslmode", "sslrootcert", "sslcert", "sslkey", "host", "port", "options")
TOOL_HELP = (
    "install the PostgreSQL client tools (Debian/Ubuntu: apt install postgresql-client; "
    "the same major version as the server or newer)"
)


def conn_env(url: str) -> dict[str, str]:
    u = make_url(url)
    env = dict(os.environ)
    value: object
    for var, value in (
        ("PGHOST", u.host),
        ("PGPORT", u.port),
        ("PGUSER", u.username),
        ("PGPASSWORD", u.password),
        ("PGDATABASE", u.database),
    ):
        if value is not None:
            env[var] = str(value)
    for key in _LIBPQ_QUERY:
        value = u.query.get(key)
        if isinstance(value, str):
            env["PG" + key.upper()] = value
    return env


def _tool(name: str) -> str:
    path = shutil.which(name)
    if not path:
        raise BackupError(f"{name} not found: {TOOL_HELP}")
    return path


def _run(args: list[str], env: dict[str, str]) -> None:
    proc = subprocess.run(args, env=env, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        tail = " ".join((proc.stderr or proc.stdout).strip().splitlines()[-3:])
        raise BackupError(f"{Path(args[0]).name} failed (exit {proc.returncode}): {tail}")


def dump(settings: Settings, out: Path) -> tuple[dict[str, int], str | None]:
    """pg_dump of the public schema, and its row counts, both from one snapshot."""
    pg_dump = _tool("pg_dump")
    conn = get_engine(settings).connect().execution_options(isolation_level="REPEATABLE READ")
    try:
        with conn.begin():
            snapshot = conn.execute(text("SELECT pg_export_snapshot()")).scalar_one()
            counts = table_counts(conn)
            rev = (
                conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
                if "alembic_version" in counts
                else None
            )
            _run(
                [
                    pg_dump,
                    "--format=custom",
                    "--no-owner",
                    "--no-privileges",
                    "--schema=public",
                    f"--snapshot={snapshot}",
                    f"--file={out}",
                ],
                conn_env(settings.sqlalchemy_url),
            )
    finally:
        conn.close()
    return counts, rev


def table_counts(conn: Any) -> dict[str, int]:
    tables = [
        r[0]
        for r in conn.execute(
            text("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")
        )
    ]
    return {
        t: conn.execute(text(f'SELECT count(*) FROM public."{t}"')).scalar_one() for t in tables
    }


def other_sessions(settings: Settings) -> list[str]:
    """Other clients connected to the database (on any machine): a restore must wait."""
    with get_engine(settings).connect() as conn:
        rows = conn.execute(
            text(
                "SELECT pid, usename, application_name, client_addr FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid() "
                "AND backend_type = 'client backend'"
            )
        ).all()
    return [
        f"pid {r[0]} ({r[1]}{', ' + r[2] if r[2] else ''} from {r[3] or 'local socket'})"
        for r in rows
    ]


def has_schema(settings: Settings) -> bool:
    with get_engine(settings).connect() as conn:
        return bool(
            conn.execute(
                text("SELECT 1 FROM pg_tables WHERE schemaname = 'public' LIMIT 1")
            ).first()
        )


def restore(settings: Settings, dump_file: Path) -> dict[str, int]:
    """Replace the public schema with the dump's; returns the restored row counts."""
    pg_restore = _tool("pg_restore")
    with get_engine(settings).begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
    dispose_engines()
    env = conn_env(settings.sqlalchemy_url)
    _run(
        [
            pg_restore,
            "--no-owner",
            "--no-privileges",
            "--single-transaction",
            "--exit-on-error",
            f"--dbname={env.get('PGDATABASE', '')}",
            str(dump_file),
        ],
        env,
    )
    with get_engine(settings).connect() as conn:
        return table_counts(conn)
