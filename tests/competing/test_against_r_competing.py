"""churnsurv.competing against R (survival 3.5-3, cmprsk 2.2-11) and against lifelines.

Fixtures (read only; CI needs no R):

* ``tests/reference/fixtures/cif_aalen_johansen.csv`` (``make_reference.R``):
  ``survfit(Surv(time, cause_f) ~ 1 / ~ contract|group)`` and
  ``survfit(Surv(entry, time, cause_f) ~ ..., id = id)``: ``pstate`` and its ``std.err`` (the infinitesimal
  jackknife, on the probability scale), ``lower``/``upper`` (conf.type "log").
* ``cuminc_curves.csv``, ``cuminc_timepoints.csv``, ``cuminc_tests.csv`` (``make_reference.R``):
  ``cmprsk::cuminc(time, cause, group[, strata], cencode)`` curves, Aalen-type variances and Gray's tests.
* ``competing_*.csv`` (``make_reference_competing.R``): case weights in the IJ variance
  (``survfit(..., weights = w)``), the tied three-cause simulated data without truncation (``survfit``,
  ``cuminc``) and Gray's test with ``rho = 1`` and a stratified ``rho = 0.5``.

Tolerances (the brief): cumulative incidence within 1e-10, its variance within 1e-8, Gray's statistic
within 1e-6. The observed errors are around 1e-14.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from churnsurv import Tenures
from churnsurv.competing import AalenJohansen, gray_test

REF = Path(__file__).resolve().parents[1] / "reference"
INPUTS = REF / "inputs"
FIXTURES = REF / "fixtures"

CIF_TOL, VAR_TOL, GRAY_TOL = 1e-10, 1e-8, 1e-6
DATASETS = {  # dataset -> (input file, segment column, use entry)
    "maven_naive": ("maven_telco.csv", "contract", False),
    "maven_truncated": ("maven_telco.csv", "contract", True),
    "sim_truncated": ("sim_truncated.csv", "group", True),
    "sim_naive": ("sim_truncated.csv", "group", False),
    "sim_continuous": ("sim_continuous.csv", "group", False),
    "sim_weighted": ("sim_truncated.csv", "group", True),
}


def _fixture(name: str) -> pd.DataFrame:
    path = FIXTURES / name
    # a missing fixture is a failure, never a skip: the comparison must run in CI
    assert path.exists(), f"fixture {name} is missing: run the scripts in tests/reference/ and commit the output"
    return pd.read_csv(path)


def _records(dataset: str) -> pd.DataFrame:
    file, seg, _ = DATASETS[dataset]
    d = pd.read_csv(INPUTS / file)
    if "sim" in file:
        d["cause"] = d["cause"].astype(str)
    d["cause"] = d["cause"].where(d["event"] == 1, None)
    if dataset == "sim_weighted":
        d["w"] = 0.5 + 0.25 * (d["id"] % 4)
    return d


def _tenures(dataset: str, segments=()) -> Tenures:
    _, seg, truncated = DATASETS[dataset]
    d = _records(dataset)
    return Tenures.from_frame(d, duration="time", event="event", cause="cause", id="id",
                              entry="entry" if truncated else None, segments=[seg, *segments],
                              weights="w" if dataset == "sim_weighted" else None)


def _fit(dataset: str, by: bool, **params) -> AalenJohansen:
    seg = DATASETS[dataset][1]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return AalenJohansen(**params).fit(_tenures(dataset), by=seg if by else None)


def _long(aj: AalenJohansen, seg: str | None) -> pd.DataFrame:
    """Our curves in survfit's long layout: group, state, time, estimate, std_error, ci_lower, ci_upper."""
    cols = ["time", "n_at_risk", "estimate", "std_error", "ci_lower", "ci_upper"]
    cif = aj.cumulative_incidence_.assign(state=lambda x: x["cause"].astype(str))
    surv = aj.survival_.assign(state="(s0)")
    keys = ([seg] if seg else []) + ["state"]
    out = pd.concat([cif[keys + cols], surv[keys + cols]])
    group = out[seg].astype(str).to_numpy() if seg else "(all)"
    out = out.drop(columns=[seg] if seg else [])
    out["group"] = group
    out["time"] = out["time"].round(9)
    return out


