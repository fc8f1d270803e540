"""Drive a real chat server: start it, log in over HTTP, talk over its socket.io.

Shared by the e2e tests and bench/chat_load.py. The socket handshake mirrors Chainlit's own
frontend (chainlit/socket.py): the auth cookie from /login rides on the connection headers, and
the `auth` payload carries sessionId, clientType, chatProfile and threadId (to resume).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import socketio

REPO = Path(__file__).resolve().parents[2]
APP = REPO / "chat_ui" / "app.py"
SCRUBBED_ENV = (
    "CI",
    "DATABASE_URL",
    "KEEPA_API_KEY",
    "KEEPA_API_URL",
    "LLM_API_KEY",
    "OPENAI_API_KEY",
    "XAI_API_KEY",
    "LLM_BASE_URL",
    "LLM_MODEL",
    "SPAPI_CLIENT_ID",
    "SPAPI_CLIENT_SECRET",
    "SPAPI_REFRESH_TOKEN",
    "SPAPI_SELLER_ID",
    "SPAPI_ENDPOINT",
    "SPAPI_LWA_URL",
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class ChatServer:
    """The chat server as `arbitrage up` starts it (`python -m chat_ui.serve`, one or more
    worker processes) as a child process on 127.0.0.1; `launcher="chainlit"` runs
    `chainlit run chat_ui/app.py --headless` instead (for comparisons)."""

    data_dir: Path
    port: int = 0
    extra_env: dict[str, str] = field(default_factory=dict)
    proc: subprocess.Popen[bytes] | None = None
    log_path: Path | None = None
    launcher: str = "serve"
    workers: int = 1

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        # CI must go: Chainlit reads it as --ci and then replaces OPENAI_API_KEY.
        env = {k: v for k, v in os.environ.items() if k not in SCRUBBED_ENV}
        env.update(
            {
                "DATA_DIR": str(self.data_dir),
                "CHAINLIT_AUTH_SECRET": "e2e-" + uuid.uuid4().hex,
                "CHAINLIT_APP_ROOT": str(APP.parent),
                "SECRET_KEY": "e2e-secret-key-" + uuid.uuid4().hex,
                "PYTHONUNBUFFERED": "1",
            }
        )
        env.update(self.extra_env)
        return env

    def argv(self) -> list[str]:
        if self.launcher == "chainlit":  # what `arbitrage up` ran before chat_ui/serve.py
            return [
                sys.executable,
                "-m",
                "chainlit",
                "run",
                str(APP),
                "--headless",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
            ]
        return [
            sys.executable,
            "-m",
            "chat_ui.serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--workers",
            str(self.workers),
        ]

    def start(self, timeout: float = 60.0) -> ChatServer:
        self.port = self.port or free_port()
        self.log_path = self.data_dir / "chainlit.log"
        log = open(self.log_path, "wb")  # noqa: SIM115  (owned by the child)
        self.proc = subprocess.Popen(
            self.argv(),
            cwd=str(self.data_dir),
            env=self.env(),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                raise RuntimeError(f"chainlit exited ({self.proc.returncode}):\n{self.log()}")
            try:
                if httpx.get(self.url + "/health", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"chainlit did not answer within {timeout}s:\n{self.log()}")

    def log(self, tail: int = 5000) -> str:
        if self.log_path and self.log_path.exists():
            return self.log_path.read_text(errors="replace")[-tail:]
        return ""

    def workers_info(self) -> list[tuple[int, str]]:
        """(pid, private base URL) of each chat worker, from the supervisor's log."""
        found = re.findall(
            r"chat worker (\d+): pid (\d+), private address (\S+)", self.log(tail=1_000_000)
        )
        latest = {int(i): (int(pid), url) for i, pid, url in found}  # restarts log again
        return [latest[i] for i in sorted(latest)]

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def _cookie_header(r: httpx.Response, username: str) -> str:
    if r.status_code != 200 or not r.cookies:
        raise PermissionError(f"login failed for {username}: {r.status_code} {r.text[:200]}")
    return "; ".join(f"{k}={v}" for k, v in r.cookies.items())


def login(base_url: str, username: str, password: str) -> str:
    """POST /login like the login form; returns the session's Cookie header (the auth token)."""
    r = httpx.post(
        base_url + "/login", data={"username": username, "password": password}, timeout=30
    )
    return _cookie_header(r, username)


async def alogin(base_url: str, username: str, password: str) -> str:
    async with httpx.AsyncClient(base_url=base_url, timeout=60) as client:
        r = await client.post("/login", data={"username": username, "password": password})
    return _cookie_header(r, username)


