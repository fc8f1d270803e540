"""The run context: who is asking, in which role and persona, with which settings.

It travels with each run (LangGraph's `context=`), never inside the chat state, so a message
can not change it: every admin-only tool reads the role from here itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tools.models import Role
from tools.settings import Settings, get_settings

if TYPE_CHECKING:
    from tools.models import User


@dataclass(frozen=True)
class AgentContext:
    """One run's caller. `persona` is the chat profile the user chose (None: Ava decides).
    `renders_tables`: the client draws deal lists itself (the chat UI's DealTable), so answers
    summarize a search instead of repeating it as a markdown table."""

    user_id: int | None = None
    user_name: str = "guest"
    role: str = Role.user.value
    persona: str | None = None
    settings: Settings = field(default_factory=get_settings)
    renders_tables: bool = False
    extras: dict[str, Any] = field(default_factory=dict)

    @property
    def is_admin(self) -> bool:
        return self.role == Role.admin.value

    @property
    def name(self) -> str:
        """`name` and `role` make the context a knowledge `Actor` (approve checks it too)."""
        return self.user_name

    @classmethod
    def for_user(
        cls, user: User | None, *, persona: str | None = None, settings: Settings | None = None
    ) -> AgentContext:
        settings = settings or get_settings()
        if user is None:
            return cls(persona=persona, settings=settings)
        role = getattr(user.role, "value", user.role)
        return cls(
            user_id=user.id, user_name=user.name, role=str(role), persona=persona, settings=settings
        )
