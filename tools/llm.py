"""The LLM factory: one OpenAI-compatible chat model per purpose, or None for the offline path.

Every caller (Ava, the mentors, knowledge extraction) goes through here so the endpoint, model,
timeout and retries are configured once; temperature is the only thing that varies by purpose
(extraction wants repeatable structure, mentors a little voice).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from tools.settings import Settings, get_settings

if TYPE_CHECKING:
    from langchain_core.language_models.chat_models import BaseChatModel

Purpose = Literal["ava", "mentor", "extraction"]

TEMPERATURES: dict[str, float] = {"ava": 0.4, "mentor": 0.5, "extraction": 0.2}
DEFAULT_MODEL = "gpt-4o-mini"
XAI_DEFAULT_MODEL = "grok-4-fast-reasoning"
MAX_RETRIES = 2


def default_model(settings: Settings) -> str:
    """The configured model, else a sensible one for the endpoint (xAI or OpenAI)."""
    if settings.llm_model:
        return settings.llm_model
    if settings.llm_base_url and "x.ai" in settings.llm_base_url:
        return XAI_DEFAULT_MODEL
    return DEFAULT_MODEL


def make_chat_model(purpose: Purpose, settings: Settings | None = None) -> BaseChatModel | None:
    """A ChatOpenAI for `purpose` when an LLM key is configured, else None (use offline path)."""
    if purpose not in TEMPERATURES:
        raise ValueError(f"unknown LLM purpose {purpose!r} (one of {', '.join(TEMPERATURES)})")
    settings = settings or get_settings()
    if not settings.llm_api_key:
        return None
    from langchain_openai import ChatOpenAI
    from pydantic import SecretStr

    return ChatOpenAI(
        api_key=SecretStr(settings.llm_api_key),
        base_url=settings.llm_base_url,
        model=default_model(settings),
        temperature=TEMPERATURES[purpose],
        timeout=settings.llm_timeout_s,
        max_retries=MAX_RETRIES,
    )
