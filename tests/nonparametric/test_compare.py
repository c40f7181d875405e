"""Tests of churnsurv.nonparametric.logrank (log-rank family, trend, pairwise).

Reference numbers (CI has no R; the fixtures are committed):

* ``tests/reference/make_reference.R`` -> ``fixtures/logrank_{tests,groups,var,trend}.csv``:
  ``survdiff(Surv(time, event) ~ g [+ strata(s)], rho = 0 / 1)`` on IBM, Maven (naive) and sim_continuous; for
  ``Surv(entry, time, event)`` data (which survdiff rejects) its ``logrank_manual()`` loop, checked there against
  survdiff; trend from survdiff's totals with scores 1..k.
* ``tests/reference/make_reference_compare_smooth.R`` -> ``fixtures/compare_*.csv``: Fleming-Harrington with
  gamma > 0, Gehan-Breslow and Tarone-Ware (``weighted_logrank()``, a literal loop checked there to reproduce
  survdiff to 1e-10), trend with other scores, pairwise survdiff + ``p.adjust`` (holm, bonferroni, BH), and
  ``coxph(Surv(entry, time, event) ~ g, ties = "breslow")$score`` for the left-truncated risk sets.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from churnsurv import LifeTable, Tenures, TenureDataError, life_table
from churnsurv.nonparametric.logrank import TestResult, _Components, adjust_pvalues, logrank_test, pairwise_logrank
from churnsurv.exceptions import StatisticalWarning

REF = Path(__file__).resolve().parents[1] / "reference"
FIX = REF / "fixtures"
INP = REF / "inputs"

RTOL_STAT = 1e-8     # chi-square statistics
RTOL_COUNT = 1e-10   # observed / expected / variance


# ---------------------------------------------------------------------- data as R saw it
@pytest.fixture(scope="module")
def inputs():
    ibm = pd.read_csv(INP / "ibm_telco.csv")
    maven = pd.read_csv(INP / "maven_telco.csv", keep_default_na=False, na_values=[""])
    sim_tr = pd.read_csv(INP / "sim_truncated.csv")
    sim_co = pd.read_csv(INP / "sim_continuous.csv")
    return {"ibm": ibm, "maven": maven, "sim_truncated": sim_tr, "sim_continuous": sim_co}


def _dataset(inputs, name):
    """(frame, frame_kwargs) for a fixture dataset name."""
    if name == "ibm":
        return inputs["ibm"], {"duration": "time", "event": "event"}
    if name == "maven_naive":
        return inputs["maven"], {"duration": "time", "event": "event"}
    if name == "maven_truncated":
        return inputs["maven"], {"duration": "time", "event": "event", "entry": "entry"}
    if name == "sim_truncated":
        return inputs["sim_truncated"], {"duration": "time", "event": "event", "entry": "entry"}
    if name == "sim_continuous":
        return inputs["sim_continuous"], {"duration": "time", "event": "event"}
    if name == "sim_continuous_entry":  # as in make_reference_compare_smooth.R
        d = inputs["sim_continuous"].copy()
        d["entry"] = np.round(d["time"] * (d["id"] % 5) / 10, 6)
        return d, {"duration": "time", "event": "event", "entry": "entry"}
    raise KeyError(name)


def _none(v):
    return None if v == "(none)" else v


# ---------------------------------------------------------------------- survdiff (make_reference.R)
LOGRANK = pd.read_csv(FIX / "logrank_tests.csv")
LR_GROUPS = pd.read_csv(FIX / "logrank_groups.csv")
LR_VAR = pd.read_csv(FIX / "logrank_var.csv")
LR_TREND = pd.read_csv(FIX / "logrank_trend.csv")


@pytest.mark.parametrize("test_id", LOGRANK["test_id"].tolist())
def test_survdiff_reference(inputs, test_id):
    """survdiff(Surv(time, event) ~ g [+ strata(s)], rho) / logrank_manual() for (start, stop] data."""
    ref = LOGRANK.set_index("test_id").loc[test_id]
    frame, kw = _dataset(inputs, ref["dataset"])
    res = logrank_test(frame, ref["group_var"], strata=_none(ref["strata_var"]),
                       rho=float(ref["rho"]) if ref["rho"] else None, **kw)
    assert res.statistic == pytest.approx(ref["chisq"], rel=RTOL_STAT)
    assert res.dof == ref["df"]
    assert res.p_value == pytest.approx(ref["p"], rel=1e-6, abs=1e-300)

    groups = LR_GROUPS[(LR_GROUPS["test_id"] == test_id) & (LR_GROUPS["stratum"] == "(total)")]
    got = res.groups.assign(group=res.groups[ref["group_var"]].astype(str)).set_index("group")
    exp = groups.set_index("group").loc[got.index]
    np.testing.assert_array_equal(got["n"].to_numpy(), exp["n"].to_numpy())
    np.testing.assert_allclose(got["observed"], exp["obs"], rtol=RTOL_COUNT)
    np.testing.assert_allclose(got["expected"], exp["exp"], rtol=RTOL_COUNT)
    np.testing.assert_allclose(got["o_minus_e"], exp["o_minus_e"], rtol=1e-9)
    np.testing.assert_allclose(got["variance"], exp["var_diag"], rtol=RTOL_COUNT)

    var = LR_VAR[LR_VAR["test_id"] == test_id].pivot(index="row_group", columns="col_group", values="var")
    var = var.loc[got.index, got.index]
    np.testing.assert_allclose(res.covariance.to_numpy(), var.to_numpy(), rtol=RTOL_COUNT, atol=1e-10)


@pytest.mark.parametrize("test_id", LR_TREND["test_id"].tolist())
def test_trend_reference(inputs, test_id):
    """Trend test from survdiff's totals, scores 1..k (make_reference.R, logrank_trend.csv)."""
    ref = LR_TREND.set_index("test_id").loc[test_id]
    tests = LOGRANK.set_index("test_id").loc[test_id]
    frame, kw = _dataset(inputs, ref["dataset"])
    res = logrank_test(frame, tests["group_var"], strata=_none(tests["strata_var"]),
                       rho=float(ref["rho"]) if ref["rho"] else None, trend=True, **kw)
    row = res.table.iloc[1]
    assert row["test"].endswith("trend")
    assert row["dof"] == 1
    assert row["statistic"] == pytest.approx(ref["chisq"], rel=RTOL_STAT)
    scores = res.scores.to_numpy()
    assert float(scores @ res.groups["o_minus_e"].to_numpy()) == pytest.approx(ref["u"], rel=1e-9)


