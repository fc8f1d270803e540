"""Deals on PostgreSQL: values SQLite takes for granted must fit there too."""

from __future__ import annotations

import pytest
from sqlmodel import select

from tools.db import migrate, session_scope
from tools.models import Deal
from tools.settings import Settings

pytestmark = [pytest.mark.integration, pytest.mark.postgres]


def test_a_browse_node_id_past_32_bits_is_stored(pg_settings: Settings) -> None:
    """A book filed under a root such as Cell Phones (2335752011) used to be refused."""
    migrate(pg_settings)
    with session_scope(pg_settings) as session:
        session.add(Deal(asin="B000000001", title="Phone-shelf book", root_category_id=2335752011))
    with session_scope(pg_settings) as session:
        deal = session.exec(select(Deal).where(Deal.asin == "B000000001")).one()
    assert deal.root_category_id == 2335752011
