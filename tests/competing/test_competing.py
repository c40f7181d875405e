"""Unit and property tests of churnsurv.competing (Aalen-Johansen, Gray's test, hazards, cause reduction).

Reference values from R live in ``tests/competing/test_against_r_competing.py``; here the numbers come from hand
calculation, from identities (S + sum F = 1, IJ = Greenwood-type without truncation) and from a literal,
loop-per-customer transcription of R ``survival``'s multi-state influence recursion (``survfitci.c``).
"""

from __future__ import annotations

import doctest
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import churnsurv.competing.aj_variance as aj_variance
import churnsurv.competing.aalen_johansen as aalen_johansen
import churnsurv.competing.reduction as reduction
import churnsurv.competing.cause_specific as cause_specific
import churnsurv.competing.gray as gray
from churnsurv import LifeTable, NotFittedError, StatisticalWarning, Tenures, TenureDataError, life_table
from churnsurv.competing import (
    AalenJohansen,
    CauseReduction,
    cause_reduction,
    cause_specific_hazard,
    cumulative_incidence,
    gray_test,
)

# ---------------------------------------------------------------------------------------------- data
TINY = pd.DataFrame({
    "tenure": [1, 2, 2, 3, 4, 4, 5, 6],
    "reason": ["price", "service", None, "price", "price", "service", None, "price"],
})
TINY_KW = dict(duration="tenure", cause="reason")


@pytest.fixture
def tiny_aj():
    return AalenJohansen().fit(TINY, **TINY_KW)


def _sim(n=400, seed=0, truncated=False, weights=False):
    """Monthly data with ties, 3 causes, 2 segments (and optionally entry times and weights)."""
    rng = np.random.default_rng(seed)
    seg = rng.choice(["a", "b"], n)
    t = np.ceil(rng.exponential(12, n))
    cens = np.ceil(rng.uniform(0, 30, n))
    ev = t <= cens
    exit_ = np.where(ev, t, cens)
    exit_ = np.maximum(exit_, 1)
    cause = np.where(ev, rng.choice(["price", "competitor", "service"], n, p=[0.5, 0.3, 0.2]), None)
    df = pd.DataFrame({"tenure": exit_, "reason": cause, "seg": seg})
    if truncated:
        entry = np.where(rng.random(n) < 0.4, np.floor(exit_ * rng.random(n)), 0.0)
        df["start"] = entry
    if weights:
        df["w"] = rng.choice([0.5, 1.0, 2.5], n)
    return df


def _kw(df):
    kw = dict(duration="tenure", cause="reason")
    if "start" in df:
        kw["entry"] = "start"
    if "w" in df:
        kw["weights"] = "w"
    return kw


# ---------------------------------------------------------------------------------------------- R's IJ recursion
def _r_influence_recursion(tenures: Tenures):
    """survfit's multi-state estimate and IJ standard errors, one customer at a time (survfitci.c).

    Single segment. Entry 0 counts as observed before the origin (R uses entry = min(time) - 1 for
    right-censored data). Returns times, p (n_times x (1 + K)) and std.err (same shape).
    """
    d = tenures.data
    k = len(tenures.causes)
    entry = np.where(d["entry"].to_numpy() > 0, d["entry"].to_numpy(), -1.0)
    exit_ = d["exit"].to_numpy(float)
    event = d["event"].to_numpy(bool)
    code = np.where(event, d["cause"].cat.codes.to_numpy() + 1, 0)
    w = d["weight"].to_numpy(float)
    n = len(d)
    p = np.zeros(k + 1)
    p[0] = 1.0
    U = np.zeros((n, k + 1))
    times = np.unique(exit_)
    ps, ses = [], []
    for t in times:
        at_risk = (entry < t) & (exit_ >= t)
        ws = w[at_risk].sum()
        ev_now = at_risk & (exit_ == t) & event
        if w[ev_now].sum() > 0:
            H = np.eye(k + 1)
            for j in range(1, k + 1):
                H[0, j] = w[ev_now & (code == j)].sum() / ws
            H[0, 0] = 1.0 - w[ev_now].sum() / ws
            U = U @ H
            for i in np.flatnonzero(at_risk):
                U[i] -= H[0] * p[0] / ws
                U[i, code[i] if ev_now[i] else 0] += p[0] / ws
            p = p @ H
        ps.append(p.copy())
        ses.append(np.sqrt(((w[:, None] * U) ** 2).sum(axis=0)))
    return times, np.array(ps), np.array(ses)