# ---------------------------------------------------------------------- weights survdiff lacks
COMPARE_TESTS = pd.read_csv(FIX / "compare_tests.csv")
_FAMILY = {"fh": "fleming-harrington", "gehan": "gehan-breslow", "tarone": "tarone-ware"}


@pytest.mark.parametrize("case", COMPARE_TESTS["case"].tolist())
def test_weighted_logrank_reference(inputs, case):
    """weighted_logrank() in make_reference_compare_smooth.R: FH(rho, gamma), Gehan-Breslow, Tarone-Ware."""
    ref = COMPARE_TESTS.set_index("case").loc[case]
    frame, kw = _dataset(inputs, ref["dataset"])
    by = "contract" if "contract" in frame else "group"
    strata = "internet_service" if "strata" in ref["call"] else None
    kwargs = {"weights": _FAMILY[ref["weights"]]}
    if ref["weights"] == "fh":
        kwargs.update(rho=float(ref["rho"]), gamma=float(ref["gamma"]))
    res = logrank_test(frame, by, strata=strata, **kwargs, **kw)
    assert res.statistic == pytest.approx(ref["statistic"], rel=RTOL_STAT)
    assert res.dof == ref["dof"]
    ome = np.array(ref["o_minus_e"].split(";"), dtype=float)
    var = np.array(ref["variance"].split(";"), dtype=float)
    np.testing.assert_allclose(res.groups["o_minus_e"], ome, rtol=1e-9)
    np.testing.assert_allclose(res.groups["variance"], var, rtol=RTOL_COUNT)


