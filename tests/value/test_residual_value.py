"""Residual value of current customers, customer equity and future cohorts: by hand and closed forms."""

from __future__ import annotations

import doctest
import warnings

import numpy as np
import pandas as pd
import pytest
from value_records import HALF, records_from_counts

import churnsurv.value.residual as residual_module
from churnsurv import KaplanMeier
from churnsurv.value import customer_equity, future_cohorts_value, lifetime_value, residual_value

FRAME = dict(duration="tenure", event="churned")


@pytest.mark.parametrize("timing", ["start", "end"])
@pytest.mark.parametrize("first_period", [True, False])
def test_memoryless_residual_value_equals_the_lifetime_value(half, timing, first_period):
    # S(k) = 0.5^k and the constant tail is 0.5: every current customer is worth a new customer's value
    kw = dict(margin=10, discount_rate=0.02, timing=timing, first_period=first_period, **FRAME)
    res = residual_value(half, **kw)
    new = lifetime_value(half, **kw).loc[0, "estimate"]
    d, r = 0.02, 0.5
    closed = {("start", True): 10 * (1 + d) / (1 + d - r), ("start", False): 10 * r / (1 + d - r),
              ("end", True): 10 / (1 + d - r), ("end", False): 10 * r / ((1 + d) * (1 + d - r))}[(timing, first_period)]
    assert sorted(res["tenure"].unique()) == [1.0, 2.0, 3.0, 5.0]
    assert len(res) == 256 + 64 + 16 + 4
    np.testing.assert_allclose(res["estimate"], closed, rtol=1e-10)
    assert new == pytest.approx(closed, rel=1e-10)


def test_residual_value_by_hand():
    df = pd.DataFrame({"tenure": [1, 2, 3, 4, 5, 6], "churned": [1, 1, 0, 1, 0, 0]})
    res = residual_value(df, margin=10, discount_rate=0.01, tail="none", **FRAME)
    # KM: S(1) = 5/6, S(2) = 4/6, S(3) = 4/6, S(4) = 4/9, S(5) = S(6) = 4/9; tau = 6 (hard stop after)
    s = {3: 4 / 6, 4: 4 / 9, 5: 4 / 9, 6: 4 / 9}
    v = 1 / 1.01
    for t, got in zip(res["tenure"], res["estimate"], strict=True):
        want = 10 * sum(s[int(t) + u] / s[int(t)] * v**u for u in range(0, 7 - int(t)))
        assert got == pytest.approx(want, rel=1e-12)
    assert list(res["id"]) == [2, 4, 5]
    horizon = residual_value(df, margin=10, discount_rate=0.01, tail="none", horizon=2, **FRAME)
    assert horizon.loc[0, "estimate"] == pytest.approx(10 * (1 + (4 / 9) / (4 / 6) * v), rel=1e-12)


def test_residual_value_with_a_growing_margin_and_a_geometric_tail(half):
    # from tenure t the margin is 2 (t + u) and retention 0.5 forever: sum_u 2 (t + u) (0.5 v)^u
    res = residual_value(half, margin=lambda t: 2.0 * t, discount_rate=0.02, tail="geometric", retention=0.5,
                         **FRAME)
    q = 0.5 / 1.02
    for t, got in zip(res["tenure"], res["estimate"], strict=True):
        want = 2 * (t / (1 - q) + q / (1 - q) ** 2)
        assert got == pytest.approx(want, rel=1e-10)


@pytest.mark.filterwarnings("ignore:KaplanMeier. the risk set empties")
def test_left_truncated_records_use_the_conditional_curve():
    # customers observed from tenure 10 on: the residual value needs S(t + u) / S(t) only, from t >= 10
    rng = np.random.default_rng(3)
    n = 4000
    entry = rng.integers(10, 20, n).astype(float)
    tenure = entry + rng.geometric(0.1, n)
    censor = entry + rng.integers(1, 15, n)
    df = pd.DataFrame({"entry": entry, "tenure": np.minimum(tenure, censor), "churned": tenure <= censor})
    res = residual_value(df, entry="entry", margin=1.0, discount_rate=0.01, **FRAME)
    closed = 1.01 / (1.01 - 0.9)  # memoryless: each customer's value whatever the tenure
    rel = np.abs(res["estimate"].to_numpy() / closed - 1)
    assert np.median(rel) < 0.05


def test_customer_equity_sums_the_residual_values():
    df = pd.concat([records_from_counts(HALF, "a"), records_from_counts([(1, 10, 5), (3, 5, 10), (6, 1, 4)], "b")],
                   ignore_index=True)
    df["charge"] = np.arange(len(df), dtype=float) % 7 + 20
    kw = dict(by="plan", margin="charge", margin_rate=0.3, discount_rate=0.01, **FRAME)
    res = residual_value(df, **kw)
    ce = customer_equity(df, **kw)
    current = df[~df["churned"]]
    np.testing.assert_allclose(res["margin"], 0.3 * current["charge"].to_numpy(), rtol=1e-14)
    totals = res.groupby("plan", observed=True)["estimate"].sum()
    np.testing.assert_allclose(ce["estimate"], totals.to_numpy(), rtol=1e-12)
    np.testing.assert_allclose(ce["n_current"], [340.0, 19.0])
    np.testing.assert_allclose(ce["mean_value"], ce["estimate"] / ce["n_current"], rtol=1e-14)
    np.testing.assert_allclose(ce["data_value"] + ce["tail_value"], ce["estimate"], rtol=1e-12)
    assert list(ce["plan"]) == ["a", "b"]