def _merge_survfit(ref: pd.DataFrame, ours: pd.DataFrame) -> pd.DataFrame:
    ref = ref.assign(time=ref["time"].round(9), state=ref["state"].astype(str), group=ref["group"].astype(str))
    m = ref.merge(ours, on=["group", "state", "time"], how="left", validate="one_to_one")
    assert m["estimate"].notna().all(), "survfit times missing from our curves"
    return m


def _assert_survfit(m: pd.DataFrame, weighted: bool = False) -> None:
    np.testing.assert_allclose(m["estimate"], m["pstate"], rtol=0, atol=CIF_TOL)
    np.testing.assert_allclose(m["std_error"] ** 2, m["std_err"] ** 2, rtol=0, atol=VAR_TOL)
    np.testing.assert_allclose(m["std_error"], m["std_err"], rtol=0, atol=1e-10)
    ok = m["lower"].notna()  # R: NA where pstate = 0 (ours: [0, 0])
    np.testing.assert_allclose(m.loc[ok, "ci_lower"], m.loc[ok, "lower"], rtol=0, atol=1e-10)
    np.testing.assert_allclose(m.loc[ok, "ci_upper"], m.loc[ok, "upper"], rtol=0, atol=1e-10)
    assert (m.loc[~ok, "estimate"] == 0).all()
    if not weighted:  # survfit reports unweighted counts at risk
        np.testing.assert_array_equal(m.loc[m["state"] == "(s0)", "n_at_risk"], m.loc[m["state"] == "(s0)", "n_risk"])


# ---------------------------------------------------------------------------------------------- survfit (IJ)
@pytest.mark.parametrize("dataset", ["maven_naive", "maven_truncated", "sim_truncated", "sim_continuous"])
@pytest.mark.parametrize("by", [False, True])
def test_aalen_johansen_matches_survfit_multistate(dataset, by):
    """R: survfit(Surv([entry, ]time, cause_f) ~ 1 | contract | group, data[, id = id]): pstate, std.err (IJ)."""
    ref = _fixture("cif_aalen_johansen.csv")
    seg = DATASETS[dataset][1]
    ref = ref[(ref["dataset"] == dataset) & (ref["by"] == (seg if by else "1"))]
    assert len(ref) > 100
    aj = _fit(dataset, by)
    assert aj.check() < 1e-12
    _assert_survfit(_merge_survfit(ref, _long(aj, seg if by else None)))


@pytest.mark.parametrize("dataset", ["sim_weighted", "sim_naive"])
def test_aalen_johansen_matches_survfit_weights_and_ties(dataset):
    """R: survfit(Surv(entry, time, status) ~ group, id = id, weights = w) (IJ = sqrt(sum (w_i U_i)^2)), and
    survfit(Surv(time, status) ~ group) on the tied three-cause data."""
    ref = _fixture("competing_survfit.csv")
    ref = ref[ref["dataset"] == dataset]
    aj = _fit(dataset, True)
    _assert_survfit(_merge_survfit(ref, _long(aj, "group")), weighted=dataset == "sim_weighted")


def test_ij_variance_is_not_greenwood_under_truncation():
    """What R reports under truncation is the IJ: the Greenwood-type variance misses it by far more than 1e-8."""
    ref = _fixture("cif_aalen_johansen.csv")
    ref = ref[(ref["dataset"] == "maven_truncated") & (ref["by"] == "contract")]
    m = _merge_survfit(ref, _long(_fit("maven_truncated", True, variance="greenwood"), "contract"))
    assert np.max(np.abs(m["std_error"] ** 2 - m["std_err"] ** 2)) > 1e-6
    np.testing.assert_allclose(m["estimate"], m["pstate"], atol=CIF_TOL)


# ---------------------------------------------------------------------------------------------- cmprsk::cuminc
def _cuminc_post_jump(ref: pd.DataFrame) -> pd.DataFrame:
    """cuminc's plotting vertices -> one row per (group, cause, time) with the post-jump value."""
    ref = ref.sort_values(["group", "cause", "point"]) if "point" in ref else ref
    return ref.drop_duplicates(["group", "cause", "time"], keep="last")


