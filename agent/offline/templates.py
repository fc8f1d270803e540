"""The offline model's answers: tool results written as each persona would put them.

Templates only: which tool to call and which template answers is the model's decision
(agent/offline/model.py); the words are here. Every answer is built from the tool's data, the
retrieved knowledge and the persona's rules of thumb (agent/offline/verdicts.py).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from statistics import median
from typing import Any

from agent.advice import ava_advice, in_peak_now, is_seasonal, months
from agent.offline.unused import UNUSED_PREFIX
from agent.offline.verdicts import CFO_MARGIN, CFO_TRUST, FLIP_DROPS, Call, call_for, errol_numbers
from agent.personas import PERSONAS
from agent.wording import count, money, pct, shorten, whole

OFFLINE_NOTE = "_(offline model: rules and templates, no LLM)_"


def _k_line(knowledge: Sequence[Mapping[str, Any]], prefer: str | None = None) -> str | None:
    hits = [k for k in knowledge if prefer is None or k.get("kind") == prefer] or list(knowledge)
    if not hits:
        return None
    k = hits[0]
    words = str(k.get("text") or "").split()
    snippet = " ".join(words[:30]) + ("…" if len(words) > 30 else "")
    title = f"{k['title']}: " if k.get("title") else ""
    return f"{k.get('ref')} {title}{snippet}"


# each mentor's last word on a deal follows the rule that decided it, never a stock line
JOEL_CLOSE = {
    "fast": "Fast turns beat fat margins: cash back in your pocket, buy again!",
    "slow": f"I want {FLIP_DROPS}+ drops a month before I tie up cash in it.",
    "dead": "Dead inventory is the enemy. Next!",
    "gated": "Get approved for it first (request approval in Seller Central), then we talk.",
    "no_profit": "Speed without a spread is just exercise. Find me margin and I'm in.",
}
EVELYN_LESSON = {
    "gated": "The lesson: gating is per seller account; a great deal for one seller is "
    "unsellable for another, so check it before the numbers.",
    "no_value": "The lesson: a sale price needs sales behind it; with too few inferred sales "
    "the List at is a guess, not a price.",
    "loses_money": "The lesson: the price gap is not the profit; fees and costs come off "
    "before anything is left.",
    "amazon": "The lesson: when Amazon sells the item it holds the Buy Box most of the time, "
    "and a used offer waits behind it.",
    "low_trust": "The lesson: Keepa infers sales; when few offer drops are confirmed by a "
    "rank drop, the averages rest on noise.",
}
SEASONAL_LESSON = (
    "The lesson: a high rank off-season is normal for seasonal books; judge them by their "
    "yearly drops and buy before the peak, not in it."
)


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def deal_take(key: str, deal: Mapping[str, Any], knowledge: Sequence[Mapping[str, Any]]) -> str:
    """One persona's answer about one deal: the verdict with the reason of the rule that
    decided it, the deal's numbers, and the persona's own angle and knowledge."""
    if key == "ava":
        return ava_advice(deal, knowledge).text
    call = call_for(key, deal)
    name = f"{shorten(deal.get('title') or deal.get('asin'), 60)} ({deal.get('asin')})"
    if key == "olyvia":
        return _olyvia_take(call, deal, name, knowledge)
    if key == "joel":
        return _joel_take(call, deal, name, knowledge)
    if key == "evelyn":
        return _evelyn_take(call, deal, name, knowledge)
    return _errol_take(call, deal, name, knowledge)


def _olyvia_take(
    call: Call, deal: Mapping[str, Any], name: str, knowledge: Sequence[Mapping[str, Any]]
) -> str:
    head = {"buy": "Approved", "pass": "Pass", "watch": "Hold"}[call.verdict]
    lines = [
        f"{head}: {call.reason}.",
        f"{name}: cost {money(deal.get('all_in_cost'))}, profit "
        f"{money(deal.get('profit'))}, margin {pct(deal.get('margin'))}, ROI "
        f"{pct(deal.get('roi'))}.",
        f"My floors are {CFO_MARGIN:.0f} % margin and {CFO_TRUST:.0f} % Deal Trust; this one "
        f"has {pct(deal.get('deal_trust'))} trust"
        + (" and Amazon on the listing." if deal.get("amazon_offer") else "."),
    ]
    k = _k_line(knowledge, "strategy")
    if k:
        lines.append(f"Policy on file: {k}")
    return "\n\n".join(lines)


def _joel_take(
    call: Call, deal: Mapping[str, Any], name: str, knowledge: Sequence[Mapping[str, Any]]
) -> str:
    head = {"buy": "Buy!", "pass": "Pass.", "watch": "Maybe..."}[call.verdict]
    rank = deal.get("sales_rank")
    lines = [
        f"{head} {_cap(call.reason)}.",
        f"{name} sits at rank {f'{rank:,}' if isinstance(rank, int) else 'n/a'}, "
        f"{count(deal.get('rank_drops_30'), 'drop')} in 30 days, "
        f"{count(deal.get('rank_drops_90'), 'drop')} in 90. Profit "
        f"{money(deal.get('profit'))} at {pct(deal.get('roi'))} ROI.",
        JOEL_CLOSE.get(call.rule, ""),
    ]
    k = _k_line(knowledge, "strategy")
    if k:
        lines.append(f"Playbook: {k}")
    return "\n\n".join(line for line in lines if line)


def _evelyn_take(
    call: Call, deal: Mapping[str, Any], name: str, knowledge: Sequence[Mapping[str, Any]]
) -> str:
    season = str(deal.get("seasonality") or "not classified").replace("_", "-")
    lines = [
        f"My call: {call.verdict}, because {call.reason}.",
        f"What the market shows: {name} is a {season} title. Its sales cluster in "
        f"{months(deal.get('peak_months'))}"
        + (
            f" and dry up in {months(deal.get('trough_months'))}"
            if deal.get("trough_months")
            else ""
        )
        + ".",
        f"Today's price is {pct(deal.get('percent_down'))} below its 1-year average "
        f"of {money(deal.get('avg_1yr'))}; the expected sale price is "
        f"{money(deal.get('list_at'))}"
        + (
            f", falling to about {money(deal.get('expected_trough_price'))} in the trough."
            if deal.get("expected_trough_price")
            else "."
        ),
    ]
    lesson = EVELYN_LESSON.get(call.rule)
    if lesson is None and is_seasonal(deal):
        lesson = SEASONAL_LESSON + (" We are in its peak now." if in_peak_now(deal) else "")
    if lesson:
        lines.append(lesson)
    k = _k_line(knowledge, "mental_model")
    if k:
        lines.append(f"Concept: {k}")
    return "\n\n".join(lines)


def _errol_take(
    call: Call, deal: Mapping[str, Any], name: str, knowledge: Sequence[Mapping[str, Any]]
) -> str:
    n = errol_numbers(deal)
    spread = "n/a" if n["spread_pct"] is None else pct(n["spread_pct"])
    lines = [
        f"**{name}**",
        f"- Velocity: {count(n['drops_30'], 'drop')} in 30 days, {n['drops_90']} in 90, "
        f"{n['drops_365']} in 365",
        f"- Price variance: list at {money(deal.get('list_at'))}, 1-yr avg "
        f"{money(deal.get('avg_1yr'))}, trough {money(deal.get('expected_trough_price'))}; "
        f"price spread {spread} of list",
        f"- Confidence: {n['confidence']} ({count(n['inferred_sales'], 'inferred sale')}, "
        f"Deal Trust {pct(n['deal_trust'])})",
        f"- Money: profit {money(deal.get('profit'))}, ROI {pct(deal.get('roi'))}",
        f"- Recommendation: {call.verdict.upper()}: {call.reason}",
    ]
    k = _k_line(knowledge)
    if k:
        lines.append(f"- Prior: {k}")
    return "\n".join(lines)


def _row(d: Mapping[str, Any]) -> str:
    title = shorten(d.get("title"), 48).replace("|", "/")
    return (
        f"| {d.get('asin')} | {title} | {money(d.get('price_now'))} | "
        f"{money(d.get('profit'))} | {pct(d.get('roi'))} | {d.get('sales_rank') or 'n/a'} | "
        f"{d.get('rank_drops_30') or 0} |"
    )


def best_pick(result: Mapping[str, Any]) -> str:
    """The search's best pick (tools/deals/pick.py) in one line: which deal, why, and by what
    score; or why no row qualifies."""
    pick = result.get("best_pick")
    if not isinstance(pick, Mapping):
        return ""
    if not pick.get("asin"):
        return f"No best pick: {pick.get('why')}."
    row = next(
        (d for d in result.get("items") or [] if d.get("asin") == pick["asin"]),
        {"asin": pick["asin"]},
    )
    title = shorten(row.get("title"), 80)
    name = f"**{title}** ({row.get('asin')})" if title else str(row.get("asin"))
    ahead = pick.get("runner_up") or {}
    runner = f", ahead of {ahead['asin']} ({ahead['score']:.1f})" if ahead.get("asin") else ""
    return (
        f"Best pick: {name}: buy at {money(row.get('price_now'))}, list at "
        f"{money(row.get('list_at'))}; {pick.get('why')}. Picked by {pick.get('rule')}: "
        f"{float(pick.get('score') or 0):.1f}{runner}."
    )


def search_answer(
    key: str,
    result: Mapping[str, Any],
    knowledge: Sequence[Mapping[str, Any]],
    *,
    table: bool = True,
) -> str:
    """The answer to a deal search: a compact table (or, when the client draws the table
    itself, a short summary with the best pick) plus the persona's one-line take."""
    items: list[Mapping[str, Any]] = list(result.get("items") or [])
    total = int(result.get("total") or 0)
    filters = result.get("query") or {}
    desc = ", ".join(f"{k}={v}" for k, v in filters.items()) or "no filters"
    note = f" ({result['note']})" if result.get("note") else ""
    if not items:
        return f"No deals match ({desc}){note}. Try a wider price or rank range, or fewer filters."
    shown = f"{total:,}+" if result.get("total_capped") else str(total)  # count stops at a cap
    matches = f"{shown} deal{'s' if total != 1 else ''} match ({desc}){note}"
    if table:
        body = "\n".join(
            [
                f"{matches}; top {len(items)}:",
                "",
                "| ASIN | Title | Price | Profit | ROI | Rank | Drops 30d |",
                "|---|---|---|---|---|---|---|",
                *(_row(d) for d in items),
            ]
        )
    else:
        body = f"{matches}; the top {len(items)} are in the table.\n\n" + best_pick(result)
    rois = [float(d["roi"]) for d in items if d.get("roi") is not None]
    if key == "olyvia":
        ok = [d for d in items if (d.get("margin") or 0) >= CFO_MARGIN]
        take = (
            f"Only {len(ok)} of these {len(items)} clear my {CFO_MARGIN:.0f} % margin "
            "floor; the rest are a pass."
            if len(ok) < len(items)
            else f"All {len(items)} clear {CFO_MARGIN:.0f} % margin. Check gating first."
        )
    elif key == "joel":
        fast = max(items, key=lambda d: d.get("rank_drops_30") or 0)
        take = (
            f"Fastest mover: {fast.get('asin')} with {count(fast.get('rank_drops_30'), 'drop')} "
            "in 30 days. That's the one I'd flip first!"
        )
    elif key == "evelyn":
        seasonal = [d for d in items if is_seasonal(d)]
        take = (
            f"{len(seasonal)} of these are seasonal; their prices and ranks swing with the "
            "school calendar, so compare them with their peak months, not today's rank."
        )
        k = _k_line(knowledge, "mental_model")
        if k:
            take += f" Concept: {k}"
    elif key == "errol":
        spread = (
            f"median ROI {pct(median(rois))}, range {whole(min(rois))}-{pct(max(rois))}"
            if rois
            else "no ROI figures"
        )
        take = f"Sample of {len(items)}: {spread}. Treat the tail with low confidence."
    else:
        pick = best_pick(result) if table else ""
        take = (pick + " " if pick else "") + "Ask me about any ASIN for a verdict."
        k = _k_line(knowledge, "strategy")
        if k:
            take += f" Strategy {k}"
    applied = {
        k: v
        for k, v in (result.get("applied") or {}).items()
        if k not in filters and v not in (None, "include", False)
    }
    extra = (
        "\n\nYour saved thresholds also applied: "
        + ", ".join(f"{k}={v}" for k, v in applied.items())
        if applied
        else ""
    )
    return body + "\n\n" + take + extra


