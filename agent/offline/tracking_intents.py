"""The offline model's reading of the seller's-loop requests: buy list and purchases.

Kept apart from the deal-question parser (parser.py): these messages are commands with their
own words ("add it to my buy list", "I bought 3 of 0131103628 at $12.40, used good, order
112-...", "delete purchase #4"), recognized first; anything else goes on to the deal parser.
`plan` returns the tool call an LLM would make, or a `Reply` when something the tool needs is
missing (the price of a purchase), or None when the message is not about the seller's loop.
Only the first MAX_PARSE_CHARS characters are read (parser.clip), and every pattern is linear.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from agent.offline.parser import clip, find_asin

_MONTHS = {
    m: i
    for i, names in enumerate(
        (
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ),
        start=1,
    )
    for m in names
}


@dataclass
class Call:
    tool: str
    args: dict[str, Any] = field(default_factory=dict)


@dataclass
class Reply:
    text: str


_BUY_LIST = re.compile(
    r"\b(?:buy(?:ing)?[\s-]?list|shopping list|to-?buy(?: list)?|watch[\s-]?list)\b"
)
_ADD = re.compile(r"\b(?:add|put|save|flag|keep|stick|throw|pin)\b")
_REMOVE = re.compile(r"\b(?:remove|delete|drop|take|scratch|cross)\b")
_GONE = re.compile(
    r"\b(?:clear|remove|delete|drop|clean(?:\s+up)?|prune|purge|tidy)\b[^.?!]{0,60}?"
    r"\b(?:gone|dead|expired|no longer|not (?:a )?deals?|unprofitable|disappeared|vanished)\b"
    r"|\bclean\s+up\b[^.?!]{0,30}?\bbuy[\s-]?list\b"
)
_BOUGHT = re.compile(
    r"\b(?:i|we)\s+(?:just\s+|also\s+)?(?:bought|purchased|sourced)\b"
    r"|\b(?:record|log|add)\s+(?:a\s+|my\s+|this\s+)?(?:purchase|buy)\b"
)
# weaker words count as a purchase only with a price in the message ("I got gated on ...")
_GOT = re.compile(r"\b(?:i|we)\s+(?:just\s+|also\s+)?(?:got|grabbed|picked\s+up|scored)\b")
_PURCHASE_ID = re.compile(r"\bpurchases?\s*(?:#|no\.?|number)?\s*(\d{1,9})\b")
_DELETE = re.compile(r"\b(?:delete|remove|cancel|undo|drop|erase)\b")
_EDIT = re.compile(r"\b(?:change|edit|update|fix|correct|set|make)\b")
_PURCHASES = re.compile(
    r"\b(?:my|show|list|see|all)\b[^.?!]{0,30}?\bpurchases\b|\bwhat (?:did|have) (?:i|we) "
    r"(?:bought|buy|purchased?)\b|\bpurchase (?:history|log|list)\b"
)
_EXPORT = re.compile(
    r"\b(?:export|download|csv|spreadsheet)\b[^.?!]{0,40}?\bpurchases?\b"
    r"|\bpurchases?\b[^.?!]{0,40}?\b(?:export|download|as (?:a )?csv|to (?:a )?csv)\b"
)
_IMPORT = re.compile(
    r"\b(?:import|upload|load)\b[^.?!]{0,40}?\b(?:costs?|purchases?|spreadsheet|csv)\b"
)
_PROFIT = re.compile(
    r"\bhow much (?:money )?(?:did|have|do|will) (?:i|we) (?:make|made|earn|earned|net|netted|"
    r"profit|clear|cleared|bring in|take home)\b|\bwhat (?:did|have) (?:i|we) (?:make|made|"
    r"earn|earned|net|netted)\b|\bhow much (?:profit|money)\b"
    r"|\b(?:my|our|realized|total|actual) (?:realized |total |net )?"
    r"(?:profits?|earnings|income)\b|\bprofit (?:report|by month|so far|this|last|in)\b"
)
_SOLD = re.compile(
    r"\bwhat(?:'s| has| have| did)? (?:i |we )?(?:sold|sell)\b|\bwhat sold\b|\b(?:my|our|"
    r"recent) (?:sales|orders)\b|\bsales (?:this|last|today|yesterday|in|since)\b|"
    r"\b(?:did|have) (?:i|we|anything) (?:sell|sold)\b|\banything sell\b"
)
_LOSING = re.compile(
    r"\b(?:losing|lost|lose|losers?|lossy|money[\s-]losing|in the red|underwater)\b[^.?!]{0,30}?"
    r"(?:money|purchases?|buys?|books?)?|\bwhich (?:purchases|buys|books) (?:are|were|did)"
    r" (?:bad|not profitable|unprofitable|a loss)\b"
)
_DAYS = re.compile(
    r"\bdays? to sell\b|\bhow (?:long|fast|quickly) (?:do|did|does|will|to)\b[^.?!]{0,40}?"
    r"\bsell|\bsell[\s-]?through (?:time|rate|speed)\b|\btime to sell\b"
)
_STUCK = re.compile(
    r"\bstuck\b[^.?!]{0,30}?\binbound\b|\binbound\b[^.?!]{0,30}?\b(?:stuck|late|slow|"
    r"delayed|missing|lost)\b|\b(?:late|delayed|slow) (?:shipments?|inbound)\b"
)
_INVENTORY = re.compile(
    r"\b(?:my|our|fba|amazon) (?:fba )?(?:inventory|stock)\b|\bin (?:my|our) (?:fba )?"
    r"(?:inventory|stock)\b|\bwhat (?:do|have) (?:i|we) (?:have|got) (?:at|in) "
    r"(?:amazon|fba|the warehouse)\b|\binventory (?:at amazon|report|status)\b|\binbound\b"
)
_CALIBRATION = re.compile(
    r"\bcalibrat\w*|\bhow (?:accurate|good|right|reliable|far off|wrong) (?:are|were|is|was) "
    r"(?:your|the|my|our) (?:predictions?|estimates?|forecasts?|numbers|projections?)\b|"
    r"\bpredict(?:ed|ions?)? (?:vs\.?|versus|against|compared (?:to|with)) (?:realized|actual|"
    r"reality|what happened)\b|\bprediction accuracy\b|\b(?:track record)\b"
)
_KINDS = (
    (re.compile(r"\btext ?books?\b"), "textbooks"),
    (re.compile(r"\bexam[\s-]?prep\b"), "exam prep"),
    (re.compile(r"\bholiday\b"), "holiday"),
)
_KIND_WORD = re.compile(
    r"\b(?:my|for|of)\s+([a-z][a-z-]{2,30})\s+(?:books?|titles|buys|purchases)\b"
)
_NOT_KIND = frozenset({"the", "my", "all", "these", "those", "used", "new", "amazon", "fba"})
_REFERS = re.compile(r"\b(?:it|this|that|this one|that one)\b")

_ORDER = re.compile(
    r"\border\s*(?:#|no\.?|number|id)?\s*[:#]?\s*([0-9A-Za-z][0-9A-Za-z._/-]{2,63})", re.I
)
_SKU = re.compile(r"\b(?:sku|msku)\s*[:#]?\s*([A-Za-z0-9][A-Za-z0-9._/-]{0,39})", re.I)
_MONEY = r"\$?\s?(\d{1,6}(?:,\d{3})*(?:\.\d{1,2})?)"
_COST = re.compile(
    r"(?:\bat|@|\bfor|\bpaid|\bcost(?:ing)?|\bprice(?:d)?)\s*(?:of\s+|was\s+|is\s+)?"
    + _MONEY
    + r"\s*(each|apiece|a piece|per (?:unit|copy|book)|/\s*(?:unit|copy|ea)|ea\b|total|in total"
    r"|for (?:all|the lot|them all)|all in)?"
)
_DOLLARS = re.compile(r"\$\s?(\d{1,6}(?:,\d{3})*(?:\.\d{1,2})?)")
_QTY = re.compile(
    r"\b(\d{1,5})\s*(?:x\b|×|of\b|copies\b|copy\b|units?\b|books?\b|pcs\b|pieces\b)"
    r"|\b(?:qty|quantity)\s*[:=]?\s*(\d{1,5})\b"
    r"|\b(?:bought|purchased|got|grabbed|sourced|picked up)\s+(\d{1,5})\b(?!\s*(?:\.|/|-))"
)
_WORD_QTY = {
    "a": 1,
    "an": 1,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "a couple of": 2,
    "a pair of": 2,
}
_WORD_QTY_RE = re.compile(
    r"\b(?:bought|purchased|got|grabbed|sourced|picked up)\s+("
    + "|".join(sorted(_WORD_QTY, key=len, reverse=True))
    + r")\s+(?:copies|copy|units?|books?|of)\b"
)


def _in_condition_context(word: str) -> re.Pattern[str]:
    """`word` said as a condition: "used good", "in good condition", "condition: good", or
    alone between commas ("..., good, order ..."), not "a good deal" or "new edition"."""
    return re.compile(
        rf"\b(?:used|in|condition\s*[:=]?|cond\.?)[\s-]+{word}\b"
        rf"|\b{word}\s+(?:condition|cond\b|copy|copies)"
        rf"|(?:^|[,;(]|\b(?:and|as))\s*{word}\s*(?=[,;.)]|$|\band\b)"
    )


_CONDITIONS = (
    (re.compile(r"\blike[\s-]?new\b"), "used_like_new"),
    (re.compile(r"\bvery[\s-]?good\b"), "used_very_good"),
    (_in_condition_context("vg"), "used_very_good"),
    (re.compile(r"\bacceptable\b"), "used_acceptable"),
    (_in_condition_context("good"), "used_good"),
    (re.compile(r"\bbrand[\s-]?new\b"), "new_new"),
    (_in_condition_context("new"), "new_new"),
)
_ISO_DATE = re.compile(r"\b(20\d\d)-(\d{1,2})-(\d{1,2})\b")
_US_DATE = re.compile(r"\b(?:on\s+)?(\d{1,2})/(\d{1,2})(?:/(\d{2,4}))?\b")
_NAMED_DATE = re.compile(
    r"\b(?:on\s+)?(" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?\s+(\d{1,2})"
    r"(?:st|nd|rd|th)?(?:,?\s+(20\d\d))?\b"
)
_DAYS_AGO = re.compile(r"\b(\d{1,3}|a|one|two|three) days? ago\b")
_EDIT_FIELDS = (
    (
        "unit_cost",
        re.compile(r"\b(?:cost|price|paid|unit cost)\b\s*(?:to|=|:|is|was)?\s*" + _MONEY),
    ),
    (
        "quantity",
        re.compile(r"\b(?:quantity|qty|units|copies)\b\s*(?:to|=|:|is|was)?\s*(\d{1,5})\b"),
    ),
)


def _month_start(d: date) -> date:
    return d.replace(day=1)


def _add_months(d: date, n: int) -> date:
    m = d.month - 1 + n
    return date(d.year + m // 12, m % 12 + 1, 1)


_YEAR = re.compile(r"\b(?:in|for|during)\s+(20\d\d)\b")
_MONTH_NAME = re.compile(
    r"\b(?:in|for|during|of|since)?\s*(" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")"
    r"(?:\s+(20\d\d))?\b"
)
_LAST_N = re.compile(r"\b(?:last|past|previous)\s+(\d{1,3})\s+(day|week|month)s?\b")


def find_period(text: str, now: datetime | None = None) -> tuple[str | None, str | None]:
    """(first day, last day) in ISO dates for "this week", "in November", "last month",
    "last 30 days", "in 2025", "since June", "today"...; (None, None): all time."""
    today = _today(now)
    t = text.lower()
    if re.search(r"\btoday\b", t):
        return today.isoformat(), today.isoformat()
    if re.search(r"\byesterday\b", t):
        y = today - timedelta(days=1)
        return y.isoformat(), y.isoformat()
    if m := _LAST_N.search(t):
        n, unit = int(m.group(1)), m.group(2)
        days = {"day": n, "week": 7 * n, "month": 30 * n}[unit]
        return (today - timedelta(days=days - 1)).isoformat(), today.isoformat()
    monday = today - timedelta(days=today.weekday())
    if re.search(r"\bthis week\b|\bso far this week\b", t):
        return monday.isoformat(), today.isoformat()
    if re.search(r"\blast week\b", t):
        return (monday - timedelta(days=7)).isoformat(), (monday - timedelta(days=1)).isoformat()
    if re.search(r"\bthis month\b", t):
        return _month_start(today).isoformat(), today.isoformat()
    if re.search(r"\blast month\b", t):
        first = _add_months(_month_start(today), -1)
        return first.isoformat(), (_month_start(today) - timedelta(days=1)).isoformat()
    if re.search(r"\bthis year\b|\bytd\b|\byear to date\b", t):
        return date(today.year, 1, 1).isoformat(), today.isoformat()
    if re.search(r"\blast year\b", t):
        return date(today.year - 1, 1, 1).isoformat(), date(today.year - 1, 12, 31).isoformat()
    if m := _MONTH_NAME.search(t):
        month = _MONTHS[m.group(1)]
        year = int(m.group(2)) if m.group(2) else today.year
        if not m.group(2) and date(year, month, 1) > today:
            year -= 1  # "November" in March: the last one
        first = date(year, month, 1)
        if re.search(r"\bsince\s+" + m.group(1), t):
            return first.isoformat(), today.isoformat()
        return first.isoformat(), (_add_months(first, 1) - timedelta(days=1)).isoformat()
    if m := _YEAR.search(t):
        whole = int(m.group(1))
        return date(whole, 1, 1).isoformat(), date(whole, 12, 31).isoformat()
    return None, None


def find_kind(text: str) -> str | None:
    """ "for my textbooks" -> "textbooks"; "my nursing books" -> "nursing"; None: all."""
    for rx, name in _KINDS:
        if rx.search(text):
            return name
    m = _KIND_WORD.search(text)
    return m.group(1) if m and m.group(1) not in _NOT_KIND else None


def _period_args(text: str, now: datetime | None) -> dict[str, Any]:
    start, end = find_period(text, now)
    return {k: v for k, v in (("start", start), ("end", end)) if v}


def _today(now: datetime | None) -> date:
    if now is None:
        from tools.tracking.clock import seller_now

        now = seller_now()
    return now.date()


def find_date(text: str, now: datetime | None = None) -> str | None:
    """An ISO date for "2025-11-03", "11/3", "Nov 3", "yesterday", "3 days ago" (no future)."""
    today = _today(now)
    if re.search(r"\byesterday\b", text):
        return (today - timedelta(days=1)).isoformat()
    if re.search(r"\btoday\b|\bthis morning\b|\btonight\b", text):
        return today.isoformat()
    m = _DAYS_AGO.search(text)
    if m:
        n = {"a": 1, "one": 1, "two": 2, "three": 3}.get(m.group(1)) or int(m.group(1))
        return (today - timedelta(days=n)).isoformat()
    try:
        if m := _ISO_DATE.search(text):
            return date(int(m[1]), int(m[2]), int(m[3])).isoformat()
        if m := _NAMED_DATE.search(text):
            year = int(m[3]) if m[3] else today.year
            d = date(year, _MONTHS[m[1]], int(m[2]))
            return (d if m[3] or d <= today else d.replace(year=year - 1)).isoformat()
        if m := _US_DATE.search(text):
            year = int(m[3]) if m[3] else today.year
            year += 2000 if year < 100 else 0
            d = date(year, int(m[1]), int(m[2]))
            return (d if m[3] or d <= today else d.replace(year=year - 1)).isoformat()
    except ValueError:  # "2/30": no such day
        return None
    return None


def find_condition(text: str) -> str | None:
    for rx, name in _CONDITIONS:
        if rx.search(text):
            return name
    return None


def _money(s: str) -> float:
    return float(s.replace(",", ""))


def find_quantity(text: str) -> int | None:
    m = _QTY.search(text)
    if m:
        return int(next(g for g in m.groups() if g))
    m = _WORD_QTY_RE.search(text)
    return _WORD_QTY[m.group(1)] if m else None


def find_cost(text: str, quantity: int) -> float | None:
    """The unit cost: "at $12.40 (each)", "for $37.20 total" (divided by the quantity)."""
    m = _COST.search(text)
    if m:
        amount, how = _money(m.group(1)), (m.group(2) or "")
        if how and ("total" in how or "all" in how or "lot" in how) and quantity > 1:
            return round(amount / quantity, 2)
        return amount
    m = _DOLLARS.search(text)
    return _money(m.group(1)) if m else None


def all_asins(text: str) -> tuple[list[str], str]:
    """Every ASIN / ISBN in the text (in order) and the text without them."""
    found: list[str] = []
    rest = text
    for _ in range(50):
        asin, rest_wo = find_asin(rest)
        if asin is None:
            break
        found.append(asin)
        rest = rest_wo
    return found, rest


def _purchase(raw: str, low: str, asin: str, now: datetime | None) -> Call | Reply:
    """record_purchase's arguments from "I bought 3 of X at $12.40, used good, order 112-..."."""
    args: dict[str, Any] = {"asin": asin}
    rest = raw
    if m := _ORDER.search(rest):
        args["order_number"] = m.group(1).rstrip(".,;")
        rest = rest[: m.start()] + " " + rest[m.end() :]
    if m := _SKU.search(rest):
        args["sku"] = m.group(1).rstrip(".,;")
        rest = rest[: m.start()] + " " + rest[m.end() :]
    text = rest.lower()
    when = find_date(text, now)
    if when:
        args["purchased_on"] = when
        text = _ISO_DATE.sub(" ", _US_DATE.sub(" ", text))
    quantity = find_quantity(text) or 1
    cost = find_cost(text, quantity)
    if cost is None:
        return Reply(
            f'What did you pay per copy of {asin}? For example: "I bought {quantity} of {asin} '
            'at $12.40, used good, order 112-1234567-1234567".'
        )
    args["quantity"] = quantity
    args["unit_cost"] = cost
    if cond := find_condition(text):
        args["condition"] = cond
    return Call("record_purchase", args)


