"""Chainlit history on the app's own database (tables from migration 0003_chainlit_history).

Chainlit's SQLAlchemy data layer needs two fixes to work on SQLite with chat profiles: thread
tags are a Python list (SQLite has no arrays, so they are stored JSON-encoded) and JSON columns
come back as strings on SQLite (decoded here so resumed threads look the same on PostgreSQL).
A deal table's row holds its props and a chart's row its data URL, so a resumed thread shows
them with no file at all; other elements (an admin's upload) are kept by a small storage client
in the data directory and read back as data URLs. Writes are batched (ArbitrageDataLayer).

Every write is the caller's own (chat_ui/actor.py says who the caller is). Chainlit passes on
ids the browser chose: a message's id (its upsert moved another user's step into the sender's
thread and overwrote it), an element's id and thread (the element endpoints), a feedback's
step and id. Here a socket session writes only into its own thread, an HTTP request only into
threads its user owns, and an upsert never takes over a row of another thread (the UPDATE of
`ON CONFLICT` applies only when the existing row is in the same thread / on the same step).
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import re
import uuid
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict
from functools import lru_cache
from pathlib import Path
from typing import Any, NoReturn

from chainlit.data.sql_alchemy import SQLAlchemyDataLayer
from chainlit.data.storage_clients.base import BaseStorageClient
from chainlit.data.utils import queue_until_user_message
from chainlit.types import ThreadDict
from sqlalchemy import Engine, TextClause, text

from chat_ui.actor import ThreadAccessDenied, current_actor, note_refusal
from tools.db import make_engine
from tools.settings import Settings

log = logging.getLogger(__name__)

# The frontend reads stored elements (tables, charts) as data URLs; larger files are not kept.
MAX_ELEMENT_BYTES = 2_000_000
MAX_KNOWN_THREADS = 100_000
REFUSED_EXCERPT = 300  # what is kept of a message over the length cap (the chat refuses it)
# Queued history writes are committed together this often (a crash loses at most this much;
# Chainlit's own writes are fire-and-forget tasks too).
FLUSH_S = 0.05
_WRITE = re.compile(r"\s*(INSERT|UPDATE|DELETE)\b", re.IGNORECASE)


def async_database_url(settings: Settings) -> str:
    """The app's database URL with an async driver (aiosqlite / psycopg async)."""
    url = settings.sqlalchemy_url
    if url.startswith("sqlite:"):
        return "sqlite+aiosqlite:" + url[len("sqlite:") :]
    if url.startswith("postgresql+psycopg:"):
        return url  # SQLAlchemy picks psycopg's async connection under create_async_engine
    if url.startswith("postgresql:"):
        return "postgresql+psycopg:" + url[len("postgresql:") :]
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

    async def upload_file(
        self,
        object_key: str,
        data: bytes | str,
        mime: str = "application/octet-stream",
        overwrite: bool = True,
        content_disposition: str | None = None,
    ) -> dict[str, Any]:
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


@lru_cache(maxsize=512)
def _text(query: str) -> TextClause:
    """Chainlit's statements repeat (one per step shape): parse each one once."""
    return text(query)


