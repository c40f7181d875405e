"""Tests for churnsurv.competing.finegray.FineGray: API, error messages, internal consistency and a simulation study.

The agreement with cmprsk::crr lives in ``test_against_r_finegray.py``. Here the references are

* lifelines' ``CoxPHFitter``: with no competing defections and no tied times, Fine-Gray regression is the Cox
  model (Breslow = Efron without ties) and crr's robust variance is the Lin-Wei sandwich (``robust=True``);
* finite differences of the log partial likelihood (score and information);
* the closed-form truth of the Fine & Gray (1999) design (``churnsurv.simulate.simulate_fine_gray``): the
  coefficient recovers the subdistribution log hazard ratio and the intervals cover it about 95% of the time.
  Set ``CHURNSURV_WRITE_RESULTS=1`` to rewrite ``benchmarks/results/finegray_coverage.md`` from that study.
"""

import os
import time
import warnings
from pathlib import Path

import lifelines
import numpy as np
import pandas as pd
import pytest
from scipy import optimize

from churnsurv import NotFittedError, Tenures, TenureDataError
from churnsurv.models.formula import _parse_formula
from churnsurv.competing.finegray import ConvergenceWarning, FineGray
from churnsurv.simulate import simulate_fine_gray

ROOT = Path(__file__).resolve().parents[2]
COLUMNS = ["term", "coef", "std_error", "hazard_ratio", "ci_lower", "ci_upper", "z", "p_value"]


@pytest.fixture
def frame() -> pd.DataFrame:
    """Fine & Gray design, n = 400, censoring U(0, 3), with a categorical plan and a numeric charge."""
    sim = simulate_fine_gray(400, censoring=3.0, random_state=7)
    rng = np.random.default_rng(7)
    return sim.data.assign(
        cid=[f"c{i:03d}" for i in range(400)],
        reason=sim.data["event"].map({1: "competitor", 2: "price"}),
        plan=rng.choice(["basic", "pro", "max"], 400),
        charge=rng.normal(50, 10, 400).round(2),
    )


FIT = dict(duration="time", cause="reason", id="cid")


@pytest.fixture
def maven_naive(maven_tenures) -> Tenures:
    return maven_tenures.naive()


# ---------------------------------------------------------------------------------------------- API
def test_fit_returns_self_and_tidy_results(frame):
    fg = FineGray(cause="competitor")
    assert fg.fit(frame, covariates=["z", "plan", "charge"], **FIT) is fg
    assert list(fg.coef_.columns) == COLUMNS
    assert list(fg.baseline_.columns) == ["time", "n_events", "jump", "cumulative_hazard"]
    assert fg.converged_ and fg.n_iter_ >= 1
    assert fg.n_obs_ == 400
    assert fg.n_events_ + fg.n_competing_ + fg.n_censored_ == 400
    assert fg.n_events_ == (frame["reason"] == "competitor").sum()
    assert fg.baseline_["n_events"].sum() == fg.n_events_
    assert fg.loglik_ > fg.loglik_null_
    assert fg.cause_ == "competitor" and fg.time_unit_ == "month"
    row = fg.coef_.set_index("term").loc["z"]
    assert row["hazard_ratio"] == pytest.approx(np.exp(row["coef"]))
    assert row["ci_lower"] < row["hazard_ratio"] < row["ci_upper"]
    assert list(fg.vcov_.index) == list(fg.terms_)
    np.testing.assert_allclose(np.sqrt(np.diag(fg.vcov_)), fg.coef_["std_error"])
    assert "competitor" in fg.summary() and "plan[max]" in fg.summary()


def test_term_names_use_the_reference_level(maven_naive):
    fg = FineGray(cause="competitor").fit(maven_naive, formula="Contract + Q('Monthly Charge')")
    assert fg.terms_ == ("Contract[One Year]", "Contract[Two Year]", "Monthly Charge")
    assert fg.reference_ == {"Contract": "Month-to-Month"}  # the first level by default
    other = FineGray(cause="competitor").fit(maven_naive, covariates=["Contract", "Monthly Charge"],
                                             reference={"Contract": "Two Year"})
    assert other.terms_ == ("Contract[Month-to-Month]", "Contract[One Year]", "Monthly Charge")
    assert other.reference_ == {"Contract": "Two Year"}
    # a reparametrisation: same likelihood, same predictions, opposite contrast
    assert other.loglik_ == pytest.approx(fg.loglik_, abs=1e-8)
    c1, c2 = fg.coef_.set_index("term")["coef"], other.coef_.set_index("term")["coef"]
    assert c2["Contract[Month-to-Month]"] == pytest.approx(-c1["Contract[Two Year]"], abs=1e-7)
    profiles = pd.DataFrame({"Contract": ["One Year", "Two Year"], "Monthly Charge": [60.0, 80.0]})
    p1 = fg.predict_cumulative_incidence(profiles, times=[6, 24])
    p2 = other.predict_cumulative_incidence(profiles, times=[6, 24])
    np.testing.assert_allclose(p1[["estimate", "ci_lower", "ci_upper"]], p2[["estimate", "ci_lower", "ci_upper"]],
                               rtol=1e-6)


