"""Ava's daily picks: listable, selling, fresh deals first; once per seller's morning."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session, select

from tests.unit.alert_helpers import NOW, deal_values, put_deal, seller
from tools.alerts import store
from tools.alerts.picks import make_due_picks, score_deals
from tools.db import get_engine
from tools.models import AlertOutbox, RestrictionStatus, UserRestriction
from tools.settings import Settings
from tools.user_settings import UserSettings


def test_the_score_needs_the_book_to_sell_and_the_seller_to_list_it() -> None:
    rows = [
        deal_values("SLOWBIGROI", 8.0, list_at=90.0, rank_drops_90=0, offers_used=30),
        deal_values("GATEDBOOK1", 10.0, list_at=80.0, rank_drops_90=30, offers_used=2),
        deal_values("STEADYSELL", 15.0, list_at=55.0, rank_drops_90=25, offers_used=3),
        deal_values(
            "STALEQUOTE",
            15.0,
            list_at=55.0,
            rank_drops_90=25,
            offers_used=3,
            fetched_at=NOW - timedelta(days=3),
        ),
    ]
    gating = {"GATEDBOOK1": "restricted", "STEADYSELL": "not_restricted"}
    ours = score_deals(rows, UserSettings(), gating, NOW)
    assert [p.asin for p in ours] == ["STEADYSELL", "STALEQUOTE"]  # fresh data wins the tie
    assert "25 sales in 90 days" in ours[0].reason and "gating" not in ours[0].reason
    assert "gating not checked yet" in ours[1].reason
    top_roi = score_deals(rows, UserSettings(), gating, NOW, scorer="top_roi")
    assert top_roi[0].asin == "SLOWBIGROI"  # the baseline buys what does not sell


def test_picks_are_made_once_per_local_morning(settings: Settings) -> None:
    with Session(get_engine(settings)) as session:
        nina, omar = seller(session), seller(session, "omar")
        store.update_alert_settings(session, nina.id or 0, timezone="Asia/Tokyo", picks_hour=8)
        store.update_alert_settings(session, omar.id or 0, picks_count=0)  # turned off
        put_deal(session, "B000000001", 14.0)
        session.add(
            UserRestriction(
                user_id=nina.id or 0,
                asin="B000000001",
                status=int(RestrictionStatus.not_restricted),
            )
        )
        session.commit()
        early = NOW.replace(hour=22) - timedelta(days=1)  # 07:00 in Tokyo: not yet
        assert make_due_picks(session, early)["sellers"] == 0
        at = NOW.replace(hour=23) - timedelta(days=1)  # 08:00 in Tokyo
        assert make_due_picks(session, at) == {"sellers": 1, "messages": 1}
        assert make_due_picks(session, at + timedelta(hours=3))["sellers"] == 0
        session.commit()
        (row,) = session.exec(select(AlertOutbox)).all()
        assert row.owner_id == nina.id and row.kind == "picks" and row.channel == "app"
        assert row.payload["date"] == "2026-09-15"
        assert row.payload["deals"][0]["asin"] == "B000000001"
        assert make_due_picks(session, at + timedelta(days=1))["sellers"] == 1  # next morning