@st.composite
def _records(draw):
    n = draw(st.integers(2, 25))
    rows = []
    for _ in range(n):
        exit_ = draw(st.integers(0, 6))
        entry = draw(st.integers(0, max(exit_ - 1, 0))) if exit_ > 0 and draw(st.booleans()) else 0
        event = draw(st.booleans())
        cause = draw(st.sampled_from(["x", "y", "z"])) if event else None
        weight = draw(st.sampled_from([1.0, 1.0, 0.5, 2.0]))
        rows.append((entry, exit_, cause, weight))
    df = pd.DataFrame(rows, columns=["entry", "exit", "cause", "w"])
    scale = draw(st.sampled_from([1.0, 1.0, 0.5, 0.1]))  # 0.1: non-integer times (no dense time lookup)
    df[["entry", "exit"]] = df[["entry", "exit"]] * scale
    if df["cause"].isna().all():
        df.loc[0, "cause"] = "x"
    return df


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_records())
def test_ij_variance_equals_r_recursion(df):
    """Vectorised IJ (cells of entry x exit x cause) == R survfitci's per-customer recursion, any data."""
    ten = Tenures.from_frame(df, duration="exit", entry="entry", cause="cause", weights="w")
    aj = AalenJohansen().fit(ten)
    times, p, se = _r_influence_recursion(ten)
    surv = aj.survival_.set_index("time")
    assert np.allclose(surv.loc[times, "estimate"], p[:, 0], atol=1e-12)
    assert np.allclose(surv.loc[times, "std_error"] ** 2, se[:, 0] ** 2, atol=1e-13)
    assert np.array_equal(surv.loc[times, "std_error"] == 0, se[:, 0] < 1e-9)
    cif = aj.cumulative_incidence_
    for j, c in enumerate(ten.causes):
        cj = cif[cif["cause"] == c].set_index("time")
        assert np.allclose(cj.loc[times, "estimate"], p[:, j + 1], atol=1e-12)
        assert np.allclose(cj.loc[times, "std_error"] ** 2, se[:, j + 1] ** 2, atol=1e-13)
        assert np.allclose(cj.loc[times, "std_error"], se[:, j + 1], atol=1e-7)
    assert aj.check() < 1e-12


@settings(max_examples=60, deadline=None)
@given(_records(), st.randoms(use_true_random=False))
def test_row_order_is_irrelevant(df, rnd):
    perm = list(range(len(df)))
    rnd.shuffle(perm)
    kw = dict(duration="exit", entry="entry", cause="cause", weights="w")
    a = AalenJohansen().fit(df, **kw).cumulative_incidence_
    b = AalenJohansen().fit(df.iloc[perm].reset_index(drop=True), **kw).cumulative_incidence_
    pd.testing.assert_frame_equal(a, b, check_exact=False, atol=1e-12)


# ---------------------------------------------------------------------------------------------- estimator
def test_tied_times_by_hand(tiny_aj):
    """Ties are exact: F_k(t) = F_k(t-) + S(t-) d_k/n with d_k counted at the tied time."""
    cif = tiny_aj.cumulative_incidence_.set_index(["cause", "time"])["estimate"]
    # t=1: 8 at risk, 1 price -> 1/8; t=2: 7 at risk, 1 service (and a censoring): S(1)=7/8 -> 1/8
    # t=3: 5 at risk, S(2)=6/8, 1 price -> 0.125 + 0.75/5 = 0.275; t=4: 4 at risk, S(3)=0.6, 1 price + 1 service
    assert cif[("price", 3.0)] == pytest.approx(0.275, abs=1e-15)
    assert cif[("price", 4.0)] == pytest.approx(0.275 + 0.6 / 4, abs=1e-15)
    assert cif[("service", 4.0)] == pytest.approx(0.125 + 0.6 / 4, abs=1e-15)
    surv = tiny_aj.survival_.set_index("time")["estimate"]
    assert surv[4.0] == pytest.approx(0.6 * 2 / 4, abs=1e-15)
    assert surv[6.0] == 0.0


