"""Saved searches fire once per deal, again only when it got better or came back."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import Session, col, select

from tests.unit.alert_helpers import NOW, put_deal, seller
from tools.alerts import store
from tools.alerts.engine import alerts_wanted, match_queued, queue_deals
from tools.alerts.schedule import due_at
from tools.db import get_engine
from tools.models import AlertOutbox, AlertQueue, AlertSettings, AlertState
from tools.settings import Settings

NURSING_UNDER_30 = {"text": "nursing", "max_price": 30, "min_roi": 50}


def _run(session: Session, asins: list[str], at=NOW) -> list[AlertOutbox]:  # type: ignore[no-untyped-def]
    before = {r.id for r in session.exec(select(AlertOutbox))}
    queue_deals(session, asins, at)
    match_queued(session, at)
    session.commit()
    return [
        r
        for r in session.exec(select(AlertOutbox).order_by(col(AlertOutbox.id)))
        if r.id not in before
    ]


def test_a_match_fires_once_then_again_when_better_or_back(settings: Settings) -> None:
    with Session(get_engine(settings)) as session:
        nina = seller(session)
        search = store.create_search(session, nina.id or 0, NURSING_UNDER_30, text="tell me when")
        put_deal(session, "B000000001", 14.0)  # profit ~$27, ROI ~100 %
        put_deal(session, "B000000002", 45.0)  # too expensive
        session.commit()

        first = _run(session, ["B000000001", "B000000002"])
        assert [(r.channel, r.kind) for r in first] == [("app", "match")]
        assert [d["asin"] for d in first[0].payload["deals"]] == ["B000000001"]
        assert first[0].payload["deals"][0]["why"] == "new"
        assert first[0].payload["search"] == search.name

        # refreshed, unchanged (or a little cheaper): no second message
        put_deal(session, "B000000001", 13.6)
        session.commit()
        assert _run(session, ["B000000001"]) == []

        # 15 % cheaper than when it fired: worth telling again
        put_deal(session, "B000000001", 11.9)
        session.commit()
        again = _run(session, ["B000000001"])
        assert [d["why"] for d in again[0].payload["deals"]] == ["better"]

        # gone (price above the limit), then back: fires when it comes back
        put_deal(session, "B000000001", 35.0)
        session.commit()
        assert _run(session, ["B000000001"]) == []
        state = session.get(AlertState, (search.id, "B000000001"))
        assert state is not None and state.matching is False
        put_deal(session, "B000000001", 12.0)
        session.commit()
        back = _run(session, ["B000000001"])
        assert [d["why"] for d in back[0].payload["deals"]] == ["back"]
        assert session.exec(select(AlertQueue)).all() == []  # the queue is drained


def test_paused_searches_and_other_sellers_settings(settings: Settings) -> None:
    with Session(get_engine(settings)) as session:
        nina = seller(session)
        # Omar's own costs are higher: the same deal is not 50 % ROI for him
        omar = seller(session, "omar", prep_fee=12.0, inbound_shipping=8.0)
        store.create_search(session, nina.id or 0, NURSING_UNDER_30, name="n")
        paused = store.create_search(session, nina.id or 0, {"text": "nursing"}, name="p")
        store.set_active(session, nina.id or 0, paused.id or 0, False)
        store.create_search(session, omar.id or 0, NURSING_UNDER_30, name="o")
        put_deal(session, "B000000001", 14.0)
        session.commit()
        rows = _run(session, ["B000000001"])
        assert [(r.owner_id, r.payload["search"]) for r in rows] == [(nina.id, "n")]


def test_no_active_search_means_nothing_is_queued(settings: Settings) -> None:
    with Session(get_engine(settings)) as session:
        nina = seller(session)
        assert not alerts_wanted(session)
        s = store.create_search(session, nina.id or 0, NURSING_UNDER_30)
        assert alerts_wanted(session)
        store.set_active(session, nina.id or 0, s.id or 0, False)
        assert not alerts_wanted(session)


def test_push_channels_get_their_own_rows_and_wait_out_quiet_hours(settings: Settings) -> None:
    with Session(get_engine(settings)) as session:
        nina = seller(session)
        store.update_alert_settings(
            session,
            nina.id or 0,
            email="nina@example.com",
            timezone="America/New_York",
            quiet_start=22,
            quiet_end=7,
        )
        store.create_search(session, nina.id or 0, NURSING_UNDER_30)
        put_deal(session, "B000000001", 14.0)
        session.commit()
        late = NOW.replace(hour=4)  # 00:00 in New York: quiet
        rows = {r.channel: r for r in _run(session, ["B000000001"], at=late)}
        assert set(rows) == {"app", "email"}
        assert rows["app"].sent_at is not None  # the inbox has it at once
        assert rows["email"].sent_at is None
        assert rows["email"].due_at == NOW.replace(hour=11)  # 07:00 in New York


@pytest.mark.parametrize(
    ("digest", "quiet", "hour", "due_hour"),
    [
        ("off", (None, None), 15, 15),
        ("hourly", (None, None), 15, 16),
        ("daily", (None, None), 15, 8 + 24),  # the next morning at picks_hour
        ("off", (22, 7), 23, 7 + 24),  # quiet across midnight
        ("off", (1, 5), 3, 5),
        ("hourly", (1, 5), 0, 5),  # the digest's hour falls in the quiet time: after it
    ],
)
def test_due_times(
    digest: str, quiet: tuple[int | None, int | None], hour: int, due_hour: int
) -> None:
    target = AlertSettings(user_id=1, digest=digest, quiet_start=quiet[0], quiet_end=quiet[1])
    now = NOW.replace(hour=hour, minute=20)
    expected = NOW.replace(hour=0, minute=0) + timedelta(hours=due_hour)
    if digest == "off" and quiet[0] is None:
        expected = now
    assert due_at(target, "webhook", now) == expected
    assert due_at(target, "app", now) == now


def test_a_seller_cannot_see_or_change_another_sellers_alerts(settings: Settings) -> None:
    with Session(get_engine(settings)) as session:
        nina, omar = seller(session), seller(session, "omar")
        mine = store.create_search(session, nina.id or 0, NURSING_UNDER_30, name="cheap nursing")
        assert store.list_searches(session, omar.id or 0) == []
        for ref in (mine.id or 0, "cheap nursing", f"#{mine.id}"):
            assert store.find_search(session, omar.id or 0, ref) is None
            with pytest.raises(store.AlertError, match="no alert"):
                store.delete_search(session, omar.id or 0, ref)
            with pytest.raises(store.AlertError, match="no alert"):
                store.set_active(session, omar.id or 0, ref, False)
            with pytest.raises(store.AlertError, match="no alert"):
                store.update_search(session, omar.id or 0, ref, {"max_price": 99})
        assert store.find_search(session, nina.id or 0, "Cheap Nursing") is not None


def test_changing_a_search_keeps_its_other_filters(settings: Settings) -> None:
    with Session(get_engine(settings)) as session:
        nina = seller(session)
        s = store.create_search(session, nina.id or 0, {**NURSING_UNDER_30, "sort": "profit"})
        assert s.query == NURSING_UNDER_30  # sorting does not apply to alerts
        store.update_search(session, nina.id or 0, s.id or 0, {"max_price": 25})
        assert s.query == {**NURSING_UNDER_30, "max_price": 25.0}
        with pytest.raises(store.AlertError, match="max_price"):
            store.update_search(session, nina.id or 0, s.id or 0, {"max_price": -3})
        assert s.query["max_price"] == 25.0  # a bad change loses nothing


def test_bad_settings_are_refused_with_the_reason(settings: Settings) -> None:
    with Session(get_engine(settings)) as session:
        nina = seller(session)
        for change, msg in (
            ({"timezone": "Mars/Olympus"}, "time zone"),
            ({"email": "not an address"}, "email"),
            ({"quiet_start": 25}, "0-23"),
            ({"digest": "weekly"}, "digest"),
            ({"picks_count": 500}, "picks_count"),
        ):
            with pytest.raises(store.AlertError, match=msg):
                store.update_alert_settings(session, nina.id or 0, **change)
