"""Tests of churnsurv.nonparametric.cohorts: retention by sign-up cohort and the churn rate over calendar time.

Reference values: the exposure is checked against a brute-force expansion of every customer into days; the Garwood
interval against the published table of exact Poisson limits (Ulm 1990, *Am J Epidemiol* 131, 373-375: for 0
events [0, 3.689], for 10 events [4.795, 18.39] at 95%); the tests and intervals by simulation with a known truth
(simulate_churn with a constant or piecewise-constant hazard, and a calendar shock simulated here).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from churnsurv.data.simulate.simulator import ChurnScenario, Hazard, simulate_churn
from churnsurv.data.tenures import Tenures, _elapsed
from churnsurv.exceptions import TenureDataError
from churnsurv.nonparametric import KaplanMeier
from churnsurv.nonparametric.cohorts import (
    UNIT_DAYS,
    CalendarChurn,
    CohortRetention,
    calendar_churn,
    cohort_retention,
    poisson_rate_interval,
)

DAYS_PER_MONTH = 365.25 / 12


# --------------------------------------------------------------------------- helpers
def _scenario(hazard: Hazard) -> ChurnScenario:
    return ChurnScenario(hazards={"all": {"any": hazard}}, shares={"all": 1.0})


def _dated(sim, *, whole_months: bool) -> pd.DataFrame:
    """Dated records from simulate_churn: cancel = sign-up + exit (whole months with DateOffset, else days)."""
    d = sim.data
    if whole_months:
        cancel = pd.Series(pd.NaT, index=d.index, dtype="datetime64[ns]")
        for k in np.unique(d.loc[d["event"], "exit"]):
            rows = d["event"] & (d["exit"] == k)
            cancel[rows] = d.loc[rows, "signup_date"] + pd.DateOffset(months=int(k))
    else:  # continuous tenures: the day of defection (never after as_of when the defection is observed)
        cancel = d["signup_date"] + pd.to_timedelta(np.floor(d["exit"] * DAYS_PER_MONTH), unit="D")
        cancel = cancel.where(d["event"])
    return pd.DataFrame({"customer_id": d["customer_id"], "signup": d["signup_date"], "cancel": cancel})


def _calendar_shock(n, *, rate, shock, multiplier, as_of, signup_days, seed) -> pd.DataFrame:
    """Exponential tenures whose hazard is multiplied by ``multiplier`` on the calendar days ``shock`` [a, b)."""
    rng = np.random.default_rng(seed)
    as_of = pd.Timestamp(as_of)
    origin = as_of - pd.Timedelta(days=signup_days)
    s = rng.integers(0, signup_days, size=n).astype(float)  # sign-up day (days since origin)
    e = rng.standard_exponential(n)
    lam = rate / DAYS_PER_MONTH  # per day
    a, b = ((pd.Timestamp(x) - origin).days for x in shock)
    # cumulative hazard from s, in units of lam: piece 1 (s, a], piece 2 (a, b] x multiplier, piece 3 (b, inf)
    a1, b1 = np.maximum(s, a), np.maximum(s, b)
    h1 = lam * (a1 - s)
    h2 = h1 + lam * multiplier * (b1 - a1)
    t = np.where(e <= h1, s + e / lam,
                 np.where(e <= h2, a1 + (e - h1) / (lam * multiplier), b1 + (e - h2) / lam))
    day = np.floor(t)
    signup = origin + pd.to_timedelta(s, unit="D")
    cancel = pd.Series(origin + pd.to_timedelta(np.minimum(day, 10**5), unit="D"))
    cancel = cancel.where(day <= signup_days)
    return pd.DataFrame({"signup": signup, "cancel": cancel})


def _records(seed=0, n=80) -> pd.DataFrame:
    """Awkward dated records: month ends, a leap day, same-day cancels, cancels after as_of, active customers."""
    rng = np.random.default_rng(seed)
    signup = pd.Timestamp("2023-01-01") + pd.to_timedelta(rng.integers(0, 560, size=n), unit="D")
    cancel = pd.Series(signup + pd.to_timedelta(rng.integers(0, 500, size=n), unit="D"))
    cancel[rng.random(n) < 0.3] = pd.NaT
    extra = pd.DataFrame({
        "signup": pd.to_datetime(["2023-01-31", "2024-02-29", "2023-03-31", "2023-05-31", "2023-08-31",
                                  "2024-01-30", "2023-06-15"]),
        "cancel": pd.to_datetime(["2023-02-28", "2024-03-29", "2023-04-30", "2023-05-31", None, "2024-02-29",
                                  "2024-09-30"]),
    })
    return pd.concat([pd.DataFrame({"signup": signup, "cancel": cancel}), extra], ignore_index=True)


def _brute_force(frame, as_of, period, unit, bounds):
    """Expand every customer into the days s + 1 .. stop at risk; count days, customers and defections."""
    as_of = pd.Timestamp(as_of)
    stop = frame["cancel"].where(frame["cancel"].notna() & (frame["cancel"] <= as_of), as_of)
    rows = []
    for i, (s, e) in enumerate(zip(frame["signup"], stop, strict=True)):
        days = pd.date_range(s + pd.Timedelta(days=1), e, freq="D")
        rows.append(pd.DataFrame({"i": i, "day": days, "s": s}))
    long = pd.concat(rows, ignore_index=True)
    long["tenure"] = _elapsed(long["s"], long["day"], unit)
    freq = {"month": "M", "quarter": "Q", "year": "Y"}[period]
    long["period"] = long["day"].dt.to_period(freq).astype(str)
    long["band"] = np.searchsorted(bounds, long["tenure"].to_numpy(), side="right") - 1
    long = long[long["band"] < len(bounds) - 1]
    days = long.groupby(["band", "period"]).size()
    starts = long[long["day"] == long["day"].dt.to_period(freq).dt.start_time]
    at_start = starts.groupby(["band", "period"]).size()
    t = Tenures.from_dates(frame, start="signup", end="cancel", as_of=as_of, unit=unit)
    ev = t.data["event"].to_numpy()
    ev_frame = pd.DataFrame({"period": frame.loc[ev, "cancel"].dt.to_period(freq).astype(str).to_numpy(),
                             "band": np.searchsorted(bounds, t.data.loc[ev, "exit"].to_numpy(), side="right") - 1})
    ev_frame = ev_frame[ev_frame["band"] < len(bounds) - 1]
    events = ev_frame.groupby(["band", "period"]).size()
    return days, at_start, events


# --------------------------------------------------------------------------- calendar: exposure and counts
@pytest.mark.parametrize(("period", "unit", "bounds"), [
    ("month", "month", [0, 3, 12, np.inf]),
    ("quarter", "week", [0, 4, 30, np.inf]),
    ("year", "day", [0, 45, 400]),  # customer-time from 400 days on is left out
])
def test_exposure_and_events_match_a_day_level_expansion(period, unit, bounds):
    frame = _records()
    as_of = "2024-08-17"  # mid-month: the last period is partial
    res = calendar_churn(frame, start="signup", end="cancel", as_of=as_of, period=period, by_tenure=bounds,
                         unit=unit)
    days, at_start, events = _brute_force(frame, as_of, period, unit, np.asarray(bounds, float))
    banded = res.by_tenure
    band_code = banded["tenure_band"].cat.codes.to_numpy()
    key = pd.MultiIndex.from_arrays([band_code, banded["period"]])
    np.testing.assert_allclose(banded["exposure"].to_numpy() * UNIT_DAYS[unit],
                               days.reindex(key, fill_value=0).to_numpy(), rtol=1e-12, atol=1e-9)
    np.testing.assert_array_equal(banded["n_at_risk"].to_numpy(), at_start.reindex(key, fill_value=0).to_numpy())
    np.testing.assert_array_equal(banded["n_events"].to_numpy(), events.reindex(key, fill_value=0).to_numpy())
    assert days.sum() == pytest.approx(banded["exposure"].sum() * UNIT_DAYS[unit])  # nothing outside the periods
    assert events.sum() == banded["n_events"].sum()
    # the overall table is the sum over the bands here only when the bands cover every tenure
    if np.isinf(bounds[-1]):
        summed = banded.groupby("period", sort=False)[["exposure", "n_events", "n_at_risk"]].sum()
        np.testing.assert_allclose(res.table.set_index("period")[["exposure", "n_events", "n_at_risk"]],
                                   summed.loc[res.table["period"]], rtol=1e-12)
    assert res.table["partial"].iloc[-1]  # as_of cuts the last month, quarter and year short
    assert res.table["period_end"].iloc[-1] == pd.Timestamp(as_of)
    assert not res.table["partial"].iloc[:-1].any()


def test_calendar_rate_is_events_over_exposure_with_garwood_limits():
    frame = _records(seed=3)
    res = calendar_churn(frame, start="signup", end="cancel", as_of="2024-08-17", period="quarter")
    t = res.table
    assert isinstance(res, CalendarChurn)
    np.testing.assert_allclose(t["estimate"], t["n_events"] / t["exposure"], rtol=1e-12)
    lo, hi = poisson_rate_interval(t["n_events"], t["exposure"], 0.95)
    np.testing.assert_allclose(t["ci_lower"], lo)
    np.testing.assert_allclose(t["ci_upper"], hi)
    assert (t["ci_lower"] <= t["estimate"]).all() and (t["estimate"] <= t["ci_upper"]).all()
    assert t.attrs["time_unit"] == "month" and t.attrs["period"] == "quarter"
    assert res.by_tenure is None and list(res.tests["test"]) == ["homogeneity", "trend"]


def test_garwood_interval_matches_the_published_table():
    # exact Poisson limits for a count (exposure 1): 0 -> [0, 3.689]; 1 -> [0.0253, 5.572]; 10 -> [4.795, 18.39]
    lo, hi = poisson_rate_interval([0, 1, 10], [1.0, 1.0, 1.0], 0.95)
    np.testing.assert_allclose(lo, [0.0, 0.02532, 4.7954], atol=5e-5)
    np.testing.assert_allclose(hi, [3.6889, 5.5716, 18.3904], atol=5e-5)
    lo, hi = poisson_rate_interval([10], [200.0], 0.9)  # per unit of exposure; 90%: [5.425, 16.96] / 200
    np.testing.assert_allclose([lo[0] * 200, hi[0] * 200], [5.4254, 16.9622], atol=5e-4)
    lo, hi = poisson_rate_interval([3], [0.0])
    assert np.isnan(lo[0]) and np.isnan(hi[0])


def test_stable_hazard_gives_a_flat_calendar_rate():
    sim = simulate_churn(20_000, scenario=_scenario(Hazard.exponential(0.03)), discrete=False, signup_months=48,
                         random_state=1)
    res = calendar_churn(_dated(sim, whole_months=False), start="signup", end="cancel", as_of=sim.as_of,
                         period="quarter", by_tenure=[0, 12, np.inf])
    tests = res.tests.set_index("test")["p_value"]
    assert (tests > 0.05).all(), res.tests
    t = res.table
    rate = t["n_events"].sum() / t["exposure"].sum()
    se = np.sqrt(t["n_events"].sum()) / t["exposure"].sum()
    assert abs(rate - 0.03) < 3 * se


def _glm_score_test(d, E, band, X):
    """Rao score test of the columns X in the Poisson model log mu = log E + band effects + X beta (textbook GLM
    algebra, independent of the multinomial formulas of calendar_churn): at the null fit mu, U = X'(d - mu) and
    the statistic is U' (X'WX - X'WA (A'WA)^-1 A'WX)^-1 U with W = diag(mu), A the band dummies."""
    A = (band[:, None] == np.unique(band)[None, :]).astype(float)
    mu = A @ ((A.T @ d) / (A.T @ E)) * E
    U = X.T @ (d - mu)
    W = mu[:, None]
    info = X.T @ (W * X) - X.T @ (W * A) @ np.linalg.solve(A.T @ (W * A), A.T @ (W * X))
    return float(U @ np.linalg.solve(info, U))


