"""DiscreteTimeHazard: equal to R's glm / VGAM::vglm on the person-period data, and exact from counts.

Reference numbers come from ``tests/reference/make_reference_discrete.R``: ``glm(y ~ 0 + factor(period) + contract
+ monthly_charge, family = binomial(link = "cloglog" / "logit"))`` and the ``ns(period, knots = c(6, 12, 24),
Boundary.knots = c(1, 72)) + renewal`` and intercept-only baselines on the expanded Maven person-period rows (naive
and left-truncated readings), one cause (``Competitor``), and ``vglm(outcome ~ ns(...) + contract + monthly_charge,
multinomial(refLevel = 1))`` over {stay, 5 causes}. Fixtures: ``tests/reference/fixtures/discrete_*.csv``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from churnsurv import Tenures
from churnsurv.exceptions import NotFittedError, StatisticalWarning, TenureDataError
from churnsurv.lifetable.table import life_table
from churnsurv.models import discrete_time as dt
from churnsurv.models._glm import binomial_glm
from churnsurv.models._splines import natural_spline_basis
from churnsurv.models.discrete_time import DiscreteTimeHazard

REF = Path(__file__).resolve().parents[1] / "reference"
FIX = REF / "fixtures"
COVS = ["contract", "monthly_charge"]
KNOTS = [6, 12, 24]

CASES = {
    "period_cloglog_naive": ("naive", {"link": "cloglog"}, {}),
    "period_logit_naive": ("naive", {"link": "logit"}, {}),
    "period_cloglog_truncated": ("truncated", {"link": "cloglog"}, {}),
    "period_logit_truncated": ("truncated", {"link": "logit"}, {}),
    "spline_cloglog_naive": ("naive", {"link": "cloglog", "baseline": "spline", "knots": KNOTS, "renewal": 12}, {}),
    "spline_logit_truncated": ("truncated", {"link": "logit", "baseline": "spline", "knots": KNOTS,
                                             "renewal": 12}, {}),
    "constant_cloglog_truncated": ("truncated", {"link": "cloglog", "baseline": "constant"}, {}),
    "spline_cloglog_naive_competitor": ("naive", {"link": "cloglog", "baseline": "spline", "knots": KNOTS,
                                                  "renewal": 12}, {"cause": "Competitor"}),
}


@pytest.fixture(scope="module")
def maven():
    return pd.read_csv(REF / "inputs" / "maven_telco.csv")


@pytest.fixture(scope="module")
def tenures(maven):
    kw = {"duration": "time", "event": "event", "cause": "cause", "id": "id", "segments": ["contract"],
          "values": ["monthly_charge"]}
    return {"naive": Tenures.from_frame(maven, **kw), "truncated": Tenures.from_frame(maven, entry="entry", **kw)}


@pytest.fixture(scope="module")
def fits(tenures):
    return {case: DiscreteTimeHazard(**kw).fit(tenures[reading], covariates=COVS, **fkw)
            for case, (reading, kw, fkw) in CASES.items()}


@pytest.fixture(scope="module")
def multinomial(tenures):
    return DiscreteTimeHazard(link="logit", baseline="spline", knots=KNOTS, causes="multinomial").fit(
        tenures["naive"], covariates=COVS)


def _small(seed=0, n=400):
    """A small seeded book: integer tenures, left truncation, two causes, a segment and a numeric covariate."""
    rng = np.random.default_rng(seed)
    plan = rng.choice(["basic", "plus", "pro"], n)
    usage = rng.integers(0, 4, n).astype(float)
    lin = {"basic": 0.0, "plus": -0.4, "pro": -0.8}
    h = 1 - np.exp(-np.exp(-2.3 + np.vectorize(lin.get)(plan) + 0.2 * usage))
    t = rng.geometric(h)
    cens = rng.integers(1, 30, n)
    exit_ = np.minimum(t, cens)
    event = (t <= cens).astype(int)
    entry = np.where(rng.random(n) < 0.3, rng.integers(0, 5, n), 0)
    keep = exit_ > entry
    cause = np.where(event == 1, rng.choice(["price", "service"], n), None)
    return pd.DataFrame({"id": np.arange(n), "entry": entry, "exit": exit_, "event": event, "cause": cause,
                         "plan": plan, "usage": usage})[keep].reset_index(drop=True)


def _person_period(df):
    """Explicit person-period rows (the slow way): periods entry+1..exit, y = 1 in the exit period if event."""
    rows = []
    for r in df.itertuples():
        for j in range(int(r.entry) + 1, int(r.exit) + 1):
            rows.append({"period": j, "plan": r.plan, "usage": r.usage,
                         "y": int(j == r.exit and r.event == 1)})
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------- against R
@pytest.mark.parametrize("case", list(CASES))
def test_binomial_glm_equals_r(fits, case):
    ref = pd.read_csv(FIX / "discrete_coef.csv").query("case == @case").set_index("term")
    got = fits[case].summary().set_index("term")
    assert list(got.index) == list(ref.index)
    np.testing.assert_allclose(got["coef"], ref["coef"], rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(got["std_error"], ref["std_error"], rtol=1e-8)
    f = pd.read_csv(FIX / "discrete_fit.csv").set_index("case").loc[case]
    m = fits[case]
    np.testing.assert_allclose([m.log_likelihood_, m.deviance_, m.aic_, m.bic_],
                               [f["loglik"], f["deviance"], f["aic"], f["bic"]], rtol=1e-11)
    assert m.n_person_periods_ == f["n_person_periods"]
    assert sum(m.n_events_.values()) == f["n_events"]
    assert m.n_params_ == f["n_params"]
    assert m.n_obs_ == 7043 and m.converged_


def test_multinomial_equals_vglm(multinomial):
    coef = pd.read_csv(FIX / "discrete_coef.csv")
    s = multinomial.summary()
    assert multinomial.causes_ == ["Attitude", "Competitor", "Dissatisfaction", "Other", "Price"]
    for cause in multinomial.causes_:
        ref = coef[coef["case"] == f"multinomial_naive:{cause}"].set_index("term")
        got = s[s["cause"] == cause].set_index("term")
        assert list(got.index) == list(ref.index)
        np.testing.assert_allclose(got["coef"], ref["coef"], rtol=1e-8, atol=1e-10)
        np.testing.assert_allclose(got["std_error"], ref["std_error"], rtol=1e-8)
    f = pd.read_csv(FIX / "discrete_fit.csv").set_index("case").loc["multinomial_naive"]
    np.testing.assert_allclose([multinomial.log_likelihood_, multinomial.aic_, multinomial.bic_],
                               [f["loglik"], f["aic"], f["bic"]], rtol=1e-11)
    assert multinomial.n_params_ == f["n_params"]


@pytest.mark.parametrize("case", ["period_cloglog_naive", "spline_cloglog_naive", "period_logit_truncated",
                                  "spline_logit_truncated"])
def test_predicted_hazard_equals_r_predict(fits, case):
    from scipy.stats import norm

    ref = pd.read_csv(FIX / "discrete_predict.csv").query("case == @case")
    profiles = pd.DataFrame({"contract": ["Month-to-Month", "Two Year"], "monthly_charge": [70.0, 20.0]},
                            index=["m2m_70", "two_year_20"])
    got = fits[case].predict_hazard(profiles, periods=sorted(ref["period"].unique()))
    got = got.sort_values(["profile", "period"]).reset_index(drop=True)
    np.testing.assert_array_equal(got["profile"], ref["profile"])
    np.testing.assert_allclose(got["estimate"], ref["hazard"], rtol=1e-8)
    link = fits[case].link
    inv = (lambda e: -np.expm1(-np.exp(e))) if link == "cloglog" else (lambda e: 1 / (1 + np.exp(-e)))
    z = norm.ppf(0.975)
    np.testing.assert_allclose(got["ci_lower"], inv(ref["eta"] - z * ref["se_eta"]), rtol=1e-7)
    np.testing.assert_allclose(got["ci_upper"], inv(ref["eta"] + z * ref["se_eta"]), rtol=1e-7)
    np.testing.assert_array_equal(got["extrapolated"], ref["period"].to_numpy() > 72)


def test_natural_spline_basis_equals_ns():
    ref = pd.read_csv(FIX / "discrete_ns_basis.csv")
    x = ref["x"].unique()
    got = natural_spline_basis(x, KNOTS, (1, 72))
    want = ref.pivot(index="x", columns="col", values="value").loc[x].to_numpy()
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)


# ---------------------------------------------------------------------- counts equal person-periods
def test_counts_fit_equals_person_period_fit():
    df = _small()
    t = Tenures.from_frame(df, duration="exit", entry="entry", event="event", id="id", values=["usage"],
                           segments=["plan"])
    m = DiscreteTimeHazard(baseline="constant").fit(t, covariates=["plan", "usage"])
    pp = _person_period(df)
    x = np.column_stack([np.ones(len(pp)), pp["plan"] == "plus", pp["plan"] == "pro", pp["usage"]]).astype(float)
    ref = binomial_glm(x, pp["y"].to_numpy(float), np.ones(len(pp)), "cloglog")
    np.testing.assert_allclose(m.summary()["coef"], ref.coef, rtol=1e-10)
    np.testing.assert_allclose(m.summary()["std_error"], np.sqrt(np.diag(ref.vcov)), rtol=1e-10)
    np.testing.assert_allclose(m.log_likelihood_, ref.log_likelihood, rtol=1e-12)
    assert m.n_person_periods_ == len(pp) and m.n_rows_ < len(pp)


def test_dense_and_person_period_paths_agree(monkeypatch):
    t = Tenures.from_frame(_small(1), duration="exit", entry="entry", event="event", id="id", segments=["plan"],
                           values=["usage"])
    a = DiscreteTimeHazard(baseline="spline").fit(t, covariates=["plan", "usage"])
    monkeypatch.setattr(dt, "_DENSE_CELLS", 0)
    b = DiscreteTimeHazard(baseline="spline").fit(t, covariates=["plan", "usage"])
    assert b.n_rows_ > a.n_rows_
    np.testing.assert_allclose(a.summary()["coef"], b.summary()["coef"], rtol=1e-10)
    assert a.log_likelihood_ == pytest.approx(b.log_likelihood_, rel=1e-12)


def test_life_table_door_equals_tenures_door():
    t = Tenures.from_frame(_small(2), duration="exit", entry="entry", event="event", cause="cause", id="id",
                           segments=["plan"])
    lt = life_table(t, by="plan", check_confounding=False)
    for causes in (None, "separate"):
        a = DiscreteTimeHazard(link="logit", causes=causes, baseline="spline").fit(t, covariates=["plan"])
        b = DiscreteTimeHazard(link="logit", causes=causes, baseline="spline").fit(lt, covariates=["plan"])
        pd.testing.assert_frame_equal(a.summary(), b.summary(), rtol=1e-10)
        assert a.n_person_periods_ == b.n_person_periods_ and b.n_obs_ == a.n_obs_


def test_time_varying_covariates_from_spells():
    df = _small(3)
    # split every customer at the middle of their observed periods; the plan changes to "pro" after the split
    mid = (df["entry"] + (df["exit"] - df["entry"]) // 2).astype(int)
    long = df[df["exit"] - df["entry"] >= 2]
    first = long.assign(exit=mid[long.index], event=0, cause=None)
    second = long.assign(entry=mid[long.index], plan="pro")
    spells = pd.concat([first, second, df.drop(long.index)], ignore_index=True)
    t = Tenures.from_frame(spells, duration="exit", entry="entry", event="event", id="id", spells=True,
                           segments=["plan"], values=["usage"])
    m = DiscreteTimeHazard(baseline="constant", link="logit").fit(t, covariates=["plan", "usage"])
    pp = _person_period(spells)
    x = np.column_stack([np.ones(len(pp)), pp["plan"] == "plus", pp["plan"] == "pro", pp["usage"]]).astype(float)
    ref = binomial_glm(x, pp["y"].to_numpy(float), np.ones(len(pp)), "logit")
    np.testing.assert_allclose(m.summary()["coef"], ref.coef, rtol=1e-10)
    assert m.n_obs_ == df["id"].nunique()
    # unchanged covariates: splitting into spells changes nothing
    same = pd.concat([first, long.assign(entry=mid[long.index]), df.drop(long.index)], ignore_index=True)
    a = DiscreteTimeHazard(baseline="spline").fit(same, duration="exit", entry="entry", event="event", id="id",
                                                  spells=True, covariates=["plan"])
    b = DiscreteTimeHazard(baseline="spline").fit(df, duration="exit", entry="entry", event="event", id="id",
                                                  covariates=["plan"])
    np.testing.assert_allclose(a.summary()["coef"], b.summary()["coef"], rtol=1e-12)


def test_weights_scale_counts():
    df = _small(4)
    a = DiscreteTimeHazard(baseline="constant").fit(df, duration="exit", entry="entry", event="event",
                                                    covariates=["plan"])
    b = DiscreteTimeHazard(baseline="constant").fit(df.assign(w=2.0), duration="exit", entry="entry",
                                                    event="event", weights="w", covariates=["plan"])
    np.testing.assert_allclose(a.summary()["coef"], b.summary()["coef"], rtol=1e-10)
    assert b.log_likelihood_ == pytest.approx(2 * a.log_likelihood_, rel=1e-12)


def test_fractional_times_use_whole_periods():
    df = pd.DataFrame({"entry": [0.0, 1.5, 0.0, 2.0, 2.2], "exit": [2.2, 4.0, 3.0, 2.5, 2.9],
                       "event": [1, 1, 0, 1, 1]})
    with pytest.warns(StatisticalWarning, match="1 row.* no whole period at risk .*1 of them defections"):
        m = DiscreteTimeHazard(baseline="constant").fit(df, duration="exit", entry="entry", event="event")
    # periods (j-1, j]: row 1 -> 1..3 (event in 3); row 2 -> 3..4 (entry 1.5 rounded up); row 3 -> 1..3;
    # row 4 -> 3 (event); row 5 (entry 2.2, exit 2.9) sees no whole period and is left out
    assert m.n_person_periods_ == 3 + 2 + 3 + 1
    assert m.n_events_ == {"any": 3.0}


# ---------------------------------------------------------------------- predictions
def test_survival_is_product_of_hazards_and_extrapolation(fits):
    profiles = pd.DataFrame({"contract": ["One Year"], "monthly_charge": [50.0]})
    for case in ("period_cloglog_naive", "spline_cloglog_naive"):
        m = fits[case]
        h = m.predict_hazard(profiles, periods=range(1, 81))
        s = m.predict_survival(profiles, times=[0, 0.5, 1, 12, 12.7, 72, 80])
        assert list(s.columns) == ["profile", "contract", "monthly_charge", "time", "estimate", "ci_lower",
                                   "ci_upper", "extrapolated"]
        cum = np.r_[1.0, np.cumprod(1 - h["estimate"].to_numpy())]
        np.testing.assert_allclose(s["estimate"].iloc[:6], cum[[0, 0, 1, 12, 12, 72]], rtol=1e-12)
        assert s["extrapolated"].tolist() == [False] * 6 + [True]
        assert (s[["estimate", "ci_lower", "ci_upper"]].iloc[:2] == 1.0).all().all()
        assert (s["ci_lower"].iloc[2:6] < s["estimate"].iloc[2:6]).all()
        assert (s["ci_upper"].iloc[2:6] > s["estimate"].iloc[2:6]).all()
        if m.baseline == "period":
            assert np.isnan(s["estimate"].iloc[-1])
        else:
            assert 0 < s["estimate"].iloc[-1] < s["estimate"].iloc[-2]


def test_survival_ci_matches_analytic_delta_method(fits):
    from scipy.stats import norm

    m = fits["constant_cloglog_truncated"]
    prof = pd.DataFrame({"contract": ["Two Year"], "monthly_charge": [80.0]})
    s = m.predict_survival(prof, times=[10])
    # constant baseline: S(t) = exp(-t exp(eta)); log(-log S) = log t + eta, so the delta method is exact
    x = np.array([1.0, 0.0, 1.0, 80.0])
    eta = x @ m.coef_["coef"].to_numpy()
    se = np.sqrt(x @ m.vcov_.to_numpy() @ x)
    z = norm.ppf(0.975)
    np.testing.assert_allclose(s[["estimate", "ci_lower", "ci_upper"]].iloc[0],
                               np.exp(-10 * np.exp([eta, eta + z * se, eta - z * se])), rtol=1e-7)


def test_cumulative_incidence_adds_up(multinomial, tenures):
    prof = pd.DataFrame({"contract": ["Month-to-Month", "One Year"], "monthly_charge": [90.0, 40.0]})
    times = [1, 6, 24, 72, 84]
    for m in (multinomial, DiscreteTimeHazard(causes="separate", baseline="spline", knots=KNOTS).fit(
            tenures["naive"], covariates=COVS)):
        cif = m.predict_cumulative_incidence(prof, times=times)
        s = m.predict_survival(prof, times=times)
        total = cif.groupby(["profile", "time"])["estimate"].sum().to_numpy()
        np.testing.assert_allclose(total + s["estimate"].to_numpy(), 1.0, atol=1e-12)
        assert set(cif["cause"]) == set(m.causes_)
        assert (cif["ci_lower"] <= cif["estimate"]).all() and (cif["estimate"] <= cif["ci_upper"]).all()
        assert cif.loc[cif["time"] == 84, "extrapolated"].all()


def test_baseline_table_and_summary_columns(fits, multinomial):
    m = fits["spline_cloglog_naive"]
    b = m.baseline_
    assert list(b.columns) == ["period", "estimate", "ci_lower", "ci_upper", "extrapolated"]
    assert b["period"].tolist() == list(range(1, 73))
    s = m.summary()
    assert list(s.columns) == ["term", "kind", "coef", "std_error", "ci_lower", "ci_upper", "z", "p_value",
                               "hazard_ratio"]
    cov = s[s["kind"] == "covariate"]
    np.testing.assert_allclose(cov["hazard_ratio"], np.exp(cov["coef"]))
    assert "renewal" in s["term"].tolist()
    assert "odds_ratio" in multinomial.summary().columns
    assert set(multinomial.baseline_["cause"]) == set(multinomial.causes_)


def test_default_profiles_are_the_patterns():
    df = _small(5)
    m = DiscreteTimeHazard(baseline="constant").fit(df, duration="exit", entry="entry", event="event",
                                                    covariates=["plan"])
    out = m.predict_survival(times=[3])
    assert sorted(out["plan"]) == ["basic", "plus", "pro"]


# ---------------------------------------------------------------------- errors and hygiene
def test_parameter_errors(tenures):
    t = tenures["truncated"]
    with pytest.raises(ValueError, match="'link' parameter of DiscreteTimeHazard"):
        DiscreteTimeHazard(link="probit").fit(t)
    with pytest.raises(ValueError, match="'logit' when causes='multinomial'"):
        DiscreteTimeHazard(causes="multinomial").fit(t)
    with pytest.raises(ValueError, match="'renewal' parameter"):
        DiscreteTimeHazard(renewal=12).fit(t)
    with pytest.raises(ValueError, match="'knots' parameter"):
        DiscreteTimeHazard(baseline="spline", knots=[0.5]).fit(t)
    with pytest.raises(ValueError, match="not both"):
        DiscreteTimeHazard(causes="separate").fit(t, cause="Price")


def test_period_without_defections_is_a_clear_error():
    df = pd.DataFrame({"exit": [1, 3, 3, 2], "event": [1, 1, 0, 0]})
    with pytest.raises(TenureDataError, match=r"1 period\(s\) have no defections .*: 2\. .*baseline='spline'"):
        DiscreteTimeHazard().fit(df, duration="exit", event="event")


def test_data_errors(maven):
    bad = maven.assign(monthly_charge=maven["monthly_charge"].where(maven.index % 1000 != 0))
    with pytest.raises(TenureDataError, match="Column 'monthly_charge' has 8 rows with missing covariate"):
        DiscreteTimeHazard().fit(bad, duration="time", event="event", covariates=["monthly_charge"])
    t = Tenures.from_frame(maven, duration="time", event="event")
    with pytest.raises(TenureDataError, match="no column 'contract' .*Declare covariates"):
        DiscreteTimeHazard().fit(t, covariates=["contract"])
    m = DiscreteTimeHazard(baseline="constant").fit(maven, duration="time", event="event", covariates=["contract"])
    with pytest.raises(TenureDataError, match="profiles have no column 'contract'"):
        m.predict_survival(pd.DataFrame({"plan": ["x"]}))
    with pytest.raises(NotFittedError):
        DiscreteTimeHazard().predict_survival()
    lt = life_table(Tenures.from_frame(pd.DataFrame({"t": [1.5, 2.0], "e": [1, 1]}), duration="t", event="e"))
    with pytest.raises(TenureDataError, match="non-integer times"):
        DiscreteTimeHazard().fit(lt)


def test_does_not_mutate_and_params_roundtrip(maven):
    before = maven.copy()
    m = DiscreteTimeHazard(link="logit", baseline="spline").fit(maven, duration="time", event="event",
                                                                covariates=["contract"])
    pd.testing.assert_frame_equal(maven, before)
    assert m.get_params()["baseline"] == "spline"
    assert repr(m) == "DiscreteTimeHazard(link='logit', baseline='spline')"


def test_recovers_grouped_proportional_hazards_truth():
    """Seeded simulation from the grouped PH model itself: the estimate is within 4 standard errors."""
    rng = np.random.default_rng(11)
    n = 40_000
    g = rng.integers(0, 2, n)
    lam = 0.05 * np.exp(0.5 * g) * (1 + 1.5 * (np.arange(1, 61)[:, None] % 12 == 0))  # (period, customer)
    h = 1 - np.exp(-lam)
    u = rng.random((60, n)) < h
    t = np.where(u.any(axis=0), u.argmax(axis=0) + 1, 60)
    ev = u.any(axis=0)
    df = pd.DataFrame({"exit": t, "event": ev.astype(int), "g": g.astype(float)})
    m = DiscreteTimeHazard(baseline="constant", renewal=12).fit(df, duration="exit", event="event",
                                                                covariates=["g"])
    s = m.summary().set_index("term")
    assert abs(s.loc["g", "coef"] - 0.5) < 4 * s.loc["g", "std_error"]
    assert abs(s.loc["(Intercept)", "coef"] - np.log(0.05)) < 4 * s.loc["(Intercept)", "std_error"]
    assert abs(s.loc["renewal", "coef"] - np.log(2.5)) < 4 * s.loc["renewal", "std_error"]
