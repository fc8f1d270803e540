"""The app's files are its user's alone: DATA_DIR 0700, files 0600, secrets created 0600.

DATA_DIR holds the database (every seller's credentials, chats and settings), the secret key,
the embedded Valkey's password and the logs; another account on the machine must not read any
of it. Each entry point sets the umask so whatever a library creates there (SQLite's files and
journals, log rotation, Celery's schedule, Chainlit's uploads) is born private, and an install
made before this was tightened once at start-up.
"""

from __future__ import annotations

import contextlib
import logging
import os
import stat
import tempfile
import threading
from pathlib import Path

log = logging.getLogger(__name__)
_tightened: set[Path] = set()
_tighten_lock = threading.Lock()

PRIVATE_UMASK = 0o077
DIR_MODE = 0o700
FILE_MODE = 0o600


def private_umask() -> None:
    """New files and directories of this process (and its children) for the owner only."""
    os.umask(PRIVATE_UMASK)


def private_dir(path: Path) -> Path:
    """Create `path` (and parents) as 0700, or make an existing one 0700."""
    path.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    if stat.S_IMODE(path.stat().st_mode) != DIR_MODE:
        path.chmod(DIR_MODE)
    return path


def create_private(path: Path, text: str) -> bool:
    """Write `text` to a new file readable only by its owner, atomically.

    The content is written to a 0600 temporary file and linked into place, so no other
    process ever sees the file empty, half written or with wider permissions. Returns False
    (and leaves the existing file alone) when `path` already exists: the first writer wins.
    """
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")  # 0600 by design
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        try:
            os.link(tmp, path)
        except FileExistsError:
            return False
        return True
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


def replace_private(path: Path, text: str) -> None:
    """Write `text` to `path` (0600), replacing it atomically if it exists."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


APP_SUBDIRS = ("logs", "redis", "session_files", "chat_files", "backups")


def _owner_only(p: Path) -> bool:
    """Drop group and other bits from one path; True when it changed."""
    try:
        st = p.lstat()
    except FileNotFoundError:  # a journal that came and went
        return False
    if stat.S_ISLNK(st.st_mode) or st.st_uid != os.getuid():
        return False  # a symlink's target, or someone else's file, is not ours to change
    mode = stat.S_IMODE(st.st_mode)
    if mode & 0o077 == 0:
        return False
    with contextlib.suppress(FileNotFoundError, PermissionError):
        p.chmod(mode & ~0o077)
        return True
    return False


def tighten(root: Path, subdirs: tuple[str, ...] = APP_SUBDIRS) -> int:
    """Make a data directory, its files and the app's folders in it owner-only.

    For data directories created before the app restricted its files; returns how many
    paths changed. Only the app's own folders are walked: DATA_DIR may be a directory that
    also holds other things (they become unreachable to others with DATA_DIR's 0700 anyway).
    """
    if not root.is_dir():
        return 0
    changed = int(_owner_only(root))
    for entry in root.iterdir():
        if entry.is_symlink():
            continue
        if entry.is_dir():
            if entry.name not in subdirs:
                continue
            for dirpath, _dirnames, filenames in os.walk(entry):
                changed += _owner_only(Path(dirpath))
                changed += sum(_owner_only(Path(dirpath, f)) for f in filenames)
        else:
            changed += _owner_only(entry)
    return changed


def tighten_once(root: Path) -> None:
    """`tighten` a data directory the first time this process uses it."""
    key = root.absolute()
    with _tighten_lock:
        if key in _tightened:
            return
        _tightened.add(key)
    if changed := tighten(key):
        log.warning("made %d files and folders under %s private to their owner", changed, key)
