"""Ava and the four mentors: who they are, how they talk, and their offline answer templates.

One table drives everything: the router's names, the chat profiles, the LLM system prompts and
the offline model's voice, so a persona reads the same whichever model answers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from statistics import median
from typing import Any

from agent.advice import (
    CFO_MARGIN,
    FLIP_DROPS,
    ava_advice,
    errol_numbers,
    in_peak_now,
    is_seasonal,
    money,
    months,
    pct,
    verdict_for,
)


@dataclass(frozen=True)
class Persona:
    key: str
    name: str
    title: str
    purpose: str  # LLM factory purpose: "ava" or "mentor"
    voice: str  # the system prompt's character part
    greeting: str
    example: str


PERSONAS: dict[str, Persona] = {
    "ava": Persona(
        "ava", "Ava", "the deal analyst", "ava",
        "You are Ava, the deal analyst of Agent Arbitrage. You answer sellers' deal questions "
        "with the tools, precisely and briefly. For one deal you give a 50-80 word buy / pass "
        "/ watch verdict grounded in its numbers (profit, ROI, margin, rank drops, Deal Trust, "
        "gating) and in the taught strategies, citing them by reference (S3, M1).",
        "Hi, I'm Ava. Ask me for deals (\"textbooks under $30 with ROI over 40 %\") or about "
        "one ASIN.",
        "Which textbooks under $30 have ROI over 40 %?"),
    "olyvia": Persona(
        "olyvia", "Olyvia", "the CFO", "mentor",
        "You are Olyvia, the CFO. Conservative: margins and risk first. You want 30 % margin, "
        "a Deal Trust of 70 % or more, no Amazon on the listing and no gating risk. You say "
        "no plainly (\"Pass: 22 % margin is too thin; we need 30 %\") and explain the downside.",
        "Olyvia here. Show me the margins and I'll tell you what we can afford to risk.",
        "Olyvia, which deals clear a 30 % margin?"),
    "joel": Persona(
        "joel", "Joel", "the Flipper", "mentor",
        "You are Joel, the Flipper: energetic, all about velocity and fast turns. You love "
        "rank drops and quick sell-through (\"Buy! Rank is dropping fast\"), you accept thinner "
        "margins for speed, and you hate dead inventory. Short, punchy sentences.",
        "Joel here! Let's find stuff that moves. What are we flipping today?",
        "Joel, what's selling fastest under $25?"),
    "evelyn": Persona(
        "evelyn", "Evelyn", "the Professor", "mentor",
        "You are Evelyn, the Professor. You explain the why: market dynamics, seasonality "
        "(textbooks peak mid-August to September and in January, trough around October), "
        "supply and demand, what the numbers mean. You teach concepts from the mental models "
        "and end with one lesson the seller can reuse.",
        "Hello, I'm Evelyn. Ask me why a deal looks the way it does and I'll walk you through it.",
        "Evelyn, why do textbooks peak in August?"),
    "errol": Persona(
        "errol", "Errol", "the Quant", "mentor",
        "You are Errol, the Quant. Numbers, variance and confidence. You answer in a structured "
        "form: Velocity / Price variance / Confidence / Recommendation, with the figures, and you "
        "say how sure you are and why.",
        "Errol. Give me an ASIN or a filter and I'll give you velocity, variance and a number.",
        "Errol, give me the numbers on B0CXYZ1234"),
}

OFFLINE_NOTE = "_(offline model: rules and templates, no LLM)_"


def persona(key: str | None) -> Persona:
    return PERSONAS.get((key or "ava").lower(), PERSONAS["ava"])


# ---- offline writers -------------------------------------------------------------------------

def _k_line(knowledge: Sequence[Mapping[str, Any]], prefer: str | None = None) -> str | None:
    hits = [k for k in knowledge if prefer is None or k.get("kind") == prefer] or list(knowledge)
    if not hits:
        return None
    k = hits[0]
    words = str(k.get("text") or "").split()
    snippet = " ".join(words[:30]) + ("..." if len(words) > 30 else "")
    title = f"{k['title']}: " if k.get("title") else ""
    return f"{k.get('ref')} {title}{snippet}"


def deal_take(key: str, deal: Mapping[str, Any], knowledge: Sequence[Mapping[str, Any]]) -> str:
    """One persona's answer about one deal, from its numbers and the retrieved knowledge."""
    if key == "ava":
        return ava_advice(deal, knowledge).text
    verdict, reasons = verdict_for(key, deal)
    title = str(deal.get("title") or deal.get("asin"))
    name = f"{title[:60]} ({deal.get('asin')})"
    if key == "olyvia":
        head = {"buy": "Approved", "pass": "Pass", "watch": "Hold"}[verdict]
        lines = [f"{head}: {reasons[0]}.",
                 f"{name}: cost {money(deal.get('all_in_cost'))}, profit "
                 f"{money(deal.get('profit'))}, margin {pct(deal.get('margin'))}, ROI "
                 f"{pct(deal.get('roi'))}.",
                 f"My floor is {CFO_MARGIN:.0f} % margin and 70 % Deal Trust; this one has "
                 f"{pct(deal.get('deal_trust'))} trust"
                 + (" and Amazon on the listing." if deal.get("amazon_offer") else ".")]
        k = _k_line(knowledge, "strategy")
        if k:
            lines.append(f"Policy on file: {k}")
        return "\n\n".join(lines)
    if key == "joel":
        head = {"buy": "Buy!", "pass": "Pass.", "watch": "Maybe..."}[verdict]
        d30 = deal.get("rank_drops_30") or 0
        lines = [f"{head} {reasons[0][0].upper()}{reasons[0][1:]}.",
                 f"{name} sits at rank {deal.get('sales_rank') or 'n/a'}, {d30} drops in 30 "
                 f"days, {deal.get('rank_drops_90') or 0} in 90. Profit "
                 f"{money(deal.get('profit'))} at {pct(deal.get('roi'))} ROI.",
                 "Fast turns beat fat margins: cash back in your pocket, buy again!"
                 if verdict == "buy" else
                 f"I want {FLIP_DROPS}+ drops a month before I tie up cash in it."]
        k = _k_line(knowledge, "strategy")
        if k:
            lines.append(f"Playbook: {k}")
        return "\n\n".join(lines)
    if key == "evelyn":
        season = deal.get("seasonality") or "not classified"
        lines = [f"My call: {verdict} ({reasons[0]}).",
                 f"Why: {name} is a {season} title. Its sales cluster in "
                 f"{months(deal.get('peak_months'))}"
                 + (f" and dry up in {months(deal.get('trough_months'))}"
                    if deal.get("trough_months") else "") + ".",
                 f"Today's price is {pct(deal.get('percent_down'))} below its 1-year average "
                 f"of {money(deal.get('avg_1yr'))}; the expected sale price is "
                 f"{money(deal.get('list_at'))}"
                 + (f", falling to about {money(deal.get('expected_trough_price'))} in the "
                    "trough." if deal.get("expected_trough_price") else ".")]
        if is_seasonal(deal):
            lines.append("The lesson: a high rank off-season is normal for seasonal books; "
                         "judge them by their yearly drops and buy before the peak, not in it."
                         + (" We are in its peak now." if in_peak_now(deal) else ""))
        k = _k_line(knowledge, "mental_model")
        if k:
            lines.append(f"Concept: {k}")
        return "\n\n".join(lines)
    n = errol_numbers(deal)
    spread = "n/a" if n["spread_pct"] is None else f"{n['spread_pct']:.0f} %"
    lines = [f"**{name}**",
             f"- Velocity: {n['drops_30']} drops/30d, {n['drops_90']}/90d, "
             f"{n['drops_365']}/365d",
             f"- Price variance: list at {money(deal.get('list_at'))}, 1-yr avg "
             f"{money(deal.get('avg_1yr'))}, trough {money(deal.get('expected_trough_price'))}; "
             f"price spread {spread} of list",
             f"- Confidence: {n['confidence']} ({n['inferred_sales']} inferred sales, Deal "
             f"Trust {pct(n['deal_trust'])})",
             f"- Recommendation: {verdict.upper()}: {reasons[0]}; ROI {pct(deal.get('roi'))}, "
             f"profit {money(deal.get('profit'))}"]
    k = _k_line(knowledge)
    if k:
        lines.append(f"- Prior: {k}")
    return "\n".join(lines)


