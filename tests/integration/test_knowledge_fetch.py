"""Safe fetching against a real local HTTP server on 127.0.0.1 (SSRF refusals, caps, pinning)."""

from __future__ import annotations

import ipaddress
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest

from knowledge.fetch import (
    BlockedAddress,
    FetchError,
    TooLarge,
    UnsupportedContent,
    is_public_address,
    safe_fetch,
)

pytestmark = pytest.mark.integration

PAGE = (
    b"<html><head><title>Textbook tips</title></head><body><article><h1>Textbook tips"
    b"</h1><p>Buy textbooks in October when used prices hit their yearly low.</p>"
    b"</article></body></html>"
)
BIG = 3 * 1024 * 1024


class _Handler(BaseHTTPRequestHandler):
    hits: ClassVar[list[tuple[str, str]]] = []

    def log_message(self, *args: object) -> None:  # keep test output clean
        pass

    def _send(self, status: int, ctype: str, body: bytes, length: bool = True) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        if length:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        type(self).hits.append((self.path, self.headers.get("Host", "")))
        assert isinstance(self.server, ThreadingHTTPServer)
        port = self.server.server_port
        if self.path == "/page":
            self._send(200, "text/html; charset=utf-8", PAGE)
        elif self.path == "/to-metadata":
            self.send_response(302)
            self.send_header("Location", "http://169.254.169.254/latest/meta-data/")
            self.end_headers()
        elif self.path == "/to-self":
            self.send_response(301)
            self.send_header("Location", f"http://127.0.0.1:{port}/page")
            self.end_headers()
        elif self.path == "/relative":
            self.send_response(302)
            self.send_header("Location", "/page")
            self.end_headers()
        elif self.path == "/loop":
            self.send_response(302)
            self.send_header("Location", "/loop")
            self.end_headers()
        elif self.path == "/big":
            self._send(200, "text/plain", b"x" * BIG)
        elif self.path == "/big-unannounced":
            self.close_connection = True
            self._send(200, "text/plain", b"y" * BIG, length=False)
        elif self.path == "/binary":
            self._send(200, "application/octet-stream", b"\x00\x01" * 10)
        else:
            self._send(404, "text/plain", b"not found")


@pytest.fixture
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    _Handler.hits = []
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def _public_resolver(host: str, port: int) -> list[str]:
    """DNS for the test: "public.example" is served by the local server."""
    assert host == "public.example", f"unexpected DNS lookup of {host}"
    return ["127.0.0.1"]


def _first_hop_only() -> Callable[[ipaddress.IPv4Address | ipaddress.IPv6Address], bool]:
    """A policy that lets the first check through (the 'public' page), then is the real one."""
    calls = {"n": 0}

    def policy(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
        calls["n"] += 1
        return calls["n"] == 1 or is_public_address(ip)

    return policy


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/",
        "http://localhost:8080/x",
        "http://10.1.2.3/",
        "http://172.16.0.5/",
        "http://192.168.1.1/admin",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/",
        "http://[::ffff:127.0.0.1]/",
        "http://0.0.0.0/",
        "http://[fe80::1]/",
        "http://100.64.0.1/",
        "http://224.0.0.1/",
    ],
)
def test_internal_addresses_refused(url: str) -> None:
    with pytest.raises(BlockedAddress, match="internal address"):
        safe_fetch(url)


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "ftp://example.com/x",
        "gopher://example.com/",
        "http://user:pw@example.com/",
    ],
)
def test_other_schemes_and_credentials_refused(url: str) -> None:
    with pytest.raises(BlockedAddress):
        safe_fetch(url)


def test_public_addresses_allowed() -> None:
    for ip in ("93.184.216.34", "2606:4700:4700::1111", "8.8.8.8"):
        assert is_public_address(ipaddress.ip_address(ip))
    for ip in ("::ffff:10.0.0.1", "2002:0a00:0001::1", "64:ff9b::a00:1", "fc00::1", "::"):
        assert not is_public_address(ipaddress.ip_address(ip))


def test_fetch_pins_the_checked_address(server: str) -> None:
    # "public.example" does not exist in real DNS: the page can only arrive if the connection
    # went to the address that was checked, with the original Host header.
    page = safe_fetch(
        f"http://public.example:{server}/page",
        resolver=_public_resolver,
        is_allowed=lambda ip: str(ip) == "127.0.0.1",
    )
    assert page.status == 200 and page.content_type == "text/html"
    assert "yearly low" in page.text()
    assert _Handler.hits == [("/page", f"public.example:{server}")]


def test_redirect_to_metadata_refused(server: str) -> None:
    with pytest.raises(BlockedAddress, match=r"169\.254\.169\.254"):
        safe_fetch(
            f"http://public.example:{server}/to-metadata",
            resolver=_public_resolver,
            is_allowed=_first_hop_only(),
        )
    assert [p for p, _ in _Handler.hits] == ["/to-metadata"]


def test_redirect_to_loopback_refused_before_connecting(server: str) -> None:
    with pytest.raises(BlockedAddress, match=r"127\.0\.0\.1"):
        safe_fetch(
            f"http://public.example:{server}/to-self",
            resolver=_public_resolver,
            is_allowed=_first_hop_only(),
        )
    assert [p for p, _ in _Handler.hits] == ["/to-self"]  # /page was never requested


def test_relative_redirect_followed_and_rechecked(server: str) -> None:
    checked: list[str] = []

    def policy(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
        checked.append(str(ip))
        return str(ip) == "127.0.0.1"

    page = safe_fetch(
        f"http://public.example:{server}/relative", resolver=_public_resolver, is_allowed=policy
    )
    assert page.redirects == 1 and page.final_url.endswith("/page")
    assert checked == ["127.0.0.1", "127.0.0.1"]  # one check per hop


def test_redirect_limit(server: str) -> None:
    with pytest.raises(FetchError, match="too many redirects"):
        safe_fetch(
            f"http://public.example:{server}/loop",
            resolver=_public_resolver,
            is_allowed=lambda ip: True,
        )
    assert len(_Handler.hits) == 6


def test_size_cap_declared_and_streamed(server: str) -> None:
    kw = {"resolver": _public_resolver, "is_allowed": lambda ip: True}
    with pytest.raises(TooLarge, match="limit"):
        safe_fetch(f"http://public.example:{server}/big", **kw)  # type: ignore[arg-type]
    with pytest.raises(TooLarge, match="limit"):
        safe_fetch(f"http://public.example:{server}/big-unannounced", **kw)  # type: ignore[arg-type]
    page = safe_fetch(f"http://public.example:{server}/big", max_bytes=4 * 1024 * 1024, **kw)  # type: ignore[arg-type]
    assert len(page.body) == BIG


def test_content_type_and_status(server: str) -> None:
    kw = {"resolver": _public_resolver, "is_allowed": lambda ip: True}
    with pytest.raises(UnsupportedContent, match="application/octet-stream"):
        safe_fetch(f"http://public.example:{server}/binary", **kw)  # type: ignore[arg-type]
    with pytest.raises(FetchError, match="HTTP 404"):
        safe_fetch(f"http://public.example:{server}/missing", **kw)  # type: ignore[arg-type]
