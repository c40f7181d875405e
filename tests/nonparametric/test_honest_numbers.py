"""No false certainty (issue 9, items 4 and 5): zero-defection bounds, ``min_at_risk``, ``predict(extend=)``, the
common RMST horizon and its warnings, per-period exposure in bins, peaks and pre-specified renewal contrasts.

Each test fails on the behaviour before the change: intervals ``[1, 1]`` (and ``[0, 0]`` for the cumulative
hazard) before the first defection, predictions carried beyond the last time, a silent RMST standard error of 0,
a default horizon beyond some segments' follow-up, and bins that counted exposure only in periods with an exit.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from churnsurv import StatisticalWarning, Tenures, life_table
from churnsurv.nonparametric import DiscreteHazard, KaplanMeier, NelsonAalen, discrete_hazard, restricted_mean
from churnsurv.nonparametric.intervals import zero_event_hazard_bound, zero_event_survival_bound

FRAME = dict(duration="tenure", event="churned")


def quiet(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StatisticalWarning)
        return fn(*args, **kwargs)


# ====================================================================== zero-defection bounds
def test_bound_formula_and_rule_of_three():
    # one-sided Clopper-Pearson for 0 failures in m trials: the beta(m, 1) quantile (1 - gamma)
    m = np.array([1.0, 5.0, 30.0, 300.0])
    np.testing.assert_allclose(zero_event_survival_bound(m, 0.95), stats.beta.ppf(0.05, m, 1), rtol=1e-12)
    np.testing.assert_allclose(zero_event_hazard_bound(m, 0.95), -np.log(zero_event_survival_bound(m, 0.95)))
    assert 1 - zero_event_survival_bound(300.0, 0.95) == pytest.approx(3 / 300, rel=0.01)  # the rule of three
    assert zero_event_survival_bound(0.0, 0.95) == 0.0 and zero_event_hazard_bound(0.0, 0.95) == np.inf


def test_km_interval_before_the_first_defection_is_a_one_sided_bound():
    # 10 customers; censorings at 1, 2 and 3, the first defection at 4
    df = pd.DataFrame({"tenure": [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], "churned": [0, 0, 0, 1, 0, 1, 0, 1, 0, 0]})
    for conf_type in ("log", "log-log", "plain"):
        s = KaplanMeier(conf_type=conf_type, conf_level=0.9).fit(df, **FRAME).survival_.set_index("time")
        assert s["zero_events"].tolist() == [False, True, True, True] + [False] * 7
        np.testing.assert_allclose(s.loc[[1.0, 2.0, 3.0], "ci_lower"], 0.1 ** (1 / np.array([10, 9, 8])))
        assert (s.loc[[1.0, 2.0, 3.0], "ci_upper"] == 1).all()
        assert s.loc[0.0, "ci_lower"] == 1.0  # the structural time-0 row: S(0) = 1 by definition
        assert s.loc[4.0, "ci_lower"] < s.loc[4.0, "estimate"] < 1  # after a defection: Greenwood as before
    na = NelsonAalen(conf_level=0.9).fit(df, **FRAME).cumulative_hazard_.set_index("time")
    np.testing.assert_allclose(na.loc[[1.0, 2.0, 3.0], "ci_upper"], -np.log(0.1) / np.array([10, 9, 8]))
    assert (na.loc[[1.0, 2.0, 3.0], "ci_lower"] == 0).all() and na.loc[0.0, "ci_upper"] == 0


def test_bound_uses_the_smallest_risk_set_with_late_entries():
    # two customers from 0, three more enter at 2: the stretch (0, 3] has 2 at risk on (0, 2] -> m = 2, not 5
    df = pd.DataFrame({"entry": [0, 0, 2, 2, 2], "tenure": [4, 5, 6, 6, 7], "churned": [0, 1, 0, 1, 0]})
    km = KaplanMeier(min_at_risk=None).fit(df, entry="entry", **FRAME)
    p = km.predict([1, 3, 4.5])
    assert p["zero_events"].tolist() == [True, True, True]
    np.testing.assert_allclose(p["ci_lower"], 0.05 ** (1 / 2))
    # a stretch where nobody is at risk leaves the survival unbounded below: the bound is 0
    gap = pd.DataFrame({"entry": [0, 0, 5, 5], "tenure": [1, 2, 7, 8], "churned": [0, 0, 1, 0]})
    s = quiet(KaplanMeier().fit, gap, entry="entry", **FRAME).survival_.set_index("time")
    assert s.loc[1.0, "ci_lower"] == pytest.approx(0.05 ** (1 / 2)) and s.loc[5.0, "ci_lower"] == 0.0


def _coverage(reps, n, surv_1, seed, truncation):
    """Share of replications with no defection by 1 whose interval misses S(1), and that share of them."""
    rng = np.random.default_rng(seed)
    lam = -np.log(surv_1)
    t = rng.exponential(1 / lam, (reps, n))
    if truncation:
        entry = np.where(rng.random((reps, n)) < 0.5, 0.0, rng.uniform(0, 0.8, (reps, n)))
        cens = rng.uniform(0.5, 3.0, (reps, n))
    else:
        entry, cens = np.zeros((reps, n)), np.full((reps, n), 10.0)
    seen = (t > entry) & (cens > entry)  # left truncation: only customers still there after entry are seen
    rep = np.broadcast_to(np.arange(reps)[:, None], (reps, n))[seen].astype(str)
    df = pd.DataFrame({"entry": entry[seen], "tenure": np.minimum(t, cens)[seen], "churned": (t <= cens)[seen],
                       "rep": rep})
    lt = life_table(Tenures.from_frame(df, segments="rep", entry="entry", **FRAME), "rep", check_confounding=False)
    p = KaplanMeier().fit(lt).predict([1.0])
    zero = p["zero_events"].to_numpy(bool)
    miss = ~((p["ci_lower"] <= surv_1) & (surv_1 <= p["ci_upper"])).to_numpy(bool)
    return zero.mean(), (zero & miss).mean()


def test_zero_event_bound_coverage_by_simulation():
    """2,000 replications per scenario. Worst case for the bound: n = 20 followed to t = 1 with S(1) = 0.855, just
    below the bound 0.05 ** (1/20) = 0.861, so every zero-defection replication misses: that happens with
    probability 0.855 ** 20 = 4.4% <= 5% (measured 3.95%). With S(1) = 0.9 the old [1, 1] missed in all 13.7% of
    replications without a defection, the bound in none. With late entries and censoring (n = 30, S(1) = 0.95)
    the bound covers every zero-defection replication (30% of them)."""
    p_zero, err = _coverage(2000, 20, 0.855, seed=1, truncation=False)
    assert abs(p_zero - 0.855 ** 20) < 4 * np.sqrt(0.044 * 0.956 / 2000)
    assert err <= 0.05 + 3 * np.sqrt(0.05 * 0.95 / 2000)
    p_zero, err = _coverage(2000, 20, 0.9, seed=2, truncation=False)
    assert p_zero > 0.1 and err == 0.0  # [1, 1] would miss p_zero = 13.7% of the time
    p_zero, err = _coverage(2000, 30, 0.95, seed=3, truncation=True)
    assert p_zero > 0.2 and err == 0.0


# ====================================================================== predict beyond the last time
def test_predict_beyond_the_last_time_is_nan_unless_extended():
    # R: summary(survfit(Surv(t, e) ~ g), times = c(2.5, 4, 6, 10)) drops 4, 6, 10 for g = 1 (last time 3) and
    # 10 for g = 2 (last time 8); extend = TRUE gives 0 / 0.667 there with n.risk 0. A time equal to the last is kept.
    df = pd.DataFrame({"tenure": [1, 2, 2, 3, 5, 6, 7, 8], "churned": [1, 0, 1, 1, 0, 1, 0, 0],
                       "g": [1, 1, 1, 1, 2, 2, 2, 2]})
    km = KaplanMeier().fit(df, by="g", **FRAME)
    p = km.predict([2.5, 3, 4, 10])
    np.testing.assert_array_equal(p["estimate"], [0.5, 0, np.nan, np.nan, 1, 1, 1, np.nan])
    assert p.loc[p["estimate"].isna(), ["std_error", "ci_lower", "ci_upper"]].isna().all(axis=None)
    e = km.predict([2.5, 3, 4, 10], extend=True)
    np.testing.assert_allclose(e["estimate"], [0.5, 0, 0, 0, 1, 1, 1, 2 / 3])
    np.testing.assert_array_equal(e["n_at_risk"], [1, 1, 0, 0, 4, 4, 4, 0])
    na = NelsonAalen().fit(df, by="g", **FRAME)
    assert na.predict([4])["estimate"].isna().tolist() == [True, False]
    assert not na.predict([4], extend=True)["estimate"].isna().any()
    with pytest.raises(TypeError, match="The 'extend' parameter of KaplanMeier.predict must be a bool"):
        km.predict([1], extend="yes")


# ====================================================================== min_at_risk
def test_min_at_risk_flags_rows_and_quantiles():
    df = pd.DataFrame({"tenure": np.arange(1, 21), "churned": np.ones(20, dtype=bool)})
    km = KaplanMeier(min_at_risk=10).fit(df, **FRAME)
    s = km.survival_
    np.testing.assert_array_equal(s["below_min_at_risk"], s["n_at_risk"] < 10)
    q = km.quantile([0.25, 0.5, 0.75])  # reached at 5, 10 and 15 with 16, 11 and 6 at risk
    assert q["estimate"].tolist() == [5.5, 10.5, 15.5] and q["below_min_at_risk"].tolist() == [False, False, True]
    assert not KaplanMeier(min_at_risk=None).fit(df, **FRAME).survival_["below_min_at_risk"].any()
    assert not KaplanMeier(min_at_risk=0).fit(df, **FRAME).quantile([0.75])["below_min_at_risk"].any()
    h = DiscreteHazard(min_at_risk=10).fit(df, **FRAME).hazard_
    np.testing.assert_array_equal(h["below_min_at_risk"], h["n_at_risk"] < 10)
    na = NelsonAalen(min_at_risk=5).fit(df, **FRAME).cumulative_hazard_
    np.testing.assert_array_equal(na["below_min_at_risk"], na["n_at_risk"] < 5)


@pytest.mark.parametrize("cls", [KaplanMeier, NelsonAalen, DiscreteHazard])
def test_min_at_risk_parameter_errors(cls):
    df = pd.DataFrame({"tenure": [1, 2], "churned": [1, 0]})
    with pytest.raises(ValueError, match=f"The 'min_at_risk' parameter of {cls.__name__} must be a non-negative "
                                         "number or None. Got -1 instead."):
        cls(min_at_risk=-1).fit(df, **FRAME)
    with pytest.raises(TypeError, match=f"'min_at_risk' parameter of {cls.__name__}"):
        cls(min_at_risk="10").fit(df, **FRAME)


# ====================================================================== RMST: common horizon and warnings
def _two_segments():
    rng = np.random.default_rng(5)
    a = np.ceil(rng.exponential(10, 200))
    b = np.ceil(rng.exponential(20, 20))
    return pd.DataFrame({"tenure": np.r_[np.minimum(a, 40), np.minimum(b, 25)], "churned": np.r_[a <= 40, b <= 25],
                         "g": ["a"] * 200 + ["b"] * 20})


def test_default_tau_is_common_and_stops_where_few_are_at_risk():
    km = KaplanMeier(min_at_risk=10).fit(_two_segments(), by="g", **FRAME)
    s = km.survival_
    first_low = s[(s["time"] > 0) & s["below_min_at_risk"]].groupby("g", observed=True)["time"].min()
    assert first_low.notna().all() and first_low["b"] < 25
    r = km.rmst()
    assert r["tau"].nunique() == 1 and r["tau"].iloc[0] == first_low.min()
    assert km.compare_rmst()["tau"].iloc[0] == r["tau"].iloc[0] == km.summary(times=())["tau"].iloc[0]
    off = KaplanMeier(min_at_risk=None).fit(_two_segments(), by="g", **FRAME)
    assert off.rmst()["tau"].iloc[0] == 25.0  # the smallest of the segments' last times (40 and 25)


def test_rmst_warns_when_tau_passes_a_segment():
    km = KaplanMeier(min_at_risk=10).fit(_two_segments(), by="g", **FRAME)
    with pytest.warns(StatisticalWarning, match=r"tau=30 passes the last observed time of g='b' \(last time 25\)"):
        km.rmst(30)
    b_low = km.survival_.query("g == 'b' and below_min_at_risk and time > 0")["time"].min()
    with pytest.warns(StatisticalWarning, match="fewer than 10 customers are at risk in g='b'") as rec:
        km.compare_rmst(tau=float(b_low) + 1)
    assert rec[0].filename == __file__  # stacklevel points at the caller
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        km.rmst()  # the default horizon needs no warning


def test_rmst_with_no_defection_warns_and_gives_a_bound():
    df = pd.DataFrame({"tenure": [5, 6, 8, 9, 10] * 4, "churned": [False, False, True, False, True] * 4,
                       "g": ["a"] * 10 + ["b"] * 10})
    df.loc[df["g"] == "b", "churned"] = False
    km = KaplanMeier(min_at_risk=None).fit(df, by="g", **FRAME)
    with pytest.warns(StatisticalWarning, match=r"no defection before tau=4 in g='a', g='b': the standard error is 0"):
        r = km.rmst(4)
    assert r["zero_events"].all() and (r["std_error"] == 0).all()
    np.testing.assert_allclose(r["ci_lower"], 4 * 0.05 ** (1 / 10))
    assert (r["ci_upper"] == 4).all()
    with pytest.warns(StatisticalWarning, match=r"in g='b': the standard error is 0"):
        r = restricted_mean(df, 9.5, "g", min_at_risk=None, **FRAME)
    assert r["zero_events"].tolist() == [False, True]
    with pytest.warns(StatisticalWarning, match="g='b': the standard error is 0"):
        km.compare_rmst(tau=9.5)


# ====================================================================== per-period exposure in bins
def _person_periods(entry, exit_, event):
    """Brute force: one row per customer and period k with entry < k <= exit (k = 0 for exit 0)."""
    rows = []
    for e, x, d in zip(entry, exit_, event, strict=True):
        ks = range(int(e) + 1, int(x) + 1) if x > 0 else [0]
        rows += [(k, d and k == x) for k in ks]
    return pd.DataFrame(rows, columns=["k", "event"])


def test_bin_exposure_counts_every_period_with_left_truncation():
    rng = np.random.default_rng(11)
    n = 80
    exit_ = rng.integers(1, 37, n).astype(float)
    entry = np.where(rng.random(n) < 0.4, np.floor(rng.uniform(0, 1, n) * exit_), 0.0)
    event = rng.random(n) < 0.6
    df = pd.DataFrame({"entry": entry, "tenure": exit_, "churned": event})
    pp = _person_periods(entry, exit_, event)
    rows_with_exits = set(exit_)
    assert len(set(range(1, 37)) - rows_with_exits) >= 3  # some months have no exit (no life-table row)
    for width in (3, 6, 12):
        h = DiscreteHazard(width=width, min_at_risk=None).fit(df, entry="entry", **FRAME).hazard_
        b = np.maximum(np.ceil(pp["k"] / width) - 1, 0)
        brute = pp.groupby(b).agg(exposure=("k", "size"), n_events=("event", "sum"))
        np.testing.assert_array_equal(h["exposure"], brute["exposure"].to_numpy(float))
        np.testing.assert_array_equal(h["n_events"], brute["n_events"].to_numpy(float))
        np.testing.assert_allclose(h["estimate"], brute["n_events"] / brute["exposure"])
        # the bin's n_at_risk is the number at risk in its first period
        first = pp[pp["k"].isin(brute.index.to_numpy() * width + 1)].groupby("k").size()
        np.testing.assert_array_equal(h["n_at_risk"], first.to_numpy(float))


def test_bin_exposure_includes_periods_without_exits():
    # exits only at 1 and 6: periods 2-5 have 3 customers at risk and no row; bin (0, 6] has 4 + 3 * 5 = 19
    df = pd.DataFrame({"tenure": [1, 6, 6, 6], "churned": [1, 1, 0, 0]})
    h = discrete_hazard(df, width=6, min_at_risk=None, **FRAME)
    assert h["exposure"].tolist() == [19.0]  # before the fix: 4 + 3 = 7
    assert h["estimate"].iloc[0] == pytest.approx(2 / 19)
    lo, hi = stats.binomtest(2, 19).proportion_ci(0.95, method="wilson")
    assert h["ci_lower"].iloc[0] == pytest.approx(lo) and h["ci_upper"].iloc[0] == pytest.approx(hi)


# ====================================================================== peaks and renewal contrasts
@pytest.fixture(scope="module")
def renewal_sim():
    simulate = pytest.importorskip("churnsurv.simulate")
    sim = simulate.simulate_churn(30_000, random_state=7)
    h = quiet(DiscreteHazard().fit, sim.data, by="segment", duration="exit", event="event", entry="entry")
    return sim, h


def test_peak_needs_events_and_reports_its_interval():
    df = pd.DataFrame({"tenure": [1] * 2 + [2] * 30 + [3] * 100, "churned": [1, 1] + [1] * 5 + [0] * 25 + [1] * 100})
    h = DiscreteHazard(min_at_risk=None).fit(df, **FRAME)
    # period 3 has h = 1 on 100 customers; period 1 has 2 / 132; period 2 has 5 / 130
    assert h.peak(min_events=3)["time"].iloc[0] == 3.0
    small = DiscreteHazard(min_at_risk=None).fit(df.iloc[:32], **FRAME)  # period 1: 2 events, period 2: 5 events
    pk = small.peak(min_events=3)
    assert pk["time"].iloc[0] == 2.0 and pk["n_candidates"].iloc[0] == 1
    assert pk["ci_lower"].iloc[0] < pk["estimate"].iloc[0] < pk["ci_upper"].iloc[0]
    assert np.isnan(small.peak(min_events=50)["estimate"].iloc[0])
    with pytest.raises(ValueError, match="The 'min_events' parameter of DiscreteHazard.peak"):
        small.peak(min_events=-1)


def test_contrast_counts_against_brute_force_and_exact_test():
    rng = np.random.default_rng(2)
    n = 3000
    t = np.minimum(rng.geometric(0.04, n), 30).astype(float)
    entry = np.where(rng.random(n) < 0.3, np.floor(rng.uniform(0, 1, n) * t), 0.0)
    df = pd.DataFrame({"entry": entry, "tenure": t, "churned": t < 30})
    est = DiscreteHazard().fit(df, entry="entry", **FRAME)
    c = est.contrast(periods=[12, 24], reference="neighbours", window=2)
    assert c.attrs["reference_periods"] == [10, 11, 13, 14, 22, 23, 25, 26]
    pp = _person_periods(entry, t, df["churned"].to_numpy())
    named, ref = pp[pp["k"].isin([12, 24])], pp[pp["k"].isin(c.attrs["reference_periods"])]
    assert c["n_events"].iloc[0] == named["event"].sum() and c["exposure"].iloc[0] == len(named)
    assert c["reference_n_events"].iloc[0] == ref["event"].sum() and c["reference_exposure"].iloc[0] == len(ref)
    d1, e1, d0, e0 = named["event"].sum(), len(named), ref["event"].sum(), len(ref)
    assert c["estimate"].iloc[0] == pytest.approx((d1 / e1) / (d0 / e0))
    assert c["p_value"].iloc[0] == pytest.approx(stats.binomtest(int(d1), int(d1 + d0), e1 / (e1 + e0)).pvalue)
    ci = stats.binomtest(int(d1), int(d1 + d0)).proportion_ci(0.95, method="exact")
    assert c["ci_lower"].iloc[0] == pytest.approx(ci.low / (1 - ci.low) * e0 / e1)
    assert c["ci_upper"].iloc[0] == pytest.approx(ci.high / (1 - ci.high) * e0 / e1)
    assert c["method"].iloc[0] == "exact" and c["ci_lower"].iloc[0] < 1 < c["ci_upper"].iloc[0]  # no renewal here
    given = est.contrast(periods=12, reference=[6, 7, 8])
    assert given.attrs["reference_periods"] == [6, 7, 8]
    with pytest.raises(ValueError, match="The 'reference' parameter of DiscreteHazard.contrast"):
        est.contrast(periods=12, reference=[11, 12])
    with pytest.raises(ValueError, match="The 'periods' parameter of DiscreteHazard.contrast"):
        est.contrast(periods=[0])


def test_contrast_detects_the_simulated_renewal_spike(renewal_sim):
    sim, h = renewal_sim
    c = h.contrast(periods=[12, 24]).set_index(h.contrast(periods=[12, 24])["segment"].astype(str))
    assert c.loc["One year", "ci_lower"] > 2 and c.loc["One year", "p_value"] < 1e-10
    truth = sim.truth.discrete_hazard(12.0, segment="One year")
    assert c.loc["One year", "rate"] > truth / 3  # the pooled rate of months 12 and 24 carries the spike
    pk = h.peak(min_events=10).set_index("segment")
    assert pk.loc["One year", "time"] % 12 == 0  # a renewal month (the simulation has spikes at 12, 24, ...)


def test_contrast_without_exposure_is_nan_not_an_error():
    # a young file: nobody reaches the renewal month, or no defection around it
    import pandas as pd

    from churnsurv import DiscreteHazard

    df = pd.DataFrame({"tenure": [1, 2, 2, 3, 5, 8, 1, 4, 6, 6, 9, 12], "churned": [1, 1, 0, 1, 0, 1, 0, 1, 1, 0, 0, 1],
                       "plan": ["a"] * 6 + ["b"] * 6})
    raw = DiscreteHazard().fit(df, by="plan", duration="tenure", event="churned")
    out = raw.contrast(periods=[12], reference="neighbours", window=2)
    row = out.set_index("plan").loc["a"]
    assert row["method"] == "no exposure" and np.isnan(row["estimate"]) and np.isnan(row["p_value"])
    b = out.set_index("plan").loc["b"]  # month 12 has exposure in b, no defection around it: infinite ratio
    assert b["method"] == "exact" and (np.isinf(b["estimate"]) or np.isnan(b["estimate"]))
