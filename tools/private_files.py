"""The app's files are its user's alone: DATA_DIR 0700, files 0600, secrets created 0600.

DATA_DIR holds the database (every seller's credentials, chats and settings), the secret key,
the embedded Valkey's password and the logs; another account on the machine must not read any
of it. Each entry point sets the umask so whatever a library creates there (SQLite's files and
journals, log rotation, Celery's schedule, Chainlit's uploads) is born private, and an install
made before this was tightened once at start-up.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from pathlib import Path

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


def tighten(root: Path) -> int:
    """Make `root` 0700 and everything under it owner-only; returns how many were changed.

    For data directories created before the app restricted its files. Symlinks are left
    alone (their targets are not ours to change).
    """
    changed = 0
    if not root.is_dir():
        return 0
    for dirpath, _dirnames, filenames in os.walk(root):
        for name in [*filenames, ""]:
            p = Path(dirpath, name) if name else Path(dirpath)
            try:
                st = p.lstat()
            except FileNotFoundError:  # a journal that came and went
                continue
            if stat.S_ISLNK(st.st_mode) or st.st_uid != os.getuid():
                continue
            mode = stat.S_IMODE(st.st_mode)
            want = mode & ~0o077
            if mode != want:
                with contextlib.suppress(FileNotFoundError, PermissionError):
                    p.chmod(want)
                    changed += 1
    return changed
