"""Logging for every process: one rotating file per process under DATA_DIR/logs."""

from __future__ import annotations

import logging
import logging.handlers
from pathlib import Path

from tools.settings import Settings, get_settings

_FORMAT = "%(asctime)s %(levelname)s %(processName)s %(name)s: %(message)s"


def setup_logging(process: str, settings: Settings | None = None, console: bool = False) -> Path:
    """Send this process's logs to DATA_DIR/logs/<process>.log (10 MB x 5 files)."""
    settings = settings or get_settings()
    settings.ensure_dirs()
    path = settings.log_dir / f"{process}.log"
    root = logging.getLogger()
    root.setLevel(settings.log_level)
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
    for noisy in ("httpx", "httpcore", "alembic.runtime.migration"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    return path