def _decode(value: Any, default: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return default
    return default if value is None else value


class ArbitrageDataLayer(SQLAlchemyDataLayer):
    """SQLAlchemyDataLayer with cheap writes, JSON-encoded thread tags and decoded JSON columns.

    Chainlit writes history as it happens: every step is inserted and updated, every message
    and element inserted, each in its own session and transaction on the async driver (a
    dozen thread hand-offs per statement with aiosqlite). Under 50 busy chats that was about a
    third of the server's CPU. Here every statement goes through `execute_sql` (the one place
    the base class touches the database): writes are queued and committed together, one
    transaction per FLUSH_S, and reads first send the queued writes, on one database thread
    with a plain (sync) engine, so a read always sees the writes queued before it. A write
    that fails is retried alone, so one bad row never loses the batch; it is logged and
    dropped, as the base class does.

    Chainlit also calls `update_thread(thread_id)` (no changes, just "make sure it exists")
    before every step it writes; threads this process has written are remembered, so that
    SELECT is skipped.
    """

    def __init__(
        self,
        *args: Any,
        sync_url: str,
        flush_s: float = FLUSH_S,
        max_message_chars: int | None = None,
        forget_thread: Callable[[str], Awaitable[None]] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.max_message_chars = max_message_chars
        self._forget_thread = forget_thread
        self._known_threads: set[str] = set()
        self._thread_users: dict[str, str] = {}
        self._thread_owners: dict[str, str] = {}  # thread id -> login name (never changes)
        self._sync_url = sync_url
        self._sync_engine: Engine | None = None
        # one thread: statements run in the order they were issued, on one connection
        self._db_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="chat-history")
        self._writes: list[tuple[str, dict[str, Any]]] = []
        self._flush_handle: asyncio.TimerHandle | None = None
        self._inflight: set[asyncio.Future[None]] = set()
        self.flush_s = flush_s

    # ---- the one door to the database ------------------------------------------------------

    async def execute_sql(self, query: str, parameters: dict) -> list[dict[str, Any]] | int | None:
        loop = asyncio.get_running_loop()
        if _WRITE.match(query):
            self._writes.append((query, dict(parameters)))
            if self._flush_handle is None:
                self._flush_handle = loop.call_later(self.flush_s, self._flush_soon)
            return None
        self._send_writes(loop)  # the read queues behind them on the one database thread
        return await loop.run_in_executor(self._db_thread, self._read, query, parameters)

    async def flush(self) -> None:
        """Commit every queued write (reads do not need this: they queue behind them)."""
        self._send_writes(asyncio.get_running_loop())
        if self._inflight:
            await asyncio.gather(*self._inflight)

    def _flush_soon(self) -> None:
        self._flush_handle = None
        self._send_writes(asyncio.get_running_loop())

    def _send_writes(self, loop: asyncio.AbstractEventLoop) -> None:
        if self._flush_handle is not None:
            self._flush_handle.cancel()
            self._flush_handle = None
        if not self._writes:
            return
        batch, self._writes = self._writes, []
        future = loop.run_in_executor(self._db_thread, self._write_batch, batch)
        self._inflight.add(future)
        future.add_done_callback(self._inflight.discard)

    def _engine(self) -> Engine:
        if self._sync_engine is None:
            self._sync_engine = make_engine(self._sync_url)
        return self._sync_engine

    def _write_batch(self, batch: list[tuple[str, dict[str, Any]]]) -> None:
        try:
            with self._engine().begin() as conn:
                for query, params in batch:
                    conn.execute(_text(query), params)
            return
        except Exception as e:  # retried one by one below, so one bad row loses only itself
            if len(batch) == 1:
                log.warning("chat history write failed: %s", e)
                return
        for item in batch:
            self._write_batch([item])

    def _read(self, query: str, params: dict[str, Any]) -> list[dict[str, Any]] | int | None:
        try:
            with self._engine().connect() as conn:
                result = conn.execute(_text(query), params)
                if not result.returns_rows:
                    conn.commit()
                    return result.rowcount
                return self.clean_result([dict(row._mapping) for row in result.fetchall()])
        except Exception as e:  # the base class logs and returns None as well
            log.warning("chat history read failed: %s", e)
            return None

    async def close(self) -> None:
        await self.flush()
        self._db_thread.shutdown(wait=True)
        if self._sync_engine is not None:
            self._sync_engine.dispose()
        await super().close()

    # ---- every write is the caller's own ----------------------------------------------------

    def _refuse(self, what: str) -> NoReturn:
        reason = f"You can only change your own conversations ({what} is not in one of them)."
        log.warning("refused a chat history write: %s", what)
        note_refusal(reason)
        raise ThreadAccessDenied(reason)

    def _remember_owner(self, thread_id: str, owner: str) -> None:
        if len(self._thread_owners) >= MAX_KNOWN_THREADS:  # bounded; forgetting is only slower
            self._thread_owners.clear()
        self._thread_owners[thread_id] = owner

    async def _owner(self, thread_id: str) -> str | None:
        """The login name a thread belongs to (None: no such thread, or no owner yet)."""
        if thread_id in self._thread_owners:
            return self._thread_owners[thread_id]
        rows = await self.execute_sql(
            'SELECT "userIdentifier" FROM threads WHERE "id" = :id', {"id": thread_id}
        )
        owner = rows[0].get("userIdentifier") if isinstance(rows, list) and rows else None
        if owner:
            self._remember_owner(thread_id, str(owner))
        return str(owner) if owner else None

    async def _check_thread(self, thread_id: str | None, what: str) -> None:
        """Refuse (ThreadAccessDenied) a write that is not into the caller's own thread."""
        actor = current_actor()
        if actor is None:  # no request in progress: the server's own code
            return
        if not thread_id or actor.identifier is None:
            self._refuse(what)
        if actor.thread_id is not None:
            # A socket session writes into its own thread only; Chainlit checked that thread's
            # owner when the session connected, and a thread's owner never changes.
            known = self._thread_owners.get(thread_id)
            if thread_id != actor.thread_id or known not in (None, actor.identifier):
                self._refuse(what)
            return
        if await self._owner(thread_id) != actor.identifier:
            self._refuse(what)

    async def _thread_of(self, table: str, row_id: str) -> str | None:
        rows = await self.execute_sql(
            f'SELECT "threadId" FROM {table} WHERE "id" = :id', {"id": row_id}
        )
        return rows[0].get("threadId") if isinstance(rows, list) and rows else None

    async def _upsert(self, table: str, row: dict[str, Any], same: str) -> None:
        """INSERT, or UPDATE the existing row only when its `same` column matches (a row of
        another thread or step is left as it is)."""
        columns = ", ".join(f'"{c}"' for c in row)
        values = ", ".join(f":{c}" for c in row)
        updates = ", ".join(f'"{c}" = :{c}' for c in row if c != "id")
        await self.execute_sql(
            f"INSERT INTO {table} ({columns}) VALUES ({values}) "
            f'ON CONFLICT ("id") DO UPDATE SET {updates} '
            f'WHERE {table}."{same}" = :{same}',
            row,
        )

    # ---- threads ---------------------------------------------------------------------------

    async def update_thread(
        self,
        thread_id: str,
        name: str | None = None,
        user_id: str | None = None,
        metadata: dict | None = None,
        tags: list[str] | None = None,
    ) -> None:
        await self._check_thread(thread_id, "this conversation")
        actor = current_actor()
        if user_id and actor is not None and actor.user_id not in (None, user_id):
            self._refuse("this conversation")  # nobody hands a thread to another user
        if (
            thread_id in self._known_threads
            and name is None
            and user_id is None
            and metadata is None
            and tags is None
        ):
            return
        encoded = json.dumps(tags) if tags is not None else None
        await super().update_thread(
            thread_id,
            name=name,
            user_id=user_id,
            metadata=metadata,
            tags=encoded,  # type: ignore[arg-type]  # stored JSON-encoded, decoded on read
        )
        if len(self._known_threads) >= MAX_KNOWN_THREADS:  # bounded; forgetting is only slower
            self._known_threads.clear()
            self._thread_users.clear()
        self._known_threads.add(thread_id)
        if user_id:
            self._thread_users[thread_id] = user_id
            if actor is not None and actor.identifier and actor.user_id == user_id:
                self._remember_owner(thread_id, actor.identifier)

    async def _get_user_id_by_thread(self, thread_id: str) -> str | None:
        # every element asks; a thread's user never changes once set
        if thread_id in self._thread_users:
            return self._thread_users[thread_id]
        return await super()._get_user_id_by_thread(thread_id)

    async def delete_thread(self, thread_id: str) -> None:
        """The chat and its agent checkpoints: first the checkpoints (if that fails, the chat
        stays and can be deleted again), so no history outlives its chat."""
        await self._check_thread(thread_id, "this conversation")
        if self._forget_thread is not None:
            await self._forget_thread(thread_id)
        self._known_threads.discard(thread_id)
        self._thread_users.pop(thread_id, None)
        self._thread_owners.pop(thread_id, None)
        await super().delete_thread(thread_id)

    # ---- steps -----------------------------------------------------------------------------

    @queue_until_user_message()
    async def create_step(self, step_dict: Any) -> None:
        """Chainlit's step upsert, into the caller's thread only, never moving a step."""
        thread_id = step_dict.get("threadId")
        await self._check_thread(thread_id, "this message")
        await self.update_thread(thread_id)
        row = {
            k: v
            for k, v in step_dict.items()
            if v is not None and not (isinstance(v, dict) and not v)
        }
        if "showInput" in step_dict:
            row["showInput"] = str(step_dict.get("showInput", "")).lower()
        row["metadata"] = json.dumps(step_dict.get("metadata", {}))
        row["generation"] = json.dumps(step_dict.get("generation", {}))
        limit = self.max_message_chars
        if limit:  # what a user sent (the message, and the input of the step that ran it)
            # the chat refuses a longer message (chat_ui/app.py): only its start is kept
            fields = ("input", "output") if step_dict.get("type") == "user_message" else ("input",)
            for name in fields:
                value = row.get(name)
                if isinstance(value, str) and len(value) > limit:
                    row[name] = (
                        value[:REFUSED_EXCERPT] + f" … [{len(value):,} characters, "
                        f"not stored: messages are limited to {limit:,} characters]"
                    )
        await self._upsert("steps", row, same="threadId")

    @queue_until_user_message()
    async def update_step(self, step_dict: Any) -> None:
        await self.create_step(step_dict)

    @queue_until_user_message()
    async def delete_step(self, step_id: str) -> None:
        thread_id = await self._thread_of("steps", step_id)
        if thread_id is None:
            return
        await self._check_thread(thread_id, "this message")
        await super().delete_step(step_id)

    # ---- feedback --------------------------------------------------------------------------

    async def upsert_feedback(self, feedback: Any) -> str:
        """Feedback only on a step of the caller's own thread (and recorded in that thread)."""
        thread_id = await self._thread_of("steps", feedback.forId)
        await self._check_thread(thread_id, "that message")
        if feedback.id:
            rows = await self.execute_sql(
                'SELECT "forId" FROM feedbacks WHERE "id" = :id', {"id": feedback.id}
            )
            if isinstance(rows, list) and rows and rows[0].get("forId") != feedback.forId:
                self._refuse("that feedback")
        feedback.threadId = thread_id
        feedback.id = feedback.id or str(uuid.uuid4())
        row = {k: v for k, v in asdict(feedback).items() if v is not None}
        await self._upsert("feedbacks", row, same="forId")
        return str(feedback.id)

    async def delete_feedback(self, feedback_id: str) -> bool:
        rows = await self.execute_sql(
            'SELECT f."threadId" AS feedback_thread, s."threadId" AS step_thread FROM feedbacks '
            'f LEFT JOIN steps s ON s."id" = f."forId" WHERE f."id" = :id',
            {"id": feedback_id},
        )
        if not (isinstance(rows, list) and rows):
            return True
        await self._check_thread(
            rows[0].get("step_thread") or rows[0].get("feedback_thread"), "that feedback"
        )
        return await super().delete_feedback(feedback_id)

    # ---- elements --------------------------------------------------------------------------

    @queue_until_user_message()
    async def create_element(self, element: Any) -> None:
        """Deal tables keep their rows in `props` and charts come as data URLs: their row is
        the whole element, with no file to store; other elements (an admin's upload) are
        stored by the storage client first. Only into the caller's thread, never over an
        element of another thread."""
        if not element.for_id:
            return
        await self._check_thread(element.thread_id, "this element")
        row = {k: v for k, v in element.to_dict().items() if v is not None}
        inline = element.type == "custom" or str(element.url or "").startswith("data:")
        if not inline:
            stored = await self._store_file(element)
            if stored is None:
                return
            row.update(stored)
        if "props" in row:
            row["props"] = json.dumps(row["props"])
        await self._upsert("elements", row, same="threadId")

    async def _store_file(self, element: Any) -> dict[str, Any] | None:
        """Put an element's file in the storage client: its url and object key for the row."""
        if element.path:
            content: bytes | str | None = await asyncio.to_thread(Path(element.path).read_bytes)
        else:
            content = element.content
        if content is None:  # a plain link: the row keeps the url, there is no file to keep
            return {}
        if self.storage_provider is None:
            log.warning("no storage client: element %s not kept", element.id)
            return None
        user_id = await self._get_user_id_by_thread(element.thread_id) or "unknown"
        key = f"{user_id}/{element.id}" + (f"/{element.name}" if element.name else "")
        uploaded = await self.storage_provider.upload_file(
            object_key=key,
            data=content,
            mime=element.mime or "application/octet-stream",
            overwrite=True,
        )
        if not uploaded:
            log.warning("element %s not kept: over %d bytes", element.id, MAX_ELEMENT_BYTES)
            return None
        return {"url": uploaded.get("url"), "objectKey": uploaded.get("object_key")}

    @queue_until_user_message()
    async def delete_element(self, element_id: str, thread_id: str | None = None) -> None:
        actual = await self._thread_of("elements", element_id)
        if actual is None:
            return
        await self._check_thread(actual, "this element")
        await super().delete_element(element_id, thread_id)

    async def get_all_user_threads(
        self, user_id: str | None = None, thread_id: str | None = None
    ) -> list[ThreadDict] | None:
        threads = await super().get_all_user_threads(user_id=user_id, thread_id=thread_id)
        for thread in threads or []:
            thread["tags"] = _decode(thread.get("tags"), [])
            thread["metadata"] = _decode(thread.get("metadata"), {})
            for step in thread.get("steps", []):
                step["metadata"] = _decode(step.get("metadata"), {})
                step["generation"] = _decode(step.get("generation"), None)
            for element in thread.get("elements") or []:
                element["props"] = _decode(element.get("props"), {})
        return threads


def make_data_layer(
    settings: Settings, forget_thread: Callable[[str], Awaitable[None]] | None = None
) -> ArbitrageDataLayer:
    """`forget_thread(thread_id)` deletes a deleted chat's agent checkpoints (the app passes
    chat_ui.agent_bridge.forget_thread)."""
    return ArbitrageDataLayer(
        conninfo=async_database_url(settings),
        sync_url=settings.sqlalchemy_url,
        storage_provider=LocalFileStorage(settings.data_dir / "chat_files"),
        max_message_chars=settings.max_message_chars,
        forget_thread=forget_thread,
    )