def test_fitted_attributes(tiny_aj):
    cif = tiny_aj.cumulative_incidence_
    assert list(cif.columns) == ["cause", "time", "n_at_risk", "n_events", "estimate", "std_error",
                                 "ci_lower", "ci_upper", "below_min_at_risk"]
    assert list(tiny_aj.survival_.columns) == ["time", "n_at_risk", "n_events", "n_censored", "estimate",
                                               "std_error", "ci_lower", "ci_upper"]
    assert tiny_aj.causes_ == ("price", "service")
    assert list(cif["cause"].cat.categories) == ["price", "service"]
    assert tiny_aj.by_ == () and tiny_aj.time_unit_ == "month" and not tiny_aj.truncated_
    assert cif.groupby("cause", observed=True)["n_events"].sum().tolist() == [4.0, 2.0]
    # CIFs are non-decreasing, in [0, 1]; the CIs contain the estimate
    for _, g in cif.groupby("cause", observed=True):
        assert np.all(np.diff(g["estimate"]) >= 0)
    assert cif["estimate"].between(0, 1).all()
    assert (cif["ci_lower"] <= cif["estimate"] + 1e-15).all() and (cif["estimate"] <= cif["ci_upper"] + 1e-15).all()
    assert ((cif["estimate"] == 0) == (cif["ci_upper"] == 0)).all()  # [0, 0] before the first defection


def test_fit_returns_self_and_refit_does_not_mutate(tiny_aj):
    aj = AalenJohansen()
    assert aj.fit(TINY, **TINY_KW) is aj
    before = aj.cumulative_incidence_
    snapshot = before.copy()
    aj.fit(_sim(), by="seg", **_kw(_sim()))
    pd.testing.assert_frame_equal(before, snapshot)


def test_not_fitted():
    aj = AalenJohansen()
    with pytest.raises(NotFittedError, match="not fitted yet"):
        aj.predict([1])
    with pytest.raises(NotFittedError):
        aj.check()


def test_params_roundtrip_and_errors():
    aj = AalenJohansen(conf_level=0.9, conf_type="plain", variance="aalen")
    assert aj.get_params() == {"conf_level": 0.9, "conf_type": "plain", "variance": "aalen", "min_at_risk": 10}
    assert aj.set_params(conf_level=0.8).conf_level == 0.8
    assert "AalenJohansen(conf_level=0.8" in repr(aj)
    with pytest.raises(ValueError, match="Invalid parameter"):
        aj.set_params(alpha=0.05)
    with pytest.raises(ValueError, match=r"The 'conf_level' parameter of AalenJohansen must be a float in \(0, 1\). "
                                         r"Got 1.5 instead."):
        AalenJohansen(conf_level=1.5).fit(TINY, **TINY_KW)
    with pytest.raises(ValueError, match="'conf_type' parameter of AalenJohansen must be one of"):
        AalenJohansen(conf_type="logit").fit(TINY, **TINY_KW)
    with pytest.raises(ValueError, match="'variance' parameter of AalenJohansen must be one of"):
        AalenJohansen(variance="delta").fit(TINY, **TINY_KW)
    with pytest.raises(ValueError, match="'min_at_risk' parameter of AalenJohansen must be a non-negative number"):
        AalenJohansen(min_at_risk=-1).fit(TINY, **TINY_KW)
    with pytest.raises(TypeError, match="'min_at_risk' parameter of AalenJohansen"):
        AalenJohansen(min_at_risk="10").fit(TINY, **TINY_KW)


