"""Money formulas (docs/domain.md "Money") with the arithmetic written out, plus invariants."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tools.deals import money as m
from tools.user_settings import UserSettings

DEFAULTS = UserSettings()  # tax 5 %, prep $2.75, inbound $3.99, markup 10 %


def test_all_in_cost_adds_tax_prep_and_inbound_shipping() -> None:
    # 20.00 + 20.00 × 5 % + 2.75 + 3.99 = 20 + 1 + 6.74 = 27.74
    assert m.all_in_cost(20.0, DEFAULTS) == pytest.approx(27.74)
    # shipping already included: 20 + 1 + 2.75 = 23.75
    assert m.all_in_cost(20.0, DEFAULTS, shipping_included=True) == pytest.approx(23.75)
    # a user's own settings: 20 + 20 × 8 % + 1.50 + 2.50 = 25.60
    mine = UserSettings(tax_pct=8, prep_fee=1.5, inbound_shipping=2.5)
    assert m.all_in_cost(20.0, mine) == pytest.approx(25.60)


def test_referral_fee_percent_and_minimum() -> None:
    assert m.referral_fee(40.0, 15.0) == pytest.approx(6.00)  # 40 × 15 %
    assert m.referral_fee(1.00, 15.0, 0.30) == pytest.approx(0.30)  # 0.15 < $0.30 minimum
    assert m.referral_fee(1.00, 15.0, 0.0) == pytest.approx(0.15)  # books: no minimum


def test_book_money_end_to_end() -> None:
    inputs = m.MoneyInputs(
        price_now=20.0,
        list_at=40.0,
        referral_pct=15.0,
        referral_min=0.0,
        fba_fee=3.50,
        closing_fee=1.80,
    )
    money = m.compute_money(inputs, DEFAULTS)
    assert money.all_in_cost == pytest.approx(27.74)
    # fees: 40 × 15 % = 6.00, + FBA 3.50 + media closing 1.80 = 11.30
    assert money.amz_fees == pytest.approx(11.30)
    # profit: 40 − 27.74 − 11.30 = 0.96
    assert money.profit == pytest.approx(0.96)
    assert money.margin == pytest.approx(0.96 / 40 * 100)  # 2.4 %
    assert money.roi == pytest.approx(0.96 / 27.74 * 100)  # 3.4607 %
    # Min. Listing: (27.74 + 3.50 + 1.80) / (1 − 0.10 − 0.15) = 33.04 / 0.75 = 44.0533
    assert money.min_listing_price == pytest.approx(33.04 / 0.75)
    assert money.missing == {}


def test_settings_change_money_without_refetch() -> None:
    inputs = m.MoneyInputs(20.0, 40.0, 15.0, 0.0, 3.50, 1.80)
    lean = m.compute_money(inputs, UserSettings(tax_pct=0, prep_fee=0, inbound_shipping=0))
    # cost 20.00; profit 40 − 20 − 11.30 = 8.70; ROI 43.5 %
    assert lean.all_in_cost == pytest.approx(20.0)
    assert lean.profit == pytest.approx(8.70)
    assert lean.roi == pytest.approx(43.5)
    # markup 20 %: (20 + 3.5 + 1.8) / (1 − 0.20 − 0.15) = 25.3 / 0.65
    marked = m.compute_money(
        inputs, UserSettings(tax_pct=0, prep_fee=0, inbound_shipping=0, markup_pct=20)
    )
    assert marked.min_listing_price == pytest.approx(25.3 / 0.65)


def test_missing_inputs_leave_money_empty_with_reasons() -> None:
    no_list = m.compute_money(m.MoneyInputs(20.0, None, 15.0, 0.0, 3.5, 1.8), DEFAULTS)
    assert no_list.all_in_cost == pytest.approx(27.74)
    assert no_list.profit is None and no_list.roi is None and no_list.amz_fees is None
    assert "List at" in no_list.missing["profit"]
    no_fba = m.compute_money(m.MoneyInputs(20.0, 40.0, 15.0, 0.0, None, 1.8), DEFAULTS)
    assert no_fba.profit is None and "FBA" in no_fba.missing["amz_fees"]
    assert no_fba.min_listing_price is None
    no_price = m.compute_money(m.MoneyInputs(None, 40.0, 15.0, 0.0, 3.5, 1.8), DEFAULTS)
    assert no_price.all_in_cost is None and "Price Now" in no_price.missing["roi"]


def test_media_root_categories_price_the_closing_fee() -> None:
    """Movies & TV is root 2625373011 (not 2625373); Collectibles & Fine Art (4991425011:
    coins, memorabilia, art) is not media. Both change the fees by the $1.80 closing fee."""

    def fees(root: int, binding: str) -> float:
        media = m.is_media(root, binding)
        return m.amz_fees(
            20.0,
            15.0,
            0.0 if media else m.NON_MEDIA_REFERRAL_MIN,
            3.22,
            m.MEDIA_CLOSING_FEE if media else 0.0,
        )

    # a multi-format DVD set under Movies & TV: 20 × 15 % = 3.00 + FBA 3.22 + closing 1.80
    # = 8.02 (without the closing fee the profit would look $1.80 better than it is)
    assert m.is_media(2625373011, "Multi-Format")
    assert fees(2625373011, "Multi-Format") == pytest.approx(8.02)
    # a signed photo under Collectibles & Fine Art: 3.00 + 3.22 = 6.22, no closing fee
    assert not m.is_media(4991425011, "Misc.")
    assert fees(4991425011, "Misc.") == pytest.approx(6.22)


MM = 25.4
GRAMS_PER_OZ = 28.349523125


@pytest.mark.parametrize(
    ("dims_in", "oz", "tier", "fee"),
    [
        # 6 × 4 × 0.5 in, 5 oz: small standard, 4-6 oz bracket
        ((6, 4, 0.5), 5, "small_standard", 3.24),
        # 15 × 12 × 0.75 in, 16 oz: the small-standard limits themselves, 14-16 oz bracket
        ((15, 12, 0.75), 16, "small_standard", 3.65),
        # 9 × 6 × 1 in book, 16 oz: too thick for small; dim weight 54/139 = 0.39 lb < 1 lb unit
        # weight; 12-16 oz bracket
        ((9, 6, 1), 16, "large_standard", 4.55),
        # 12 × 9 × 3 in, 64 oz (4 lb): dim 324/139 = 2.33 lb < 4 lb; 16 oz over 3 lb = 4 × 4 oz
        # -> 6.92 + 4 × 0.08 = 7.24
        ((12, 9, 3), 64, "large_standard", 7.24),
        # 17 × 13 × 7.5 in, 32 oz: dim weight 1657.5/139 = 11.92 lb = 190.8 oz shipping weight;
        # (190.8 − 48) / 4 = 35.7 -> 36 steps -> 6.92 + 36 × 0.08 = 9.80
        ((17, 13, 7.5), 32, "large_standard", 9.80),
        # 30 × 10 × 10 in, 160 oz (10 lb): large bulky; dim 3000/139 = 21.58 lb; 21 lb above the
        # first -> 9.61 + 21 × 0.38 = 17.59
        ((30, 10, 10), 160, "large_bulky", 17.59),
    ],
)
def test_fba_fee_estimate_by_size_tier(
    dims_in: tuple[float, float, float], oz: float, tier: str, fee: float
) -> None:
    mm = [d * MM for d in dims_in]
    est = m.estimate_fba_fee(mm[0], mm[1], mm[2], oz * GRAMS_PER_OZ)
    assert est is not None
    assert est.size_tier == tier
    assert est.fee == pytest.approx(fee)


def test_fba_estimate_needs_size_and_weight() -> None:
    assert m.estimate_fba_fee(None, 100, 10, 200) is None
    assert m.estimate_fba_fee(100, 100, 10, 0) is None
    # side order does not matter: 0.5 × 6 × 4 in is the same parcel as 6 × 4 × 0.5 in
    a = m.estimate_fba_fee(0.5 * MM, 6 * MM, 4 * MM, 5 * GRAMS_PER_OZ)
    assert a is not None and a.size_tier == "small_standard"


def test_media_detection() -> None:
    assert m.is_media(283155, None)  # Books root
    assert m.is_media(None, "Paperback")
    assert m.is_media(2625373011, None)  # Movies & TV (Amazon US browse node 2625373011)
    assert not m.is_media(3760911, None)  # Beauty
    assert not m.is_media(None, None)


money_inputs = st.builds(
    m.MoneyInputs,
    price_now=st.floats(0.01, 2000),
    list_at=st.floats(0.01, 1500),
    referral_pct=st.floats(0, 45),
    referral_min=st.sampled_from([0.0, 0.30]),
    fba_fee=st.floats(0, 60),
    closing_fee=st.sampled_from([0.0, 1.80]),
    shipping_included=st.booleans(),
)
user_settings = st.builds(
    UserSettings,
    tax_pct=st.floats(0, 30),
    prep_fee=st.floats(0, 50),
    inbound_shipping=st.floats(0, 100),
    markup_pct=st.floats(0, 80),
)


@given(money_inputs, user_settings)
def test_roi_and_margin_have_the_sign_of_profit(
    inputs: m.MoneyInputs, settings: UserSettings
) -> None:
    money = m.compute_money(inputs, settings)
    assert money.profit is not None and money.roi is not None and money.margin is not None
    assert (money.roi > 0) == (money.profit > 0)
    assert (money.roi < 0) == (money.profit < 0)
    assert (money.margin > 0) == (money.profit > 0)


@given(money_inputs, user_settings)
def test_fees_and_cost_are_never_negative(inputs: m.MoneyInputs, settings: UserSettings) -> None:
    money = m.compute_money(inputs, settings)
    assert money.amz_fees is not None and money.amz_fees >= 0
    assert money.all_in_cost is not None and money.all_in_cost >= inputs.price_now  # type: ignore[operator]
    assert money.amz_fees >= (inputs.referral_min or 0) + (inputs.fba_fee or 0)


@given(money_inputs, user_settings, st.floats(0, 30))
def test_more_tax_never_raises_profit(
    inputs: m.MoneyInputs, settings: UserSettings, extra: float
) -> None:
    more = settings.model_copy(update={"tax_pct": min(30.0, settings.tax_pct + extra)})
    base, taxed = m.compute_money(inputs, settings), m.compute_money(inputs, more)
    assert taxed.profit <= base.profit + 1e-9  # type: ignore[operator]


@given(money_inputs, user_settings)
def test_listing_at_min_listing_price_covers_cost_fees_and_markup(
    inputs: m.MoneyInputs, settings: UserSettings
) -> None:
    money = m.compute_money(inputs, settings)
    mlp = money.min_listing_price
    if mlp is None:
        assert settings.markup_pct + (inputs.referral_pct or 0) >= 100
        return
    # at the Min. Listing Price, what is left after referral % and markup pays cost, FBA and
    # the media closing fee
    pct = inputs.referral_pct or 0
    left = mlp * (1 - settings.markup_pct / 100 - pct / 100)
    closing = inputs.closing_fee or 0.0
    assert left == pytest.approx(money.all_in_cost + inputs.fba_fee + closing, rel=1e-9)  # type: ignore[operator]