def test_formula_list_and_design_matrix_agree(frame):
    by_formula = FineGray(cause="competitor").fit(frame, formula="~ z + C(plan, ref='pro') + `charge`", **FIT)
    by_list = FineGray(cause="competitor").fit(frame, covariates=["z", "plan", "charge"],
                                               reference={"plan": "pro"}, **FIT)
    design = pd.DataFrame({"z": frame["z"], "plan[basic]": (frame["plan"] == "basic") * 1.0,
                           "plan[max]": (frame["plan"] == "max") * 1.0, "charge": frame["charge"]})
    by_matrix = FineGray(cause="competitor").fit(frame, covariates=design, **FIT)
    for other in (by_list, by_matrix):
        assert other.terms_ == by_formula.terms_ == ("z", "plan[basic]", "plan[max]", "charge")
        np.testing.assert_allclose(other.coef_["coef"], by_formula.coef_["coef"], atol=1e-10)
        np.testing.assert_allclose(other.coef_["std_error"], by_formula.coef_["std_error"], atol=1e-10)
    pred = by_matrix.predict_cumulative_incidence(design.iloc[:2], times=[1.0])
    assert len(pred) == 2


def test_numeric_column_named_in_reference_becomes_categorical(frame):
    fg = FineGray(cause="competitor").fit(frame, covariates=["z"], reference={"z": 1}, **FIT)
    assert fg.terms_ == ("z[0]",)
    base = FineGray(cause="competitor").fit(frame, covariates=["z"], **FIT)
    assert fg.coef_["coef"].iloc[0] == pytest.approx(-base.coef_["coef"].iloc[0], abs=1e-8)


def test_tenures_and_frame_doors_agree(frame):
    tenures = Tenures.from_frame(frame, segments=["plan"], values=["z", "charge"], **FIT)
    a = FineGray(cause="competitor").fit(tenures, covariates=["z", "plan", "charge"])
    b = FineGray(cause="competitor").fit(frame, covariates=["z", "plan", "charge"], **FIT)
    pd.testing.assert_frame_equal(a.coef_, b.coef_)


def test_input_is_not_modified(frame, maven_naive):
    before, data_before = frame.copy(), maven_naive.data.copy()
    FineGray(cause="competitor").fit(frame, covariates=["z", "plan"], **FIT)
    FineGray(cause="competitor", censoring_strata="Internet Type").fit(maven_naive, covariates=["Contract"])
    pd.testing.assert_frame_equal(frame, before)
    pd.testing.assert_frame_equal(maven_naive.data, data_before)


def test_refit_does_not_change_results_handed_out(frame):
    fg = FineGray(cause="competitor").fit(frame, covariates=["z"], **FIT)
    coef = fg.coef_
    snapshot = coef.copy()
    fg.fit(frame, covariates=["z", "charge"], **FIT)
    pd.testing.assert_frame_equal(coef, snapshot)
    assert fg.terms_ == ("z", "charge")


def test_row_order_does_not_matter(frame):
    shuffled = frame.sample(frac=1.0, random_state=1)
    a = FineGray(cause="competitor").fit(frame, covariates=["z", "plan"], **FIT)
    b = FineGray(cause="competitor").fit(shuffled, covariates=["z", "plan"], **FIT)
    np.testing.assert_allclose(a.coef_[["coef", "std_error"]], b.coef_[["coef", "std_error"]], atol=1e-10)
    np.testing.assert_allclose(a.baseline_["cumulative_hazard"], b.baseline_["cumulative_hazard"], atol=1e-12)


def test_single_censoring_stratum_changes_nothing(frame):
    a = FineGray(cause="competitor").fit(frame, covariates=["z"], **FIT)
    b = FineGray(cause="competitor", censoring_strata="one").fit(frame.assign(one="all"), covariates=["z"], **FIT)
    pd.testing.assert_frame_equal(a.coef_, b.coef_)


def test_params_and_not_fitted():
    fg = FineGray(cause="price", conf_level=0.9)
    assert fg.get_params()["conf_level"] == 0.9
    assert fg.set_params(max_iter=5) is fg and fg.max_iter == 5
    assert "cause='price'" in repr(fg)
    with pytest.raises(ValueError, match="Invalid parameter 'alpha'"):
        fg.set_params(alpha=0.05)
    with pytest.raises(NotFittedError, match="This FineGray instance is not fitted yet"):
        fg.predict_cumulative_incidence(pd.DataFrame({"z": [0]}))
    with pytest.raises(NotFittedError):
        fg.summary()