@pytest.mark.parametrize("by_tenure", [None, [0, 6, 18, np.inf]])
def test_tests_are_the_poisson_regression_score_tests(by_tenure):
    sim = simulate_churn(3_000, scenario=_scenario(Hazard.piecewise([0.06, 0.02], breaks=[6])), discrete=False,
                         signup_months=30, random_state=4)
    res = calendar_churn(_dated(sim, whole_months=False), start="signup", end="cancel", as_of=sim.as_of,
                         period="quarter", by_tenure=by_tenure)
    t = res.table if by_tenure is None else res.by_tenure
    band = np.zeros(len(t), int) if by_tenure is None else t["tenure_band"].cat.codes.to_numpy()
    period = pd.factorize(t["period"])[0]
    keep = t["exposure"].to_numpy() > 0
    groups = pd.Series(t["n_events"].to_numpy(float)).groupby(band).transform("sum").to_numpy() > 0
    keep &= groups
    d, E, band, period = (a[keep] for a in (t["n_events"].to_numpy(float), t["exposure"].to_numpy(), band, period))
    levels = np.unique(period)
    dummies = (period[:, None] == levels[None, 1:]).astype(float)
    suffix = "" if by_tenure is None else " within tenure bands"
    got = res.tests.set_index("test")
    assert got.loc["homogeneity" + suffix, "statistic"] == pytest.approx(_glm_score_test(d, E, band, dummies),
                                                                          rel=1e-9)
    assert got.loc["homogeneity" + suffix, "dof"] == len(levels) - 1
    trend = _glm_score_test(d, E, band, period[:, None].astype(float))
    assert got.loc["trend" + suffix, "statistic"] == pytest.approx(trend, rel=1e-9)