def test_few_at_risk_flags_rows_below_min_at_risk():
    df = _sim(truncated=True)
    kw = _kw(df)
    cif = AalenJohansen(min_at_risk=25).fit(df, by="seg", **kw).cumulative_incidence_
    np.testing.assert_array_equal(cif["below_min_at_risk"].to_numpy(), (cif["n_at_risk"] < 25).to_numpy())
    assert cif["below_min_at_risk"].any() and not cif["below_min_at_risk"].all()
    # the flag does not touch the estimates; 0 and None flag nothing
    for off in (0, None):
        other = AalenJohansen(min_at_risk=off).fit(df, by="seg", **kw).cumulative_incidence_
        assert not other["below_min_at_risk"].any()
        pd.testing.assert_frame_equal(other.drop(columns="below_min_at_risk"), cif.drop(columns="below_min_at_risk"))
    # the default is 10, and the function passes it on
    tiny = cumulative_incidence(TINY, **TINY_KW)
    assert tiny["below_min_at_risk"].all()  # 8 customers: never 10 at risk
    assert not cumulative_incidence(TINY, min_at_risk=2, **TINY_KW)["below_min_at_risk"].iloc[0]


def test_no_causes_raises():
    df = pd.DataFrame({"tenure": [1, 2, 3], "churned": [1, 0, 1]})
    with pytest.raises(TenureDataError, match="needs causes of defection.*cause='<column>'"):
        AalenJohansen().fit(df, duration="tenure", event="churned")


@pytest.mark.parametrize("truncated", [False, True])
@pytest.mark.parametrize("weights", [False, True])
def test_survival_plus_incidences_is_one(truncated, weights):
    df = _sim(truncated=truncated, weights=weights)
    for variance in ("ij", "greenwood", "aalen"):
        aj = AalenJohansen(variance=variance).fit(df, by="seg", **_kw(df))
        assert aj.check() < 1e-12
        assert aj.truncated_ == truncated
        assert aj.cumulative_incidence_["std_error"].notna().all()


def test_check_raises_on_inconsistent_result(tiny_aj):
    aj = AalenJohansen().fit(TINY, **TINY_KW)
    aj.cumulative_incidence_.loc[3, "estimate"] += 0.01
    with pytest.raises(ValueError, match="deviates from 1"):
        aj.check()


def test_no_censoring_gives_empirical_proportions():
    rng = np.random.default_rng(3)
    t = rng.integers(1, 10, 200)
    c = rng.choice(["a", "b", "c"], 200)
    aj = AalenJohansen().fit(pd.DataFrame({"t": t, "c": c}), duration="t", cause="c")
    got = aj.predict([4.0], cause="b")["estimate"].iloc[0]
    assert got == pytest.approx(np.mean((t <= 4) & (c == "b")), abs=1e-14)


def test_ij_equals_greenwood_without_truncation_but_not_with():
    df = _sim()
    ij = AalenJohansen(variance="ij").fit(df, by="seg", **_kw(df))
    gw = AalenJohansen(variance="greenwood").fit(df, by="seg", **_kw(df))
    np.testing.assert_allclose(ij.cumulative_incidence_["std_error"], gw.cumulative_incidence_["std_error"],
                               atol=1e-14)
    np.testing.assert_allclose(ij.survival_["std_error"], gw.survival_["std_error"], atol=1e-14)
    dft = _sim(truncated=True)
    ij = AalenJohansen(variance="ij").fit(dft, by="seg", **_kw(dft))
    gw = AalenJohansen(variance="greenwood").fit(dft, by="seg", **_kw(dft))
    assert np.max(np.abs(ij.cumulative_incidence_["std_error"] - gw.cumulative_incidence_["std_error"])) > 1e-4
    pd.testing.assert_series_equal(ij.cumulative_incidence_["estimate"], gw.cumulative_incidence_["estimate"])


def test_variances_differ_but_estimates_agree():
    df = _sim()
    res = {v: AalenJohansen(variance=v).fit(df, **_kw(df)).cumulative_incidence_ for v in aalen_johansen.VARIANCES}
    assert np.array_equal(res["ij"]["estimate"], res["aalen"]["estimate"])
    diff = np.abs(res["ij"]["std_error"] - res["aalen"]["std_error"])
    assert diff.max() > 0
    big = res["ij"]["n_at_risk"] >= 20  # they agree asymptotically, not in the sparse tail
    assert (diff[big] <= 0.05 * res["ij"]["std_error"][big]).all()