@dataclass
class Turn:
    """Everything the server sent while answering one user message."""

    messages: dict[str, dict[str, Any]] = field(default_factory=dict)  # id -> latest step dict
    order: list[str] = field(default_factory=list)
    tokens: list[str] = field(default_factory=list)
    elements: list[dict[str, Any]] = field(default_factory=list)
    asks: list[dict[str, Any]] = field(default_factory=list)
    latency_s: float = 0.0

    def steps(self, type_: str | None = None) -> list[dict[str, Any]]:
        out = [self.messages[i] for i in self.order]
        return [s for s in out if type_ is None or s.get("type") == type_]

    @property
    def answer(self) -> str:
        """The text of the assistant messages (not tool steps), in order."""
        return "\n".join(s.get("output") or "" for s in self.steps("assistant_message"))

    def tool_steps(self) -> list[dict[str, Any]]:
        return self.steps("tool")


def choose(*names: str) -> Any:
    """An on_ask answer that clicks the first offered action among `names` (in that order)."""

    def pick(_payload: dict[str, Any], actions: list[dict[str, Any]]) -> dict[str, Any] | None:
        for name in names:
            for action in actions:
                if action.get("name") == name:
                    return action
        return None

    return pick


class ChatClient:
    """One browser-like chat session over socket.io."""

    def __init__(
        self,
        base_url: str,
        cookie: str,
        chat_profile: str | None = None,
        thread_id: str | None = None,
        on_ask: Any = None,
        session_id: str | None = None,
    ) -> None:
        self.base_url = base_url
        self.cookie = cookie
        self.chat_profile = chat_profile
        self.thread_id = thread_id or str(uuid.uuid4())
        self.session_id = session_id or str(uuid.uuid4())  # the browser tab's, kept on reconnect
        # on_ask(ask_payload, actions) -> the chosen action dict (what a click sends back)
        self.on_ask = on_ask
        self.actions: dict[str, list[dict[str, Any]]] = {}
        self.sio = socketio.AsyncClient(reconnection=False)
        self._turn: Turn | None = None
        self._idle = asyncio.Event()
        self._idle.set()
        self._idle_at = 0.0
        self.resumed: dict[str, Any] | None = None
        self.resume_error: str | None = None
        self.all_events: list[tuple[str, Any]] = []
        self.chat_settings: Any = None
        self.commands: Any = None
        self._bind()

    def _bind(self) -> None:
        sio = self.sio

        @sio.on("*")
        async def _any(event: str, data: Any = None) -> None:
            self.all_events.append((event, data))

        @sio.on("new_message")
        async def _new(data: dict[str, Any]) -> None:
            self.all_events.append(("new_message", data))
            self._record(data)

        @sio.on("update_message")
        async def _update(data: dict[str, Any]) -> None:
            self.all_events.append(("update_message", data))
            self._record(data)

        @sio.on("stream_start")
        async def _stream_start(data: dict[str, Any]) -> None:
            self.all_events.append(("stream_start", data))
            self._record(data)

        @sio.on("stream_token")
        async def _token(data: dict[str, Any]) -> None:
            if self._turn is not None and not data.get("isInput"):
                self._turn.tokens.append(data.get("token", ""))

        @sio.on("element")
        async def _element(data: dict[str, Any]) -> None:
            self.all_events.append(("element", data))
            if self._turn is not None:
                self._turn.elements.append(data)

        @sio.on("task_start")
        async def _start(_data: Any = None) -> None:
            self._idle.clear()

        @sio.on("task_end")
        async def _end(_data: Any = None) -> None:
            self._idle_at = time.perf_counter()
            self._idle.set()

        @sio.on("resume_thread")
        async def _resume(data: dict[str, Any]) -> None:
            self.resumed = data

        @sio.on("resume_thread_error")
        async def _resume_err(data: Any) -> None:
            self.resume_error = str(data)

        @sio.on("chat_settings")
        async def _settings(data: Any) -> None:
            self.chat_settings = data

        @sio.on("set_commands")
        async def _commands(data: Any) -> None:
            self.commands = data

        @sio.on("action")
        async def _action(data: dict[str, Any]) -> None:
            self.actions.setdefault(str(data.get("forId")), []).append(data)

        @sio.on("ask")
        async def _ask(data: dict[str, Any]) -> Any:
            if self._turn is not None:
                self._turn.asks.append(data)
            msg = data.get("msg") or {}
            self._record(msg)
            if self.on_ask is None:
                return None
            await asyncio.sleep(0.05)  # the actions are emitted just before the ask
            answer = self.on_ask(data, self.actions.get(str(msg.get("id")), []))
            return await answer if asyncio.iscoroutine(answer) else answer

    def _record(self, step: dict[str, Any]) -> None:
        if self._turn is None or not step.get("id"):
            return
        sid = step["id"]
        if sid not in self._turn.messages:
            self._turn.order.append(sid)
            self._turn.messages[sid] = dict(step)
        else:
            self._turn.messages[sid].update({k: v for k, v in step.items() if v is not None})

    async def connect(self, wait_start: float = 10.0) -> Turn:
        """Connect and collect what on_chat_start / on_chat_resume send."""
        self._turn = Turn()
        self._idle.clear()
        auth = {
            "sessionId": self.session_id,
            "clientType": "webapp",
            "chatProfile": self.chat_profile,
            "threadId": self.thread_id,
            "userEnv": "{}",
        }
        await self.sio.connect(
            self.base_url,
            socketio_path="/ws/socket.io",
            transports=["websocket"],
            auth=auth,
            headers={"Cookie": self.cookie},
            wait_timeout=10,
        )
        await self.sio.emit("connection_successful")
        end = time.monotonic() + wait_start
        while time.monotonic() < end and not (
            self._turn.order or self.resumed or self.resume_error or self.chat_settings
        ):
            await asyncio.sleep(0.02)
        # on_chat_start ends its run step with an "end" stamp: until then the server is still
        # greeting (slower under load), and its end would pass for the end of the next turn
        while time.monotonic() < end and any(
            s.get("name") == "on_chat_start" and not s.get("end") for s in self._turn.steps()
        ):
            await asyncio.sleep(0.02)
        await asyncio.sleep(0.3)  # the rest of the greeting (settings, commands, banner)
        turn, self._turn = self._turn, None
        return turn

    @property
    def toasts(self) -> list[str]:
        """The toasts the server showed (a new chat's notes: stand-ins, stalled ingestion)."""
        return [
            str(d.get("message"))
            for e, d in self.all_events
            if e == "toast" and isinstance(d, dict)
        ]

    async def _wait_idle(self, timeout: float, settle: float = 0.12) -> None:
        """Until a task_end that is not followed by a task_start (asks end tasks briefly)."""
        end = time.monotonic() + timeout
        while True:
            remaining = end - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("no task_end from the server")
            await asyncio.wait_for(self._idle.wait(), remaining)
            await asyncio.sleep(settle)
            if self._idle.is_set():
                return

    async def send(
        self,
        text: str,
        command: str | None = None,
        timeout: float = 30.0,
        file_refs: list[dict[str, Any]] | None = None,
    ) -> Turn:
        """Send a user message; return when the server says the task ended."""
        self._turn = Turn()
        self._idle.clear()
        message = {
            "id": str(uuid.uuid4()),
            "threadId": self.thread_id,
            "name": "User",
            "type": "user_message",
            "output": text,
            "createdAt": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
        }
        if command:
            message["command"] = command
        started = time.perf_counter()
        await self.sio.emit("client_message", {"message": message, "fileReferences": file_refs})
        await self._wait_idle(timeout)
        self._turn.latency_s = self._idle_at - started
        turn, self._turn = self._turn, None
        return turn

    async def upload(
        self,
        name: str,
        data: bytes,
        mime: str = "text/plain",
        base_url: str | None = None,
        ask_parent_id: str | None = None,
    ) -> dict[str, Any]:
        """Attach a file like the composer's paperclip: POST /project/file for this session
        (to `base_url`, e.g. one chat worker's private address, instead of the public URL);
        with `ask_parent_id`, as the answer to a file ask (as the browser sends it)."""
        params = {"session_id": self.session_id}
        if ask_parent_id:
            params["ask_parent_id"] = ask_parent_id
        async with httpx.AsyncClient(base_url=base_url or self.base_url, timeout=60) as http:
            r = await http.post(
                "/project/file",
                params=params,
                files={"file": (name, data, mime)},
                headers={"Cookie": self.cookie},
            )
        r.raise_for_status()
        return dict(r.json())

    async def click(
        self,
        name: str,
        payload: dict[str, Any],
        *,
        until: Any = None,
        timeout: float = 30.0,
    ) -> tuple[dict[str, Any], Turn]:
        """Click a button: POST /project/action like the browser (a message's action or a
        custom element's callAction). Returns the endpoint's answer and what the server sent
        until `until(turn)` holds (or, without it, for a moment after the answer)."""
        self._turn = Turn()
        action = {"name": name, "payload": payload, "label": name, "id": str(uuid.uuid4())}
        async with httpx.AsyncClient(base_url=self.base_url, timeout=timeout) as http:
            r = await http.post(
                "/project/action",
                json={"sessionId": self.session_id, "action": action},
                headers={"Cookie": self.cookie},
            )
        r.raise_for_status()
        end = time.monotonic() + timeout
        while until is not None and not until(self._turn):
            if time.monotonic() > end:
                raise TimeoutError(f"{name}: the expected answer did not arrive")
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.3)
        turn, self._turn = self._turn, None
        return dict(r.json()), turn

    async def change_settings(self, values: dict[str, Any]) -> None:
        await self.sio.emit("chat_settings_change", values)
        await asyncio.sleep(0.3)

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await self.sio.emit("clear_session")
        await self.sio.disconnect()

    async def drop(self) -> None:
        """Lose the connection without closing the chat (the browser reconnects later)."""
        await self.sio.disconnect()