def _ours_at(aj: AalenJohansen, seg: str | None, ref: pd.DataFrame) -> pd.DataFrame:
    cif = aj.cumulative_incidence_
    rows = []
    for (group, cause), sub in ref.groupby(["group", "cause"]):
        cur = cif[cif["cause"].astype(str) == str(cause)]
        if seg:
            cur = cur[cur[seg].astype(str) == str(group)]
        t = cur["time"].to_numpy()
        idx = np.searchsorted(t, sub["time"].to_numpy() + 1e-9, side="right") - 1
        beyond = sub["time"].to_numpy() > t[-1]
        est = np.where(beyond, np.nan, cur["estimate"].to_numpy()[idx])
        var = np.where(beyond, np.nan, cur["std_error"].to_numpy()[idx] ** 2)
        rows.append(sub.assign(our_est=est, our_var=var))
    return pd.concat(rows)


@pytest.mark.parametrize("dataset", ["maven_naive", "sim_continuous"])
@pytest.mark.parametrize("by", [False, True])
def test_cuminc_estimates_and_aalen_variance(dataset, by):
    """R: cmprsk::cuminc(time, cause[, contract|group], cencode): $est and $var (Aalen-type, tie-corrected)."""
    ref = _fixture("cuminc_curves.csv")
    seg = DATASETS[dataset][1]
    ref = _cuminc_post_jump(ref[(ref["dataset"] == dataset) & (ref["by"] == (seg if by else "1"))])
    m = _ours_at(_fit(dataset, by, variance="aalen"), seg if by else None, ref)
    np.testing.assert_allclose(m["our_est"], m["est"], rtol=0, atol=CIF_TOL)
    np.testing.assert_allclose(m["our_var"], m["var"], rtol=0, atol=VAR_TOL)
    np.testing.assert_allclose(m["our_var"], m["var"], rtol=1e-9, atol=1e-15)


@pytest.mark.parametrize("dataset", ["maven_naive", "sim_continuous"])
def test_cuminc_timepoints(dataset):
    """R: cmprsk::timepoints(cuminc(...), times = T): right-continuous, NA beyond the largest follow-up."""
    ref = _fixture("cuminc_timepoints.csv")
    seg = DATASETS[dataset][1]
    for by in (False, True):
        sub = ref[(ref["dataset"] == dataset) & (ref["by"] == (seg if by else "1"))]
        aj = _fit(dataset, by, variance="aalen")
        pred = aj.predict(sorted(sub["time"].unique()))
        pred["group"] = pred[seg].astype(str) if by else "(all)"
        pred["cause"] = pred["cause"].astype(str)
        m = sub.assign(cause=sub["cause"].astype(str)).merge(pred, on=["group", "cause", "time"], how="left")
        assert len(m) == len(sub)
        np.testing.assert_array_equal(m["est"].isna(), m["estimate"].isna())
        ok = m["est"].notna()
        np.testing.assert_allclose(m.loc[ok, "estimate"], m.loc[ok, "est"], rtol=0, atol=CIF_TOL)
        np.testing.assert_allclose(m.loc[ok, "std_error"] ** 2, m.loc[ok, "var"], rtol=0, atol=VAR_TOL)


def test_cuminc_tied_three_causes():
    """R: cmprsk::cuminc(time, cause, group, cencode = 0) on sim_truncated read without entry (tied months)."""
    ref = _cuminc_post_jump(_fixture("competing_cuminc.csv"))
    m = _ours_at(_fit("sim_naive", True, variance="aalen"), "group", ref)
    assert m["cause"].nunique() == 3
    np.testing.assert_allclose(m["our_est"], m["est"], rtol=0, atol=CIF_TOL)
    np.testing.assert_allclose(m["our_var"], m["var"], rtol=1e-9, atol=1e-15)


# ---------------------------------------------------------------------------------------------- Gray's test
def _gray_cases():
    shared = _fixture("cuminc_tests.csv").assign(rho=0.0)
    shared = shared.rename(columns={"strata_var": "strata"})[["dataset", "strata", "rho", "cause", "stat", "df"]]
    own = _fixture("competing_gray.csv")[["dataset", "strata", "rho", "cause", "stat", "df"]]
    return pd.concat([shared, own], ignore_index=True)


def test_gray_test_matches_cuminc():
    """R: cmprsk::cuminc(time, cause, group[, strata = s], rho = r)$Tests, rho in {0, 0.5, 1}."""
    cases = _gray_cases()
    assert len(cases) >= 30
    for (dataset, strata, rho), ref in cases.groupby(["dataset", "strata", "rho"]):
        seg = DATASETS[dataset][1]
        strata_col = None if strata == "(none)" else strata
        ten = _tenures(dataset, segments=[strata_col] if strata_col else [])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = gray_test(ten, seg, strata=strata_col, rho=float(rho))
        res["cause"] = res["cause"].astype(str)
        m = ref.assign(cause=ref["cause"].astype(str)).merge(res, on="cause", how="left", validate="one_to_one")
        assert m["statistic"].notna().all(), (dataset, strata, rho)
        np.testing.assert_allclose(m["statistic"], m["stat"], rtol=1e-10, atol=GRAY_TOL)
        np.testing.assert_array_equal(m["dof"], m["df"])


