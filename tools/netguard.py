"""Is a URL safe for the server to call? (SSRF guard shared by every outbound request a user
can aim: taught pages, alert webhooks, the SMTP relay.)

http(s) only, no credentials in the URL, and every address the host resolves to must be
public (not loopback, private, link-local, reserved, multicast, unspecified; IPv4-mapped IPv6
is judged by its IPv4). `check_url` returns the vetted address so the caller can pin its
connection to it (a second DNS answer cannot swap in an internal address).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import httpx

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
AddressPolicy = Callable[[IPAddress], bool]
Resolver = Callable[[str, int], Sequence[str]]


class FetchError(Exception):
    """A URL cannot be used or reached; the message says why in one line."""


class BlockedAddress(FetchError):
    """The URL points at (or redirects to) an internal address."""


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
    return ip.is_global and not (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_reserved
        or ip.is_multicast
        or ip.is_unspecified
    )


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
class Target:
    url: httpx.URL
    host: str
    port: int
    address: str


def check_url(
    url: str, *, is_allowed: AddressPolicy = is_public_address, resolver: Resolver = system_resolver
) -> Target:
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
                "(loopback, private, link-local or reserved)"
            )
    return Target(parsed, host, port, addresses[0])


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def allowing(networks: str | None) -> AddressPolicy:
    """Public addresses, plus the networks an admin listed ("10.0.0.0/8,127.0.0.1")."""
    extra = [
        ipaddress.ip_network(n.strip(), strict=False)
        for n in (networks or "").split(",")
        if n.strip()
    ]

    def policy(ip: IPAddress) -> bool:
        return is_public_address(ip) or any(ip in n for n in extra if n.version == ip.version)

    return policy