COMPARE_TREND = pd.read_csv(FIX / "compare_trend.csv")


@pytest.mark.parametrize("row", range(len(COMPARE_TREND)))
def test_trend_scores_reference(inputs, row):
    """(c'(O - E))^2 / c'Vc from survdiff's totals with other scores (compare_trend.csv)."""
    ref = COMPARE_TREND.iloc[row]
    frame, kw = _dataset(inputs, ref["dataset"])
    scores = dict(pair.split("=") for pair in ref["scores"].split(";"))
    scores = {k: float(v) for k, v in scores.items()}   # a mapping level -> score
    strata = "internet_service" if "strat" in ref["case"] else None
    rho = 1.0 if "rho1" in ref["case"] else None
    res = logrank_test(frame, "contract", strata=strata, rho=rho, scores=scores, **kw)
    assert res.table["statistic"].iloc[1] == pytest.approx(ref["statistic"], rel=RTOL_STAT)
    # the same scores as a sequence in group order
    res2 = logrank_test(frame, "contract", strata=strata, rho=rho, scores=list(scores.values()), **kw)
    assert res2.table["statistic"].iloc[1] == pytest.approx(ref["statistic"], rel=RTOL_STAT)


def test_trend_is_invariant_to_affine_scores(inputs):
    frame, kw = _dataset(inputs, "ibm")
    a = logrank_test(frame, "contract", trend=True, **kw).table["statistic"].iloc[1]
    b = logrank_test(frame, "contract", scores=[10, 5, 0], **kw).table["statistic"].iloc[1]
    assert a == pytest.approx(b, rel=1e-12)


# ---------------------------------------------------------------------- pairwise
PAIRWISE = pd.read_csv(FIX / "compare_pairwise.csv")


@pytest.mark.parametrize("case", PAIRWISE["case"].unique().tolist())
def test_pairwise_reference(inputs, case):
    """survdiff on each pair (weighted_logrank() for truncated data) and p.adjust (compare_pairwise.csv)."""
    ref = PAIRWISE[PAIRWISE["case"] == case].reset_index(drop=True)
    frame, kw = _dataset(inputs, ref["dataset"].iloc[0])
    by = "contract" if "contract" in frame else "group"
    rho = float(ref["rho"].iloc[0]) or None
    for adjust, col in [("holm", "p_holm"), ("bonferroni", "p_bonferroni"), ("bh", "p_bh")]:
        got = pairwise_logrank(frame, by, adjust=adjust, rho=rho, **kw)
        assert list(got["group_a"]) == list(ref["group_a"].astype(str))
        assert list(got["group_b"]) == list(ref["group_b"].astype(str))
        np.testing.assert_allclose(got["statistic"], ref["statistic"], rtol=RTOL_STAT)
        np.testing.assert_allclose(got["p_value"], ref["p_value"], rtol=1e-6, atol=1e-300)
        np.testing.assert_allclose(got["p_adjusted"], ref[col], rtol=1e-6, atol=1e-300)
        assert (got["dof"] == 1).all()


def test_pairwise_two_groups_equals_overall(inputs):
    frame, kw = _dataset(inputs, "maven_truncated")
    sub = frame[frame["contract"] != "Two Year"]
    overall = logrank_test(sub, "contract", rho=1, **kw)
    pair = pairwise_logrank(sub, "contract", rho=1, **kw)
    assert len(pair) == 1
    assert pair["statistic"].iloc[0] == pytest.approx(overall.statistic, rel=1e-12)
    assert pair["p_adjusted"].iloc[0] == pytest.approx(overall.p_value, rel=1e-12)


