"""Tests for churnsurv.simulate: seeded draws agree with the truth they report.

The empirical estimates (Kaplan-Meier with left truncation, empirical cumulative
incidence, monthly life-table hazards) are computed here from counts with NumPy,
independently of the estimators in the package; agreement is judged against
4 standard errors (Greenwood or binomial). No R reference is involved: the
reference is the closed-form truth.
"""

import numpy as np
import pandas as pd
import pytest
from scipy import integrate

from churnsurv.simulate import (
    DAYS_PER_MONTH,
    ChurnScenario,
    ChurnTruth,
    Hazard,
    default_scenario,
    simulate_churn,
    simulate_fine_gray,
)

N = 200_000
TIMES = np.array([1, 3, 6, 11, 12, 13, 24, 36, 60])
SEGMENTS = default_scenario().segments
CAUSES = default_scenario().causes


# --------------------------------------------------------------------------- helpers


def kaplan_meier(entry, exit_, event, times):
    """Product-limit estimate and Greenwood SE at ``times``; risk set entry < t <= exit."""
    entry, exit_, event = (np.asarray(a) for a in (entry, exit_, event))
    ev_times, d = np.unique(exit_[event], return_counts=True)
    exits, entries = np.sort(exit_), np.sort(entry)
    n_exit_ge = exits.size - np.searchsorted(exits, ev_times, side="left")
    n_entry_ge = entries.size - np.searchsorted(entries, ev_times, side="left")
    at_risk = (n_exit_ge - n_entry_ge).astype(float)
    log_s = np.cumsum(np.log1p(-d / at_risk))
    gw = np.cumsum(d / (at_risk * (at_risk - d)))
    j = np.searchsorted(ev_times, times, side="right") - 1
    s = np.where(j >= 0, np.exp(log_s[np.maximum(j, 0)]), 1.0)
    var = np.where(j >= 0, gw[np.maximum(j, 0)], 0.0)
    return s, s * np.sqrt(var)


def assert_within(estimate, se, truth, n_se=4.0):
    estimate, se, truth = np.broadcast_arrays(estimate, se, truth)
    z = np.abs(estimate - truth) / np.maximum(se, 1e-12)
    assert np.all(z < n_se), f"z-scores {np.round(z, 2)}; estimate {estimate}, truth {truth}"


@pytest.fixture(scope="module")
def sim():
    return simulate_churn(n_customers=N, random_state=0)


@pytest.fixture(scope="module")
def sim_uncensored():
    return simulate_churn(n_customers=N, random_state=1, censoring=False)


@pytest.fixture(scope="module")
def sim_snapshot():
    return simulate_churn(n_customers=N, random_state=2, snapshot_period=12)


# --------------------------------------------------------------------------- reproducibility and contract


def test_same_seed_gives_identical_frames_and_different_seeds_differ():
    a = simulate_churn(n_customers=2000, random_state=7).data
    b = simulate_churn(n_customers=2000, random_state=7).data
    c = simulate_churn(n_customers=2000, random_state=8).data
    pd.testing.assert_frame_equal(a, b)
    assert not a.equals(c)
    assert not np.array_equal(a["exit"].to_numpy(), c["exit"].to_numpy())
    d = simulate_churn(n_customers=2000, random_state=np.random.default_rng(7)).data
    pd.testing.assert_frame_equal(a, d)


