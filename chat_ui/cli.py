"""The `arbitrage` command: the root that knows every layer, so it lives at the top one.

Each command imports its layer lazily, which keeps `arbitrage status` quick.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from chat_ui.knowledge_cli import knowledge_app
from tools.alerts.cli import alerts_app
from tools.backup.cli import backup_command, restore_command
from tools.cli import console, err_console, load_settings_or_exit, users_app
from tools.private_files import private_umask
from tools.restrictions.cli import restrictions_app
from tools.spapi.cli import seller_app
from tools.tracking.cli import buylist_app, purchases_app

if TYPE_CHECKING:
    from rich.progress import ProgressColumn

app = typer.Typer(
    help="Agent Arbitrage: deals, gating and mentors for Amazon sellers.",
    pretty_exceptions_show_locals=False,
    no_args_is_help=True,
)
app.add_typer(users_app, name="users")
app.add_typer(restrictions_app, name="restrictions")
app.add_typer(purchases_app, name="purchases")
app.add_typer(buylist_app, name="buylist")
app.add_typer(alerts_app, name="alerts")
app.add_typer(seller_app, name="seller")
app.add_typer(knowledge_app, name="knowledge")
app.command("backup")(backup_command)
app.command("restore")(restore_command)


@app.callback()
def _every_command() -> None:
    # before any command creates a file: the database, logs, keys and Redis files are the
    # owner's alone, also in the processes `up` starts (they inherit the umask)
    private_umask()


@app.command()
def up(
    port: Annotated[int | None, typer.Option(help="chat server port")] = None,
    no_worker: Annotated[bool, typer.Option("--no-worker", help="chat only")] = False,
    workers: Annotated[
        int,
        typer.Option(
            "--workers", min=1, help="chat server processes (one per core for many busy chats)"
        ),
    ] = 1,
) -> None:
    """Run everything on this machine: migrations, Redis, a worker, beat and the chat server.

    Prepares here, then hands over to the supervisor (chat_ui/supervisor.py), which restarts
    whatever part dies and stops them all on Ctrl-C.
    """
    import os
    import signal

    from chat_ui import services
    from chat_ui.supervisor import spawn
    from knowledge.starter import seed_starter_knowledge
    from tools.db import migrate, session_scope
    from tools.logs import setup_logging
    from tools.redis_embedded import ensure_redis
    from tools.runstate import RestoreInProgress, announce
    from tools.users import ensure_first_admin

    settings = load_settings_or_exit()
    if port:
        settings = settings.model_copy(update={"chainlit_port": port})
    started = time.monotonic()
    try:
        presence = announce(settings, "up")  # `restore` refuses while this (or a child) lives
    except RestoreInProgress as err:
        err_console.print(f"[red]{err}[/red]")
        raise typer.Exit(1) from None
    owner = chat = None
    try:
        setup_logging("up", settings)
        from tools.metrics import enable_multiprocess

        enable_multiprocess(settings)  # a fresh start: the dead processes' metric files go
        url, owner = ensure_redis(settings)
        env = services.child_env(settings, url)
        env["CHAINLIT_PORT"] = str(settings.chainlit_port)
        # The chat first: it loads for seconds before it needs the schema (it migrates too,
        # after this process, one at a time), so the migration below costs no wall time.
        settings.ensure_dirs()
        chat_args = services.chainlit_args(settings, workers)
        chat = spawn("chat", chat_args, settings.log_dir, env, (presence.fd,))
        migrate(settings)
        with session_scope(settings) as session:
            admin_password = ensure_first_admin(session)
            seed_starter_knowledge(session)  # once per starter version; deletions stay deleted
        children: list[tuple[str, list[str], int, int | None]] = [("chat", chat_args, 0, chat.pid)]
        if not no_worker:  # the pipeline yields the CPU to the chat (chat_ui/supervisor.py)
            children[:0] = [
                ("worker", services.worker_args(), services.BACKGROUND_NICE, None),
                ("beat", services.beat_args(settings), services.BACKGROUND_NICE, None),
            ]
        plan = services.supervisor_plan(
            settings,
            presence,
            env=env,
            children=children,
            redis=owner,
            redis_url=url,
            admin_password=admin_password,
            started_mono=started,
        )
        console.file.flush()
        services.exec_supervisor(plan, presence)  # does not return
    except BaseException:
        if chat is not None and chat.poll() is None:
            os.killpg(chat.pid, signal.SIGTERM)
            chat.wait(15)
        if owner is not None:
            owner.stop()
        presence.close()
        raise


@app.command()
def status(
    as_json: Annotated[bool, typer.Option("--json", help="machine-readable output")] = False,
) -> None:
    """One screen: database, Redis, worker, chat, ingestion, Keepa, LLM, SP-API and deals."""
    import json

    from tools.status import chat_storage, collect, deal_counts, local_up
    from workers.status import check_worker, gather

    settings = load_settings_or_exit()
    up = local_up(settings)  # where `arbitrage up` runs each part (ports, pids, restarts)
    parts = collect(settings, up)
    redis_ok = next((p.ok for p in parts if p.name == "redis"), False)
    parts.insert(2, check_worker(settings, up, redis_ok))
    counts = deal_counts(settings)
    storage = chat_storage(settings)
    pipeline = gather(settings)
    if as_json:
        print(
            json.dumps(
                {
                    "parts": {p.name: {"ok": p.ok, "detail": p.detail, **p.extra} for p in parts},
                    "deals": counts,
                    "pipeline": pipeline,
                    "chat_storage": storage,
                    "up": up,
                    "logs": str(settings.log_dir.resolve()),
                },
                default=str,
            )
        )
    else:
        table = Table("part", "state", "detail", title="Agent Arbitrage status")
        for p in parts:
            table.add_row(p.name, "[green]ok[/green]" if p.ok else "[red]down[/red]", p.detail)
        console.print(table)
        if up is not None:
            console.print(
                f"Run by `arbitrage up` (pid {up.get('pid')}): chat at {up.get('chat_url')}"
            )
        total = sum(counts.values())
        console.print(
            "Deals: "
            + (", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "none yet")
            + f" (total {total})"
        )
        db_ready = next((p.ok for p in parts if p.name == "database"), False)
        _render_pipeline(pipeline, db_ready)
        console.print("Chat storage: " + _storage_line(storage))
        console.print(f"Logs: {settings.log_dir.resolve()}")
    if not all(p.ok for p in parts):
        raise typer.Exit(1)


def _size(n: int) -> str:
    for unit, step in (("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)):
        if n >= step:
            return f"{n / step:.1f} {unit}"
    return f"{n} B"


def _storage_line(storage: dict[str, dict[str, int]], top: int = 10) -> str:
    """Per user, biggest first: "ann 1.2 MB (3 chats), bob 20.0 KB (1 chat)"."""
    if not storage:
        return "no chats yet"
    items = list(storage.items())
    bits = [
        f"{who} {_size(v['history_bytes'] + v['agent_bytes'])} ({v['chats']} chat"
        f"{'' if v['chats'] == 1 else 's'})"
        for who, v in items[:top]
    ]
    more = f", and {len(items) - top} more users" if len(items) > top else ""
    return ", ".join(bits) + more


def _render_pipeline(p: dict[str, Any], db_ready: bool = True) -> None:
    """Render workers.status.gather() (data only there; presentation only here)."""
    tok = p.get("tokens") or {}
    if "error" in tok:
        console.print(f"Keepa tokens: [red]{tok['error']}[/red]")
    elif not tok.get("synced"):
        console.print("Keepa tokens: not synced yet (no Keepa call so far)")
    else:
        spend = (
            ", ".join(f"{k} {v}" for k, v in sorted((tok.get("spend_by_purpose") or {}).items()))
            or "nothing yet"
        )
        console.print(
            f"Keepa tokens: balance {tok.get('balance')} (refill "
            f"{tok.get('refill_rate')}/min, floor {tok.get('floor')}); "
            f"spent: {spend}"
        )
        for w in tok.get("waiting") or []:
            console.print(
                f"  waiting for tokens: {w.get('purpose')} needs {w.get('cost')}, "
                f"for {w.get('waiting_s', 0):.0f}s (resumes at {tok.get('resume')})"
            )
    q = p.get("queues") or {}
    console.print(
        "Queues: " + (q["error"] if "error" in q else ", ".join(f"{k} {v}" for k, v in q.items()))
    )
    f = p.get("freshness") or {}
    if f.get("active"):
        console.print(
            f"Freshness of {f['active']} active deals: median age "
            f"{f['median_age_h']} h, p95 {f['p95_age_h']} h"
        )
    tasks = Table("task", "last run", "ok", "last error", title="Pipeline tasks")
    for name, t in (p.get("tasks") or {}).items():
        ok = t.get("last_ok")
        tasks.add_row(
            name,
            str(t.get("last_run") or "never")[:19],
            "-" if ok is None else ("[green]yes[/green]" if ok else "[red]no[/red]"),
            (
                f"{str(t.get('last_error_at'))[:19]} {t['last_error']}"
                if t.get("last_error")
                else ""
            ),
        )
    console.print(tasks)
    if db_ready:
        _render_seller_sync(p.get("seller_sync"))
    b = p.get("backfill") or {}
    console.print(
        f"Backfill: next page {b.get('next_page', 0)}, pages done "
        f"{b.get('pages_done', 0)}{' (complete)' if b.get('done') else ''}; "
        f"scout backlog {p.get('scout_backlog', 0)}"
    )
    if p.get("error"):
        console.print(
            f"[red]pipeline status error: {p['error'].splitlines()[0][:160]}[/red]"
            if db_ready
            else "Pipeline: no data until the database exists (see above)"
        )


def _render_seller_sync(rows: Any) -> None:
    """Each seller's SP-API sync streams (workers.status.seller_sync)."""
    if isinstance(rows, dict):
        console.print(f"Seller syncs: [red]{rows.get('error')}[/red]")
        return
    if not rows:
        console.print("Seller syncs: none yet (`arbitrage seller sync NAME`, or the workers)")
        return
    table = Table("user", "stream", "state", "synced up to", "last success", "last error")
    table.title = "Seller syncs (SP-API)"
    for r in rows:
        table.add_row(
            r["user"],
            r["stream"],
            r["state"],
            str(r["synced_to"] or "-")[:19],
            str(r["last_success"] or "never")[:19],
            f"[red]{r['last_error'][:80]}[/red]" if r["last_error"] else "",
        )
    console.print(table)


