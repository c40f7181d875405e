"""Parametric survival and mixture cure models against R (tests/reference/make_reference_parametric.R).

Reference fits: survival::survreg (AFT families, untruncated, with and without case weights), glm(poisson) with a
log-exposure offset on survSplit episodes (piecewise exponential), and the log-likelihood written out in R and
maximised with nlminb + Newton steps on numDeriv derivatives (generalised gamma, left-truncated fits, cure models).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from churnsurv import NotFittedError, TenureDataError, Tenures
from churnsurv.models.cure import CureModel
from churnsurv.models.parametric import ParametricSurvival, compare_parametric

REF = Path(__file__).resolve().parents[1] / "reference"
COEF = pd.read_csv(REF / "fixtures" / "parametric_coef.csv")
FIT = pd.read_csv(REF / "fixtures" / "parametric_fit.csv")
PRED = pd.read_csv(REF / "fixtures" / "parametric_predict.csv")
QUANT = pd.read_csv(REF / "fixtures" / "parametric_quantile.csv")
CUTS = [6, 12, 24, 48]

SIM_PROFILES = pd.DataFrame({"group": ["A", "B", "C"], "x1": [0.0, 1.0, -0.5], "x2": [0.0, 1.0, 0.0]})
MAVEN_PROFILES = pd.DataFrame({"contract": ["Month-to-Month", "One Year", "Two Year"],
                               "monthly_charge": [70.0, 70, 20]})


def _read(name):
    return pd.read_csv(REF / "inputs" / name, keep_default_na=False, na_values=[""])


@pytest.fixture(scope="module")
def inputs():
    sim = _read("sim_continuous.csv")
    sim["w"] = 1.0 + sim["id"] % 3
    return {"sim": sim, "maven": _read("maven_telco.csv"), "cure": _read("parametric_cure.csv")}


def _tenures(inputs, case):
    if case.startswith("sim"):
        return Tenures.from_frame(inputs["sim"], duration="time", event="event", segments=["group"],
                                  values=["x1", "x2"], weights="w" if case == "sim_weighted" else None)
    if case == "cure_sim":
        return Tenures.from_frame(inputs["cure"], duration="time", event="event", values=["g", "x"])
    truncated = "truncated" in case
    return Tenures.from_frame(inputs["maven"], duration="time", event="event", entry="entry" if truncated else None,
                              segments=["contract"], values=["monthly_charge"])


def _covariates(case):
    if case.startswith("sim"):
        return ["group", "x1", "x2"]
    if case.endswith("_null"):
        return None
    return ["contract", "monthly_charge"]


_FITS = {}


def _fit(inputs, case, family):
    key = (case, family)
    if key not in _FITS:
        cuts = CUTS if family == "piecewise" else None
        _FITS[key] = ParametricSurvival(family, cuts=cuts).fit(_tenures(inputs, case), covariates=_covariates(case))
    return _FITS[key]


PARAMETRIC_CASES = sorted({(c, f) for c, f in zip(FIT["case"], FIT["family"], strict=True) if not c.startswith("cure")})


@pytest.mark.parametrize(("case", "family"), PARAMETRIC_CASES)
def test_estimates_match_r(inputs, case, family):
    m = _fit(inputs, case, family)
    ref = COEF[(COEF["case"] == case) & (COEF["family"] == family)]
    got = m.summary().set_index("term").loc[ref["term"]]
    np.testing.assert_allclose(got["coef"], ref["coef"], rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(got["std_error"], ref["std_error"], rtol=1e-5)
    fit = FIT[(FIT["case"] == case) & (FIT["family"] == family)].iloc[0]
    assert m.log_likelihood_ == pytest.approx(fit["loglik"], rel=1e-10, abs=1e-7)
    assert m.n_params_ == fit["n_params"]
    assert m.aic_ == pytest.approx(fit["aic"], rel=1e-10, abs=1e-7)


@pytest.mark.parametrize(("case", "family"), sorted({(c, f) for c, f in zip(PRED["case"], PRED["family"], strict=True)
                                                      if not c.startswith("cure")}))
def test_survival_and_hazard_match_r(inputs, case, family):
    m = _fit(inputs, case, family)
    ref = PRED[(PRED["case"] == case) & (PRED["family"] == family)]
    profiles = None if case.endswith("_null") else (SIM_PROFILES if case.startswith("sim") else MAVEN_PROFILES)
    times = np.sort(ref["time"].unique())
    s = m.predict_survival(profiles, times=times)
    h = m.predict_hazard(profiles, times=times)
    np.testing.assert_allclose(s["estimate"], ref["surv"], rtol=1e-6, atol=1e-12)
    np.testing.assert_allclose(h["estimate"], ref["hazard"], rtol=1e-6)


@pytest.mark.parametrize(("case", "family"), sorted(set(zip(QUANT["case"], QUANT["family"], strict=True))))
def test_median_matches_survreg_predict(inputs, case, family):
    # R: predict(fit, newdata, type = "quantile", p = 0.5, se.fit = TRUE) (delta method on the time scale)
    m = _fit(inputs, case, family)
    ref = QUANT[(QUANT["case"] == case) & (QUANT["family"] == family)]
    got = m.predict_median(SIM_PROFILES if case.startswith("sim") else MAVEN_PROFILES, conf_level=0.95)
    np.testing.assert_allclose(got["estimate"], ref["median"], rtol=1e-6)
    se_log = (np.log(got["ci_upper"]) - np.log(got["estimate"])) / 1.959963984540054
    np.testing.assert_allclose(se_log * got["estimate"], ref["se_median"], rtol=1e-5)


@pytest.mark.parametrize("family", ["weibull", "lognormal"])
def test_cure_sim_matches_r(inputs, family):
    m = CureModel(family).fit(_tenures(inputs, "cure_sim"), covariates=["x"], cure_covariates=["g"])
    ref = COEF[(COEF["case"] == "cure_sim") & (COEF["family"] == family)]
    got = m.summary()
    got["rterm"] = np.where(got["part"] == "cure", "cure:" + got["term"], got["term"])
    got = got.set_index("rterm").loc[ref["term"]]
    np.testing.assert_allclose(got["coef"], ref["coef"], rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(got["std_error"], ref["std_error"], rtol=1e-5)
    fit = FIT[(FIT["case"] == "cure_sim") & (FIT["family"] == family)].iloc[0]
    assert m.log_likelihood_ == pytest.approx(fit["loglik"], rel=1e-10)
    pred = PRED[(PRED["case"] == "cure_sim") & (PRED["family"] == family)]
    prof = pd.DataFrame({"x": [0.0, 1.0], "g": [0.0, 1.0]})
    s = m.predict_survival(prof, times=np.sort(pred["time"].unique()))
    np.testing.assert_allclose(s["estimate"], pred["surv"], rtol=1e-6)
    h = m.predict_hazard(prof, times=np.sort(pred["time"].unique()))
    np.testing.assert_allclose(h["estimate"], pred["hazard"], rtol=1e-6)
    if family != "weibull":
        return
    # the simulation truth (Weibull latency, logit pi = -0.5 + 1.2 g) is inside the intervals
    cure = m.predict_cure(pd.DataFrame({"x": [0.0, 0.0], "g": [0.0, 1.0]}))
    truth = 1 / (1 + np.exp(-np.array([-0.5, 0.7])))
    assert ((cure["ci_lower"] < truth) & (truth < cure["ci_upper"])).all()


def test_cure_truncated_matches_r(inputs):
    m = CureModel("weibull").fit(_tenures(inputs, "cure_maven_truncated"))
    ref = COEF[COEF["case"] == "cure_maven_truncated"]
    np.testing.assert_allclose(m.theta_, ref["coef"], rtol=1e-6)
    np.testing.assert_allclose(m.params_["std_error"], ref["std_error"], rtol=1e-5)
    pred = PRED[PRED["case"] == "cure_maven_truncated"]
    np.testing.assert_allclose(m.survival_function(pred["time"].to_numpy()), pred["surv"], rtol=1e-6)
    assert m.cured_fraction_["estimate"].iloc[0] == pytest.approx(1 / (1 + np.exp(-ref["coef"].iloc[0])), rel=1e-6)


# ---------------------------------------------------------------------- behaviour
def test_weibull_hazard_ratio_is_ph_form(inputs):
    m = _fit(inputs, "sim", "weibull")
    p = m.summary().set_index("term")
    hr = m.hazard_ratios_.set_index("term")
    sigma = np.exp(p.loc["log_scale", "coef"])
    np.testing.assert_allclose(hr.loc["x1", "hazard_ratio"], np.exp(-p.loc["x1", "coef"] / sigma), rtol=1e-12)
    assert (hr["ci_lower"] < hr["hazard_ratio"]).all() and (hr["hazard_ratio"] < hr["ci_upper"]).all()
    assert p.loc["x1", "time_ratio"] == pytest.approx(np.exp(p.loc["x1", "coef"]))
    # the ratio of the fitted hazards of two profiles is the hazard ratio at every time
    h = m.predict_hazard(pd.DataFrame({"group": ["A", "A"], "x1": [0.0, 1.0], "x2": [0.0, 0.0]}), times=[1, 10, 90])
    ratio = h["estimate"].to_numpy()[3:] / h["estimate"].to_numpy()[:3]
    np.testing.assert_allclose(ratio, hr.loc["x1", "hazard_ratio"], rtol=1e-10)


def test_predictions_are_tidy_and_flag_extrapolation(inputs):
    m = _fit(inputs, "maven_truncated", "weibull")
    s = m.predict_survival(MAVEN_PROFILES, times=[0, 12, 72, 120])
    assert list(s.columns) == ["profile", "contract", "monthly_charge", "time", "estimate", "ci_lower", "ci_upper",
                               "extrapolated"]
    assert len(s) == 12
    assert s["extrapolated"].tolist() == [False, False, False, True] * 3
    assert (s.loc[s["time"] == 0, ["estimate", "ci_lower", "ci_upper"]] == 1).all().all()
    assert ((s["ci_lower"] <= s["estimate"]) & (s["estimate"] <= s["ci_upper"])).all()
    wide = m.predict_survival(MAVEN_PROFILES.iloc[:1], conf_level=0.99, times=[24])
    narrow = m.predict_survival(MAVEN_PROFILES.iloc[:1], conf_level=0.8, times=[24])
    assert wide["ci_lower"].iloc[0] < narrow["ci_lower"].iloc[0]
    grid = m.predict_survival()  # reference profile, default grid to twice the follow-up
    assert grid["time"].max() == pytest.approx(2 * 72) and np.all(np.diff(grid["estimate"]) <= 0)
    assert grid["contract"].iloc[0] == "Month-to-Month"


def test_survival_function_is_vectorised(inputs):
    m = _fit(inputs, "sim", "lognormal")
    t = np.array([[0.0, 5.0], [50.0, 500.0]])
    s = m.survival_function(t, profile={"group": "B", "x1": 0.2, "x2": 1})
    assert s.shape == (2, 2) and s[0, 0] == 1.0 and np.all(np.diff(s.ravel()) < 0)
    row = m.predict_survival(pd.DataFrame({"group": ["B"], "x1": [0.2], "x2": [1]}), times=[50.0])
    assert s[1, 0] == pytest.approx(row["estimate"].iloc[0], rel=1e-12)
    assert np.isscalar(m.survival_function(3.0)) or m.survival_function(3.0).shape == ()


def test_gengamma_nests_weibull_and_lognormal(inputs):
    t = _tenures(inputs, "sim")
    gg = _fit(inputs, "sim", "gengamma")
    for fam in ("weibull", "lognormal"):
        assert gg.log_likelihood_ >= _fit(inputs, "sim", fam).log_likelihood_ - 1e-8
    # the Weibull is the generalised gamma at Q = 1: same survival
    w = ParametricSurvival("weibull").fit(t)
    from churnsurv.models._distributions import gengamma_logsf

    times = np.array([1.0, 10, 60])
    sigma = np.exp(w.theta_[1])
    np.testing.assert_allclose(np.exp(gengamma_logsf(times, w.theta_[0], sigma, 1.0)), w.survival_function(times),
                               rtol=1e-12)


def test_compare_parametric(inputs):
    t = _tenures(inputs, "maven_truncated")
    table = compare_parametric(t, families=["weibull", "lognormal", "piecewise"], cuts=CUTS, horizons=[12, 100],
                               covariates=["contract", "monthly_charge"])
    assert list(table.columns) == ["family", "n_params", "log_lik", "aic", "bic", "delta_aic", "median",
                                   "survival_12", "survival_100"]
    assert table["delta_aic"].iloc[0] == 0 and table["aic"].is_monotonic_increasing
    ref = FIT[FIT["case"] == "maven_truncated"].set_index("family")
    for _, row in table.iterrows():
        assert row["log_lik"] == pytest.approx(ref.loc[row["family"], "loglik"], rel=1e-10)
        assert row["bic"] == pytest.approx(-2 * row["log_lik"] + np.log(7043) * row["n_params"])
    assert set(table.attrs["models"]) == {"weibull", "lognormal", "piecewise"}


def test_caller_frame_untouched_and_frame_input(inputs):
    frame = inputs["maven"].copy()
    before = frame.copy()
    m = ParametricSurvival("loglogistic").fit(frame, duration="time", event="event", entry="entry",
                                              covariates=["contract"], reference={"contract": "Two Year"})
    pd.testing.assert_frame_equal(frame, before)
    terms = m.params_["term"].tolist()
    assert "contract[One Year]" in terms and "contract[Month-to-Month]" in terms


def test_weights_equal_replication(inputs):
    sim = inputs["sim"].iloc[:200]
    w = (sim["id"] % 3 + 1).astype(int)
    rep = sim.loc[sim.index.repeat(w)].reset_index(drop=True).assign(id=lambda d: np.arange(len(d)))
    a = ParametricSurvival("weibull").fit(sim.assign(w=w), duration="time", event="event", weights="w",
                                          covariates=["x1"])
    b = ParametricSurvival("weibull").fit(rep, duration="time", event="event", covariates=["x1"])
    np.testing.assert_allclose(a.theta_, b.theta_, rtol=1e-7)
    assert a.log_likelihood_ == pytest.approx(b.log_likelihood_, rel=1e-10)


def test_median_of_cure_above_half_is_infinite():
    rng = np.random.default_rng(3)
    n = 800
    cured = rng.random(n) < 0.7
    t = np.where(cured, np.inf, rng.weibull(1.5, n) * 10)
    c = rng.uniform(20, 60, n)
    df = pd.DataFrame({"t": np.minimum(t, c), "e": t <= c})
    m = CureModel("weibull").fit(df, duration="t", event="e")
    assert np.isinf(m.median_["estimate"].iloc[0])
    assert m.cured_fraction_["estimate"].iloc[0] == pytest.approx(0.7, abs=0.06)
    assert m.survival_function(1e6) == pytest.approx(m.cured_fraction_["estimate"].iloc[0], rel=1e-9)


def test_left_truncation_removes_bias():
    # a Weibull population observed only from entry: ignoring the entry biases the fit, conditioning does not
    rng = np.random.default_rng(11)
    n = 6000
    t = 12 * rng.weibull(0.8, n)
    entry = rng.uniform(0, 24, n)
    keep = t > entry
    df = pd.DataFrame({"entry": entry[keep], "t": np.minimum(t[keep], entry[keep] + 36)})
    df["e"] = t[keep] <= df["entry"] + 36
    good = ParametricSurvival("weibull").fit(df, duration="t", event="e", entry="entry")
    naive = ParametricSurvival("weibull").fit(df, duration="t", event="e")
    truth = np.array([np.log(12), np.log(1 / 0.8)])
    assert np.all(np.abs(good.theta_ - truth) < 3 * good.params_["std_error"].to_numpy())
    assert abs(naive.theta_[0] - truth[0]) > 10 * naive.params_["std_error"].iloc[0]


def test_weibull_simulation_coverage():
    """200 replications of a Weibull population (n = 300, about 25% censored): bias and 95% coverage."""
    rng = np.random.default_rng(20240611)
    truth = {"(Intercept)": 2.0, "x": 0.5, "log_scale": np.log(0.7)}
    hits = {k: 0 for k in truth}
    est = {k: [] for k in truth}
    for _ in range(200):
        x = rng.normal(size=300)
        t = np.exp(2.0 + 0.5 * x + 0.7 * np.log(-np.log(rng.random(300))))
        c = rng.uniform(0, 30, 300)
        df = pd.DataFrame({"t": np.minimum(t, c), "e": t <= c, "x": x})
        p = ParametricSurvival("weibull").fit(df, duration="t", event="e", covariates=["x"]).params_.set_index("term")
        for k, v in truth.items():
            est[k].append(p.loc[k, "coef"])
            hits[k] += p.loc[k, "ci_lower"] <= v <= p.loc[k, "ci_upper"]
    for k, v in truth.items():
        assert abs(np.mean(est[k]) - v) < 0.03, k
        assert 0.90 <= hits[k] / 200 <= 0.99, (k, hits[k])


# ---------------------------------------------------------------------- errors
def test_errors(inputs):
    sim = inputs["sim"]
    kw = {"duration": "time", "event": "event"}
    with pytest.raises(ValueError, match="'family' parameter of ParametricSurvival must be one of"):
        ParametricSurvival("gamma").fit(sim, **kw)
    with pytest.raises(ValueError, match="'cuts' parameter"):
        ParametricSurvival("piecewise").fit(sim, **kw)
    with pytest.raises(ValueError, match="'cuts' parameter"):
        ParametricSurvival("piecewise", cuts=[10, 5]).fit(sim, **kw)
    with pytest.raises(ValueError, match="'cuts' parameter"):
        ParametricSurvival("weibull", cuts=[10]).fit(sim, **kw)
    with pytest.raises(ValueError, match="'conf_level'"):
        ParametricSurvival(conf_level=1.5).fit(sim, **kw)
    zero = sim.assign(time=np.where(sim.index < 3, 0.0, sim["time"]), event=np.where(sim.index < 3, 1, sim["event"]))
    with pytest.raises(TenureDataError, match="Column 'exit' has 3 rows with defections at time 0"):
        ParametricSurvival().fit(zero, **kw)
    with pytest.raises(NotFittedError):
        ParametricSurvival().predict_survival()
    m = _fit(inputs, "sim", "weibull")
    with pytest.raises(TenureDataError, match="levels not seen when fitting"):
        m.predict_survival(pd.DataFrame({"group": ["Z"], "x1": [0.0], "x2": [0.0]}))
    with pytest.raises(TenureDataError, match="no column 'x2'"):
        m.predict_survival(pd.DataFrame({"group": ["A"], "x1": [0.0]}))
    with pytest.raises(ValueError, match="'times' parameter"):
        m.predict_survival(times=[-1])
    with pytest.raises(ValueError, match="either as formula"):
        ParametricSurvival().fit(sim, formula="x1", covariates=["x1"], **kw)


def test_censored_at_zero_contribute_nothing(inputs):
    sim = inputs["sim"].iloc[:100]
    extra = pd.DataFrame({"id": [9001, 9002], "time": [0.0, 0.0], "event": [0, 0]})
    a = ParametricSurvival().fit(sim, duration="time", event="event", id="id")
    b = ParametricSurvival().fit(pd.concat([sim, extra], ignore_index=True), duration="time", event="event", id="id")
    np.testing.assert_allclose(a.theta_, b.theta_, rtol=1e-8)
    assert b.n_obs_ == a.n_obs_ + 2


def test_plot_draws_dashed_extrapolation(inputs):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    t = _tenures(inputs, "maven_truncated_null")
    m = ParametricSurvival("weibull").fit(t)
    fig, ax = plt.subplots()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = m.plot(ax=ax, data=t)
    assert out is ax
    styles = [line.get_linestyle() for line in ax.get_lines()]
    assert styles.count("--") == 1 and "-" in styles
    assert any(line.get_label() == "Kaplan-Meier" for line in ax.get_lines())
    assert len(ax.collections) == 1  # the band
    m.plot(ax=ax, kind="hazard", ci=False)
    plt.close(fig)


def test_get_set_params_and_repr():
    m = ParametricSurvival("piecewise", cuts=[6, 12])
    assert m.get_params() == {"family": "piecewise", "conf_level": 0.95, "cuts": [6, 12]}
    assert "piecewise" in repr(m)
    assert CureModel().set_params(family="lognormal").family == "lognormal"


@pytest.mark.parametrize("family", ["weibull", "exponential", "lognormal", "loglogistic", "piecewise"])
def test_analytic_score_and_hessian(inputs, family):
    # the analytic derivatives (used by Newton-Raphson and for the covariance) against central differences,
    # on left-truncated, weighted data
    from churnsurv.models.parametric import _Core, _exposure, _interval, _piecewise_loglik, _prepare

    frame = inputs["maven"].iloc[:800].assign(w=lambda d: 1.0 + (np.arange(len(d)) % 4))
    arrays, _, _, _ = _prepare(frame, None, ["contract", "monthly_charge"], None,
                               {"duration": "time", "event": "event", "entry": "entry", "weights": "w"}, "test",
                               need_intercept=family != "piecewise")
    core = _Core(family, arrays["x"].shape[1], 0, np.array(CUTS, float) if family == "piecewise" else None)
    if family == "piecewise":
        arrays["exposure"] = _exposure(arrays["entry"], arrays["t"], core.cuts)
        arrays["k"] = _interval(arrays["t"], core.cuts)

        def ll(th):
            return _piecewise_loglik(th, arrays, core)
    else:
        def ll(th):
            return core.loglik(th, arrays)
    rng = np.random.default_rng(1)
    theta = rng.normal(scale=0.01, size=core.n_params)
    theta[core.n_loc if family == "piecewise" else 0] += 3.0 if family != "piecewise" else -3.0
    h = 1e-5
    eye = np.eye(core.n_params)
    num = np.array([(ll(theta + h * e) - ll(theta - h * e)) / (2 * h) for e in eye])
    np.testing.assert_allclose(core.score(theta, arrays), num, rtol=1e-5, atol=1e-4)
    num_h = np.array([(core.score(theta + h * e, arrays) - core.score(theta - h * e, arrays)) / (2 * h) for e in eye])
    np.testing.assert_allclose(core.hessian(theta, arrays), num_h, rtol=1e-5, atol=1e-3)
    # the generic likelihood of the core (used for predictions) equals the specialised one
    if family == "piecewise":
        generic = (np.dot(arrays["w"][arrays["ev"]], core.logpdf(theta, arrays["t"], arrays["x"])[arrays["ev"]])
                   + np.dot(arrays["w"][~arrays["ev"]], core.logsf(theta, arrays["t"], arrays["x"])[~arrays["ev"]])
                   - np.dot(arrays["w"][arrays["tr"]], core.logsf(theta, arrays["entry"][arrays["tr"]],
                                                                  arrays["x"][arrays["tr"]])))
        assert ll(theta) == pytest.approx(generic, rel=1e-12)
