"""Adjusted curves per arm (churnsurv.effects.adjusted).

* ``riskRegression::ate`` (g-formula, IPTW with IPCW, AIPTW and its influence-function standard error, survival and
  cause-specific competing risks): ``tests/reference/make_reference_effects_ate.R`` writes
  ``tests/reference/fixtures/effects_ate_{data,survival,competing}.csv``;
* Hernan & Robins, *Causal Inference: What If*, chapter 17 (NHEFS, programs 17.1-17.3);
* identities of the weighted Kaplan-Meier / Aalen-Johansen; a simulation with a known effect.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from churnsurv import AalenJohansen, KaplanMeier
from churnsurv.effects.adjusted import AdjustedSurvival, _Data, _weighted_curves, adjusted_survival
from churnsurv.exceptions import TenureDataError

FIXTURES = Path(__file__).resolve().parents[1] / "reference" / "fixtures"
TIMES = [2, 5, 10, 20]
R_NAMES = {"gformula": "gformula", "iptw_ipcw": "ipcw", "aipw": "aipw"}


@pytest.fixture(scope="module")
def ate_data():
    d = pd.read_csv(FIXTURES / "effects_ate_data.csv")
    d["churned"] = d["status"] > 0
    d["cause"] = d["status"].map({1: "price", 2: "service"})
    return d


# ------------------------------------------------------------------------------------------ riskRegression
@pytest.mark.parametrize("method", ["gformula", "iptw_ipcw", "aipw"])
def test_survival_matches_riskregression_ate(ate_data, method):
    # R: ate(coxph(Surv(time, ev) ~ A + X1 + X2), glm(A ~ X1 + X2, binomial),
    #        coxph(Surv(time, status == 0) ~ strata(A)), times = c(2, 5, 10, 20), estimator = ...)
    ref = pd.read_csv(FIXTURES / "effects_ate_survival.csv")
    ref = ref[ref["estimator"] == R_NAMES[method]]
    fit = AdjustedSurvival(method=method).fit(ate_data, treatment="A", covariates=["X1", "X2"], duration="time",
                                              event="churned", times=TIMES)
    got = fit.curves_.sort_values(["arm", "time"])
    np.testing.assert_allclose(1 - got["estimate"].to_numpy(), ref["risk"].to_numpy(), atol=1e-8)
    if method == "aipw":  # known.nuisance = TRUE
        np.testing.assert_allclose(got["std_error"].to_numpy(), ref["se"].to_numpy(), atol=1e-8)
        assert fit.interval_ == "influence"


@pytest.mark.parametrize("method", ["gformula", "iptw_ipcw", "aipw"])
def test_competing_risks_match_riskregression_ate(ate_data, method):
    # R: ate(CSC(Hist(time, status) ~ A + X1 + X2), ..., cause = 1, product.limit = FALSE)
    ref = pd.read_csv(FIXTURES / "effects_ate_competing.csv")
    ref = ref[ref["estimator"] == R_NAMES[method]]
    fit = AdjustedSurvival(method=method).fit(ate_data, treatment="A", covariates=["X1", "X2"], duration="time",
                                              event="churned", cause="cause", times=TIMES)
    got = fit.curves_[fit.curves_["cause"] == "price"].sort_values(["arm", "time"])
    np.testing.assert_allclose(got["estimate"].to_numpy(), ref["risk"].to_numpy(), atol=1e-8)
    if method == "aipw":
        np.testing.assert_allclose(got["std_error"].to_numpy(), ref["se"].to_numpy(), atol=1e-8)
    assert fit.causes_ == ["price", "service"]


def test_influence_interval_of_the_difference(ate_data):
    fit = AdjustedSurvival(method="aipw").fit(ate_data, treatment="A", covariates=["X1", "X2"], duration="time",
                                              event="churned", times=TIMES)
    diff = fit.difference()
    curves = fit.curves_.set_index(["arm", "time"])["estimate"]
    np.testing.assert_allclose(diff["estimate"], curves.loc[1].to_numpy() - curves.loc[0].to_numpy())
    assert (diff["std_error"] > 0).all() and (diff["ci_lower"] < diff["estimate"]).all()
    assert list(diff.columns) == ["arm", "reference", "time", "estimate", "std_error", "ci_lower", "ci_upper"]


# ------------------------------------------------------------------------------------------ identities
def _arrays(d, cause_mode=False):
    status = d["status"].to_numpy() if cause_mode else (d["status"] > 0).astype(int).to_numpy()
    return _Data(d["time"].to_numpy(float), status, d["A"].to_numpy(), np.zeros((len(d), 0)), 2,
                 2 if cause_mode else 1)


def test_equal_weights_give_kaplan_meier_and_rescaling_changes_nothing(ate_data):
    d = _arrays(ate_data)
    grid = np.array([0.5, 2, 5, 10, 20])
    ones = _weighted_curves(d, np.ones(d.n), grid, False)
    km = KaplanMeier().fit(ate_data, duration="time", event="churned", by="A").predict(grid)
    for a in (0, 1):
        np.testing.assert_allclose(ones[a, 0], km.loc[km["A"].astype(str) == str(a), "estimate"].to_numpy(), atol=1e-12)
    w = np.random.default_rng(0).uniform(0.2, 5, d.n)
    np.testing.assert_allclose(_weighted_curves(d, w, grid, False), _weighted_curves(d, 7.3 * w, grid, False),
                               atol=1e-12)


def test_equal_weights_give_aalen_johansen(ate_data):
    d = _arrays(ate_data, cause_mode=True)
    grid = np.array([2.0, 5, 10, 20])
    ones = _weighted_curves(d, np.ones(d.n), grid, True)
    aj = AalenJohansen().fit(ate_data, duration="time", event="churned", cause="cause", by="A").predict(grid)
    for a in (0, 1):
        for c, lab in enumerate(["price", "service"]):
            ref = aj[(aj["A"].astype(str) == str(a)) & (aj["cause"].astype(str) == lab)]["estimate"].to_numpy()
            np.testing.assert_allclose(ones[a, c], ref, atol=1e-12)


def test_weighted_km_is_invariant_to_stabilisation(ate_data):
    kw = dict(treatment="A", covariates=["X1", "X2"], duration="time", event="churned", times=TIMES)
    a = AdjustedSurvival(method="iptw", stabilized=True).fit(ate_data, **kw).curves_
    b = AdjustedSurvival(method="iptw", stabilized=False).fit(ate_data, **kw).curves_
    np.testing.assert_allclose(a["estimate"], b["estimate"], atol=1e-12)


# ------------------------------------------------------------------------------------------ NHEFS, chapter 17
@pytest.fixture(scope="module")
def nhefs():
    pytest.importorskip("causaldata")
    from churnsurv.data.nhefs import load_nhefs

    return load_nhefs()


def test_nhefs_chapter_17(nhefs):
    from churnsurv.data.nhefs import NHEFS_CONFOUNDERS

    kw = dict(treatment="qsmk", duration="survtime", event="death", times=[120])
    # unadjusted (nonparametric) 120-month survival: 82.0% non-quitters, 76.2% quitters
    km = KaplanMeier().fit(nhefs, duration="survtime", event="death", by="qsmk").predict([120])
    np.testing.assert_allclose(km["estimate"], [0.820, 0.762], atol=1e-3)
    # program 17.2: IP-weighted pooled logistic hazards (stabilised weights): 80.5% / 80.7%
    ipw = AdjustedSurvival(method="iptw_msm").fit(nhefs, covariates=NHEFS_CONFOUNDERS, **kw).curves_
    np.testing.assert_allclose(ipw["estimate"], [0.805, 0.807], atol=1e-3)
    # program 17.3: g-formula from the pooled logistic model with covariates: 80.6% / 80.4%
    g = AdjustedSurvival(method="gformula", outcome_model="logistic").fit(
        nhefs, covariates=[*NHEFS_CONFOUNDERS, "smkintensity82_71"], **kw).curves_
    np.testing.assert_allclose(g["estimate"], [0.806, 0.804], atol=1e-3)


# ------------------------------------------------------------------------------------------ known effect
def _simulate(n, seed):
    """Confounded offer: customers with high x1 (riskier) get the offer more; the offer cuts the hazard."""
    rng = np.random.default_rng(seed)
    x1, x2 = rng.normal(size=n), rng.binomial(1, 0.5, n)
    offer = rng.binomial(1, 1 / (1 + np.exp(-(-0.2 + 1.0 * x1 + 0.5 * x2))))
    t = rng.exponential(1 / (0.08 * np.exp(0.6 * x1 + 0.5 * x2 - 0.5 * offer)))
    c = np.minimum(rng.exponential(1 / 0.02, n), 24)
    return pd.DataFrame({"x1": x1, "x2": x2, "offer": offer, "tenure": np.minimum(t, c), "churned": t <= c})


def _truth(t=12.0):
    rng = np.random.default_rng(123)
    x1, x2 = rng.normal(size=400_000), rng.binomial(1, 0.5, 400_000)
    return np.array([np.mean(np.exp(-0.08 * np.exp(0.6 * x1 + 0.5 * x2 - 0.5 * a) * t)) for a in (0, 1)])


@pytest.fixture(scope="module")
def known():
    return _simulate(3000, 1), _truth()


def test_naive_is_biased_and_adjusted_recover_the_truth(known):
    d, truth = known
    effect = truth[1] - truth[0]  # about 0.153
    naive = KaplanMeier().fit(d, duration="tenure", event="churned", by="offer").predict([12])["estimate"]
    assert abs((naive.iloc[1] - naive.iloc[0]) - effect) > 0.1
    kw = dict(treatment="offer", covariates=["x1", "x2"], duration="tenure", event="churned", times=[12])
    for method in ("iptw", "gformula", "aipw"):
        est = AdjustedSurvival(method=method).fit(d, **kw).curves_["estimate"].to_numpy()
        assert np.abs(est - truth).max() < 0.02, method
        assert abs((est[1] - est[0]) - effect) < 0.02, method


def test_aipw_survives_one_misspecified_model(known):
    d, truth = known
    kw = dict(treatment="offer", duration="tenure", event="churned", times=[12])
    # outcome model without x1: g-formula biased, AIPW fine
    g = AdjustedSurvival(method="gformula").fit(d, covariates=["x1", "x2"], outcome_covariates=["x2"], **kw)
    a = AdjustedSurvival(method="aipw").fit(d, covariates=["x1", "x2"], outcome_covariates=["x2"], **kw)
    assert np.abs(g.curves_["estimate"].to_numpy() - truth).max() > 0.05
    assert np.abs(a.curves_["estimate"].to_numpy() - truth).max() < 0.02
    # propensity model without x1: IPTW biased, AIPW fine
    i = AdjustedSurvival(method="iptw").fit(d, covariates=["x2"], **kw)
    a = AdjustedSurvival(method="aipw").fit(d, covariates=["x2"], outcome_covariates=["x1", "x2"], **kw)
    assert np.abs(i.curves_["estimate"].to_numpy() - truth).max() > 0.05
    assert np.abs(a.curves_["estimate"].to_numpy() - truth).max() < 0.02


def test_bootstrap_is_seeded_and_brackets_the_estimate(capsys):
    d = _simulate(300, 5)
    kw = dict(treatment="offer", covariates=["x1", "x2"], duration="tenure", event="churned", times=[6, 12])
    a = AdjustedSurvival(method="iptw", n_boot=40, random_state=7, progress=True).fit(d, **kw)
    b = AdjustedSurvival(method="iptw", n_boot=40, random_state=7).fit(d, **kw)
    pd.testing.assert_frame_equal(a.curves_, b.curves_)
    assert a.interval_ == "bootstrap"
    c = a.curves_
    assert ((c["ci_lower"] <= c["estimate"]) & (c["estimate"] <= c["ci_upper"])).all()
    assert (c["std_error"] > 0).all()
    rm = a.rmst(12)
    assert list(rm["quantity"]) == ["rmst", "rmst", "difference"]
    assert rm["ci_lower"].notna().all()


def test_bootstrap_refits_gformula_with_causes(ate_data):
    fit = AdjustedSurvival(method="gformula", n_boot=5, random_state=0).fit(
        ate_data, treatment="A", covariates=["X1", "X2"], duration="time", event="churned", cause="cause",
        times=[5])
    assert set(fit.curves_["cause"]) == {"price", "service"}
    assert fit.curves_["std_error"].notna().all()
    lost = fit.rmst(10)
    assert set(lost["quantity"]) == {"time_lost", "difference"}


@pytest.mark.slow
def test_bootstrap_and_influence_coverage():
    """200 replications: IPTW bootstrap percentile intervals (n = 600, B = 200; measured 0.95 / 0.96 per arm,
    0.93 for the difference) and AIPW influence-function intervals (n = 300; measured 0.955 / 0.92)."""
    truth = _truth()
    kw = dict(treatment="offer", covariates=["x1", "x2"], duration="tenure", event="churned", times=[12])
    boot, diff, infl = [], [], []
    for r in range(200):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit = AdjustedSurvival(method="iptw", n_boot=200, random_state=r).fit(_simulate(600, 1000 + r), **kw)
            c, dd = fit.curves_, fit.difference()
            boot.append(((c["ci_lower"] <= truth) & (truth <= c["ci_upper"])).to_numpy())
            diff.append(bool(dd["ci_lower"].iloc[0] <= truth[1] - truth[0] <= dd["ci_upper"].iloc[0]))
            c = AdjustedSurvival(method="aipw").fit(_simulate(300, 1000 + r), **kw).curves_
            infl.append(((c["ci_lower"] <= truth) & (truth <= c["ci_upper"])).to_numpy())
    assert np.all(np.abs(np.mean(boot, axis=0) - 0.95) < 0.04)
    assert abs(np.mean(diff) - 0.95) < 0.04
    assert np.all(np.abs(np.mean(infl, axis=0) - 0.95) < 0.04)


# ------------------------------------------------------------------------------------------ value, API, errors
def test_rmst_and_value_of_a_flat_curve():
    # no defections before 30: S = 1, RMST(tau) = tau, value = margin * sum of discount factors
    rng = np.random.default_rng(2)
    x = rng.normal(size=200)
    d = pd.DataFrame({"x": x, "arm": rng.integers(0, 2, 200), "t": 30 + rng.random(200) * 5, "e": True})
    fit = AdjustedSurvival(method="iptw").fit(d, treatment="arm", covariates=["x"], duration="t", event="e")
    rm = fit.rmst(24)
    np.testing.assert_allclose(rm.loc[rm["quantity"] == "rmst", "estimate"], 24.0)
    val = fit.lifetime_value(margin=10, discount_rate=0.01, horizon=12)
    expected = 10 * np.sum(1.01 ** -np.arange(12))
    np.testing.assert_allclose(val.loc[val["quantity"] == "value", "estimate"], expected)
    np.testing.assert_allclose(val.loc[val["quantity"] == "difference", "estimate"], 0.0, atol=1e-12)


def test_function_door_and_params(ate_data):
    curves = adjusted_survival(ate_data, treatment="A", covariates=["X1", "X2"], duration="time", event="churned",
                               times=[5], method="gformula")
    assert list(curves.columns) == ["arm", "time", "estimate", "std_error", "ci_lower", "ci_upper"]
    est = AdjustedSurvival(method="iptw", n_boot=10)
    assert est.get_params()["n_boot"] == 10
    assert "n_boot=10" in repr(est)


def test_att_gformula_averages_over_the_target_arm(ate_data):
    kw = dict(treatment="A", covariates=["X1", "X2"], duration="time", event="churned", times=[5])
    att = AdjustedSurvival(method="gformula", estimand="ATT", target=1).fit(ate_data, **kw).curves_
    ate = AdjustedSurvival(method="gformula").fit(ate_data, **kw).curves_
    assert not np.allclose(att["estimate"], ate["estimate"])


def test_errors(ate_data):
    kw = dict(treatment="A", covariates=["X1", "X2"], duration="time", event="churned")
    with pytest.raises(ValueError, match="'method' parameter of AdjustedSurvival must be one of"):
        AdjustedSurvival(method="matching").fit(ate_data, **kw)
    with pytest.raises(ValueError, match="'estimand' parameter of AdjustedSurvival"):
        AdjustedSurvival(method="aipw", estimand="ATT").fit(ate_data, **kw)
    with pytest.raises(ValueError, match="whole-period tenures"):
        AdjustedSurvival(method="iptw_msm").fit(ate_data, **kw)
    with pytest.raises(ValueError, match="'cause' parameter"):
        AdjustedSurvival(method="iptw_msm").fit(ate_data, cause="cause", **kw)
    with pytest.raises(ValueError, match="'n_boot' parameter"):
        AdjustedSurvival(n_boot=-1).fit(ate_data, **kw)
    bad = ate_data.assign(time=ate_data["time"].where(ate_data.index > 1, -1.0))
    with pytest.raises(TenureDataError, match="Column 'time' has 2 rows with missing, non-numeric or negative"):
        AdjustedSurvival().fit(bad, **kw)
    nocause = ate_data.assign(cause=ate_data["cause"].where(ate_data.index > 3))
    with pytest.raises(TenureDataError, match="defections without a cause"):
        AdjustedSurvival(method="iptw").fit(nocause, cause="cause", **kw)
    with pytest.raises(ValueError, match="'reference' parameter"):
        AdjustedSurvival(method="iptw").fit(ate_data, **kw).difference(reference=5)
    before = ate_data.copy()
    AdjustedSurvival(method="iptw").fit(ate_data, **kw)
    pd.testing.assert_frame_equal(ate_data, before)


def test_plots_return_axes(ate_data):
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from churnsurv.plotting.effects import plot_adjusted_curves, plot_effect_difference

    fit = AdjustedSurvival(method="aipw").fit(ate_data, treatment="A", covariates=["X1", "X2"], duration="time",
                                              event="churned", cause="cause")
    fig, (a1, a2) = plt.subplots(1, 2)
    assert plot_adjusted_curves(fit, cause="service", ax=a1) is a1
    assert len(a1.get_lines()) == 2 and len(a1.collections) == 2
    assert a1.get_ylabel() == "Adjusted cumulative incidence (service)"
    assert plot_effect_difference(fit, ax=a2) is a2
    assert len(a2.get_legend().get_texts()) == 1
    plt.close(fig)
