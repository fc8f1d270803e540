"""The query planner: which index to walk for a search page, and when to stop counting.

Plan by selectivity: a text/category search whose words match few deals reads just those rows
(and so does a seasonality that few deals have); otherwise the page's ASINs come from an index
walk that stops early (`_money_window` for money sorts, `_plain_page` for stored-column sorts),
and the total is counted up to TOTAL_CAP. The answer is always the same page as the
straightforward ORDER BY over every match (tests/unit/test_search_fast.py holds it to that).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Table, false, func, literal, literal_column, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.elements import BinaryExpression, ColumnElement
from sqlmodel import Session

from tools.deals import money as m
from tools.deals.search.bounds import (
    default_margin_floor,
    default_profit_floor,
    default_roi_floor,
    roi_level_choice,
    roi_level_floor,
)
from tools.deals.search.filters import (
    FTS,
    D,
    DealSearch,
    fts_match,
    has_fts,
    order_by,
    roi_value,
    where_terms,
)
from tools.models import User, roi_level_index, roi_level_sql
from tools.user_settings import UserSettings


@compiles(Table, "sqlite")
def _table_with_sqlite_hint(element: Table, compiler: Any, fromhints: Any = None, **kw: Any) -> str:
    """Render `with_hint(table, "INDEXED BY ix", "sqlite")` (SQLAlchemy's SQLite compiler
    drops FROM hints). Without ANALYZE statistics SQLite prefers any equality term (status =
    ?, seasonality = ?) over the index that lets a sorted walk stop after a page, so the
    search names its index; other dialects never see the hint."""
    text = compiler.visit_table(element, fromhints=None, **kw)
    hint = (fromhints or {}).get(element)
    return f"{text} {hint}" if hint else text


def via(stmt: Any, index: str) -> Any:
    return stmt.with_hint(D, f"INDEXED BY {index}", "sqlite")


_KEY_INDEX = {
    "roi": "ix_deal_roi_cover",
    "profit": "ix_deal_profit_cover",
    "margin": "ix_deal_margin_cover",
    "rank": "ix_deal_rank_asin",
    "drops": "ix_deal_drops_asin",
    "newest": "ix_deal_updated_asin",
    "percent_down": "ix_deal_percent_down_asin",
    "price": "ix_deal_price_asin",
}


TOTAL_CAP = 1000  # count at most this many matches; above it the answer is "1000+"

_PLAIN_SORTS = {
    "rank": ("sales_rank", False),
    "drops": ("rank_drops_30", True),
    "newest": ("updated_at", True),
    "percent_down": ("percent_down", True),
    "price": ("price_now", False),
}


def _money_window(
    session: Session,
    query: DealSearch,
    where: list[ColumnElement[bool]],
    money: m.MoneySQL,
    settings: UserSettings,
) -> tuple[ColumnElement[bool], str | None] | None:
    """An extra WHERE term that keeps the page of a money sort exactly the same but lets SQL
    read only a narrow slice of an index instead of computing every match, and the index to
    walk for it (None: let the planner choose).

    Pass 1 walks a key that orders rows nearly like the user's value (ROI: the expression
    index of the nearest fixed-cost level; profit/margin: the stored default money) and takes
    the first K = offset + limit matches with the user's own sort value. If fewer than K match
    at all, those are all the matches. Otherwise at least K deals reach V = the smallest of
    those values, so the true top K all have value >= V, and the bound functions above turn
    "user value >= V" into a necessary "key >= B". None: no safe bound (the caller runs the
    plain query).
    """
    level = roi_level_choice(settings) if query.sort == "roi" else None
    if level is not None:
        key: ColumnElement[Any] = literal_column(roi_level_sql(level[0]))
        index = roi_level_index(level[0])
    else:
        key = {"roi": D.c.roi_default, "profit": D.c.profit_default, "margin": D.c.margin_default}[
            query.sort
        ]
        index = _KEY_INDEX[query.sort]
    user_value = {"roi": roi_value(money), "profit": money.profit, "margin": money.margin}[
        query.sort
    ]
    k = query.offset + query.limit
    if k > 1000:  # deep pages: the candidate walk would cost as much as the plain query
        return None
    rows = session.execute(
        via(select(D.c.asin, user_value).where(*where).order_by(key.desc()).limit(k), index)
    ).all()
    if len(rows) < k:
        return (D.c.asin.in_([a for a, _ in rows]) if rows else false()), None
    values = [v for _, v in rows]
    if any(v is None for v in values):
        return None
    floor = float(min(values))
    bound: float | None
    if level is not None:
        bound = roi_level_floor(settings, level[1], level[2], floor)
    elif query.sort == "roi":  # value = net / cost = 1 + ROI / 100
        bound = default_roi_floor(settings, (floor - 1.0) * 100.0) if floor > 0 else None
    elif query.sort == "profit":
        max_price = query.max_price
        if max_price is None:
            max_price = session.execute(select(func.max(D.c.price_now))).scalar()
        bound = default_profit_floor(settings, floor, max_price)
    else:
        bound = default_margin_floor(settings, floor)
    return None if bound is None else (key >= bound, index)


def _plain_page(session: Session, query: DealSearch, where: list[ColumnElement[bool]]) -> list[str]:
    """A page sorted by a stored column, NULLs last: the non-NULL part in index order (the
    walk stops after offset + limit matches), then the NULL part by ASIN if the page has room.
    Same rows and order as ORDER BY col NULLS LAST, asin."""
    name, desc = _PLAIN_SORTS[query.sort]
    col = D.c[name]
    key = col.desc() if desc else col.asc()
    asins = list(
        session.execute(
            via(
                select(D.c.asin)
                .where(*where, col.isnot(None))
                .order_by(key, D.c.asin.asc())
                .limit(query.limit)
                .offset(query.offset),
                _KEY_INDEX[query.sort],
            )
        ).scalars()
    )
    if len(asins) == query.limit:
        return asins
    if asins:
        skip = 0  # the non-NULL part ended inside this page
    else:  # the page starts past the non-NULL part: how far past?
        counted = select(literal(1)).where(*where, col.isnot(None)).limit(query.offset).subquery()
        skip = (
            query.offset - session.execute(select(func.count()).select_from(counted)).scalar_one()
        )
    nulls = session.execute(
        select(D.c.asin)
        .where(*where, col.is_(None))
        .order_by(D.c.asin.asc())
        .limit(query.limit - len(asins))
        .offset(skip)
    ).scalars()
    return asins + list(nulls)


def _count(
    session: Session,
    where: list[ColumnElement[bool]],
    cap: int,
    fts_driven: bool = False,
    season_driven: bool = False,
) -> tuple[int, bool]:
    """Matches, counting at most cap + 1 rows: (cap, True) means "more than cap". The walk goes
    down the covering roi_default index, where the user's ROI/profit floors match densely.
    With an FTS term in `where` (`fts_driven`) it goes through the deal_fts matches instead,
    one rowid seek each (see _fts_driven): the words thin out rows far more than any other
    filter, and walking the index would test ~cap / (share of matches) entries."""
    hits = select(literal(1)).where(*where)
    if fts_driven:
        hits = _fts_driven(hits)
    elif season_driven:
        hits = via(hits, SEASON_INDEX)
    else:
        hits = via(hits.order_by(D.c.roi_default.desc()), "ix_deal_roi_cover")
    sub = hits.limit(cap + 1).subquery()
    n = int(session.execute(select(func.count()).select_from(sub)).scalar_one())
    return (cap, True) if n > cap else (n, False)


def _fts_driven(stmt: Any) -> Any:
    """Read deal only by rowid from the materialized deal_fts match list ("deal.rowid IN
    (SELECT rowid FROM deal_fts WHERE MATCH)", the list is built once). NOT INDEXED keeps
    SQLite from starting at another index instead (seasonality = ?, category = ?): it once
    chose that for a deal_fts JOIN deal and re-ran the whole MATCH for every one of ~20,000
    seasonality rows (10 s). Rowid lookups stay allowed under NOT INDEXED."""
    return stmt.with_hint(D, "NOT INDEXED", "sqlite")


FTS_DRIVE_MAX = 2000  # at most this many word matches: sort them directly (see _fts_match_count)


def _fts_match_count(session: Session, match: ColumnElement[bool], cap: int) -> int:
    """How many deals the words match, counting at most cap + 1 (FTS index pages only, no deal
    rows: about a millisecond). Few matches: reading and sorting those rows beats walking a
    sort index past every non-matching entry to fill a page (the walk reads the whole index
    when fewer than a page match)."""
    hits = select(FTS.c.rowid).where(match).limit(cap + 1).subquery()
    return int(session.execute(select(func.count()).select_from(hits)).scalar_one())


SEASON_INDEX = "ix_deal_season_peak"


def _season_match_count(session: Session, query: DealSearch, now: datetime, cap: int) -> int:
    """How many deals have the asked seasonality (and peak month), counting at most cap + 1
    through its index. Few: sort just those rows (same reason as _fts_match_count: "exam prep
    in season now" matched nothing in November, and the ROI-index walk read all 100,000
    entries to find that out, 750 ms)."""
    terms = [D.c.seasonality == query.seasonality]
    for month in ([now.month] if query.in_peak_now else []) + (
        [query.peak_month] if query.peak_month else []
    ):
        terms.append(D.c.peak_mask.op("&")(1 << (month - 1)) != 0)
    hits = via(select(literal(1)).where(*terms), SEASON_INDEX).limit(cap + 1).subquery()
    return int(session.execute(select(func.count()).select_from(hits)).scalar_one())


def _page_asins(
    session: Session,
    query: DealSearch,
    eff: dict[str, Any],
    money: m.MoneySQL,
    user: User | None,
    now: datetime,
    settings: UserSettings,
    fts: bool,
    few_words: bool = False,
    few_season: bool = False,
) -> tuple[list[str], list[ColumnElement[bool]]]:
    """The page's ASINs in order, and the WHERE terms (with prefilter) for counting.
    `few_words`: the FTS words match at most FTS_DRIVE_MAX deals, so the page is the
    straightforward ORDER BY over just those rows (no index walk)."""
    where = where_terms(query, eff, money, user, now, settings, fts=fts)
    plain = where_terms(query, eff, money, user, now, settings, fts=fts, prefilter=False)
    if few_words or few_season:
        page = (
            select(D.c.asin)
            .where(*plain)
            .order_by(*order_by(query, money))
            .limit(query.limit)
            .offset(query.offset)
        )
        page = _fts_driven(page) if few_words else via(page, SEASON_INDEX)
        return list(session.execute(page).scalars()), where
    if query.sort in _PLAIN_SORTS:
        return _plain_page(session, query, plain), where
    # only the roi_default index holds roi_default: elsewhere its prefilter costs a row read
    walk = where if query.sort == "roi" and roi_level_choice(settings) is None else plain
    window = _money_window(session, query, walk, money, settings)
    page = select(D.c.asin).where(*walk).order_by(*order_by(query, money))
    if window is not None:
        term, index = window
        page = page.where(term)
        if index is not None:
            page = via(page, index)  # key >= bound: a narrow index range
    page = page.limit(query.limit).offset(query.offset)
    return list(session.execute(page).scalars()), where


def plan_page(
    session: Session,
    query: DealSearch,
    eff: dict[str, Any],
    money: m.MoneySQL,
    user: User | None,
    now: datetime,
    settings: UserSettings,
) -> tuple[list[str], int, bool]:
    """The page's ASINs in order, the total matches and whether counting stopped at the cap.

    A text/category search whose words match few deals reads just those rows (so does a rare
    seasonality); otherwise the page's ASINs come from index walks that stop early (see
    _money_window and _plain_page), and only then is the total counted, up to TOTAL_CAP (or
    the end of the page, if later)."""
    fts = has_fts(session)
    match = fts_match(query) if fts else None
    words = isinstance(match, BinaryExpression)
    few_words = (
        words
        and match is not None
        and _fts_match_count(session, match, FTS_DRIVE_MAX) <= FTS_DRIVE_MAX
    )
    few_season = (
        not words
        and query.seasonality is not None
        and _season_match_count(session, query, now, FTS_DRIVE_MAX) <= FTS_DRIVE_MAX
    )
    asins, where = _page_asins(
        session,
        query,
        eff,
        money,
        user,
        now,
        settings,
        fts,
        few_words=few_words,
        few_season=few_season,
    )
    if len(asins) < query.limit and (asins or query.offset == 0):
        return asins, query.offset + len(asins), False  # a short page is the last one
    cap = max(TOTAL_CAP, query.offset + query.limit)
    total, capped = _count(session, where, cap, fts_driven=words, season_driven=few_season)
    return asins, total, capped