def test_adjust_pvalues_matches_p_adjust():
    # R: p.adjust(c(0.01, 0.04, 0.03, 0.005, NA), "holm" / "bonferroni" / "BH")
    p = [0.01, 0.04, 0.03, 0.005, np.nan]
    np.testing.assert_allclose(adjust_pvalues(p, "holm"), [0.03, 0.06, 0.06, 0.02, np.nan])
    np.testing.assert_allclose(adjust_pvalues(p, "bonferroni"), [0.04, 0.16, 0.12, 0.02, np.nan])
    np.testing.assert_allclose(adjust_pvalues(p, "bh"), [0.02, 0.04, 0.04, 0.02, np.nan])
    np.testing.assert_allclose(adjust_pvalues(p, "none"), p)
    with pytest.raises(ValueError, match="'method' parameter of adjust_pvalues"):
        adjust_pvalues(p, "fdr")


# ---------------------------------------------------------------------- left truncation: coxph score tests
COXPH = pd.read_csv(FIX / "compare_coxph_score.csv").set_index("case")


def test_truncated_logrank_equals_coxph_score_without_ties(inputs):
    """coxph(Surv(entry, time, event) ~ group, ties = 'breslow')$score on untied data = the log-rank test."""
    frame, kw = _dataset(inputs, "sim_continuous_entry")
    assert (frame["entry"] > 0).mean() > 0.5
    res = logrank_test(frame, "group", **kw)
    assert res.statistic == pytest.approx(COXPH.loc["sim_continuous_entry_breslow", "score"], rel=RTOL_STAT)


@pytest.mark.parametrize("case", ["maven_truncated_breslow", "ibm_breslow"])
def test_risk_sets_match_coxph_breslow_score(inputs, case):
    """With ties, coxph's Breslow score test is U' V_b^- U with the binomial variance (no (n-d)/(n-1))."""
    frame, kw = _dataset(inputs, COXPH.loc[case, "dataset"])
    lt = life_table(Tenures.from_frame(frame, segments="contract", **kw), "contract")
    comp = _Components.from_life_table(lt, ["contract"], [])
    U = np.zeros(3)
    V = np.zeros((3, 3))
    for N, D in zip(comp.at_risk, comp.events, strict=True):
        n, d = N.sum(axis=1), D.sum(axis=1)
        U += (D - N * (d / n)[:, None]).sum(axis=0)
        f = d / n
        V += np.diag(f @ N) - (N * (f / n)[:, None]).T @ N
    stat = U[1:] @ np.linalg.solve(V[1:, 1:], U[1:])
    assert stat == pytest.approx(COXPH.loc[case, "score"], rel=RTOL_STAT)
    # ... and the same U is what logrank_test reports
    res = logrank_test(frame, "contract", **kw)
    np.testing.assert_allclose(res.groups["o_minus_e"], U, rtol=1e-10)


# ---------------------------------------------------------------------- lifelines cross-checks
@pytest.mark.parametrize("weights,lifelines_kw", [
    ("gehan-breslow", {"weightings": "wilcoxon"}),
    ("tarone-ware", {"weightings": "tarone-ware"}),
    ("fleming-harrington", {"weightings": "fleming-harrington", "p": 1.0, "q": 1.0}),
])
def test_matches_lifelines_weightings(inputs, weights, lifelines_kw):
    from lifelines.statistics import multivariate_logrank_test

    d = inputs["sim_continuous"]
    ll = multivariate_logrank_test(d["time"], d["group"], d["event"], **lifelines_kw)
    kw = {"rho": 1.0, "gamma": 1.0} if weights == "fleming-harrington" else {}
    res = logrank_test(d, "group", weights=weights, duration="time", event="event", **kw)
    assert res.statistic == pytest.approx(ll.test_statistic, rel=1e-8)


