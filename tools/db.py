"""Database engine and sessions, SQLite tuned for one writer at a time, migrations on start."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from sqlalchemy import Engine, Table, create_engine, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.pool import ConnectionPoolEntry
from sqlalchemy.sql.dml import Insert
from sqlmodel import Session, SQLModel

from tools.settings import Settings, get_settings

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
SQLITE_BUSY_TIMEOUT_MS = 30_000


def _sqlite_pragmas(dbapi_conn: DBAPIConnection, _record: ConnectionPoolEntry) -> None:
    # WAL lets readers run beside the one writer; busy_timeout turns "database is locked"
    # into a short wait instead of an error under concurrent workers.
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10)


_made: list[Engine] = []


@lru_cache(maxsize=8)
def _engine_for(url: str) -> Engine:
    engine = make_engine(url)
    _made.append(engine)
    return engine


def get_engine(settings: Settings | None = None) -> Engine:
    settings = settings or get_settings()
    return _engine_for(settings.sqlalchemy_url)


def dispose_engines() -> None:
    """Close and forget cached engines (tests switch DATABASE_URL between cases; a restore
    must not find this process's idle connections still open in the database)."""
    _engine_for.cache_clear()
    while _made:
        _made.pop().dispose()


@contextmanager
def session_scope(settings: Settings | None = None) -> Iterator[Session]:
    """A session that commits on success and rolls back on error."""
    with Session(get_engine(settings), expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except Exception:
            session.rollback()
            raise


UPSERT_DIALECTS = ("sqlite", "postgresql")
_UPSERTS: dict[tuple[str, str, tuple[str, ...], tuple[str, ...], str], Insert] = {}
UPSERT_CHUNK = 500  # rows per executemany


def _upsert_stmt(
    dialect: str, table: Table, columns: tuple[str, ...], key: tuple[str, ...], on_conflict: str
) -> Insert:
    """One cached ON CONFLICT statement per (table, columns, key): built once, so SQLAlchemy
    compiles it once (building `insert().values(row)` with `excluded[...]` per row cost ~10 ms
    of column proxying per deal, more than fetching and analysing it)."""
    cache_key = (dialect, table.name, columns, key, on_conflict)
    stmt = _UPSERTS.get(cache_key)
    if stmt is None:
        ins = sqlite.insert(table) if dialect == "sqlite" else postgresql.insert(table)
        changed = [c for c in columns if c not in key]
        if on_conflict == "update" and changed:
            stmt = ins.on_conflict_do_update(
                index_elements=list(key), set_={c: ins.excluded[c] for c in changed}
            )
        else:
            stmt = ins.on_conflict_do_nothing(index_elements=list(key))
        # psycopg reports -1 for an INSERT's rowcount unless SQLAlchemy is asked to keep it
        stmt = stmt.execution_options(preserve_rowcount=True)
        _UPSERTS[cache_key] = stmt
    return stmt


def table_of(model: type[SQLModel]) -> Table:
    """The Core table of a `table=True` model, for SQLAlchemy Core statements."""
    table = model.__table__  # type: ignore[attr-defined]  # SQLModel's typing omits __table__
    if not isinstance(table, Table):
        raise TypeError(f"{model.__name__} is not a table model")
    return table


def upsert(
    session: Session,
    table: Table | type[SQLModel],
    rows: Mapping[str, Any] | Iterable[Mapping[str, Any]],
    *,
    key: Sequence[str] | None = None,
    on_conflict: Literal["update", "nothing"] = "update",
) -> int:
    """Insert rows; a row whose `key` (default: the primary key) exists already gets the row's
    other columns written over it ("update"), or is left as stored ("nothing").

    One `INSERT ... ON CONFLICT` (SQLite and PostgreSQL spell it alike), so concurrent writers
    never race into duplicate-key errors and re-running is harmless. Columns a row does not
    name are never touched on update. Rows are grouped by their column set, one executemany
    each; the caller commits. Returns the rows the database reports as written.
    """
    tbl = table if isinstance(table, Table) else table_of(table)
    batch = [rows] if isinstance(rows, Mapping) else list(rows)
    if not batch:
        return 0
    dialect = session.get_bind().dialect.name
    if dialect not in UPSERT_DIALECTS:
        raise NotImplementedError(f"upsert supports sqlite and postgresql, not {dialect}")
    keys = tuple(key) if key is not None else tuple(c.name for c in tbl.primary_key.columns)
    groups: dict[tuple[str, ...], list[Mapping[str, Any]]] = {}
    for row in batch:
        groups.setdefault(tuple(row), []).append(row)
    conn = session.connection()
    written = 0
    for columns, group in groups.items():
        stmt = _upsert_stmt(dialect, tbl, columns, keys, on_conflict)
        for i in range(0, len(group), UPSERT_CHUNK):
            result = conn.execute(stmt, group[i : i + UPSERT_CHUNK])
            written += max(0, result.rowcount or 0)
    return written


def alembic_config(url: str) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


_REVISION = re.compile(r"^revision(?::[^=\n]*)?=\s*[\"']([^\"']+)[\"']", re.M)
_DOWN_REVISION = re.compile(
    r"^down_revision(?::[^=\n]*)?=\s*(?:[\"']([^\"']+)[\"']|None)\s*$", re.M
)


@lru_cache(maxsize=1)
def _file_heads() -> frozenset[str] | None:
    """The head revision(s) read from the migration files' headers, without importing alembic
    (a third of a second); None when a header does not read as plainly as ours (a merge), and
    then alembic decides."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (MIGRATIONS_DIR / "versions").glob("*.py"):
        source = path.read_text(encoding="utf-8")
        rev, down = _REVISION.search(source), _DOWN_REVISION.search(source)
        if rev is None or down is None:
            return None
        revisions.add(rev.group(1))
        if down.group(1):
            parents.add(down.group(1))
    return frozenset(revisions - parents) or None


def at_head(settings: Settings | None = None) -> bool:
    """Whether the database already has the newest schema (one query; False when unsure)."""
    from sqlalchemy import text
    from sqlalchemy.exc import SQLAlchemyError

    heads = _file_heads()
    if heads is None or len(heads) != 1:
        return False
    try:
        with get_engine(settings).connect() as conn:
            found = set(conn.execute(text("SELECT version_num FROM alembic_version")).scalars())
    except SQLAlchemyError:  # no database or no alembic_version yet
        return False
    return found == heads


def migrate(settings: Settings | None = None) -> None:
    """Bring the schema to the newest revision; safe to call on every start.

    Serialised across processes: a fresh deployment starts the chat and N workers at once,
    and two concurrent upgrades would both try to create the same tables. A database already
    at the head costs one query (`arbitrage ask` runs this on every question).
    """
    settings = settings or get_settings()
    settings.ensure_dirs()
    if at_head(settings):
        return
    from alembic import command

    with _migration_lock(settings):
        command.upgrade(alembic_config(settings.sqlalchemy_url), "head")


_PG_MIGRATION_LOCK = 0x4172_6269  # any fixed key; "Arbi"


@contextmanager
def _migration_lock(settings: Settings) -> Iterator[None]:
    """PostgreSQL: an advisory lock (every machine); SQLite: a file lock in DATA_DIR/run."""
    if settings.is_sqlite:
        import fcntl

        from tools.private_files import private_dir

        with open(private_dir(settings.data_dir / "run") / "migrate.lock", "w") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            yield
        return
    from sqlalchemy import text

    with get_engine(settings).connect() as conn:
        conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": _PG_MIGRATION_LOCK})
        conn.commit()
        try:
            yield
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _PG_MIGRATION_LOCK})
            conn.commit()


def current_revision(settings: Settings | None = None) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with get_engine(settings).connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision() -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
