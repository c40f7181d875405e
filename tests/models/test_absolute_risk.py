"""Absolute risk by cause from cause-specific Cox models (churnsurv.models.absolute_risk).

Reference values: tests/reference/make_reference_csc_risk.R, i.e. riskRegression::CSC(Hist(time, status) ~ ...)
then predict(fit, newdata, times, cause = k, se = TRUE) and predict(..., type = "survival", se = TRUE)
(product.limit = TRUE, log-log intervals), and for left truncation survival::coxph + survfit per cause.
"""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import churnsurv as cs
from churnsurv import Tenures
from churnsurv.models.absolute_risk import STILL_CUSTOMER, cause_specific_risk, plot_cause_specific_risk

REF = Path(__file__).resolve().parents[1] / "reference"
COLUMNS = ["cause", "time", "estimate", "std_error", "ci_lower", "ci_upper"]


@pytest.fixture(scope="module")
def maven():
    frame = pd.read_csv(REF / "inputs" / "maven_telco.csv", keep_default_na=False, na_values=[""])
    # two causes, as in the R script: Competitor and every other reason
    frame["cause2"] = np.where(frame["event"] == 1, np.where(frame["cause"] == "Competitor", "Competitor", "Other"),
                               None)
    return frame


@pytest.fixture(scope="module")
def reference():
    ref = pd.read_csv(REF / "fixtures" / "csc_risk_predict.csv")
    ref["cause"] = ref["cause"].replace("(survival)", STILL_CUSTOMER).astype(str)
    return ref


MAVEN_PROFILES = pd.DataFrame({"contract": ["Month-to-Month", "One Year", "Two Year"],
                               "monthly_charge": [70.0, 70.0, 20.0]})
SIM_PROFILES = pd.DataFrame({"x1": [0.0, 1.0, -0.5], "x2": [0.0, 1.0, 0.0]})


def _fit_maven(maven, truncated=False):
    t = Tenures.from_frame(maven, duration="time", event="event", cause="cause2",
                           entry="entry" if truncated else None, segments=["contract"], values=["monthly_charge"])
    return cs.CauseSpecificCox().fit(t, covariates=["contract", "monthly_charge"],
                                     reference={"contract": "Month-to-Month"})


def _compare(ref, got, columns, rtol, atol):
    merged = ref.merge(got, on=["profile", "cause", "time"], suffixes=("_r", ""), validate="one_to_one")
    assert len(merged) == len(ref)
    for col in columns:
        r, g = merged[col + "_r"].to_numpy(float), merged[col].to_numpy(float)
        np.testing.assert_array_equal(np.isnan(r), np.isnan(g), err_msg=col)
        ok = ~np.isnan(r)
        np.testing.assert_allclose(g[ok], r[ok], rtol=rtol, atol=atol, err_msg=col)


def test_matches_riskregression_maven(maven, reference):
    # monthly tenures, heavy ties: Efron baseline hazards, product-limit survival, influence-function SEs
    ref = reference[reference["dataset"] == "maven"]
    got = cause_specific_risk(_fit_maven(maven), MAVEN_PROFILES, times=sorted(ref["time"].unique()))
    _compare(ref, got, ["estimate", "std_error", "ci_lower", "ci_upper"], rtol=1e-7, atol=1e-10)


def test_matches_riskregression_continuous(reference):
    # continuous times (no ties), three causes
    sim = pd.read_csv(REF / "inputs" / "sim_continuous.csv")
    sim["cause_s"] = np.where(sim["event"] == 1, sim["cause"].astype(str), None)
    ref = reference[reference["dataset"] == "sim"]
    m = cs.CauseSpecificCox().fit(sim, covariates=["x1", "x2"], duration="time", cause="cause_s")
    got = cause_specific_risk(m, SIM_PROFILES, times=sorted(ref["time"].unique()))
    _compare(ref, got, ["estimate", "std_error", "ci_lower", "ci_upper"], rtol=1e-7, atol=1e-10)


def test_matches_r_left_truncation(maven):
    ref = pd.read_csv(REF / "fixtures" / "csc_risk_truncated.csv")
    ref["cause"] = ref["cause"].replace("(survival)", STILL_CUSTOMER)
    got = cause_specific_risk(_fit_maven(maven, truncated=True), MAVEN_PROFILES,
                              times=sorted(ref["time"].unique()))
    _compare(ref, got, ["estimate"], rtol=1e-7, atol=1e-10)
    assert (got["std_error"].dropna() >= 0).all()
    inside = got.dropna(subset=["ci_lower"])
    assert ((inside["ci_lower"] <= inside["estimate"]) & (inside["estimate"] <= inside["ci_upper"])).all()


# ---------------------------------------------------------------------------------------------- simulation
# Known cause-specific hazards: cause "a" exponential, rate 0.04 exp(0.7 z); cause "b" Weibull, cumulative
# hazard (t / 25)^1.5 exp(-0.5 z); z binary; censoring uniform on (5, 40); n = 300 customers per replication.
L_A, B_A, SHAPE_B, SCALE_B, G_B = 0.04, 0.7, 1.5, 25.0, -0.5