def test_peto_is_survdiff_rho1_not_lifelines_peto(inputs):
    """Our "peto" is survdiff(rho = 1) (KM at t-); lifelines' "peto" uses prod(1 - d/(n + 1)) at t."""
    from lifelines.statistics import multivariate_logrank_test

    frame, kw = _dataset(inputs, "ibm")
    peto = logrank_test(frame, "contract", weights="peto", **kw)
    ref = LOGRANK.set_index("test_id").loc["ibm_rho1", "chisq"]
    assert peto.statistic == pytest.approx(ref, rel=RTOL_STAT)
    assert peto.table["test"].iloc[0] == "peto"
    ll = multivariate_logrank_test(frame["time"], frame["contract"], frame["event"], weightings="peto")
    assert abs(ll.test_statistic - peto.statistic) / peto.statistic > 1e-4


# ---------------------------------------------------------------------- inputs and invariances
def test_same_result_from_frame_tenures_and_life_table(inputs):
    frame, kw = _dataset(inputs, "maven_truncated")
    ten = Tenures.from_frame(frame, segments=["contract", "internet_service"], **kw)
    a = logrank_test(frame, "contract", strata="internet_service", **kw)
    b = logrank_test(ten, "contract", strata="internet_service")
    c = logrank_test(life_table(ten, ["contract", "internet_service"]), "contract", strata="internet_service")
    for r in (b, c):
        pd.testing.assert_frame_equal(r.table, a.table)
        pd.testing.assert_frame_equal(r.groups, a.groups)


def test_life_table_from_counts(inputs):
    """A life table aggregated elsewhere (from_counts) gives the survdiff numbers."""
    frame, kw = _dataset(inputs, "ibm")
    counts = (frame.assign(cens=1 - frame["event"])
              .groupby(["contract", "time"], as_index=False)[["event", "cens"]].sum())
    lt = LifeTable.from_counts(counts, time="time", n_events="event", n_censored="cens", by="contract")
    res = logrank_test(lt, "contract")
    assert res.statistic == pytest.approx(LOGRANK.set_index("test_id").loc["ibm_rho0", "chisq"], rel=RTOL_STAT)


def test_row_order_and_level_names_do_not_matter(inputs):
    frame, kw = _dataset(inputs, "sim_truncated")
    a = logrank_test(frame, "group", rho=0.5, gamma=0.5, **kw)
    shuffled = frame.sample(frac=1.0, random_state=3).assign(group=lambda d: d["group"].map(
        {"A": "z", "B": "y", "C": "x"}))
    b = logrank_test(shuffled, "group", rho=0.5, gamma=0.5, **kw)
    assert b.statistic == pytest.approx(a.statistic, rel=1e-10)
    np.testing.assert_allclose(np.sort(b.groups["o_minus_e"]), np.sort(a.groups["o_minus_e"]), rtol=1e-10)


def test_several_by_columns_define_combined_groups(inputs):
    frame, kw = _dataset(inputs, "ibm")
    res = logrank_test(frame, ["contract", "senior_citizen"], **kw)
    assert len(res.groups) == 6
    assert res.dof == 5
    assert list(res.groups.columns[:2]) == ["contract", "senior_citizen"]
    assert res.groups["o_minus_e"].sum() == pytest.approx(0.0, abs=1e-8)
    pw = pairwise_logrank(frame, ["contract", "senior_citizen"], **kw)
    assert len(pw) == 15
    assert pw["group_a"].iloc[0] == "Month-to-month, No"


def test_result_object(inputs):
    frame, kw = _dataset(inputs, "ibm")
    res = logrank_test(frame, "contract", rho=0, gamma=1, trend=True, **kw)
    assert isinstance(res, TestResult)
    assert list(res.table.columns) == ["test", "statistic", "dof", "p_value"]
    assert list(res.groups.columns) == ["contract", "n", "observed", "expected", "o_minus_e", "variance"]
    assert res.table["test"].tolist() == ["fleming-harrington(rho=0, gamma=1)",
                                          "fleming-harrington(rho=0, gamma=1) trend"]
    assert res.weights == "fleming-harrington" and res.rho == 0.0 and res.gamma == 1.0
    assert "chi2" in repr(res)
    assert isinstance(res.groups["contract"].dtype, pd.CategoricalDtype)
    np.testing.assert_allclose(res.covariance.to_numpy().sum(axis=1), 0.0, atol=1e-8)


