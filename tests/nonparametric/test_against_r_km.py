"""Kaplan-Meier, Nelson-Aalen, quantiles and RMST against R ``survival`` 3.5-3 (and KM against lifelines).

Numbers come from ``tests/reference/make_reference.R`` (see ``tests/reference/README.md``); each test names the
R call behind its fixture. Datasets: ``ibm`` = ``Surv(time, event)`` on the IBM telco file, ``maven_naive`` =
``Surv(time, event)`` and ``maven_truncated`` = ``Surv(entry, time, event)`` on the Maven snapshot,
``sim_truncated`` = ``Surv(entry, time, event)`` on the simulated left-truncated file, ``sim_continuous`` =
``Surv(time, event)``; each fitted with ``~ 1`` and ``~ contract`` (telco) or ``~ group`` (sim).
"""

from __future__ import annotations

import warnings
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from churnsurv import Tenures
from churnsurv.nonparametric import KaplanMeier, NelsonAalen

REF = Path(__file__).resolve().parents[1] / "reference"
FIXTURES = REF / "fixtures"
INPUTS = REF / "inputs"

RTOL = 1e-10  # survival, SE, CI, cumulative hazard (the issue asks 1e-10 relative)
RTOL_RMST = 1e-8  # RMST and its SE (the issue asks 1e-8; we are at ~1e-14)

DATASETS = {
    # name: (input file, Tenures.from_frame keywords, segment column)
    "ibm": ("ibm_telco.csv", dict(duration="time", event="event", id="id"), "contract"),
    "maven_naive": ("maven_telco.csv", dict(duration="time", event="event", id="id"), "contract"),
    "maven_truncated": ("maven_telco.csv", dict(duration="time", event="event", entry="entry", id="id"), "contract"),
    "sim_truncated": ("sim_truncated.csv", dict(duration="time", event="event", entry="entry", id="id"), "group"),
    "sim_continuous": ("sim_continuous.csv", dict(duration="time", event="event", id="id"), "group"),
}
TRUNCATED = {"maven_truncated", "sim_truncated"}
CASES = [(ds, by) for ds in DATASETS for by in ("1", DATASETS[ds][2])]
CONF_TYPES = {"log": "log", "log-log": "log_log", "plain": "plain"}


@cache
def read_input(name: str) -> pd.DataFrame:
    # round_trip: pandas' default fast parser can be one ulp off R's (correctly rounded) reading of decimals
    return pd.read_csv(INPUTS / name, float_precision="round_trip")


@cache
def fixture(name: str) -> pd.DataFrame:
    return pd.read_csv(FIXTURES / f"{name}.csv", dtype={"group": str, "by": str, "strata": str},
                       float_precision="round_trip")


def tenures(ds: str) -> Tenures:
    """The tenure table of a reference dataset, built from the same input file R read."""
    file, kwargs, seg = DATASETS[ds]
    return Tenures.from_frame(read_input(file), segments=seg, **kwargs)


@cache
def fitted(ds: str, by: str, conf_type: str = "log", cls=KaplanMeier):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # left truncation may empty a risk set; checked in test_nonparametric
        return cls(conf_type=conf_type).fit(tenures(ds), by=None if by == "1" else by)


def with_group(frame: pd.DataFrame, by: str) -> pd.DataFrame:
    out = frame.copy()
    out["group"] = "(all)" if by == "1" else out[by].astype(str)
    return out


def select(fix: pd.DataFrame, ds: str, by: str) -> pd.DataFrame:
    rows = fix[(fix["dataset"] == ds) & (fix["by"] == by)]
    assert len(rows), f"no fixture rows for {ds} ~ {by}"
    return rows.reset_index(drop=True)


def merged(ours: pd.DataFrame, ref: pd.DataFrame, by: str, on=("group", "time")) -> pd.DataFrame:
    m = ref.merge(with_group(ours, by), on=list(on), how="left", suffixes=("_r", ""), validate="one_to_one")
    assert len(m) == len(ref)
    return m