def test_life_table_and_tenures_inputs_agree():
    df = _sim()
    ten = Tenures.from_frame(df, segments="seg", **_kw(df))
    a = AalenJohansen().fit(ten, by="seg").cumulative_incidence_
    b = AalenJohansen().fit(life_table(ten, "seg")).cumulative_incidence_
    c = AalenJohansen().fit(df, by="seg", **_kw(df)).cumulative_incidence_
    pd.testing.assert_frame_equal(a, b)
    pd.testing.assert_frame_equal(a, c)


def test_from_counts_life_table():
    lt = LifeTable.from_counts(pd.DataFrame({
        "time": [1, 2, 3, 4, 5, 6], "price": [1, 0, 1, 1, 0, 1], "service": [0, 1, 0, 1, 0, 0],
        "n_censored": [0, 1, 0, 0, 1, 0]}), n_events=None, causes=["price", "service"])
    cif = AalenJohansen().fit(lt).cumulative_incidence_
    ref = AalenJohansen().fit(TINY, **TINY_KW).cumulative_incidence_
    pd.testing.assert_frame_equal(cif, ref)


@pytest.mark.parametrize("weights", [False, True])
def test_ij_without_dense_cells(monkeypatch, weights):
    """Large tables skip the dense cell count (one cell per customer, searchsorted row lookup): same answer."""
    df = _sim(truncated=True, weights=weights)
    dense = AalenJohansen().fit(df, by="seg", **_kw(df))
    monkeypatch.setattr(aj_variance, "_DENSE_KEYS", 0)
    sparse_path = AalenJohansen().fit(df, by="seg", **_kw(df))
    pd.testing.assert_frame_equal(dense.cumulative_incidence_, sparse_path.cumulative_incidence_, atol=1e-13)
    pd.testing.assert_frame_equal(dense.survival_, sparse_path.survival_, atol=1e-13)


def test_truncated_life_table_needs_records_for_ij():
    df = _sim(truncated=True)
    lt = life_table(Tenures.from_frame(df, segments="seg", **_kw(df)), "seg")
    with pytest.raises(TenureDataError, match="needs the customer records.*variance='greenwood'"):
        AalenJohansen().fit(lt)
    gw = AalenJohansen(variance="greenwood").fit(lt)
    ref = AalenJohansen(variance="greenwood").fit(df, by="seg", **_kw(df))
    pd.testing.assert_frame_equal(gw.cumulative_incidence_, ref.cumulative_incidence_)


def test_frame_keywords_rejected_for_tenures():
    ten = Tenures.from_frame(TINY, **TINY_KW)
    with pytest.raises(TypeError, match="only apply to a DataFrame"):
        AalenJohansen().fit(ten, duration="tenure")


@pytest.mark.parametrize("conf_type", ["log", "log-log", "plain"])
def test_conf_types(conf_type):
    df = _sim()
    cif = AalenJohansen(conf_type=conf_type, conf_level=0.9).fit(df, by="seg", **_kw(df)).cumulative_incidence_
    ok = cif["estimate"] > 0
    assert cif.loc[ok, "ci_lower"].between(0, 1).all() and cif.loc[ok, "ci_upper"].between(0, 1).all()
    assert (cif.loc[ok, "ci_lower"] <= cif.loc[ok, "estimate"]).all()
    assert (cif.loc[ok, "estimate"] <= cif.loc[ok, "ci_upper"]).all()
    wide = AalenJohansen(conf_type=conf_type, conf_level=0.99).fit(df, by="seg", **_kw(df)).cumulative_incidence_
    assert (wide.loc[ok, "ci_upper"] - wide.loc[ok, "ci_lower"] >=
            cif.loc[ok, "ci_upper"] - cif.loc[ok, "ci_lower"] - 1e-15).all()


def test_plain_interval_formula(tiny_aj):
    aj = AalenJohansen(conf_type="plain").fit(TINY, **TINY_KW)
    row = aj.cumulative_incidence_.iloc[3]
    z = 1.959963984540054
    assert row["ci_lower"] == pytest.approx(max(row["estimate"] - z * row["std_error"], 0))
    assert row["ci_upper"] == pytest.approx(min(row["estimate"] + z * row["std_error"], 1))


