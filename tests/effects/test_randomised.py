"""A/B holdouts (:func:`churnsurv.effects.ab_test`) and the RMST sample size.

R numbers come from ``tests/reference/make_reference_effects_rct.R`` (survival 3.5-3; input
``inputs/effects_rct_ab.csv``): ``summary(survfit(Surv(time, status) ~ arm), times = c(6, 12, 18))``
(Greenwood), ``print(survfit, rmean = 18)`` and the formula of ``survRM2::rmst2`` (not packaged for Debian,
re-implemented in the script and checked against ``rmean``), ``survfit(Surv(time, state) ~ arm)`` (Aalen-Johansen,
infinitesimal-jackknife std.err), ``survdiff`` and ``p.adjust``.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from churnsurv import KaplanMeier, Tenures, TenureDataError
from churnsurv.datasets import load_maven_telco
from churnsurv.effects import ImmortalTimeError, ab_test, rmst_power, rmst_sample_size
from churnsurv.effects._simulate import ab_truth, simulate_ab_test
from churnsurv.value import lifetime_value

REF = Path(__file__).resolve().parents[1] / "reference"
TIMES = [6, 12, 18]
TAU = 18.0
RTOL = 1e-9


def _fixture(name):
    return pd.read_csv(REF / "fixtures" / f"effects_rct_{name}.csv", keep_default_na=False, na_values=[""])


@pytest.fixture(scope="module")
def ab_frame():
    df = pd.read_csv(REF / "inputs" / "effects_rct_ab.csv", keep_default_na=False)
    df["cause"] = df["cause"].replace("", None)
    return df


@pytest.fixture(scope="module")
def result(ab_frame):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ab_test(ab_frame, arm="arm", duration="time", event="status", cause="cause", times=TIMES, tau=TAU,
                       by="segment", reference="control")


def _contrast(tab, measure, **keys):
    t = tab[(tab["measure"] == measure) & (tab["arm"] == "treatment")]
    for k, v in keys.items():
        t = t[t[k] == v]
    return t.iloc[0]


# ---------------------------------------------------------------------- against R
def test_survival_differences_match_r(result):
    r = _fixture("survival")
    for t in TIMES:
        rows = r[r["time"] == t]
        for arm in ("control", "treatment"):
            mine = result.survival.query("measure == 'survival' and arm == @arm and time == @t").iloc[0]
            ref = rows[rows["arm"] == arm].iloc[0]
            np.testing.assert_allclose(mine[["estimate", "std_error", "ci_lower", "ci_upper"]].to_numpy(float),
                                       ref[["estimate", "std_error", "ci_lower", "ci_upper"]].to_numpy(float),
                                       rtol=RTOL)
        ref = rows.iloc[0]
        for measure in ("difference", "ratio"):
            mine = _contrast(result.survival, measure, time=float(t))
            cols = [measure, f"{measure}_se", f"{measure}_lower", f"{measure}_upper", f"{measure}_p"]
            np.testing.assert_allclose(
                mine[["estimate", "std_error", "ci_lower", "ci_upper", "p_value"]].to_numpy(float),
                ref[cols].to_numpy(float), rtol=RTOL)


def test_rmst_matches_r_rmean_and_rmst2_formula(result, ab_frame):
    r = _fixture("rmst")
    for arm in ("control", "treatment"):
        mine = result.rmst.query("measure == 'rmst' and arm == @arm").iloc[0]
        ref = r[r["arm"] == arm].iloc[0]
        np.testing.assert_allclose([mine["estimate"], mine["std_error"]], [ref["estimate"], ref["std_error"]],
                                   rtol=RTOL)
    ref = r.iloc[0]
    for measure in ("difference", "ratio"):
        mine = _contrast(result.rmst, measure)
        cols = [measure, f"{measure}_se", f"{measure}_lower", f"{measure}_upper", f"{measure}_p"]
        np.testing.assert_allclose(mine[["estimate", "std_error", "ci_lower", "ci_upper", "p_value"]].to_numpy(float),
                                   ref[cols].to_numpy(float), rtol=RTOL)
    # the same numbers as the package's KaplanMeier.compare_rmst
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cmp = KaplanMeier().fit(ab_frame, duration="time", event="status", by="arm").compare_rmst(TAU, "control")
    for measure in ("difference", "ratio"):
        mine = _contrast(result.rmst, measure)
        theirs = cmp[cmp["measure"] == measure].iloc[0]
        np.testing.assert_allclose(mine[["estimate", "std_error", "ci_lower", "ci_upper", "p_value"]].to_numpy(float),
                                   theirs[["estimate", "std_error", "ci_lower", "ci_upper", "p_value"]].to_numpy(float),
                                   rtol=1e-12)


def test_incidence_matches_r_aalen_johansen(result):
    r = _fixture("incidence")
    assert len(r) == 12
    for _, ref in r.iterrows():
        cause, t, arm = ref["cause"], float(ref["time"]), ref["arm"]  # noqa: F841 (used in query)
        mine = result.incidence.query("cause == @cause and time == @t and arm == @arm and measure == 'incidence'")
        np.testing.assert_allclose(mine[["estimate", "std_error"]].to_numpy(float)[0],
                                   [ref["estimate"], ref["std_error"]], rtol=1e-8)
        for measure in ("difference", "ratio"):
            m = _contrast(result.incidence, measure, cause=cause, time=t)
            np.testing.assert_allclose([m["estimate"], m["std_error"], m["ci_lower"], m["ci_upper"], m["p_value"]],
                                       ref[[measure, f"{measure}_se", f"{measure}_lower", f"{measure}_upper",
                                            f"{measure}_p"]].to_numpy(float), rtol=1e-8)


def test_uplift_matches_r_with_holm_and_bonferroni(result):
    r = _fixture("uplift").set_index("segment")
    up = result.uplift[result.uplift["metric"] == "rmst"].set_index("segment").loc[r.index]
    np.testing.assert_allclose(up["estimate"], r["estimate"], rtol=RTOL)
    np.testing.assert_allclose(up["std_error"], r["std_error"], rtol=RTOL)
    np.testing.assert_allclose(up["p_value"], r["p_value"], rtol=RTOL)
    np.testing.assert_allclose(up["p_adjusted"], r["p_holm"], rtol=RTOL)
    np.testing.assert_allclose(up["ci_lower_adjusted"], r["ci_lower_bonferroni"], rtol=RTOL)
    np.testing.assert_allclose(up["ci_upper_adjusted"], r["ci_upper_bonferroni"], rtol=RTOL)
    q = result.tests[result.tests["test"].str.startswith("heterogeneity")].iloc[0]
    np.testing.assert_allclose([q["statistic"], q["p_value"]], [r["cochran_q"].iloc[0], r["cochran_p"].iloc[0]],
                               rtol=RTOL)
    assert q["dof"] == 2


def test_tests_match_r_survdiff(result):
    r = _fixture("tests")
    overall = result.tests[(result.tests["test"] == "logrank") & result.tests["cause"].isna()].iloc[0]
    np.testing.assert_allclose(overall["statistic"], r["statistic"].iloc[0], rtol=1e-10)
    for cause in ("price", "service"):
        mine = result.tests[result.tests["cause"] == cause].iloc[0]
        np.testing.assert_allclose([mine["statistic"], mine["p_value"]],
                                   r.loc[r["cause"] == cause, ["statistic", "p_value"]].to_numpy(float)[0], rtol=1e-10)


# ---------------------------------------------------------------------- behaviour
def test_tidy_layout_summary_and_no_mutation(ab_frame, result):
    before = ab_frame.copy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ab_test(ab_frame, arm="arm", duration="time", event="status", times=[6], tau=12)
    pd.testing.assert_frame_equal(ab_frame, before)
    assert list(result.survival.columns) == ["arm", "reference", "time", "measure", "estimate", "std_error",
                                             "ci_lower", "ci_upper", "p_value"]
    s = result.summary()
    assert set(s["quantity"]) == {"survival", "rmst", "incidence"}
    assert set(s["measure"]) == {"difference", "ratio"}
    assert result.value is None


def test_tenures_input_gives_the_same_numbers(ab_frame, result):
    t = Tenures.from_frame(ab_frame, duration="time", event="status", cause="cause", segments=["arm", "segment"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        again = ab_test(t, arm="arm", times=TIMES, tau=TAU, by="segment")
    pd.testing.assert_frame_equal(again.rmst, result.rmst)
    pd.testing.assert_frame_equal(again.survival, result.survival)


def test_value_difference_through_the_value_layer():
    df = simulate_ab_test(1500, random_state=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = ab_test(df, arm="arm", duration="tenure", event="churned", tau=24, margin="margin",
                      discount_rate=0.01, n_boot=40, random_state=0, causes=False)
        v = lifetime_value(df, by="arm", margin="margin", discount_rate=0.01, duration="tenure", event="churned",
                           values=["margin"], segments=["arm"])
    per_arm = res.value[res.value["measure"] == "value"].set_index("arm")["estimate"]
    np.testing.assert_allclose(per_arm.loc[["control", "treatment"]].to_numpy(), v["estimate"].to_numpy(),
                               rtol=1e-12)
    diff = res.value[res.value["measure"] == "difference"].iloc[0]
    assert diff["estimate"] == pytest.approx(per_arm["treatment"] - per_arm["control"])
    assert diff["ci_lower"] < diff["estimate"] < diff["ci_upper"]
    assert diff["estimate"] > 0  # the treatment lowers the hazard


def test_simulated_truth_is_recovered():
    df = simulate_ab_test(6000, random_state=2)
    truth = ab_truth([12], 24)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = ab_test(df, arm="arm", duration="tenure", event="churned", cause="cause", times=[12], tau=24)
    d = _contrast(res.rmst, "difference")
    true_d = truth["treatment"]["rmst"] - truth["control"]["rmst"]
    assert abs(d["estimate"] - true_d) < 3 * d["std_error"]
    inc = _contrast(res.incidence, "difference", cause="price")
    true_i = truth["treatment"]["incidence"]["price"][0] - truth["control"]["incidence"]["price"][0]
    assert abs(inc["estimate"] - true_i) < 3 * inc["std_error"]


@pytest.mark.slow
def test_coverage_of_arm_contrasts_over_200_replications():
    """Coverage of the 95% intervals of the RMST and survival differences (reported figures: see the test output)."""
    truth = ab_truth([12], 24)
    true_r = truth["treatment"]["rmst"] - truth["control"]["rmst"]
    true_s = truth["treatment"]["survival"][0] - truth["control"]["survival"][0]
    hits_r = hits_s = 0
    reps = 200
    for seed in range(reps):
        df = simulate_ab_test(800, random_state=5000 + seed)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = ab_test(df, arm="arm", duration="tenure", event="churned", times=[12], tau=24, causes=False)
        r = _contrast(res.rmst, "difference")
        s = _contrast(res.survival, "difference")
        hits_r += r["ci_lower"] <= true_r <= r["ci_upper"]
        hits_s += s["ci_lower"] <= true_s <= s["ci_upper"]
    print(f"coverage: rmst difference {hits_r / reps:.3f}, survival difference {hits_s / reps:.3f}")
    assert 0.91 <= hits_r / reps <= 0.98 and 0.91 <= hits_s / reps <= 0.98


def test_plot_returns_axes(result):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    assert result.plot(ax=ax) is ax
    assert len(ax.get_lines()) == 2
    ax2 = result.plot(kind="difference")
    assert len(ax2.get_lines()) >= 1
    plt.close("all")


def test_tenure_banded_arm_is_refused_with_immortal_time_error():
    maven = load_maven_telco(truncate=False)
    with pytest.raises(ImmortalTimeError, match="immortal time") as err:
        ab_test(maven, arm="Offer", tau=12)
    assert isinstance(err.value, TenureDataError)
    assert "Offer E" in str(err.value) and err.value.column == "Offer"


def test_bad_parameters(ab_frame):
    kw = dict(duration="time", event="status")
    with pytest.raises(ValueError, match="'reference' parameter of ab_test"):
        ab_test(ab_frame, arm="arm", reference="nope", tau=12, **kw)
    with pytest.raises(ValueError, match="at least two arms"):
        ab_test(ab_frame[ab_frame["arm"] == "control"], arm="arm", tau=12, **kw)
    with pytest.raises(ValueError, match="'adjust' parameter"):
        ab_test(ab_frame, arm="arm", tau=12, adjust="sidak", **kw)
    with pytest.raises(TypeError, match="'arm' parameter"):
        ab_test(ab_frame, arm=3, tau=12, **kw)


# ---------------------------------------------------------------------- sample size
def test_sample_size_example_and_inverse():
    out = rmst_sample_size(0.5, tau=12, survival=0.05)
    n = int(out.loc[0, "n_total"])
    assert rmst_power(n, 0.5, tau=12, survival=0.05) >= 0.8 > rmst_power(n - 4, 0.5, tau=12, survival=0.05)
    # exponential without censoring: the closed-form variance of the restricted mean
    lam, tau = 0.05, 12.0
    # sigma^2 = int_0^tau (int_t^tau S)^2 lam / S dt with S = exp(-lam t)
    t = np.linspace(0, tau, 200001)
    a = (np.exp(-lam * t) - np.exp(-lam * tau)) / lam
    f = a ** 2 * lam / np.exp(-lam * t)
    sigma = np.sqrt(np.sum((f[1:] + f[:-1]) / 2 * np.diff(t)))
    assert out.loc[0, "sd_control"] == pytest.approx(sigma, rel=1e-3)
    # a survival table (a step curve) gives the same answer as the function it steps
    grid = np.arange(0, 13.0)
    step = rmst_sample_size(hazard_ratio=0.8, tau=12, survival=pd.DataFrame({"time": grid,
                                                                             "estimate": np.exp(-lam * grid)}))
    assert step.loc[0, "n_total"] > 0


def test_sample_size_power_by_simulation():
    """The computed n gives the target power: 300 simulated tests analysed with KaplanMeier.compare_rmst."""
    design = dict(tau=12, survival=0.05, accrual=12, follow_up=6, dropout=0.01)
    out = rmst_sample_size(1.0, power=0.8, **design).iloc[0]
    n, hr = int(out["n_total"]), out["hazard_ratio"]
    rng = np.random.default_rng(20240613)
    reps, rejected = 300, 0
    for _ in range(reps):
        arm = rng.random(n) < 0.5
        t = rng.exponential(1 / (0.05 * np.where(arm, hr, 1.0)))
        c = np.minimum(6 + 12 * rng.random(n), rng.exponential(1 / 0.01, n))
        df = pd.DataFrame({"t": np.minimum(t, c), "e": t <= c, "arm": np.where(arm, "b", "a")})
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            cmp = KaplanMeier(min_at_risk=None).fit(df, duration="t", event="e", by="arm").compare_rmst(12)
        rejected += cmp["p_value"].iloc[0] < 0.05
    power = rejected / reps
    assert abs(power - 0.8) < 0.07, power  # Monte Carlo SE 0.023


def test_sample_size_errors():
    with pytest.raises(ValueError, match="needs the RMST 'difference'"):
        rmst_sample_size(tau=12, survival=0.05)
    with pytest.raises(ValueError, match="no proportional-hazards alternative"):
        rmst_sample_size(20.0, tau=12, survival=0.05)
    with pytest.raises(ValueError, match="'power' parameter"):
        rmst_sample_size(0.5, tau=12, survival=0.05, power=1.2)
    with pytest.raises(TypeError, match="'survival' parameter"):
        rmst_sample_size(0.5, tau=12, survival="weibull")
