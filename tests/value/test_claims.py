"""The claims table, the leaky bucket (steady state = inflow / churn), the whale curve and the tornado's table."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from test_scenarios import FRAME, MAVEN
from value_records import HALF, records_from_counts

from churnsurv.datasets import load_maven_telco
from churnsurv.value import (
    leaky_bucket,
    lifetime_value,
    lifetime_value_range,
    retention_claims,
    retention_scenario,
    value_sensitivity,
    whale_curve,
)


@pytest.fixture(scope="module")
def maven():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return load_maven_telco(truncate=True)


@pytest.mark.parametrize("h", [0.02, 0.1, 0.37])
@pytest.mark.parametrize("inflow", [1.0, 250.0])
def test_steady_state_is_inflow_over_churn(h, inflow):
    curve = pd.DataFrame({"time": np.arange(5.0), "estimate": (1 - h) ** np.arange(5.0)})
    lb = leaky_bucket(curve, inflow=inflow, margin=3.0, tail="geometric", retention=1 - h, periods=400)
    st = lb.steady_state.iloc[0]
    assert abs(st["base"] - inflow / h) <= 1e-10 * inflow / h
    assert st["churn"] == pytest.approx(h, rel=1e-12)
    assert st["revenue"] == pytest.approx(3.0 * inflow / h, rel=1e-10)
    # the projection is the cohort convolution inflow * sum_{k <= t} (1 - h)^k, converging to the steady state
    t = lb.projection["period"].to_numpy()
    np.testing.assert_allclose(lb.projection["base"], inflow * (1 - (1 - h) ** (t + 1)) / h, rtol=1e-12)


def test_steady_state_from_records_with_a_fitted_constant_tail():
    # HALF: hazard 1/2 everywhere, the constant tail fitted to it; today's customers add a decaying stock
    df = records_from_counts(HALF)
    lb = leaky_bucket(df, inflow=40, margin=1, acquisition_cost=5, periods=80, **FRAME)
    assert abs(lb.steady_state["base"].iloc[0] - 80.0) <= 1e-10 * 80
    p = lb.projection
    n_current = int((~df["churned"]).sum())
    assert p["current"].iloc[0] == n_current
    assert p["base"].iloc[-1] == pytest.approx(80.0, rel=1e-12)
    np.testing.assert_allclose(p["profit"], p["revenue"] - 40 * 5)


def test_leaky_bucket_bootstrap_and_errors(maven):
    lb = leaky_bucket(maven, by="Contract", inflow=100, margin="Monthly Charge", margin_rate=0.3, periods=24,
                      n_boot=25, random_state=0)
    st = lb.steady_state
    assert np.all(st["base_ci_lower"] < st["base"]) and np.all(st["base"] < st["base_ci_upper"])
    assert lb.steady_state_replicates.shape == (3, 25)
    assert lb.projection.groupby("Contract", observed=True)["period"].max().eq(24).all()
    with pytest.raises(ValueError, match="'inflow' parameter of leaky_bucket"):
        leaky_bucket(maven, by="Contract", inflow={"One Year": 3}, margin=1)
    with pytest.raises(TypeError, match="'periods' parameter"):
        leaky_bucket(maven, inflow=3, margin=1, periods=2.5)


def test_whale_curve_by_hand():
    w = whale_curve([50.0, 30.0, 20.0, -10.0, -40.0], margin=1)
    assert w.total_profit == 50.0
    np.testing.assert_allclose(w.curve["cumulative_profit_share"], [0, 1.0, 1.6, 2.0, 1.8, 1.0])
    s = w.summary.set_index("statistic")["estimate"]
    assert (s["share_for_80pct"], s["peak"], s["share_at_peak"], s["share_unprofitable"]) == (0.2, 2.0, 0.6, 0.4)


def test_whale_curve_of_records(maven):
    w = whale_curve(maven, margin="Monthly Charge", margin_rate=0.3, acquisition_cost=100, n_boot=40, random_state=1)
    d = maven.data
    profit = 0.3 * d["Monthly Charge"].to_numpy() * np.ceil(d["exit"].to_numpy()) - 100
    assert w.total_profit == pytest.approx(profit.sum())
    s = w.summary.set_index("statistic")
    assert s.loc["share_unprofitable", "estimate"] == pytest.approx(np.mean(profit < 0))
    assert s.loc["peak", "estimate"] > 1  # unprofitable customers: the curve rises above 100% and falls back
    assert (s["ci_lower"] <= s["estimate"]).all() and (s["estimate"] <= s["ci_upper"]).all()


def test_value_sensitivity_rows(maven):
    t = value_sensitivity(maven, **MAVEN).set_index(["Contract", "parameter"])
    lv = lifetime_value(maven, **MAVEN).set_index("Contract")["estimate"]
    kw = {k: v for k, v in MAVEN.items() if k != "discount_rate"}
    for seg in lv.index:
        row = t.loc[(seg, "margin")]
        assert row["low"] == pytest.approx(0.9 * lv[seg]) and row["high"] == pytest.approx(1.1 * lv[seg])
        assert t.loc[(seg, "discount rate"), "low"] == pytest.approx(
            lifetime_value(maven, discount_rate=0.005, **kw).set_index("Contract").loc[seg, "estimate"], rel=1e-12)
        assert t.loc[(seg, "retention"), "low"] < lv[seg] < t.loc[(seg, "retention"), "high"]
    rng = lifetime_value_range(maven, **MAVEN).groupby("Contract", observed=True)
    rng = rng[["range_lower", "range_upper"]].first()
    np.testing.assert_allclose(t.xs("tail", level="parameter")[["low", "high"]].to_numpy(), rng.to_numpy())


def test_claims_table(maven):
    c = retention_claims(maven, acquisition_cost=300, acquisitions=150, n_boot=30, random_state=2, **MAVEN)
    c = c.set_index("claim")
    assert list(c.index) == ["reichheld_points_value", "reichheld_points_equity", "reichheld_relative_value",
                             "reichheld_relative_equity", "elasticity_retention", "elasticity_margin",
                             "elasticity_acquisition_cost", "break_even_retention_spend", "steady_state_base",
                             "whale_share_80", "whale_peak"]
    assert c[["literature", "assumptions", "source"]].notna().all().all()
    assert np.isfinite(c[["estimate", "ci_lower", "ci_upper"]].to_numpy(float)).all()
    assert ((c["ci_lower"] <= c["estimate"]) & (c["estimate"] <= c["ci_upper"])).all()
    # the Reichheld rows are the scenario's totals
    points = retention_scenario(maven, rate_cut=0.05, **MAVEN).total.set_index("quantity")["estimate"]
    assert c.loc["reichheld_points_value", "estimate"] == pytest.approx(points["value_gain_pct"], rel=1e-12)
    assert c.loc["reichheld_points_equity", "estimate"] == pytest.approx(points["equity_gain_pct"], rel=1e-12)
    # elasticities of margin and acquisition cost are exact identities of firm value = CE + a (V - K)(1+d)/d
    assert c.loc["elasticity_margin", "estimate"] - c.loc["elasticity_acquisition_cost", "estimate"] == \
        pytest.approx(1.0, rel=1e-12)


def test_claims_without_acquisitions(maven):
    c = retention_claims(maven, acquisition_cost=300, n_boot=0, **MAVEN).set_index("claim")
    assert "steady_state_base" not in c.index
    # identities of the inputs (1 and 0 by definition) are said to be not computed, not shown as 1.00 (1.00-1.00)
    for claim in ("elasticity_margin", "elasticity_acquisition_cost"):
        assert np.isnan(c.loc[claim, "estimate"]) and np.isnan(c.loc[claim, "ci_lower"])
        assert c.loc[claim, "assumptions"].startswith("not computed: with no acquisitions given")


def test_whale_peak_without_unprofitable_customers_is_not_computed():
    frame = pd.DataFrame({"t": [1, 2, 3, 4, 5, 6], "e": [1, 0, 1, 0, 1, 0], "m": [10.0, 20, 30, 40, 50, 60]})
    c = retention_claims(frame, margin="m", discount_rate=0.01, n_boot=0, duration="t", event="e",
                         values=["m"]).set_index("claim")
    assert np.isnan(c.loc["whale_peak", "estimate"])
    assert "peaks at 100% of the profit by construction" in c.loc["whale_peak", "assumptions"]
    assert np.isfinite(c.loc["whale_share_80", "estimate"])
    with pytest.raises(ValueError, match="'discount_rate' parameter of retention_claims"):
        retention_claims(maven, acquisition_cost=300, n_boot=0, **{**MAVEN, "discount_rate": 0.0})


def test_whale_curve_without_profit_and_claims_with_negative_firm_value():
    w = whale_curve([-5.0, -1.0, 2.0], margin=1)
    assert w.summary["estimate"].isna().all() and w.curve["cumulative_profit_share"].iloc[1:].isna().all()
    df = records_from_counts(HALF)
    # a new customer is worth about 20 and costs 1,000: firm value is negative, the elasticities mean nothing
    c = retention_claims(df, margin=10, discount_rate=0.02, acquisition_cost=1000, acquisitions=10, n_boot=0,
                         **FRAME).set_index("claim")
    for name in ("elasticity_retention", "elasticity_margin", "elasticity_acquisition_cost"):
        assert np.isnan(c.loc[name, "estimate"]) and "not positive" in c.loc[name, "assumptions"]
    assert c.loc[["whale_share_80", "whale_peak"], "estimate"].isna().all()
