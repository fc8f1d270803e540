"""Chainlit history on the app's own database (tables from migration 0003_chainlit_history).

Chainlit's SQLAlchemy data layer needs two fixes to work on SQLite with chat profiles: thread
tags are a Python list (SQLite has no arrays, so they are stored JSON-encoded) and JSON columns
come back as strings on SQLite (decoded here so resumed threads look the same on PostgreSQL).
Elements (deal tables, charts) are kept by a small storage client in the data directory and
read back as data URLs, so a resumed thread shows its tables and charts without a file server.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

from chainlit.data.sql_alchemy import SQLAlchemyDataLayer
from chainlit.data.storage_clients.base import BaseStorageClient
from chainlit.types import ThreadDict

from tools.settings import Settings

# The frontend reads stored elements (tables, charts) as data URLs; larger files are not kept.
MAX_ELEMENT_BYTES = 2_000_000
MAX_KNOWN_THREADS = 100_000


def async_database_url(settings: Settings) -> str:
    """The app's database URL with an async driver (aiosqlite / psycopg async)."""
    url = settings.sqlalchemy_url
    if url.startswith("sqlite:"):
        return "sqlite+aiosqlite:" + url[len("sqlite:"):]
    if url.startswith("postgresql+psycopg:"):
        return url  # SQLAlchemy picks psycopg's async connection under create_async_engine
    if url.startswith("postgresql:"):
        return "postgresql+psycopg:" + url[len("postgresql:"):]
    return url


class LocalFileStorage(BaseStorageClient):
    """Element files under DATA_DIR/chat_files, served back as data URLs."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()

    def _path(self, object_key: str) -> Path:
        path = (self.root / object_key).resolve()
        if not path.is_relative_to(self.root):
            raise ValueError(f"object key escapes the storage directory: {object_key!r}")
        return path

    async def upload_file(self, object_key: str, data: bytes | str,
                          mime: str = "application/octet-stream", overwrite: bool = True,
                          content_disposition: str | None = None) -> dict[str, Any]:
        raw = data.encode() if isinstance(data, str) else data
        if len(raw) > MAX_ELEMENT_BYTES:
            return {}
        path = self._path(object_key)
        if path.exists() and not overwrite:
            return {"object_key": object_key, "url": await self.get_read_url(object_key)}
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(raw)
        path.with_name(path.name + ".mime").write_text(mime)
        return {"object_key": object_key, "url": None}

    async def delete_file(self, object_key: str) -> bool:
        path = self._path(object_key)
        for p in (path, path.with_name(path.name + ".mime")):
            p.unlink(missing_ok=True)
        return True

    async def get_read_url(self, object_key: str) -> str:
        path = self._path(object_key)
        mime_file = path.with_name(path.name + ".mime")
        mime = mime_file.read_text() if mime_file.exists() else "application/octet-stream"
        return f"data:{mime};base64,{base64.b64encode(path.read_bytes()).decode()}"

    async def close(self) -> None:
        return None


def _decode(value: Any, default: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return default
    return default if value is None else value


class ArbitrageDataLayer(SQLAlchemyDataLayer):
    """SQLAlchemyDataLayer with JSON-encoded thread tags and decoded JSON columns.

    Chainlit calls `update_thread(thread_id)` (no changes, just "make sure it exists") before
    every step it writes: a SELECT round trip per step on the one SQLite connection all
    sessions share. Threads this process has seen are remembered, so that check is skipped.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._known_threads: set[str] = set()

    async def update_thread(self, thread_id: str, name: str | None = None,
                            user_id: str | None = None, metadata: dict | None = None,
                            tags: list[str] | None = None) -> None:
        if (thread_id in self._known_threads and name is None and user_id is None
                and metadata is None and tags is None):
            return
        encoded = json.dumps(tags) if tags is not None else None
        await super().update_thread(thread_id, name=name, user_id=user_id, metadata=metadata,
                                    tags=encoded)  # type: ignore[arg-type]
        if len(self._known_threads) >= MAX_KNOWN_THREADS:  # bounded; forgetting is only slower
            self._known_threads.clear()
        self._known_threads.add(thread_id)

    async def delete_thread(self, thread_id: str) -> None:
        self._known_threads.discard(thread_id)
        await super().delete_thread(thread_id)

    async def get_all_user_threads(self, user_id: str | None = None,
                                   thread_id: str | None = None) -> list[ThreadDict] | None:
        threads = await super().get_all_user_threads(user_id=user_id, thread_id=thread_id)
        for thread in threads or []:
            thread["tags"] = _decode(thread.get("tags"), [])
            thread["metadata"] = _decode(thread.get("metadata"), {})
            for step in thread.get("steps", []):
                step["metadata"] = _decode(step.get("metadata"), {})
                step["generation"] = _decode(step.get("generation"), None)
            for element in thread.get("elements", []):
                element["props"] = _decode(element.get("props"), {})  # type: ignore[typeddict-item]
        return threads


def make_data_layer(settings: Settings) -> ArbitrageDataLayer:
    connect_args: dict[str, Any] = {"timeout": 30} if settings.is_sqlite else {}
    layer = ArbitrageDataLayer(
        conninfo=async_database_url(settings),
        connect_args=connect_args,
        storage_provider=LocalFileStorage(settings.data_dir / "chat_files"),
    )
    if settings.is_sqlite:
        from sqlalchemy import event
        from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine
        from sqlalchemy.orm import sessionmaker

        # SQLite has one writer: with a pool, concurrent sessions' step writes collide and
        # wait in SQLite's busy handler (sleeps of up to 100 ms each). One connection makes
        # them queue in asyncio instead, which is much faster under load.
        layer.engine = create_async_engine(async_database_url(settings),
                                           connect_args=connect_args, pool_size=1,
                                           max_overflow=0, pool_timeout=60)
        layer.async_session = sessionmaker(bind=layer.engine, expire_on_commit=False,
                                           class_=AsyncSession)  # type: ignore[call-overload]

        @event.listens_for(layer.engine.sync_engine, "connect")
        def _pragmas(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

    return layer
