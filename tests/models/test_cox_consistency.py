"""Cox models consistent and lean (issue 17 item 3, issue 16 item 5).

* CauseSpecificCox runs on churnsurv's own partial-likelihood solver: one design, an event vector per cause,
  no lifelines at run time; it equals R's coxph (tests/reference/make_reference_coxph.R and
  make_reference_cox_consistency.R for case weights) and CoxPH fitted per cause.
* A covariate level resting on fewer than 5 events, or an estimate running off to infinity, warns (CoxPH,
  CauseSpecificCox, FineGray), naming the term and the count.
* An infinite covariate value is a data error, like a missing one, naming the column and the rows.
"""

import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import churnsurv as cs
from churnsurv import Tenures
from churnsurv.exceptions import StatisticalWarning, TenureDataError
from churnsurv.models.coxph import CoxPH

REF = Path(__file__).resolve().parents[1] / "reference"


@pytest.fixture(scope="module")
def maven():
    return pd.read_csv(REF / "inputs" / "maven_telco.csv", keep_default_na=False, na_values=[""])


def _tenures(maven, reading, weights=None):
    frame = maven if weights is None else maven.assign(w=weights)
    return Tenures.from_frame(frame, duration="time", event="event", cause="cause",
                              entry="entry" if reading == "truncated" else None,
                              segments=["contract"], values=["monthly_charge"],
                              weights=None if weights is None else "w")


def _terms(table):
    return table.assign(term=lambda d: d["term"].str.replace("contract", "Contract")
                        .str.replace("monthly_charge", "Monthly Charge"))