def test_homogeneity_and_trend_tests_have_their_size():
    """Under a constant hazard the two tests reject at 5% in about 5% of books (binomial tolerance, 3 SE)."""
    reps = 150
    rejections = np.zeros(2)
    rng = np.random.default_rng(20240601)
    for _ in range(reps):
        sim = simulate_churn(1_500, scenario=_scenario(Hazard.exponential(0.04)), discrete=False, signup_months=24,
                             random_state=rng)
        res = calendar_churn(_dated(sim, whole_months=False), start="signup", end="cancel", as_of=sim.as_of,
                             period="quarter")
        rejections += res.tests["p_value"].to_numpy() < 0.05
    rate = rejections / reps
    tol = 3 * np.sqrt(0.05 * 0.95 / reps)
    assert np.all(np.abs(rate - 0.05) < tol), rate


def test_a_book_growing_older_is_not_a_calendar_trend_within_tenure_bands():
    # hazard 0.05 in the first year, 0.01 after: the overall rate falls as the book ages, the band rates do not
    sim = simulate_churn(20_000, scenario=_scenario(Hazard.piecewise([0.05, 0.01], breaks=[12])), discrete=False,
                         signup_months=48, random_state=2)
    res = calendar_churn(_dated(sim, whole_months=False), start="signup", end="cancel", as_of=sim.as_of,
                         period="quarter", by_tenure=[0, 12, np.inf])
    p = res.tests.set_index("test")["p_value"]
    assert p["trend"] < 1e-10 and p["homogeneity"] < 1e-10
    assert p["trend within tenure bands"] > 0.05 and p["homogeneity within tenure bands"] > 0.05
    pooled = res.by_tenure.groupby("tenure_band", observed=True)[["n_events", "exposure"]].sum()
    rates = pooled["n_events"] / pooled["exposure"]
    se = np.sqrt(pooled["n_events"]) / pooled["exposure"]
    # the band boundary is 12 calendar months, the hazard break 12 average months: a day or two apart
    np.testing.assert_array_less(np.abs(rates.to_numpy() - [0.05, 0.01]), 3 * se.to_numpy() + 2e-4)


