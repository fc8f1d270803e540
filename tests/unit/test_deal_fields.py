"""Deal fields are declared once (tools/models.py); every other list of them derives from there.

A field declared again in one of the places that used to repeat them (the table, analytics'
record, the search read models, the agent's tools, the pipeline) fails here, so adding or
renaming a field is one edit plus the analytics that fills it.
"""

from __future__ import annotations

import importlib
import inspect
from dataclasses import fields
from typing import get_type_hints

from tools.db import table_of
from tools.deals.analytics import DealRecord
from tools.models import Deal, DealFields, DealMoney

PLACES = (
    "tools.models",
    "tools.deals.analytics",
    "tools.deals.store",
    "tools.deals.search.models",
    "tools.deals.search.api",
    "agent.tools",
    "workers.pipeline.processor",
)
DEAL_FIELDS = set(DealFields.model_fields) | set(DealMoney.model_fields)
# Names shared with a deal field but meaning another thing: other tables (DealHistory's
# sales_rank is the chart series, a knowledge entry has a title), a tool's arguments (an ASIN
# to look up) and one offer's price, condition and seller.
OTHER_THINGS = {"tools.deals.analytics.PriceNow"}
# the read models show the table's "8,9,1" text as month numbers: a type, not another field
REPRESENTATIONS = {
    ("tools.deals.search.models.DealSummary", "peak_months"),
    ("tools.deals.search.models.DealDetail", "trough_months"),
}
# written by the store, not by analytics
STORE_WRITES = {"status", "updated_at"}
# the record carries these besides the deal's fields: the DealHistory series and a hint
RECORD_ONLY = {
    "used_price_hint",
    "used_price_history",
    "sales_rank_history",
    "amazon_price_history",
    "new_price_history",
    "inferred_sales",
    "inferred_sales_30",
    "inferred_sales_90",
    "inferred_sales_365",
}


def _declarations() -> dict[str, list[str]]:
    """Deal field name -> the classes in PLACES whose own body declares it."""
    found: dict[str, list[str]] = {}
    for name in PLACES:
        module = importlib.import_module(name)
        for cls_name, cls in inspect.getmembers(module, inspect.isclass):
            where = f"{name}.{cls_name}"
            if (
                cls.__module__ != name
                or where in OTHER_THINGS
                or cls is DealRecord
                or getattr(getattr(cls, "__table__", None), "name", "deal") != "deal"
                or cls_name.endswith("Args")
            ):
                continue
            for field in vars(cls).get("__annotations__", {}):
                if field in DEAL_FIELDS and (where, field) not in REPRESENTATIONS:
                    found.setdefault(field, []).append(where)
    return {field: sorted(where) for field, where in found.items()}


def test_each_deal_field_is_declared_once_in_the_shared_models() -> None:
    found = _declarations()
    assert set(found) == DEAL_FIELDS  # every field is declared somewhere the scan looks
    again = {field: where for field, where in found.items() if len(where) != 1}
    assert again == {}, "declare deal fields once, in tools/models.py"
    assert {w[0].rsplit(".", 1)[0] for w in found.values()} == {"tools.models"}


def test_the_scan_would_see_a_field_declared_again() -> None:
    from tools.deals.search import models

    class Sneaky(DealMoney):
        price_now: float | None = None

    Sneaky.__module__ = models.__name__
    models.Sneaky = Sneaky  # type: ignore[attr-defined]
    try:
        assert _declarations()["price_now"] == [
            "tools.deals.search.models.Sneaky",
            "tools.models.DealListingFields",
        ]
    finally:
        del models.Sneaky  # type: ignore[attr-defined]


def test_the_fast_analytics_record_has_the_tables_fields() -> None:
    """DealRecord stays a slotted dataclass (analytics fills ~1,700 a second), so it is
    declared apart; this holds it to the table: same names and types."""
    record = {f.name for f in fields(DealRecord)}
    assert (
        record
        == (set(DealFields.model_fields) - STORE_WRITES) | set(DealMoney.model_fields) | RECORD_ONLY
    )
    hints = get_type_hints(DealRecord)
    for name, info in {**DealFields.model_fields, **DealMoney.model_fields}.items():
        if name in STORE_WRITES or name == "missing":  # the record always has its dict
            continue
        assert hints[name] == info.annotation, name
    assert set(DealFields.model_fields) <= set(table_of(Deal).c.keys())


def test_lists_of_field_names_name_real_fields() -> None:
    """Lists that pick some fields (what the model reads, what history gives) must still
    name fields that exist after a rename."""
    from agent.tools import DETAIL_KEYS, SUMMARY_KEYS
    from tools.deals.search import DealDetail, DealSummary
    from workers.pipeline.processor import HISTORY_FIELDS, MONEY_FIELDS

    assert set(SUMMARY_KEYS) <= set(DealSummary.model_fields)
    assert set(DETAIL_KEYS) <= set(DealDetail.model_fields)
    record = {f.name for f in fields(DealRecord)}
    assert set(HISTORY_FIELDS) | set(MONEY_FIELDS) <= record
