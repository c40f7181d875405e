"""churnsurv.competing.finegray.FineGray against cmprsk::crr (R 4.2, cmprsk 2.2-11).

Every number here comes from ``tests/reference/make_reference_finegray.R`` (run from the repository root:
``Rscript tests/reference/make_reference_finegray.R``), which writes ``tests/reference/fixtures/finegray_*.csv``
from the inputs in ``tests/reference/inputs/``. For each case the script calls

    crr(ftime = time, fstatus = <cause or "censored">, cov1 = <design matrix>, failcode = <cause>,
        cencode = <censored code>, [cengroup = <column>,] gtol = 1e-12, maxiter = 100)
    predict(fit, cov1 = <design rows of two profiles>)

and stores ``fit$coef``, ``sqrt(diag(fit$var))``, ``sqrt(diag(fit$invinf))``, ``fit$var``, ``fit$score``,
``fit$loglik``, ``fit$loglik.null``, ``fit$uftime``/``fit$bfitj`` and the predicted cumulative incidences.

Cases: ``sim_continuous`` (500 rows, no ties), ``sim_ties`` and ``sim_cengroup`` (2000 rows in whole months,
many ties, the latter with ``cengroup = group``), ``telco`` and ``telco_cengroup`` (the Maven telco file,
failcode "Competitor", ``cengroup = internet_service`` in the latter). crr ignores left truncation, so the
``entry`` columns of the inputs are not used. The fits agree with crr to about 1e-13; the tolerances are 1e-9.

The second half checks the Geskus (2011) weights for left-truncated data against
``tests/reference/make_reference_finegray_truncated.R`` (``fixtures/fg_truncated_*.csv``), which calls

    fg  <- finegray(Surv([entry, ] time, status) ~ ., data, etype = <cause>, id = id)
    fit <- coxph(Surv(fgstart, fgstop, fgstatus) ~ <terms>, data = fg, weights = fgwt, id = id,
                 ties = "efron" / "breslow", control = coxph.control(eps = 1e-12, toler.chol = 1e-15, iter.max = 100))
    survfit(fit, newdata = <profiles>)

on the Maven file read naively (``Surv(time, status)``), read with left truncation (``Surv(entry, time,
status)``, entry = max(tenure - 3, 0) for customers already on the books) and on the seeded left-truncated
simulation ``inputs/sim_truncated.csv``. Those agree to about 1e-12; the tolerances are 1e-9.

A missing fixture file fails these tests (``FileNotFoundError``); nothing is skipped.
"""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from churnsurv import Tenures
from churnsurv.competing.finegray import FineGray

REF = Path(__file__).resolve().parents[1] / "reference"
FIXTURES = REF / "fixtures"
INPUTS = REF / "inputs"

COEF_TOL = 1e-9
SE_TOL = 1e-9
CURVE_TOL = 1e-9

CASES = {
    "sim_continuous": dict(input="sim_continuous.csv", cause="1", covariates=["x1", "x2"], strata=None),
    "sim_ties": dict(input="sim_truncated.csv", cause="1", covariates=["x1", "x2", "group"], strata=None),
    "sim_cengroup": dict(input="sim_truncated.csv", cause="1", covariates=["x1", "x2", "group"], strata="group"),
    "telco": dict(input="maven_telco.csv", cause="Competitor", strata=None,
                  formula="C(contract, ref='Month-to-Month') + monthly_charge"),
    "telco_cengroup": dict(input="maven_telco.csv", cause="Competitor", strata="internet_service",
                           formula="C(contract, ref='Month-to-Month') + monthly_charge"),
}


def _read(path: Path) -> pd.DataFrame:
    # round_trip: parse the 17-digit decimals exactly as R wrote them
    return pd.read_csv(path, float_precision="round_trip")


@pytest.fixture(scope="module")
def fixtures():
    names = ("fit", "coef", "vcov", "baseline", "profiles", "predict")
    return {name: _read(FIXTURES / f"finegray_{name}.csv") for name in names}


def _fit(case: str) -> FineGray:
    spec = CASES[case]
    frame = _read(INPUTS / spec["input"])
    model = FineGray(cause=spec["cause"], censoring_strata=spec["strata"])
    if case.startswith("sim"):
        # the frame door: cause codes 1-3 as labels, 0 (censored) as missing
        frame = frame.assign(reason=np.where(frame["event"] == 1, frame["cause"].astype(str), None))
        return model.fit(frame, duration="time", cause="reason", id="id", covariates=spec["covariates"])
    # the Tenures door: segments and values of a tenure table (read without truncation, as crr does)
    tenures = Tenures.from_frame(frame, duration="time", event="event", cause="cause", id="id",
                                 segments=["contract", "internet_service"], values=["monthly_charge"])
    return model.fit(tenures, formula=spec["formula"])


@pytest.fixture(scope="module")
def fitted():
    return {case: _fit(case) for case in CASES}


def _profiles(fixtures, case):
    long = fixtures["profiles"].query("case == @case")
    wide = long.pivot(index="profile", columns="variable", values="value")
    for col in wide.columns:
        num = pd.to_numeric(wide[col], errors="coerce")
        if num.notna().all():
            wide[col] = num
    wide.columns.name = None
    return wide


