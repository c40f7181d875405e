"""Value at risk by cause: the geometric closed form, the bookkeeping, the errors, and the simulated truth."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from sim_truth import D as SIM_D
from sim_truth import N, simulate, true_value_at_risk
from test_scenarios import FRAME, two_causes
from value_records import HALF, records_from_counts

from churnsurv.value import lifetime_value, value_at_risk


@pytest.mark.parametrize("d", [0.005, 0.02, 0.1])
def test_geometric_closed_form(d):
    # constant hazard h = 1/2 throughout (the tail fitted to it): R(t) = LV for every t, and
    # VaR = LV * sum_n (1 - h)^(n-1) h v^n = LV h / (d + h)
    lv = lifetime_value(records_from_counts(HALF), margin=10, discount_rate=d, **FRAME)["estimate"].iloc[0]
    var = value_at_risk(two_causes(), margin=10, discount_rate=d, cause="reason", **FRAME).set_index("cause")
    assert var["estimate"].sum() == pytest.approx(lv * 0.5 / (d + 0.5), rel=1e-10)
    # two causes in equal shares at every tenure (and in the tail)
    assert var.loc["price", "estimate"] == pytest.approx(var.loc["service", "estimate"], rel=1e-9)
    assert var["incidence"].sum() == pytest.approx(1.0, rel=1e-10)
    assert var["share"].sum() == pytest.approx(1.0)
    np.testing.assert_allclose(var["value_per_defector"], var["estimate"] / var["incidence"])
    np.testing.assert_allclose(var["break_even_spend"], 0.1 * var["estimate"])


def test_horizon_and_hard_stop_by_hand():
    # HALF, tail none, no discount, margin 1: a defector at tenure k loses sum_{u >= 0} S(k + u) / S(k) periods up to
    # tau = 5 (periods k..5): 2 - 0.5^(5 - k) for k = 1..4, 1 for k = 5
    df = two_causes()
    var = value_at_risk(df, margin=1, discount_rate=0.0, tail="none", cause="reason", **FRAME)
    f = np.array([0.5, 0.25, 0.125, 0.0625, 0.03125])  # dF at k = 1..5
    lost = np.array([2 - 0.5 ** (5 - k) for k in range(1, 5)] + [1.0])
    assert var["estimate"].sum() == pytest.approx(float(np.sum(f * lost)), rel=1e-12)
    # a horizon of 3 periods: periods k..2 only
    var3 = value_at_risk(df, margin=1, discount_rate=0.0, tail="none", horizon=3, cause="reason", **FRAME)
    lost3 = np.array([1 + 0.5, 1.0, 0.0, 0.0, 0.0])
    assert var3["estimate"].sum() == pytest.approx(float(np.sum(f * lost3)), rel=1e-12)
    assert list(var3["rank"]) == [1, 2]


def test_errors():
    with pytest.raises(ValueError, match="'margin' parameter of value_at_risk"):
        value_at_risk(two_causes(), margin=lambda t: 1 + 0 * t, discount_rate=0.01, cause="reason", **FRAME)
    with pytest.raises(ValueError, match="'remove_share' parameter"):
        value_at_risk(two_causes(), margin=1, discount_rate=0.01, remove_share=2, cause="reason", **FRAME)


def test_simulated_value_at_risk_within_sampling_error():
    book = simulate()
    var = value_at_risk(book.data, duration="exit", event="event", cause="cause", id="customer_id", by="segment",
                        margin="monthly_margin", discount_rate=SIM_D, horizon=N, n_boot=150, random_state=6)
    zs = []
    for seg in book.scenario.segments:
        truth = true_value_at_risk(book.truth, seg, book.scenario.margin_mean[seg])
        rows = var[var["segment"] == seg].set_index("cause")
        for cause, t in truth.items():
            zs.append((rows.loc[cause, "estimate"] - t) / rows.loc[cause, "std_error"])
            assert rows.loc[cause, "ci_lower"] <= rows.loc[cause, "estimate"] <= rows.loc[cause, "ci_upper"]
    zs = np.array(zs)
    assert np.all(np.abs(zs) < 4), zs
    assert abs(np.mean(zs)) < 4 / np.sqrt(len(zs)) * 1.5  # no systematic bias across the 20 (segment, cause) pairs


def test_curve_falling_to_zero_loses_nothing_more():
    # the last customer leaves at 3: S(3) = 0, the defector at 3 has no survivor's future to lose
    df = pd.DataFrame({"tenure": [1.0, 2.0, 3.0], "churned": [True, True, True], "reason": ["a", "b", "a"]})
    var = value_at_risk(df, margin=1, discount_rate=0.0, cause="reason", **FRAME).set_index("cause")
    # S = 1, 2/3, 1/3, 0: the defector at 1 loses periods 1, 2 (1 + (1/3)/(2/3)), the one at 2 loses period 2 (1)
    assert var.loc["a", "estimate"] == pytest.approx(1 / 3 * 1.5, rel=1e-12)
    assert var.loc["b", "estimate"] == pytest.approx(1 / 3 * 1.0, rel=1e-12)


@pytest.mark.slow
def test_interval_coverage_of_scenario_value_and_value_at_risk():
    # 16 simulated books x 4 segments (x 5 causes), 100 replicates each; measured at 200 books x 6,000 customers x
    # 200 replicates: 93.8% (value), 94.4% (scenario value), 94.7% (value at risk). Binomial SE here: 2.7 points
    # (64 intervals) and 1.2 points (320 intervals).
    from churnsurv.data.simulate import simulate_churn
    from churnsurv.value import retention_scenario
    from sim_truth import true_value

    hits, total = {"value": 0, "var": 0}, {"value": 0, "var": 0}
    for i in range(16):
        book = simulate_churn(3000, signup_months=72, random_state=500 + i)
        kw = dict(duration="exit", event="event", cause="cause", id="customer_id", by="segment",
                  margin="monthly_margin", discount_rate=SIM_D, horizon=N, n_boot=100, random_state=i)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = retention_scenario(book.data, reduce=0.5, causes="competitor", window=(0, 12), **kw)
            var = value_at_risk(book.data, **kw)
        est = res.estimates.set_index(["segment", "quantity"])
        for seg in book.scenario.segments:
            m = book.scenario.margin_mean[seg]
            t = true_value(book.truth, seg, m, {"competitor": 0.5}, window=(0, 12))
            hits["value"] += est.loc[(seg, "value_scenario"), "ci_lower"] <= t <= est.loc[(seg, "value_scenario"),
                                                                                           "ci_upper"]
            total["value"] += 1
            rows = var[var["segment"] == seg].set_index("cause")
            for cause, tv in true_value_at_risk(book.truth, seg, m).items():
                hits["var"] += rows.loc[cause, "ci_lower"] <= tv <= rows.loc[cause, "ci_upper"]
                total["var"] += 1
    assert 0.85 <= hits["value"] / total["value"] <= 1.0, hits
    assert 0.90 <= hits["var"] / total["var"] <= 0.98, hits
