"""Provable index bounds: turn "the user's money >= V" into a necessary "stored key >= B".

The deal table stores money under the policy defaults (`*_default` columns) and expression
indexes at a few fixed-cost ROI levels (tools/models.py ROI_LEVELS); a user's own money is a
different number per row. These bounds let the planner walk a narrow index range that is sure
to hold every row of the user's page. Pure arithmetic, no SQL.
"""

from __future__ import annotations

from tools.models import ROI_LEVELS
from tools.user_settings import DEFAULT_SETTINGS, UserSettings

_SLACK = 1e-6  # float headroom of the bounds below (values are dollars and percent)


def default_roi_floor(settings: UserSettings, roi_floor: float) -> float | None:
    """A necessary bound on the stored default-settings ROI for "user ROI >= roi_floor".

    With cost = price × k + c (k = 1 + tax, c = prep + shipping, or prep alone when shipping
    is included) and net = List at − fees, ROI + 1 = net / cost. For price >= 0,
    cost_default / cost_user lies between the ratios of the k's and of the c's (a mediant), so
    1 + roi_user <= (1 + roi_default) × hi with hi the largest ratio. Hence
    roi_default >= (1 + floor) / hi − 1 is implied, and it lets SQL walk the
    (status, roi_default, ...) covering index instead of computing every row. None when no
    finite bound exists (e.g. the user's fixed costs are zero but the defaults' are not).
    """
    d = DEFAULT_SETTINGS
    ratios = [(1.0 + d.tax_pct / 100.0) / (1.0 + settings.tax_pct / 100.0)]
    fixed_costs = (
        (d.prep_fee + d.inbound_shipping, settings.prep_fee + settings.inbound_shipping),
        (d.prep_fee, settings.prep_fee),
    )
    for c_d, c_u in fixed_costs:
        if c_u > 0:
            ratios.append(c_d / c_u)
        elif c_d > 0:
            return None
    hi = max(ratios)
    return ((1.0 + roi_floor / 100.0) / hi - 1.0) * 100.0 - 1e-6


def _cost_terms(settings: UserSettings) -> tuple[float, float, list[tuple[float, float]]]:
    """(k_user, k_default, [(c_user, c_default)] per shipping mode): cost = price × k + c."""
    d = DEFAULT_SETTINGS
    k_u, k_d = 1.0 + settings.tax_pct / 100.0, 1.0 + d.tax_pct / 100.0
    fixed = [
        (settings.prep_fee + settings.inbound_shipping, d.prep_fee + d.inbound_shipping),
        (settings.prep_fee, d.prep_fee),
    ]  # shipping not included / included
    return k_u, k_d, fixed


def default_profit_floor(
    settings: UserSettings, profit_floor: float, max_price: float | None
) -> float | None:
    """A necessary bound on the stored `profit_default` for "user Profit >= profit_floor".

    Per row, profit_default − profit_user = cost_user − cost_default = price × (k_u − k_d) +
    (c_u − c_d). With 0 <= price <= max_price that is at least min(0, k_u − k_d) × max_price
    + min over the shipping modes of (c_u − c_d). None when the user's tax is below the
    default's and no price bound is known.
    """
    k_u, k_d, fixed = _cost_terms(settings)
    gap = min(c_u - c_d for c_u, c_d in fixed)
    if k_u < k_d:
        if max_price is None:
            return None
        gap += (k_u - k_d) * max_price
    return profit_floor + gap - _SLACK * (1.0 + abs(profit_floor) + abs(gap))


def default_margin_floor(settings: UserSettings, margin_floor: float) -> float | None:
    """A necessary bound on the stored `margin_default` for "user Margin >= margin_floor" (%).

    Per row (List at L > 0, fees >= 0, price p >= 0, v = margin_floor / 100 <= 1):
    margin_default − margin_user = (p × (k_u − k_d) + (c_u − c_d)) / L. From margin_user >= v,
    cost_user = p × k_u + c_u <= (1 − v) × L, so p / L <= (1 − v) / k_u and, for c_u > 0,
    1 / L <= (1 − v) / c_u. The negative parts of both terms are therefore at least
    (k_u − k_d) × (1 − v) / k_u and (c_u − c_d) × (1 − v) / c_u. None when no finite bound
    exists (c_u = 0 with c_d > 0) or v > 1 (no deal has such a margin anyway).
    """
    v = margin_floor / 100.0
    if v > 1.0:
        return None
    k_u, k_d, fixed = _cost_terms(settings)
    gap = min(0.0, (k_u - k_d) * (1.0 - v) / k_u)
    worst_c = 0.0
    for c_u, c_d in fixed:
        if c_u - c_d < 0:
            if c_u <= 0:
                return None
            worst_c = min(worst_c, (c_u - c_d) * (1.0 - v) / c_u)
    return (v + gap + worst_c) * 100.0 - _SLACK * (1.0 + abs(margin_floor))


def roi_level_choice(settings: UserSettings) -> tuple[tuple[float, float], float, float] | None:
    """The ROI key level for this user's costs, with (r_min, r_max): bounds of r below.

    For a row in shipping mode m (price p >= 0, cost_user = p × k + c_m with k = 1 + tax,
    K_m = c_m / k) and a level with constant L_m, the stored key is net / (p + L_m) and the
    user's sort value is u = net / cost_user = key × r / k with r = (p + L_m) / (p + K_m).
    For p >= 0, r lies between 1 and L_m / K_m (it moves monotonically from L_m / K_m at p = 0
    towards 1), so across both modes r_min <= r <= r_max with r_min = min(1, L_m / K_m) and
    r_max = max(1, L_m / K_m). The best level has the smallest r_max / r_min (the key then
    orders rows nearly like the user's ROI). None when the user's fixed costs are zero in a
    mode (r is unbounded there).
    """
    k = 1.0 + settings.tax_pct / 100.0
    fixed = ((settings.prep_fee + settings.inbound_shipping) / k, settings.prep_fee / k)
    if min(fixed) <= 0:
        return None
    best: tuple[tuple[float, float], float, float] | None = None
    for level in ROI_LEVELS:
        ratios = [lvl / k_m for lvl, k_m in zip(level, fixed, strict=True)]
        r_min, r_max = min(1.0, *ratios), max(1.0, *ratios)
        if best is None or r_max / r_min < best[2] / best[1]:
            best = (level, r_min, r_max)
    return best


def roi_level_floor(settings: UserSettings, r_min: float, r_max: float, floor: float) -> float:
    """A necessary bound on the level key for "user value u = net / cost_user >= floor".

    key = u × k / r (roi_level_choice) with k > 0 and r in [r_min, r_max], r > 0. If
    floor > 0: u >= floor > 0 gives key >= floor × k / r >= floor × k / r_max. If floor <= 0:
    for u >= 0 the key is >= 0 >= floor × k / r_min, and for floor <= u < 0,
    key = u × k / r >= floor × k / r >= floor × k / r_min. The slack absorbs float rounding.
    """
    k = 1.0 + settings.tax_pct / 100.0
    bound = floor * k / (r_max if floor > 0 else r_min)
    return bound - 1e-9 * (1.0 + abs(bound))
