"""Relationship levels (Kotler's grid) per segment, and the core customers ranked by residual value.

Kotler's marketing texts pair the retention claims with a grid: how much relationship a segment warrants depends on
how many customers it has and how much margin each brings. With many low-margin customers a *basic* relationship
(sell, no follow-up) is enough; with few high-margin customers a *partnership*.

=================  ==============  ==============  ==============
customers          high margin     medium margin   low margin
=================  ==============  ==============  ==============
many               accountable     reactive        basic
moderate           proactive       accountable     reactive
few                partnership     proactive       accountable
=================  ==============  ==============  ==============

:func:`relationship_levels` places each segment of a value table in the grid with stated thresholds;
:func:`core_customers` ranks current customers by their residual value.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from churnsurv._validation import check_columns, param_error

__all__ = ["GRID", "core_customers", "relationship_levels"]

#: (customers tier, margin tier) -> relationship level.
GRID = {
    ("many", "high"): "accountable", ("many", "medium"): "reactive", ("many", "low"): "basic",
    ("moderate", "high"): "proactive", ("moderate", "medium"): "accountable", ("moderate", "low"): "reactive",
    ("few", "high"): "partnership", ("few", "medium"): "proactive", ("few", "low"): "accountable",
}


def _share(x, name: str, owner: str) -> float:
    if isinstance(x, bool) or not isinstance(x, (int, float, np.floating)) or not 0 <= float(x) <= 1:
        raise param_error(name, owner, "a share in [0, 1]", x)
    return float(x)


def relationship_levels(value: pd.DataFrame, *, by, many: float = 0.3, few: float = 0.05, high: float = 1.25,
                        low: float = 0.75) -> pd.DataFrame:
    """Place each segment in Kotler's grid of relationship levels.

    Parameters
    ----------
    value : pandas.DataFrame
        One row per segment with ``n_customers`` and ``margin`` (margin per period), e.g. the result of
        :func:`~churnsurv.value.lifetime_value` with a column margin; an ``estimate`` column (lifetime value) is
        carried along.
    by : str or list of str
        The segment column(s) of ``value``.
    many, few : float, default 0.3 and 0.05
        A segment with at least ``many`` of all customers has *many*; below ``few``, *few*; else *moderate*.
    high, low : float, default 1.25 and 0.75
        A margin at least ``high`` times the customer-weighted mean margin is *high*; below ``low`` times it,
        *low*; else *medium*.

    Returns
    -------
    pandas.DataFrame
        ``[*by, n_customers, customer_share, margin, margin_ratio, customers_tier, margin_tier, relationship]`` (and
        ``lifetime_value`` when ``value`` has ``estimate``), sorted by relationship intensity. ``attrs`` holds the
        thresholds.

    Examples
    --------
    >>> import pandas as pd
    >>> from churnsurv.value import relationship_levels
    >>> v = pd.DataFrame({"plan": ["basic", "plus", "pro"], "n_customers": [800, 160, 40],
    ...                   "margin": [8.0, 13.0, 60.0]})
    >>> relationship_levels(v, by="plan")[["plan", "customers_tier", "margin_tier", "relationship"]]
        plan customers_tier margin_tier relationship
    0    pro            few        high  partnership
    1   plus       moderate      medium  accountable
    2  basic           many         low        basic
    """
    owner = "relationship_levels"
    by = [by] if isinstance(by, str) else list(by)
    check_columns(value, [*by, "n_customers", "margin"], what="value table")
    many, few = _share(many, "many", owner), _share(few, "few", owner)
    if few > many:
        raise param_error("few", owner, f"a share at most many={many:g}", few)
    if not (isinstance(high, (int, float)) and isinstance(low, (int, float)) and 0 <= low <= high):
        raise param_error("high", owner, "ratios with 0 <= low <= high", (low, high))
    n = value["n_customers"].to_numpy(float)
    margin = value["margin"].to_numpy(float)
    if not (np.isfinite(n).all() and (n >= 0).all() and n.sum() > 0):
        raise ValueError("relationship_levels: 'n_customers' must be finite, >= 0 and not all 0.")
    if not np.isfinite(margin).all():
        raise ValueError("relationship_levels: 'margin' must be finite for every segment (a callable margin has no "
                         "single value: give the margin per period).")
    share = n / n.sum()
    mean = float(np.sum(n * margin) / n.sum())
    ratio = margin / mean if mean != 0 else np.full(len(margin), np.nan)
    cust = np.where(share >= many, "many", np.where(share < few, "few", "moderate"))
    tier = np.where(ratio >= high, "high", np.where(ratio < low, "low", "medium"))
    out = value[by].copy().reset_index(drop=True)
    out["n_customers"] = n
    out["customer_share"] = share
    out["margin"] = margin
    out["margin_ratio"] = ratio
    out["customers_tier"] = cust
    out["margin_tier"] = tier
    out["relationship"] = [GRID[(c, t)] for c, t in zip(cust, tier, strict=True)]
    if "estimate" in value.columns:
        out["lifetime_value"] = value["estimate"].to_numpy(float)
    order = ["partnership", "proactive", "accountable", "reactive", "basic"]
    out = out.iloc[np.argsort([order.index(r) for r in out["relationship"]], kind="stable")].reset_index(drop=True)
    out.attrs.update(many=many, few=few, high=high, low=low, mean_margin=mean)
    return out


def core_customers(residual: pd.DataFrame, *, share: float = 0.2) -> pd.DataFrame:
    """The current customers with the highest residual value: the top ``share`` of them, ranked.

    Parameters
    ----------
    residual : pandas.DataFrame
        One row per current customer with ``id`` and ``estimate`` (residual value), e.g. the result of
        :func:`~churnsurv.value.residual_value`.
    share : float, default 0.2
        Share of the current customers to return.

    Returns
    -------
    pandas.DataFrame
        The input's columns for the top customers, ranked, plus ``rank`` and ``cumulative_equity_share`` (their
        residual value as a share of all current customers' equity). ``attrs["equity_share"]``: the share of
        equity the returned customers hold.
    """
    owner = "core_customers"
    share = _share(share, "share", owner)
    check_columns(residual, ["id", "estimate"], what="residual value table")
    value = residual["estimate"].to_numpy(float)
    if not np.isfinite(value).all():
        bad = int((~np.isfinite(value)).sum())
        raise ValueError(f"core_customers: {bad} customers have no finite residual value; drop them or use a tail "
                         "that gives one.")
    order = np.argsort(-value, kind="stable")
    k = int(np.ceil(share * len(value)))
    total = value.sum()
    out = residual.iloc[order[:k]].reset_index(drop=True)
    out["rank"] = np.arange(1, k + 1)
    out["cumulative_equity_share"] = np.cumsum(value[order[:k]]) / total if total else np.nan
    out.attrs["equity_share"] = float(value[order[:k]].sum() / total) if total else np.nan
    return out