# ---------------------------------------------------------------------------------------------- predictions
def test_predicted_cumulative_incidence(frame):
    fg = FineGray(cause="competitor").fit(frame, covariates=["z", "plan"], **FIT)
    profiles = pd.DataFrame({"z": [0, 1], "plan": ["basic", "max"]}, index=["low", "high"])
    pred = fg.predict_cumulative_incidence(profiles)
    assert list(pred.columns) == ["profile", "time", "estimate", "std_error", "ci_lower", "ci_upper"]
    assert list(pred["profile"].unique()) == ["low", "high"]
    for _, g in pred.groupby("profile"):
        np.testing.assert_array_equal(g["time"], fg.baseline_["time"])  # predict.crr's times
        assert (np.diff(g["estimate"]) >= 0).all()
        assert ((g["ci_lower"] <= g["estimate"]) & (g["estimate"] <= g["ci_upper"])).all()
        assert ((g["ci_lower"] >= 0) & (g["ci_upper"] <= 1)).all()
    # the model formula: F(t | x) = 1 - exp(-H0(t) exp(x'b))
    b = fg.coef_.set_index("term")["coef"]
    lp = b["z"] + b["plan[max]"]
    expected = 1 - np.exp(-fg.baseline_["cumulative_hazard"].to_numpy() * np.exp(lp))
    np.testing.assert_allclose(pred.loc[pred["profile"] == "high", "estimate"], expected, rtol=1e-12)
    # step function between event times; 0 before the first one
    t = fg.baseline_["time"].to_numpy()
    at = fg.predict_cumulative_incidence(profiles.iloc[:1], times=[t[0] / 2, t[3], (t[3] + t[4]) / 2])
    assert at["estimate"].iloc[0] == 0 and at["ci_upper"].iloc[0] == 0
    assert at["estimate"].iloc[1] == at["estimate"].iloc[2]
    assert at["ci_upper"].iloc[1] == at["ci_upper"].iloc[2]


def test_prediction_errors(frame):
    fg = FineGray(cause="competitor").fit(frame, covariates=["z", "plan"], **FIT)
    with pytest.raises(TenureDataError, match="no column 'plan'"):
        fg.predict_cumulative_incidence(pd.DataFrame({"z": [0]}))
    with pytest.raises(TenureDataError, match=r"Column 'plan' has 1 row with levels not seen when fitting"):
        fg.predict_cumulative_incidence(pd.DataFrame({"z": [0, 1], "plan": ["basic", "gold"]}))
    with pytest.raises(ValueError, match="'times' parameter"):
        fg.predict_cumulative_incidence(pd.DataFrame({"z": [0], "plan": ["pro"]}), times=[-1.0])
    with pytest.raises(TypeError, match="'profiles' parameter"):
        fg.predict_cumulative_incidence({"z": [0]})


# ---------------------------------------------------------------------------------------------- errors
def test_cause_not_in_data(frame):
    with pytest.raises(ValueError, match=r"'cause' parameter of FineGray must be one of the causes in the data "
                                         r"\('competitor', 'price'\)\. Got 'churn' instead"):
        FineGray(cause="churn").fit(frame, covariates=["z"], **FIT)
    with pytest.raises(ValueError, match="Got None instead"):
        FineGray().fit(frame, covariates=["z"], **FIT)


def test_cause_given_as_number_matches_its_label():
    sim = simulate_fine_gray(200, censoring=3.0, random_state=3)
    df = sim.data.assign(reason=np.where(sim.data["event"] > 0, sim.data["event"].astype(str), None))
    fg = FineGray(cause=1).fit(df, duration="time", cause="reason", covariates=["z"])
    assert fg.cause_ == "1"


def test_no_cause_column(frame):
    with pytest.raises(ValueError, match="needs the cause of each defection"):
        FineGray(cause="competitor").fit(frame, duration="time", event="event", censored=[0], covariates=["z"])


def test_no_events_of_the_cause(frame):
    tenures = Tenures.from_frame(frame, causes=["competitor", "price", "service"], values=["z"], **FIT)
    with pytest.raises(TenureDataError, match="no defections of cause 'service'"):
        FineGray(cause="service").fit(tenures, covariates=["z"])


def test_missing_covariate_values(frame, check_data_error):
    frame.loc[[3, 10, 11], "charge"] = np.nan
    with pytest.raises(TenureDataError) as excinfo:
        FineGray(cause="competitor").fit(frame, covariates=["z", "charge"], **FIT)
    msg = check_data_error(excinfo, column="charge", n_rows=3, ids=["c003", "c010", "c011"],
                           problem="missing covariate values")
    assert "dropna" in msg


def test_constant_covariate(frame):
    with pytest.raises(TenureDataError, match="Term 'flat' is constant"):
        FineGray(cause="competitor").fit(frame.assign(flat=2.0), covariates=["z", "flat"], **FIT)
    with pytest.raises(TenureDataError, match="Column 'plan' has a single level"):
        FineGray(cause="competitor").fit(frame.assign(plan="pro"), covariates=["z", "plan"], **FIT)


def test_collinear_covariates(frame):
    with pytest.raises(TenureDataError, match="Term 'z2' is a linear combination of 'z'"):
        FineGray(cause="competitor").fit(frame.assign(z2=1 - frame["z"]), covariates=["z", "z2"], **FIT)


def test_level_without_events_is_reported_as_separation(frame):
    frame.loc[(frame["reason"] == "competitor") & (frame["plan"] == "max"), "plan"] = "pro"
    with pytest.raises(TenureDataError, match=r"no 'competitor' defections among the \d+ rows with plan == 'max', "
                                              r"so the coefficient of term plan\[max\] diverges to -inf") as err:
        FineGray(cause="competitor").fit(frame, covariates=["z", "plan"], **FIT)
    assert err.value.column == "plan"
    with pytest.raises(TenureDataError, match="the reference level plan == 'max' has no 'competitor' defections"):
        FineGray(cause="competitor").fit(frame, covariates=["z", "plan"], reference={"plan": "max"}, **FIT)