def assert_close(actual, expected, rtol, label):
    actual, expected = np.asarray(actual, float), np.asarray(expected, float)
    np.testing.assert_array_equal(np.isnan(actual), np.isnan(expected), err_msg=f"{label}: NaN pattern differs")
    ok = ~np.isnan(expected)
    np.testing.assert_allclose(actual[ok], expected[ok], rtol=rtol, atol=0, err_msg=label)


# ====================================================================== survfit curves
@pytest.mark.parametrize("conf_type", list(CONF_TYPES))
@pytest.mark.parametrize("ds, by", CASES)
def test_survival_se_and_intervals_match_survfit(ds, by, conf_type):
    """km_curves.csv: survfit(Surv([entry,] time, event) ~ 1 / ~ contract|group, conf.type = conf_type);
    every output time of R (all exit times: event times and censor-only times).

    Rows before a segment's first defection (``zero_events``) are excluded from the interval comparison: R gives
    the point interval [1, 1] (NA for log-log) there, churnsurv the exact one-sided bound, checked here against
    its formula (1 - conf_level) ** (1 / min n_at_risk so far)."""
    ref = select(fixture("km_curves"), ds, by)
    m = merged(fitted(ds, by, conf_type).survival_, ref, by)
    np.testing.assert_array_equal(m["n_at_risk"], m["n_risk"])
    np.testing.assert_array_equal(m["n_events"], m["n_event"])
    np.testing.assert_array_equal(m["n_censored"], m["n_censor"])
    assert_close(m["estimate"], m["surv"], RTOL, "surv")
    assert_close(m["std_error"], m["se_surv"], RTOL, "SE of S")
    suffix = CONF_TYPES[conf_type]
    zero = m["zero_events"].to_numpy(bool)
    np.testing.assert_array_equal(zero, (m["surv"] == 1) & (m["time"] > 0))
    for ours, theirs in (("ci_lower", f"lower_{suffix}"), ("ci_upper", f"upper_{suffix}")):
        r = m[theirs].to_numpy(float)
        mine = m[ours].to_numpy(float)
        defined = ~np.isnan(r) & ~zero
        np.testing.assert_allclose(mine[defined], r[defined], rtol=RTOL, atol=0, err_msg=theirs)
        # R's NA: S = 0 for every type (ours NaN too); S = 1 for log-log only (zero_events rows, or time 0)
        undefined = np.isnan(r) & ~zero
        s = m["surv"].to_numpy(float)[undefined]
        assert np.all((s == 0) | ((s == 1) & (conf_type == "log-log")))
        np.testing.assert_array_equal(mine[undefined], np.where(s == 1, 1.0, np.nan))
    # where R says [1, 1] (or NA), ours is the exact one-sided bound below 1 and ci_upper = 1
    if zero.any():
        rows = m[zero]
        assert (rows[f"upper_{suffix}"].fillna(1.0) == 1.0).all()
        full = fitted(ds, by, conf_type).survival_
        key = with_group(full, by)
        for _, seg in key.groupby("group"):
            sel = seg["zero_events"].to_numpy(bool)
            if not sel.any():
                continue
            n = seg["n_at_risk"].to_numpy(float)
            started = np.cumsum((n > 0) & (seg["time"].to_numpy() > 0)) > 0
            m_min = np.minimum.accumulate(np.where(started & (seg["time"].to_numpy() > 0), n, np.inf))
            np.testing.assert_allclose(seg["ci_lower"].to_numpy()[sel], 0.05 ** (1 / m_min[sel]), rtol=1e-12)
            assert (seg["ci_upper"].to_numpy()[sel] == 1.0).all()


@pytest.mark.parametrize("ds, by", CASES)
def test_nelson_aalen_matches_survfit_cumhaz(ds, by):
    """km_curves.csv: survfit(...)$cumhaz (sum d/n) and $std.chaz (sqrt(sum d/n^2)), survival 3.5-3.
    (R has no interval for the cumulative hazard; the zero-event upper bound is tested in test_honest_numbers.)"""
    ref = select(fixture("km_curves"), ds, by).drop_duplicates(["group", "time"])
    m = merged(fitted(ds, by, "log", NelsonAalen).cumulative_hazard_, ref, by)
    assert_close(m["estimate"], m["cumhaz"], RTOL, "cumhaz")
    assert_close(m["std_error"], m["std_chaz"], RTOL, "std.chaz")


