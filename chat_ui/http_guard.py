"""The chat's outer door: origins, revoked sessions, sign-in throttling, security headers.

One ASGI middleware around Chainlit's app, for HTTP and the socket.io websocket alike:

- a request or socket whose `Origin` is not one of the app's own URLs (ALLOWED_ORIGINS) is
  refused (403): another site's page cannot use a seller's cookie to act for them. Chainlit's
  CORS allows no cross-origin reads (`allow_origins = []` in .chainlit/config.toml);
- a login token that is no longer valid (signed out, password or role changed, account
  disabled, expired, not ours) is removed from the request before Chainlit sees it, so every
  endpoint and the socket treat it as signed out, and the browser is told to drop it;
- POST /login hands the client address to the sign-in check (chat_ui/auth.py) and answers a
  throttled attempt with 429 and Retry-After instead of Chainlit's "wrong password";
- every response gets a Content-Security-Policy, frame-ancestors / X-Frame-Options,
  nosniff and a referrer policy; over TLS also HSTS, and cookies get the Secure flag.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from chat_ui.auth import AUTH_COOKIE, Account, account_for_token_async
from chat_ui.session_router import ASGIApp, Message, Receive, Scope, Send

# Chainlit's page has two inline scripts (a `global` shim and its transport settings): they
# are allowed by hash (see inline_script_hashes), no other inline script runs. 'unsafe-eval'
# is needed by Chainlit's custom elements (the deal table is compiled in the browser);
# styles: Chainlit's fonts and KaTeX CSS come from these CDNs, and Plotly sets inline styles;
# a chart element is fetched from a data: URL (chat_ui/render.py).
CSP_TEMPLATE = (
    "default-src 'self'; script-src 'self' 'unsafe-eval'{hashes}; "
    "style-src 'self' 'unsafe-inline' https://fonts.googleapis.com "
    "https://cdn.jsdelivr.net; font-src 'self' data: https://fonts.gstatic.com "
    "https://cdn.jsdelivr.net; img-src 'self' data: blob:; connect-src 'self' data:; "
    "worker-src 'self' blob:; media-src 'self' blob:; object-src 'none'; "
    "base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
STATIC_PREFIXES = ("/assets/", "/public/", "/avatars/", "/favicon", "/logo")
HSTS = b"max-age=31536000"
_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)


@dataclass
class LoginAttempt:
    """Shared between the middleware and the sign-in callback of one POST /login."""

    address: str | None
    retry_after: float | None = None
    message: str = ""


login_attempt: ContextVar[LoginAttempt | None] = ContextVar("login_attempt", default=None)


def inline_script_hashes(html: str) -> list[str]:
    """CSP source expressions for the inline <script> blocks of the chat's page."""
    return [
        "'sha256-" + base64.b64encode(hashlib.sha256(body.encode()).digest()).decode() + "'"
        for body in _INLINE_SCRIPT.findall(html)
    ]


def chainlit_page_csp() -> str:
    """The CSP for the page Chainlit serves now (its inline scripts depend on its config)."""
    import os

    from chainlit.server import get_html_template

    root = os.getenv("CHAINLIT_PARENT_ROOT_PATH", "") + os.getenv("CHAINLIT_ROOT_PATH", "")
    hashes = inline_script_hashes(get_html_template(root))
    return CSP_TEMPLATE.format(hashes="".join(" " + h for h in hashes))


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers") or []:
        if key == name:
            return str(value.decode("latin-1"))
    return None


def _auth_token(scope: Scope) -> str | None:
    from chat_ui.auth import token_from_cookie_header

    token = token_from_cookie_header(_header(scope, b"cookie"))
    if token:
        return token
    authorization = _header(scope, b"authorization") or ""
    scheme, _, value = authorization.partition(" ")
    return value.strip() or None if scheme.lower() == "bearer" else None


def _without_credentials(scope: Scope) -> Scope:
    """The request as if it carried no login token (other cookies stay)."""
    headers = []
    for key, value in scope.get("headers") or []:
        if key == b"authorization":
            continue
        if key == b"cookie":
            kept = [
                c
                for c in value.split(b";")
                if not c.strip().split(b"=", 1)[0].startswith(AUTH_COOKIE.encode())
            ]
            if not kept:
                continue
            value = b";".join(kept)
        headers.append((key, value))
    return {**scope, "headers": headers}