def test_a_calendar_shock_is_detected():
    shock = ("2023-04-01", "2023-07-01")  # 2023Q2: the hazard doubles
    frame = _calendar_shock(12_000, rate=0.03, shock=shock, multiplier=2.0, as_of="2024-12-31", signup_days=1461,
                            seed=7)
    res = calendar_churn(frame, start="signup", end="cancel", as_of="2024-12-31", period="quarter")
    p = res.tests.set_index("test")["p_value"]
    assert p["homogeneity"] < 1e-8
    t = res.table.set_index("period")
    others = t.drop(index="2023Q2").iloc[1:]  # the first quarter is the book's ramp-up
    base = others["n_events"].sum() / others["exposure"].sum()
    assert t.loc["2023Q2", "ci_lower"] > base
    ratio = t.loc["2023Q2", "estimate"] / base
    se_log = np.sqrt(1 / t.loc["2023Q2", "n_events"] + 1 / others["n_events"].sum())
    assert abs(np.log(ratio) - np.log(2.0)) < 3 * se_log
    # the same books without the shock: no rejection
    flat = _calendar_shock(12_000, rate=0.03, shock=shock, multiplier=1.0, as_of="2024-12-31", signup_days=1461,
                           seed=7)
    res0 = calendar_churn(flat, start="signup", end="cancel", as_of="2024-12-31", period="quarter")
    assert res0.tests.set_index("test").loc["homogeneity", "p_value"] > 0.05


