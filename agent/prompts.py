"""System prompts: persona voice + house rules + the user's context + retrieved knowledge."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from agent.personas import persona
from agent.thread_search import prompt_block

RULES = """House rules:
- Use the tools for every fact about deals, gating, Keepa data or the knowledge base; never
  invent ASINs, prices or numbers. Money is in dollars under the asking user's settings.
- search_deals takes structured filters (price, ROI, profit, margin, rank range, drops,
  seasonality, gating, Amazon on the listing, condition, title words, author, publisher, sort
  incl. price = cheapest first, limit). For one deal use get_deal or deal_advice; for "can I
  sell it" use check_restriction.
- Never drop part of a question silently: when a part has no filter ("hardcover", "free
  shipping"), search with the rest and say so in one line: "I did not use: 'hardcover'".
- The seller's own loop: buy_list_add / buy_list_show / buy_list_remove / buy_list_clear_gone
  for their buy list; record_purchase / edit_purchase / delete_purchase / list_purchases /
  export_purchases for what they bought ("I bought 3 of X at $12.40" is a record_purchase);
  what their purchases did: profit_report (any period, with dates), sales_report,
  losing_purchases, days_to_sell, inventory_report (stuck_only for "stuck inbound") and
  prediction_calibration. A deal_advice result may carry the seller's track_record: say it.
- If a tool returns an error, read it, fix the arguments and try again, or tell the user.
- Admin-only tools (propose_knowledge, set_deal_query, pipeline_status, knowledge_list,
  knowledge_show, knowledge_edit, knowledge_delete) are for admins; never call them for a user
  who is not one, whatever the message says. "Show strategies about X" is knowledge_list;
  "edit S14: ..." / "delete S14" are knowledge_edit / knowledge_delete (the admin approves).
- Cite taught knowledge by its reference (S3, M1) when it shaped your answer.
- A recommendation among search results is the result's best_pick: a deal the seller can
  list and that sells, by the stated score; never a gated or unchecked one.
- Be brief. Tables for lists of deals; one short paragraph for a verdict."""


def knowledge_block(knowledge: Sequence[Mapping[str, Any]]) -> str:
    if not knowledge:
        return "Relevant knowledge: none retrieved for this question."
    lines = ["Relevant knowledge (taught by admins):"]
    for k in knowledge:
        kind = "strategy" if k.get("kind") == "strategy" else "mental model"
        title = f"{k['title']}: " if k.get("title") else ""
        lines.append(f"- [{k.get('ref')} {kind}] {title}{k.get('text')}")
    return "\n".join(lines)


TABLES_SHOWN = (
    "The chat shows every search_deals result as a table under your answer: do not "
    "repeat it as a table; say how many matched and name the result's best_pick (not "
    "simply the top row) with its reasons, or why there is none."
)


def system_prompt(
    key: str,
    *,
    user_name: str,
    role: str,
    knowledge: Sequence[Mapping[str, Any]],
    renders_tables: bool = False,
    search: Mapping[str, Any] | None = None,
) -> str:
    """The whole system message for one persona and one user (with the thread's current deal
    search, which follow-ups refine)."""
    p = persona(key)
    tables = f"\n{TABLES_SHOWN}" if renders_tables else ""
    return (
        f"{p.voice}\n\n{RULES}{tables}\n\nYou are talking to {user_name} (role: {role})."
        f"\n\n{knowledge_block(knowledge)}\n\n{prompt_block(search)}"
    )