def test_data_contract(sim):
    d = sim.data
    assert list(d.columns) == [
        "customer_id", "segment", "signup_date", "entry", "exit", "event", "cause", "monthly_margin",
    ]
    assert len(d) == N and sim.n_dropped == 0 and sim.n_simulated == N and sim.time_unit == "month"
    assert d["customer_id"].is_unique
    assert d["event"].dtype == bool
    assert d["entry"].dtype == d["exit"].dtype == np.float64
    assert np.issubdtype(d["signup_date"].dtype, np.datetime64)
    assert list(d["segment"].cat.categories) == list(SEGMENTS)
    assert list(d["cause"].cat.categories) == list(CAUSES)
    assert (d["entry"] == 0).all()
    # discrete: whole months, censored at the completed months of follow-up
    assert (d["exit"] == np.floor(d["exit"])).all()
    follow_up = np.floor((sim.as_of - d["signup_date"]).dt.days / DAYS_PER_MONTH)
    assert (d["exit"] <= follow_up).all()
    assert (d.loc[~d["event"], "exit"] == follow_up[~d["event"]]).all()
    assert d["cause"].isna().eq(~d["event"]).all()
    assert d["signup_date"].max() < sim.as_of
    assert d["signup_date"].min() >= sim.as_of - pd.Timedelta(days=round(72 * DAYS_PER_MONTH))
    assert 0.3 < d["event"].mean() < 0.8
    shares = d["segment"].value_counts(normalize=True)
    for seg, share in sim.scenario.shares.items():
        assert abs(shares[seg] - share) < 4 * np.sqrt(share * (1 - share) / N)
    margin = d.groupby("segment", observed=True)["monthly_margin"].mean()
    for seg, mean in sim.scenario.margin_mean.items():
        assert abs(margin[seg] / mean - 1) < 0.01
    assert (d["monthly_margin"] > 0).all()


def test_continuous_output():
    res = simulate_churn(n_customers=5000, discrete=False, random_state=3)
    d = res.data
    follow_up = (res.as_of - d["signup_date"]).dt.days / DAYS_PER_MONTH
    assert not (d["exit"] == np.floor(d["exit"])).all()
    np.testing.assert_allclose(d.loc[~d["event"], "exit"], follow_up[~d["event"]], rtol=1e-12)
    assert (d.loc[d["event"], "exit"] <= follow_up[d["event"]]).all()


# --------------------------------------------------------------------------- empirical vs truth


def test_kaplan_meier_matches_truth_overall_and_by_segment(sim):
    d = sim.data
    s, se = kaplan_meier(d["entry"], d["exit"], d["event"], TIMES)
    assert_within(s, se, sim.truth.survival(TIMES))
    for seg in SEGMENTS:
        x = d[d["segment"] == seg]
        s, se = kaplan_meier(x["entry"], x["exit"], x["event"], TIMES)
        assert_within(s, se, sim.truth.survival(TIMES, segment=seg))


def test_kaplan_meier_matches_truth_continuous_times():
    res = simulate_churn(n_customers=100_000, discrete=False, random_state=4)
    d = res.data
    times = np.array([0.5, 2.5, 11.7, 12.2, 30.0])
    s, se = kaplan_meier(d["entry"], d["exit"], d["event"], times)
    assert_within(s, se, res.truth.survival(times))


def test_comparison_has_power_against_a_wrong_truth(sim):
    # the check above must be able to fail: One-year data vs the Month-to-month truth
    x = sim.data[sim.data["segment"] == "One year"]
    s, se = kaplan_meier(x["entry"], x["exit"], x["event"], TIMES)
    z = np.abs(s - sim.truth.survival(TIMES, segment="Month-to-month")) / se
    assert np.all(z[1:] > 20)


def test_empirical_survival_and_cif_without_censoring(sim_uncensored):
    d, truth = sim_uncensored.data, sim_uncensored.truth
    assert d["event"].all() and d["cause"].notna().all()
    times = np.array([1, 6, 12, 24, 48])
    for seg in (None, *SEGMENTS):
        x = d if seg is None else d[d["segment"] == seg]
        n = len(x)
        exit_ = x["exit"].to_numpy()
        emp = (exit_[:, None] > times).mean(axis=0)
        true = truth.survival(times, segment=seg)
        assert_within(emp, np.sqrt(true * (1 - true) / n), true)
        for cause in ("competitor", "service"):
            is_c = (x["cause"] == cause).to_numpy()
            emp = ((exit_[:, None] <= times) & is_c[:, None]).mean(axis=0)
            true = truth.cumulative_incidence(times, cause, segment=seg)
            assert_within(emp, np.sqrt(true * (1 - true) / n), true)


