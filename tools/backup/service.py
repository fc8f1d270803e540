"""Make and restore backups (what they hold and why: tools/backup/__init__.py)."""

from __future__ import annotations

import shutil
import socket
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from tools.backup import archive, postgres, sqlite
from tools.backup.archive import BackupError, read_manifest
from tools.db import dispose_engines, migrate
from tools.private_files import private_dir
from tools.runstate import announce, exclusive
from tools.settings import Settings

__all__ = ["BackupError", "read_manifest"]  # re-exported: callers need only this module

NIGHTLY_GLOB = "arbitrage-nightly-*.tar.gz"


@dataclass
class BackupResult:
    path: Path
    manifest: dict[str, Any]
    seconds: float


@dataclass
class RestoreResult:
    manifest: dict[str, Any]
    counts: dict[str, int]
    safety_backup: Path | None
    revision_before: str | None
    warnings: list[str] = field(default_factory=list)


def backup_name(kind: str = "manual", now: datetime | None = None) -> str:
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%S%fZ")
    return f"arbitrage-{stamp}.tar.gz" if kind == "manual" else f"arbitrage-{kind}-{stamp}.tar.gz"


def _sqlite_path(settings: Settings) -> Path:
    return Path(make_url(settings.sqlalchemy_url).database or "").absolute()


def _checkpoints_path(settings: Settings) -> Path:
    return (settings.data_dir / "checkpoints.db").absolute()  # agent/graph.py open_checkpointer


def _key_file(settings: Settings) -> Path:
    return settings.data_dir / "secret.key"


def _destination(settings: Settings, path: Path | None, kind: str) -> Path:
    if path is None:
        path = private_dir(settings.backups_dir)
    if path.is_dir():
        path = path / backup_name(kind)
    if path.exists():
        raise BackupError(
            f"{path} already exists: choose another name (a backup never overwrites a file)"
        )
    if not path.parent.is_dir():
        raise BackupError(f"no directory {path.parent} to write the backup into")
    return path


def create_backup(
    settings: Settings, path: Path | None = None, kind: str = "manual"
) -> BackupResult:
    """Back up the running (or stopped) app into `path` (a file or directory; default
    BACKUP_DIR). Writers are never blocked."""
    with announce(settings, "backup"):
        return _create(settings, path, kind)


def _create(settings: Settings, path: Path | None, kind: str) -> BackupResult:
    started = time.monotonic()
    dest = _destination(settings, path, kind)
    manifest: dict[str, Any] = {
        "format": archive.FORMAT,
        "kind": kind,
        "created_at": datetime.now(UTC).isoformat(),
        "host": socket.gethostname(),
        "database": "sqlite" if settings.is_sqlite else "postgresql",
    }
    with tempfile.TemporaryDirectory(dir=dest.parent, prefix=".backup-") as tmp:
        staging = Path(tmp)
        files: dict[str, Path] = {}
        if settings.is_sqlite:
            db = staging / archive.DB_SQLITE
            sqlite.online_copy(_sqlite_path(settings), db)
            manifest["counts"] = sqlite.checked_counts(db)
            manifest["revision"] = sqlite.revision(db)
            files[archive.DB_SQLITE] = db
            if _checkpoints_path(settings).is_file():
                cp = staging / archive.CHECKPOINTS_SQLITE
                sqlite.online_copy(_checkpoints_path(settings), cp)
                manifest["checkpoint_counts"] = sqlite.checked_counts(cp)
                files[archive.CHECKPOINTS_SQLITE] = cp
        else:
            dump = staging / archive.DB_PG
            manifest["counts"], manifest["revision"] = postgres.dump(settings, dump)
            files[archive.DB_PG] = dump
        if settings.secret_key:
            manifest["secret_key"] = "environment"  # SECRET_KEY: not ours to copy
        elif _key_file(settings).is_file():
            manifest["secret_key"] = "file"
            files[archive.SECRET_KEY] = _key_file(settings)
        else:
            manifest["secret_key"] = "none"
        chat_files = settings.data_dir / archive.CHAT_FILES
        archive.write_archive(dest, manifest, files, {archive.CHAT_FILES: chat_files})
    return BackupResult(dest, manifest, time.monotonic() - started)


def prune_nightly(settings: Settings, keep: int) -> list[Path]:
    """Delete the oldest nightly backups beyond `keep` (manual and pre-restore ones stay)."""
    found = sorted(settings.backups_dir.glob(NIGHTLY_GLOB))  # names sort by time
    doomed = found[:-keep] if keep > 0 else found
    for path in doomed:
        path.unlink(missing_ok=True)
    return doomed


def nightly_backup(settings: Settings) -> dict[str, Any]:
    """The beat task's body: back up into BACKUP_DIR, then keep the newest BACKUP_KEEP."""
    if settings.backup_keep == 0:
        return {"skipped": "BACKUP_KEEP=0: nightly backups are off"}
    result = create_backup(settings, None, kind="nightly")
    removed = prune_nightly(settings, settings.backup_keep)
    return {
        "path": str(result.path),
        "seconds": round(result.seconds, 2),
        "bytes": result.path.stat().st_size,
        "removed": [p.name for p in removed],
    }