def test_poisson_interval_covers_the_true_rate():
    """Monthly rates of a constant hazard: the exact 95% interval covers the true rate in 95-98.5% of periods."""
    covered = total = 0
    rng = np.random.default_rng(11)
    for _ in range(40):
        sim = simulate_churn(1_000, scenario=_scenario(Hazard.exponential(0.03)), discrete=False, signup_months=24,
                             random_state=rng)
        t = calendar_churn(_dated(sim, whole_months=False), start="signup", end="cancel", as_of=sim.as_of).table
        t = t[t["exposure"] > 0]
        covered += int(((t["ci_lower"] <= 0.03) & (0.03 <= t["ci_upper"])).sum())
        total += len(t)
    coverage = covered / total
    mc = np.sqrt(0.95 * 0.05 / total)  # about 0.007
    assert total >= 900
    assert 0.95 - 3 * mc <= coverage <= 0.985, (coverage, total)


# --------------------------------------------------------------------------- cohorts
@pytest.fixture(scope="module")
def stable_book():
    sim = simulate_churn(8_000, discrete=True, signup_months=36, random_state=3)
    return sim, _dated(sim, whole_months=True)


def test_cohort_tenures_are_the_simulated_tenures(stable_book):
    sim, frame = stable_book
    t = Tenures.from_dates(frame, start="signup", end="cancel", as_of=sim.as_of)
    ev = sim.data["event"].to_numpy()
    np.testing.assert_array_equal(t.data["exit"].to_numpy()[ev], sim.data["exit"].to_numpy()[ev])


def test_stable_hazard_gives_homogeneous_cohorts(stable_book):
    sim, frame = stable_book
    res = cohort_retention(frame, start="signup", end="cancel", as_of=sim.as_of, cohort="year", times=[6, 12])
    assert isinstance(res, CohortRetention)
    assert (res.tests["p_value"] > 0.05).all(), res.tests
    assert list(res.tests["test"]) == ["logrank", "logrank trend"]
    truth = sim.truth.survival([6, 12])
    big = res.cohorts.loc[res.cohorts["n_customers"] > 500, "cohort"].astype(str)
    rows = res.table[res.table["cohort"].astype(str).isin(big) & res.table["estimate"].notna()]
    assert len(rows) >= 5
    expected = np.where(rows["time"] == 6, truth[0], truth[1])
    np.testing.assert_array_less(np.abs(rows["estimate"] - expected), 4 * rows["std_error"])