@app.command()
def worker(
    queues: Annotated[str, typer.Option("-Q", "--queues", help="comma separated queues")] = (
        "scout,processor,maintenance,restrictions,spapi,backfill"
    ),
    concurrency: Annotated[
        int, typer.Option(help="tasks at once (threads, or processes with --pool prefork)")
    ] = 4,
    pool: Annotated[
        str,
        typer.Option(
            help="threads (default: one process; a stop interrupts token waits) or prefork"
        ),
    ] = "threads",
    name: Annotated[
        str,
        typer.Option(
            "--name",
            "-n",
            help="Celery node name; unique per worker on one machine (%h is the host name)",
        ),
    ] = "arbitrage@%h",
) -> None:
    """Run a Celery worker (needs REDIS_URL or a running `arbitrage up`)."""
    import os

    from chat_ui.services import celery_worker_command
    from tools.db import migrate
    from tools.redis_embedded import RedisUnavailable, redis_url
    from tools.runstate import RestoreInProgress, announce

    if pool not in ("threads", "prefork"):
        err_console.print("[red]--pool must be threads or prefork[/red]")
        raise typer.Exit(2)
    settings = load_settings_or_exit()
    try:
        url = redis_url(settings)
        presence = announce(settings, "worker", queues=queues)
    except (RedisUnavailable, RestoreInProgress) as err:
        err_console.print(f"[red]{err}[/red]")
        raise typer.Exit(1) from None
    migrate(settings)
    presence.keep_across_exec()  # Celery (same pid) holds the app lock from here on
    os.environ["REDIS_URL"] = url
    args = celery_worker_command(queues, concurrency, name, pool)
    os.execv(args[0], args)


