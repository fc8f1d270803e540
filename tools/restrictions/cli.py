"""`arbitrage restrictions ...`: check gating, connect a seller account, serve the sandbox.

Heavy imports happen inside the commands so registering this sub-app costs nothing.
"""

from __future__ import annotations

import json
import sys
from typing import Annotated, Any

import typer
from rich.table import Table

from tools.cli import (
    console,
    err_console,
    friendly_errors,
    load_settings_or_exit,
    warn_secret_flags,
)

restrictions_app = typer.Typer(
    help="Amazon listing restrictions (gating) per seller.", no_args_is_help=True
)


class _CliError(RuntimeError):
    pass


def _user_ids(session: Any, name: str | None) -> list[tuple[int, str]]:
    from tools.users import get_user, list_users

    if name:
        user = get_user(session, name)
        if user is None or user.id is None:
            raise _CliError(f"no user named {name!r}")
        return [(user.id, user.name)]
    return [(u.id, u.name) for u in list_users(session) if u.id is not None]


@restrictions_app.command("check")
@friendly_errors(_CliError, ValueError)
def check(
    user: Annotated[
        str | None, typer.Option("--user", help="one user (default: every user)")
    ] = None,
    asin: Annotated[str | None, typer.Option(help="check just this ASIN")] = None,
    condition: Annotated[
        str, typer.Option(help="condition, e.g. used_very_good, 'Used - Good'")
    ] = "used_very_good",
    limit: Annotated[int | None, typer.Option(help="check at most N deals per user")] = None,
    force: Annotated[bool, typer.Option("--force", help="ignore stored answers (--asin)")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="machine-readable output")] = False,
) -> None:
    """Check active deals (newest first) or one ASIN against SP-API listing restrictions."""
    from tools.db import migrate, session_scope
    from tools.redis_embedded import ensure_redis
    from tools.restrictions.bulk import check_all_for_user_sync
    from tools.restrictions.service import check_restriction_sync

    settings = load_settings_or_exit()
    migrate(settings)
    with session_scope(settings) as session:
        users = _user_ids(session, user)
    if not users:
        raise _CliError("no users yet: add one with `arbitrage users add NAME`")
    url, owner = ensure_redis(settings)
    settings = settings.model_copy(update={"redis_url": url})
    try:
        if asin:
            results = [
                (
                    name,
                    check_restriction_sync(settings, uid, asin, condition, force=force).as_dict(),
                )
                for uid, name in users
            ]
            if as_json:
                print(json.dumps([{"user": n, **r} for n, r in results]))
                return
            table = Table("user", "asin", "condition", "state", "reason", "approval / message")
            for name, r in results:
                table.add_row(
                    name,
                    r["asin"],
                    r["condition"],
                    r["state"],
                    r["reason_code"] or "-",
                    r["approval_url"] or r["message"] or "-",
                )
            console.print(table)
            return
        runs = []
        for uid, name in users:
            console.print(f"checking deals for [bold]{name}[/bold] ...") if not as_json else None
            runs.append((name, check_all_for_user_sync(settings, uid, limit=limit)))
    finally:
        if owner:
            owner.stop()
    if as_json:
        print(json.dumps([{"user": n, **p} for n, p in runs]))
        return
    table = Table("user", "state", "checked", "allowed", "restricted", "errors", "note")
    for name, p in runs:
        table.add_row(
            name,
            p.get("state", "?"),
            f"{p.get('done', 0)}/{p.get('total', 0)}",
            str(p.get("allowed", 0)),
            str(p.get("restricted", 0)),
            str(p.get("errors", 0)),
            p.get("message") or "",
        )
    console.print(table)


def _read_secret(label: str, required: bool) -> str | None:
    if not sys.stdin.isatty():
        line = sys.stdin.readline().strip()
        if not line and required:
            raise typer.BadParameter(f"no {label} given on standard input")
        return line or None
    value = typer.prompt(
        label, hide_input=True, default="" if not required else None, show_default=False
    )
    return value.strip() or None