class HttpGuard:
    """ASGI middleware; `origins` are the allowed Origin values (computed on first use)."""

    def __init__(
        self,
        app: ASGIApp,
        origins: Callable[[], list[str]],
        csp: Callable[[], str] = chainlit_page_csp,
        account_of: Callable[[str | None], Any] = account_for_token_async,
    ) -> None:
        self.app = app
        self._origins_fn = origins
        self._origins: frozenset[str] | None = None
        self._csp_fn = csp
        self._csp: bytes | None = None
        self.account_of = account_of

    def origins(self) -> frozenset[str]:
        if self._origins is None:
            self._origins = frozenset(self._origins_fn())
        return self._origins

    def csp(self) -> bytes:
        if self._csp is None:
            self._csp = self._csp_fn().encode()
        return self._csp

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        origin = _header(scope, b"origin")
        if origin is not None and origin.rstrip("/") not in self.origins():
            await self._refuse(scope, send, 403, "Origin not allowed")
            return
        path = scope.get("path", "")
        expire_cookie = False
        if not (scope.get("method") in ("GET", "HEAD") and path.startswith(STATIC_PREFIXES)):
            token = _auth_token(scope)
            if token is not None:
                account: Account | None = await self.account_of(token)
                if account is None:  # revoked, expired or forged: treat as signed out
                    scope = _without_credentials(scope)
                    expire_cookie = True
        secure = scope.get("scheme") in ("https", "wss")
        if scope["type"] == "websocket":
            await self.app(scope, receive, send)
            return
        attempt = None
        if scope.get("method") == "POST" and path.endswith("/login"):
            client = scope.get("client")
            attempt = LoginAttempt(address=client[0] if client else None)
        send = self._with_headers(send, secure, expire_cookie, attempt)
        if attempt is None:
            await self.app(scope, receive, send)
            return
        reset = login_attempt.set(attempt)
        try:
            await self.app(scope, receive, send)
        finally:
            login_attempt.reset(reset)

    def _with_headers(
        self, send: Send, secure: bool, expire_cookie: bool, attempt: LoginAttempt | None
    ) -> Send:
        swallow = False

        async def wrapped(message: Message) -> None:
            nonlocal swallow
            if message["type"] == "http.response.start":
                if attempt is not None and attempt.retry_after is not None:
                    # the sign-in callback refused before checking the password
                    swallow = True
                    body = json.dumps({"detail": attempt.message}).encode()
                    headers = [
                        (b"content-type", b"application/json"),
                        (b"retry-after", str(int(attempt.retry_after + 0.999)).encode()),
                        (b"content-length", str(len(body)).encode()),
                    ]
                    await send(
                        {
                            "type": "http.response.start",
                            "status": 429,
                            "headers": self._secure_headers(headers, secure, expire_cookie),
                        }
                    )
                    await send({"type": "http.response.body", "body": body})
                    return
                message = {
                    **message,
                    "headers": self._secure_headers(
                        list(message.get("headers") or []), secure, expire_cookie
                    ),
                }
            elif swallow:
                return
            await send(message)

        return wrapped

    def _secure_headers(
        self, headers: list[tuple[bytes, bytes]], secure: bool, expire_cookie: bool
    ) -> list[tuple[bytes, bytes]]:
        out = []
        for key, value in headers:
            if key.lower() == b"set-cookie" and secure and b"secure" not in value.lower():
                value += b"; Secure"
            out.append((key, value))
        present = {k.lower() for k, _ in out}
        extra = [
            (b"content-security-policy", self.csp()),
            (b"x-frame-options", b"DENY"),
            (b"x-content-type-options", b"nosniff"),
            (b"referrer-policy", b"same-origin"),
        ]
        if secure:
            extra.append((b"strict-transport-security", HSTS))
        out += [(k, v) for k, v in extra if k not in present]
        if expire_cookie:
            out.append(
                (
                    b"set-cookie",
                    f"{AUTH_COOKIE}=; Max-Age=0; Path=/; HttpOnly; "
                    f"SameSite=lax{'; Secure' if secure else ''}".encode(),
                )
            )
        return out

    async def _refuse(self, scope: Scope, send: Send, status: int, text: str) -> None:
        if scope["type"] == "websocket":
            # closing before accepting: the server answers the handshake with 403
            await send({"type": "websocket.close", "code": 1008, "reason": text})
            return
        body = text.encode()
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": self._secure_headers(
                    [
                        (b"content-type", b"text/plain; charset=utf-8"),
                        (b"content-length", str(len(body)).encode()),
                    ],
                    scope.get("scheme") == "https",
                    False,
                ),
            }
        )
        await send({"type": "http.response.body", "body": body})


def install(app: Any, origins: Callable[[], list[str]]) -> None:
    """Add the guard to Chainlit's FastAPI app once, outermost (before it starts serving)."""
    if not any(m.cls is HttpGuard for m in app.user_middleware):
        app.add_middleware(HttpGuard, origins=origins)
