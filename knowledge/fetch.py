"""Safe fetching of admin-supplied URLs (SSRF guard).

An admin pastes a URL and the server fetches it, so the URL must not reach inside the network:
http(s) only; every address the host resolves to must be public (not loopback, private,
link-local, reserved, multicast, unspecified; IPv4-mapped IPv6 is judged by its IPv4); the
check is repeated on every redirect (followed by hand, at most 5); and the connection is pinned
to the address that was checked (the request goes to the IP with the original Host header and
TLS SNI), so a second DNS answer cannot swap in an internal address (DNS rebinding).
Bodies are streamed with a 2 MB cap (after decompression), and only HTML / plain text /
markdown are accepted.

Hostile servers are bounded too. The total deadline holds for the whole fetch, headers
included: every socket operation waits at most until the deadline (a server trickling its
headers a byte at a time used to hold a fetch for as long as it liked, each byte resetting
the per-read timeout), and a watchdog shuts the socket at the deadline for what no timeout
covers (a trickled TLS handshake). Compressed bodies are inflated here, a bounded amount per
network read (httpx inflates each read whole, so ~100 KB of gzip bomb cost ~127 MB before the
cap noticed); only gzip and deflate are asked for and accepted.
"""

from __future__ import annotations

import socket
import threading
import time
import zlib
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin

import httpcore
import httpx

from tools.netguard import (
    AddressPolicy,
    FetchError,
    Resolver,
    Target,
    check_url,
    is_public_address,
    system_resolver,
)
from tools.netguard import BlockedAddress as BlockedAddress  # re-exported: callers catch it

MAX_BYTES = 2 * 1024 * 1024
MAX_REDIRECTS = 5
TIMEOUT_S = 10.0
TOTAL_TIMEOUT_S = 30.0
ALLOWED_TYPES: tuple[str, ...] = (
    "text/html",
    "application/xhtml+xml",
    "text/plain",
    "text/markdown",
    "text/x-markdown",
)
USER_AGENT = "AgentArbitrage/0.1 (knowledge fetcher; admin-requested page)"
_REDIRECTS = {301, 302, 303, 307, 308}
READ_CHUNK = 64 * 1024


class TooLarge(FetchError):
    """The body is over the size cap."""


class UnsupportedContent(FetchError):
    """The content type is not HTML or text."""


@dataclass
class FetchedPage:
    url: str
    final_url: str
    status: int
    content_type: str
    charset: str | None
    body: bytes
    redirects: int = 0

    def text(self) -> str:
        return self.body.decode(self.charset or "utf-8", errors="replace")