@restrictions_app.command("connect")
@friendly_errors(_CliError, ValueError)
def connect(
    name: str,
    seller_id: Annotated[str, typer.Option("--seller-id", help="Amazon merchant token")],
    refresh_token: Annotated[
        str | None,
        typer.Option("--refresh-token", help="LWA refresh token (else prompted / read from stdin)"),
    ] = None,
    client_id: Annotated[
        str | None, typer.Option("--client-id", help="LWA app client id (default: SPAPI_CLIENT_ID)")
    ] = None,
    client_secret: Annotated[
        str | None,
        typer.Option("--client-secret", help="LWA client secret (else prompted / read from stdin)"),
    ] = None,
) -> None:
    """Connect a user's Amazon seller account; secrets are stored encrypted, shown masked.

    Without --refresh-token the token is prompted for (or read as the first line of stdin);
    with --client-id and no --client-secret the secret is read the same way.
    """
    from tools.db import migrate, session_scope
    from tools.restrictions.credentials import connect_account
    from tools.restrictions.lwa import clear_token_cache

    warn_secret_flags(refresh_token=refresh_token, client_secret=client_secret)
    settings = load_settings_or_exit()
    migrate(settings)
    token = refresh_token or _read_secret("Refresh token", True)
    if client_id and not client_secret:
        client_secret = _read_secret("Client secret", True)
    with session_scope(settings) as session:
        ((uid, _),) = _user_ids(session, name)
        view = connect_account(
            session, settings, uid, seller_id, token or "", client_id, client_secret
        )
    clear_token_cache()
    console.print(
        f"connected [bold]{name}[/bold]: seller {view.seller_id}, refresh token "
        f"{view.refresh_token}, client id {view.client_id}, client secret "
        f"{view.client_secret}"
    )
    if not (client_id or settings.spapi_client_id):
        err_console.print(
            "[yellow]no LWA client id: pass --client-id/--client-secret or set "
            "SPAPI_CLIENT_ID/SPAPI_CLIENT_SECRET before checking[/yellow]"
        )


@restrictions_app.command("show")
@friendly_errors(_CliError, ValueError)
def show(name: str) -> None:
    """A user's connection (secrets masked) and last bulk check progress."""
    from tools.db import migrate, session_scope
    from tools.restrictions.credentials import credential_view
    from tools.restrictions.progress import restrictions_progress

    settings = load_settings_or_exit()
    migrate(settings)
    with session_scope(settings) as session:
        ((uid, _),) = _user_ids(session, name)
        view = credential_view(session, settings, uid)
        progress = restrictions_progress(session, uid)
    if view is None:
        mode = (
            "the restrictions sandbox"
            if settings.spapi_mode == "sandbox"
            else "nothing: connect with `arbitrage restrictions connect`"
        )
        console.print(f"{name}: no Amazon account connected (checks use {mode})")
    else:
        console.print(
            f"{name}: seller {view.seller_id}, state [bold]{view.state}[/bold], "
            f"refresh token {view.refresh_token}, client id {view.client_id}, "
            f"client secret {view.client_secret}"
            + (f"\n  last error: {view.last_error}" if view.last_error else "")
        )
    if progress:
        console.print(
            f"last check: {progress.get('state')} {progress.get('done')}/"
            f"{progress.get('total')} (allowed {progress.get('allowed')}, restricted "
            f"{progress.get('restricted')}, errors {progress.get('errors')})"
        )


@restrictions_app.command("disconnect")
@friendly_errors(_CliError, ValueError)
def disconnect(name: str) -> None:
    """Forget a user's stored Amazon credentials."""
    from tools.db import migrate, session_scope
    from tools.restrictions.credentials import disconnect_account

    settings = load_settings_or_exit()
    migrate(settings)
    with session_scope(settings) as session:
        ((uid, _),) = _user_ids(session, name)
        removed = disconnect_account(session, uid)
    console.print(f"{name}: " + ("credentials removed" if removed else "was not connected"))


@restrictions_app.command("sandbox")
def sandbox(
    port: Annotated[int, typer.Option(help="port to listen on")] = 8010,
    host: Annotated[str, typer.Option(help="interface")] = "127.0.0.1",
    rate_429: Annotated[float, typer.Option(help="share of calls answered 429")] = 0.0,
    rate_500: Annotated[float, typer.Option(help="share of calls answered 500")] = 0.0,
    seed: Annotated[int, typer.Option(help="changes which ASINs are restricted")] = 0,
) -> None:
    """Serve the restrictions sandbox (SP-API restrictions + LWA token endpoint) over HTTP."""
    from tools.sandbox.spapi import SandboxConfig, serve_restrictions_sandbox

    console.print(
        f"restrictions sandbox on http://{host}:{port} "
        f"(point the app at it with SPAPI_ENDPOINT=http://{host}:{port})"
    )
    serve_restrictions_sandbox(
        host, port, SandboxConfig(seed=seed, rate_429=rate_429, rate_500=rate_500)
    )
