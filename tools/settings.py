"""Application settings from the environment and `.env`.

Unset external credentials select the embedded defaults (Keepa sandbox, restrictions sandbox,
offline model, embedded Redis, SQLite); the same code paths run either way.
"""

from __future__ import annotations

import math
import secrets
from functools import lru_cache
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import AliasChoices, Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from tools.private_files import create_private, private_dir, tighten_once

_DAY = 24 * 3600.0
MIN_SECRET_KEY = 32
KEEPA_DOMAINS = {
    "US": 1,
    "GB": 2,
    "DE": 3,
    "FR": 4,
    "JP": 5,
    "CA": 6,
    "IT": 8,
    "ES": 9,
    "IN": 10,
    "MX": 11,
    "BR": 12,
}


class SettingsError(RuntimeError):
    """A configuration value is invalid; the message is one line naming the setting."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        populate_by_name=True,
        allow_inf_nan=False,  # SPAPI_RATE_PER_S=inf would switch throttling off
    )

    data_dir: Path = Field(default=Path("./data"))
    database_url: str | None = None
    redis_url: str | None = None

    keepa_api_key: str | None = None
    keepa_api_url: str = "https://api.keepa.com"
    keepa_domain: str = "US"
    keepa_token_floor: int = Field(default=50, ge=0, le=100_000)
    keepa_token_resume: int = Field(default=55, ge=1, le=100_000)
    keepa_wait_deadline_s: float = Field(default=900.0, ge=1, le=7 * _DAY)
    sandbox_products: int = Field(default=20_000, ge=10, le=500_000)
    sandbox_seed: int = 42
    sandbox_refill_rate: int = Field(default=20, ge=1, le=100_000)
    sandbox_speed: float = Field(default=1.0, ge=0.01, le=100_000)  # market minutes per wall minute
    keepa_sandbox_url: str | None = None  # a served sandbox (`arbitrage sandbox serve`)
    # "SPEED,MARKET_EPOCH,WALL_EPOCH": an accelerated market clock every process shares (the
    # served sandbox and the workers agree on market time; tools/clock.py ScaledClock.spec)
    sandbox_clock: str | None = None
    # products whose generated history the in-process sandbox keeps (~0.2 MB each with their
    # deal objects): 250 holds a scout's pages and a processor batch
    sandbox_cache_products: int = Field(default=250, ge=10, le=100_000)

    # workers (issue 5): schedules in seconds, limits that protect the token budget
    scout_interval_s: float = Field(default=180.0, ge=10, le=_DAY)
    scout_on_start: bool = True  # a worker start scouts at once (a fresh install fills fast)
    scout_max_new: int = Field(default=200, ge=1, le=10_000)
    scout_max_pages: int = Field(default=10, ge=1, le=1_000)
    processor_interval_s: float = Field(default=30.0, ge=1, le=_DAY)
    processor_max_batch: int = Field(default=100, ge=1, le=100)
    refresher_interval_s: float = Field(default=600.0, ge=10, le=_DAY)
    janitor_interval_s: float = Field(default=4 * 3600.0, ge=60, le=7 * _DAY)
    janitor_unseen_hours: float = Field(default=72.0, ge=1, le=24 * 365)
    janitor_ingestion_window_hours: float = Field(default=6.0, ge=0.1, le=24 * 30)
    # status and the admin's chat say "ingestion stalled" when the scout or the processor
    # has not succeeded for this long (tools/ingestion.py)
    ingestion_stall_minutes: float = Field(default=15.0, ge=1, le=7 * 24 * 60)
    backfill_lock_ttl_s: float = Field(default=120.0, ge=1, le=_DAY)
    backfill_page_pause_s: float = Field(default=1.0, ge=0, le=3600)

    llm_api_key: str | None = Field(
        default=None,
        validation_alias=AliasChoices("LLM_API_KEY", "OPENAI_API_KEY", "XAI_API_KEY"),
    )
    llm_base_url: str | None = None
    llm_model: str | None = None
    llm_timeout_s: float = Field(default=60.0, ge=1, le=3600)

    spapi_client_id: str | None = None
    spapi_client_secret: str | None = None
    spapi_refresh_token: str | None = None
    spapi_seller_id: str | None = None
    spapi_endpoint: str = "https://sellingpartnerapi-na.amazon.com"
    spapi_lwa_url: str = "https://api.amazon.com/auth/o2/token"
    spapi_marketplace_id: str = "ATVPDKIKX0DER"
    spapi_rate_per_s: float = Field(default=5.0, ge=0.01, le=1000)
    spapi_burst: int = Field(default=10, ge=1, le=10_000)
    spapi_rate_wait_deadline_s: float = Field(default=120.0, ge=1, le=_DAY)
    spapi_max_attempts: int = Field(default=5, ge=1, le=20)
    spapi_retry_base_s: float = Field(default=0.5, ge=0, le=600)
    spapi_retry_max_s: float = Field(default=20.0, ge=0, le=3600)
    spapi_timeout_s: float = Field(default=20.0, ge=1, le=600)
    restrictions_interval_s: float = Field(default=120.0, ge=10, le=_DAY)  # keep gating current
    restrictions_per_run: int = Field(default=200, ge=1, le=10_000)  # deals per user per tick
    # each seller's top deals (per sort: ROI, profit) checked first: soon after the worker
    # starts, then every interval (tools/restrictions/top.py); 0 turns it off
    restrictions_top_n: int = Field(default=30, ge=0, le=100)
    restrictions_top_interval_s: float = Field(default=180.0, ge=10, le=_DAY)
    restrictions_top_start_delay_s: float = Field(default=30.0, ge=0, le=3600)
    # the seller's Amazon data (issue 19): how often each stream syncs, and how far back
    spapi_inventory_interval_s: float = Field(default=1800.0, ge=60, le=_DAY)
    spapi_orders_interval_s: float = Field(default=900.0, ge=60, le=_DAY)  # orders + finances
    spapi_history_days: float = Field(default=365.0, ge=1, le=730)  # the first sync's reach
    spapi_order_items_days: float = Field(default=7.0, ge=0, le=90)  # items read for these
    spapi_finances_overlap_h: float = Field(default=48.0, ge=0, le=24 * 30)  # late postings
    spapi_sync_slice_s: float = Field(default=240.0, ge=10, le=_DAY)  # then continue anew
    spapi_sync_lock_ttl_s: float = Field(default=60.0, ge=1, le=3600)  # renewed while running

    # backups (issue 20): `arbitrage backup` / `restore`, and a nightly backup from beat
    backup_dir: Path | None = None  # default DATA_DIR/backups
    backup_keep: int = Field(default=7, ge=0, le=1000)  # nightly backups kept; 0 = none made
    backup_hour: int = Field(default=3, ge=0, le=23)  # UTC hour of the nightly backup

    # alerts and daily picks (issue 18): matching after each processor batch, delivery by an
    # outbox task; webhook and SMTP targets must be public addresses unless listed here
    alerts_interval_s: float = Field(default=60.0, ge=5, le=_DAY)  # backstop match/deliver tick
    alerts_allowed_networks: str | None = None  # e.g. "10.0.0.0/8,127.0.0.1": an admin's choice
    alerts_max_failures: int = Field(default=5, ge=1, le=100)  # then the webhook/email is disabled
    alerts_timeout_s: float = Field(default=10.0, ge=1, le=120)
    smtp_host: str | None = None
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_tls: Literal["starttls", "ssl", "none"] = "starttls"
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_from: str = "Agent Arbitrage <alerts@localhost>"

    # Prometheus /metrics on the chat (issue 20): loopback-only unless METRICS_TOKEN is set,
    # then for any client sending `Authorization: Bearer <METRICS_TOKEN>`
    metrics_enabled: bool = True
    metrics_token: str | None = Field(default=None, min_length=16, max_length=200)

    secret_key: str | None = None
    # chat sign-in: how long a login lasts, and the URL(s) browsers open the app at
    session_lifetime_hours: float = Field(default=12.0, ge=0.1, le=24 * 30)
    allowed_origins: str | None = None  # comma separated; default: the local chat URLs
    # a chat message longer than this is refused, and not stored (one seller's disk use)
    max_message_chars: int = Field(default=8_000, ge=100, le=1_000_000)
    # the conversation a thread keeps for the model, in ~tokens (older turns are dropped)
    chat_history_tokens: int = Field(default=8_000, ge=500, le=1_000_000)
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

    @field_validator("sandbox_clock")
    @classmethod
    def _clock_spec(cls, v: str | None) -> str | None:
        if not v:
            return None
        try:
            speed, market, wall = (float(x) for x in v.split(","))
        except ValueError:
            raise ValueError("must be SPEED,MARKET_EPOCH,WALL_EPOCH (three numbers)") from None
        if not (0.01 <= speed <= 100_000) or not all(map(math.isfinite, (market, wall))):
            raise ValueError("speed must be 0.01 to 100000 and the epochs finite")
        return v

    @property
    def sandbox_clock_spec(self) -> tuple[float, float, float] | None:
        if not self.sandbox_clock:
            return None
        speed, market, wall = (float(x) for x in self.sandbox_clock.split(","))
        return speed, market, wall

    @field_validator("database_url")
    @classmethod
    def _db_scheme(cls, v: str | None) -> str | None:
        if v and not v.startswith(("sqlite", "postgresql")):
            raise ValueError("must start with sqlite:// or postgresql:// (postgresql+psycopg://)")
        if v and v.startswith("postgresql://"):
            v = "postgresql+psycopg://" + v[len("postgresql://") :]
        return v

    @field_validator("redis_url")
    @classmethod
    def _redis_scheme(cls, v: str | None) -> str | None:
        if v and not v.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must start with redis://, rediss:// or unix://")
        return v or None

    @field_validator(
        "keepa_api_url", "keepa_sandbox_url", "spapi_endpoint", "spapi_lwa_url", "llm_base_url"
    )
    @classmethod
    def _http_url(cls, v: str | None) -> str | None:
        if v and not v.startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL")
        return v.rstrip("/") if v else v

    @field_validator("alerts_allowed_networks")
    @classmethod
    def _networks(cls, v: str | None) -> str | None:
        import ipaddress

        for part in (v or "").split(","):
            if part.strip():
                try:
                    ipaddress.ip_network(part.strip(), strict=False)
                except ValueError:
                    raise ValueError(f"{part.strip()!r} is not an address or network") from None
        return v or None

    @field_validator("secret_key")
    @classmethod
    def _long_secret(cls, v: str | None) -> str | None:
        if v is not None and len(v) < MIN_SECRET_KEY:
            raise ValueError(
                f"must be at least {MIN_SECRET_KEY} characters (it protects stored "
                "credentials and sign-in sessions); leave it unset to have one "
                "generated into DATA_DIR"
            )
        return v

    @field_validator("allowed_origins")
    @classmethod
    def _origins(cls, v: str | None) -> str | None:
        if v is None or not v.strip():
            return None
        return ",".join(normalize_origin(o) for o in v.split(",") if o.strip())

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
    def checkpoints_path(self) -> Path:
        """The agent's SQLite checkpoint file (on PostgreSQL they live in the database)."""
        return self.data_dir / "checkpoints.db"

    @property
    def log_dir(self) -> Path:
        return self.data_dir / "logs"

    def origins(self, port: int | None = None, host: str | None = None) -> list[str]:
        """Origins (scheme://host[:port]) a browser may use the chat from.

        ALLOWED_ORIGINS when set; else the chat's own local URLs on `port` (default
        CHAINLIT_PORT) and, when it binds one address, `host`. Behind a proxy or on another
        host, set it to the URL users open (https://arbitrage.example.com).
        """
        if self.allowed_origins:
            return self.allowed_origins.split(",")
        port = port or self.chainlit_port
        host = host or self.chainlit_host
        hosts = {"127.0.0.1", "localhost", "[::1]"}
        if host not in ("0.0.0.0", "::", "127.0.0.1", "localhost", "::1", ""):
            hosts.add(f"[{host}]" if ":" in host else host)
        return sorted(f"{scheme}://{h}:{port}" for h in hosts for scheme in ("http", "https"))

    @property
    def session_lifetime_s(self) -> int:
        return int(self.session_lifetime_hours * 3600)

    @property
    def backups_dir(self) -> Path:
        return self.backup_dir or self.data_dir / "backups"

    def ensure_dirs(self) -> None:
        """DATA_DIR and its logs exist and are the owner's alone (older installs made 0755
        and 0644 files are tightened once per process)."""
        private_dir(self.data_dir)
        private_dir(self.log_dir)
        tighten_once(self.data_dir)

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
            create_private(path, secrets.token_urlsafe(48))  # a racing process's key wins
        return path.read_text().strip()


def normalize_origin(value: str) -> str:
    """`scheme://host[:port]` as browsers send it in the Origin header (no default port)."""
    text = value.strip().rstrip("/")
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{text!r} is not an http:// or https:// origin")
    if parts.path or parts.query or parts.fragment or parts.username:
        raise ValueError(f"{text!r}: an origin is scheme://host[:port], without a path")
    try:
        port = parts.port
    except ValueError:
        raise ValueError(f"{text!r} has an invalid port") from None
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    default = 443 if parts.scheme == "https" else 80
    return f"{parts.scheme}://{host}" + (f":{port}" if port and port != default else "")


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
    except UnicodeDecodeError as err:
        raise SettingsError(
            f"Invalid settings file .env: not UTF-8 text (byte "
            f"0x{err.object[err.start]:02x} at offset {err.start}); save it "
            "as UTF-8"
        ) from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return load_settings()


def reset_settings_cache() -> None:
    get_settings.cache_clear()
