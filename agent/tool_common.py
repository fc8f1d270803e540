"""What every agent tool module shares: the error a tool raises, the run context it reads,
ASIN checking and compact JSON (agent/tools.py and agent/tracking_tools.py use them)."""

from __future__ import annotations

import json
import re
from typing import Any

from langchain_core.tools import ToolException
from langgraph.prebuilt import ToolRuntime

from agent.context import AgentContext

_ASIN = re.compile(r"^[A-Z0-9]{10}$")


class ToolError(ToolException):
    """A tool could not do what was asked; the message tells the model (and user) why."""


def context_of(runtime: ToolRuntime | None) -> AgentContext:
    ctx = getattr(runtime, "context", None)
    return ctx if isinstance(ctx, AgentContext) else AgentContext()


def require_admin(ctx: AgentContext, what: str) -> None:
    """Refuse a non-admin inside the tool: a model can call a tool it was never offered."""
    if not ctx.is_admin:
        raise ToolError(
            f"Refused: {what} is for admins only, and {ctx.user_name} is not an "
            "admin. Tell the user an admin has to do this; do not retry."
        )


def check_asin(value: str) -> str:
    asin = (value or "").strip().upper().replace("-", "")
    if not _ASIN.match(asin):
        raise ToolError(
            f"'{value}' is not an ASIN: give 10 letters/digits, e.g. B0CXYZ1234 or "
            "an ISBN-10 like 0134685997"
        )
    return asin


def to_json(data: Any) -> str:
    return json.dumps(data, default=str, separators=(",", ":"))
