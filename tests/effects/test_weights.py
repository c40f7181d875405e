"""Propensity scores and weights (churnsurv.effects.weights).

Reference: the binary propensity model is R's ``glm(A ~ X1 + X2, family = binomial)`` on
``tests/reference/fixtures/effects_ate_data.csv`` (written by ``tests/reference/make_reference_effects_ate.R``);
NHEFS figures are those of Hernan & Robins, *Causal Inference: What If*, chapter 12/17.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from churnsurv.effects.weights import PropensityScore, effective_sample_size
from churnsurv.exceptions import StatisticalWarning, TenureDataError

FIXTURES = Path(__file__).resolve().parents[1] / "reference" / "fixtures"


@pytest.fixture(scope="module")
def ate_data():
    return pd.read_csv(FIXTURES / "effects_ate_data.csv")


def _three_arms(n=1500, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.uniform(-2, 2, n)
    plan = rng.choice(["basic", "plus", "pro"], n)
    eta = np.column_stack([np.zeros(n), 0.3 + 0.6 * x, -0.3 - 0.5 * x + 0.7 * (plan == "pro")])
    p = np.exp(eta) / np.exp(eta).sum(axis=1, keepdims=True)
    arm = np.array([rng.choice(["call", "discount", "none"], p=pi) for pi in p])
    return pd.DataFrame({"x": x, "plan": plan, "action": arm})


def test_binary_model_matches_r_glm(ate_data):
    # R: coef(glm(A ~ X1 + X2, family = binomial)); the Newton solution is the MLE, so the score is zero.
    ps = PropensityScore().fit(ate_data, treatment="A", covariates=["X1", "X2"])
    x = np.column_stack([np.ones(len(ate_data)), ate_data[["X1", "X2"]].to_numpy()])
    score = x.T @ (ate_data["A"].to_numpy() - ps.propensity_[1].to_numpy())
    assert np.abs(score).max() < 1e-8
    assert list(ps.summary()["term"]) == ["(intercept)", "X1", "X2"]
    assert ps.n_obs_ == len(ate_data)
    assert np.isclose(ps.aic_, -2 * ps.log_likelihood_ + 6)


def test_multinomial_score_and_shares():
    df = _three_arms()
    ps = PropensityScore().fit(df, treatment="action", covariates=["x", "C(plan)"])
    assert ps.arms_ == ["call", "discount", "none"]
    prob = ps.propensity_.to_numpy()
    np.testing.assert_allclose(prob.sum(axis=1), 1.0)
    # with an intercept, the MLE reproduces the observed arm shares
    observed = pd.get_dummies(df["action"]).to_numpy(float)
    np.testing.assert_allclose(prob.sum(axis=0), observed.sum(axis=0), atol=1e-6)
    # ... and zeroes the score of every covariate
    x = np.column_stack([np.ones(len(df)), df["x"], df["plan"] == "plus", df["plan"] == "pro"]).astype(float)
    assert np.abs(x.T @ (observed - prob)).max() < 1e-6
    assert set(ps.balance()["arm"]) == {"discount", "none"}
    assert len(ps.coef_) == 2 * 4
    np.testing.assert_allclose(ps.predict(df.head(5)).to_numpy(), prob[:5])


def test_ate_weights_balance_and_ess():
    df = _three_arms()
    ps = PropensityScore(stabilized=False).fit(df, treatment="action", covariates=["x", "plan"])
    own = ps.propensity_.to_numpy()[np.arange(len(df)), pd.factorize(df["action"], sort=True)[0]]
    np.testing.assert_allclose(ps.weights_.to_numpy(), 1 / own)
    bal = ps.balance()
    assert bal["smd_unweighted"].abs().max() > 0.3
    assert bal["smd_weighted"].abs().max() < 0.1
    assert bal["balanced"].all()
    ess = ps.ess_.set_index("arm")
    w = ps.weights_[df["action"] == "call"]
    assert np.isclose(ess.loc["call", "ess"], w.sum() ** 2 / (w ** 2).sum())
    assert (ess["ess"] <= ess["n"]).all()


def test_stabilised_weights_are_the_unstabilised_times_the_share():
    df = _three_arms()
    a = PropensityScore(stabilized=True).fit(df, treatment="action", covariates=["x"]).weights_
    b = PropensityScore(stabilized=False).fit(df, treatment="action", covariates=["x"]).weights_
    share = df["action"].map(df["action"].value_counts(normalize=True))
    np.testing.assert_allclose(a, b * share)


def test_att_weights():
    df = _three_arms()
    ps = PropensityScore(estimand="ATT", target="call", stabilized=False).fit(df, treatment="action",
                                                                             covariates=["x", "plan"])
    w = ps.weights_
    assert (w[df["action"] == "call"] == 1).all()
    sel = df["action"] == "none"
    np.testing.assert_allclose(w[sel], ps.propensity_.loc[sel, "call"] / ps.propensity_.loc[sel, "none"])
    assert (ps.balance()["reference"] == "call").all()
    assert ps.balance()["smd_weighted"].abs().max() < 0.1
    st = PropensityScore(estimand="ATT", target="call").fit(df, treatment="action", covariates=["x", "plan"])
    assert np.isclose(st.weights_[sel].sum(), sel.sum())


def test_truncation_clips_at_quantiles():
    df = _three_arms()
    raw = PropensityScore().fit(df, treatment="action", covariates=["x"]).weights_
    cut = PropensityScore(truncate=0.05).fit(df, treatment="action", covariates=["x"]).weights_
    lo, hi = np.quantile(raw, [0.05, 0.95])
    np.testing.assert_allclose(cut, raw.clip(lo, hi))


def test_positivity_warning_names_the_rows():
    rng = np.random.default_rng(3)
    x = rng.normal(size=400)
    df = pd.DataFrame({"x": x, "offer": (rng.random(400) < 1 / (1 + np.exp(-4 * x))).astype(int)})
    with pytest.warns(StatisticalWarning, match="Positivity: .* customers have a propensity below 0.01"):
        ps = PropensityScore().fit(df, treatment="offer", covariates=["x"])
    assert ps.n_positivity_ > 0


def test_effective_sample_size_of_equal_weights():
    assert effective_sample_size(np.full(10, 3.0)) == pytest.approx(10)


def test_errors():
    df = _three_arms(200)
    with pytest.raises(ValueError, match="'estimand' parameter of PropensityScore"):
        PropensityScore(estimand="ATC").fit(df, treatment="action", covariates=["x"])
    with pytest.raises(TenureDataError, match="no column 'arm'"):
        PropensityScore().fit(df, treatment="arm", covariates=["x"])
    bad = df.assign(x=df["x"].where(df.index > 2))
    with pytest.raises(TenureDataError, match="Column 'x' has 3 rows with missing values"):
        PropensityScore().fit(bad, treatment="action", covariates=["x"])
    with pytest.raises(TenureDataError, match="a single arm"):
        PropensityScore().fit(df.assign(action="none"), treatment="action", covariates=["x"])
    with pytest.raises(ValueError, match="'target' parameter"):
        PropensityScore(estimand="ATT", target="gift").fit(df, treatment="action", covariates=["x"])
    with pytest.raises(ValueError, match="'truncate' parameter"):
        PropensityScore(truncate=0.7).fit(df, treatment="action", covariates=["x"])
    before = df.copy()
    PropensityScore().fit(df, treatment="action", covariates=["x", "x^2"])
    pd.testing.assert_frame_equal(df, before)


def test_nhefs_stabilised_weights_range():
    pytest.importorskip("causaldata")
    from churnsurv.data.nhefs import NHEFS_CONFOUNDERS, load_nhefs

    d = load_nhefs()
    ps = PropensityScore().fit(d, treatment="qsmk", covariates=NHEFS_CONFOUNDERS)
    # Hernan & Robins, What If, section 12.3 / chapter 17: stabilised weights range 0.33 to 4.21, mean 1.00
    assert ps.weights_.min() == pytest.approx(0.33, abs=5e-3)
    assert ps.weights_.max() == pytest.approx(4.21, abs=5e-3)
    assert ps.weights_.mean() == pytest.approx(0.999, abs=1e-3)


def test_plots_return_axes():
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from churnsurv.plotting.effects import plot_balance, plot_overlap

    df = _three_arms(300)
    ps = PropensityScore().fit(df, treatment="action", covariates=["x", "plan"])
    fig, (a1, a2) = plt.subplots(1, 2)
    assert plot_balance(ps, ax=a1) is a1
    assert len(a1.collections) == 2
    assert plot_overlap(ps, arm="none", ax=a2) is a2
    assert a2.get_xlabel() == "Propensity of arm none"
    plt.close(fig)