def notes_text(notes: Sequence[str]) -> str:
    """The parser's notes under an answer: what it did not use on a line of its own (a seller
    must see it), the rest as one "Note:" line."""
    unused = [n for n in notes if n.startswith(UNUSED_PREFIX)]
    other = [n for n in notes if not n.startswith(UNUSED_PREFIX)]
    lines = [f"{n}." for n in unused]
    if other:
        lines.append(f"Note: {'; '.join(other)}.")
    return "".join(f"\n\n{line}" for line in lines)


# how each persona opens and closes an answer from the knowledge base
KNOWLEDGE_LEAD = {
    "ava": "From the knowledge base:",
    "olyvia": "What our policy says, risk first:",
    "joel": "Here's the playbook, fastest money first!",
    "evelyn": "Let me explain the why first, then what follows from it:",
    "errol": "Relevant priors, strategies then models:",
}
KNOWLEDGE_CLOSE = {
    "olyvia": "Put together: do any of this only when the margin still clears "
    f"{CFO_MARGIN:.0f} % after fees; when in doubt, pass.",
    "joel": "Bottom line: pick what turns fastest, get the cash back, buy again!",
    "errol": "Evidence: {s} strategies and {m} mental models; a rule without sales data "
    "behind it is a prior, not a fact.",
    "evelyn": "The lesson: {title} is the reason; the strategies are what follows from it.",
}


