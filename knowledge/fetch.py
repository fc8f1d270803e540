"""Safe fetching of admin-supplied URLs (SSRF guard).

An admin pastes a URL and the server fetches it, so the URL must not reach inside the network:
http(s) only; every address the host resolves to must be public (not loopback, private,
link-local, reserved, multicast, unspecified; IPv4-mapped IPv6 is judged by its IPv4); the
check is repeated on every redirect (followed by hand, at most 5); and the connection is pinned
to the address that was checked (the request goes to the IP with the original Host header and
TLS SNI), so a second DNS answer cannot swap in an internal address (DNS rebinding).
Bodies are streamed with a 2 MB cap (after decompression), a per-read and a total timeout, and
only HTML / plain text / markdown are accepted.
"""

from __future__ import annotations

import ipaddress
import socket
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from urllib.parse import urljoin

import httpx

MAX_BYTES = 2 * 1024 * 1024
MAX_REDIRECTS = 5
TIMEOUT_S = 10.0
TOTAL_TIMEOUT_S = 30.0
ALLOWED_TYPES: tuple[str, ...] = (
    "text/html", "application/xhtml+xml", "text/plain", "text/markdown", "text/x-markdown",
)
USER_AGENT = "AgentArbitrage/0.1 (knowledge fetcher; admin-requested page)"
_REDIRECTS = {301, 302, 303, 307, 308}

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
AddressPolicy = Callable[[IPAddress], bool]
Resolver = Callable[[str, int], Sequence[str]]


class FetchError(Exception):
    """The page could not be fetched; the message says why in one line."""


class BlockedAddress(FetchError):
    """The URL points at (or redirects to) an internal address."""


class TooLarge(FetchError):
    """The body is over the size cap."""


class UnsupportedContent(FetchError):
    """The content type is not HTML or text."""


def is_public_address(ip: IPAddress) -> bool:
    """True only for globally routable unicast addresses."""
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return is_public_address(ip.ipv4_mapped)
        if ip.sixtofour is not None:
            return is_public_address(ip.sixtofour)
        if ip.teredo is not None:
            return False
        if ip in ipaddress.IPv6Network("64:ff9b::/96"):  # NAT64 embeds an IPv4 address
            return is_public_address(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    return ip.is_global and not (ip.is_private or ip.is_loopback or ip.is_link_local
                                 or ip.is_reserved or ip.is_multicast or ip.is_unspecified)


def system_resolver(host: str, port: int) -> list[str]:
    """Every address the system resolver returns for host (IPv4 and IPv6)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as err:
        raise FetchError(f"cannot resolve {host}: {err.strerror or err}") from None
    out: list[str] = []
    for info in infos:
        addr = str(info[4][0]).split("%", 1)[0]  # drop an IPv6 zone id
        if addr not in out:
            out.append(addr)
    return out


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


@dataclass
class _Target:
    url: httpx.URL
    host: str
    port: int
    address: str


def check_url(url: str, *, is_allowed: AddressPolicy = is_public_address,
              resolver: Resolver = system_resolver) -> _Target:
    """Parse and vet one URL; returns the address to pin the connection to."""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError, ValueError) as err:
        raise FetchError(f"not a valid URL: {url!r} ({err})") from None
    if parsed.scheme not in ("http", "https"):
        raise BlockedAddress(f"only http and https URLs can be fetched, not {parsed.scheme!r}")
    if parsed.userinfo:
        raise BlockedAddress("URLs with a user name or password are not fetched")
    host = parsed.raw_host.decode("ascii").strip("[]").lower()
    if not host:
        raise FetchError(f"URL has no host: {url!r}")
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    try:
        addresses = [host] if _is_ip(host) else list(resolver(host, port))
    except FetchError:
        raise
    except OSError as err:
        raise FetchError(f"cannot resolve {host}: {err}") from None
    if not addresses:
        raise FetchError(f"cannot resolve {host}: no address")
    for addr in addresses:
        ip = ipaddress.ip_address(addr)
        if not is_allowed(ip):
            raise BlockedAddress(
                f"refusing to fetch {host}: it resolves to {ip}, an internal address "
                "(loopback, private, link-local or reserved)")
    return _Target(parsed, host, port, addresses[0])


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def safe_fetch(url: str, *, max_bytes: int = MAX_BYTES, timeout: float = TIMEOUT_S,
               total_timeout: float = TOTAL_TIMEOUT_S, max_redirects: int = MAX_REDIRECTS,
               allowed_types: Sequence[str] = ALLOWED_TYPES,
               is_allowed: AddressPolicy = is_public_address,
               resolver: Resolver = system_resolver) -> FetchedPage:
    """GET a public http(s) page under the rules in the module docstring.

    `is_allowed` and `resolver` are injectable so tests can serve from 127.0.0.1 while still
    exercising the refusal paths; production uses the defaults.
    """
    deadline = time.monotonic() + total_timeout
    current = url
    # trust_env=False: a proxy from the environment would bypass the address pinning
    with httpx.Client(follow_redirects=False, trust_env=False,
                      timeout=httpx.Timeout(timeout)) as client:
        for hop in range(max_redirects + 1):
            target = check_url(current, is_allowed=is_allowed, resolver=resolver)
            default_port = 443 if target.url.scheme == "https" else 80
            bare = f"[{target.host}]" if ":" in target.host else target.host
            host_header = bare if target.port == default_port else f"{bare}:{target.port}"
            pinned = target.url.copy_with(host=target.address)
            extensions = {"sni_hostname": target.host} if target.url.scheme == "https" else {}
            headers = {"Host": host_header, "User-Agent": USER_AGENT,
                       "Accept": "text/html,application/xhtml+xml,text/plain;q=0.9,"
                                 "text/markdown;q=0.9,*/*;q=0.1"}
            try:
                with client.stream("GET", pinned, headers=headers,
                                   extensions=extensions) as resp:
                    if resp.status_code in _REDIRECTS:
                        location = resp.headers.get("location")
                        if not location:
                            raise FetchError(f"{target.host} redirected without a Location")
                        current = urljoin(str(target.url), location)
                        continue
                    if resp.status_code >= 400:
                        raise FetchError(f"{target.host} answered HTTP {resp.status_code}")
                    ctype = resp.headers.get("content-type", "").split(";")[0].strip().lower()
                    if ctype not in allowed_types:
                        raise UnsupportedContent(
                            f"unsupported content type {ctype or 'none'!r} (only HTML, plain "
                            "text and markdown pages can be taught)")
                    declared = resp.headers.get("content-length")
                    if declared and declared.isdigit() and int(declared) > max_bytes:
                        raise TooLarge(f"page is {int(declared):,} bytes; the limit is "
                                       f"{max_bytes:,}")
                    body = bytearray()
                    for chunk in resp.iter_bytes():
                        body.extend(chunk)
                        if len(body) > max_bytes:
                            raise TooLarge(f"page is over the {max_bytes:,}-byte limit")
                        if time.monotonic() > deadline:
                            raise FetchError(f"{target.host} is too slow (over "
                                             f"{total_timeout:.0f} s)")
                    return FetchedPage(url=url, final_url=str(target.url),
                                       status=resp.status_code, content_type=ctype,
                                       charset=resp.charset_encoding, body=bytes(body),
                                       redirects=hop)
            except httpx.TimeoutException:
                raise FetchError(f"{target.host} timed out") from None
            except httpx.HTTPError as err:
                raise FetchError(f"could not fetch {target.host}: {err}") from None
    raise FetchError(f"too many redirects (more than {max_redirects})")