def test_cohort_curves_equal_kaplan_meier_on_each_cohort(stable_book):
    sim, frame = stable_book
    res = cohort_retention(frame, start="signup", end="cancel", as_of=sim.as_of, cohort="quarter")
    quarter = frame["signup"].dt.to_period("Q").astype(str)
    for label in ("2022Q3", "2024Q2"):
        sub = frame[quarter == label]
        km = KaplanMeier().fit(Tenures.from_dates(sub, start="signup", end="cancel", as_of=sim.as_of))
        mine = res.table[res.table["cohort"] == label]
        np.testing.assert_allclose(mine["time"], km.survival_["time"])
        for col in ("estimate", "std_error", "ci_lower", "ci_upper", "n_at_risk"):
            np.testing.assert_allclose(mine[col], km.survival_[col], rtol=1e-12, equal_nan=True)


def test_newer_cohorts_are_not_extrapolated(stable_book):
    sim, frame = stable_book
    res = cohort_retention(frame, start="signup", end="cancel", as_of=sim.as_of, cohort="quarter")
    last_time = res.table.groupby("cohort", observed=True)["time"].max()
    c = res.cohorts.set_index("cohort")
    assert (last_time <= c["max_follow_up"]).all()
    assert (c["full_follow_up"] <= c["max_follow_up"]).all()
    assert list(c.index.astype(str)) == sorted(c.index.astype(str))
    assert res.table["cohort"].cat.ordered
    assert "shorter follow-up" in res.notes[0]
    # asking for a tenure beyond a cohort's follow-up gives NaN, not the last value
    pred = cohort_retention(frame, start="signup", end="cancel", as_of=sim.as_of, cohort="quarter", times=[24])
    newest = pred.table[pred.table["cohort"] == pred.cohorts["cohort"].iloc[-1]]
    assert newest["estimate"].isna().all()
    oldest = pred.table[pred.table["cohort"] == pred.cohorts["cohort"].iloc[1]]
    assert oldest["estimate"].notna().all()
    assert int(res.cohorts["n_customers"].sum()) == len(frame)
    assert int(res.cohorts["n_events"].sum()) == int(sim.data["event"].sum())


def test_a_cohort_drift_is_detected():
    # customers who signed up from 2024 on leave twice as fast: the log-rank and trend tests see it
    frame = _calendar_shock(6_000, rate=0.03, shock=("2000-01-01", "2000-01-02"), multiplier=1.0,
                            as_of="2024-12-31", signup_days=1096, seed=5)
    late = frame["signup"] >= "2024-01-01"
    rng = np.random.default_rng(6)
    t = rng.exponential(DAYS_PER_MONTH / 0.06, size=int(late.sum()))
    cancel = frame.loc[late, "signup"] + pd.to_timedelta(np.floor(t), unit="D")
    frame.loc[late, "cancel"] = cancel.where(cancel <= "2024-12-31")
    res = cohort_retention(frame, start="signup", end="cancel", as_of="2024-12-31", cohort="year")
    p = res.tests.set_index("test")["p_value"]
    assert p["logrank"] < 1e-8 and p["logrank trend"] < 1e-8
    last = res.cohorts.iloc[-1]
    assert last["cohort"] == "2024" and last["observed"] > last["expected"]
    # the score is the cohort's position in time
    assert res.cohorts["score"].tolist() == [1.0, 2.0, 3.0, 4.0]


def test_cohort_trend_scores_keep_calendar_spacing():
    frame = pd.DataFrame({"signup": ["2022-01-05", "2022-02-05", "2024-01-05", "2024-03-01"],
                          "cancel": ["2022-05-05", None, "2024-02-05", None]})
    res = cohort_retention(frame, start="signup", end="cancel", as_of="2024-06-30", cohort="year", min_at_risk=1)
    assert res.cohorts["cohort"].astype(str).tolist() == ["2022", "2024"]
    assert res.cohorts["score"].tolist() == [1.0, 3.0]


def test_one_cohort_gives_no_test():
    frame = pd.DataFrame({"signup": ["2024-01-05", "2024-02-05"], "cancel": ["2024-03-05", None]})
    res = cohort_retention(frame, start="signup", end="cancel", as_of="2024-06-30", cohort="year")
    assert res.tests.empty and res.logrank is None
    assert any("no cohorts to compare" in n for n in res.notes)
    assert "no test" in repr(res)