def test_numeric_separation_names_the_term(frame):
    flag = np.where(frame["reason"] == "competitor", 1.0, 0.0)  # a field filled in only for churners
    with pytest.raises(TenureDataError, match=r"largest value of term 'flag'.*diverges to \+inf"):
        FineGray(cause="competitor").fit(frame.assign(flag=flag), covariates=["z", "flag"], **FIT)


def test_left_truncation_uses_geskus_weights_and_crr_refuses_it(maven_tenures):
    """Truncated data get the Geskus weights by default (they used to be refused); weighting='crr' refuses."""
    fg = FineGray(cause="competitor").fit(maven_tenures, covariates=["Contract"])
    assert fg.weighting_ == "geskus" and fg.converged_
    naive = FineGray(cause="competitor").fit(maven_tenures.naive(), covariates=["Contract"])
    assert naive.weighting_ == "crr"
    assert np.all(np.abs(fg.coef_["coef"].to_numpy() - naive.coef_["coef"].to_numpy()) > 1)
    assert "Geskus" in fg.summary()
    n_late = int((maven_tenures.data["entry"] > 0).sum())
    with pytest.raises(TenureDataError, match=rf"Column 'entry' has {n_late} rows with left truncation.*'geskus'"):
        FineGray(cause="competitor", weighting="crr").fit(maven_tenures, covariates=["Contract"])


def test_case_weights_are_refused(frame):
    with pytest.raises(TenureDataError, match="case weights other than 1"):
        FineGray(cause="competitor").fit(frame.assign(w=2.0), weights="w", covariates=["z"], **FIT)


def test_covariate_column_errors(frame, maven_naive):
    with pytest.raises(TenureDataError, match=r"no column 'Tenure'.*segment and value columns"):
        FineGray(cause="competitor").fit(maven_naive, covariates=["Tenure"])
    with pytest.raises(TenureDataError, match=r"The records have no column 'nope'"):
        FineGray(cause="competitor").fit(frame, covariates=["nope"], **FIT)
    with pytest.raises(ValueError, match=r"reference level 'gold' of column 'plan' is not among its levels "
                                         r"\('basic', 'max', 'pro'\)"):
        FineGray(cause="competitor").fit(frame, covariates=["plan"], reference={"plan": "gold"}, **FIT)
    with pytest.raises(ValueError, match="either formula"):
        FineGray(cause="competitor").fit(frame, **FIT)
    with pytest.raises(ValueError, match="either formula"):
        FineGray(cause="competitor").fit(frame, formula="z", covariates=["z"], **FIT)
    with pytest.raises(ValueError, match="not covariates"):
        FineGray(cause="competitor").fit(frame, covariates=["z"], reference={"plan": "pro"}, **FIT)
    with pytest.raises(TypeError, match="frame keywords"):
        FineGray(cause="competitor").fit(maven_naive, covariates=["Contract"], duration="exit")


@pytest.mark.parametrize("formula, message", [
    ("plan * z", "expected '\\+' at position 5, got '\\*'"),
    ("y ~ plan", "has a left-hand side"),
    ("log(charge)", "got '\\('"),
    ("plan +", "expected a column name at position 6, got the end"),
    ("C(plan, level='pro')", "expected ref='level'"),
    ("z - 1", "got '-'"),
])
def test_formula_errors(formula, message):
    with pytest.raises(ValueError, match=message):
        _parse_formula(formula)


def test_formula_grammar():
    specs = _parse_formula("~ Contract + Q('Monthly Charge') + `Internet Type` + C(plan, ref='pro') + C(z, ref=1)")
    assert [(s.column, s.categorical, s.reference) for s in specs] == [
        ("Contract", None, None), ("Monthly Charge", None, None), ("Internet Type", None, None),
        ("plan", True, "pro"), ("z", True, 1)]


@pytest.mark.parametrize("params, message", [
    (dict(conf_level=1.5), "The 'conf_level' parameter of FineGray must be a float in \\(0, 1\\). Got 1.5 instead"),
    (dict(ties="exact"), "The 'ties' parameter of FineGray must be one of \\{'breslow', 'efron'\\}"),
    (dict(weighting="ipcw"), "The 'weighting' parameter of FineGray must be one of \\{'auto', 'crr', 'geskus'\\}"),
    (dict(ties="efron"), "The 'ties' parameter of FineGray must be 'breslow' with weighting='crr'"),
    (dict(weighting="geskus", censoring_strata="plan"),
     "The 'censoring_strata' parameter of FineGray must be None with Geskus weights"),
    (dict(tol=0.0), "The 'tol' parameter of FineGray must be a float in \\(0, 1\\)"),
    (dict(max_iter=0), "The 'max_iter' parameter of FineGray must be a positive int"),
])
def test_parameter_errors(frame, params, message):
    with pytest.raises(ValueError, match=message):
        FineGray(cause="competitor", **params).fit(frame, covariates=["z"], **FIT)


