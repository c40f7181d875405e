"""The sBG and BdW cohort models: published estimates, R cross-checks, DERL, simulation coverage, errors.

R references come from ``tests/reference/make_reference_beta_geometric.R`` (the same likelihood maximised with
``optim`` + Newton steps on ``numDeriv::hessian``; inputs ``beta_geometric_fader_hardie.csv`` and the seeded
``beta_geometric_sim.csv``, two plans with left truncation and censoring).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from churnsurv import Tenures, TenureDataError
from churnsurv.datasets import load_fader_hardie
from churnsurv.exceptions import NotFittedError, StatisticalWarning
from churnsurv.models.beta_geometric import (
    BetaDiscreteWeibull,
    ShiftedBetaGeometric,
    _log_survival,
    _loglik,
    _records_from_counts,
    _residual_sum,
    projection_table,
)

REF = Path(__file__).parents[1] / "reference"
SIM_KW = {"duration": "exit", "entry": "entry", "event": "event", "id": "id"}


@pytest.fixture(scope="module")
def fh():
    return load_fader_hardie()


@pytest.fixture(scope="module")
def fh_train(fh):
    return fh[fh["year"] <= 7]


@pytest.fixture(scope="module")
def sbg(fh_train):
    return ShiftedBetaGeometric().fit_counts(fh_train, periods="year")


@pytest.fixture(scope="module")
def bdw(fh_train):
    return BetaDiscreteWeibull().fit_counts(fh_train, periods="year")


@pytest.fixture(scope="module")
def ref_fit():
    return pd.read_csv(REF / "fixtures" / "beta_geometric_fit.csv")


@pytest.fixture(scope="module")
def ref_curve():
    return pd.read_csv(REF / "fixtures" / "beta_geometric_curve.csv")


@pytest.fixture(scope="module")
def sim():
    return pd.read_csv(REF / "inputs" / "beta_geometric_sim.csv")


def _simulate_counts(rng, alpha, beta, n, last):
    theta = rng.beta(alpha, beta, n)
    t = rng.geometric(theta)  # the renewal at which each customer is lost: 1, 2, ...
    return np.array([(t > k).sum() for k in range(last + 1)], dtype=float)


# ------------------------------------------------------------------ published values (Fader & Hardie 2007)
def test_published_sbg_estimates(sbg):
    p = sbg.summary().set_index(["segment", "parameter"])["estimate"].round(3)
    assert p[("regular", "alpha")] == 0.704
    assert p[("regular", "beta")] == 1.182
    assert p[("high_end", "alpha")] == 0.668
    assert p[("high_end", "beta")] == 3.806
    assert list(sbg.summary().columns) == ["segment", "parameter", "estimate", "std_error", "ci_lower", "ci_upper"]


def test_projection_table_years_8_to_12(fh):
    table, models = projection_table(return_models=True)
    assert list(table["segment"].unique()) == ["regular", "high_end"]
    assert table["time"].tolist() == [8.0, 9.0, 10.0, 11.0, 12.0] * 2
    for seg in ("regular", "high_end"):
        part = table[table["segment"] == seg]
        assert part["actual"].tolist() == fh.loc[fh["year"] >= 8, seg].tolist()
        for name in ("sbg", "bdw"):
            est, lo, hi = (part[f"{name}_{c}"].to_numpy() for c in ("estimate", "ci_lower", "ci_upper"))
            assert np.all(lo < est) and np.all(est < hi)
            assert np.all(np.diff(est) < 0)
            # the actual counts lie inside the projection intervals
            assert np.all((lo <= part["actual"]) & (part["actual"] <= hi))
    # sBG projections: a(t) = 1000 S(t); the year-12 figures of Fader & Hardie (2007) are 170 and 378
    sbg12 = table.loc[table["time"] == 12, "sbg_estimate"].round().tolist()
    assert sbg12 == [170.0, 378.0]
    # BdW improves the log-likelihood over sBG on both cohorts
    ll = {name: m.fit_statistics_.set_index("segment")["log_likelihood"] for name, m in models.items()}
    assert np.all(ll["bdw"] > ll["sbg"])
    assert ll["bdw"]["high_end"] - ll["sbg"]["high_end"] > 5  # LR statistic > 10 on 1 df
    assert np.all(np.abs(table["bdw_error"]) < np.abs(table["sbg_error"]) + 1.0)


# ------------------------------------------------------------------ against R
@pytest.mark.parametrize("model", ["sbg", "bdw"])
@pytest.mark.parametrize("case", ["fh_regular", "fh_high_end"])
def test_counts_fit_matches_r(model, case, ref_fit, ref_curve, sbg, bdw):
    m = {"sbg": sbg, "bdw": bdw}[model]
    seg = case.removeprefix("fh_")
    r = ref_fit[(ref_fit["case"] == case) & (ref_fit["model"] == model)]
    p = m.summary()
    p = p[p["segment"] == seg]
    np.testing.assert_allclose(p["estimate"], r["estimate"], rtol=1e-6)
    np.testing.assert_allclose(p["std_error"], r["std_error"], rtol=1e-5)
    stats = m.fit_statistics_.set_index("segment").loc[seg]
    assert stats["log_likelihood"] == pytest.approx(r["log_likelihood"].iloc[0], abs=1e-8)
    c = ref_curve[(ref_curve["case"] == case) & (ref_curve["model"] == model)]
    surv = c[c["kind"] == "survival"]
    np.testing.assert_allclose(m.survival_function(surv["time"], segment=seg), surv["value"], rtol=1e-6)
    derl = c[c["kind"] == "derl_0.1"]
    got = m.derl(0.1, renewals=derl["time"].astype(int).tolist())
    np.testing.assert_allclose(got.loc[got["segment"] == seg, "estimate"], derl["value"], rtol=1e-6)


@pytest.mark.parametrize("model", [ShiftedBetaGeometric, BetaDiscreteWeibull])
def test_tenure_fit_with_truncation_matches_r(model, sim, ref_fit):
    name = "sbg" if model is ShiftedBetaGeometric else "bdw"
    m = model().fit(sim, **SIM_KW)
    r = ref_fit[(ref_fit["case"] == "sim_all") & (ref_fit["model"] == name)]
    np.testing.assert_allclose(m.summary()["estimate"], r["estimate"], rtol=1e-6)
    np.testing.assert_allclose(m.summary()["std_error"], r["std_error"], rtol=1e-5)
    assert m.log_likelihood_ == pytest.approx(r["log_likelihood"].iloc[0], abs=1e-8)
    assert m.n_obs_ == 3000

    by = model().fit(sim, by="plan", **SIM_KW)
    for plan in ("A", "B"):
        r = ref_fit[(ref_fit["case"] == f"sim_{plan}") & (ref_fit["model"] == name)]
        p = by.summary()
        np.testing.assert_allclose(p.loc[p["plan"] == plan, "estimate"], r["estimate"], rtol=1e-6)
    assert by.log_likelihood_ == pytest.approx(
        ref_fit.loc[ref_fit["case"].isin(["sim_A", "sim_B"]) & (ref_fit["model"] == name)]
        .drop_duplicates("case")["log_likelihood"].sum(), abs=1e-8)


def test_fixture_data_are_the_bundled_data(fh):
    pd.testing.assert_frame_equal(pd.read_csv(REF / "inputs" / "beta_geometric_fader_hardie.csv"), fh,
                                  check_dtype=False)


# ------------------------------------------------------------------ likelihood and inputs
def test_gradient_is_the_derivative_of_the_loglik(fh):
    from scipy.optimize import approx_fprime

    rec = _records_from_counts(np.array([0.0, 1, 3, 4, 7]), fh["regular"].to_numpy(float)[[0, 1, 3, 4, 7]], "r", "t")
    for x in (np.array([-0.3, 0.2, 0.1]), np.array([0.5, 1.5, -0.4])):
        numeric = approx_fprime(x, lambda v: _loglik(v, rec, True, False)[0], 1e-7)
        np.testing.assert_allclose(_loglik(x, rec, True)[1], numeric, rtol=1e-5)


def test_counts_equal_individual_tenures(fh_train):
    counts = fh_train["regular"].to_numpy(int)
    lost = -np.diff(counts)
    rows = [(t, 1, n) for t, n in zip(range(1, 8), lost, strict=True)] + [(7, 0, counts[-1])]
    frame = pd.DataFrame(rows, columns=["tenure", "churned", "n"])
    a = ShiftedBetaGeometric().fit(frame, duration="tenure", event="churned", weights="n", time_unit="year")
    b = ShiftedBetaGeometric().fit_counts(counts)
    np.testing.assert_allclose(a.summary()["estimate"], b.summary()["estimate"], rtol=1e-9)
    np.testing.assert_allclose(a.summary()["std_error"], b.summary()["std_error"], rtol=1e-6)
    assert a.log_likelihood_ == pytest.approx(b.log_likelihood_, abs=1e-9)
    # one row per customer gives the same fit as the weighted rows
    expanded = frame.loc[frame.index.repeat(frame["n"])].reset_index(drop=True)
    c = ShiftedBetaGeometric().fit(expanded, duration="tenure", event="churned")
    np.testing.assert_allclose(c.summary()["estimate"], b.summary()["estimate"], rtol=1e-9)
    assert frame.columns.tolist() == ["tenure", "churned", "n"]  # caller's frame untouched


def test_long_and_wide_counts_agree(fh_train):
    wide = ShiftedBetaGeometric().fit_counts(fh_train, periods="year")
    long = load_fader_hardie(long=True)
    long = long[long["year"] <= 7]
    lf = ShiftedBetaGeometric().fit_counts(long, count="n_alive", periods="year", by="segment")
    a = wide.summary().set_index(["segment", "parameter"])["estimate"]
    b = lf.summary().set_index(["segment", "parameter"])["estimate"]
    np.testing.assert_allclose(a.sort_index(), b.sort_index(), rtol=1e-9)


def test_left_truncated_counts_and_gaps():
    x = np.log([0.7, 1.2])
    s = np.exp(_log_survival(x, np.arange(10.0), False, False)[0])
    # a cohort first counted at period 2, then at 3, 5 and 8: the likelihood conditions on T > 2 and the gaps are
    # interval-censored losses
    periods = np.array([2.0, 3, 5, 8])
    counts = np.array([500.0, 430, 350, 280])
    rec = _records_from_counts(periods, counts, "n", "t")
    expected = (70 * math.log(s[2] - s[3]) + 80 * math.log(s[3] - s[5]) + 70 * math.log(s[5] - s[8])
                + 280 * math.log(s[8]) - 500 * math.log(s[2]))
    assert _loglik(x, rec, False)[0] == pytest.approx(expected, rel=1e-12)
    m = ShiftedBetaGeometric().fit_counts(counts, periods=periods)
    assert m.fit_statistics_["converged"].all()
    with pytest.raises(ValueError, match="n0"):
        m.predict_survivors([10])
    assert m.predict_survivors([10], n0=1000)["estimate"].iloc[0] == pytest.approx(1000 * m.survival_function(10))


# ------------------------------------------------------------------ outputs
def test_retention_rate_sbg_closed_form(sbg):
    p = sbg.summary().set_index(["segment", "parameter"])["estimate"]
    r = sbg.retention_rate([1, 2, 5, 12])
    for seg in ("regular", "high_end"):
        a, b = p[(seg, "alpha")], p[(seg, "beta")]
        t = np.array([1.0, 2, 5, 12])
        part = r[r["segment"] == seg]
        np.testing.assert_allclose(part["estimate"], (b + t - 1) / (a + b + t - 1), rtol=1e-12)
        assert np.all((part["ci_lower"] < part["estimate"]) & (part["estimate"] < part["ci_upper"]))
        assert part["extrapolated"].tolist() == [False, False, False, True]


def test_predict_survival_shape_and_properties(bdw):
    table = bdw.predict_survival(np.arange(0, 16))
    assert list(table.columns) == ["segment", "time", "estimate", "ci_lower", "ci_upper", "extrapolated"]
    assert len(table) == 32
    for _, part in table.groupby("segment"):
        assert part["estimate"].iloc[0] == 1.0 and part["ci_lower"].iloc[0] == 1.0
        assert np.all(np.diff(part["estimate"]) < 0)
        assert np.all((part["ci_lower"] <= part["estimate"]) & (part["estimate"] <= part["ci_upper"]))
        assert np.all((part["ci_lower"] > 0) & (part["ci_upper"] <= 1))
        assert part["extrapolated"].sum() == 8
    wide = bdw.predict_survival([12], conf_level=0.99)
    narrow = bdw.predict_survival([12], conf_level=0.8)
    assert np.all(wide["ci_upper"] - wide["ci_lower"] > narrow["ci_upper"] - narrow["ci_lower"])
    n = bdw.predict_survivors([0, 12])
    assert n.loc[n["time"] == 0, "estimate"].tolist() == [1000.0, 1000.0]


def test_survival_function_needs_segment(sbg):
    with pytest.raises(ValueError, match="segment"):
        sbg.survival_function(3)
    with pytest.raises(ValueError, match="Unknown segment"):
        sbg.survival_function(3, segment="nope")
    assert sbg.survival_function([0.0], segment="regular")[0] == 1.0


# ------------------------------------------------------------------ DERL
@pytest.mark.parametrize("d", [0.01, 0.1, 0.25, 1.0])
@pytest.mark.parametrize("n", [0, 1, 4, 20])
def test_derl_closed_form_equals_brute_force(sbg, d, n):
    closed = sbg.derl(d, renewals=n)
    for key, f in sbg._fits.items():
        brute = _residual_sum(lambda t, x=f.x: _log_survival(x, t, False, False)[0], n, d)
        got = closed.loc[closed["segment"] == key[0], "estimate"].iloc[0]
        assert got == pytest.approx(brute, abs=1e-10, rel=0)


def test_derl_table_and_edge_cases(sbg, bdw, fh_train):
    t = sbg.derl(0.1, renewals=[0, 1, 5])
    assert list(t.columns) == ["segment", "renewals", "discount_rate", "estimate", "ci_lower", "ci_upper"]
    assert np.all((t["ci_lower"] < t["estimate"]) & (t["estimate"] < t["ci_upper"]))
    # DERL rises with renewals (survivors are the loyal ones) and falls with the discount rate
    assert np.all(np.diff(t.loc[t["segment"] == "regular", "estimate"]) > 0)
    assert np.all(sbg.derl(0.2)["estimate"].to_numpy() < sbg.derl(0.1)["estimate"].to_numpy())
    # undiscounted: infinite for alpha <= 1, the plain expected residual lifetime for alpha > 1
    assert np.isinf(sbg.derl(0.0)["estimate"]).all()
    m = ShiftedBetaGeometric().fit_counts([1000, 500, 300, 200, 150])
    a, b = m.summary()["estimate"]
    assert a > 1
    k = np.arange(200000.0)
    brute = np.exp(_log_survival(np.log([a, b]), 3 + k, False, False)[0]
                   - _log_survival(np.log([a, b]), np.array([2.0]), False, False)[0]).sum()
    assert m.derl(0.0, renewals=2)["estimate"].iloc[0] == pytest.approx(brute, rel=1e-3)  # slow tail
    with pytest.raises(ValueError, match="discount_rate"):
        bdw.derl(0.0)
    with pytest.raises(ValueError, match="discount_rate"):
        sbg.derl(-0.1)
    with pytest.raises(ValueError, match="renewals"):
        sbg.derl(0.1, renewals=-1)
    with pytest.raises(ValueError, match="renewals"):
        sbg.derl(0.1, renewals=1.5)


# ------------------------------------------------------------------ simulation
def test_parameters_of_a_large_population_are_recovered():
    rng = np.random.default_rng(11)
    counts = _simulate_counts(rng, 0.7, 1.2, 200_000, 10)
    p = ShiftedBetaGeometric().fit_counts(counts).summary().set_index("parameter")
    assert p.loc["alpha", "estimate"] == pytest.approx(0.7, rel=0.03)
    assert p.loc["beta", "estimate"] == pytest.approx(1.2, rel=0.03)
    assert (p["ci_lower"] < [0.7, 1.2]).all() and (p["ci_upper"] > [0.7, 1.2]).all()


def test_truncated_individual_tenures_recover_parameters():
    rng = np.random.default_rng(5)
    n = 60_000
    theta = rng.beta(1.5, 4.0, n)
    t = rng.geometric(theta)
    entry = np.where(rng.random(n) < 0.5, rng.integers(1, 6, n), 0)
    keep = t > entry  # only customers still active when observation starts are seen
    stop = entry + rng.integers(1, 9, n)
    frame = pd.DataFrame({"entry": entry, "exit": np.minimum(t, stop), "event": t <= stop})[keep]
    m = ShiftedBetaGeometric().fit(frame, duration="exit", entry="entry", event="event")
    p = m.summary().set_index("parameter")
    assert p.loc["alpha", "estimate"] == pytest.approx(1.5, rel=0.06)
    assert p.loc["beta", "estimate"] == pytest.approx(4.0, rel=0.06)
    # ignoring the truncation (treating entry as 0) biases the fit: the early losses of late entrants are missing
    naive = ShiftedBetaGeometric().fit(frame, duration="exit", event="event").summary().set_index("parameter")
    assert abs(naive.loc["alpha", "estimate"] / 1.5 - 1) > 0.1
    bdw = BetaDiscreteWeibull().fit(frame, duration="exit", entry="entry", event="event").summary()
    assert bdw.set_index("parameter").loc["c", "ci_lower"] < 1 < bdw.set_index("parameter").loc["c", "ci_upper"]


def test_interval_coverage_over_200_replications():
    # 200 cohorts of 1,000 customers, sBG(0.7, 1.2), observed for 7 renewals (as the Fader-Hardie data)
    from scipy.special import betaln

    rng = np.random.default_rng(20261206)
    alpha, beta, reps = 0.7, 1.2, 200
    s12 = math.exp(betaln(alpha, beta + 12) - betaln(alpha, beta))
    hits = np.zeros(3)
    estimates = np.empty((reps, 2))
    for r in range(reps):
        m = ShiftedBetaGeometric().fit_counts(_simulate_counts(rng, alpha, beta, 1000, 7))
        p = m.params_
        hits[0] += p["ci_lower"].iloc[0] <= alpha <= p["ci_upper"].iloc[0]
        hits[1] += p["ci_lower"].iloc[1] <= beta <= p["ci_upper"].iloc[1]
        s = m.predict_survival([12])
        hits[2] += s["ci_lower"].iloc[0] <= s12 <= s["ci_upper"].iloc[0]
        estimates[r] = p["estimate"]
    coverage = hits / reps
    # figures with this seed: alpha 0.960, beta 0.950, S(12) 0.940 (binomial SE of a 95% coverage: 0.015)
    assert np.all((coverage >= 0.91) & (coverage <= 0.99)), coverage
    np.testing.assert_allclose(np.median(estimates, axis=0), [alpha, beta], rtol=0.03)


# ------------------------------------------------------------------ errors and estimator hygiene
def test_bad_inputs_raise_clear_errors(fh_train):
    frame = pd.DataFrame({"tenure": [1.5, 2, 3, 0], "churned": [1, 0, 1, 1]})
    with pytest.raises(TenureDataError, match=r"Column 'exit' has 1 row with tenures that are not whole"):
        ShiftedBetaGeometric().fit(frame.iloc[:3], duration="tenure", event="churned")
    with pytest.raises(TenureDataError, match=r"Column 'exit' has 1 row with a defection at or before entry"):
        ShiftedBetaGeometric().fit(frame.iloc[1:], duration="tenure", event="churned")
    with pytest.raises(TenureDataError, match=r"Column 'regular' has 1 row with more survivors"):
        ShiftedBetaGeometric().fit_counts(pd.DataFrame({"regular": [100, 80, 90]}))
    with pytest.raises(TenureDataError, match=r"negative survivor counts"):
        ShiftedBetaGeometric().fit_counts([100, 80, -1])
    with pytest.raises(TenureDataError, match=r"needs the cohort size and at least one later count"):
        ShiftedBetaGeometric().fit_counts([100])
    with pytest.raises(TenureDataError, match=r"not strictly increasing"):
        ShiftedBetaGeometric().fit_counts([100, 80, 70], periods=[0, 2, 2])
    with pytest.raises(TenureDataError, match=r"no column 'yr'"):
        ShiftedBetaGeometric().fit_counts(fh_train, periods="yr")
    with pytest.raises(ValueError, match="'conf_level' parameter of ShiftedBetaGeometric"):
        ShiftedBetaGeometric(conf_level=1.5).fit_counts([100, 80, 70])
    with pytest.raises(TypeError, match="fit_counts"):
        ShiftedBetaGeometric().fit([100, 80, 70])
    with pytest.raises(NotFittedError):
        ShiftedBetaGeometric().predict_survival()
    spells = Tenures.from_frame(pd.DataFrame({"id": [1, 1], "exit": [2, 3], "entry": [0, 2], "event": [0, 1]}),
                                duration="exit", entry="entry", event="event", id="id", spells=True)
    with pytest.raises(ValueError, match="several spells"):
        ShiftedBetaGeometric().fit(spells)


def test_degenerate_data_warns():
    with pytest.warns(StatisticalWarning, match="not reliable"):
        ShiftedBetaGeometric().fit_counts([100, 100, 100])


def test_estimator_hygiene(sbg):
    m = BetaDiscreteWeibull(conf_level=0.9)
    assert m.get_params() == {"conf_level": 0.9}
    assert repr(m) == "BetaDiscreteWeibull(conf_level=0.9)"
    assert not any(k.endswith("_") for k in vars(m))
    assert m.fit_counts([1000, 600, 450, 380]) is m
    assert sbg.aic_ == pytest.approx(2 * 4 - 2 * sbg.log_likelihood_)
    assert sbg.bic_ == pytest.approx(4 * math.log(2000) - 2 * sbg.log_likelihood_)
    assert sbg.n_obs_ == 2000 and sbg.n_events_ == 759 + 509


def test_plot_projection(sbg, fh):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    out = sbg.plot(ax=ax, actual=fh, periods="year")
    assert out is ax
    styles = [line.get_linestyle() for line in ax.get_lines()]
    assert styles.count("-") == 2 and styles.count("--") == 2 and styles.count("None") == 2
    assert "S(t)" in ax.get_ylabel()
    plt.close(fig)