def _row(d: Mapping[str, Any]) -> str:
    title = str(d.get("title") or "")[:48].replace("|", "/")
    return (f"| {d.get('asin')} | {title} | {money(d.get('price_now'))} | "
            f"{money(d.get('profit'))} | {pct(d.get('roi'))} | {d.get('sales_rank') or 'n/a'} | "
            f"{d.get('rank_drops_30') or 0} |")


def best_pick(d: Mapping[str, Any]) -> str:
    """One line on the top deal, for clients that show the deal table themselves."""
    title = str(d.get("title") or "").strip()
    name = f"**{title[:80]}** ({d.get('asin')})" if title else str(d.get("asin"))
    return (f"Best pick: {name}: buy at {money(d.get('price_now'))}, list at "
            f"{money(d.get('list_at'))}, {money(d.get('profit'))} profit, "
            f"{pct(d.get('roi'))} ROI, rank {_rank(d.get('sales_rank'))}, "
            f"{_drops(d.get('rank_drops_30'))} in 30 days.")


def _rank(rank: object) -> str:
    return f"{rank:,}" if isinstance(rank, int) else "n/a"


def _drops(n: object) -> str:
    n = n if isinstance(n, int) else 0
    return f"{n} rank drop" + ("" if n == 1 else "s")


def search_answer(key: str, result: Mapping[str, Any],
                  knowledge: Sequence[Mapping[str, Any]], *, table: bool = True) -> str:
    """The answer to a deal search: a compact table (or, when the client draws the table
    itself, a short summary with the best pick) plus the persona's one-line take."""
    items: list[Mapping[str, Any]] = list(result.get("items") or [])
    total = int(result.get("total") or 0)
    filters = result.get("query") or {}
    desc = ", ".join(f"{k}={v}" for k, v in filters.items()) or "no filters"
    note = f" ({result['note']})" if result.get("note") else ""
    if not items:
        return (f"No deals match ({desc}){note}. Try a wider price or rank range, or fewer "
                "filters.")
    shown = f"{total:,}+" if result.get("total_capped") else str(total)  # count stops at a cap
    matches = f"{shown} deal{'s' if total != 1 else ''} match ({desc}){note}"
    if table:
        body = "\n".join([f"{matches}; top {len(items)}:", "",
                          "| ASIN | Title | Price | Profit | ROI | Rank | Drops 30d |",
                          "|---|---|---|---|---|---|---|", *(_row(d) for d in items)])
    else:
        body = (f"{matches}; the top {len(items)} are in the table.\n\n"
                + best_pick(items[0]))
    rois = [float(d["roi"]) for d in items if d.get("roi") is not None]
    best = items[0]
    if key == "olyvia":
        ok = [d for d in items if (d.get("margin") or 0) >= CFO_MARGIN]
        take = (f"Only {len(ok)} of these {len(items)} clear my {CFO_MARGIN:.0f} % margin "
                "floor; the rest are a pass." if len(ok) < len(items)
                else f"All {len(items)} clear {CFO_MARGIN:.0f} % margin. Check gating first.")
    elif key == "joel":
        fast = max(items, key=lambda d: d.get("rank_drops_30") or 0)
        take = (f"Fastest mover: {fast.get('asin')} with {fast.get('rank_drops_30') or 0} drops "
                "in 30 days. That's the one I'd flip first!")
    elif key == "evelyn":
        seasonal = [d for d in items if is_seasonal(d)]
        take = (f"{len(seasonal)} of these are seasonal; their prices and ranks swing with the "
                "school calendar, so compare them with their peak months, not today's rank.")
        k = _k_line(knowledge, "mental_model")
        if k:
            take += f" Concept: {k}"
    elif key == "errol":
        spread = (f"median ROI {median(rois):.0f} %, range {min(rois):.0f}-{max(rois):.0f} %"
                  if rois else "no ROI figures")
        take = f"Sample of {len(items)}: {spread}. Treat the tail with low confidence."
    else:
        take = ("Ask me about any ASIN for a verdict." if not table else
                f"Best by the current sort: {best.get('asin')} "
                f"({money(best.get('profit'))} profit, {pct(best.get('roi'))} ROI). "
                "Ask me about any ASIN for a verdict.")
        k = _k_line(knowledge, "strategy")
        if k:
            take += f" Strategy {k}"
    applied = {k: v for k, v in (result.get("applied") or {}).items()
               if k not in filters and v not in (None, "include", False)}
    extra = ("\n\nYour saved thresholds also applied: "
             + ", ".join(f"{k}={v}" for k, v in applied.items()) if applied else "")
    return body + "\n\n" + take + extra


def knowledge_answer(key: str, question: str, hits: Sequence[Mapping[str, Any]]) -> str:
    if not hits:
        return ("I have no taught strategy or mental model about that yet. An admin can teach "
                "me with `teach` and a link or pasted text.")
    lead = {"ava": "From the knowledge base:", "olyvia": "What our policy says:",
            "joel": "Here's the playbook!", "evelyn": "Let me explain what we know:",
            "errol": "Relevant priors:"}[key if key in PERSONAS else "ava"]
    lines = [lead]
    for h in hits[:4]:
        title = f"**{h['title']}**: " if h.get("title") else ""
        lines.append(f"- [{h.get('ref')}] {title}{h.get('text')}")
    return "\n".join(lines)