def test_predict_is_right_continuous(tiny_aj):
    out = tiny_aj.predict([-1, 0, 2.5, 3, 3.99, 6, 7])
    assert list(out.columns) == ["cause", "time", "estimate", "std_error", "ci_lower", "ci_upper"]
    price = out[out["cause"] == "price"]["estimate"].to_numpy()
    np.testing.assert_allclose(price[:6], [0, 0, 0.125, 0.275, 0.275, 0.725])
    assert np.isnan(price[6])  # beyond the last time: not identified
    assert tiny_aj.predict(3, cause="service")["estimate"].tolist() == [0.125]
    with pytest.raises(ValueError, match="'cause' parameter of AalenJohansen.predict must be among"):
        tiny_aj.predict(3, cause="moved")
    with pytest.raises(ValueError, match="'times' parameter"):
        tiny_aj.predict([np.nan])


def test_predict_by_segment():
    df = _sim()
    aj = AalenJohansen().fit(df, by="seg", **_kw(df))
    out = aj.predict([3, 12], cause=["price", "service"])
    assert list(out.columns[:3]) == ["seg", "cause", "time"] and len(out) == 2 * 2 * 2
    cif = aj.cumulative_incidence_
    ref = cif[(cif["seg"] == "b") & (cif["cause"] == "service") & (cif["time"] <= 12)]["estimate"].iloc[-1]
    got = out[(out["seg"] == "b") & (out["cause"] == "service") & (out["time"] == 12)]["estimate"].iloc[0]
    assert got == ref


def test_cumulative_incidence_function_matches_estimator():
    df = _sim(truncated=True)
    a = cumulative_incidence(df, "seg", conf_type="log-log", **_kw(df))
    b = AalenJohansen(conf_type="log-log").fit(df, by="seg", **_kw(df)).cumulative_incidence_
    pd.testing.assert_frame_equal(a, b)


def test_survival_matches_kaplan_meier_by_hand():
    df = _sim(truncated=True)
    aj = AalenJohansen().fit(df, **_kw(df))
    s = aj.survival_
    km = np.cumprod(1 - s["n_events"] / s["n_at_risk"].where(s["n_at_risk"] > 0, 1))
    np.testing.assert_allclose(s["estimate"], km, atol=1e-14)


def test_doctests():
    failed = attempted = 0
    for module in (aalen_johansen, gray, cause_specific, reduction):
        res = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
        failed, attempted = failed + res.failed, attempted + res.attempted
    assert failed == 0 and attempted >= 6


# ---------------------------------------------------------------------------------------------- Gray's test
def test_gray_test_output_and_errors():
    df = _sim()
    res = gray_test(df, "seg", duration="tenure", cause_column="reason")
    assert list(res.columns) == ["cause", "statistic", "dof", "p_value"]
    assert list(res["cause"]) == ["competitor", "price", "service"]
    assert (res["dof"] == 1).all() and res["p_value"].between(0, 1).all()
    one = gray_test(df, "seg", cause="price", duration="tenure", cause_column="reason")
    assert one["statistic"].iloc[0] == pytest.approx(res.set_index("cause").loc["price", "statistic"])
    with pytest.raises(ValueError, match="'cause' parameter of gray_test must be among"):
        gray_test(df, "seg", cause="moved", duration="tenure", cause_column="reason")
    with pytest.raises(ValueError, match="at least two groups"):
        gray_test(df.assign(seg="a"), "seg", duration="tenure", cause_column="reason")
    with pytest.raises(ValueError, match="both in 'by' and 'strata'"):
        gray_test(df, "seg", strata="seg", duration="tenure", cause_column="reason")
    with pytest.raises(TypeError, match="'rho' parameter of gray_test"):
        gray_test(df, "seg", rho="1", duration="tenure", cause_column="reason")


def test_gray_test_from_life_table():
    df = _sim()
    ten = Tenures.from_frame(df.assign(half=df.index % 2), duration="tenure", cause="reason", segments=["seg", "half"])
    ref = gray_test(ten, "seg", strata="half")
    got = gray_test(life_table(ten, ["half", "seg"]), "seg", strata="half")
    pd.testing.assert_frame_equal(ref, got)
    with pytest.raises(ValueError, match="cannot regroup"):
        gray_test(life_table(ten, ["seg", "half"]), "seg", strata="half")


