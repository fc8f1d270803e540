"""`arbitrage backup [PATH]` and `arbitrage restore PATH` (registered by chat_ui/cli.py).

The work happens in tools/backup/service.py, imported inside the commands so the CLI starts
quickly.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from tools.cli import console, err_console, load_settings_or_exit

# the tables a person recognises; the manifest has every table
SHOWN = (
    ("deal", "deals"),
    ("user", "users"),
    ("threads", "chat threads"),
    ("steps", "chat messages"),
    ("strategy", "strategies"),
    ("mental_model", "mental models"),
    ("user_credential", "SP-API credentials"),
    ("checkpoints", "agent checkpoints"),
)


def _summary(counts: dict[str, int]) -> str:
    return ", ".join(f"{counts[t]} {label}" for t, label in SHOWN if t in counts)


def backup_command(
    path: Annotated[
        Path | None,
        typer.Argument(
            help="file or directory to write (default: BACKUP_DIR, i.e. DATA_DIR/backups)"
        ),
    ] = None,
) -> None:
    """Back up the database, agent checkpoints, secret key and chat files while the app runs."""
    from tools.backup.service import BackupError, create_backup
    from tools.runstate import RestoreInProgress

    settings = load_settings_or_exit()
    try:
        result = create_backup(settings, path)
    except (BackupError, RestoreInProgress) as err:
        err_console.print(f"[red]{err}[/red]")
        raise typer.Exit(1) from None
    m = result.manifest
    size = result.path.stat().st_size / 1e6
    console.print(
        f"[green]Backup written[/green]: [bold]{result.path}[/bold] ({size:.1f} MB, "
        f"{result.seconds:.1f} s; schema {m.get('revision')})"
    )
    console.print(
        f"Contains {_summary({**m['counts'], **_checkpoints(m)})}, "
        f"{m['trees'].get('chat_files', 0)} chat files."
    )
    if m["secret_key"] == "file":
        console.print(
            "[yellow]It contains secret.key (decrypts stored SP-API credentials): "
            "keep it private (the file is readable by you only).[/yellow]"
        )
    elif m["secret_key"] == "environment":
        console.print(
            "[yellow]SECRET_KEY is set in the environment, so it is not in the "
            "backup: keep it safe; a restore needs the same SECRET_KEY.[/yellow]"
        )


def _checkpoints(m: dict) -> dict[str, int]:  # type: ignore[type-arg]
    cp = m.get("checkpoint_counts") or {}
    return {"checkpoints": cp["checkpoints"]} if "checkpoints" in cp else {}


def restore_command(
    path: Annotated[Path, typer.Argument(help="a file made by `arbitrage backup`")],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="do not ask for confirmation")] = False,
) -> None:
    """Replace this DATA_DIR's data with a backup (refused while the app runs)."""
    from tools.backup.service import BackupError, read_manifest, restore_backup
    from tools.runstate import AppRunning

    settings = load_settings_or_exit()
    try:
        m = read_manifest(path)
    except BackupError as err:
        err_console.print(f"[red]{err}[/red]")
        raise typer.Exit(1) from None
    target = (
        settings.data_dir.resolve()
        if settings.is_sqlite
        else "the PostgreSQL database in DATABASE_URL"
    )
    console.print(
        f"Backup of {str(m.get('created_at', '?'))[:19]} from {m.get('host', '?')} "
        f"(schema {m.get('revision')}): {_summary({**m['counts'], **_checkpoints(m)})}"
    )
    if not yes and not typer.confirm(f"Replace the data in {target} with it?"):
        raise typer.Exit(1)
    try:
        result = restore_backup(settings, path)
    except (BackupError, AppRunning) as err:
        err_console.print(f"[red]{err}[/red]")
        raise typer.Exit(1) from None
    if result.safety_backup:
        console.print(f"The data it replaced is saved in {result.safety_backup}")
    table = Table("table", "rows", title="Restored")
    for t, label in SHOWN:
        if t in result.counts:
            table.add_row(label, str(result.counts[t]))
    console.print(table)
    for warning in result.warnings:
        console.print(f"[yellow]{warning}[/yellow]")
    console.print("[green]Restored.[/green] Start the app with `arbitrage up`.")