def test_gray_test_refuses_maven_truncated():
    """cmprsk has no entry times; Gray's test of the snapshot reading raises instead of ignoring entry."""
    with pytest.raises(ValueError, match="right-censored"):
        gray_test(_tenures("maven_truncated"), "contract")


# ---------------------------------------------------------------------------------------------- lifelines
def _lifelines_cif(durations, codes, cause_code, **kw):
    from lifelines import AalenJohansenFitter

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        aj = AalenJohansenFitter(calculate_variance=True, **kw).fit(durations, codes, event_of_interest=cause_code)
    return aj.cumulative_density_.iloc[:, 0], aj.variance_


def test_lifelines_agrees_on_untied_continuous_data():
    """lifelines' AalenJohansenFitter on sim_continuous (no ties, so no jitter): same CIF, and its variance
    (Greenwood-type delta method) equals our IJ, which R reports, on untruncated data."""
    d = _records("sim_continuous")
    ours = AalenJohansen().fit(d, duration="time", cause="cause", by="group").cumulative_incidence_
    for group in ("A", "B", "C"):
        sub = d[d["group"] == group]
        codes = np.where(sub["event"] == 1, sub["cause"].fillna("0").astype(int), 0)
        for cause in ("1", "2", "3"):
            cif, var = _lifelines_cif(sub["time"].to_numpy(), codes, int(cause))
            o = ours[(ours["group"] == group) & (ours["cause"] == cause)].set_index("time")
            t = o.index[o.index > 0]
            np.testing.assert_allclose(o.loc[t, "estimate"], cif.loc[t], atol=1e-13)
            np.testing.assert_allclose(o.loc[t, "std_error"] ** 2, var.loc[t], atol=1e-13)


def test_lifelines_jitters_tied_months_and_misses_r():
    """On tied monthly data lifelines silently jitters event times (random +-1e-4 shifts) to break ties; the
    order in which tied defections then enter changes the cumulative incidence. Ours handles ties exactly and
    equals R's survfit; lifelines' answer differs from R (and from itself across seeds)."""
    ref = _fixture("cif_aalen_johansen.csv")
    ref = ref[(ref["dataset"] == "maven_naive") & (ref["by"] == "contract") & (ref["group"] == "Month-to-Month")
              & (ref["state"] == "Competitor")].set_index("time")
    d = _records("maven_naive")
    sub = d[d["contract"] == "Month-to-Month"]
    causes = sorted(sub["cause"].dropna().unique())
    codes = np.where(sub["event"] == 1, sub["cause"].map({c: i + 1 for i, c in enumerate(causes)}), 0).astype(int)
    ours = AalenJohansen().fit(sub, duration="time", cause="cause").predict(ref.index.to_numpy(), cause="Competitor")
    np.testing.assert_allclose(ours["estimate"], ref["pstate"], atol=CIF_TOL)
    grid = ref.index.to_numpy(float) + 0.5  # between months: unaffected by where a jittered time lands
    grid = grid[grid < ref.index.max()]
    r_at = ref["pstate"].to_numpy()[np.searchsorted(ref.index.to_numpy(float), grid, side="right") - 1]
    diffs = []
    for seed in (0, 1):
        with pytest.warns(Warning, match="Tied event times"):
            from lifelines import AalenJohansenFitter
            lf = AalenJohansenFitter(seed=seed, calculate_variance=False).fit(
                sub["time"].to_numpy(float), codes, event_of_interest=causes.index("Competitor") + 1)
        cif = lf.cumulative_density_.iloc[:, 0]
        ll = cif.to_numpy()[np.searchsorted(cif.index.to_numpy(), grid, side="right") - 1]
        diffs.append(ll)
        assert np.max(np.abs(ll - r_at)) > 1e-6  # lifelines misses R by orders of magnitude more than we do
    assert np.max(np.abs(diffs[0] - diffs[1])) > 0  # and depends on the random seed