def test_non_convergence_warns_with_iterations_and_gradient(frame):
    with pytest.warns(ConvergenceWarning, match=r"did not converge after 1 Newton-Raphson iterations \(max_iter=1\); "
                                                r"the largest score component is [0-9.e-]+"):
        fg = FineGray(cause="competitor", max_iter=1).fit(frame, covariates=["z", "plan"], **FIT)
    assert not fg.converged_ and fg.n_iter_ == 1
    assert "converged: False" in fg.summary()


# ---------------------------------------------------------------------------------------------- consistency
def test_score_and_information_are_the_derivatives_of_the_log_likelihood(frame):
    fg = FineGray(cause="competitor").fit(frame, covariates=["z", "plan", "charge"], **FIT)
    crr = fg._crr
    rng = np.random.default_rng(0)
    for b in (np.zeros(crr.p), fg._beta + rng.normal(0, 0.1, crr.p)):
        err = optimize.check_grad(lambda v: crr.loglik(v), lambda v: crr.derivatives(v)[1], b)
        assert err < 1e-5 * max(1.0, np.abs(crr.derivatives(b)[1]).max())
        info = crr.derivatives(b)[2]
        numeric = np.column_stack([
            (crr.derivatives(b - h)[1] - crr.derivatives(b + h)[1]) / 2e-6 for h in np.eye(crr.p) * 1e-6])
        np.testing.assert_allclose(info, numeric, rtol=1e-5, atol=1e-6)


def _breslow_influence_direct(crr, b):
    """A_i(tau_k), the influence of row i on the Breslow estimate at tau_k (b fixed), from its definition:

    A_i(t) = d_i 1(t_i <= t) / S0(t_i) - r_i sum_{tau_m <= t} w_i(tau_m) d_m / S0_m^2
             + c_i sum_{t_i < tau_m <= t} h_g(m) E_g(t_i) / Y_g(t_i)
             - sum_{censoring times u <= t_i of stratum g} (n_g(u) / Y_g(u)^2) sum_{u < tau_m <= t} h_g(m) E_g(u)

    with h_g(m) = G_g(tau_m-) d_m / S0_m^2, E_g(u) = sum of r_j / G_g(t_j-) over competing rows of stratum g with
    t_j <= u, d_i / c_i the own-event / censoring indicators and g the row's censoring stratum. Dense, O(n^2 D).
    """
    _, _, _, r, s0, _ = crr.derivatives(b)
    t, ici, grp, tau = crr.t, crr.ici, crr.grp, crr.tau
    n, n_tau = t.size, tau.size
    w = np.where(t[:, None] >= tau[None, :], 1.0,
                 np.where((ici == 2)[:, None], crr.g_tau[grp] / crr.g_own[:, None], 0.0))  # (n, D)
    jump2 = crr.d / s0 ** 2
    upto = tau[:, None] <= tau[None, :]  # [m, k]: tau_m <= tau_k
    out = np.zeros((n, n_tau))
    own_s0 = s0[np.searchsorted(tau, t).clip(max=n_tau - 1)]
    out += ((ici == 1)[:, None] & (t[:, None] <= tau[None, :])) / own_s0[:, None]
    out -= r[:, None] * ((w * jump2[None, :]) @ upto)
    for i in range(n):
        g = grp[i]
        h = crr.g_tau[g] * jump2
        other = (ici == 2) & (grp == g)

        def e_g(u, other=other):
            return np.sum(r[other & (t <= u)] / crr.g_own[other & (t <= u)])

        def y_g(u, g=g):
            return np.sum((grp == g) & (t >= u))

        if ici[i] == 0:
            out[i] += (h * (tau > t[i])) @ upto * e_g(t[i]) / y_g(t[i])
        for u in np.unique(t[(ici == 0) & (grp == g) & (t <= t[i])]):
            n_u = np.sum((ici == 0) & (grp == g) & (t == u))
            out[i] -= n_u / y_g(u) ** 2 * e_g(u) * ((h * (tau > u)) @ upto)
    return out