def test_residual_needs_records(half):
    km = KaplanMeier().fit(half, **FRAME)
    with pytest.raises(TypeError, match="The 'source' parameter of residual_value must be customer records"):
        residual_value(km, margin=1.0, discount_rate=0.01)
    with pytest.raises(TypeError, match="'source' parameter of customer_equity"):
        customer_equity(km.survival_, margin=1.0, discount_rate=0.01)


def test_equity_bootstrap_is_seeded_and_reports_progress(half, capsys):
    kw = dict(margin=10, discount_rate=0.02, n_boot=40, **FRAME)
    a = customer_equity(half, random_state=1, progress=True, **kw)
    assert "customer_equity: bootstrap 40/40 replicates" in capsys.readouterr().err
    b = customer_equity(half, random_state=1, **kw)
    c = customer_equity(half, random_state=2, **kw)
    pd.testing.assert_frame_equal(a, b)
    assert a.loc[0, "std_error"] != c.loc[0, "std_error"]
    assert a.loc[0, "ci_lower"] < a.loc[0, "estimate"] < a.loc[0, "ci_upper"]


@pytest.mark.parametrize("timing", ["start", "end"])
@pytest.mark.parametrize("horizon", [None, 1, 12])
def test_future_cohorts_closed_form(timing, horizon):
    got = future_cohorts_value(100.0, acquisitions=50, acquisition_cost=40, discount_rate=0.01, timing=timing,
                               horizon=horizon)
    delta = 0 if timing == "start" else 1
    n = 5_000 if horizon is None else horizon  # 1.01^-5000 is below double precision
    by_sum = sum(50 * 60 / 1.01 ** (c + delta) for c in range(n))
    assert got.loc[0, "estimate"] == pytest.approx(by_sum, rel=1e-10)
    if horizon is None and timing == "start":
        assert got.loc[0, "estimate"] == pytest.approx(50 * 60 * 1.01 / 0.01, rel=1e-12)


def test_future_cohorts_from_a_value_table():
    df = pd.concat([records_from_counts(HALF, "a"), records_from_counts(HALF, "b")], ignore_index=True)
    clv = lifetime_value(df, by="plan", margin={"a": 10.0, "b": 20.0}, discount_rate=0.01, **FRAME)
    got = future_cohorts_value(clv, acquisitions={"a": 5, "b": 1}, acquisition_cost=3, discount_rate=0.01,
                               horizon=24)
    assert list(got.columns) == ["plan", "acquisitions", "acquisition_cost", "lifetime_value", "estimate"]
    geo = (1 - 1.01**-24) / (1 - 1 / 1.01)
    np.testing.assert_allclose(got["estimate"], [5 * (clv.loc[0, "estimate"] - 3) * geo,
                                                 1 * (clv.loc[1, "estimate"] - 3) * geo], rtol=1e-12)
    with pytest.raises(ValueError, match="'discount_rate' parameter of future_cohorts_value must be a float > 0"):
        future_cohorts_value(clv, acquisitions=1, discount_rate=0.0)
    with pytest.raises(ValueError, match="every segment"):
        future_cohorts_value(clv, acquisitions={"a": 1}, discount_rate=0.01)


def test_docstring_examples_run():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = doctest.testmod(residual_module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0


def test_a_curve_that_reaches_zero_before_later_entrants_restarts_after_their_tenure():
    """Left truncation: everyone at risk at month 2 leaves, so S(t) = 0 from then on, yet customers who entered at
    month 3 are still here. Their residual value uses the hazards after their tenure, not 0/0."""
    import warnings

    frame = pd.DataFrame({"entry": [0, 0, 3, 3, 3, 3, 3, 3], "exit": [2, 2, 5, 6, 6, 7, 8, 8],
                          "e": [1, 1, 1, 0, 1, 0, 1, 0]})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = residual_value(frame, margin=10, discount_rate=0.01, duration="exit", event="e", entry="entry",
                           tail="none")
        ce = customer_equity(frame, margin=10, discount_rate=0.01, duration="exit", event="e", entry="entry",
                             n_boot=0, tail="none")
    r = r.set_index("tenure")
    assert np.isfinite(r["estimate"]).all()
    # after month 6: nobody leaves at 7 (3 at risk), 1 of 2 at 8; payments at 6, 7 and 8 (start of period)
    assert r.loc[6.0, "data_value"] == pytest.approx(10 * (1 + 1 / 1.01 + 0.5 / 1.01 ** 2), rel=1e-12)
    assert float(ce["estimate"].iloc[0]) == pytest.approx(r["estimate"].sum(), rel=1e-12)
