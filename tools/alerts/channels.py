"""Sending one message out: a signed webhook POST, or an email through the SMTP relay.

Webhooks are JSON that Discord (`content`) and Slack (`text`) incoming webhooks both accept,
signed with HMAC-SHA256 over "<timestamp>.<body>" (header X-AA-Signature: sha256=<hex>, the
timestamp in X-AA-Timestamp) so a receiver can check where it came from and refuse replays;
X-AA-Delivery carries the outbox id so a receiver can drop the rare duplicate (a crash between
sending and recording the send). The URL must resolve to a public address (tools/netguard.py)
unless an admin allowed its network, and the connection is pinned to the vetted address.
Redirects are not followed; the answer body is not read beyond a few KB.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import smtplib
import ssl
import time
from email.message import EmailMessage
from email.utils import make_msgid

import httpcore
import httpx

from tools.netguard import (
    AddressPolicy,
    FetchError,
    Resolver,
    check_url,
    is_public_address,
    system_resolver,
)
from tools.settings import Settings

DISCORD_MAX = 2000  # Discord refuses `content` longer than this
MAX_ANSWER_BYTES = 4096


class DeliveryError(RuntimeError):
    """The message was not delivered; the message says why (kept on the outbox row)."""


def sign(secret: str, timestamp: str, body: bytes) -> str:
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def webhook_body(subject: str, text: str, data: dict[str, object]) -> bytes:
    content = text if len(text) <= DISCORD_MAX else text[: DISCORD_MAX - 1] + "…"
    return json.dumps(
        {"content": content, "text": text, "subject": subject, "data": data},
        separators=(",", ":"),
        default=str,
    ).encode()


def post_webhook(
    url: str,
    body: bytes,
    *,
    secret: str,
    delivery_id: str,
    timeout: float = 10.0,
    is_allowed: AddressPolicy = is_public_address,
    resolver: Resolver = system_resolver,
) -> int:
    """POST the body; returns the HTTP status (2xx) or raises DeliveryError."""
    try:
        target = check_url(url, is_allowed=is_allowed, resolver=resolver)
    except FetchError as err:
        raise DeliveryError(str(err)) from None
    default_port = 443 if target.url.scheme == "https" else 80
    bare = f"[{target.host}]" if ":" in target.host else target.host
    host = bare if target.port == default_port else f"{bare}:{target.port}"
    stamp = str(int(time.time()))
    headers = [
        (b"Host", host.encode("ascii")),
        (b"Content-Type", b"application/json"),
        (b"User-Agent", b"AgentArbitrage-Alerts/1"),
        (b"X-AA-Timestamp", stamp.encode()),
        (b"X-AA-Signature", sign(secret, stamp, body).encode()),
        (b"X-AA-Delivery", delivery_id.encode()),
    ]
    extensions: dict[str, object] = {
        "timeout": {"connect": timeout, "read": timeout, "write": timeout, "pool": timeout}
    }
    if target.url.scheme == "https":
        extensions["sni_hostname"] = target.host
    pinned = target.url.copy_with(host=target.address)
    try:
        with (
            httpcore.ConnectionPool(
                ssl_context=httpx.create_ssl_context(), max_connections=1, retries=0
            ) as pool,
            pool.stream(
                "POST", str(pinned), headers=headers, content=body, extensions=extensions
            ) as resp,
        ):
            read = 0
            for chunk in resp.iter_stream():
                read += len(chunk)
                if read > MAX_ANSWER_BYTES:
                    break
            status = resp.status
    except (httpcore.TimeoutException, httpcore.NetworkError, httpcore.ProtocolError) as err:
        raise DeliveryError(f"{target.host} unreachable: {err.__class__.__name__}") from None
    if not 200 <= status < 300:
        raise DeliveryError(f"{target.host} answered HTTP {status}")
    return status


def send_email(
    settings: Settings,
    to: str,
    subject: str,
    text: str,
    *,
    is_allowed: AddressPolicy = is_public_address,
    resolver: Resolver = system_resolver,
) -> None:
    """One plain-text email through the configured relay (SMTP_HOST), vetted like a URL.

    The relay is the admin's setting, not a seller's, so the connection goes to its name (TLS
    verifies the certificate against it) after the addresses it resolves to were checked."""
    if not settings.smtp_host:
        raise DeliveryError("email is not configured on this server (SMTP_HOST)")
    try:
        check_url(
            f"http://{settings.smtp_host}:{settings.smtp_port}/",
            is_allowed=is_allowed,
            resolver=resolver,
        )
    except FetchError as err:
        raise DeliveryError(f"SMTP relay refused: {err}") from None
    msg = EmailMessage()
    msg["From"] = settings.smtp_from
    msg["To"] = to
    msg["Subject"] = subject
    msg["Message-ID"] = make_msgid(domain="agent-arbitrage")
    msg.set_content(text)
    timeout = settings.alerts_timeout_s
    try:
        client: smtplib.SMTP
        if settings.smtp_tls == "ssl":
            client = smtplib.SMTP_SSL(
                settings.smtp_host,
                settings.smtp_port,
                timeout=timeout,
                context=ssl.create_default_context(),
            )
        else:
            client = smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=timeout)
        with client:
            if settings.smtp_tls == "starttls":
                client.starttls(context=ssl.create_default_context())
            if settings.smtp_user:
                client.login(settings.smtp_user, settings.smtp_password or "")
            client.send_message(msg)
    except (smtplib.SMTPException, OSError) as err:
        raise DeliveryError(f"SMTP: {err.__class__.__name__}: {str(err)[:200]}") from None
