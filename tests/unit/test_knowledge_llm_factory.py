"""tools.llm.make_chat_model: configured ChatOpenAI per purpose, or None for the offline path."""

from __future__ import annotations

import pytest
from langchain_openai import ChatOpenAI
from pydantic import SecretStr

from tools.llm import make_chat_model
from tools.settings import Settings


def test_no_key_means_offline(settings: Settings) -> None:
    assert make_chat_model("ava", settings) is None
    assert make_chat_model("extraction") is None


def test_openai_defaults_and_temperatures(settings: Settings) -> None:
    s = settings.model_copy(update={"llm_api_key": "sk-test", "llm_timeout_s": 12.0})
    temps = {}
    for purpose in ("ava", "mentor", "extraction"):
        model = make_chat_model(purpose, s)  # type: ignore[arg-type]
        assert isinstance(model, ChatOpenAI)
        assert model.model_name == "gpt-4o-mini"
        assert isinstance(model.openai_api_key, SecretStr)
        assert model.openai_api_key.get_secret_value() == "sk-test"
        assert model.request_timeout == 12.0 and model.max_retries == 2
        temps[purpose] = model.temperature
    assert temps == {"ava": 0.4, "mentor": 0.5, "extraction": 0.2}


def test_xai_and_explicit_model(settings: Settings) -> None:
    s = settings.model_copy(update={"llm_api_key": "xai-k", "llm_base_url": "https://api.x.ai/v1"})
    model = make_chat_model("mentor", s)
    assert isinstance(model, ChatOpenAI)
    assert model.model_name == "grok-4-fast-reasoning"
    assert model.openai_api_base == "https://api.x.ai/v1"
    s2 = s.model_copy(update={"llm_model": "grok-3-mini"})
    model2 = make_chat_model("mentor", s2)
    assert isinstance(model2, ChatOpenAI) and model2.model_name == "grok-3-mini"
    with pytest.raises(ValueError, match="purpose"):
        make_chat_model("poet", s)  # type: ignore[arg-type]