# ---------------------------------------------------------------------- degenerate input
@pytest.fixture
def small():
    return pd.DataFrame({
        "tenure": [1, 2, 3, 4, 5, 2, 4, 6, 8, 9, 3, 7],
        "churned": [1, 1, 0, 1, 1, 1, 0, 1, 1, 0, 0, 0],
        "plan": ["a"] * 5 + ["b"] * 5 + ["c"] * 2,
    })


def test_one_group_is_an_error(small):
    with pytest.raises(ValueError, match="at least two groups.*found one"):
        logrank_test(small[small["plan"] == "a"], "plan", duration="tenure", event="churned")
    with pytest.raises(ValueError, match="at least two groups"):
        pairwise_logrank(small[small["plan"] == "a"], "plan", duration="tenure", event="churned")


def test_group_without_events(small):
    res = logrank_test(small, "plan", duration="tenure", event="churned")
    c = res.groups.set_index("plan").loc["c"]
    assert c["observed"] == 0 and c["expected"] > 0
    assert res.dof == 2
    assert np.isfinite(res.statistic)


def test_no_events_at_all(small):
    with pytest.raises(TenureDataError, match="no defection"):
        logrank_test(small.assign(churned=0), "plan", duration="tenure", event="churned")


def test_group_never_at_risk_is_dropped_like_survdiff(small):
    # group "d" leaves (censored) before the first defection: expected 0, left out of the test
    extra = pd.DataFrame({"tenure": [0.5, 0.5], "churned": [0, 0], "plan": ["d", "d"]})
    data = pd.concat([small, extra], ignore_index=True)
    with pytest.warns(StatisticalWarning, match="never at risk"):
        res = logrank_test(data, "plan", duration="tenure", event="churned")
    assert res.dof == 2
    ref = logrank_test(small, "plan", duration="tenure", event="churned")
    assert res.statistic == pytest.approx(ref.statistic, rel=1e-12)


def test_bad_parameters(small):
    kw = {"duration": "tenure", "event": "churned"}
    with pytest.raises(ValueError, match="'weights' parameter of logrank_test must be one of"):
        logrank_test(small, "plan", weights="fancy", **kw)
    with pytest.raises(ValueError, match="'rho' parameter of logrank_test must be a float >= 0. Got -1"):
        logrank_test(small, "plan", rho=-1, **kw)
    with pytest.raises(ValueError, match="only apply to weights='fleming-harrington'"):
        logrank_test(small, "plan", weights="gehan-breslow", rho=1, **kw)
    with pytest.raises(ValueError, match="both in 'by' and 'strata'"):
        logrank_test(small, "plan", strata="plan", **kw)
    with pytest.raises(ValueError, match="one value per group"):
        logrank_test(small, "plan", scores=[1, 2], **kw)
    with pytest.raises(ValueError, match="all equal"):
        logrank_test(small, "plan", scores=[1, 1, 1], **kw)
    with pytest.raises(ValueError, match="no score for group 'c'"):
        logrank_test(small, "plan", scores={"a": 1, "b": 2}, **kw)
    with pytest.raises(ValueError, match="'adjust' parameter of pairwise_logrank"):
        pairwise_logrank(small, "plan", adjust="sidak", **kw)
    with pytest.raises(ValueError, match="'by' parameter of logrank_test"):
        logrank_test(small, [], **kw)


def test_weight_aliases(small):
    kw = {"duration": "tenure", "event": "churned"}
    a = logrank_test(small, "plan", weights="wilcoxon", **kw)
    b = logrank_test(small, "plan", weights="gehan-breslow", **kw)
    assert a.statistic == b.statistic and a.weights == "gehan-breslow"
    fh = logrank_test(small, "plan", weights="fleming-harrington", **kw)   # rho = gamma = 0: the log-rank
    assert fh.statistic == pytest.approx(logrank_test(small, "plan", **kw).statistic, rel=1e-12)