def test_renewal_spike_in_monthly_hazard(sim):
    x = sim.data[sim.data["segment"] == "One year"]
    exit_, event = x["exit"].to_numpy().astype(int), x["event"].to_numpy()
    months = np.array([11, 12, 13, 23, 24, 25])
    at_risk = np.array([(exit_ >= k).sum() for k in months])
    deaths = np.array([((exit_ == k) & event).sum() for k in months])
    h = deaths / at_risk
    assert h[1] > 2.5 * h[0] and h[1] > 2.5 * h[2]
    assert h[4] > 2.5 * h[3] and h[4] > 2.5 * h[5]
    true = sim.truth.discrete_hazard(months, segment="One year")
    assert_within(h, np.sqrt(true * (1 - true) / at_risk), true)


def test_snapshot_sampling_left_truncation(sim_snapshot):
    res = sim_snapshot
    d = res.data
    follow_up = np.floor((res.as_of - d["signup_date"]).dt.days / DAYS_PER_MONTH)
    np.testing.assert_array_equal(d["entry"], np.maximum(follow_up - 12, 0))
    assert (d["exit"] >= d["entry"]).all()
    assert (d.loc[d["entry"] > 0, "exit"] > d.loc[d["entry"] > 0, "entry"]).all()
    assert res.n_dropped > 0 and res.n_dropped + len(d) == N == res.n_simulated
    # snapshot rows are a filter of the full cohort drawn with the same seed
    full = simulate_churn(n_customers=N, random_state=2).data.set_index("customer_id")
    kept = full.loc[d["customer_id"]]
    np.testing.assert_array_equal(kept["exit"], d["exit"])
    np.testing.assert_array_equal(kept["event"], d["event"])
    assert len(full) - len(d) == res.n_dropped
    dropped = full.drop(index=d["customer_id"])
    dropped_fu = np.floor((res.as_of - dropped["signup_date"]).dt.days / DAYS_PER_MONTH)
    assert (dropped["event"] & (dropped["exit"] <= dropped_fu - 12)).all()
    # the left-truncated product-limit estimate still matches the truth
    s, se = kaplan_meier(d["entry"], d["exit"], d["event"], TIMES)
    assert_within(s, se, res.truth.survival(TIMES))
    x = d[d["segment"] == "Two year"]
    s, se = kaplan_meier(x["entry"], x["exit"], x["event"], TIMES)
    assert_within(s, se, res.truth.survival(TIMES, segment="Two year"))
    # ignoring the truncation is visibly biased upwards: the check can fail
    s_naive, se_naive = kaplan_meier(np.zeros(len(d)), d["exit"], d["event"], TIMES)
    assert np.any((s_naive - res.truth.survival(TIMES)) / se_naive > 10)


def test_snapshot_continuous_entries():
    res = simulate_churn(n_customers=20_000, discrete=False, snapshot_period=6.5, random_state=5)
    d = res.data
    follow_up = (res.as_of - d["signup_date"]).dt.days / DAYS_PER_MONTH
    np.testing.assert_allclose(d["entry"], np.maximum(follow_up - 6.5, 0), rtol=1e-12)
    assert (d["exit"] > d["entry"]).all()


# --------------------------------------------------------------------------- truth internals


@pytest.fixture(scope="module")
def truth():
    return ChurnTruth(default_scenario())


def test_survival_plus_cif_is_one(truth):
    t = np.concatenate([[0.0], np.linspace(0.01, 150, 400), [12.0, 24.0, 1e4]])
    for seg, tol in (("Two year", 1e-12), ("One year", 1e-10), ("Month-to-month", 1e-10), ("Prepaid", 1e-10),
                     (None, 1e-10)):
        total = truth.survival(t, segment=seg) + sum(
            truth.cumulative_incidence(t, c, segment=seg) for c in CAUSES
        )
        np.testing.assert_allclose(total, 1.0, rtol=0, atol=tol)


