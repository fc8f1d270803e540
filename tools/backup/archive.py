"""The backup file: a gzip'd tar with the manifest first, readable by its owner only.

It holds a secret (DATA_DIR/secret.key, which decrypts stored SP-API credentials), so it is
created 0600 and written under a `.partial` name first: a crash never leaves a file that looks
like a finished backup. Reading accepts only the entries a backup can contain, so a crafted
archive cannot write outside the restore's staging directory.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import tarfile
import time
import zlib
from pathlib import Path, PurePosixPath
from typing import Any

FORMAT = 1
MANIFEST = "manifest.json"
DB_SQLITE = "database.sqlite"
CHECKPOINTS_SQLITE = "checkpoints.sqlite"
DB_PG = "database.pgdump"
SECRET_KEY = "secret.key"
CHAT_FILES = "chat_files"
_TOP = {MANIFEST, DB_SQLITE, CHECKPOINTS_SQLITE, DB_PG, SECRET_KEY, CHAT_FILES}


class BackupError(RuntimeError):
    """A backup cannot be made or restored; the message says why and what to do."""


def _info(name: str, size: int, mode: int = 0o600) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode = size, int(time.time()), mode
    return info


def _add_file(tar: tarfile.TarFile, path: Path, arcname: str) -> None:
    try:
        with open(path, "rb") as fh:
            tar.addfile(_info(arcname, os.fstat(fh.fileno()).st_size), fh)
    except FileNotFoundError:
        pass  # a chat file deleted while the backup ran: it is gone from the app too


def _tree_files(root: Path) -> list[Path]:
    """Regular files under root (symlinks and anything else are not backed up)."""
    if not root.is_dir():
        return []
    found = []
    for dirpath, _dirs, files in os.walk(root):
        for name in sorted(files):
            path = Path(dirpath) / name
            if not path.is_symlink() and path.is_file():
                found.append(path)
    return found


def write_archive(
    dest: Path, manifest: dict[str, Any], files: dict[str, Path], trees: dict[str, Path]
) -> None:
    """Write manifest, files and directory trees to `dest`, readable by its owner only.

    The manifest records how many files each tree had when the backup started (`trees`).
    """
    listed = {arcname: (root, _tree_files(root)) for arcname, root in trees.items()}
    manifest["trees"] = {arcname: len(paths) for arcname, (_, paths) in listed.items()}
    partial = dest.with_name(dest.name + ".partial")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "wb") as raw:
            with tarfile.open(fileobj=raw, mode="w:gz", compresslevel=6) as tar:
                data = json.dumps(manifest, indent=2, default=str).encode()
                tar.addfile(_info(MANIFEST, len(data)), io.BytesIO(data))
                for arcname, path in files.items():
                    _add_file(tar, path, arcname)
                for arcname, (root, paths) in listed.items():
                    for path in paths:
                        _add_file(tar, path, f"{arcname}/{path.relative_to(root).as_posix()}")
            raw.flush()
            os.fsync(raw.fileno())
        os.replace(partial, dest)
    except BaseException:
        with contextlib.suppress(OSError):
            partial.unlink()
        raise


def read_manifest(path: Path) -> dict[str, Any]:
    """The manifest of a backup file, or BackupError saying why it is not one."""
    if not path.is_file():
        raise BackupError(f"no backup file at {path}")
    try:
        with tarfile.open(path, "r:gz") as tar:
            first = tar.next()
            if first is None or first.name != MANIFEST or not first.isfile():
                raise BackupError(f"{path} is not an Agent Arbitrage backup (no manifest)")
            fh = tar.extractfile(first)
            manifest = json.loads(fh.read(1_000_000)) if fh else None
    except (tarfile.TarError, OSError, EOFError, zlib.error, ValueError) as err:
        raise BackupError(f"{path} is not a readable backup: {err}") from None
    if not isinstance(manifest, dict) or "format" not in manifest:
        raise BackupError(f"{path} is not an Agent Arbitrage backup (bad manifest)")
    if manifest["format"] != FORMAT:
        raise BackupError(
            f"{path} has backup format {manifest['format']}; this version "
            f"reads format {FORMAT} (restore it with the version that made it)"
        )
    counts = manifest.get("counts")
    if (
        manifest.get("database") not in ("sqlite", "postgresql")
        or not isinstance(counts, dict)
        or not all(isinstance(k, str) and isinstance(v, int) for k, v in counts.items())
        or not isinstance(manifest.get("revision"), str | None)
        or not isinstance(manifest.get("created_at", ""), str)
    ):
        raise BackupError(f"{path} is not an Agent Arbitrage backup (bad manifest)")
    return manifest


def _safe_name(name: str) -> PurePosixPath:
    p = PurePosixPath(name)
    if p.is_absolute() or ".." in p.parts or not p.parts or p.parts[0] not in _TOP:
        raise BackupError(f"unexpected entry {name!r} in the backup: refusing to restore it")
    if p.parts[0] != CHAT_FILES and len(p.parts) > 1:
        raise BackupError(f"unexpected entry {name!r} in the backup: refusing to restore it")
    return p


def extract(path: Path, dest: Path) -> set[str]:
    """Unpack a backup into `dest` (entries checked first); returns the top-level names."""
    found: set[str] = set()
    try:
        with tarfile.open(path, "r:gz") as tar:
            for member in tar:
                rel = _safe_name(member.name)
                if member.isdir():
                    continue
                if not member.isfile():
                    raise BackupError(
                        f"unexpected entry {member.name!r} (not a regular file) "
                        "in the backup: refusing to restore it"
                    )
                target = dest.joinpath(*rel.parts)
                target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
                src = tar.extractfile(member)
                assert src is not None  # a regular file always has data
                fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
                with src, os.fdopen(fd, "wb") as out:
                    shutil.copyfileobj(src, out, 1 << 20)
                found.add(rel.parts[0])
    except (tarfile.TarError, EOFError, zlib.error) as err:
        raise BackupError(f"{path} is damaged: {err}") from None
    return found