@pytest.mark.parametrize("ds, by", [c for c in CASES if c[0] != "sim_continuous"])
def test_life_table_rows_match_r_risk_table(ds, by):
    """km_risk_table.csv: direct count in base R of #{entry < t <= time}, entries, events, censorings at every
    time with an exit or an entry after 0 (entry-only times included: survfit has no row there)."""
    ref = select(fixture("km_risk_table"), ds, by)
    ours = with_group(fitted(ds, by).survival_, by)
    m = ref.merge(ours, on=["group", "time"], how="left", suffixes=("_r", ""))
    for col in ("n_at_risk", "n_events", "n_censored"):
        np.testing.assert_array_equal(m[col], m[f"{col}_r"], err_msg=col)
    # every row of ours is in R's table (apart from a structural time-0 row R does not list)
    extra = ours.merge(ref[["group", "time"]], on=["group", "time"], how="left", indicator=True)
    extra = extra[extra["_merge"] == "left_only"]
    assert (extra["time"] == 0).all() and (extra["n_events"] + extra["n_censored"] == 0).all()


# ====================================================================== summary(fit, times =)
@pytest.mark.parametrize("conf_type", list(CONF_TYPES))
@pytest.mark.parametrize("ds, by", CASES)
def test_predict_matches_summary_times(ds, by, conf_type):
    """km_summary_times.csv: summary(fit, times = T, extend = TRUE); std_err there is the SE of S. Our predict
    needs extend=True for the same call (its default, like R's, does not extrapolate); zero_events rows are left
    out of the interval comparison (R's [1, 1], our exact one-sided bound)."""
    ref = select(fixture("km_summary_times"), ds, by)
    km = fitted(ds, by, conf_type)
    times = np.unique(ref["time"].to_numpy(float))
    m = merged(km.predict(times, extend=True), ref, by)
    assert_close(m["estimate"], m["surv"], RTOL, "surv")
    assert_close(m["std_error"], m["std_err"], RTOL, "SE of S")
    suffix = CONF_TYPES[conf_type]
    zero = m["zero_events"].to_numpy(bool)
    for ours, theirs in (("ci_lower", f"lower_{suffix}"), ("ci_upper", f"upper_{suffix}")):
        r = m[theirs].to_numpy(float)
        defined = ~np.isnan(r) & ~zero
        np.testing.assert_allclose(m[ours].to_numpy(float)[defined], r[defined], rtol=RTOL, atol=0)
    assert (m.loc[zero, "ci_lower"] < 1).all() and (m.loc[zero, "ci_upper"] == 1).all()
    # n_risk: R reports the risk set of the first output (exit) time >= t. Without late entries that is the
    # risk set at t, which we report; with them we report the true #{entry < t <= exit}.
    if ds not in TRUNCATED:
        np.testing.assert_array_equal(m["n_at_risk"], m["n_risk"])
    else:
        data = tenures(ds).data
        for row in m.itertuples():
            sub = data if by == "1" else data[data[by].astype(str) == row.group]
            e, x, t = sub["entry"].to_numpy(), sub["exit"].to_numpy(), row.time
            true = np.sum(((e < t) & (t <= x)) | ((e == 0) & (t == 0)))
            assert row.n_at_risk == true


# ====================================================================== quantiles, median, RMST
@pytest.mark.parametrize("conf_type", list(CONF_TYPES))
@pytest.mark.parametrize("ds, by", CASES)
def test_quantiles_match_quantile_survfit(ds, by, conf_type):
    """km_quantiles.csv: quantile(fit, probs = c(0.25, 0.5, 0.75), conf.int = TRUE), Brookmeyer-Crowley
    limits from the confidence curves, midpoint rule on flat stretches."""
    fix = fixture("km_quantiles")
    ref = select(fix[fix["conf_type"] == conf_type], ds, by)
    q = with_group(fitted(ds, by, conf_type).quantile([0.25, 0.5, 0.75]), by)
    m = ref.merge(q, on=["group", "prob"], how="left", validate="one_to_one")
    for ours, theirs in (("estimate", "quantile"), ("ci_lower", "lower"), ("ci_upper", "upper")):
        np.testing.assert_array_equal(m[ours], m[theirs], err_msg=f"{ds} ~ {by} {conf_type} {theirs}")


