"""Application settings from the environment and `.env`.

Unset external credentials select the embedded defaults (Keepa sandbox, restrictions sandbox,
offline model, embedded Redis, SQLite); the same code paths run either way.
"""

from __future__ import annotations

import secrets
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

KEEPA_DOMAINS = {"US": 1, "GB": 2, "DE": 3, "FR": 4, "JP": 5, "CA": 6, "IT": 8, "ES": 9,
                 "IN": 10, "MX": 11, "BR": 12}


class SettingsError(RuntimeError):
    """A configuration value is invalid; the message is one line naming the setting."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", populate_by_name=True
    )

    data_dir: Path = Field(default=Path("./data"))
    database_url: str | None = None
    redis_url: str | None = None

    keepa_api_key: str | None = None
    keepa_api_url: str = "https://api.keepa.com"
    keepa_domain: str = "US"
    keepa_token_floor: int = Field(default=50, ge=0)
    keepa_token_resume: int = Field(default=55, ge=1)
    keepa_wait_deadline_s: float = Field(default=900.0, gt=0)
    sandbox_products: int = Field(default=20_000, ge=10, le=500_000)
    sandbox_seed: int = 42
    sandbox_refill_rate: int = Field(default=20, ge=1)
    sandbox_speed: float = Field(default=1.0, gt=0)  # market minutes per wall minute
    keepa_sandbox_url: str | None = None  # a served sandbox (`arbitrage sandbox serve`)

    # workers (issue 5): schedules in seconds, limits that protect the token budget
    scout_interval_s: float = Field(default=180.0, gt=0)
    scout_on_start: bool = True  # a worker start scouts at once (a fresh install fills fast)
    scout_max_new: int = Field(default=200, ge=1, le=10_000)
    scout_max_pages: int = Field(default=10, ge=1, le=1_000)
    processor_interval_s: float = Field(default=30.0, gt=0)
    processor_max_batch: int = Field(default=100, ge=1, le=100)
    refresher_interval_s: float = Field(default=600.0, gt=0)
    janitor_interval_s: float = Field(default=4 * 3600.0, gt=0)
    janitor_unseen_hours: float = Field(default=72.0, gt=0)
    janitor_ingestion_window_hours: float = Field(default=6.0, gt=0)
    backfill_lock_ttl_s: float = Field(default=120.0, ge=1)
    backfill_page_pause_s: float = Field(default=1.0, ge=0)

    llm_api_key: str | None = Field(
        default=None,
        validation_alias=AliasChoices("LLM_API_KEY", "OPENAI_API_KEY", "XAI_API_KEY"),
    )
    llm_base_url: str | None = None
    llm_model: str | None = None
    llm_timeout_s: float = Field(default=60.0, gt=0)

    spapi_client_id: str | None = None
    spapi_client_secret: str | None = None
    spapi_refresh_token: str | None = None
    spapi_seller_id: str | None = None
    spapi_endpoint: str = "https://sellingpartnerapi-na.amazon.com"
    spapi_lwa_url: str = "https://api.amazon.com/auth/o2/token"
    spapi_marketplace_id: str = "ATVPDKIKX0DER"
    spapi_rate_per_s: float = Field(default=5.0, gt=0)
    spapi_burst: int = Field(default=10, ge=1)
    spapi_rate_wait_deadline_s: float = Field(default=120.0, gt=0)
    spapi_max_attempts: int = Field(default=5, ge=1, le=20)
    spapi_retry_base_s: float = Field(default=0.5, ge=0)
    spapi_retry_max_s: float = Field(default=20.0, ge=0)
    spapi_timeout_s: float = Field(default=20.0, gt=0)
    restrictions_interval_s: float = Field(default=120.0, gt=0)  # beat: keep gating current
    restrictions_per_run: int = Field(default=200, ge=1, le=10_000)  # deals per user per tick

    secret_key: str | None = None
    chainlit_port: int = Field(default=8000, ge=1, le=65535)
    chainlit_host: str = "127.0.0.1"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    @field_validator("keepa_domain")
    @classmethod
    def _known_domain(cls, v: str) -> str:
        v = v.upper()
        if v not in KEEPA_DOMAINS:
            raise ValueError(f"must be one of {', '.join(KEEPA_DOMAINS)}")
        return v

    @field_validator("database_url")
    @classmethod
    def _db_scheme(cls, v: str | None) -> str | None:
        if v and not v.startswith(("sqlite", "postgresql")):
            raise ValueError("must start with sqlite:// or postgresql:// (postgresql+psycopg://)")
        if v and v.startswith("postgresql://"):
            v = "postgresql+psycopg://" + v[len("postgresql://"):]
        return v

    @field_validator("redis_url")
    @classmethod
    def _redis_scheme(cls, v: str | None) -> str | None:
        if v and not v.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must start with redis://, rediss:// or unix://")
        return v or None

    @field_validator("keepa_api_url", "keepa_sandbox_url", "spapi_endpoint", "spapi_lwa_url",
                     "llm_base_url")
    @classmethod
    def _http_url(cls, v: str | None) -> str | None:
        if v and not v.startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL")
        return v.rstrip("/") if v else v

    @model_validator(mode="after")
    def _resume_above_floor(self) -> Settings:
        if self.keepa_token_resume <= self.keepa_token_floor:
            raise ValueError("KEEPA_TOKEN_RESUME must be greater than KEEPA_TOKEN_FLOOR")
        return self

    # ---- derived values -------------------------------------------------------------------

    @property
    def keepa_domain_id(self) -> int:
        return KEEPA_DOMAINS[self.keepa_domain]

    @property
    def keepa_mode(self) -> Literal["live", "sandbox"]:
        return "live" if self.keepa_api_key else "sandbox"

    @property
    def llm_mode(self) -> Literal["openai-compatible", "offline"]:
        return "openai-compatible" if self.llm_api_key else "offline"

    @property
    def spapi_mode(self) -> Literal["live", "sandbox"]:
        return "live" if self.spapi_client_id and self.spapi_client_secret else "sandbox"

    @property
    def redis_mode(self) -> Literal["external", "embedded"]:
        return "external" if self.redis_url else "embedded"

    @property
    def sqlalchemy_url(self) -> str:
        # absolute(), not resolve(): every database session asks, and resolve() walks symlinks
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'arbitrage.db').absolute()}"

    @property
    def is_sqlite(self) -> bool:
        return self.sqlalchemy_url.startswith("sqlite")

    @property
    def log_dir(self) -> Path:
        return self.data_dir / "logs"

    def ensure_dirs(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.log_dir.mkdir(parents=True, exist_ok=True)

    def resolved_secret_key(self) -> str:
        """The key for encrypting stored credentials.

        The embedded default generates one into DATA_DIR on first use so a fresh install works
        with no configuration, and keeps it so stored credentials stay readable across restarts.
        """
        if self.secret_key:
            return self.secret_key
        self.ensure_dirs()
        path = self.data_dir / "secret.key"
        if not path.exists():
            path.write_text(secrets.token_urlsafe(48))
            path.chmod(0o600)
        return path.read_text().strip()


def _one_line(err: ValidationError) -> str:
    first = err.errors()[0]
    loc = first.get("loc") or ()
    name = str(loc[0]).upper() if loc else "settings"
    msg = first.get("msg", "invalid value").removeprefix("Value error, ")
    return f"Invalid setting {name}: {msg}"


def load_settings(**overrides: object) -> Settings:
    """Build settings; an invalid value raises SettingsError with one clear line."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as err:
        raise SettingsError(_one_line(err)) from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return load_settings()


def reset_settings_cache() -> None:
    get_settings.cache_clear()