def _true_risk(z: float, t: float) -> dict:
    s = np.linspace(0.0, t, 20001)
    rate_a = L_A * np.exp(B_A * z)
    surv = np.exp(-rate_a * s - (s / SCALE_B) ** SHAPE_B * np.exp(G_B * z))
    cif_a = np.trapezoid(surv * rate_a, s)
    return {"a": cif_a, "b": 1.0 - surv[-1] - cif_a, STILL_CUSTOMER: surv[-1]}


def _simulate(rng, n: int) -> pd.DataFrame:
    z = rng.integers(0, 2, n).astype(float)
    t_a = rng.exponential(1.0 / (L_A * np.exp(B_A * z)))
    t_b = SCALE_B * (rng.exponential(size=n) / np.exp(G_B * z)) ** (1.0 / SHAPE_B)
    time = np.minimum.reduce([t_a, t_b, rng.uniform(5.0, 40.0, n)])
    cause = np.where(time == t_a, "a", np.where(time == t_b, "b", None))
    return pd.DataFrame({"time": time, "cause": cause, "z": z})


def test_interval_coverage_simulation():
    # 200 replications: the 95% log-log intervals cover the true cumulative incidence about 95% of the time.
    # Coverage with seed 2024 (cause x profile x time): a 0.96-0.97, b 0.915-0.95, survival 0.955-0.965;
    # overall 0.952 over 2400 intervals.
    rng = np.random.default_rng(2024)
    profiles = pd.DataFrame({"z": [0.0, 1.0]})
    times = [5.0, 15.0]
    truth = {(z, t): _true_risk(z, t) for z in (0.0, 1.0) for t in times}
    hits = []
    for _ in range(200):
        m = cs.CauseSpecificCox().fit(_simulate(rng, 300), covariates=["z"], duration="time", cause="cause")
        r = cause_specific_risk(m, profiles, times)
        true = np.array([truth[(z, t)][c] for z, t, c in zip(r["z"], r["time"], r["cause"], strict=True)])
        hits.append(((r["ci_lower"] <= true) & (true <= r["ci_upper"])).to_numpy())
    coverage = np.mean(hits, axis=0)  # per (profile, cause, time)
    assert 0.95 - 0.045 < np.mean(hits) < 0.95 + 0.025  # 2400 intervals: binomial sd 0.0045 (correlated)
    assert coverage.min() > 0.88 and coverage.max() < 0.995


# ---------------------------------------------------------------------------------------------- behaviour
@pytest.fixture(scope="module")
def sim_model():
    sim = pd.read_csv(REF / "inputs" / "sim_continuous.csv")
    sim["cause_s"] = np.where(sim["event"] == 1, "c" + sim["cause"].astype(str), None)
    return cs.CauseSpecificCox().fit(sim, covariates=["x1", "x2"], duration="time", cause="cause_s"), sim


def test_tidy_frame_and_properties(sim_model):
    m, sim = sim_model
    profiles = pd.DataFrame({"x1": [0.0, 1.5], "x2": [1, 0]}, index=["base", "high"])
    before = profiles.copy()
    r = cause_specific_risk(m, profiles)
    pd.testing.assert_frame_equal(profiles, before)
    assert list(r.columns) == ["profile", "x1", "x2", *COLUMNS]
    assert list(dict.fromkeys(r["profile"])) == ["base", "high"]
    assert list(dict.fromkeys(r["cause"])) == ["c1", "c2", "c3", STILL_CUSTOMER]
    # default times: 0 and every distinct event time
    event_times = np.unique(sim.loc[sim["event"] == 1, "time"])
    np.testing.assert_array_equal(r.loc[(r["profile"] == "base") & (r["cause"] == "c1"), "time"],
                                  np.concatenate([[0.0], event_times]))
    total = r.groupby(["profile", "time"])["estimate"].sum()
    np.testing.assert_allclose(total, 1.0, atol=1e-12)
    for _, part in r.groupby(["profile", "cause"]):
        d = np.diff(part["estimate"].to_numpy())
        assert (d >= -1e-15).all() if part["cause"].iloc[0] != STILL_CUSTOMER else (d <= 1e-15).all()
    assert ((r["ci_lower"] <= r["estimate"] + 1e-15) & (r["estimate"] <= r["ci_upper"] + 1e-15)).all()
    assert ((r["ci_lower"] >= 0) & (r["ci_upper"] <= 1)).all()
    at0 = r[r["time"] == 0]
    assert (at0["estimate"] == np.where(at0["cause"] == STILL_CUSTOMER, 1.0, 0.0)).all()
    assert (at0["std_error"] == 0).all()


