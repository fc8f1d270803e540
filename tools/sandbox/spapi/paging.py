"""nextToken for the sandbox's paged operations: where the next page starts (a keyset
position, so records added meanwhile never shift a page), the query it continues, when it was
issued; HMAC-signed so a client cannot forge one, and expiring where SP-API's do."""

from __future__ import annotations

import base64
import json
from typing import Any

from tools.sandbox.spapi.state import SandboxState


class BadToken(ValueError):
    """The nextToken is not one this sandbox issued, is for another query, or has expired."""


def issue(state: SandboxState, operation: str, seller_id: str, body: dict[str, Any]) -> str:
    payload = {"op": operation, "s": seller_id, "iat": state.config.clock.now(), **body}
    raw = base64.urlsafe_b64encode(json.dumps(payload, separators=(",", ":")).encode()).decode()
    return f"{raw}.{state.sign(raw)}"


def read(state: SandboxState, operation: str, seller_id: str, token: str) -> dict[str, Any]:
    raw, _, sig = token.rpartition(".")
    if not raw or len(token) > 4096 or sig != state.sign(raw):
        raise BadToken("The nextToken is not valid.")
    try:
        payload = json.loads(base64.urlsafe_b64decode(raw.encode()))
    except ValueError:
        raise BadToken("The nextToken is not valid.") from None
    if not isinstance(payload, dict) or payload.get("op") != operation:
        raise BadToken("The nextToken is not valid for this operation.")
    if payload.get("s") != seller_id:
        raise BadToken("The nextToken is not valid.")
    ttl = state.config.next_token_ttl_s.get(operation)
    if ttl is not None and state.config.clock.now() - float(payload["iat"]) > ttl:
        raise BadToken("The nextToken has expired.")
    return payload