def test_truth_properties(truth):
    t = np.linspace(0, 200, 801)
    for seg in (None, *SEGMENTS):
        s = truth.survival(t, segment=seg)
        assert s[0] == 1.0 and np.all(np.diff(s) <= 0) and np.all(s > 0)
        for c in CAUSES:
            f = truth.cumulative_incidence(t, c, segment=seg)
            assert f[0] == 0.0 and np.all(np.diff(f) >= -1e-15)
        h_by_cause = sum(truth.cumulative_hazard(t, segment=seg, cause=c) for c in CAUSES)
        np.testing.assert_allclose(h_by_cause, truth.cumulative_hazard(t, segment=seg), rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(np.exp(-truth.cumulative_hazard(t, segment=seg)), s, rtol=1e-12)
    assert np.isscalar(truth.survival(3.0)) or np.ndim(truth.survival(3.0)) == 0
    assert truth.survival(np.ones((2, 3))).shape == (2, 3)


def test_population_is_the_share_weighted_mixture(truth):
    t = np.array([0.5, 5.0, 12.0, 40.0])
    shares = truth.shares
    mix_s = sum(shares[s] * truth.survival(t, segment=s) for s in SEGMENTS)
    np.testing.assert_allclose(truth.survival(t), mix_s, rtol=1e-13)
    mix_f = sum(shares[s] * truth.cumulative_incidence(t, "price", segment=s) for s in SEGMENTS)
    np.testing.assert_allclose(truth.cumulative_incidence(t, "price"), mix_f, rtol=1e-13)
    mix_r = sum(shares[s] * truth.restricted_mean(t, segment=s) for s in SEGMENTS)
    np.testing.assert_allclose(truth.restricted_mean(t), mix_r, rtol=1e-13)
    # population hazard = -d log S / dt (survivor weighted), checked by central differences
    eps = 1e-5
    t2 = np.array([0.5, 5.0, 11.5, 40.0])
    num = -(np.log(truth.survival(t2 + eps)) - np.log(truth.survival(t2 - eps))) / (2 * eps)
    np.testing.assert_allclose(truth.hazard(t2), num, rtol=1e-6)


def test_cif_and_rmst_against_scipy_quad(truth):
    sc = default_scenario()
    for seg in ("Two year", "Month-to-month", "One year"):
        for c in ("competitor", "product"):
            hk = sc.hazards[seg][c]
            for tau in (5.0, 12.5, 30.0):
                pts = [p for p in range(1, int(tau) + 1)]
                ref, _ = integrate.quad(
                    lambda u, seg=seg, hk=hk: truth.survival(u, segment=seg) * hk.hazard(u), 0, tau, points=pts,
                    limit=200,
                    epsabs=1e-13, epsrel=1e-12,
                )
                np.testing.assert_allclose(truth.cumulative_incidence(tau, c, segment=seg), ref, rtol=1e-8)
        ref, _ = integrate.quad(lambda u, seg=seg: truth.survival(u, segment=seg), 0, 30.0, points=list(range(1, 31)),
                                limit=200)
        np.testing.assert_allclose(truth.restricted_mean(30.0, segment=seg), ref, rtol=1e-9)


def test_closed_forms_of_simple_scenarios():
    # two Weibull causes with a common shape: F_k = w_k / sum(w) * (1 - S), quadrature path
    sc = ChurnScenario({"A": {"x": Hazard.weibull(1.5, 10.0), "y": Hazard.weibull(1.5, 20.0)}}, {"A": 1.0})
    tr = ChurnTruth(sc)
    t = np.array([0.1, 1.0, 5.0, 10.0, 40.0])
    w = np.array([10.0**-1.5, 20.0**-1.5])
    s = np.exp(-((t / 10) ** 1.5) - (t / 20) ** 1.5)
    np.testing.assert_allclose(tr.survival(t), s, rtol=1e-14)
    np.testing.assert_allclose(tr.cumulative_incidence(t, "x"), w[0] / w.sum() * (1 - s), rtol=1e-11)
    # exponential: RMST and the discrete hazard in closed form
    sc = ChurnScenario({"A": {"x": Hazard.exponential(0.05)}}, {"A": 1.0})
    tr = ChurnTruth(sc)
    np.testing.assert_allclose(tr.restricted_mean([12.0, 1e9]), [(1 - np.exp(-0.6)) / 0.05, 20.0], rtol=1e-13)
    np.testing.assert_allclose(tr.discrete_hazard([1.0, 7.0]), 1 - np.exp(-0.05), rtol=1e-13)


def test_hazard_specs():
    h = Hazard.piecewise([0.02, 0.01], breaks=[6]).renewal_spike([12, 24], 4.0)
    np.testing.assert_allclose(h.hazard([0.5, 6.0, 6.5, 11.0, 11.5, 12.0, 12.5, 24.0]),
                               [0.02, 0.02, 0.01, 0.01, 0.04, 0.04, 0.01, 0.04])
    np.testing.assert_allclose(h.cumulative_hazard([6.0, 12.0, 30.0]), [0.12, 0.12 + 0.05 + 0.04,
                                                                         0.12 + 0.05 + 0.04 + 0.11 + 0.04 + 0.06])
    w = Hazard.weibull(0.7, 50.0).renewal_spike(12, 3.0)
    t = np.array([5.0, 11.5, 12.0, 20.0])
    base = (t / 50.0) ** 0.7
    spike = 2.0 * ((np.clip(t, 11, 12) / 50.0) ** 0.7 - (11 / 50.0) ** 0.7)
    np.testing.assert_allclose(w.cumulative_hazard(t), base + spike, rtol=1e-14)
    assert Hazard.piecewise([0.1, 0.2, 0.3]).breaks == (1.0, 2.0)


def test_sampling_inverts_the_cumulative_hazard_exactly(truth):
    rng = np.random.default_rng(0)
    e, u = rng.standard_exponential(10_000), rng.random(10_000)
    for seg in SEGMENTS:
        model = truth._models[seg]
        t, cause = model.sample(e, u)
        np.testing.assert_allclose(model.H(t), e, rtol=1e-11)
        assert cause.min() >= 0 and cause.max() < len(CAUSES)


# --------------------------------------------------------------------------- Fine & Gray design


def test_fine_gray_design_matches_formula():
    res = simulate_fine_gray(200_000, p=0.3, beta1=0.5, beta2=-0.5, random_state=0)
    d = res.data
    assert list(d.columns) == ["time", "event", "z"]
    assert set(d["event"].unique()) == {1, 2} and set(d["z"].unique()) == {0.0, 1.0}
    times = np.array([0.1, 0.5, 1.0, 2.0, 5.0])
    for z in (0.0, 1.0):
        x = d[d["z"] == z]
        for cause in (1, 2):
            emp = ((x["time"].to_numpy()[:, None] <= times) & (x["event"].to_numpy() == cause)[:, None]).mean(0)
            true = res.truth.cumulative_incidence(times, z=z, cause=cause)
            assert_within(emp, np.sqrt(true * (1 - true) / len(x)), true)
        a = np.exp(0.5 * z)
        np.testing.assert_allclose(res.truth.cumulative_incidence(np.inf, z=z), 1 - 0.7**a, rtol=1e-14)
    # the subdistribution hazard is -d log(1 - F1)/dt and proportional in z with ratio exp(beta1)
    eps, t = 1e-6, np.array([0.2, 1.0, 3.0])
    f = lambda s: np.log1p(-res.truth.cumulative_incidence(s, z=1.0))  # noqa: E731
    np.testing.assert_allclose(res.truth.subdistribution_hazard(t, z=1.0), -(f(t + eps) - f(t - eps)) / (2 * eps),
                               rtol=1e-6)
    ratio = res.truth.subdistribution_hazard(t, z=1.0) / res.truth.subdistribution_hazard(t, z=0.0)
    np.testing.assert_allclose(ratio, np.exp(0.5), rtol=1e-13)


def test_fine_gray_censoring_and_given_covariates():
    z = np.random.default_rng(1).normal(size=(3000, 2))
    res = simulate_fine_gray(z=z, beta1=[0.5, -0.3], beta2=[0.2, 0.1], censoring=2.0, random_state=1)
    d = res.data
    assert list(d.columns) == ["time", "event", "z1", "z2"]
    assert set(d["event"].unique()) == {0, 1, 2}
    assert (d["time"] <= 2.0).all() and (d["time"] > 0).all()
    np.testing.assert_array_equal(d[["z1", "z2"]].to_numpy(), z)
    f = res.truth.cumulative_incidence(1.0, z=z[:5])
    assert f.shape == (5,)
    a = simulate_fine_gray(500, random_state=3).data
    pd.testing.assert_frame_equal(a, simulate_fine_gray(500, random_state=3).data)


# --------------------------------------------------------------------------- parameter errors


@pytest.mark.parametrize(
    ("kwargs", "exc", "match"),
    [
        ({"n_customers": -3}, ValueError,
         r"^The 'n_customers' parameter of simulate_churn must be a positive int\. Got -3 instead\.$"),
        ({"n_customers": 3.0}, TypeError,
         r"'n_customers' parameter of simulate_churn must be a positive int\. Got 3\.0"),
        ({"n_customers": True}, TypeError, r"'n_customers' parameter of simulate_churn"),
        ({"random_state": "seed"}, TypeError, r"'random_state' parameter of simulate_churn"),
        ({"signup_months": 0}, ValueError, r"'signup_months' parameter of simulate_churn must be a positive float"),
        ({"snapshot_period": 1.5}, ValueError,
         r"'snapshot_period' parameter of simulate_churn must be a positive whole"),
        ({"snapshot_period": 6, "censoring": False}, ValueError, r"'snapshot_period' parameter .* None when censoring"),
        ({"discrete": 1}, TypeError, r"'discrete' parameter of simulate_churn must be a bool\. Got 1 instead\."),
        ({"as_of": "not a date"}, ValueError, r"'as_of' parameter of simulate_churn must be a date"),
        ({"scenario": {"A": 1}}, TypeError, r"'scenario' parameter of simulate_churn must be a ChurnScenario"),
    ],
)
def test_simulate_churn_parameter_errors(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        simulate_churn(**{"n_customers": 10, **kwargs})


def test_spec_and_truth_parameter_errors(truth):
    with pytest.raises(ValueError, match=r"^The 'shape' parameter of Hazard\.weibull must be a positive float\. "
                                         r"Got -1 instead\.$"):
        Hazard.weibull(-1, 10)
    with pytest.raises(ValueError, match=r"'breaks' parameter of Hazard\.piecewise must be a strictly increasing"):
        Hazard.piecewise([0.1, 0.2], breaks=[3, 4])
    with pytest.raises(ValueError, match=r"'rates' parameter of Hazard\.piecewise"):
        Hazard.piecewise([-0.1])
    with pytest.raises(ValueError, match=r"'multiplier' parameter of Hazard\.renewal_spike"):
        Hazard.exponential(0.1).renewal_spike([12], -2)
    with pytest.raises(ValueError, match=r"'shares' parameter of ChurnScenario must be a mapping"):
        ChurnScenario({"A": {"x": Hazard.exponential(0.1)}, "B": {"x": Hazard.exponential(0.1)}},
                      {"A": 0.5, "B": 0.6})
    with pytest.raises(TypeError, match=r"'hazards' parameter of ChurnScenario"):
        ChurnScenario({"A": {"x": 0.1}}, {"A": 1.0})
    with pytest.raises(ValueError, match=r"'segment' parameter of ChurnTruth\.survival must be one of"):
        truth.survival(1.0, segment="Gold")
    with pytest.raises(ValueError, match=r"'cause' parameter of ChurnTruth\.cumulative_incidence must be one of"):
        truth.cumulative_incidence(1.0, cause=None)
    with pytest.raises(ValueError, match=r"'t' parameter of ChurnTruth\.hazard must be an array-like of non-negative"):
        truth.hazard([-1.0, 2.0])
    with pytest.raises(ValueError, match=r"^The 'p' parameter of simulate_fine_gray must be a float in \(0, 1\)\. "
                                         r"Got 1\.5 instead\.$"):
        simulate_fine_gray(10, p=1.5)
    with pytest.raises(ValueError, match=r"'beta1' parameter of simulate_fine_gray"):
        simulate_fine_gray(z=np.zeros((5, 2)), beta1=0.5)
    with pytest.raises(ValueError, match=r"'n' parameter of simulate_fine_gray"):
        simulate_fine_gray(4, z=np.zeros(5))


def test_censoring_false_rejects_a_cured_fraction():
    sc = ChurnScenario({"A": {"x": Hazard.piecewise([0.1, 0.0], breaks=[3])}}, {"A": 1.0})
    with pytest.raises(ValueError, match=r"never defect"):
        simulate_churn(1000, scenario=sc, censoring=False, random_state=0)
    res = simulate_churn(1000, scenario=sc, random_state=0)
    assert (res.data.loc[res.data["event"], "exit"] <= 3).all()