# --------------------------------------------------------------------------- validation
@pytest.mark.parametrize("func", [cohort_retention, calendar_churn])
def test_bad_records_raise_clear_errors(func):
    frame = pd.DataFrame({"signup": ["2024-01-05", "2024-02-05", "2024-07-01"], "cancel": [None, None, None]})
    with pytest.raises(TenureDataError, match="no column 'cancelled'"):
        func(frame, start="signup", end="cancelled", as_of="2024-06-30")
    with pytest.raises(TenureDataError, match=r"Column 'signup' has 1 row with sign-up dates after the as-of date"):
        func(frame, start="signup", end="cancel", as_of="2024-06-30")
    bad = frame.assign(signup=["2024-01-05", "soon", "2024-03-01"])
    with pytest.raises(TenureDataError, match=r"Column 'signup' has 1 row with values that are not dates"):
        func(bad, start="signup", end="cancel", as_of="2024-12-31")
    swapped = frame.assign(cancel=["2023-12-01", None, None])
    with pytest.raises(TenureDataError, match="defection dates before the sign-up date"):
        func(swapped, start="signup", end="cancel", as_of="2024-12-31")
    with pytest.raises(TypeError, match=f"The 'as_of' parameter of {func.__name__} must be a date"):
        func(frame, start="signup", end="cancel", as_of=None)
    with pytest.raises(ValueError, match=f"The 'as_of' parameter of {func.__name__} must be a date"):
        func(frame, start="signup", end="cancel", as_of="not a date")
    with pytest.raises(ValueError, match=f"The 'unit' parameter of {func.__name__} must be one of"):
        func(frame, start="signup", end="cancel", as_of="2024-12-31", unit="year")
    with pytest.raises(ValueError, match=f"The 'conf_level' parameter of {func.__name__}"):
        func(frame, start="signup", end="cancel", as_of="2024-12-31", conf_level=95)
    with pytest.raises(TypeError, match=f"The 'frame' parameter of {func.__name__} must be a pandas DataFrame"):
        func(frame.to_dict(), start="signup", end="cancel", as_of="2024-12-31")


def test_bad_parameters_raise_the_template_message():
    frame = pd.DataFrame({"signup": ["2024-01-05", "2024-02-05"], "cancel": ["2024-03-05", None]})
    kw = dict(start="signup", end="cancel", as_of="2024-06-30")
    with pytest.raises(ValueError, match=r"The 'cohort' parameter of cohort_retention must be one of \{'month', "
                                         r"'quarter', 'year'\}. Got 'week' instead."):
        cohort_retention(frame, cohort="week", **kw)
    with pytest.raises(ValueError, match="The 'period' parameter of calendar_churn must be one of"):
        calendar_churn(frame, period="week", **kw)
    with pytest.raises(ValueError, match="The 'min_at_risk' parameter of cohort_retention"):
        cohort_retention(frame, min_at_risk=-1, **kw)
    for bands in ([0], [0, 12, 6], [-1, 12], [0, 1.5, np.inf], [0, np.inf, 24], ["0", "12"]):
        with pytest.raises(ValueError, match="The 'by_tenure' parameter of calendar_churn must be an increasing"):
            calendar_churn(frame, by_tenure=bands, **kw)
    with pytest.raises(TypeError, match="The 'by_tenure' parameter of calendar_churn"):
        calendar_churn(frame, by_tenure="0,12", **kw)


def test_no_exposure_raises():
    frame = pd.DataFrame({"signup": ["2024-06-30"], "cancel": [None]})
    with pytest.raises(TenureDataError, match="No customer-time at risk"):
        calendar_churn(frame, start="signup", end="cancel", as_of="2024-06-30")


def test_the_callers_frame_is_not_modified():
    frame = _records(seed=1)
    before = frame.copy()
    cohort_retention(frame, start="signup", end="cancel", as_of="2024-08-17")
    calendar_churn(frame, start="signup", end="cancel", as_of="2024-08-17", by_tenure=[0, 12, np.inf])
    pd.testing.assert_frame_equal(frame, before)
