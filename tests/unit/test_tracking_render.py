"""What the seller's-loop tools look like in the chat: buttons, table rows, step lines."""

from __future__ import annotations

from chat_ui.tracking_render import actions_for, buy_list_props, calibration_figure
from chat_ui.turns import summarize_result


def test_a_verdict_gets_the_buy_list_and_purchase_buttons_for_its_deal() -> None:
    actions = actions_for("deal_advice", {"detail": {"asin": "0131103628"}, "advice": {}})
    assert [(a.name, a.payload) for a in actions] == [
        ("buy_list_add", {"asin": "0131103628"}),
        ("purchase_form", {"asin": "0131103628"}),
    ]
    assert actions_for("search_knowledge", {"hits": []}) == []


def test_clear_gone_is_offered_only_when_something_is_gone() -> None:
    rows = [{"asin": "A", "state": "ok"}]
    assert actions_for("buy_list_show", {"buy_list": rows}) == []
    rows.append({"asin": "B", "state": "gone"})
    assert [a.name for a in actions_for("buy_list_show", {"buy_list": rows})] == [
        "buy_list_clear_gone"
    ]


def test_buy_list_rows_link_to_amazon_and_carry_the_state() -> None:
    props = buy_list_props([{"asin": "0131103628", "state": "worse", "why": "gated now"}, {}])
    assert props["count"] == 1
    row = props["rows"][0]
    assert row["amazon_url"] == "https://www.amazon.com/dp/0131103628"
    assert (row["state"], row["why"]) == ("worse", "gated now")


def test_tool_steps_say_what_came_back() -> None:
    assert (
        summarize_result("profit_report", {"profit": 17.01, "units_sold": 2})
        == "realized profit $17.01 on 2 units"
    )
    assert summarize_result("inventory_report", {"skus": 3, "fulfillable": 5, "inbound": 2}) == (
        "3 SKUs: 5 fulfillable, 2 inbound"
    )


def test_the_calibration_chart_has_a_point_per_purchase_and_the_diagonal() -> None:
    points = [
        {"id": 1, "predicted": 10.0, "realized": 6.0},
        {"id": 2, "predicted": 4.0, "realized": 5.0},
    ]
    fig = calibration_figure(points)
    assert fig["data"][0]["x"] == [10.0, 4.0] and fig["data"][0]["y"] == [6.0, 5.0]
    assert fig["data"][1]["x"] == [4.0, 10.0]  # the "as predicted" line spans the points