class _Deadline:
    """The fetch's end time, shared by every socket it opens (see the module docstring)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.end = time.monotonic() + seconds
        self._timers: list[threading.Timer] = []

    @property
    def passed(self) -> bool:
        return time.monotonic() >= self.end

    def bound(self, timeout: float | None) -> float:
        left = self.end - time.monotonic()
        if left <= 0:
            raise httpcore.ReadTimeout("fetch deadline passed")
        return left if timeout is None else min(timeout, left)

    def watch(self, stream: httpcore.NetworkStream) -> None:
        sock = stream.get_extra_info("socket")
        if not isinstance(sock, socket.socket):
            return

        def cut() -> None:
            with suppress(OSError):  # wakes a blocked recv; closing stays with its owner
                sock.shutdown(socket.SHUT_RDWR)

        timer = threading.Timer(max(0.0, self.end - time.monotonic()), cut)
        timer.daemon = True
        timer.start()
        self._timers.append(timer)

    def cancel(self) -> None:
        for timer in self._timers:
            timer.cancel()


class _DeadlineStream(httpcore.NetworkStream):
    def __init__(self, stream: httpcore.NetworkStream, deadline: _Deadline) -> None:
        self._stream = stream
        self._deadline = deadline

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._stream.read(max_bytes, self._deadline.bound(timeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._stream.write(buffer, self._deadline.bound(timeout))

    def close(self) -> None:
        self._stream.close()

    def start_tls(
        self, ssl_context: Any, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.NetworkStream:
        tls = self._stream.start_tls(ssl_context, server_hostname, self._deadline.bound(timeout))
        return _DeadlineStream(tls, self._deadline)

    def get_extra_info(self, info: str) -> Any:
        return self._stream.get_extra_info(info)


class _DeadlineBackend(httpcore.NetworkBackend):
    """httpcore's own sockets, every wait cut to the fetch's deadline."""

    def __init__(self, deadline: _Deadline) -> None:
        self._backend = httpcore.SyncBackend()
        self._deadline = deadline

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        stream = self._backend.connect_tcp(
            host, port, self._deadline.bound(timeout), local_address, socket_options
        )
        self._deadline.watch(stream)
        return _DeadlineStream(stream, self._deadline)

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.NetworkStream:
        raise httpcore.ConnectError("unix sockets are not fetched")

    def sleep(self, seconds: float) -> None:
        self._backend.sleep(seconds)


class _Inflater:
    """Content-Encoding undone with a bounded output per call: a body that would inflate
    past `limit` is refused having produced at most `limit` + 1 bytes. The bytes on the wire
    count against the limit too (trailing data after a gzip stream would otherwise pile up
    in the decompressor)."""

    def __init__(self, encoding: str, limit: int) -> None:
        encoding = encoding.strip().lower()
        self.limit = limit
        self.size = 0
        self.wire = 0
        self._may_be_raw = encoding == "deflate"  # some servers send raw deflate
        if encoding in ("", "identity"):
            self._z: Any = None
        elif encoding in ("gzip", "x-gzip"):
            self._z = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif encoding == "deflate":
            self._z = zlib.decompressobj()
        else:
            raise UnsupportedContent(
                f"unsupported content encoding {encoding!r} (only gzip and deflate are accepted)"
            )

    def feed(self, data: bytes) -> bytes:
        self.wire += len(data)
        room = self.limit - self.size
        out = data if self._z is None else self._inflate(data, room + 1)
        self.size += len(out)
        if self.size > self.limit or self.wire > self.limit:
            raise TooLarge(f"page is over the {self.limit:,}-byte limit")
        return out

    def _inflate(self, data: bytes, max_out: int) -> bytes:
        try:
            out = self._z.decompress(data, max_out)
        except zlib.error:
            if not self._may_be_raw:
                raise FetchError("the page's compressed body is corrupt") from None
            self._may_be_raw = False
            self._z = zlib.decompressobj(-zlib.MAX_WBITS)
            return self._inflate(data, max_out)
        self._may_be_raw = False
        return bytes(out)


def _header(headers: Sequence[tuple[bytes, bytes]], name: bytes) -> str | None:
    for key, value in headers:
        if key.lower() == name:
            return value.decode("latin-1")
    return None


@contextmanager
def _pool(deadline: _Deadline) -> Iterator[httpcore.ConnectionPool]:
    # httpcore, not httpx: the body arrives as sent (inflated here, bounded), the sockets come
    # from the deadline backend, and no proxy from the environment bypasses the pinning
    pool = httpcore.ConnectionPool(
        ssl_context=httpx.create_ssl_context(),
        max_connections=1,
        retries=0,
        network_backend=_DeadlineBackend(deadline),
    )
    try:
        yield pool
    finally:
        pool.close()
        deadline.cancel()


def safe_fetch(
    url: str,
    *,
    max_bytes: int = MAX_BYTES,
    timeout: float = TIMEOUT_S,
    total_timeout: float = TOTAL_TIMEOUT_S,
    max_redirects: int = MAX_REDIRECTS,
    allowed_types: Sequence[str] = ALLOWED_TYPES,
    is_allowed: AddressPolicy = is_public_address,
    resolver: Resolver = system_resolver,
) -> FetchedPage:
    """GET a public http(s) page under the rules in the module docstring.

    `is_allowed` and `resolver` are injectable so tests can serve from 127.0.0.1 while still
    exercising the refusal paths; production uses the defaults.
    """
    deadline = _Deadline(total_timeout)
    current = url
    limits = {"connect": timeout, "read": timeout, "write": timeout, "pool": timeout}
    with _pool(deadline) as pool:
        for hop in range(max_redirects + 1):
            target = check_url(current, is_allowed=is_allowed, resolver=resolver)
            default_port = 443 if target.url.scheme == "https" else 80
            bare = f"[{target.host}]" if ":" in target.host else target.host
            host_header = bare if target.port == default_port else f"{bare}:{target.port}"
            pinned = target.url.copy_with(host=target.address)
            extensions: dict[str, Any] = {"timeout": limits}
            if target.url.scheme == "https":
                extensions["sni_hostname"] = target.host
            headers = [
                (b"Host", host_header.encode("ascii")),
                (b"User-Agent", USER_AGENT.encode()),
                (
                    b"Accept",
                    b"text/html,application/xhtml+xml,text/plain;q=0.9,"
                    b"text/markdown;q=0.9,*/*;q=0.1",
                ),
                (b"Accept-Encoding", b"gzip, deflate"),
            ]
            try:
                with pool.stream(
                    "GET", str(pinned), headers=headers, extensions=extensions
                ) as resp:
                    page = _read(resp, target, url, hop, max_bytes, allowed_types)
            except httpcore.TimeoutException:
                if deadline.passed:
                    raise FetchError(
                        f"{target.host} is too slow (over {deadline.seconds:.0f} s)"
                    ) from None
                raise FetchError(f"{target.host} timed out") from None
            except (httpcore.NetworkError, httpcore.ProtocolError) as err:
                if deadline.passed:  # the watchdog shut the socket
                    raise FetchError(
                        f"{target.host} is too slow (over {deadline.seconds:.0f} s)"
                    ) from None
                raise FetchError(f"could not fetch {target.host}: {err}") from None
            if isinstance(page, str):
                current = page
                continue
            return page
    raise FetchError(f"too many redirects (more than {max_redirects})")


def _read(
    resp: httpcore.Response,
    target: Target,
    url: str,
    hop: int,
    max_bytes: int,
    allowed_types: Sequence[str],
) -> FetchedPage | str:
    """The page, or the URL a redirect points to."""
    if resp.status in _REDIRECTS:
        location = _header(resp.headers, b"location")
        if not location:
            raise FetchError(f"{target.host} redirected without a Location")
        return urljoin(str(target.url), location)
    if resp.status >= 400:
        raise FetchError(f"{target.host} answered HTTP {resp.status}")
    raw_type = _header(resp.headers, b"content-type") or ""
    ctype = raw_type.split(";")[0].strip().lower()
    if ctype not in allowed_types:
        raise UnsupportedContent(
            f"unsupported content type {ctype or 'none'!r} (only HTML, plain "
            "text and markdown pages can be taught)"
        )
    declared = _header(resp.headers, b"content-length")
    if declared and declared.strip().isdigit() and int(declared) > max_bytes:
        raise TooLarge(f"page is {int(declared):,} bytes; the limit is {max_bytes:,}")
    inflater = _Inflater(_header(resp.headers, b"content-encoding") or "", max_bytes)
    body = bytearray()
    for chunk in resp.iter_stream():
        body.extend(inflater.feed(chunk))
    charset = httpx.Response(200, headers={"content-type": raw_type}).charset_encoding
    return FetchedPage(
        url=url,
        final_url=str(target.url),
        status=resp.status,
        content_type=ctype,
        charset=charset or None,
        body=bytes(body),
        redirects=hop,
    )
