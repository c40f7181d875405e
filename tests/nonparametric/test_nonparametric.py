"""Tests of churnsurv.nonparametric: Kaplan-Meier, Nelson-Aalen, per-period hazard, RMST.

The numbers against R live in ``test_against_r_km.py``; here: hand-computable cases, a brute-force product-limit
written from the definition (one loop per time, no shared code with the vectorised kernel), hypothesis
properties, degenerate data, parameter errors, result hygiene and a coverage simulation.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import stats

from churnsurv import LifeTable, NotFittedError, StatisticalWarning, Tenures, life_table
from churnsurv.nonparametric import (
    DiscreteHazard,
    KaplanMeier,
    NelsonAalen,
    discrete_hazard,
    kaplan_meier,
    nelson_aalen,
    restricted_mean,
)

HYPO = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
FRAME = dict(duration="tenure", event="churned")


def small():
    """Six customers; S = 5/6, 2/3, 4/9 at 1, 2, 3, then 0 at 6."""
    return pd.DataFrame({"tenure": [1, 2, 2, 3, 5, 6], "churned": [1, 0, 1, 1, 0, 1]})


def fit_quiet(est, data, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return est.fit(data, **kw)


# ====================================================================== brute-force reference
def brute_km(entry, exit_, event, weight):
    """Product-limit estimate and Greenwood sum at every distinct exit time, from the definition."""
    times = sorted(set(exit_.tolist()))
    s, gw, out = 1.0, 0.0, {}
    for t in times:
        at_risk = sum(w for e, x, w in zip(entry, exit_, weight, strict=True) if (e < t <= x) or (e == 0 and t == 0))
        d = sum(w for x, ev, w in zip(exit_, event, weight, strict=True) if x == t and ev)
        if at_risk > 0:
            s *= 1 - d / at_risk
            if d > 0 and at_risk > d:
                gw += d / (at_risk * (at_risk - d))
        out[t] = (s, gw, at_risk, d)
    return out


@st.composite
def tenure_frames(draw, truncation=False, weights=False, censoring=True, min_exit=0):
    n = draw(st.integers(1, 25))
    exit_ = np.array(draw(st.lists(st.integers(min_exit, 12), min_size=n, max_size=n)), dtype=float)
    if censoring:
        event = np.array(draw(st.lists(st.booleans(), min_size=n, max_size=n)))
    else:
        event = np.ones(n, dtype=bool)
    df = pd.DataFrame({"tenure": exit_, "churned": event})
    if truncation:
        frac = np.array(draw(st.lists(st.sampled_from([0.0, 0.0, 0.3, 0.6]), min_size=n, max_size=n)))
        entry = np.floor(frac * exit_)
        entry = np.where(entry >= exit_, 0.0, entry)
        df["entry"] = entry
    if weights:
        df["w"] = draw(st.lists(st.sampled_from([0.5, 1.0, 2.0, 3.0]), min_size=n, max_size=n))
    return df


# ====================================================================== hand-computed values
def test_small_example_by_hand():
    km = KaplanMeier().fit(small(), **FRAME)
    s = km.survival_
    assert list(s.columns) == ["time", "n_at_risk", "n_events", "n_censored", "estimate", "std_error",
                               "ci_lower", "ci_upper", "zero_events", "below_min_at_risk"]
    np.testing.assert_allclose(s["estimate"], [1, 5 / 6, 2 / 3, 4 / 9, 4 / 9, 0], rtol=1e-15)
    # Greenwood at t = 2: S^2 * (1/(6*5) + 1/(5*4))
    np.testing.assert_allclose(s["std_error"].iloc[2], (2 / 3) * np.sqrt(1 / 30 + 1 / 20), rtol=1e-14)
    assert np.isnan(s["std_error"].iloc[-1]) and np.isnan(s["ci_lower"].iloc[-1])
    z = stats.norm.ppf(0.975)
    sig = np.sqrt(1 / 30)
    assert s["ci_lower"].iloc[1] == pytest.approx(5 / 6 * np.exp(-z * sig), rel=1e-14)
    assert s["ci_upper"].iloc[1] == 1.0  # the log interval is capped at 1
    assert km.n_obs_ == 6 and km.time_unit_ == "month" and km.by_ == ()
    med = km.median_
    assert list(med.columns) == ["estimate", "ci_lower", "ci_upper", "below_min_at_risk"]
    assert med["estimate"].iloc[0] == 3.0 and med["ci_lower"].iloc[0] == 2.0 and np.isnan(med["ci_upper"].iloc[0])
    # RMST up to 4: 1 + 5/6 + 2/3 + 4/9
    r = km.rmst(4)
    assert r["estimate"].iloc[0] == pytest.approx(1 + 5 / 6 + 2 / 3 + 4 / 9, rel=1e-14)


def test_quantile_midpoint_rule_on_flat_stretch():
    # S = 0.75, 0.5, 0.25, 0 at 1, 2, 3, 4: S equals 0.5 exactly on [2, 3) -> median (2 + 3) / 2 (R quantile)
    df = pd.DataFrame({"tenure": [1, 2, 3, 4], "churned": [1, 1, 1, 1]})
    q = KaplanMeier().fit(df, **FRAME).quantile([0.25, 0.5, 0.75, 1.0, 0.0])
    np.testing.assert_allclose(q["estimate"], [1.5, 2.5, 3.5, 4.0, 0.0])


def test_quantile_at_last_point_uses_midpoint_with_last_time():
    # S = 0.5 from t = 2 to the end (censored at 5): R gives (2 + 5) / 2
    df = pd.DataFrame({"tenure": [2, 2, 5, 5], "churned": [1, 1, 0, 0]})
    q = KaplanMeier().fit(df, **FRAME).quantile([0.5])
    assert q["estimate"].iloc[0] == 3.5


def test_nelson_aalen_by_hand():
    na = NelsonAalen().fit(small(), **FRAME)
    h = na.cumulative_hazard_
    np.testing.assert_allclose(h["estimate"], [0, 1 / 6, 1 / 6 + 1 / 5, 1 / 6 + 1 / 5 + 1 / 3,
                                               1 / 6 + 1 / 5 + 1 / 3, 1 / 6 + 1 / 5 + 1 / 3 + 1], rtol=1e-15)
    np.testing.assert_allclose(h["std_error"].iloc[2] ** 2, 1 / 36 + 1 / 25, rtol=1e-14)
    z = stats.norm.ppf(0.975)
    H, se = h["estimate"].iloc[1], h["std_error"].iloc[1]
    assert h["ci_lower"].iloc[1] == pytest.approx(H * np.exp(-z * se / H))
    plain = NelsonAalen(conf_type="plain").fit(small(), **FRAME).cumulative_hazard_
    assert plain["ci_lower"].iloc[1] == 0.0 and plain["ci_upper"].iloc[1] == pytest.approx(H + z * se)
    assert (h.loc[0, ["estimate", "std_error", "ci_lower", "ci_upper"]] == 0).all()


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("conf_type", ["log", "log-log", "plain"])
def test_matches_brute_force_with_truncation_and_weights(seed, conf_type):
    rng = np.random.default_rng(seed)
    n = 60
    entry = rng.choice([0.0, 0.0, 0.0, 1.0, 2.0, 4.0], n)
    exit_ = entry + rng.choice([1.0, 1.0, 2.0, 3.0, 5.0], n)
    event = rng.random(n) < 0.6
    w = rng.choice([1.0, 2.0, 0.5], n)
    grp = rng.choice(["a", "b"], n)
    df = pd.DataFrame({"entry": entry, "tenure": exit_, "churned": event, "w": w, "g": grp})
    km = fit_quiet(KaplanMeier(conf_type=conf_type), df, by="g", entry="entry", weights="w", **FRAME)
    z = stats.norm.ppf(0.975)
    for g, rows in km.survival_.groupby("g", observed=True):
        sub = df[df["g"] == g]
        ref = brute_km(sub["entry"].to_numpy(), sub["tenure"].to_numpy(), sub["churned"].to_numpy(),
                       sub["w"].to_numpy())
        for t, (s, gw, n_risk, d) in ref.items():
            row = rows[rows["time"] == t].iloc[0]
            assert row["estimate"] == pytest.approx(s, rel=1e-12, abs=1e-15)
            assert row["n_at_risk"] == pytest.approx(n_risk) and row["n_events"] == pytest.approx(d)
            if 0 < s < 1:
                assert row["std_error"] == pytest.approx(s * np.sqrt(gw), rel=1e-12)
                if conf_type == "log":
                    assert row["ci_lower"] == pytest.approx(s * np.exp(-z * np.sqrt(gw)), rel=1e-12)


# ====================================================================== properties
@HYPO
@given(tenure_frames(truncation=True, weights=True, min_exit=1))
def test_survival_is_a_survival_curve(df):
    km = fit_quiet(KaplanMeier(), df, entry="entry", weights="w", **FRAME)
    s = km.survival_["estimate"].to_numpy()
    assert s[0] == 1.0  # S(0) = 1 when nobody leaves at 0
    assert np.all((s >= 0) & (s <= 1))
    assert np.all(np.diff(s) <= 1e-15)
    lo, hi = km.survival_["ci_lower"].to_numpy(), km.survival_["ci_upper"].to_numpy()
    ok = s > 0
    assert np.all(lo[ok] <= s[ok] + 1e-15) and np.all(hi[ok] >= s[ok] - 1e-15)
    assert np.all((lo[ok] >= 0) & (hi[ok] <= 1))
    h = fit_quiet(NelsonAalen(), df, entry="entry", weights="w", **FRAME).cumulative_hazard_["estimate"]
    assert np.all(np.diff(h.to_numpy()) >= 0)


@HYPO
@given(tenure_frames(censoring=False))
def test_without_censoring_km_is_the_empirical_survival(df):
    s = KaplanMeier().fit(df, **FRAME).survival_
    t = df["tenure"].to_numpy()
    empirical = [(t > u).mean() for u in s["time"]]
    np.testing.assert_allclose(s["estimate"], empirical, rtol=1e-12, atol=1e-15)


@HYPO
@given(tenure_frames(truncation=True, weights=True), st.randoms(use_true_random=False))
def test_row_order_is_irrelevant(df, rnd):
    perm = list(range(len(df)))
    rnd.shuffle(perm)
    a = fit_quiet(KaplanMeier(), df, entry="entry", weights="w", **FRAME)
    b = fit_quiet(KaplanMeier(), df.iloc[perm].reset_index(drop=True), entry="entry", weights="w", **FRAME)
    pd.testing.assert_frame_equal(a.survival_, b.survival_, rtol=1e-12, atol=1e-14)
    pd.testing.assert_frame_equal(a.quantile(), b.quantile())
    pd.testing.assert_frame_equal(a.rmst(), b.rmst(), rtol=1e-12, atol=1e-14)


@HYPO
@given(tenure_frames(), st.sampled_from([0.5, 2.0, 3.0, 12.0, 0.1]))
def test_rescaling_time_rescales_the_quantiles(df, c):
    a = KaplanMeier().fit(df, **FRAME).quantile([0.25, 0.5, 0.75])
    scaled = df.assign(tenure=df["tenure"] * c)
    b = KaplanMeier().fit(scaled, **FRAME).quantile([0.25, 0.5, 0.75])
    for col in ["estimate", "ci_lower", "ci_upper"]:
        np.testing.assert_allclose(b[col], a[col] * c, rtol=1e-12)


@HYPO
@given(tenure_frames(truncation=True))
def test_weights_of_two_equal_duplicated_rows(df):
    doubled = fit_quiet(KaplanMeier(), df.assign(w=2.0), entry="entry", weights="w", **FRAME)
    dup = fit_quiet(KaplanMeier(), pd.concat([df, df], ignore_index=True), entry="entry", **FRAME)
    pd.testing.assert_frame_equal(doubled.survival_, dup.survival_, rtol=1e-12, atol=1e-14)
    pd.testing.assert_frame_equal(doubled.quantile(), dup.quantile())
    pd.testing.assert_frame_equal(doubled.rmst(), dup.rmst(), rtol=1e-12, atol=1e-14)


# ====================================================================== predict
def test_predict_is_right_continuous_and_extends():
    km = KaplanMeier().fit(small(), **FRAME)
    p = km.predict([0, 0.999, 1, 1.5, 2, 6, 7, 100], extend=True)
    np.testing.assert_allclose(p["estimate"], [1, 1, 5 / 6, 5 / 6, 2 / 3, 0, 0, 0], rtol=1e-15)
    np.testing.assert_array_equal(p["n_at_risk"], [6, 6, 6, 5, 5, 1, 0, 0])
    assert list(p.columns) == ["time", "n_at_risk", "estimate", "std_error", "ci_lower", "ci_upper",
                               "zero_events", "below_min_at_risk"]
    # a curve ending above 0 carries its last value, standard error and limits beyond the last time (R extend=TRUE)
    df = pd.DataFrame({"tenure": [1, 2, 3, 3, 4, 6], "churned": [1, 0, 1, 1, 0, 0]})
    km = KaplanMeier().fit(df, **FRAME)
    p = km.predict([6, 7, 1000], extend=True)
    last = km.survival_.iloc[-1]
    for col in ["estimate", "std_error", "ci_lower", "ci_upper"]:
        np.testing.assert_array_equal(p[col], last[col])
    np.testing.assert_array_equal(p["n_at_risk"], [1, 0, 0])
    assert km.predict(2.5)["estimate"].iloc[0] == pytest.approx(5 / 6)  # a scalar works


def test_predict_by_segment_is_segment_major():
    df = pd.DataFrame({"tenure": [1, 2, 2, 3], "churned": [1, 0, 1, 1], "plan": ["a", "a", "b", "b"]})
    p = KaplanMeier().fit(df, by="plan", **FRAME).predict([0, 2, 3], extend=True)
    assert p["plan"].astype(str).tolist() == ["a"] * 3 + ["b"] * 3
    np.testing.assert_allclose(p["estimate"], [1, 0.5, 0.5, 1, 0.5, 0])
    assert isinstance(p["plan"].dtype, pd.CategoricalDtype)


def test_nelson_aalen_predict():
    na = NelsonAalen().fit(small(), **FRAME)
    p = na.predict([0.5, 1, 10], extend=True)
    np.testing.assert_allclose(p["estimate"], [0, 1 / 6, 1 / 6 + 1 / 5 + 1 / 3 + 1])


# ====================================================================== degenerate data
def test_no_events():
    df = pd.DataFrame({"tenure": [1, 2, 3], "churned": [0, 0, 0]})
    km = KaplanMeier(conf_type="log-log").fit(df, **FRAME)
    s = km.survival_
    assert (s["estimate"] == 1).all() and (s["std_error"] == 0).all()
    # no false certainty: after time 0 the interval is the exact one-sided bound 0.05 ** (1 / n), not [1, 1]
    assert s["zero_events"].tolist() == [False, True, True, True]
    np.testing.assert_allclose(s["ci_lower"], [1, 0.05 ** (1 / 3), 0.05 ** (1 / 2), 0.05])
    assert (s["ci_upper"] == 1).all()
    assert km.median_[["estimate", "ci_lower", "ci_upper"]].isna().all(axis=None)
    assert "no defections" in km.median_.attrs["notes"]["all customers"][0]
    assert "no defections" in km.summary()["note"].iloc[0]
    with pytest.warns(StatisticalWarning, match="standard error is 0"):
        r = km.rmst(3)
    assert r["estimate"].iloc[0] == 3.0 and r["std_error"].iloc[0] == 0.0 and r["zero_events"].iloc[0]
    assert (NelsonAalen().fit(df, **FRAME).cumulative_hazard_["estimate"] == 0).all()
    h = DiscreteHazard().fit(df, **FRAME).hazard_
    assert (h["estimate"] == 0).all() and (h["ci_lower"] == 0).all() and (h["ci_upper"] > 0).all()


@pytest.mark.parametrize("event", [0, 1])
def test_one_customer(event):
    df = pd.DataFrame({"tenure": [4.0], "churned": [event]})
    km = KaplanMeier().fit(df, **FRAME)
    assert km.survival_["estimate"].tolist() == [1.0, 1.0 - event]
    assert km.n_obs_ == 1
    med = km.median_["estimate"].iloc[0]
    assert (med == 4.0) if event else np.isnan(med)
    assert km.rmst(10)["estimate"].iloc[0] == (4.0 if event else 10.0)


def test_customer_leaving_at_time_zero():
    # exit 0 is at risk at 0 (R's convention): S(0) = 1 - 1/3
    df = pd.DataFrame({"tenure": [0, 2, 3], "churned": [1, 1, 0]})
    s = KaplanMeier().fit(df, **FRAME).survival_
    np.testing.assert_allclose(s["estimate"], [2 / 3, 1 / 3, 1 / 3])


def test_a_segment_that_empties():
    df = pd.DataFrame({"tenure": [1, 2, 1, 5], "churned": [1, 1, 0, 1], "plan": ["a", "a", "b", "b"]})
    km = KaplanMeier().fit(df, by="plan", **FRAME)
    a = km.survival_[km.survival_["plan"] == "a"]
    assert a["estimate"].iloc[-1] == 0.0
    assert np.isnan(a["std_error"].iloc[-1]) and np.isnan(a["ci_lower"].iloc[-1])
    q = km.quantile([0.5, 1.0])
    np.testing.assert_allclose(q["estimate"], [1.5, 2.0, 5.0, 5.0])


def test_zero_at_risk_rows_in_truncated_data_warn_and_carry_the_estimate():
    # Everybody observed from 0 leaves by 2; others enter at 5 and 6 (risk set empty on (2, 5]).
    # R: survfit(Surv(entry, time, event) ~ 1) gives S = 2/3 then 2/3 * 3/4 = 1/2 at 7, 0 at 9.
    df = pd.DataFrame({"entry": [0, 0, 0, 5, 5, 6, 6], "tenure": [1, 2, 2, 7, 8, 9, 9],
                       "churned": [1, 0, 0, 1, 0, 1, 1]})
    with pytest.warns(StatisticalWarning, match="risk set is empty from 2 to 5") as record:
        km = KaplanMeier().fit(df, entry="entry", **FRAME)
    assert record[0].filename == __file__  # stacklevel points at the caller
    with pytest.warns(StatisticalWarning) as record:
        kaplan_meier(df, entry="entry", **FRAME)
    assert record[0].filename == __file__
    s = km.survival_.set_index("time")
    assert s.loc[5.0, "n_at_risk"] == 0
    assert s.loc[7.0, "estimate"] == pytest.approx(0.5)
    assert s.loc[9.0, "estimate"] == 0.0
    assert km.rmst(9)["estimate"].iloc[0] == pytest.approx(1 + 2 * 2 / 3 * 3 + 0.5 * 2)  # = 6 (R: rmean 6)
    assert km.predict(4)["n_at_risk"].iloc[0] == 0  # the true risk set (R reports 4, the next exit's)
    assert "risk set is empty" in km.summary()["note"].iloc[0]
    with pytest.warns(StatisticalWarning):
        NelsonAalen().fit(df, entry="entry", **FRAME)


def test_conditional_when_nobody_is_observed_from_zero():
    df = pd.DataFrame({"entry": [2, 2, 3], "tenure": [4, 5, 6], "churned": [1, 0, 1]})
    with pytest.warns(StatisticalWarning, match="conditional on survival to 2"):
        km = KaplanMeier().fit(df, entry="entry", **FRAME)
    assert km.survival_["estimate"].iloc[0] == 1.0


def test_survival_reaching_zero_before_later_entries_stays_zero():
    df = pd.DataFrame({"entry": [0, 0, 3, 3], "tenure": [1, 3, 6, 7], "churned": [1, 1, 1, 0]})
    with pytest.warns(StatisticalWarning, match="reaches 0 at 3"):
        km = KaplanMeier().fit(df, entry="entry", **FRAME)
    assert (km.survival_.query("time >= 3")["estimate"] == 0).all()


def test_no_warning_on_ordinary_data():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        KaplanMeier().fit(small(), **FRAME)
        NelsonAalen().fit(small(), **FRAME)


def test_more_events_than_at_risk_in_counts_raises():
    counts = pd.DataFrame({"time": [0.0, 1.0], "n_events": [0.0, 3.0], "n_censored": [0.0, 0.0],
                           "n_at_risk": [2.0, 2.0]})
    lt = LifeTable.from_counts(counts, n_at_risk="n_at_risk")
    with pytest.raises(ValueError, match="more events than customers at risk"):
        KaplanMeier().fit(lt)


def test_from_counts_equals_from_rows():
    df = small()
    counts = (df.groupby("tenure").agg(n_events=("churned", "sum"), n=("churned", "size"))
              .reset_index().assign(n_censored=lambda x: x["n"] - x["n_events"]))
    lt = LifeTable.from_counts(counts, time="tenure")
    a = KaplanMeier().fit(lt).survival_
    b = KaplanMeier().fit(df, **FRAME).survival_
    pd.testing.assert_frame_equal(a, b)


# ====================================================================== parameters and fitting
@pytest.mark.parametrize("cls, name, value, message", [
    (KaplanMeier, "conf_type", "x",
     "The 'conf_type' parameter of KaplanMeier must be one of {'log', 'log-log', 'plain'}. Got 'x' instead."),
    (KaplanMeier, "conf_level", 1.5, "The 'conf_level' parameter of KaplanMeier must be a float in (0, 1). "
                                     "Got 1.5 instead."),
    (NelsonAalen, "conf_type", "log-log",
     "The 'conf_type' parameter of NelsonAalen must be one of {'log', 'plain'}. Got 'log-log' instead."),
    (DiscreteHazard, "method", "agresti",
     "The 'method' parameter of DiscreteHazard must be one of {'wilson', 'exact'}. Got 'agresti' instead."),
    (DiscreteHazard, "width", -1, "The 'width' parameter of DiscreteHazard must be a positive number or None. "
                                  "Got -1 instead."),
])
def test_parameter_errors(cls, name, value, message):
    est = cls(**{name: value})  # __init__ does not validate
    with pytest.raises(ValueError) as excinfo:
        est.fit(small(), **FRAME)
    assert str(excinfo.value) == message


def test_parameter_type_errors():
    with pytest.raises(TypeError, match="'conf_level' parameter of KaplanMeier"):
        KaplanMeier(conf_level="high").fit(small(), **FRAME)
    with pytest.raises(TypeError, match="'width' parameter of DiscreteHazard"):
        DiscreteHazard(width="3").fit(small(), **FRAME)


def test_method_argument_errors():
    km = KaplanMeier().fit(small(), **FRAME)
    with pytest.raises(ValueError, match="The 'times' parameter of KaplanMeier.predict must be"):
        km.predict([-1])
    with pytest.raises(ValueError, match="The 'probs' parameter of KaplanMeier.quantile"):
        km.quantile([1.5])
    with pytest.raises(ValueError, match="The 'tau' parameter of KaplanMeier.rmst"):
        km.rmst(-2)
    with pytest.raises(ValueError, match="at least two segments"):
        km.compare_rmst()


@pytest.mark.parametrize("est, methods", [
    (KaplanMeier(), ["predict", "quantile", "rmst", "compare_rmst", "summary"]),
    (NelsonAalen(), ["predict"]),
])
def test_not_fitted(est, methods):
    for m in methods:
        args = ([1.0],) if m == "predict" else ()
        with pytest.raises(NotFittedError, match=f"This {type(est).__name__} instance is not fitted yet"):
            getattr(est, m)(*args)


def test_params_and_repr():
    km = KaplanMeier(conf_type="plain")
    assert km.get_params() == {"conf_level": 0.95, "conf_type": "plain", "min_at_risk": 10}
    assert repr(km) == "KaplanMeier(conf_type='plain')"
    assert km.set_params(conf_level=0.9) is km and km.conf_level == 0.9
    with pytest.raises(ValueError, match="Invalid parameter 'alpha'"):
        km.set_params(alpha=0.05)
    assert repr(DiscreteHazard(width=3)) == "DiscreteHazard(width=3)"
    assert km.fit(small(), **FRAME) is km


def test_conf_level_changes_the_width():
    a = KaplanMeier(conf_level=0.8).fit(small(), **FRAME).survival_
    b = KaplanMeier(conf_level=0.99).fit(small(), **FRAME).survival_
    assert (a["ci_lower"].iloc[1:4] > b["ci_lower"].iloc[1:4]).all()


def test_input_frame_is_not_mutated_and_results_are_independent():
    df = pd.DataFrame({"tenure": [1, 2, 2, 3, 5, 6], "churned": [1, 0, 1, 1, 0, 1], "g": list("aabbab")})
    before = df.copy()
    km = KaplanMeier()
    km.fit(df, by="g", **FRAME)
    pd.testing.assert_frame_equal(df, before)
    first = km.survival_
    snapshot = first.copy()
    median = km.median_.copy()
    km.fit(df.assign(tenure=df["tenure"] * 2), by="g", **FRAME)  # refit on other data
    pd.testing.assert_frame_equal(first, snapshot)
    assert not km.median_.equals(median)
    # a LifeTable passed in is copied, not kept
    lt = life_table(Tenures.from_frame(df, segments="g", **FRAME), "g")
    km.fit(lt)
    assert km.life_table_ is not lt and km.life_table_.table is not lt.table
    lt.table.loc[:, "n_events"] = 0.0
    assert km.life_table_.table["n_events"].sum() == 4
    km.survival_.loc[:, "estimate"] = -1  # the caller's copy; predictions do not change
    assert km.predict([1])["estimate"].min() >= 0


# ====================================================================== RMST, compare, summary
def test_rmst_several_taus_and_default():
    km = KaplanMeier().fit(small(), **FRAME)
    r = km.rmst([2, 4])
    assert r["tau"].tolist() == [2.0, 4.0] and r["estimate"].iloc[0] == pytest.approx(1 + 5 / 6)
    # one common default horizon: the last time (min_at_risk off), or where fewer than min_at_risk are at risk
    default = KaplanMeier(min_at_risk=None).fit(small(), **FRAME).rmst()
    assert default["tau"].iloc[0] == 6.0
    assert KaplanMeier(min_at_risk=3).fit(small(), **FRAME).rmst()["tau"].iloc[0] == 5.0
    lo, hi = default["ci_lower"].iloc[0], default["ci_upper"].iloc[0]
    z = stats.norm.ppf(0.975)
    assert hi - lo == pytest.approx(2 * z * default["std_error"].iloc[0])


def test_compare_rmst():
    rng = np.random.default_rng(3)
    n = 400
    g = rng.choice(["a", "b", "c"], n)
    t = np.ceil(rng.exponential(np.where(g == "a", 10, 20)))
    df = pd.DataFrame({"tenure": np.minimum(t, 30), "churned": t <= 30, "g": g})
    km = KaplanMeier().fit(df, by="g", **FRAME)
    out = km.compare_rmst(tau=24)
    assert list(out.columns) == ["g", "reference", "tau", "measure", "estimate", "std_error", "ci_lower",
                                 "ci_upper", "p_value"]
    assert out["g"].astype(str).tolist() == ["b", "b", "c", "c"] and (out["reference"] == "a").all()
    r = km.rmst(24).set_index(km.rmst(24)["g"].astype(str))
    diff = out[(out["g"] == "b") & (out["measure"] == "difference")].iloc[0]
    assert diff["estimate"] == pytest.approx(r.loc["b", "estimate"] - r.loc["a", "estimate"])
    assert diff["std_error"] == pytest.approx(np.hypot(r.loc["b", "std_error"], r.loc["a", "std_error"]))
    ratio = out[(out["g"] == "b") & (out["measure"] == "ratio")].iloc[0]
    assert ratio["estimate"] == pytest.approx(r.loc["b", "estimate"] / r.loc["a", "estimate"])
    assert ratio["ci_lower"] < ratio["estimate"] < ratio["ci_upper"]
    assert diff["p_value"] < 1e-6  # the scales differ by 2
    other = km.compare_rmst(tau=24, reference="c")
    assert (other["reference"] == "c").all() and set(other["g"].astype(str)) == {"a", "b"}
    with pytest.raises(ValueError, match="'reference' parameter of KaplanMeier.compare_rmst"):
        km.compare_rmst(reference="z")


def test_summary():
    df = pd.DataFrame({"entry": [0, 0, 0, 2, 0, 1], "tenure": [1, 2, 2, 3, 5, 6], "churned": [1, 0, 1, 1, 0, 1],
                       "g": list("aabbbb")})
    km = KaplanMeier().fit(df, by="g", entry="entry", **FRAME)
    s = km.summary(times=(1, 3), tau=4)
    assert s.columns.tolist() == ["g", "n_customers", "n_events", "n_censored", "n_truncated", "median",
                                  "median_ci_lower", "median_ci_upper", "max_follow_up", "tau", "rmst",
                                  "rmst_std_error", "survival_1", "survival_3", "note"]
    assert s["max_follow_up"].tolist() == [2.0, 6.0]  # each segment's last exit: the bound of a median not reached
    assert s["n_customers"].tolist() == [2, 4] and s["n_truncated"].tolist() == [0, 2]
    assert s["n_events"].tolist() == [1, 3] and s["n_censored"].tolist() == [1, 1]
    r = km.rmst(4)
    np.testing.assert_allclose(s["rmst"], r["estimate"])
    np.testing.assert_allclose(s["survival_3"], km.predict([3])["estimate"])
    assert s.attrs["conf_type"] == "log" and s.attrs["time_unit"] == "month"


# ====================================================================== per-period hazard
def test_discrete_hazard_intervals_match_scipy():
    df = pd.DataFrame({"tenure": np.repeat([1, 2, 3, 4], [3, 5, 2, 10]),
                       "churned": np.tile([1, 0], 10)})
    for method, sp in [("wilson", "wilson"), ("exact", "exact")]:
        h = DiscreteHazard(method=method).fit(df, **FRAME).hazard_
        for row in h.itertuples():
            ci = stats.binomtest(int(row.n_events), int(row.n_at_risk)).proportion_ci(0.95, method=sp)
            assert row.ci_lower == pytest.approx(ci.low, abs=1e-12)
            assert row.ci_upper == pytest.approx(ci.high, abs=1e-12)
            assert row.estimate == row.n_events / row.n_at_risk


def test_discrete_hazard_bins():
    df = pd.DataFrame({"tenure": [0, 1, 2, 2, 3, 4, 5, 6, 7], "churned": [1, 1, 0, 1, 1, 0, 1, 1, 0]})
    h1 = DiscreteHazard().fit(df, **FRAME).hazard_
    h3 = DiscreteHazard(width=3).fit(df, **FRAME).hazard_
    assert h3.columns.tolist() == ["time_start", "time", "n_at_risk", "exposure", "n_events", "estimate",
                                   "ci_lower", "ci_upper", "below_min_at_risk"]
    assert h3["time"].tolist() == [3.0, 6.0, 9.0] and h3["time_start"].tolist() == [0.0, 3.0, 6.0]
    # every period 0..3 has a row here, so the exposure is the sum of the rows' risk sets
    first = h1[h1["time"] <= 3]
    assert h3["n_events"].iloc[0] == first["n_events"].sum()
    assert h3["exposure"].iloc[0] == first["n_at_risk"].sum()
    assert h3["estimate"].iloc[0] == first["n_events"].sum() / first["n_at_risk"].sum()
    pd.testing.assert_frame_equal(discrete_hazard(df, width=3, **FRAME), h3)


def test_function_doors_equal_the_estimators():
    df = small().assign(g=list("aabbab"))
    pd.testing.assert_frame_equal(kaplan_meier(df, "g", conf_type="plain", **FRAME),
                                  KaplanMeier(conf_type="plain").fit(df, by="g", **FRAME).survival_)
    pd.testing.assert_frame_equal(nelson_aalen(df, by="g", **FRAME),
                                  NelsonAalen().fit(df, by="g", **FRAME).cumulative_hazard_)
    pd.testing.assert_frame_equal(restricted_mean(df, 3, "g", **FRAME),
                                  KaplanMeier().fit(df, by="g", **FRAME).rmst(3))


def test_two_segment_columns():
    rng = np.random.default_rng(0)
    n = 200
    df = pd.DataFrame({"tenure": rng.integers(1, 20, n), "churned": rng.random(n) < 0.5,
                       "a": rng.choice(["x", "y"], n), "b": rng.choice(["u", "v"], n)})
    km = KaplanMeier().fit(df, by=["a", "b"], **FRAME)
    assert km.median_[["a", "b"]].astype(str).values.tolist() == [["x", "u"], ["x", "v"], ["y", "u"], ["y", "v"]]
    sub = df[(df["a"] == "y") & (df["b"] == "u")]
    one = KaplanMeier().fit(sub, **FRAME).survival_
    mine = km.survival_[(km.survival_["a"] == "y") & (km.survival_["b"] == "u")].drop(columns=["a", "b"])
    pd.testing.assert_frame_equal(mine.reset_index(drop=True), one)
    cmp = km.compare_rmst(tau=10, reference=("y", "v"))
    assert (cmp["reference"] == "a='y', b='v'").all() and len(cmp) == 6


# ====================================================================== simulation
def test_log_interval_coverage():
    """Over 1000 replications of n = 300 (Weibull lifetimes, uniform + exponential censoring), the 95% log
    interval covers the true S(t) 93-97% of the time at three times. One fit: the replication is the segment."""
    rng = np.random.default_rng(20240611)
    reps, n = 1000, 300
    shape, scale = 1.3, 20.0
    t = scale * rng.weibull(shape, (reps, n))
    c = np.minimum(rng.uniform(5, 60, (reps, n)), rng.exponential(80, (reps, n)))
    df = pd.DataFrame({"tenure": np.minimum(t, c).ravel(), "churned": (t <= c).ravel(),
                       "rep": np.repeat(np.arange(reps), n).astype(str)})
    ten = Tenures.from_frame(df, segments="rep", **FRAME)
    km = KaplanMeier().fit(life_table(ten, "rep", check_confounding=False))
    times = np.array([5.0, 15.0, 30.0])
    truth = np.exp(-((times / scale) ** shape))  # 0.85, 0.43, 0.08
    p = km.predict(times)
    lo = p["ci_lower"].to_numpy().reshape(reps, 3)
    hi = p["ci_upper"].to_numpy().reshape(reps, 3)
    coverage = ((lo <= truth) & (truth <= hi)).mean(axis=0)
    assert np.all((coverage >= 0.93) & (coverage <= 0.97)), coverage


def test_discrete_hazard_shows_the_renewal_spike():
    from churnsurv import simulate  # churnsurv's own module: imported, never skipped

    sim = simulate.simulate_churn(30_000, random_state=7)
    h = fit_quiet(DiscreteHazard(), sim.data, by="segment", duration="exit", event="event", entry="entry").hazard_
    one = h[h["segment"] == "One year"].set_index("time")
    around = one.loc[[9.0, 10.0, 11.0, 13.0, 14.0, 15.0], "estimate"].mean()
    assert one.loc[12.0, "estimate"] > 3 * around
    assert one.loc[12.0, "ci_lower"] > one.loc[[11.0, 13.0], "ci_upper"].max()
    true_h = sim.truth.discrete_hazard(12.0, segment="One year")
    assert one.loc[12.0, "ci_lower"] < true_h < one.loc[12.0, "ci_upper"]