@app.command()
def beat() -> None:
    """Run Celery beat: the scout, processor, refresher, janitor, alerts and backup schedule."""
    import os

    from chat_ui.services import beat_args
    from tools.redis_embedded import RedisUnavailable, redis_url
    from tools.runstate import RestoreInProgress, announce

    settings = load_settings_or_exit()
    try:
        os.environ["REDIS_URL"] = redis_url(settings)
        announce(settings, "beat").keep_across_exec()
    except (RedisUnavailable, RestoreInProgress) as err:
        err_console.print(f"[red]{err}[/red]")
        raise typer.Exit(1) from None
    settings.ensure_dirs()
    args = beat_args(settings)
    os.execv(args[0], args)


@app.command()
def backfill(
    pages: Annotated[int | None, typer.Option("--pages", help="stop after N pages")] = None,
    restart: Annotated[bool, typer.Option("--restart", help="start again at page 0")] = False,
    enqueue: Annotated[
        bool, typer.Option("--enqueue", help="run on a worker's backfill queue")
    ] = False,
) -> None:
    """Walk the deal query's pages into the database; resumes from its checkpoint."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from tools.db import migrate
    from tools.redis_embedded import RedisUnavailable

    settings = load_settings_or_exit()
    migrate(settings)
    columns = (
        TextColumn("[bold]backfill[/bold] page {task.fields[page]}"),
        BarColumn(),
        TextColumn("{task.completed} pages, {task.fields[rows]} deals, {task.fields[new]} new"),
        TimeElapsedColumn(),
    )
    try:
        if enqueue:
            _backfill_enqueued(pages, restart, columns)
            return
        from workers.locks import LockBusy
        from workers.tasks import run_backfill_locked

        with Progress(*columns, console=console) as progress:
            bar = progress.add_task("backfill", total=pages, page=0, rows=0, new=0)

            def on_page(state: dict[str, Any]) -> None:
                progress.update(
                    bar,
                    advance=1,
                    page=state["next_page"],
                    rows=state["rows"],
                    new=state["inserted"],
                )

            try:
                result = run_backfill_locked(max_pages=pages, restart=restart, on_page=on_page)
            except LockBusy as err:
                err_console.print(f"[yellow]{err}[/yellow]")
                raise typer.Exit(1) from None
    except RedisUnavailable as err:
        err_console.print(f"[red]{err}[/red]")
        raise typer.Exit(1) from None
    if result.get("stopped"):
        console.print(f"backfill: {result['stopped']}")
    console.print(
        f"backfill: {result['pages']} pages, {result['rows']} deals, "
        f"{result['inserted']} new; next page {result['next_page']}"
        + (" (complete)" if result["done"] else "")
    )


def _backfill_enqueued(
    pages: int | None, restart: bool, columns: tuple[str | ProgressColumn, ...]
) -> None:
    from rich.progress import Progress

    from tools.db import session_scope
    from workers import checkpoints
    from workers.tasks import backfill as backfill_task

    res = backfill_task.apply_async(kwargs={"max_pages": pages, "restart": restart})
    console.print(f"queued backfill task {res.id} on the backfill queue")
    with Progress(*columns, console=console) as progress:
        bar = progress.add_task("backfill", total=pages, page=0, rows=0, new=0)
        start = None
        while not res.ready():
            with session_scope() as session:
                state = checkpoints.get_backfill(session)
            start = state["pages_done"] if start is None else start
            progress.update(
                bar,
                completed=state["pages_done"] - start,
                page=state["next_page"],
                rows=state["rows"],
                new="?",
            )
            time.sleep(0.5)
    if res.failed():
        err_console.print(f"[red]backfill failed: {res.result}[/red]")
        raise typer.Exit(1)
    console.print(f"backfill: {res.result}")


sandbox_app = typer.Typer(
    help="The simulated world: the Keepa sandbox market and its clock.", no_args_is_help=True
)
app.add_typer(sandbox_app, name="sandbox")


@sandbox_app.command("advance")
def sandbox_advance(
    days: Annotated[float, typer.Argument(help="simulated days to move the world forward")],
) -> None:
    """Move the simulated world (Keepa sandbox market and SP-API sandbox) forward: recorded
    purchases arrive at Amazon and sell as the market would have; every process of this
    DATA_DIR sees the new time within a second. Only forward."""
    from tools.sandbox import time_shift

    settings = load_settings_or_exit()
    try:
        shift = time_shift.advance(settings.data_dir, days * 86400)
    except ValueError as err:
        err_console.print(f"[red]{err}[/red]")
        raise typer.Exit(2) from None
    console.print(f"sandbox clock moved {days:g} days; it is {shift / 86400:.2f} days ahead now")


@sandbox_app.command("serve")
def sandbox_serve(
    port: Annotated[int, typer.Option(help="TCP port")] = 8765,
    host: Annotated[str, typer.Option(help="bind address")] = "127.0.0.1",
    products: Annotated[int | None, typer.Option(help="number of products")] = None,
    refill_rate: Annotated[int | None, typer.Option(help="tokens per minute")] = None,
    speed: Annotated[float | None, typer.Option(help="market minutes per real minute")] = None,
    seed: Annotated[int | None, typer.Option(help="market seed")] = None,
    restrictions_port: Annotated[
        int | None,
        typer.Option(help="also serve the SP-API sandbox (+ LWA) over this market on this port"),
    ] = None,
    journal: Annotated[
        Path | None,
        typer.Option(help="append one JSON line per request (market time, tokens, ASINs)"),
    ] = None,
) -> None:
    """Serve the synthetic Keepa market over HTTP (point KEEPA_SANDBOX_URL at it).

    With SANDBOX_CLOCK set (SPEED,MARKET_EPOCH,WALL_EPOCH) the market runs on that shared
    clock; give the workers the same value and they agree with it on market time.
    """
    from tools.sandbox.keepa.serve import build_market, serve

    settings = load_settings_or_exit()
    spec = settings.sandbox_clock_spec
    if spec is not None:
        speed = spec[0]
    market = build_market(
        products or settings.sandbox_products,
        settings.sandbox_seed if seed is None else seed,
        refill_rate or settings.sandbox_refill_rate,
        speed or settings.sandbox_speed,
        spec,
    )
    console.print(
        f"Keepa sandbox: [bold]http://{host}:{port}[/bold] "
        f"({market.catalog.n} products, {market.tokens.rate} tokens/min, speed "
        f"{speed or settings.sandbox_speed}x). Use it with "
        f"KEEPA_SANDBOX_URL=http://{host}:{port}. Ctrl-C stops."
    )
    if restrictions_port:
        from tools.sandbox.spapi import SandboxConfig, serve_restrictions_sandbox

        # one world: sellers' sent-in units sell when this market sells a copy
        config = SandboxConfig(clock=market.clock, market=market)
        serve_restrictions_sandbox(host, restrictions_port, config, background=True)
        console.print(
            f"SP-API sandbox (restrictions, FBA inventory, orders, finances, over this "
            f"market): [bold]http://{host}:{restrictions_port}[/bold] "
            f"(SPAPI_ENDPOINT=http://{host}:{restrictions_port}; send units in with POST "
            "/sandbox/v1/sellers/SELLER_ID/shipments)"
        )
    serve(market, host=host, port=port, journal=journal)


@app.command()
def teach(
    source: Annotated[
        str,
        typer.Argument(
            help="URL, YouTube link, .txt/.md/.pdf file, or - to read the text from standard input"
        ),
    ],
    as_admin: Annotated[
        str | None, typer.Option("--as", help="the approving admin (default: the first admin)")
    ] = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="approve every candidate")] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="only print the candidates as JSON; nothing is saved")
    ] = False,
) -> None:
    """Teach the assistant: extract strategies and mental models, approve them, save them."""
    from knowledge.cli import run_teach

    run_teach(source, as_admin=as_admin, yes=yes, as_json=as_json)


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="the question, in plain words")],
    persona: Annotated[
        str | None,
        typer.Option(help="ava, olyvia, joel, evelyn or errol (default: Ava, or the one you name)"),
    ] = None,
    user: Annotated[
        str | None, typer.Option(help="ask as this user (their settings, gating and role)")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False,
    thread: Annotated[
        str | None,
        typer.Option(
            help="continue this named conversation (its last search, for follow-ups like "
            '"only the ones under rank 200k"); a new name starts one'
        ),
    ] = None,
) -> None:
    """Ask Ava (or a mentor) one question through the same graph the chat uses."""
    import asyncio
    import gc
    import json
    import re

    from agent.checkpoints import ThreadNotYours
    from agent.runner import ask_once

    if thread is not None and not re.fullmatch(r"[\w.:-]{1,100}", thread):
        err_console.print("[red]--thread: 1-100 letters, digits, '.', ':', '_' or '-'[/red]")
        raise typer.Exit(2)
    settings = load_settings_or_exit()
    try:
        result = asyncio.run(
            ask_once(question, persona=persona, user_name=user, settings=settings, thread_id=thread)
        )
    except (ValueError, ThreadNotYours) as err:
        err_console.print(f"[red]{err}[/red]")
        raise typer.Exit(2) from None
    # The process ends right after this answer: the collector's passes over the million
    # objects the agent's libraries made at import would cost the exit half a second of CPU
    # (bench/cli.py). Frozen objects are still freed; only those passes are skipped.
    gc.freeze()
    if as_json:
        print(json.dumps(result.as_json(), default=str))
        return
    console.print(f"[bold]{result.persona.capitalize()}[/bold] ({result.model or 'model'}):")
    for call in result.tool_calls:
        console.print(f"[dim]tool {call['name']}({json.dumps(call['args'])})[/dim]")
    console.print(result.answer, markup=False)


@app.command("eval")
def eval_command(
    model: Annotated[
        str | None,
        typer.Option(
            help="'offline', or a model name at the configured OpenAI-compatible endpoint "
            "(LLM_API_KEY, LLM_BASE_URL); default: the configured model"
        ),
    ] = None,
    sets: Annotated[
        list[str] | None,
        typer.Option("--set", help="own, independent, fresh or holdout (repeat it); default: all"),
    ] = None,
    limit: Annotated[int | None, typer.Option(min=1, help="only the first N cases")] = None,
    concurrency: Annotated[
        int, typer.Option(min=1, max=16, help="questions asked at once (an LLM endpoint)")
    ] = 4,
    misses: Annotated[bool, typer.Option("--misses", help="list every wrong answer")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False,
) -> None:
    """Score a model on the evaluation sets: the tool call it makes for each question, with
    accuracy per category, so you can see how your model does before trusting it."""
    import asyncio
    import gc
    import json

    from agent.context import AgentContext
    from agent.evaluation.run import SETS, cases, evaluate, model_asker, report
    from agent.graph import default_model_factory
    from agent.offline.model import OfflineChatModel
    from tools.llm import default_model

    settings = load_settings_or_exit()
    unknown = sorted(set(sets or ()) - set(SETS))
    if unknown:
        err_console.print(
            f"[red]--set: unknown {', '.join(unknown)} (one of {', '.join(SETS)})[/red]"
        )
        raise typer.Exit(2)
    if model == "offline" or (model is None and not settings.llm_api_key):
        label = "offline"

        def make(key: str) -> Any:
            return OfflineChatModel(persona=key)

    else:
        if not settings.llm_api_key:
            err_console.print(
                f"[red]--model {model}: no LLM endpoint is configured; set LLM_API_KEY (and "
                "LLM_BASE_URL for a server other than OpenAI), or use --model offline[/red]"
            )
            raise typer.Exit(2)
        if model:
            settings = settings.model_copy(update={"llm_model": model})
        label = default_model(settings)

        def make(key: str) -> Any:
            return default_model_factory(key, settings)

    chosen = cases(sets or SETS)[:limit]
    ctx = AgentContext(user_name="eval", settings=settings)
    outcomes = asyncio.run(evaluate(model_asker(make, ctx), chosen, concurrency=concurrency))
    result = {"model": label, **report(outcomes)}
    gc.freeze()  # the process ends here (see `ask`)
    if as_json:
        print(json.dumps(result))
        return
    if not misses:
        result.pop("misses")
    console.print(
        f"[bold]{label}[/bold]: {result['right']}/{result['cases']} right "
        f"({(result['accuracy'] or 0) * 100:.1f} %)"
        + (f", {result['errors']} failed calls" if result["errors"] else "")
    )
    table = Table("category", "right", "total", "accuracy")
    for name, share in [*result["sets"].items(), *result["categories"].items()]:
        table.add_row(
            name if name not in result["sets"] else f"set: {name}",
            str(share["right"]),
            str(share["total"]),
            f"{share['accuracy'] * 100:.1f} %",
        )
    console.print(table)
    for miss in result.get("misses", []):
        console.print(
            f"MISS {miss['question']!r}: want {miss['want']}, got {miss['got']}", markup=False
        )


def main() -> None:
    app()


if __name__ == "__main__":
    main()
