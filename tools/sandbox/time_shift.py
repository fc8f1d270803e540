"""Moving the simulated world's clock forward by hand: "advance the sandbox 10 days".

The Keepa sandbox market and the SP-API sandbox world (one world, one clock) run on wall time
(or a ScaledClock); a seller trying the loop end to end wants to see a purchase arrive and
sell without waiting days. The jump is kept in DATA_DIR/run/sandbox_clock.json, so every
process of the deployment (the chat, the workers, `arbitrage` commands) reads the same world
time: each process's sandbox clock is its base clock plus this shift (tools/keepa/factory.py).
The shift only grows; the file is replaced atomically under a lock. A process reads the file
at most every READ_EVERY_S, so a jump reaches every process within that time.
"""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path

READ_EVERY_S = 0.25
MAX_SHIFT_S = 3650 * 86400.0  # ten simulated years
_cache: dict[Path, tuple[float, float]] = {}  # file -> (read at, monotonic; shift)
_lock = threading.Lock()


def shift_file(data_dir: Path) -> Path:
    return Path(data_dir) / "run" / "sandbox_clock.json"


def _read(path: Path) -> float:
    try:
        value = float(json.loads(path.read_text()).get("shift_s", 0.0))
    except (OSError, ValueError, AttributeError):
        return 0.0
    return min(max(0.0, value), MAX_SHIFT_S)


def shift_s(data_dir: Path) -> float:
    """Seconds the world's clock is ahead of its base clock (0 when never advanced)."""
    path = shift_file(data_dir)
    now = time.monotonic()
    cached = _cache.get(path)
    if cached is not None and now - cached[0] < READ_EVERY_S:
        return cached[1]
    value = _read(path)
    _cache[path] = (now, value)
    return value


def advance(data_dir: Path, seconds: float) -> float:
    """Move the world's clock forward by `seconds` for every process; returns the new shift."""
    if not 0 < seconds <= MAX_SHIFT_S:
        raise ValueError(f"advance by 0 to {MAX_SHIFT_S / 86400:.0f} days")
    import fcntl

    from tools.private_files import private_dir

    path = shift_file(data_dir)
    private_dir(path.parent)
    with _lock, open(path.with_suffix(".lock"), "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        value = min(_read(path) + seconds, MAX_SHIFT_S)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"shift_s": value, "at": time.time()}))
        os.replace(tmp, path)
        _cache[path] = (time.monotonic(), value)
    return value