def _quiet_fit(model, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return model.fit(*args, **kwargs)


# ---------------------------------------------------------------------------------------------- against R
@pytest.mark.parametrize("reading", ["naive", "truncated"])
def test_equals_r_to_rounding(maven, reading):
    """coxph(Surv([entry,] time, cause == k) ~ contract + monthly_charge): lifelines reached 1e-8; the own
    solver reaches rounding error, and log_likelihood_ (per cause) replaces lifelines_models_[k]."""
    ref = pd.read_csv(REF / "fixtures" / "coxph_cause_specific.csv").query("reading == @reading")
    m = _quiet_fit(cs.CauseSpecificCox(causes=["Competitor", "Price", "Dissatisfaction"]), _tenures(maven, reading),
                   covariates=["contract", "monthly_charge"], reference={"contract": "Month-to-Month"})
    both = ref.merge(_terms(m.hazard_ratios_), on=["cause", "term"], validate="one_to_one")
    assert len(both) == 9
    np.testing.assert_allclose(both["coef_y"], both["coef_x"], rtol=1e-10)
    np.testing.assert_allclose(both["std_error"], both["se"], rtol=1e-10)
    for cause, ll in m.log_likelihood_.items():
        assert ll == pytest.approx(ref.loc[ref["cause"] == cause, "loglik"].iloc[0], rel=1e-12)
    assert list(m.coef_.columns) == ["Competitor", "Price", "Dissatisfaction"]
    np.testing.assert_array_equal(m.coef_["Price"].to_numpy(),
                                  m.hazard_ratios_.query("cause == 'Price'")["coef"].to_numpy())
    assert set(m.variance_) == set(m.n_events_) and m.variance_["Price"].shape == (3, 3)


@pytest.mark.parametrize("reading", ["naive", "truncated"])
def test_case_weights_give_r_robust_variance(maven, reading):
    """coxph(..., weights = w, cluster = row): lifelines' robust standard errors missed R by about 1%."""
    ref = pd.read_csv(REF / "fixtures" / "cox_consistency_weighted.csv").query("reading == @reading")
    w = 0.5 + (np.arange(1, len(maven) + 1) % 4) / 2  # as the R script: 0.5 + (row %% 4) / 2
    m = _quiet_fit(cs.CauseSpecificCox(causes=["Competitor", "Price"]), _tenures(maven, reading, w),
                   covariates=["contract", "monthly_charge"], reference={"contract": "Month-to-Month"})
    both = ref.merge(_terms(m.hazard_ratios_), on=["cause", "term"], validate="one_to_one")
    assert len(both) == 6
    np.testing.assert_allclose(both["coef_y"], both["coef_x"], rtol=1e-9)
    np.testing.assert_allclose(both["std_error"], both["robust_se"], rtol=1e-9)
    for cause, ll in m.log_likelihood_.items():
        assert ll == pytest.approx(ref.loc[ref["cause"] == cause, "loglik"].iloc[0], rel=1e-12)
    assert m.proportional_hazards_.empty  # as before: no PH check for weighted fits


# ---------------------------------------------------------------------------------------------- one solver
def test_equals_coxph_per_cause_penalised_or_not(maven):
    """CauseSpecificCox is CoxPH(cause=k) on the same design, including the penalty (lifelines penalised the
    standardised coefficients, so the two classes disagreed)."""
    t = _tenures(maven, "truncated")
    for pen in (0.0, 0.5):
        m = _quiet_fit(cs.CauseSpecificCox(causes=["Competitor", "Price"], penalizer=pen), t,
                       covariates=["contract", "monthly_charge"])
        for cause in ("Competitor", "Price"):
            one = _quiet_fit(CoxPH(penalizer=pen), t, covariates=["contract", "monthly_charge"], cause=cause)
            np.testing.assert_allclose(m.coef_[cause].to_numpy(), one.coef_.to_numpy(), rtol=1e-12, atol=1e-14)
            np.testing.assert_allclose(m.variance_[cause].to_numpy(), one.variance_.to_numpy(), rtol=1e-10)
            assert m.log_likelihood_[cause] == pytest.approx(one.log_likelihood_, rel=1e-13)
            assert m.aic_[cause] == pytest.approx(one.aic_, rel=1e-13)
            assert m.bic_[cause] == pytest.approx(one.bic_, rel=1e-13)


def test_fit_needs_no_lifelines():
    """lifelines is not imported by fitting (it was imported on every fit)."""
    code = ("import sys, warnings; warnings.simplefilter('ignore'); import churnsurv as cs\n"
            "t = cs.datasets.load_maven_telco()\n"
            "m = cs.CauseSpecificCox().fit(t, covariates=['Contract', 'Monthly Charge'])\n"
            "cs.CoxPH().fit(t, covariates=['Contract'], cause='price')\n"
            "print('lifelines' in sys.modules, len(m.lifelines_models_))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "5"]


def test_lifelines_models_is_deprecated_and_lazy(maven):
    pytest.importorskip("lifelines")
    m = _quiet_fit(cs.CauseSpecificCox(causes=["Competitor"]), _tenures(maven, "truncated"),
                   covariates=["contract", "monthly_charge"])
    models = m.lifelines_models_
    assert list(models) == ["Competitor"] and len(models) == 1  # listing the causes fits nothing
    with pytest.warns(FutureWarning, match="lifelines_models_ is deprecated.*hazard_ratios_, coef_"):
        cph = models["Competitor"]
    np.testing.assert_allclose(cph.params_.to_numpy(), m.coef_["Competitor"].to_numpy(), rtol=1e-6)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert m.lifelines_models_["Competitor"] is cph  # built once
    with pytest.raises(cs.NotFittedError):
        cs.CauseSpecificCox().lifelines_models_  # noqa: B018


def test_causes_from_codes_of_any_dtype():
    """The event vector of each cause comes from integer codes, whatever the dtype of the cause column."""
    rng = np.random.default_rng(5)
    n = 3000
    z = rng.integers(0, 2, n)
    t = rng.exponential(1 / (0.05 * np.exp(0.7 * z)))
    c = rng.uniform(0, 30, n)
    cause = np.where(t <= c, rng.choice(np.array(["a", "b", "c"]), n), None)
    base = pd.DataFrame({"time": np.ceil(np.minimum(t, c)), "cause": cause, "z": z})
    fits = []
    for col in (base["cause"], base["cause"].astype("category"), base["cause"].astype("string")):
        m = _quiet_fit(cs.CauseSpecificCox(), base.assign(cause=col), covariates=["z"], duration="time",
                       cause="cause")
        fits.append(m.hazard_ratios_.sort_values(["cause", "term"]).reset_index(drop=True))
        assert m.n_events_ == {k: int((cause == k).sum()) for k in ("a", "b", "c")}
    pd.testing.assert_frame_equal(fits[0], fits[1])
    pd.testing.assert_frame_equal(fits[0], fits[2])


def test_design_encoded_once(monkeypatch):
    import churnsurv.models.cox as cox

    calls = []
    real = cox._encode
    monkeypatch.setattr(cox, "_encode", lambda *a, **k: calls.append(1) or real(*a, **k))
    t = cs.datasets.load_maven_telco()
    _quiet_fit(cs.CauseSpecificCox(), t, covariates=["Contract", "Monthly Charge"])
    assert len(calls) == 1 and len(t.causes) == 5


# ---------------------------------------------------------------------------------------------- sparse terms
def _sparse_frame(n_rare_events=3, seed=11):
    """Plans A, B (common) and C (rare: 40 customers, ``n_rare_events`` of whom defect, all for 'price')."""
    rng = np.random.default_rng(seed)
    n = 1500
    plan = np.where(rng.random(n) < 0.5, "A", "B")
    x = rng.normal(size=n)
    t = rng.exponential(1 / (0.06 * np.exp(0.3 * x + 0.4 * (plan == "B"))))
    c = rng.uniform(5, 40, n)
    cause = np.where(t <= c, np.where(rng.random(n) < 0.6, "price", "service"), None)
    time = np.minimum(t, c)
    rare = pd.DataFrame({"time": np.linspace(1, 30, 40), "plan": "C", "x": rng.normal(size=40),
                         "cause": [("price" if i < n_rare_events else None) for i in range(40)]})
    return pd.concat([pd.DataFrame({"time": time, "plan": plan, "x": x, "cause": cause}), rare],
                     ignore_index=True)


@pytest.mark.parametrize("fit", ["CoxPH", "CauseSpecificCox", "FineGray"])
def test_a_level_with_few_events_warns(fit):
    df = _sparse_frame(3)
    with pytest.warns(StatisticalWarning, match=r"fewer than 5 events behind plan\[C\] \(3 events\)"):
        if fit == "CoxPH":
            CoxPH().fit(df, covariates=["plan", "x"], duration="time", cause_column="cause", cause="price")
        elif fit == "CauseSpecificCox":
            cs.CauseSpecificCox(causes=["price"]).fit(df, covariates=["plan", "x"], duration="time",
                                                      cause="cause")
        else:
            cs.FineGray(cause="price").fit(df, covariates=["plan", "x"], duration="time", cause="cause")


def test_enough_events_do_not_warn():
    df = _sparse_frame(12)
    with warnings.catch_warnings():
        warnings.simplefilter("error", StatisticalWarning)
        CoxPH().fit(df, covariates=["plan", "x"], duration="time", cause_column="cause", cause="price")
        cs.CauseSpecificCox(causes=["price"]).fit(df, covariates=["plan", "x"], duration="time", cause="cause")
        cs.FineGray(cause="price").fit(df, covariates=["plan", "x"], duration="time", cause="cause")


def test_sparse_reference_level_is_named():
    df = _sparse_frame(2)
    with pytest.warns(StatisticalWarning, match=r"plan\[C\] \(the reference level: 2 events\)"):
        CoxPH().fit(df, formula="C(plan, ref='C') + x", duration="time", cause_column="cause", cause="price")


@pytest.mark.parametrize("fit", ["CoxPH", "CauseSpecificCox"])
def test_separation_names_the_term(fit):
    """A level without events of the cause: the estimate runs off to -inf; the warning names the term
    (before: a generic non-convergence message)."""
    df = _sparse_frame(0)
    with pytest.warns(StatisticalWarning) as rec:
        if fit == "CoxPH":
            m = CoxPH().fit(df, covariates=["plan", "x"], duration="time", cause_column="cause", cause="price")
            coef = m.coef_["plan[C]"]
        else:
            m = cs.CauseSpecificCox(causes=["price"]).fit(df, covariates=["plan", "x"], duration="time",
                                                          cause="cause")
            coef = m.coef_.loc["plan[C]", "price"]
    messages = " ".join(str(w.message) for w in rec)
    assert "the estimate of plan[C] (coef" in messages and "runs off to infinity" in messages
    assert "plan[C] (0 events)" in messages
    assert coef < -10


def test_a_model_with_few_events_warns():
    df = pd.DataFrame({"time": np.arange(1.0, 21), "event": [1, 0, 0, 1, 0, 0, 0, 1] + [0] * 12,
                       "x": np.linspace(0, 1, 20)})
    with pytest.warns(StatisticalWarning, match="rests on 3 events"):
        CoxPH().fit(df, covariates=["x"], duration="time", event="event")


# ---------------------------------------------------------------------------------------------- inf covariates
@pytest.mark.parametrize("fit", ["CoxPH", "CauseSpecificCox", "FineGray"])
def test_infinite_covariate_is_a_data_error(fit):
    df = _sparse_frame(12)
    df.loc[[3, 7], "x"] = [np.inf, -np.inf]
    before = df.copy()
    with pytest.raises(TenureDataError, match=r"Column 'x' has 2 rows with infinite covariate values") as err:
        if fit == "CoxPH":
            CoxPH().fit(df, covariates=["plan", "x"], duration="time", cause_column="cause", cause="price")
        elif fit == "CauseSpecificCox":
            cs.CauseSpecificCox().fit(df, covariates=["plan", "x"], duration="time", cause="cause")
        else:
            cs.FineGray(cause="price").fit(df, covariates=["plan", "x"], duration="time", cause="cause")
    assert err.value.column == "x" and err.value.n_rows == 2
    pd.testing.assert_frame_equal(df, before)


def test_infinite_profile_is_a_data_error():
    df = _sparse_frame(12)
    m = _quiet_fit(CoxPH(), df, covariates=["plan", "x"], duration="time", cause_column="cause", cause="price")
    with pytest.raises(TenureDataError, match=r"Column 'x' has 1 row with missing, infinite or non-numeric"):
        m.predict_survival(pd.DataFrame({"plan": ["A", "B"], "x": [0.0, np.inf]}), times=[5])