@pytest.mark.parametrize("case", list(CASES))
def test_coefficients_and_standard_errors(fitted, fixtures, case):
    """coef, sqrt(diag(fit$var)) (robust, with the IPCW term), sqrt(diag(fit$invinf)), fit$score."""
    fg = fitted[case]
    ref = fixtures["coef"].query("case == @case")
    assert list(fg.coef_["term"]) == list(ref["term"])
    np.testing.assert_allclose(fg.coef_["coef"], ref["coef"], rtol=0, atol=COEF_TOL)
    np.testing.assert_allclose(fg.coef_["std_error"], ref["std_error"], rtol=0, atol=SE_TOL)
    np.testing.assert_allclose(np.sqrt(np.diag(fg.naive_vcov_)), ref["naive_std_error"], rtol=0, atol=SE_TOL)
    np.testing.assert_allclose(fg.score_, 0.0, atol=1e-6)
    assert fg.converged_


@pytest.mark.parametrize("case", list(CASES))
def test_covariance_matrix(fitted, fixtures, case):
    """The full fit$var, off-diagonal terms included."""
    fg = fitted[case]
    ref = fixtures["vcov"].query("case == @case").pivot(index="row", columns="col", values="value")
    ref = ref.loc[list(fg.terms_), list(fg.terms_)]
    np.testing.assert_allclose(fg.vcov_.to_numpy(), ref.to_numpy(), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("case", list(CASES))
def test_log_likelihoods_and_counts(fitted, fixtures, case):
    """fit$loglik, fit$loglik.null, fit$n and the number of cause events."""
    fg = fitted[case]
    ref = fixtures["fit"].query("case == @case").iloc[0]
    assert fg.loglik_ == pytest.approx(ref["loglik"], abs=1e-8)
    assert fg.loglik_null_ == pytest.approx(ref["loglik_null"], abs=1e-8)
    assert fg.n_obs_ == ref["n"]
    assert fg.n_events_ == ref["n_events"]


@pytest.mark.parametrize("case", list(CASES))
def test_baseline_cumulative_subdistribution_hazard(fitted, fixtures, case):
    """fit$uftime and fit$bfitj (Breslow jumps at covariates 0) and their cumulative sum."""
    fg = fitted[case]
    ref = fixtures["baseline"].query("case == @case")
    assert len(fg.baseline_) == len(ref)
    np.testing.assert_allclose(fg.baseline_["time"], ref["time"], rtol=1e-14, atol=0)
    np.testing.assert_allclose(fg.baseline_["jump"], ref["jump"], rtol=0, atol=CURVE_TOL)
    np.testing.assert_allclose(fg.baseline_["cumulative_hazard"], ref["cumulative_hazard"], rtol=0, atol=CURVE_TOL)


@pytest.mark.parametrize("case", list(CASES))
def test_predicted_cumulative_incidence(fitted, fixtures, case):
    """predict.crr(fit, cov1) at two covariate profiles, at every distinct time of the cause."""
    fg = fitted[case]
    profiles = _profiles(fixtures, case)
    pred = fg.predict_cumulative_incidence(profiles)
    ref = fixtures["predict"].query("case == @case")
    for label in profiles.index:
        got = pred[pred["profile"] == label]
        want = ref[ref["profile"] == label]
        assert len(got) == len(want)
        np.testing.assert_allclose(got["time"], want["time"], rtol=1e-14, atol=0)
        np.testing.assert_allclose(got["estimate"], want["estimate"], rtol=0, atol=CURVE_TOL)
        assert (got["ci_lower"] <= got["estimate"]).all() and (got["estimate"] <= got["ci_upper"]).all()


# ============================================================================ left truncation: Geskus weights
TRUNC_CASES = ("maven_naive", "maven_truncated", "sim_truncated")
TRUNC_TOL = 1e-9


@pytest.fixture(scope="module")
def trunc_fixtures():
    names = ("fit", "coef", "vcov", "weights", "predict", "profiles")
    return {name: _read(FIXTURES / f"fg_truncated_{name}.csv") for name in names}


def _trunc_data(case):
    frame = _read(INPUTS / ("sim_truncated.csv" if case == "sim_truncated" else "maven_telco.csv"))
    if case == "sim_truncated":
        frame = frame.assign(reason=np.where(frame["event"] == 1, frame["cause"].astype(str), None))
        return frame, dict(duration="time", entry="entry", cause="reason", id="id",
                           covariates=["x1", "x2", "group"]), "1"
    keywords = dict(duration="time", cause="cause", id="id", formula="C(contract, ref='Month-to-Month')")
    if case == "maven_truncated":
        keywords["entry"] = "entry"
    return frame, keywords, "Competitor"


def _trunc_fit(case, ties):
    frame, keywords, cause = _trunc_data(case)
    # "auto" picks Geskus weights for the truncated cases; the naive case asks for them
    weighting = "geskus" if case == "maven_naive" else "auto"
    return FineGray(cause=cause, ties=ties, weighting=weighting, tol=1e-12).fit(frame, **keywords)


@pytest.fixture(scope="module")
def trunc_fitted():
    return {(case, ties): _trunc_fit(case, ties) for case in TRUNC_CASES for ties in ("efron", "breslow")}


@pytest.mark.parametrize("ties", ["efron", "breslow"])
@pytest.mark.parametrize("case", TRUNC_CASES)
def test_geskus_coefficients_and_standard_errors(trunc_fitted, trunc_fixtures, case, ties):
    """coef(fit), sqrt(diag(fit$var)) (robust, grouped by id) and sqrt(diag(fit$naive.var)) (se(coef))."""
    fg = trunc_fitted[case, ties]
    assert fg.weighting_ == "geskus"
    ref = trunc_fixtures["coef"].query("case == @case and ties == @ties")
    assert list(fg.coef_["term"]) == list(ref["term"])
    np.testing.assert_allclose(fg.coef_["coef"], ref["coef"], rtol=0, atol=TRUNC_TOL)
    np.testing.assert_allclose(fg.coef_["std_error"], ref["std_error"], rtol=0, atol=TRUNC_TOL)
    np.testing.assert_allclose(np.sqrt(np.diag(fg.naive_vcov_)), ref["naive_std_error"], rtol=0, atol=TRUNC_TOL)
    for kind, got in (("robust", fg.vcov_), ("naive", fg.naive_vcov_)):
        v = trunc_fixtures["vcov"]
        want = v[(v["case"] == case) & (v["ties"] == ties) & (v["kind"] == kind)]
        want = want.pivot(index="row", columns="col", values="value").loc[list(fg.terms_), list(fg.terms_)]
        np.testing.assert_allclose(got.to_numpy(), want.to_numpy(), rtol=1e-9, atol=1e-14)


@pytest.mark.parametrize("ties", ["efron", "breslow"])
@pytest.mark.parametrize("case", TRUNC_CASES)
def test_geskus_log_likelihoods_and_counts(trunc_fitted, trunc_fixtures, case, ties):
    """fit$loglik (null and final, coxph's weighted Efron / Breslow partial likelihood) and the counts."""
    fg = trunc_fitted[case, ties]
    ref = trunc_fixtures["fit"].query("case == @case and ties == @ties").iloc[0]
    assert fg.loglik_ == pytest.approx(ref["loglik"], abs=1e-8)
    assert fg.loglik_null_ == pytest.approx(ref["loglik_null"], abs=1e-8)
    assert fg.n_obs_ == ref["n"] and fg.n_events_ == ref["n_events"]
    assert fg.converged_


@pytest.mark.parametrize("case", TRUNC_CASES)
def test_geskus_weights_are_finegrays(trunc_fitted, trunc_fixtures, case):
    """finegray's fgwt on every extended row (start, stop] of a competing defector: W(stop-)/W(exit-).

    Within the defector's own interval (entry, exit] the weight is 1 (finegray extends that row to the next
    change point of W with weight 1, which is the same thing).
    """
    fg = trunc_fitted[case, "efron"]
    weight = fg._crr.weight_function
    ref = trunc_fixtures["weights"].query("case == @case")
    tail = ref[ref["start"] >= ref["exit"]]
    assert len(tail) > 1000
    got = weight(tail["stop"].to_numpy()) / weight(tail["exit"].to_numpy())
    np.testing.assert_allclose(got, tail["weight"], rtol=1e-12, atol=0)
    assert (ref.loc[ref["start"] < ref["exit"], "weight"] == 1).all()
    assert weight.delay == (case != "maven_naive")  # finegray's 'delay': an entry after the first exit


@pytest.mark.parametrize("ties", ["efron", "breslow"])
@pytest.mark.parametrize("case", TRUNC_CASES)
def test_geskus_predicted_cumulative_incidence(trunc_fitted, trunc_fixtures, case, ties):
    """1 - survfit(fit, newdata)$surv at the event times of the cause (Efron or Breslow baseline hazard)."""
    fg = trunc_fitted[case, ties]
    profiles = _profiles({"profiles": trunc_fixtures["profiles"]}, case)
    pred = fg.predict_cumulative_incidence(profiles)
    ref = trunc_fixtures["predict"].query("case == @case and ties == @ties")
    for label in profiles.index:
        got, want = pred[pred["profile"] == label], ref[ref["profile"] == label]
        assert len(got) == len(want) > 10
        np.testing.assert_allclose(got["time"], want["time"], rtol=1e-14, atol=0)
        np.testing.assert_allclose(got["estimate"], want["estimate"], rtol=0, atol=TRUNC_TOL)
        assert (got["ci_lower"] <= got["estimate"]).all() and (got["estimate"] <= got["ci_upper"]).all()


def test_truncated_reading_changes_the_maven_estimates(trunc_fitted):
    """The two readings of the snapshot disagree (the naive one has negative contract effects, the truncated
    one positive): the weighting is not a no-op."""
    naive = trunc_fitted["maven_naive", "efron"].coef_["coef"].to_numpy()
    truncated = trunc_fitted["maven_truncated", "efron"].coef_["coef"].to_numpy()
    assert (naive < 0).all() and (truncated > 0).all()
