"""A follow-up to a search: apply its changes to the stored search, and say what changed.

A thread's last search is a `DealSearch` dumped with only the fields that were set (pydantic's
`model_fields_set` survives the round trip, so the user's saved thresholds still apply to
whatever the search never set). A refinement overrides fields, removes fields (by name or by
the name a seller uses: "price" removes both price bounds) and pages; any change other than
paging starts again at the first page. The words ("added rank <= 200,000 to your search:
6 of 21 remain") are built from the two searches and their totals, so every model (the offline
one or an LLM) reports the same change the same way.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from tools.deals.search.filters import DealSearch, DealSearchError

PAGING = ("limit", "offset")
# what a seller calls a filter -> the DealSearch fields it stands for
GROUPS: dict[str, tuple[str, ...]] = {
    "price": ("min_price", "max_price"),
    "roi": ("min_roi", "max_roi"),
    "profit": ("min_profit", "max_profit"),
    "margin": ("min_margin", "max_margin"),
    "rank": ("min_rank", "max_rank"),
    "drops": ("min_drops_30", "min_drops_90", "min_drops_365"),
    "sales": ("min_drops_30", "min_drops_90", "min_drops_365"),
    "season": ("seasonality", "in_peak_now", "peak_month"),
    "seasonality": ("seasonality", "in_peak_now", "peak_month"),
    "discount": ("min_percent_down",),
    "percent_down": ("min_percent_down",),
    "gating": ("gated",),
    "amazon": ("amazon_offer",),
    "words": ("text",),
    "subject": ("text",),
    "title": ("text",),
    "author": ("author",),
    "publisher": ("publisher",),
    "updated": ("updated_within_hours",),
    "unprofitable": ("include_unprofitable",),
}
# a new bound on one side drops a stored bound on the other side that it contradicts
_OPPOSITE = {
    "min_price": "max_price",
    "max_price": "min_price",
    "min_roi": "max_roi",
    "max_roi": "min_roi",
    "min_profit": "max_profit",
    "max_profit": "min_profit",
    "min_margin": "max_margin",
    "max_margin": "min_margin",
    "min_rank": "max_rank",
    "max_rank": "min_rank",
}
_MONTHS = (
    "",
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def stored_fields(query: DealSearch) -> dict[str, Any]:
    """What a thread keeps of a search: the fields that were set, JSON-ready."""
    return query.model_dump(mode="json", exclude_unset=True)


def restore(fields: Mapping[str, Any] | None) -> DealSearch:
    """The stored search again (fields it never set stay unset); an empty one when the stored
    dict no longer validates (a field renamed since it was saved)."""
    try:
        return DealSearch(**dict(fields or {}))
    except (ValueError, TypeError):
        return DealSearch()


def fields_to_remove(names: Iterable[str]) -> list[str]:
    """DealSearch fields for the names a caller gave ("price", "max_rank", "rank filter")."""
    out: list[str] = []
    known = DealSearch.model_fields
    for raw in names:
        name = str(raw).strip().lower().removesuffix(" filter").replace(" ", "_")
        if name in known:
            group: tuple[str, ...] = (name,)
        elif name in GROUPS:
            group = GROUPS[name]
        else:
            allowed = ", ".join(sorted({*GROUPS, *known}))
            raise DealSearchError(f"cannot remove '{raw}': not a filter. Use one of: {allowed}")
        out.extend(f for f in group if f not in out)
    return out


@dataclass
class Refinement:
    """The merged search and how it differs from the stored one."""

    query: DealSearch
    dropped: list[str] = field(default_factory=list)  # stored bounds a new bound contradicted


def refine(
    stored: Mapping[str, Any] | None,
    changes: Mapping[str, Any],
    remove: Iterable[str] = (),
) -> Refinement:
    """The stored search with `changes` applied and `remove` taken out. Paging stays only
    when nothing but paging changed; otherwise the refined search starts at its first page."""
    base = dict(stored or {})
    gone = fields_to_remove(remove)
    for name in gone:
        base.pop(name, None)
    dropped: list[str] = []
    for name, value in changes.items():
        other = _OPPOSITE.get(name)
        if other and other in base and other not in changes and value is not None:
            lo, hi = (value, base[other]) if name.startswith("min_") else (base[other], value)
            if lo > hi:
                dropped.append(other)
                base.pop(other)
    filters_changed = bool(gone) or any(
        k not in PAGING and base.get(k) != v for k, v in changes.items()
    )
    merged = {**base, **changes}
    if filters_changed and "offset" not in changes:
        merged.pop("offset", None)
    try:
        query = DealSearch(**merged)
    except ValueError as err:
        raise DealSearchError(f"that change does not make a valid search: {err}") from None
    return Refinement(query, dropped)


# ---- the words ----------------------------------------------------------------------------


def _money(v: Any) -> str:
    return f"${float(v):,.2f}".replace(".00", "")


def _num(v: Any) -> str:
    f = float(v)
    return f"{int(f):,}" if f == int(f) else f"{f:,.1f}"


def label(name: str, value: Any) -> str:
    """One filter in a seller's words ("rank <= 200,000", "only deals you can sell")."""
    money = {"min_price": "price >=", "max_price": "price <=", "min_profit": "profit >="}
    money["max_profit"] = "profit <="
    if name in money:
        return f"{money[name]} {_money(value)}"
    if name in ("min_roi", "max_roi", "min_margin", "max_margin"):
        what, op = name.split("_", 1)[1].replace("roi", "ROI"), ">=" if name[:3] == "min" else "<="
        return f"{what} {op} {_num(value)} %"
    if name in ("min_rank", "max_rank"):
        return f"rank {'>=' if name == 'min_rank' else '<='} {_num(value)}"
    if name.startswith("min_drops_"):
        return f"at least {_num(value)} rank drops in {name.rsplit('_', 1)[1]} days"
    if name == "min_percent_down":
        return f"at least {_num(value)} % below the 1-year average"
    if name == "gated":
        return {
            "only_ungated": "only deals you can sell",
            "exclude": "gated deals hidden",
            "include": "gated deals included",
        }.get(str(value), f"gating {value}")
    if name == "amazon_offer":
        return "Amazon on the listing" if value else "no Amazon on the listing"
    if name == "seasonality":
        return f"{str(value).replace('_', '-')} books"
    if name == "in_peak_now":
        return "in peak season now" if value else "any season"
    if name == "peak_month":
        month = int(value) if isinstance(value, int | float) else 0
        return f"peaks in {_MONTHS[month]}" if 1 <= month <= 12 else f"peak month {value}"
    if name == "condition":
        return f"condition {str(value).replace('_', ' ')}"
    if name == "updated_within_hours":
        return f"updated in the last {_num(value)} h"
    if name == "include_unprofitable":
        return "unprofitable deals included" if value else "profitable deals only"
    if name == "text":
        return f"words '{value}'"
    if name == "category":
        return f"category {value}"
    if name in ("author", "publisher"):
        return f"{name} '{value}'"
    if name == "sort":
        return f"sorted by {_sort_words(value)}"
    if name == "limit":
        return f"{value} per page"
    return f"{name.replace('_', ' ')} {value}"