@pytest.mark.parametrize("ds, by", CASES)
def test_rmst_and_median_match_survmean(ds, by):
    """km_rmean.csv: summary(fit, rmean = tau)$table (= print(fit, rmean = tau)) for the log fit: rmean,
    se(rmean), median and its limits."""
    ref = select(fixture("km_rmean"), ds, by)
    km = fitted(ds, by, "log")
    taus = np.unique(ref["tau"].to_numpy(float))
    with warnings.catch_warnings():
        # R's horizons pass some segments' last times: churnsurv warns there (tested in test_honest_numbers)
        warnings.simplefilter("ignore")
        m = ref.merge(with_group(km.rmst(taus), by), on=["group", "tau"], how="left", validate="one_to_one")
    assert_close(m["estimate"], m["rmean"], RTOL_RMST, "rmean")
    assert_close(m["std_error"], m["se_rmean"], RTOL_RMST, "se(rmean)")
    med = ref.drop_duplicates("group").merge(with_group(km.median_, by), on="group", how="left")
    for ours, theirs in (("estimate", "median"), ("ci_lower", "median_lower"), ("ci_upper", "median_upper")):
        np.testing.assert_array_equal(med[ours], med[theirs], err_msg=theirs)
    summ = with_group(km.summary(times=(), tau=float(taus[0])), by).merge(
        ref[ref["tau"] == taus[0]], on="group", how="left")
    np.testing.assert_array_equal(summ["n_customers"], summ["records"])
    np.testing.assert_array_equal(summ["n_events"], summ["events"])


# ====================================================================== lifelines
LIFELINES_CASES = [c for c in CASES if c[0] not in TRUNCATED]


@pytest.mark.parametrize("ds, by", LIFELINES_CASES)
def test_km_equals_lifelines_on_untruncated_data(ds, by):
    """lifelines 0.30 KaplanMeierFitter().fit(durations, event_observed): survival_function_ and its default
    (log-log, "exponential Greenwood") confidence_interval_, to 1e-12; and the estimate of
    NelsonAalenFitter(nelson_aalen_smoothing=False) (d/n at ties; by default lifelines smooths ties)."""
    from lifelines import KaplanMeierFitter, NelsonAalenFitter

    file, kwargs, seg = DATASETS[ds]
    df = read_input(file)
    km = with_group(fitted(ds, by, "log-log").survival_, by)
    na = with_group(fitted(ds, by, "log", NelsonAalen).cumulative_hazard_, by)
    groups = [("(all)", df)] if by == "1" else [(str(k), g) for k, g in df.groupby(by)]
    for name, g in groups:
        kmf = KaplanMeierFitter().fit(g["time"], g["event"])
        ours = km[km["group"] == name].set_index("time")
        theirs = kmf.survival_function_.iloc[:, 0]
        np.testing.assert_array_equal(ours.index.to_numpy(), theirs.index.to_numpy())
        np.testing.assert_allclose(ours["estimate"], theirs.to_numpy(), rtol=1e-12, atol=1e-15)
        ci = kmf.confidence_interval_
        inside = ((ours["estimate"] > 0) & (ours["estimate"] < 1)).to_numpy()
        np.testing.assert_allclose(ours["ci_lower"].to_numpy()[inside], ci.iloc[:, 0].to_numpy()[inside],
                                   rtol=1e-12)
        np.testing.assert_allclose(ours["ci_upper"].to_numpy()[inside], ci.iloc[:, 1].to_numpy()[inside],
                                   rtol=1e-12)
        naf = NelsonAalenFitter(nelson_aalen_smoothing=False).fit(g["time"], g["event"])  # d/n at ties, as R
        mine = na[na["group"] == name]["estimate"].to_numpy()
        np.testing.assert_allclose(mine, naf.cumulative_hazard_.iloc[:, 0].to_numpy(), rtol=1e-12, atol=1e-15)