def test_options(sim_model):
    m, _ = sim_model
    wide = cause_specific_risk(m, {"x1": 0.0, "x2": 1}, times=20, conf_level=0.99)
    narrow = cause_specific_risk(m, {"x1": 0.0, "x2": 1}, times=[20], conf_level=0.8)
    np.testing.assert_allclose(wide["estimate"], narrow["estimate"])
    assert ((wide["ci_upper"] - wide["ci_lower"]) > (narrow["ci_upper"] - narrow["ci_lower"])).all()
    bare = cause_specific_risk(m, {"x1": 0.0, "x2": 1}, times=[20], method="none")
    np.testing.assert_allclose(bare["estimate"], narrow["estimate"])
    assert bare[["std_error", "ci_lower", "ci_upper"]].isna().all().all()
    beyond = cause_specific_risk(m, {"x1": 0.0, "x2": 1}, times=[1e6])
    assert beyond[["estimate", "std_error", "ci_lower", "ci_upper"]].isna().all().all()


def test_spells_add_up_per_customer(sim_model, monkeypatch):
    # cutting each tenure into two spells of the same customer changes neither the estimates nor the intervals
    m, sim = sim_model
    cut = 10.0
    long = sim[sim["time"] > cut]
    first = long.assign(time=cut, event=0, cause_s=None, entry=0.0)
    second = long.assign(entry=cut)
    spells = pd.concat([sim[sim["time"] <= cut].assign(entry=0.0), first, second], ignore_index=True)
    t = Tenures.from_frame(spells, duration="time", entry="entry", cause="cause_s", id="id", spells=True,
                           values=["x1", "x2"])
    m2 = cs.CauseSpecificCox().fit(t, covariates=["x1", "x2"])
    times = [5.0, 20.0, 60.0]
    a = cause_specific_risk(m, SIM_PROFILES, times)
    b = cause_specific_risk(m2, SIM_PROFILES, times)
    np.testing.assert_allclose(b["estimate"], a["estimate"], rtol=1e-6)
    np.testing.assert_allclose(b["std_error"], a["std_error"], rtol=1e-5)
    # the influence functions are summed in blocks of customers (a customer's spells never split): same result
    monkeypatch.setattr("churnsurv.models.absolute_risk._CHUNK", 500)
    c = cause_specific_risk(m2, SIM_PROFILES, times)
    np.testing.assert_allclose(c["std_error"], b["std_error"], rtol=1e-12)


def test_errors(maven, sim_model):
    m, _ = sim_model
    with pytest.raises(cs.NotFittedError):
        cause_specific_risk(cs.CauseSpecificCox(), SIM_PROFILES)
    with pytest.raises(TypeError, match="'model' parameter of cause_specific_risk"):
        cause_specific_risk("model", SIM_PROFILES)
    with pytest.raises(ValueError, match="'times' parameter of cause_specific_risk"):
        cause_specific_risk(m, SIM_PROFILES, times=[1.0, -2.0])
    with pytest.raises(ValueError, match="'conf_level' parameter"):
        cause_specific_risk(m, SIM_PROFILES, conf_level=95)
    with pytest.raises(ValueError, match="'method' parameter"):
        cause_specific_risk(m, SIM_PROFILES, method="bootstrap")
    with pytest.raises(cs.TenureDataError, match="no column 'x2'"):
        cause_specific_risk(m, SIM_PROFILES[["x1"]])
    one_cause = cs.CauseSpecificCox(causes=["Competitor"]).fit(
        Tenures.from_frame(maven, duration="time", event="event", cause="cause2", segments=["contract"]),
        covariates=["contract"])
    with pytest.raises(ValueError, match=r"no hazard model for the causes \['Other'\].*causes=None"):
        cause_specific_risk(one_cause, MAVEN_PROFILES)
    m_maven = _fit_maven(maven)
    with pytest.raises(cs.TenureDataError, match="Column 'contract' has 1 row with levels not seen"):
        cause_specific_risk(m_maven, MAVEN_PROFILES.assign(contract=["Month-to-Month", "Weekly", "Two Year"]))
    weighted = maven.assign(w=1.0 + (maven.index % 2))
    mw = cs.CauseSpecificCox().fit(weighted, covariates=["contract"], duration="time", event="event",
                                   cause="cause2", weights="w", segments=["contract"])
    with pytest.raises(ValueError, match="case weights"):
        cause_specific_risk(mw, MAVEN_PROFILES)


def test_plot(sim_model):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    m, _ = sim_model
    r = cause_specific_risk(m, SIM_PROFILES, times=np.linspace(0, 80, 41))
    fig, ax = plt.subplots()
    assert plot_cause_specific_risk(r, profile=1, ax=ax) is ax
    assert len(ax.collections) == 4 and ax.get_ylim() == (0.0, 1.0)
    ax2 = plot_cause_specific_risk(r[r["profile"] == 0], kind="lines")
    assert len(ax2.get_lines()) == 4 and len(ax2.collections) == 4
    assert [t.get_text() for t in ax2.get_legend().get_texts()] == ["c1", "c2", "c3", STILL_CUSTOMER]
    with pytest.raises(ValueError, match="3 profiles"):
        plot_cause_specific_risk(r)
    with pytest.raises(ValueError, match="'kind' parameter"):
        plot_cause_specific_risk(r, profile=0, kind="pie")
    plt.close("all")
