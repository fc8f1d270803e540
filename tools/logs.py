"""Logging for every process: one rotating file per process under DATA_DIR/logs."""

from __future__ import annotations

import logging
import logging.handlers
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # `up`'s supervisor logs without loading pydantic
    from tools.settings import Settings

_FORMAT = "%(asctime)s %(levelname)s %(processName)s %(name)s: %(message)s"


def setup_logging(process: str, settings: Settings | None = None, console: bool = False) -> Path:
    """Send this process's logs to DATA_DIR/logs/<process>.log (10 MB x 5 files)."""
    if settings is None:
        from tools.settings import get_settings

        settings = get_settings()
    settings.ensure_dirs()
    path = settings.log_dir / f"{process}.log"
    log_to_file(path, settings.log_level, console)
    return path


def log_to_file(path: Path, level: str = "INFO", console: bool = False) -> None:
    """setup_logging() for a process that has the log's path but no settings."""
    root = logging.getLogger()
    root.setLevel(level)
    for handler in list(root.handlers):
        if getattr(handler, "_arbitrage", False):
            root.removeHandler(handler)
    file_handler = logging.handlers.RotatingFileHandler(
        path, maxBytes=10 * 1024 * 1024, backupCount=5, encoding="utf-8"
    )
    file_handler.setFormatter(logging.Formatter(_FORMAT))
    file_handler._arbitrage = True  # type: ignore[attr-defined]
    root.addHandler(file_handler)
    if console:
        stream = logging.StreamHandler()
        stream.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        stream._arbitrage = True  # type: ignore[attr-defined]
        root.addHandler(stream)
    for noisy in ("httpx", "httpcore", "alembic.runtime.migration", "alembic.runtime.plugins"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