def test_gray_test_refuses_truncated_data():
    df = _sim(truncated=True)
    with pytest.raises(TenureDataError, match="Gray's test is for right-censored data"):
        gray_test(df, "seg", duration="tenure", entry="start", cause_column="reason")


def test_gray_test_group_labels_do_not_matter():
    df = _sim()
    a = gray_test(df, "seg", duration="tenure", cause_column="reason")
    b = gray_test(df.assign(seg=df["seg"].map({"a": "z", "b": "a"})), "seg", duration="tenure", cause_column="reason")
    np.testing.assert_allclose(a["statistic"], b["statistic"], rtol=1e-10)


def test_gray_test_no_difference_is_small():
    """The same records duplicated into two groups: identical curves, statistic 0."""
    df = _sim()
    both = pd.concat([df.assign(g="x"), df.assign(g="y")], ignore_index=True)
    res = gray_test(both, "g", duration="tenure", cause_column="reason")
    assert np.all(np.abs(res["statistic"]) < 1e-18 + 1e-12)


def test_gray_test_three_groups_and_strata():
    df = _sim(n=900, seed=5)
    df["g3"] = np.where(df.index % 3 == 0, "u", np.where(df.index % 3 == 1, "v", "w"))
    res = gray_test(df, "g3", strata="seg", rho=1.0, duration="tenure", cause_column="reason")
    assert (res["dof"] == 2).all() and np.isfinite(res["statistic"]).all()


# ---------------------------------------------------------------------------------------------- hazards
def test_cause_specific_hazard():
    df = _sim()
    h = cause_specific_hazard(df, "seg", duration="tenure", cause_column="reason", conf_level=0.9)
    assert list(h.columns) == ["seg", "cause", "time", "n_at_risk", "n_events", "estimate", "ci_lower", "ci_upper"]
    np.testing.assert_allclose(h["estimate"], h["n_events"] / h["n_at_risk"])
    assert (h["ci_lower"] <= h["estimate"]).all() and (h["estimate"] <= h["ci_upper"]).all()
    assert (h["n_at_risk"] > 0).all()
    lt = life_table(Tenures.from_frame(df, duration="tenure", cause="reason", segments="seg"), "seg")
    total = h.groupby(["seg", "cause"], observed=True)["n_events"].sum()
    assert total.sum() == lt.table["n_events"].sum()
    one = cause_specific_hazard(lt, "seg", cause="price")
    assert set(one["cause"]) == {"price"}
    # Wilson limits by formula
    z = 1.6448536269514722
    n, d = h["n_at_risk"].to_numpy(), h["n_events"].to_numpy()
    p = d / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    np.testing.assert_allclose(h["ci_upper"].where(d < n, 1.0), np.where(d < n, centre + half, 1.0), atol=1e-12)
    with pytest.raises(ValueError, match="'cause' parameter of cause_specific_hazard"):
        cause_specific_hazard(lt, "seg", cause="moved")


# ---------------------------------------------------------------------------------------------- cause reduction
def test_cause_reduction_identity_and_removal():
    df = _sim(truncated=True)
    kw = _kw(df)
    aj = AalenJohansen().fit(df, by="seg", **kw)
    same = cause_reduction(df, reduce={}, by="seg", **kw)
    assert isinstance(same, CauseReduction)
    obs = same.survival[same.survival["scenario"] == "observed"]["estimate"].to_numpy()
    cf = same.survival[same.survival["scenario"] == "counterfactual"]["estimate"].to_numpy()
    np.testing.assert_allclose(obs, aj.survival_["estimate"], atol=1e-15)
    np.testing.assert_allclose(cf, obs, atol=1e-15)
    assert np.allclose(same.summary["difference"], 0)

    res = cause_reduction(df, reduce={"price": 1.0, "service": 0.5}, by="seg", horizon=24, **kw)
    assert list(res.summary.columns) == ["seg", "horizon", "expected_tenure_observed",
                                         "expected_tenure_counterfactual", "difference", "difference_ci_lower",
                                         "difference_ci_upper", "difference_lower_bound", "difference_upper_bound"]
    assert (res.summary["difference"] > 0).all() and (res.summary["horizon"] == 24).all()
    cif = res.cumulative_incidence
    assert list(cif.columns) == ["seg", "scenario", "cause", "time", "estimate"]
    price_cf = cif[(cif["scenario"] == "counterfactual") & (cif["cause"] == "price")]["estimate"]
    assert (price_cf == 0).all()
    # the counterfactual curves still add up to one
    surv_cf = res.survival[res.survival["scenario"] == "counterfactual"]["estimate"].to_numpy()
    tot = cif[cif["scenario"] == "counterfactual"].groupby(["seg", "time"], observed=True)["estimate"].sum()
    np.testing.assert_allclose(tot.to_numpy() + surv_cf, 1.0, atol=1e-12)
    # the service hazard is halved: its counterfactual increments are half the hazard times S*(t-)
    lt = life_table(Tenures.from_frame(df, segments="seg", **kw), "seg")
    assert "price: -100%" in repr(res) and res.time_unit == "month" and res.reduce == {"price": 1.0, "service": 0.5}
    assert len(res.survival) == 2 * len(lt.table)