def _check_restorable(settings: Settings, manifest: dict[str, Any]) -> None:
    from alembic.script import ScriptDirectory
    from alembic.util import CommandError

    from tools.db import alembic_config

    kind = "sqlite" if settings.is_sqlite else "postgresql"
    if manifest.get("database") != kind:
        raise BackupError(
            f"this backup holds a {manifest.get('database')} database but "
            f"DATABASE_URL points to {kind}: restore it with the setting it was "
            "made with"
        )
    rev = manifest.get("revision")
    if rev:
        try:
            ScriptDirectory.from_config(alembic_config("sqlite://")).get_revision(rev)
        except CommandError:
            raise BackupError(
                f"this backup's schema revision {rev} is newer than this "
                "version of the app knows: upgrade the app, then restore"
            ) from None


def _current_revision(settings: Settings) -> str | None:
    from tools.db import current_revision

    try:
        return current_revision(settings)
    except Exception:  # no database yet
        return None


def _has_data(settings: Settings) -> bool:
    if settings.is_sqlite:
        return _sqlite_path(settings).is_file()
    return postgres.has_schema(settings)


def restore_backup(settings: Settings, path: Path, *, safety_backup: bool = True) -> RestoreResult:
    """Put a backup back into this DATA_DIR / DATABASE_URL; refuses while the app runs."""
    manifest = read_manifest(path)
    _check_restorable(settings, manifest)
    settings.ensure_dirs()
    with exclusive(settings):
        if not settings.is_sqlite:
            dispose_engines()  # this process's idle connections are not "others"
            others = postgres.other_sessions(settings)
            if others:
                raise BackupError(
                    "other clients are connected to the database: "
                    f"{', '.join(others[:5])}; stop every worker, beat and chat "
                    "process (on every machine) first"
                )
        before = _current_revision(settings)
        safety = None
        if safety_backup and _has_data(settings):
            safety = _create(settings, None, kind="pre-restore").path
        with tempfile.TemporaryDirectory(dir=settings.data_dir, prefix=".restore-") as tmp:
            staging = Path(tmp)
            try:
                found = archive.extract(path, staging)
                counts, warnings = _install(settings, manifest, staging, found)
            except BackupError as err:
                if safety:
                    raise BackupError(
                        f"{err} (the state before this restore is in {safety})"
                    ) from None
                raise
        dispose_engines()
        migrate(settings)
        dispose_engines()
    return RestoreResult(manifest, counts, safety, before, warnings)


def _install(
    settings: Settings, manifest: dict[str, Any], staging: Path, found: set[str]
) -> tuple[dict[str, int], list[str]]:
    """Check everything unpacked, then put each part in place; returns counts and warnings."""
    expected = manifest.get("counts") or {}
    dispose_engines()
    if settings.is_sqlite:
        if archive.DB_SQLITE not in found:
            raise BackupError("the backup has no database file")
        counts = sqlite.checked_counts(staging / archive.DB_SQLITE)
        _same_counts(expected, counts)
        if archive.CHECKPOINTS_SQLITE in found:
            sqlite.checked_counts(staging / archive.CHECKPOINTS_SQLITE)
        sqlite.install(staging / archive.DB_SQLITE, _sqlite_path(settings))
        if archive.CHECKPOINTS_SQLITE in found:
            sqlite.install(staging / archive.CHECKPOINTS_SQLITE, _checkpoints_path(settings))
        else:
            sqlite.remove(_checkpoints_path(settings))  # they would belong to other threads
    else:
        if archive.DB_PG not in found:
            raise BackupError("the backup has no database dump")
        counts = postgres.restore(settings, staging / archive.DB_PG)
        _same_counts(expected, counts)
    warnings = _install_files(settings, manifest, staging, found)
    return counts, warnings


def _install_files(
    settings: Settings, manifest: dict[str, Any], staging: Path, found: set[str]
) -> list[str]:
    warnings = []
    if archive.SECRET_KEY in found:
        key = (staging / archive.SECRET_KEY).read_text().strip()
        target = _key_file(settings)
        tmp = target.with_name(".secret.key.restoring")
        shutil.copyfile(staging / archive.SECRET_KEY, tmp)
        tmp.chmod(0o600)
        tmp.replace(target)
        if settings.secret_key and settings.secret_key != key:
            warnings.append(
                "SECRET_KEY is set and differs from the restored secret.key: "
                "credentials stored with the backup's key cannot be decrypted "
                "until SECRET_KEY is unset or set to the file's value"
            )
    elif manifest.get("secret_key") == "environment":
        warnings.append(
            "this backup was made with SECRET_KEY set in the environment: the "
            "same SECRET_KEY must be set here, or stored SP-API credentials "
            "cannot be decrypted"
        )
    target = settings.data_dir / archive.CHAT_FILES
    old = staging / ".old-chat-files"
    if target.exists():
        target.rename(old)
    if archive.CHAT_FILES in found:
        shutil.move(staging / archive.CHAT_FILES, target)
    return warnings


def _same_counts(expected: dict[str, int], actual: dict[str, int]) -> None:
    diff = {t: (n, actual.get(t)) for t, n in expected.items() if actual.get(t) != n}
    if diff:
        shown = ", ".join(f"{t} {a} of {e}" for t, (e, a) in sorted(diff.items())[:5])
        raise BackupError(
            f"the restored rows do not match the backup's manifest ({shown}); the backup is damaged"
        )
