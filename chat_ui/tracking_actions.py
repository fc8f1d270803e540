"""The seller's-loop buttons: add to / remove from the buy list, the purchase form, CSV export
and the costs import.

Each button is a Chainlit action (a deal-table row's "+ Buy list", a verdict's "Add to buy
list" / "I bought it", the buy list's "Bought" / "Remove", the purchases' "Export CSV" /
"Import costs (CSV)"). Every callback first asks who is signed in now (the account's session
may have ended since the page loaded) and then acts for that seller only, through
tools/tracking. A form or a file ask waits for the seller in a background task, so the
button's HTTP request returns at once.

The costs file is the one upload a seller may make: upload_gate.py lets it through only as
the answer to this ask (its `ask_parent_id`), within MAX_UPLOAD_MB.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import chainlit as cl
from sqlmodel import Session

from chat_ui.tracking_render import csv_file, purchase_form_element
from tools.models import User
from tools.tracking import TrackingError

log = logging.getLogger(__name__)
T = TypeVar("T")
AccountGetter = Callable[[], Awaitable[Any]]
AUTHOR = "Buy list"
FORM_TIMEOUT_S = 900
UPLOAD_TIMEOUT_S = 600
MAX_UPLOAD_MB = 1
CSV_ACCEPT = {
    "text/csv": [".csv"],
    "text/plain": [".csv", ".txt"],
    "application/vnd.ms-excel": [".csv"],
    "application/csv": [".csv"],
}
_tasks: set[asyncio.Task[Any]] = set()


def _with_seller(user_id: int, fn: Callable[[Session, User], T]) -> T:
    from tools.db import session_scope

    with session_scope() as session:
        user = session.get(User, user_id)
        if user is None:
            raise TrackingError("your account no longer exists; sign in again")
        return fn(session, user)


async def _seller_do(user_id: int, fn: Callable[[Session, User], T]) -> T:
    return await asyncio.to_thread(_with_seller, user_id, fn)


async def _say(text: str, author: str = AUTHOR, **kw: Any) -> None:
    await cl.Message(content=text, author=author, **kw).send()


def _background(coro: Awaitable[Any]) -> None:
    """Run a form or file ask after the button's request returns (the context goes along).
    An ask restarts the session's task indicator when answered; nothing else would end it."""

    async def run() -> None:
        try:
            await coro
        except Exception:
            log.exception("a buy list / purchase form failed")
            await _say("Sorry, that did not work; nothing was changed. Please try again.")
        finally:
            await cl.context.emitter.task_end()

    task = asyncio.ensure_future(run())
    _tasks.add(task)
    task.add_done_callback(_tasks.discard)


def _asin(payload: Any) -> str:
    from tools.tracking.purchases import clean_asin

    return clean_asin(str((payload or {}).get("asin") or ""))


async def buy_list_add(user_id: int, payload: dict[str, Any]) -> dict[str, Any]:
    from agent.offline.tracking_answers import added_text
    from tools.tracking.buylist import add_item

    asin = _asin(payload)
    row, created = await _seller_do(user_id, lambda s, u: add_item(s, u, asin))
    await _say(added_text({"added": created, "item": row.as_dict()}))
    return {"ok": True, "added": created, "asin": asin}


async def buy_list_remove(user_id: int, payload: dict[str, Any]) -> dict[str, Any]:
    from tools.tracking.buylist import remove_items

    asin = _asin(payload)
    removed = await _seller_do(user_id, lambda s, u: remove_items(s, u, [asin]))
    text = f"Removed {asin} from your buy list." if removed else f"{asin} was not on it."
    await cl.context.emitter.send_toast(text, "success" if removed else "info")
    return {"ok": True, "removed": removed}


async def buy_list_clear_gone(user_id: int, payload: dict[str, Any]) -> dict[str, Any]:
    from agent.offline.tracking_answers import cleared_text
    from tools.tracking.buylist import clear_gone, list_items

    def clear(s: Session, u: User) -> tuple[list[dict[str, Any]], int]:
        gone = [r.as_dict() for r in clear_gone(s, u)]
        return gone, len(list_items(s, u))

    gone, left = await _seller_do(user_id, clear)
    await _say(cleared_text({"cleared": gone, "left": left}))
    return {"ok": True, "cleared": [r["asin"] for r in gone]}