_SORT_WORDS = {
    "roi": "ROI",
    "drops": "rank drops (fastest selling)",
    "rank": "best sales rank",
    "newest": "newest",
    "percent_down": "biggest discount",
    "price": "price (cheapest first)",
}


def _sort_words(key: Any) -> str:
    return _SORT_WORDS.get(str(key), str(key).replace("_", " "))


def _count(total: int, capped: bool) -> str:
    return f"{total:,}+" if capped else f"{total:,}"


def _join(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def describe(
    before: DealSearch,
    after: DealSearch,
    before_total: int | None,
    after_total: int,
    *,
    before_capped: bool = False,
    after_capped: bool = False,
    dropped: Iterable[str] = (),
) -> str:
    """What a refinement did, in one line: "added rank <= 200,000 to your search: 6 of 21
    remain", "sorted your search by profit (21 deals)", "page 2 of your search: deals 11-20
    of 21"."""
    b, a = before.model_dump(exclude_unset=True), after.model_dump(exclude_unset=True)
    filters = [k for k in {*b, *a} if k not in PAGING and k != "sort"]
    added = sorted(k for k in filters if k not in b and k in a)
    removed = sorted(k for k in filters if k in b and k not in a)
    changed = sorted(k for k in filters if k in b and k in a and b[k] != a[k])
    sort_changed = before.sort != after.sort
    parts = [f"added {_join([label(k, a[k]) for k in added])}"] if added else []
    if changed:
        parts.append("changed " + _join([f"{label(k, b[k])} to {label(k, a[k])}" for k in changed]))
    if removed:
        parts.append(f"removed {_join([label(k, b[k]) for k in removed])}")
    dropped = [k for k in dropped if k in b]
    if dropped:
        parts.append(f"dropped {_join([label(k, b[k]) for k in dropped])} (it contradicted)")
    shown = _count(after_total, after_capped)
    by = _sort_words(after.sort)
    if not parts and sort_changed:
        return f"sorted your search by {by} ({shown} deals)"
    if parts:
        where = " to your search" if added and not (changed or removed or dropped) else ""
        head = _join(parts) + where + (f", sorted by {by}" if sort_changed else "")
        if before_total is None:
            return f"{head}: {shown} match"
        was = _count(before_total, before_capped)
        if not removed and not dropped and not before_capped and after_total <= before_total:
            return f"{head}: {shown} of {was} remain"
        return f"{head}: now {shown} match (was {was})"
    if (before.offset, before.limit) != (after.offset, after.limit):
        first, last = after.offset + 1, min(after.offset + after.limit, after_total)
        page = after.offset // after.limit + 1
        if first > after_total:
            return f"page {page} of your search is empty: it has {shown} deals"
        return f"page {page} of your search: deals {first}-{last} of {shown}"
    return f"your search is unchanged: {shown} deals"