@pytest.mark.parametrize("strata", [None, "plan"])
@pytest.mark.parametrize("tied", [False, True])
def test_prediction_variance_sums_match_the_direct_influence(frame, strata, tied):
    """The O(n + D) cumulative sums behind the prediction intervals equal sums of the dense influence matrix."""
    small = frame.iloc[:150]
    if tied:  # ties between events, competing events and censorings
        small = small.assign(time=small["time"].round(1) + 0.1)
    fg = FineGray(cause="competitor", censoring_strata=strata).fit(small, covariates=["z", "charge"], **FIT)
    crr = fg._crr
    a = _breslow_influence_direct(crr, fg._beta)
    sa2, sab = crr.hazard_influence_moments(fg._beta, fg._infl_b)
    np.testing.assert_allclose(sa2, (a ** 2).sum(axis=0), rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(sab, a.T @ fg._infl_b, rtol=1e-9, atol=1e-12)


def test_without_competing_events_it_is_the_cox_model():
    """No competing defections and no ties: lifelines CoxPHFitter (robust=True is crr's sandwich)."""
    rng = np.random.default_rng(3)
    n = 400
    x1, x2 = rng.normal(size=n), rng.binomial(1, 0.4, n)
    t, c = rng.exponential(1 / np.exp(0.5 * x1 - 0.3 * x2)), rng.uniform(0, 2, n)
    df = pd.DataFrame({"time": np.minimum(t, c), "ev": (t <= c).astype(int), "x1": x1, "x2": x2})
    fg = FineGray(cause="a").fit(df.assign(reason=np.where(df["ev"] == 1, "a", None)), duration="time",
                                 cause="reason", covariates=["x1", "x2"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = lifelines.CoxPHFitter().fit(df, "time", "ev")
        robust = lifelines.CoxPHFitter().fit(df, "time", "ev", robust=True)
    np.testing.assert_allclose(fg.coef_["coef"], model.params_.to_numpy(), atol=1e-5)
    np.testing.assert_allclose(np.sqrt(np.diag(fg.naive_vcov_)), model.standard_errors_.to_numpy(), rtol=1e-4)
    np.testing.assert_allclose(fg.coef_["std_error"], robust.standard_errors_.to_numpy(), rtol=1e-4)
    assert fg.loglik_ == pytest.approx(model.log_likelihood_, abs=1e-6)


def test_fits_the_telco_file_quickly(maven_naive):
    """7,043 customers, 4 covariates: the vectorised sums keep this well under a second (not asserted)."""
    fg = FineGray(cause="competitor").fit(maven_naive, formula="Contract + Q('Monthly Charge') + Q('Internet Type')")
    assert fg.converged_ and len(fg.terms_) == 6


# ---------------------------------------------------------------------------------------------- simulation
N_REP, N, CENSORING, BETA1, P = 200, 400, 3.0, 0.5, 0.3
CIF_TIMES = (0.5, 1.0, 2.0)


@pytest.fixture(scope="module")
def simulation():
    """Fine & Gray (1999) design: binary z ~ Bernoulli(0.5), beta1 = 0.5, p = 0.3, censoring U(0, 3)."""
    profiles = pd.DataFrame({"z": [0.0, 1.0]})
    coef, se, covered, cif_covered = [], [], [], []
    start = time.perf_counter()
    for rep in range(N_REP):
        sim = simulate_fine_gray(N, p=P, beta1=BETA1, censoring=CENSORING, random_state=1000 + rep)
        df = sim.data.assign(reason=sim.data["event"].map({1: "cause1", 2: "cause2"}))
        fg = FineGray(cause="cause1").fit(df, duration="time", cause="reason", covariates=["z"])
        row = fg.coef_.iloc[0]
        coef.append(row["coef"])
        se.append(row["std_error"])
        covered.append(row["ci_lower"] <= np.exp(BETA1) <= row["ci_upper"])
        pred = fg.predict_cumulative_incidence(profiles, times=list(CIF_TIMES))
        truth = sim.truth.cumulative_incidence(pred["time"].to_numpy(), z=profiles["z"].to_numpy()[pred["profile"]])
        cif_covered.append(((pred["ci_lower"] <= truth) & (truth <= pred["ci_upper"])).to_numpy())
    seconds = time.perf_counter() - start
    cif = pd.DataFrame(np.array(cif_covered), columns=pd.MultiIndex.from_product([[0.0, 1.0], CIF_TIMES]))
    return dict(coef=np.array(coef), se=np.array(se), covered=np.array(covered), cif=cif, seconds=seconds)


def test_simulation_recovers_the_subdistribution_effect(simulation):
    coef, se = simulation["coef"], simulation["se"]
    assert abs(coef.mean() - BETA1) < 0.05  # the finite-sample bias seen at n = 400 is ~0.02
    assert se.mean() == pytest.approx(coef.std(ddof=1), rel=0.15)  # the robust SE matches the spread


def test_simulation_coverage_of_the_confidence_intervals(simulation):
    coverage = simulation["covered"].mean()
    assert 0.90 <= coverage <= 0.99, f"coefficient interval coverage {coverage:.3f}"
    cif = simulation["cif"].mean()
    assert ((cif >= 0.90) & (cif <= 0.99)).all(), f"cumulative incidence interval coverage\n{cif}"
    if os.environ.get("CHURNSURV_WRITE_RESULTS"):
        _write_coverage(simulation)


def _write_coverage(sim):
    mc = lambda p: np.sqrt(p * (1 - p) / N_REP)  # noqa: E731 - Monte Carlo standard error
    cov = sim["covered"].mean()
    lines = [
        "# Fine-Gray regression: coverage of the confidence intervals",
        "",
        "Generated by `CHURNSURV_WRITE_RESULTS=1 python -m pytest tests/competing/test_finegray.py -k coverage` "
        "(`churnsurv.competing.finegray.FineGray`, default settings).",
        "",
        f"Design: Fine & Gray (1999) via `simulate_fine_gray(n={N}, p={P}, beta1={BETA1}, beta2=-0.5, "
        f"censoring={CENSORING})`: one binary covariate z ~ Bernoulli(0.5), cause-1 subdistribution log hazard "
        f"ratio {BETA1}, independent Uniform(0, {CENSORING:g}) censoring; {N_REP} replications (seeds 1000-"
        f"{999 + N_REP}), nominal level 95%.",
        "",
        "## Coefficient",
        "",
        "| quantity | value |",
        "| --- | --- |",
        f"| true coefficient | {BETA1} |",
        f"| mean estimate | {sim['coef'].mean():.4f} |",
        f"| empirical SD of the estimates | {sim['coef'].std(ddof=1):.4f} |",
        f"| mean robust standard error (crr's sandwich with the IPCW term) | {sim['se'].mean():.4f} |",
        f"| coverage of the 95% interval | {cov:.3f} (Monte Carlo SE {mc(cov):.3f}) |",
        "",
        "## Predicted cumulative incidence",
        "",
        "Delta-method interval of log Gamma(t | z) (complementary log-log for F1(t | z)); the influence functions",
        "include the martingale part, the estimation of the censoring distribution and of the coefficient.",
        "",
        "| z | t | coverage | Monte Carlo SE |",
        "| --- | --- | --- | --- |",
    ]
    for (z, t), value in sim["cif"].mean().items():
        lines.append(f"| {z:g} | {t:g} | {value:.3f} | {mc(value):.3f} |")
    lines += ["", f"Run time of the {N_REP} fits and predictions: {sim['seconds']:.1f} s.", ""]
    out = ROOT / "benchmarks" / "results" / "finegray_coverage.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines))


# ---------------------------------------------------------------------------------------------- Geskus weights
def _truncated_frame(n=150, seed=11, competing=True):
    """Left-truncated competing-risks data: exponential latent times, delayed entries, ties-free."""
    rng = np.random.default_rng(seed)
    z, u = rng.binomial(1, 0.5, n).astype(float), rng.normal(size=n)
    t1 = rng.exponential(1 / (0.5 * np.exp(0.6 * z - 0.3 * u)))
    t2 = rng.exponential(1 / 0.4, n) if competing else np.full(n, np.inf)
    entry = np.where(rng.random(n) < 0.4, rng.uniform(0, 0.8, n), 0.0)
    time_ = np.minimum.reduce([t1, t2, rng.uniform(0.5, 3, n)])
    keep = time_ > entry  # left truncation: only customers still active at their entry are seen
    reason = np.where(time_ == t1, "competitor", np.where(time_ == t2, "price", None))
    return pd.DataFrame({"cid": np.arange(n), "entry": entry, "time": time_, "reason": reason, "z": z,
                         "u": u})[keep].reset_index(drop=True)


def test_geskus_without_competing_events_is_the_cox_model_with_delayed_entry():
    """No competing defections: the weights never matter, and Geskus Fine-Gray is the (entry, exit] Cox model
    (lifelines CoxPHFitter with entry_col, Efron ties; model-based standard errors)."""
    df = _truncated_frame(300, seed=5, competing=False)
    df["time"] = np.ceil(df["time"] * 10) / 10 + 0.1  # tied exits, to exercise Efron
    df["entry"] = np.minimum(df["entry"], df["time"] - 0.05)
    fg = FineGray(cause="competitor", ties="efron").fit(df, duration="time", entry="entry", cause="reason",
                                                        id="cid", covariates=["z", "u"])
    assert fg.weighting_ == "geskus"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cox = lifelines.CoxPHFitter().fit(df.assign(ev=df["reason"].notna().astype(int))[["entry", "time", "ev", "z",
                                                                                            "u"]],
                                          "time", "ev", entry_col="entry")
    np.testing.assert_allclose(fg.coef_["coef"], cox.params_.to_numpy(), atol=1e-6)
    np.testing.assert_allclose(np.sqrt(np.diag(fg.naive_vcov_)), cox.standard_errors_.to_numpy(), rtol=1e-5)


def test_geskus_on_untied_right_censored_data_equals_crr(frame):
    """Without entry and without ties between censorings and defections, finegray's and crr's censoring
    weights coincide: same coefficients, information and baseline (the robust variances differ: crr's carries
    the term from estimating G, coxph's treats the weights as known)."""
    crr = FineGray(cause="competitor").fit(frame, covariates=["z", "charge"], **FIT)
    gk = FineGray(cause="competitor", weighting="geskus").fit(frame, covariates=["z", "charge"], **FIT)
    assert crr.weighting_ == "crr" and gk.weighting_ == "geskus"
    np.testing.assert_allclose(gk.coef_["coef"], crr.coef_["coef"], rtol=0, atol=1e-10)
    np.testing.assert_allclose(gk.naive_vcov_, crr.naive_vcov_, rtol=1e-9)
    np.testing.assert_allclose(gk.baseline_["cumulative_hazard"], crr.baseline_["cumulative_hazard"], rtol=1e-9)
    assert gk.loglik_ == pytest.approx(crr.loglik_, abs=1e-9)
    rel = np.abs(gk.coef_["std_error"].to_numpy() / crr.coef_["std_error"].to_numpy() - 1)
    assert np.all((rel > 1e-6) & (rel < 0.05))


# ---- the outside reference for the prediction standard errors: a numerical infinitesimal jackknife
def _geskus_brute(df, v, weight, ties, prof, t_pred):
    """log Gamma(t | prof) from the weighted estimating equations written densely, with case weight v_i on
    customer i (multiplying its Geskus weight w_i(t) everywhere), solved by Newton to machine precision."""
    x = df[["z", "u"]].to_numpy()
    entry, exit_ = df["entry"].to_numpy(), df["time"].to_numpy()
    comp, fail = (df["reason"] == "price").to_numpy(), (df["reason"] == "competitor").to_numpy()
    tau = np.unique(exit_[fail])
    at_risk = ((entry[:, None] < tau) | (entry[:, None] == 0)) & (tau <= exit_[:, None])
    w = np.where(at_risk, 1.0, np.where(comp[:, None] & (exit_[:, None] < tau),
                                        weight(tau)[None, :] / weight(exit_)[:, None], 0.0)) * v[:, None]
    dies = fail[:, None] & (exit_[:, None] == tau)

    def pieces(b):
        r = np.exp(x @ b)
        s0, s1 = (w * r[:, None]).sum(0), (w * r[:, None]).T @ x
        e0, e1 = ((dies * v[:, None]) * r[:, None]).sum(0), ((dies * v[:, None]) * r[:, None]).T @ x
        d = dies.sum(0)
        mw = (dies * v[:, None]).sum(0) / d
        grad, haz = (dies * v[:, None]).sum(1) @ x, np.zeros(tau.size)
        for m in range(tau.size):
            for k in range(d[m]):
                f = k / d[m] if ties == "efron" else 0.0
                den = s0[m] - f * e0[m]
                grad = grad - mw[m] * (s1[m] - f * e1[m]) / den
                haz[m] += mw[m] / den
        return grad, haz

    b = np.zeros(2)
    for _ in range(30):
        g, _ = pieces(b)
        h = np.column_stack([(pieces(b + e)[0] - pieces(b - e)[0]) / 2e-6 for e in np.eye(2) * 1e-6])
        b = b - np.linalg.solve(h, g)
        if np.abs(g).max() < 1e-13:
            break
    haz = pieces(b)[1]
    return np.log(np.cumsum(haz)[np.searchsorted(tau, t_pred, side="right") - 1]) + prof @ b


@pytest.mark.parametrize("ties", ["efron", "breslow"])
def test_geskus_prediction_standard_errors_match_a_numerical_jackknife(ties):
    """Item 10: the standard error of the predicted incidence equals the numerical infinitesimal jackknife of the
    full estimating equations (coefficients and baseline solved jointly), sqrt(sum_i (d log Gamma / d v_i)^2),
    with the Geskus weights held fixed as in coxph. Dropping the coefficient/baseline covariance term or the
    coefficient term of the delta method moves the standard error by far more than the tolerance."""
    df = _truncated_frame(120, seed=3)
    df["time"] = np.round(df["time"], 1) + 0.05  # ties among defections
    df["entry"] = np.minimum(df["entry"], df["time"] - 0.01)
    fg = FineGray(cause="competitor", ties=ties, weighting="geskus", tol=1e-13).fit(
        df, duration="time", entry="entry", cause="reason", id="cid", covariates=["z", "u"])
    weight = fg._crr.weight_function
    prof, t_pred = np.array([1.0, 0.5]), np.array([0.6, 1.5])
    pred = fg.predict_cumulative_incidence(pd.DataFrame({"z": [prof[0]], "u": [prof[1]]}), times=t_pred)
    h = 1e-5
    grads = np.array([(_geskus_brute(df, 1 + h * e, weight, ties, prof, t_pred)
                       - _geskus_brute(df, 1 - h * e, weight, ties, prof, t_pred)) / (2 * h)
                      for e in np.eye(len(df))])  # (n, times): influence of each customer on log Gamma(t | x)
    cum = -np.log1p(-pred["estimate"].to_numpy())
    se_ij = np.exp(-cum) * cum * np.sqrt((grads ** 2).sum(axis=0))
    np.testing.assert_allclose(pred["std_error"], se_ij, rtol=1e-6)
    # the check has power: without the covariance term between the baseline and the coefficients, or without
    # the coefficients' own term, the standard error would be off by far more than the tolerance
    crr, beta = fg._crr, fg._beta
    sa2, sab = crr.hazard_influence_moments(beta, fg._infl_b)
    a, ax = crr.hazard_jumps(beta)
    k = np.searchsorted(crr.tau, t_pred, side="right") - 1
    c = (prof - fg._design_info.center)[None, :] * np.cumsum(a)[k][:, None] - np.cumsum(ax, axis=0)[k]
    cross, own = 2 * np.einsum("tj,tj->t", c, sab[k]), np.einsum("tj,jl,tl->t", c, fg.vcov_.to_numpy(), c)
    total = sa2[k] + cross + own
    for dropped in (cross, own):
        assert np.all(np.abs(np.sqrt((total - dropped) / total) - 1) > 1e-3)