def knowledge_answer(key: str, question: str, hits: Sequence[Mapping[str, Any]]) -> str:
    """A general question answered from several strategies and mental models, in the asking
    persona's order and words (the tool ranks them from the persona's angle)."""
    if not hits:
        return (
            "I have no taught strategy or mental model about that yet. An admin can teach "
            "me with `teach` and a link or pasted text."
        )
    key = key if key in PERSONAS else "ava"
    strategies = [h for h in hits if h.get("kind") == "strategy"]
    models = [h for h in hits if h.get("kind") != "strategy"]
    ordered = [*models, *strategies] if key == "evelyn" else [*strategies, *models]
    lines = [KNOWLEDGE_LEAD[key]]
    for h in ordered[:5]:
        title = f"**{h['title']}**: " if h.get("title") else ""
        lines.append(f"- [{h.get('ref')}] {title}{shorten(h.get('text'), 320)}")
    close = KNOWLEDGE_CLOSE.get(key)
    if close and (key != "evelyn" or models):
        title = str((models[0] if models else {}).get("title") or "the concept")
        lines.append("\n" + close.format(s=len(strategies), m=len(models), title=f"*{title}*"))
    return "\n".join(lines)


def _count(v: Any) -> str:
    return f"{v:,}" if isinstance(v, int) else "n/a"


