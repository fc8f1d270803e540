"""The `arbitrage` command: the root that knows every layer, so it lives at the top one.

Each command imports its layer lazily, which keeps `arbitrage status` quick.
"""

from __future__ import annotations

import signal
import time
from typing import Annotated

import typer
from rich.table import Table

from tools.cli import console, err_console, load_settings_or_exit, users_app
from tools.restrictions.cli import restrictions_app

app = typer.Typer(help="Agent Arbitrage: deals, gating and mentors for Amazon sellers.",
                  pretty_exceptions_show_locals=False,
                  no_args_is_help=True)
app.add_typer(users_app, name="users")
app.add_typer(restrictions_app, name="restrictions")


@app.command()
def up(
    port: Annotated[int | None, typer.Option(help="chat server port")] = None,
    no_worker: Annotated[bool, typer.Option("--no-worker", help="chat only")] = False,
) -> None:
    """Run everything on this machine: migrations, Redis, a worker, beat and the chat server."""
    from chat_ui import services
    from knowledge.starter import seed_starter_knowledge
    from tools.db import migrate, session_scope
    from tools.logs import setup_logging
    from tools.redis_embedded import ensure_redis
    from tools.users import ensure_first_admin

    settings = load_settings_or_exit()
    if port:
        settings = settings.model_copy(update={"chainlit_port": port})
    started = time.monotonic()
    log_path = setup_logging("up", settings)
    migrate(settings)
    with session_scope(settings) as session:
        admin_password = ensure_first_admin(session)
        seed_starter_knowledge(session)  # once per starter version; deletions stay deleted
    url, owner = ensure_redis(settings)
    env = services.child_env(settings, url)
    env["CHAINLIT_PORT"] = str(settings.chainlit_port)
    children: list[services.Child] = []
    stopping = False

    def _stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    try:
        if not no_worker:
            children.append(services.start_child("worker", services.worker_args(), settings, env))
            children.append(services.start_child("beat", services.beat_args(settings), settings,
                                                 env))
        children.append(services.start_child("chat", services.chainlit_args(settings), settings,
                                             env))
        chat_url = f"http://{settings.chainlit_host}:{settings.chainlit_port}"
        if not services.wait_http(chat_url, 120, children):
            dead = [c.name for c in children if c.proc.poll() is not None]
            err_console.print(f"[red]start-up failed ({', '.join(dead) or 'chat timeout'}); "
                              f"see {settings.log_dir}[/red]")
            raise typer.Exit(1)
        console.print(f"[green]Agent Arbitrage is up[/green] in {time.monotonic() - started:.1f}s"
                      f": [bold]{chat_url}[/bold]")
        if admin_password:
            console.print(f"First admin created: user [bold]admin[/bold], password "
                          f"[bold]{admin_password}[/bold] (shown once; change it with "
                          "`arbitrage users passwd admin`)")
        console.print(f"Logs: {settings.log_dir.resolve()} (main log {log_path.name}). "
                      "Ctrl-C stops everything.")
        while not stopping:
            for c in children:
                if c.proc.poll() is not None:
                    err_console.print(f"[red]{c.name} exited ({c.proc.returncode}); stopping[/red]")
                    stopping = True
            time.sleep(0.5)
    finally:
        services.stop_children(children)
        if owner:
            owner.stop()
        console.print("stopped")


@app.command()
def status(
    as_json: Annotated[bool, typer.Option("--json", help="machine-readable output")] = False,
) -> None:
    """One screen: database, Redis, worker, chat, Keepa, LLM, SP-API and deals."""
    import json

    from tools.status import collect, deal_counts

    settings = load_settings_or_exit()
    parts = collect(settings)
    counts = deal_counts(settings)
    if as_json:
        print(json.dumps({"parts": {p.name: {"ok": p.ok, "detail": p.detail, **p.extra}
                                    for p in parts},
                          "deals": counts, "logs": str(settings.log_dir.resolve())}))
    else:
        table = Table("part", "state", "detail", title="Agent Arbitrage status")
        for p in parts:
            table.add_row(p.name, "[green]ok[/green]" if p.ok else "[red]down[/red]", p.detail)
        console.print(table)
        total = sum(counts.values())
        console.print("Deals: " + (", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
                                   or "none yet") + f" (total {total})")
        console.print(f"Logs: {settings.log_dir.resolve()}")
    if not all(p.ok for p in parts):
        raise typer.Exit(1)


sandbox_app = typer.Typer(help="The Keepa sandbox market (a Keepa-compatible API).",
                          no_args_is_help=True)
app.add_typer(sandbox_app, name="sandbox")


@sandbox_app.command("serve")
def sandbox_serve(
    port: Annotated[int, typer.Option(help="TCP port")] = 8765,
    host: Annotated[str, typer.Option(help="bind address")] = "127.0.0.1",
    products: Annotated[int | None, typer.Option(help="number of products")] = None,
    refill_rate: Annotated[int | None, typer.Option(help="tokens per minute")] = None,
    speed: Annotated[float | None, typer.Option(help="market minutes per real minute")] = None,
    seed: Annotated[int | None, typer.Option(help="market seed")] = None,
) -> None:
    """Serve the synthetic Keepa market over HTTP (point KEEPA_SANDBOX_URL at it)."""
    from tools.keepa.sandbox.serve import build_market, serve

    settings = load_settings_or_exit()
    market = build_market(products or settings.sandbox_products,
                          settings.sandbox_seed if seed is None else seed,
                          refill_rate or settings.sandbox_refill_rate,
                          speed or settings.sandbox_speed)
    console.print(f"Keepa sandbox: [bold]http://{host}:{port}[/bold] "
                  f"({market.catalog.n} products, {market.tokens.rate} tokens/min, speed "
                  f"{speed or settings.sandbox_speed}x). Use it with "
                  f"KEEPA_SANDBOX_URL=http://{host}:{port}. Ctrl-C stops.")
    serve(market, host=host, port=port)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