def _edit(low: str, pid: int, now: datetime | None) -> Call | Reply:
    args: dict[str, Any] = {"purchase_id": pid}
    for name, rx in _EDIT_FIELDS:
        if m := rx.search(low):
            args[name] = _money(m.group(1)) if name == "unit_cost" else int(m.group(1))
    if m := _SKU.search(low):
        args["sku"] = m.group(1).upper()
    if m := _ORDER.search(low):
        args["order_number"] = m.group(1)
    if re.search(r"\bcondition\b", low) and (cond := find_condition(low)):
        args["condition"] = cond
    if re.search(r"\b(?:date|bought on|purchased on|day)\b", low) and (when := find_date(low, now)):
        args["purchased_on"] = when
    if len(args) == 1:
        return Reply(
            f'What should change on purchase #{pid}? For example: "change purchase #{pid} '
            'cost to $11.50" or "set purchase #{pid} quantity to 2".'
        )
    return Call("edit_purchase", args)


def plan(
    text: str, *, last_asin: str | None = None, now: datetime | None = None
) -> Call | Reply | None:
    """The seller's-loop tool call for this message, a question back, or None (not ours)."""
    raw = clip(text.strip())[0]
    asins, rest = all_asins(raw)
    low = re.sub(r"\s+", " ", rest.lower())
    refers = bool(_REFERS.search(low))
    one = asins[0] if asins else (last_asin if refers else None)
    if _GONE.search(low) and (_BUY_LIST.search(low) or not asins):
        return Call("buy_list_clear_gone")
    if _BUY_LIST.search(low):
        if _REMOVE.search(low) and not _ADD.search(low):
            targets = asins or ([last_asin] if refers and last_asin else [])
            if not targets:
                return Reply("Which ASINs should I take off your buy list?")
            return Call("buy_list_remove", {"asins": targets})
        if _ADD.search(low) or (asins and not _REMOVE.search(low)):
            if one is None:
                return Reply(
                    'Which ASIN should I add? For example: "add 0131103628 to my buy list".'
                )
            args: dict[str, Any] = {"asin": one}
            if cond := find_condition(low.replace("buy list", "")):
                args["condition"] = cond
            return Call("buy_list_add", args)
        return Call("buy_list_show")
    if m := _PURCHASE_ID.search(low):
        pid = int(m.group(1))
        if _DELETE.search(low):
            return Call("delete_purchase", {"purchase_id": pid})
        if _EDIT.search(low):
            return _edit(low, pid, now)
    if _CALIBRATION.search(low):
        kind = find_kind(low)
        seasonality = {"textbooks": "textbook", "exam prep": "exam_prep"}.get(kind or "")
        return Call("prediction_calibration", {"seasonality": seasonality} if seasonality else {})
    if _STUCK.search(low):
        return Call("inventory_report", {"stuck_only": True})
    if _DAYS.search(low):
        kind = find_kind(low)
        return Call("days_to_sell", {"kind": kind} if kind else {})
    if _LOSING.search(low) and re.search(r"\b(?:purchases?|buys?|books?|money|loss)\b", low):
        return Call("losing_purchases")
    if _PROFIT.search(low):
        return Call("profit_report", _period_args(low, now))
    if _SOLD.search(low):
        return Call("sales_report", _period_args(low, now))
    if _INVENTORY.search(low):
        return Call("inventory_report")
    if _EXPORT.search(low):
        return Call("export_purchases")
    if _IMPORT.search(low):
        return Call("list_purchases", {"limit": 5})
    if _BOUGHT.search(low) or (_GOT.search(low) and _DOLLARS.search(low)):
        if one is None:
            return Reply(
                'Which ASIN did you buy? For example: "I bought 3 of 0131103628 at $12.40, '
                'used good, order 112-1234567-1234567".'
            )
        return _purchase(rest, low, one, now)
    if _PURCHASES.search(low):
        return Call("list_purchases", {"asin": asins[0]} if asins else {})
    return None


def is_import_request(text: str) -> bool:
    """ "import my costs": answered with the purchases and the chat's Import costs button."""
    return bool(_IMPORT.search(clip(text.strip())[0].lower()))
