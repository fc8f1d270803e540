"""The URL fetcher's limits hold against hostile servers (issue 16, item 10).

A server that trickles its headers a byte at a time must not hold an admin's teaching request
past the fetch deadline, and a small gzip bomb must be refused without inflating it in memory.
Both servers are real sockets on 127.0.0.1.
"""

from __future__ import annotations

import gzip
import socket
import threading
import time
import tracemalloc
import zlib
from collections.abc import Iterator

import pytest

from knowledge.fetch import FetchError, TooLarge, safe_fetch

pytestmark = pytest.mark.integration

HEAD = (
    b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n"
    b"X-Filler: " + b"a" * 60 + b"\r\n\r\nok"
)
BYTE_GAP_S = 0.05  # well under the per-read timeout: only a whole-fetch deadline can stop it
PAGE = b"Buy textbooks in October, sell them in August. " * 2000


def _gzip_bomb(inflated_mb: int = 100) -> bytes:
    """~100 KB of gzip that inflates to `inflated_mb` MB of zeros (made without holding them)."""
    z = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    zeros = bytes(1024 * 1024)
    return b"".join([*(z.compress(zeros) for _ in range(inflated_mb)), z.flush()])


BOMB = _gzip_bomb()


def _serve(handle: object) -> Iterator[tuple[int, dict[str, object]]]:
    """One-connection-at-a-time TCP server running `handle(conn, state)`."""
    sock = socket.create_server(("127.0.0.1", 0))
    sock.settimeout(0.2)
    state: dict[str, object] = {"stop": False}

    def loop() -> None:
        while not state["stop"]:
            try:
                conn, _ = sock.accept()
            except TimeoutError:
                continue
            with conn:
                conn.recv(65536)  # the request
                try:
                    handle(conn, state)  # type: ignore[operator]
                except OSError:
                    state["client_left"] = True

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    try:
        yield sock.getsockname()[1], state
    finally:
        state["stop"] = True
        thread.join(5)
        sock.close()


def _trickle(conn: socket.socket, state: dict[str, object]) -> None:
    for i in range(len(HEAD)):
        if state["stop"]:
            return
        state["sent"] = i + 1
        conn.sendall(HEAD[i : i + 1])
        time.sleep(BYTE_GAP_S)


def _bomb(conn: socket.socket, state: dict[str, object]) -> None:
    conn.sendall(
        b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Encoding: gzip\r\n"
        b"Content-Length: " + str(len(BOMB)).encode() + b"\r\n\r\n" + BOMB
    )


def _gzipped_page(conn: socket.socket, state: dict[str, object]) -> None:
    body = gzip.compress(PAGE)
    conn.sendall(
        b"HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\n"
        b"Content-Encoding: gzip\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
    )


@pytest.fixture
def trickling() -> Iterator[tuple[int, dict[str, object]]]:
    yield from _serve(_trickle)


@pytest.fixture
def bomb() -> Iterator[tuple[int, dict[str, object]]]:
    yield from _serve(_bomb)


@pytest.fixture
def gzipped() -> Iterator[tuple[int, dict[str, object]]]:
    yield from _serve(_gzipped_page)


def _local(ip: object) -> bool:
    return True


def _resolve(host: str, port: int) -> list[str]:
    return ["127.0.0.1"]


def test_headers_trickled_byte_by_byte_hit_the_deadline(
    trickling: tuple[int, dict[str, object]],
) -> None:
    port, state = trickling
    # the whole answer takes ~len(HEAD) * 50 ms (~5 s); the deadline is 1 s
    with pytest.raises(FetchError, match="too slow"):
        safe_fetch(
            f"http://public.example:{port}/",
            timeout=0.5,
            total_timeout=1.0,
            resolver=_resolve,
            is_allowed=_local,
        )
    sent = int(state.get("sent", 0))  # type: ignore[call-overload]
    assert sent < HEAD.index(b"\r\n\r\n"), "the fetch waited for the trickled headers"


def test_a_gzip_bomb_is_refused_without_inflating_it(bomb: tuple[int, dict[str, object]]) -> None:
    port, _ = bomb
    tracemalloc.start()
    try:
        with pytest.raises(TooLarge, match="limit"):
            safe_fetch(f"http://public.example:{port}/", resolver=_resolve, is_allowed=_local)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # the cap is 2 MB of text: a few times that is the most the refusal may cost
    assert peak < 12 * 1024 * 1024, f"refusing the bomb allocated {peak / 2**20:.0f} MB"


def test_a_gzipped_page_still_reads(gzipped: tuple[int, dict[str, object]]) -> None:
    port, _ = gzipped
    page = safe_fetch(f"http://public.example:{port}/", resolver=_resolve, is_allowed=_local)
    assert page.body == PAGE and page.text().startswith("Buy textbooks in October")
