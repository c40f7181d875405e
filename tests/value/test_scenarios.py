"""Retention scenarios: closed forms, the window and target rates, agreement with cause_reduction and the value
layer, Peterson's bounds, costs, and the recovery of the true scenario value from simulated customers."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from sim_truth import N, true_value
from sim_truth import D as SIM_D
from sim_truth import simulate as simulate_book
from value_records import HALF, records_from_counts

from churnsurv import StatisticalWarning
from churnsurv.competing import cause_reduction
from churnsurv.datasets import load_maven_telco
from churnsurv.value import (
    HETEROGENEITY_CAVEAT,
    customer_equity,
    lifetime_value,
    retention_scenario,
    scenario_grid,
)

FRAME = dict(duration="tenure", event="churned")
MAVEN = dict(by="Contract", margin="Monthly Charge", margin_rate=0.3, discount_rate=0.01)


def two_causes(rows=HALF) -> pd.DataFrame:
    """HALF with the defections of every tenure split evenly between 'price' and 'service'."""
    df = records_from_counts(rows)
    reason = np.where(df["churned"], np.where(np.arange(len(df)) % 2 == 0, "price", "service"), None)
    return df.assign(reason=reason)


@pytest.fixture(scope="module")
def maven():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return load_maven_telco(truncate=True)


def test_no_cut_reproduces_lifetime_value_and_equity(maven):
    res = retention_scenario(maven, reduce=0.0, **MAVEN)
    lv = lifetime_value(maven, **MAVEN)
    ce = customer_equity(maven, **MAVEN)
    s = res.summary
    np.testing.assert_allclose(s["value_observed"], lv["estimate"], rtol=1e-12)
    np.testing.assert_allclose(s["equity_observed"], ce["estimate"], rtol=1e-12)
    np.testing.assert_allclose(s["value_scenario"], s["value_observed"], rtol=1e-12)
    assert np.all(s["customers_saved"] == 0) and np.all(s["net_profit_gain"] == 0)
    assert HETEROGENEITY_CAVEAT in res.describe() and "sBG" not in res.caveat or "shifted-beta" in res.caveat


@pytest.mark.parametrize("cut", [0.2, 0.5, 1.0])
def test_geometric_closed_form_with_a_relative_cut(cut):
    # S(k) = 0.5^k and a constant tail fitted to the expected defections: the cut curve is (1 - 0.5 c)^k throughout
    d, m = 0.02, 10.0
    res = retention_scenario(records_from_counts(HALF), reduce=cut, margin=m, discount_rate=d, **FRAME)
    r = 1 - 0.5 * (1 - cut)
    s = res.summary.iloc[0]
    assert s["value_observed"] == pytest.approx(m * (1 + d) / (1 + d - 0.5), rel=1e-10)
    assert s["value_scenario"] == pytest.approx(m * (1 + d) / (1 + d - r), rel=1e-10)
    assert s["hazard_multiplier"] == pytest.approx(1 - cut)
    surv = res.survival[res.survival["scenario"] == "scenario"]
    np.testing.assert_allclose(surv["estimate"], r ** surv["time"], rtol=1e-12)
    # the expected tenure is the undiscounted sum of S(k): 1 / (1 - r) periods
    if cut < 1:
        assert s["expected_tenure_scenario"] == pytest.approx(1 / (1 - r), rel=1e-10)


def test_window_cuts_only_inside_it():
    res = retention_scenario(records_from_counts(HALF), reduce=0.5, window=(0, 2), margin=1, discount_rate=0.0,
                             **FRAME)
    surv = res.survival[res.survival["scenario"] == "scenario"].set_index("time")["estimate"]
    # hazard 0.25 in months 1 and 2, 0.5 afterwards (also in the tail)
    want = {0: 1, 1: 0.75, 2: 0.75**2, 3: 0.75**2 * 0.5, 4: 0.75**2 * 0.25, 5: 0.75**2 * 0.125}
    for t, w in want.items():
        assert surv[t] == pytest.approx(w, rel=1e-12)
    s = res.summary.iloc[0]
    assert s["expected_tenure_scenario"] == pytest.approx(1 + 0.75 + 0.75**2 * 2, rel=1e-10)


@pytest.mark.parametrize(("kind", "amount"), [("to_rate", 0.5), ("rate_cut", 0.05), ("retention_lift", 0.01)])
def test_target_annual_rates_are_met(maven, kind, amount):
    res = retention_scenario(maven, **{kind: amount}, **MAVEN)
    s = res.summary
    a = s["annual_defection_observed"].to_numpy()
    want = {"to_rate": np.minimum(a, 0.5), "rate_cut": a - 0.05, "retention_lift": 1 - 1.01 * (1 - a)}[kind]
    np.testing.assert_allclose(s["annual_defection_scenario"], want, atol=1e-9)
    # the observed annual rate is the annualised defection over the observed range
    assert s["annual_defection_observed"].between(0, 1).all()


def test_target_out_of_reach_warns():
    df = two_causes()
    with pytest.warns(StatisticalWarning, match="out of reach"):
        res = retention_scenario(df, to_rate=0.01, causes="price", margin=1, discount_rate=0.01, cause="reason",
                                 **FRAME)
    assert res.summary["hazard_multiplier"].iloc[0] == 0.0  # the cause removed: as far as it goes


def test_cause_removed_matches_cause_reduction():
    df = two_causes()
    res = retention_scenario(df, reduce=1.0, causes="price", margin=1, discount_rate=0.0, tail="none",
                             cause="reason", **FRAME)
    ref = cause_reduction(df, reduce={"price": 1.0}, cause="reason", min_at_risk=0, **FRAME)
    ours = res.survival[res.survival["scenario"] == "scenario"]["estimate"].to_numpy()
    theirs = ref.survival[ref.survival["scenario"] == "counterfactual"]["estimate"].to_numpy()
    np.testing.assert_allclose(ours, theirs, rtol=1e-12)
    # with margin 1, no discount and a hard stop, the value gain is the gain in sum_k S(k), k = 0..tau
    s = res.summary.iloc[0]
    assert s["value_gain"] == pytest.approx(np.sum(ours) - np.sum(
        ref.survival[ref.survival["scenario"] == "observed"]["estimate"]), rel=1e-12)


@pytest.mark.parametrize("cut", [0.3, 1.0])
@pytest.mark.parametrize("window", [None, (0, 6), (11, 13)])
def test_independence_answer_inside_peterson_bounds(maven, cut, window):
    res = retention_scenario(maven, reduce=cut, causes=["competitor", "price"], window=window, **MAVEN)
    s = res.summary
    assert np.all(s["value_gain_lower_bound"] == 0)
    assert np.all(s["value_gain_within_data"] >= -1e-9)
    assert np.all(s["value_gain_within_data"] <= s["value_gain_upper_bound"] + 1e-9)
    assert (s["value_gain_upper_bound"] > 0).any()  # (no early defections for these causes on Two Year)
    # all causes cut: no dependence question, no bounds
    assert retention_scenario(maven, reduce=cut, **MAVEN).summary["value_gain_upper_bound"].isna().all()


def test_segments_not_targeted_are_unchanged_and_costs(maven):
    res = retention_scenario(maven, reduce=0.2, segments=["One Year"], programme_cost=5.0, **MAVEN)
    s = res.summary.set_index("Contract")
    assert list(s["targeted"]) == [False, True, False]
    for seg in ("Month-to-Month", "Two Year"):
        assert s.loc[seg, "value_gain"] == 0 and s.loc[seg, "programme_cost"] == 0
    one = s.loc["One Year"]
    assert one["programme_cost"] == pytest.approx(5.0 * one["n_current"])
    assert one["net_profit_gain"] == pytest.approx(one["profit_gain"] - one["programme_cost"])
    saved = retention_scenario(maven, reduce=0.2, segments=["One Year"], programme_cost=50.0, cost_per="saved",
                               **MAVEN).summary.set_index("Contract").loc["One Year"]
    assert saved["customers_saved"] > 0
    assert saved["programme_cost"] == pytest.approx(50.0 * saved["customers_saved"])
    t = res.total.set_index("quantity")["estimate"]
    assert t["equity_gain"] == pytest.approx(s["equity_gain"].sum())
    assert t["programme_cost"] == pytest.approx(5.0 * one["n_current"])


def test_customers_saved_by_hand():
    # one current customer at tenure 2 in HALF, horizon 1: S(3)/S(2) goes from 0.5 to 1 - 0.5 * 0.5
    df = records_from_counts(HALF)
    res = retention_scenario(df, reduce=0.5, profit_horizon=1, margin=1, discount_rate=0.0, **FRAME)
    current = df.loc[~df["churned"], "tenure"].to_numpy()
    assert res.summary["customers_saved"].iloc[0] == pytest.approx(len(current) * 0.25, rel=1e-12)


def test_bootstrap_intervals_reproducible(maven):
    a = retention_scenario(maven, rate_cut=0.05, n_boot=30, random_state=3, **MAVEN)
    b = retention_scenario(maven, rate_cut=0.05, n_boot=30, random_state=3, **MAVEN)
    pd.testing.assert_frame_equal(a.summary, b.summary)
    s = a.summary
    assert np.all(s["value_gain_ci_lower"] < s["value_gain"]) and np.all(s["value_gain"] < s["value_gain_ci_upper"])
    t = a.total.set_index("quantity")
    assert t.loc["equity_gain", "ci_lower"] < t.loc["equity_gain", "estimate"] < t.loc["equity_gain", "ci_upper"]


def test_parameter_errors(maven):
    with pytest.raises(ValueError, match="'reduce' parameter of retention_scenario"):
        retention_scenario(maven, reduce=0.1, rate_cut=0.05, **MAVEN)
    with pytest.raises(ValueError, match="'reduce' parameter"):
        retention_scenario(maven, reduce=1.5, **MAVEN)
    with pytest.raises(ValueError, match="'causes' parameter"):
        retention_scenario(maven, reduce=0.1, causes=["weather"], **MAVEN)
    with pytest.raises(ValueError, match="'window' parameter"):
        retention_scenario(maven, reduce=0.1, window=(6, 2), **MAVEN)
    with pytest.raises(ValueError, match="'segments' parameter"):
        retention_scenario(maven, reduce=0.1, segments=["Three Year"], **MAVEN)
    with pytest.raises(ValueError, match="'cost_per' parameter"):
        retention_scenario(maven, reduce=0.1, cost_per="month", **MAVEN)


def test_scenario_grid_lines_per_cause():
    df = two_causes()
    g = scenario_grid(df, reductions=[0, 0.5, 1], margin=1, discount_rate=0.01, cause="reason", **FRAME)
    assert set(g["cause"]) == {"all causes", "price", "service"}
    for _, rows in g.groupby("cause"):
        assert rows["value"].is_monotonic_increasing
        assert rows["value_gain"].iloc[0] == 0
    # the two causes are symmetric here
    price, service = (g[g["cause"] == c]["value"].to_numpy() for c in ("price", "service"))
    np.testing.assert_allclose(price, service, rtol=1e-12)


@pytest.fixture(scope="module")
def book():
    return simulate_book()


def test_simulated_scenario_value_within_sampling_error(book):
    # cut 'competitor' by half in the first 12 months: estimate, with its bootstrap SE, against the discrete truth
    res = retention_scenario(book.data, duration="exit", event="event", cause="cause", id="customer_id",
                             by="segment", margin="monthly_margin", discount_rate=SIM_D, horizon=N, reduce=0.5,
                             causes="competitor", window=(0, 12), n_boot=150, random_state=5)
    se = res.estimates.set_index(["segment", "quantity"], drop=False)
    for seg in book.scenario.segments:
        m = book.scenario.margin_mean[seg]
        for q, mult in (("value_observed", None), ("value_scenario", {"competitor": 0.5})):
            truth = true_value(book.truth, seg, m, mult, window=(0, 12))
            row = se.loc[(seg, q)]
            z = (row["estimate"] - truth) / row["std_error"]
            assert abs(z) < 4, (seg, q, row["estimate"], truth, row["std_error"])