def deal_facts(d: dict[str, Any]) -> str:
    gated = {
        "restricted": "gated for you",
        "not_restricted": "you can sell it",
        "pending": "gating not checked yet",
    }.get(str(d.get("gated")))
    lines = [
        f"**{d.get('title') or d.get('asin')}** ({d.get('asin')})",
        f"- Price now {money(d.get('price_now'))}, list at {money(d.get('list_at'))}, "
        f"all-in cost {money(d.get('all_in_cost'))}",
        f"- Profit {money(d.get('profit'))}, ROI {pct(d.get('roi'))}, margin "
        f"{pct(d.get('margin'))}",
        f"- Rank {_count(d.get('sales_rank'))}, drops {d.get('rank_drops_30') or 0}/30d, "
        f"{d.get('rank_drops_365') or 0}/365d; {pct(d.get('percent_down'))} below the "
        "1-year average",
        f"- Seasonality {str(d.get('seasonality') or 'n/a').replace('_', '-')}, "
        "Deal Trust "
        f"{pct(d.get('deal_trust'))}"
        + (", Amazon on the listing" if d.get("amazon_offer") else ""),
    ]
    if gated:
        lines.append(f"- Gating: {gated}")
    missing = d.get("missing") or {}
    if missing:
        lines.append("- Missing: " + "; ".join(f"{k} ({v})" for k, v in list(missing.items())[:3]))
    # a paragraph of its own: right under the list it would read as the last item's words
    return "\n".join(lines) + '\n\nAsk "should I buy it?" for a verdict.'


def restriction_text(d: dict[str, Any]) -> str:
    state = d.get("state")
    asin = d.get("asin")
    cond = str(d.get("condition") or "").replace("_", " ")
    if state == "allowed":
        return f"Good news: you can list {asin} ({cond}). No approval needed."
    if state == "restricted":
        url = d.get("approval_url")
        return f"{asin} is gated for you ({cond}): {d.get('reason_code')}. " + (
            f"Request approval: {url}" if url else str(d.get("message") or "")
        )
    if state == "asin_not_found":
        return f"Amazon does not know {asin} in this marketplace."
    if state in ("not_connected", "reconnect_required"):
        why = d.get("message") or "connect your Amazon seller account first"
        return f"I can't check {asin}: {why}."
    return f"The gating check for {asin} failed: {d.get('message') or state}."