def test_cause_reduction_rmst_by_hand():
    res = cause_reduction(TINY, reduce={"price": 1.0}, **TINY_KW)
    # observed S: 1 on [0,1), 7/8 on [1,2), 6/8 on [2,3), 0.6 on [3,4), 0.3 on [4,6), 0 at 6 -> area to 6
    expected = 1 + 7 / 8 + 6 / 8 + 0.6 + 0.3 * 2
    assert res.summary["expected_tenure_observed"].iloc[0] == pytest.approx(expected)
    # without price: S* = 1, 1, 6/7, 6/7, 6/7 * 3/4 ... (service at 2 of 7 and 4 of 4 at risk)
    s = [1, 1, 6 / 7, 6 / 7, 6 / 7 * 3 / 4, 6 / 7 * 3 / 4]
    assert res.summary["expected_tenure_counterfactual"].iloc[0] == pytest.approx(sum(s))
    every = cause_reduction(TINY, reduce={"price": 1.0, "service": 1.0}, horizon=5, **TINY_KW)
    assert every.summary["expected_tenure_counterfactual"].iloc[0] == pytest.approx(5.0)


def test_cause_reduction_errors_and_warning():
    with pytest.raises(ValueError, match="'reduce' parameter of cause_reduction must be keyed by causes"):
        cause_reduction(TINY, reduce={"moved": 0.5}, **TINY_KW)
    with pytest.raises(ValueError, match="fractions in \\[0, 1\\]"):
        cause_reduction(TINY, reduce={"price": 1.5}, **TINY_KW)
    with pytest.raises(TypeError, match="'reduce' parameter"):
        cause_reduction(TINY, reduce=[("price", 0.5)], **TINY_KW)
    with pytest.raises(ValueError, match="'horizon' parameter"):
        cause_reduction(TINY, reduce={"price": 0.5}, horizon=-1, **TINY_KW)
    with pytest.warns(StatisticalWarning, match="beyond the last time"):
        res = cause_reduction(TINY, reduce={"price": 0.5}, horizon=10, **TINY_KW)
    assert res.summary["horizon"].iloc[0] == 10


def test_cause_reduction_matches_aj_with_scaled_counts():
    """Halving a cause equals the AJ estimate on a life table with that cause's counts halved."""
    df = _sim()
    kw = _kw(df)
    lt = life_table(Tenures.from_frame(df, segments="seg", **kw), "seg")
    res = cause_reduction(lt, reduce={"competitor": 0.5})
    ce = lt.cause_events.copy()
    ce["competitor"] *= 0.5
    tab = lt.table.copy()
    tab["n_events"] = ce.sum(axis=1).to_numpy()
    scaled = LifeTable(tab, ce, by=lt.by, causes=lt.causes, time_unit=lt.time_unit, n_customers=lt.n_customers)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        aj = AalenJohansen(variance="greenwood").fit(scaled)
    cf = res.survival[res.survival["scenario"] == "counterfactual"]["estimate"].to_numpy()
    np.testing.assert_allclose(cf, aj.survival_["estimate"], atol=1e-14)
