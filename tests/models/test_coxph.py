"""CoxPH against R's survival::coxph, survfit.coxph and cox.zph (tests/reference/make_reference_coxph_full.R,
fixtures coxph_full_*.csv), plus properties, errors and a coverage simulation of known Cox populations.

The R calls, for reading the fixtures (``ctl = coxph.control(eps = 1e-12, toler.chol = 1e-15, iter.max = 100)``):

    coxph(Surv(entry, time, event) ~ contract + monthly_charge, data = maven, ties = "efron" / "breslow")
    coxph(Surv(time, event) ~ contract + monthly_charge, data = maven)
    coxph(Surv(entry, time, competitor) ~ contract + monthly_charge + strata(internet_service), data = maven)
    coxph(Surv(start, stop, event) ~ plan + x + offer, data = spells, cluster = id [, weights = weight])
    coxph(Surv(start, stop, event) ~ x + offer + strata(plan), data = spells, weights = weight, cluster = id)
    coxph(Surv(entry, time, event) ~ contract + monthly_charge:window, data = survSplit(..., cut = c(12, 24)))
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from churnsurv.exceptions import NotFittedError, StatisticalWarning, TenureDataError
from churnsurv.models._partial_likelihood import RiskSets
from churnsurv.models.coxph import CoxPH

REF = Path(__file__).resolve().parents[1] / "reference"
TOL = 1e-8  # agreement observed: about 1e-11 relative or better


@pytest.fixture(scope="module")
def maven():
    mv = pd.read_csv(REF / "inputs" / "maven_telco.csv")
    mv["cause"] = mv["cause"].where(mv["event"] == 1)
    return mv


@pytest.fixture(scope="module")
def spells():
    return pd.read_csv(REF / "inputs" / "sim_spells.csv")


MK = {"duration": "time", "event": "event", "id": "id"}
SP = {"entry": "start", "duration": "stop", "event": "event", "id": "id", "spells": True}
CASES = {
    "maven_efron": ("efron", "maven", {"formula": "contract + monthly_charge", "entry": "entry", **MK}),
    "maven_breslow": ("breslow", "maven", {"formula": "contract + monthly_charge", "entry": "entry", **MK}),
    "maven_naive_efron": ("efron", "maven", {"formula": "contract + monthly_charge", **MK}),
    "maven_strata_competitor": ("efron", "maven", {
        "formula": "contract + monthly_charge", "entry": "entry", "cause": "Competitor", "cause_column": "cause",
        "strata": "internet_service", **MK}),
    "spells_efron": ("efron", "spells", {"formula": "plan + x + offer", "cluster": "id", **SP}),
    "spells_breslow_weighted": ("breslow", "spells", {"formula": "plan + x + offer", "cluster": "id",
                                                      "weights": "weight", **SP}),
    "spells_efron_weighted_strata": ("efron", "spells", {"formula": "x + offer", "strata": "plan", "cluster": "id",
                                                         "weights": "weight", **SP}),
    "maven_windows": ("efron", "maven", {"formula": "contract + monthly_charge", "entry": "entry",
                                         "time_windows": {"monthly_charge": [0, 12, 24]}, **MK}),
}


@pytest.fixture(scope="module")
def fitted(maven, spells):
    data = {"maven": maven, "spells": spells}
    return {name: CoxPH(ties=ties).fit(data[which], **kw) for name, (ties, which, kw) in CASES.items()}


@pytest.mark.parametrize("case", CASES)
def test_fit_equals_r_coxph(fitted, case):
    m = fitted[case]
    fit = pd.read_csv(REF / "fixtures" / "coxph_full_fit.csv").set_index("case").loc[case]
    coef = pd.read_csv(REF / "fixtures" / "coxph_full_coef.csv").query("case == @case")
    hr = m.hazard_ratios_
    np.testing.assert_allclose(hr["coef"], coef["coef"], rtol=TOL, atol=1e-12)
    naive = hr["naive_std_error"] if m.robust_ else hr["std_error"]
    np.testing.assert_allclose(naive, coef["std_error"], rtol=TOL)
    if m.robust_:
        np.testing.assert_allclose(hr["std_error"], coef["robust_std_error"], rtol=TOL)
    else:
        assert coef["robust_std_error"].isna().all()
    np.testing.assert_allclose(m.log_likelihood_, fit["loglik"], rtol=1e-12)
    np.testing.assert_allclose(m.log_likelihood_null_, fit["loglik_null"], rtol=1e-12)
    np.testing.assert_allclose(m.concordance_, fit["concordance"], rtol=1e-10)
    assert (m.n_obs_, m.n_events_) == (fit["n"], fit["n_events"])
    np.testing.assert_allclose(m.aic_, -2 * fit["loglik"] + 2 * len(coef), rtol=1e-12)


@pytest.mark.parametrize("case", [c for c in CASES if c != "maven_windows"])
def test_proportional_hazards_equal_cox_zph(fitted, case):
    ref = pd.read_csv(REF / "fixtures" / "coxph_full_zph.csv").query("case == @case")
    got = fitted[case].proportional_hazards_
    assert got["term"].tolist() == ref["term"].tolist()
    np.testing.assert_allclose(got["statistic"], ref["chisq"], rtol=1e-9)
    np.testing.assert_allclose(got["p_value"], ref["p"], rtol=1e-7)
    assert got["dof"].tolist() == ref["df"].tolist()
    assert got["advice"].str.len().gt(0).all()


PROFILES = {
    "maven_efron": pd.DataFrame({"contract": ["Month-to-Month", "Two Year"], "monthly_charge": [70, 20]},
                                index=["p1", "p2"]),
    "maven_breslow": pd.DataFrame({"contract": ["Month-to-Month", "Two Year"], "monthly_charge": [70, 20]},
                                  index=["p1", "p2"]),
    "maven_strata_competitor": pd.DataFrame({"contract": ["Month-to-Month"], "monthly_charge": [70],
                                             "internet_service": ["Yes"]}, index=["p1"]),
    "spells_efron": pd.DataFrame({"plan": ["A", "C"], "x": [0, 1], "offer": [0, 1]}, index=["p1", "p2"]),
}


@pytest.mark.parametrize("case", PROFILES)
def test_predicted_survival_equals_survfit(fitted, case):
    ref = pd.read_csv(REF / "fixtures" / "coxph_full_surv.csv").query("case == @case")
    got = fitted[case].predict_survival(PROFILES[case], times=sorted(ref["time"].unique()))
    both = got.merge(ref, on=["profile", "time"], validate="one_to_one")
    assert len(both) == len(ref)
    for ours, theirs in [("estimate", "surv"), ("cumulative_hazard", "cumhaz"), ("std_error", "std_err"),
                         ("ci_lower", "lower"), ("ci_upper", "upper")]:
        np.testing.assert_allclose(both[ours], both[theirs], rtol=1e-9, atol=1e-13)


def test_prediction_table_is_tidy(fitted):
    m = fitted["maven_strata_competitor"]
    default = m.predict_survival()  # a typical profile per stratum
    assert set(default["stratum"]) == {"internet_service=No", "internet_service=Yes"}
    assert list(default.columns[-7:]) == ["time", "estimate", "ci_lower", "ci_upper", "cumulative_hazard",
                                          "std_error", "extrapolated"]
    assert default.columns[0] == "profile" and {"contract", "monthly_charge"} <= set(default.columns)
    got = m.predict_survival(PROFILES["maven_strata_competitor"], times=[0, 5, 72, 100])
    assert got["estimate"].iloc[0] == 1.0 and got["ci_lower"].iloc[0] == 1.0
    assert got["extrapolated"].tolist() == [False, False, False, True]
    assert (np.diff(got["estimate"]) <= 0).all()
    assert ((got["ci_lower"] <= got["estimate"]) & (got["estimate"] <= got["ci_upper"])).all()
    base = m.baseline_cumulative_hazard_
    assert list(base.columns) == ["stratum", "time", "cumulative_hazard"]
    assert base.groupby("stratum")["cumulative_hazard"].apply(lambda s: (np.diff(s) >= 0).all()).all()


def test_predict_customer(fitted, maven):
    m = fitted["maven_efron"]
    out = m.predict_customer(maven.head(3), times=[12, 24], id="id")
    assert out["id"].tolist() == list(np.repeat(maven["id"].head(3).to_numpy(), 2))
    one = m.predict_survival(maven.head(1)[["contract", "monthly_charge"]], times=[12, 24])
    np.testing.assert_allclose(out["estimate"].head(2), one["estimate"])


def test_time_window_terms_for_a_categorical(maven):
    # two-year customers hardly leave in their first 24 months: that window's coefficient runs off to -inf
    with pytest.warns(StatisticalWarning, match="did not converge"):
        m = CoxPH().fit(maven, formula="C(contract, ref='Month-to-Month') + monthly_charge", entry="entry",
                        time_windows={"contract": [0, 24]}, **MK)
    assert m.terms_ == ["contract[One Year]:(0,24]", "contract[One Year]:(24,inf)", "contract[Two Year]:(0,24]",
                        "contract[Two Year]:(24,inf)", "monthly_charge"]
    curve = m.predict_survival(pd.DataFrame({"contract": ["One Year"], "monthly_charge": [50]}), times=[12, 36])
    assert curve["estimate"].between(0, 1).all()


def test_score_and_information_are_the_derivatives(spells):
    # analytic gradient and Hessian of the Efron/Breslow log-likelihood against central differences
    x = np.column_stack([(spells["plan"] == "B"), spells["x"], spells["offer"]]).astype(float)
    for ties in ("efron", "breslow"):
        rs = RiskSets(spells["start"], spells["stop"], spells["event"] == 1, (spells["plan"] == "C").astype(int),
                      spells["weight"], ties=ties)
        beta = np.array([0.3, 0.2, -0.5])
        t = rs.terms(x, beta)
        h = 1e-6
        num = np.array([(rs.terms(x, beta + h * e, need_info=False)["loglik"]
                         - rs.terms(x, beta - h * e, need_info=False)["loglik"]) / (2 * h) for e in np.eye(3)])
        np.testing.assert_allclose(t["score"], num, rtol=1e-6, atol=1e-6)
        hess = np.array([(rs.terms(x, beta + h * e, need_info=False)["score"]
                          - rs.terms(x, beta - h * e, need_info=False)["score"]) / (2 * h) for e in np.eye(3)])
        np.testing.assert_allclose(t["info"], -hess, rtol=1e-5, atol=1e-5)
        # score residuals sum to the score
        np.testing.assert_allclose((rs.score_residuals(x, t) * rs.w[:, None]).sum(0), t["score"], atol=1e-9)


def test_robust_without_cluster_is_the_row_sandwich(spells):
    a = CoxPH().fit(spells, formula="x + offer", robust=True, **SP)
    spells2 = spells.assign(row=np.arange(len(spells)))
    b = CoxPH().fit(spells2, formula="x + offer", cluster="row", **SP)
    np.testing.assert_allclose(a.hazard_ratios_["std_error"], b.hazard_ratios_["std_error"], rtol=1e-12)
    c = CoxPH().fit(spells, formula="x + offer", cluster="id", **SP)
    assert not np.allclose(a.hazard_ratios_["std_error"], c.hazard_ratios_["std_error"])


def test_cause_specific_equals_recoded_events(maven):
    a = CoxPH().fit(maven, formula="contract", cause="Competitor", cause_column="cause", **MK)
    recoded = maven.assign(event=((maven["event"] == 1) & (maven["cause"] == "Competitor")).astype(int))
    b = CoxPH().fit(recoded, formula="contract", **MK)
    np.testing.assert_allclose(a.coef_, b.coef_, rtol=1e-12)


def test_tenures_input_and_reference_levels():
    import churnsurv as cs

    t = cs.datasets.load_maven_telco()
    m = CoxPH(ties="breslow").fit(t, covariates=["Contract", "Monthly Charge"], reference={"Contract": "Two Year"})
    assert m.terms_ == ["Contract[Month-to-Month]", "Contract[One Year]", "Monthly Charge"]
    assert (m.hazard_ratios_["hazard_ratio"].iloc[:2] > 1).all()


def test_agrees_with_lifelines_efron(maven):
    lifelines = pytest.importorskip("lifelines")
    df = pd.DataFrame({"one": (maven["contract"] == "One Year").astype(float),
                       "two": (maven["contract"] == "Two Year").astype(float),
                       "T": maven["time"], "E": maven["event"]})
    ref = lifelines.CoxPHFitter().fit(df, "T", "E", batch_mode=True,
                                      fit_options={"precision": 1e-20, "r_precision": 0.0, "max_steps": 200})
    m = CoxPH().fit(maven, formula="contract", **MK)
    np.testing.assert_allclose(m.coef_, ref.params_, rtol=1e-6)


def test_penalizer_shrinks(maven):
    a = CoxPH().fit(maven, formula="contract", **MK)
    b = CoxPH(penalizer=50.0).fit(maven, formula="contract", **MK)
    assert (np.abs(b.coef_) < np.abs(a.coef_)).all()


def test_does_not_mutate_the_frame(maven):
    before = maven.copy()
    CoxPH().fit(maven, formula="contract", strata="internet_service", **MK)
    pd.testing.assert_frame_equal(maven, before)


def test_errors(maven):
    with pytest.raises(ValueError, match="'ties' parameter of CoxPH must be one of"):
        CoxPH(ties="exact").fit(maven, formula="contract", **MK)
    with pytest.raises(ValueError, match="either as formula"):
        CoxPH().fit(maven, **MK)
    with pytest.raises(TenureDataError, match="no column 'nope'"):
        CoxPH().fit(maven, formula="contract", strata="nope", **MK)
    with pytest.raises(ValueError, match="'cause' parameter of CoxPH.fit must be one of"):
        CoxPH().fit(maven, formula="contract", cause="Weather", cause_column="cause", **MK)
    with pytest.raises(ValueError, match="has no causes"):
        CoxPH().fit(maven, formula="contract", cause="Competitor", **MK)
    with pytest.raises(ValueError, match="conf_level"):
        CoxPH(conf_level=95).fit(maven, formula="contract", **MK)
    with pytest.raises(NotFittedError):
        CoxPH().predict_survival()
    m = CoxPH().fit(maven, formula="contract", **MK)
    with pytest.raises(TenureDataError, match="levels not seen when fitting"):
        m.predict_survival(pd.DataFrame({"contract": ["Lifetime"]}))
    with pytest.raises(ValueError, match="'term' parameter"):
        m.plot_schoenfeld("nope")


def test_plot_schoenfeld(fitted):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    out = fitted["maven_efron"].plot_schoenfeld("monthly_charge", ax=ax)
    assert out is ax and ax.get_title().startswith("monthly_charge: PH test p =")
    plt.close(fig)


def _simulate_cox(rng, n, beta):
    """A Cox population: Weibull baseline, a binary and a normal covariate, left truncation and censoring."""
    x = np.column_stack([rng.integers(0, 2, n), rng.normal(size=n)]).astype(float)
    u = rng.random(n)
    t = (-np.log(u) / (0.05 * np.exp(x @ beta))) ** (1 / 1.3)
    entry = np.where(rng.random(n) < 0.3, rng.uniform(0, 5, n), 0.0)
    keep = t > entry
    c = rng.uniform(5, 40, n)
    exit_ = np.ceil(np.minimum(t, c))  # monthly records: many ties
    frame = pd.DataFrame({"a": x[:, 0], "b": x[:, 1], "entry": entry, "exit": exit_, "event": (t <= c).astype(int)})
    return frame[keep]


def test_recovers_known_cox_populations_with_nominal_coverage():
    # 200 replications of n = 400; the 95% intervals should cover about 95% of the time
    beta = np.array([0.7, -0.4])
    rng = np.random.default_rng(20261206)
    estimates, covered = [], []
    for _ in range(200):
        df = _simulate_cox(rng, 400, beta)
        m = CoxPH().fit(df, formula="a + b", entry="entry", duration="exit", event="event")
        hr = m.hazard_ratios_
        estimates.append(hr["coef"].to_numpy())
        covered.append(((np.log(hr["ci_lower"]) <= beta) & (beta <= np.log(hr["ci_upper"]))).to_numpy())
    bias = np.mean(estimates, axis=0) - beta
    coverage = np.mean(covered, axis=0)
    assert np.all(np.abs(bias) < 0.05), bias
    assert np.all((coverage > 0.91) & (coverage < 0.985)), coverage


def test_concordance_paths_agree(spells):
    # the sweep over event times and the merge-sort tree (used when there are very many event times)
    from churnsurv.models._partial_likelihood import _dominance, _sweep

    rs = RiskSets(spells["start"], spells["stop"], spells["event"] == 1, (spells["plan"] == "C").astype(int),
                  spells["weight"])
    eta = np.round(spells["x"].to_numpy() * 0.3 + spells["offer"].to_numpy() * -0.6, 1)  # ties in eta too
    less, leq = _sweep(eta, rs)
    qk, qv = rs.kd, eta[rs.dead]
    a_less, a_leq = _dominance(rs.start, eta, rs.w, qk, qv)
    b_less, b_leq = _dominance(rs.end, eta, rs.w, qk, qv)
    np.testing.assert_allclose(a_less - b_less, less, atol=1e-9)
    np.testing.assert_allclose(a_leq - b_leq, leq, atol=1e-9)
    # and a brute-force count for the first events
    for i in range(20):
        row = rs.dead[i]
        k = rs.kd[i]
        risk = (rs.start <= k) & (k < rs.end)
        np.testing.assert_allclose(less[i], rs.w[risk & (eta < eta[row])].sum())
        np.testing.assert_allclose(leq[i], rs.w[risk & (eta <= eta[row])].sum())


def test_two_strata_columns(maven):
    m = CoxPH().fit(maven, formula="monthly_charge", strata=["internet_service", "contract"], **MK)
    assert m.baseline_cumulative_hazard_["stratum"].nunique() == 6
    assert "internet_service=No, contract=One Year" in set(m.baseline_cumulative_hazard_["stratum"])
    curve = m.predict_survival(pd.DataFrame({"monthly_charge": [50.0], "internet_service": ["No"],
                                             "contract": ["One Year"]}), times=[12])
    assert 0 < curve["estimate"].iloc[0] < 1