async def _purchase_form(user_id: int, asin: str, condition: str | None) -> None:
    from agent.offline.tracking_answers import purchase_text
    from tools.tracking.deal_now import deals_now
    from tools.tracking.purchases import PurchaseInput, purchase_view, record_purchase
    from tools.user_settings import load_user_settings

    deal = await _seller_do(
        user_id, lambda s, u: deals_now(s, [asin], load_user_settings(u)).get(asin)
    )
    title = deal.title if deal else None
    element = purchase_form_element(asin, title, condition, datetime.now(UTC).date())
    ask = cl.AskElementMessage(
        content=f"Record a purchase of {title or asin}:",
        element=element,
        author=AUTHOR,
        timeout=FORM_TIMEOUT_S,
    )
    answer = await ask.send()
    if not answer or not answer.get("submitted"):
        return
    form: dict[str, Any] = dict(answer)

    def text(key: str) -> str | None:
        value = form.get(key)
        return str(value).strip() or None if value is not None else None

    # the store validates every field (a browser's form is not to be trusted)
    data = PurchaseInput(
        asin,
        form.get("quantity"),  # type: ignore[arg-type]
        form.get("unit_cost"),  # type: ignore[arg-type]
        text("condition") or condition,
        text("purchased_on"),
        text("sku"),
        text("order_number"),
    )
    try:
        view = await _seller_do(user_id, lambda s, u: purchase_view(record_purchase(s, u, data)))
    except TrackingError as err:
        retry = cl.Action(name="purchase_form", label="Try again", payload={"asin": asin})
        await _say(f"Not recorded: {err}.", actions=[retry])
        return
    await _say(purchase_text("ava", view), author="Purchases")


async def purchase_form(user_id: int, payload: dict[str, Any]) -> dict[str, Any]:
    asin = _asin(payload)
    condition = (payload or {}).get("condition")
    _background(_purchase_form(user_id, asin, condition if isinstance(condition, str) else None))
    return {"ok": True, "asin": asin}


async def purchases_export(user_id: int, payload: dict[str, Any]) -> dict[str, Any]:
    from tools.tracking.csv_io import export_csv

    text, count = await _seller_do(user_id, export_csv)
    if not count:
        await _say("You have no purchases to export yet.", author="Purchases")
    else:
        await _say(
            f"Your {count} purchase{'s' if count != 1 else ''} as CSV:",
            author="Purchases",
            elements=[csv_file(text)],
        )
    return {"ok": True, "rows": count}


def read_upload(path: Path, limit: int) -> bytes:
    """At most limit + 1 bytes of an uploaded file (one more shows it was too big); the file
    is removed, it was only needed for this import."""
    try:
        with path.open("rb") as fh:
            return fh.read(limit + 1)
    finally:
        path.unlink(missing_ok=True)


async def _import_costs(user_id: int) -> None:
    from tools.tracking.csv_io import MAX_BYTES, MAX_ROWS, import_costs

    intro = cl.Message(content="**Import costs from a CSV**", author="Purchases")
    await intro.send()
    ask = cl.AskFileMessage(
        content=(
            "Choose your costs CSV (at most 1 MB and "
            f"{MAX_ROWS:,} rows). It needs a cost column (`unit_cost` or `cost`) and, to find "
            "each purchase, an `id`, `sku`, or `order_number` + `asin` column; rows that match "
            "none but name `asin`, `quantity` and a cost are added as new purchases."
        ),
        accept=CSV_ACCEPT,
        max_size_mb=MAX_UPLOAD_MB,
        max_files=1,
        timeout=UPLOAD_TIMEOUT_S,
        author="Purchases",
    )
    # The browser names the ask's parent when it uploads (ask_parent_id), and Chainlit and
    # the upload gate find the pending ask by it: a top-level ask would have none.
    ask.parent_id = intro.id
    files = await ask.send()
    if not files:
        return
    data = await asyncio.to_thread(read_upload, Path(files[0].path), MAX_BYTES)
    try:
        report = await _seller_do(user_id, lambda s, u: import_costs(s, u, data))
    except TrackingError as err:
        await _say(f"Nothing imported: {err}.", author="Purchases")
        return
    lines = [
        f"Imported {files[0].name}: updated {report.updated}, added {report.added}, "
        f"unchanged {report.unchanged}, skipped {report.skipped}."
    ]
    lines += [f"- {r}" for r in report.reasons]
    await _say("\n".join(lines), author="Purchases")


async def purchases_import(user_id: int, payload: dict[str, Any]) -> dict[str, Any]:
    _background(_import_costs(user_id))
    return {"ok": True}


HANDLERS: dict[str, Callable[[int, dict[str, Any]], Awaitable[dict[str, Any]]]] = {
    "buy_list_add": buy_list_add,
    "buy_list_remove": buy_list_remove,
    "buy_list_clear_gone": buy_list_clear_gone,
    "purchase_form": purchase_form,
    "purchases_export": purchases_export,
    "purchases_import": purchases_import,
}


def install(require_account: AccountGetter) -> None:
    """Register every button's callback; `require_account` is the app's check of who is
    signed in now (None: the session ended, and the app has said so)."""

    def register(name: str) -> None:
        handler = HANDLERS[name]

        async def callback(action: cl.Action) -> dict[str, Any]:
            account = await require_account()
            if account is None:
                return {"ok": False, "error": "signed out"}
            try:
                payload = action.payload if isinstance(action.payload, dict) else {}
                return await handler(int(account.id), payload)
            except TrackingError as err:
                await _say(f"Could not do that: {err}.")
                return {"ok": False, "error": str(err)}

        callback.__name__ = f"on_{name}"
        cl.action_callback(name)(callback)

    for name in HANDLERS:
        register(name)
