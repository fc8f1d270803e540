"""The token envelope Keepa attaches to every response (also to 429s)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class TokenEnvelope:
    tokens_left: int
    refill_in_ms: int
    refill_rate: int
    timestamp_ms: int
    tokens_consumed: int = 0
    token_flow_reduction: float = 0.0
    processing_ms: int = 0

    @classmethod
    def from_body(cls, body: dict[str, Any]) -> TokenEnvelope | None:
        """None when the body has no envelope (e.g. a proxy error page)."""
        try:
            return cls(
                tokens_left=int(body["tokensLeft"]),
                refill_in_ms=int(body.get("refillIn") or 0),
                refill_rate=int(body.get("refillRate") or 0),
                timestamp_ms=int(body.get("timestamp") or 0),
                tokens_consumed=int(body.get("tokensConsumed") or 0),
                token_flow_reduction=float(body.get("tokenFlowReduction") or 0.0),
                processing_ms=int(body.get("processingTimeInMs") or 0),
            )
        except (KeyError, TypeError, ValueError):
            return None

    def as_dict(self) -> dict[str, Any]:
        return {
            "tokensLeft": self.tokens_left,
            "refillIn": self.refill_in_ms,
            "refillRate": self.refill_rate,
            "timestamp": self.timestamp_ms,
            "tokensConsumed": self.tokens_consumed,
            "tokenFlowReduction": self.token_flow_reduction,
            "processingTimeInMs": self.processing_ms,
        }