def approval_text(d: dict[str, Any]) -> str:
    if d.get("status") == "awaiting_approval":
        return f"{d.get('candidates')} candidates are waiting for your approval."
    saved, refs = d.get("saved", 0), d.get("refs") or []
    text = (
        f"Saved {saved} new knowledge entr{'y' if saved == 1 else 'ies'}"
        + (f" ({', '.join(refs)})" if refs else "")
        + f"; rejected {d.get('rejected', 0)}"
    )
    if d.get("duplicates"):
        text += f"; {d['duplicates']} duplicated what I already knew"
    if d.get("invalid"):
        text += f"; {d['invalid']} could not be saved"
    return text + "."


def selection_text(d: dict[str, Any]) -> str:
    sel = d.get("stored") or {}
    return (
        "Stored the new deal query; the scout uses it from its next run:\n"
        f"```json\n{json.dumps(sel, indent=1)}\n```"
    )


def _ago(iso: Any, now: datetime | None = None) -> str:
    """'17:34 UTC, 3 min ago' for an ISO time (what an admin reads at a glance)."""
    try:
        t = datetime.fromisoformat(str(iso))
    except ValueError:
        return "n/a"
    if t.tzinfo is None:
        t = t.replace(tzinfo=UTC)
    age = ((now or datetime.now(UTC)) - t).total_seconds()
    when = (
        f"{age / 60:.0f} min ago"
        if age < 5400
        else f"{age / 3600:.1f} h ago"
        if age < 172_800
        else f"{age / 86400:.1f} days ago"
    )
    return f"{t.astimezone(UTC):%Y-%m-%d %H:%M} UTC, {when}"


def pipeline_text(d: dict[str, Any]) -> str:
    deals = d.get("deals") or {}
    stall = d.get("ingestion") or {}
    lines = []
    if stall.get("stalled"):
        minutes = stall.get("stalled_for_min") or 0
        lines.append(f"**Ingestion stalled for {minutes:.0f} min**: {stall.get('reason')}.")
    lines += [
        f"Deals: {d.get('total', 0)} ("
        + (", ".join(f"{k} {v}" for k, v in sorted(deals.items())) or "none")
        + ")",
        f"Freshness: newest update {_ago(d.get('newest_update'))}; oldest "
        f"{_ago(d.get('oldest_update'))}",
    ]
    tokens = d.get("tokens") or {}
    if "balance" in tokens:
        lines.append(f"Keepa tokens: {tokens['balance']} (refill {tokens.get('refill_rate')}/min)")
    else:
        lines.append(f"Keepa tokens: {tokens.get('unavailable') or 'not synced yet'}")
    for task, run in sorted((d.get("task_runs") or {}).items()):
        if isinstance(run, dict) and run:
            ok = "ok" if run.get("last_ok") else f"error: {run.get('last_error')}"
            lines.append(f"- {task}: last run {_ago(run.get('last_run'))} ({ok})")
    return "\n".join(lines)


_TOOL_TASKS = {
    "search_deals": "search the deals",
    "get_deal": "look that deal up",
    "deal_advice": "judge that deal",
    "check_restriction": "check whether you can sell it",
    "keepa_lookup": "look it up on Keepa",
    "search_knowledge": "search the taught strategies",
    "propose_knowledge": "extract strategies from that",
    "set_deal_query": "change the deal query",
    "pipeline_status": "read the pipeline status",
    "knowledge_list": "list the knowledge base",
    "knowledge_show": "show that entry",
    "knowledge_edit": "edit that entry",
    "knowledge_delete": "delete that entry",
}
_ERROR_PREFIX = re.compile(r"^Error:\s*(?:[A-Z]\w*(?:Error|Exception|Unavailable|Timeout)\w*:\s*)?")


def failure_text(tool_name: str, raw: str) -> str:
    """A failed tool call in words for the user: what could not be done and why, without the
    retry hint ToolNode writes for a model ("Fix the arguments or tell the user")."""
    reason = _ERROR_PREFIX.sub("", raw.strip())
    reason = reason.removesuffix("Fix the arguments or tell the user.").strip().rstrip(".")
    task = _TOOL_TASKS.get(tool_name, f"run {tool_name or 'that tool'}")
    return f"I couldn't {task}: {reason[:400]}."
