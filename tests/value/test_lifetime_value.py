"""Lifetime value: closed forms to 1e-10, the monthly period convention, every source, the tails, the errors."""

from __future__ import annotations

import doctest
import math
import warnings

import numpy as np
import pandas as pd
import pytest
from value_records import HALF, records_from_counts

import churnsurv.value.lifetime as lifetime_module
from churnsurv import AalenJohansen, KaplanMeier, LifeTable, StatisticalWarning, Tenures, life_table
from churnsurv.value import lifetime_value, lifetime_value_range

FRAME = dict(duration="tenure", event="churned")


def geometric_value(m, r, d, timing, first_period, n=None):
    """The four closed forms of the docstring, times the horizon factor (periods starting before n: n - k0)."""
    base = {("start", True): m * (1 + d) / (1 + d - r), ("start", False): m * r / (1 + d - r),
            ("end", True): m / (1 + d - r), ("end", False): m * r / ((1 + d) * (1 + d - r))}[(timing, first_period)]
    return base if n is None else base * (1 - (r / (1 + d)) ** (n - (0 if first_period else 1)))


def geometric_curve(r, last=6, period=1.0):
    k = np.arange(last + 1)
    return pd.DataFrame({"time": k * period, "estimate": r ** k})


@pytest.mark.parametrize("timing", ["start", "end"])
@pytest.mark.parametrize("first_period", [True, False])
@pytest.mark.parametrize(("r", "d"), [(0.9, 0.01), (0.75, 0.0), (0.98, 0.05)])
@pytest.mark.parametrize("horizon", [None, 1, 4, 7, 30])
def test_geometric_closed_form(timing, first_period, r, d, horizon):
    got = lifetime_value(geometric_curve(r), margin=12.5, discount_rate=d, tail="geometric", retention=r,
                         timing=timing, first_period=first_period, horizon=horizon)
    want = geometric_value(12.5, r, d, timing, first_period, horizon)
    assert got.loc[0, "estimate"] == pytest.approx(want, rel=1e-10, abs=1e-10)
    assert got.loc[0, "data_value"] + got.loc[0, "tail_value"] == pytest.approx(want, rel=1e-12)


@pytest.mark.parametrize("timing", ["start", "end"])
@pytest.mark.parametrize("first_period", [True, False])
def test_closed_form_with_the_constant_tail_fitted_from_counts(half, timing, first_period):
    # KM is 0.5 ** k exactly and the last-12-period window has 684 defections over 1368 customer-months
    got = lifetime_value(half, margin=10, discount_rate=0.02, timing=timing, first_period=first_period, **FRAME)
    assert got.loc[0, "tail_retention"] == 0.5
    assert (got.loc[0, "tail_events"], got.loc[0, "tail_exposure"]) == (684.0, 1368.0)
    assert got.loc[0, "estimate"] == pytest.approx(geometric_value(10, 0.5, 0.02, timing, first_period), rel=1e-10)


def test_closed_form_with_quarterly_periods():
    # times in months, one period = a quarter: S(3k) = r^k, discount per quarter
    got = lifetime_value(geometric_curve(0.8, period=3.0), margin=30, discount_rate=0.03, tail="geometric",
                         retention=0.8, period=3.0)
    assert got.loc[0, "estimate"] == pytest.approx(geometric_value(30, 0.8, 0.03, "start", True), rel=1e-10)


def test_growing_margin_closed_form():
    # m(t) = 10 * 1.01^t with S(k) = r^k: sum_k 10 (1.01 r v)^k = 10 / (1 - 1.01 r / (1 + d))
    r, d = 0.9, 0.01
    got = lifetime_value(geometric_curve(r), margin=lambda t: 10 * 1.01 ** t, discount_rate=d, tail="geometric",
                         retention=r)
    assert got.loc[0, "estimate"] == pytest.approx(10 / (1 - 1.01 * r / (1 + d)), rel=1e-10)
    assert np.isnan(got.loc[0, "margin"])


def test_monthly_km_step_maps_onto_periods():
    # one defector with tenure 3 was a customer at the start of periods 0, 1, 2: three margins
    one = pd.DataFrame({"tenure": [3.0], "churned": [True]})
    v = 1 / 1.01
    start = lifetime_value(one, margin=10, discount_rate=0.01, **FRAME)
    end = lifetime_value(one, margin=10, discount_rate=0.01, timing="end", **FRAME)
    not_first = lifetime_value(one, margin=10, discount_rate=0.01, first_period=False, **FRAME)
    assert start.loc[0, "estimate"] == pytest.approx(10 * (1 + v + v**2), rel=1e-12)
    assert end.loc[0, "estimate"] == pytest.approx(10 * (v + v**2 + v**3), rel=1e-12)
    assert not_first.loc[0, "estimate"] == pytest.approx(10 * (v + v**2), rel=1e-12)


@pytest.mark.parametrize("timing", ["start", "end"])
@pytest.mark.parametrize("first_period", [True, False])
@pytest.mark.parametrize("whole_months", [False, True])
def test_km_of_an_exponential_population_equals_the_sum_by_hand(timing, first_period, whole_months):
    rng = np.random.default_rng(20240607)
    t = rng.exponential(8.0, 300)
    if whole_months:
        t = np.ceil(t)
    df = pd.DataFrame({"tenure": t, "churned": True})
    d, m = 0.015, 7.0
    got = lifetime_value(df, margin=m, discount_rate=d, timing=timing, first_period=first_period, **FRAME)
    delta, k0 = (0 if timing == "start" else 1), (0 if first_period else 1)
    by_hand = 0.0
    for ti in t:  # customer i is there at the start of periods k = 0 .. ceil(t_i) - 1
        by_hand += sum(m / (1 + d) ** (k + delta) for k in range(k0, math.ceil(ti)))
    assert got.loc[0, "estimate"] == pytest.approx(by_hand / len(t), rel=1e-10)
    assert got.loc[0, "tail_value"] == 0.0  # nobody left after the last time: no tail whatever the family


def test_every_source_gives_the_same_value():
    df = records_from_counts(HALF, "a")
    df2 = records_from_counts([(1, 30, 5), (2, 20, 10), (4, 6, 3), (7, 2, 4)], "b")
    df = pd.concat([df, df2], ignore_index=True)
    df["reason"] = np.where(df["churned"], "price", None)
    kw = dict(margin=10.0, discount_rate=0.01)
    tenures = Tenures.from_frame(df, segments="plan", **FRAME)
    km = KaplanMeier().fit(tenures, by="plan")
    aj = AalenJohansen().fit(df, by="plan", duration="tenure", cause="reason")
    results = [
        lifetime_value(df, by="plan", **FRAME, **kw),
        lifetime_value(tenures, by="plan", **kw),
        lifetime_value(km, **kw),
        lifetime_value(aj, **kw),
        lifetime_value(life_table(tenures, "plan"), **kw),
        lifetime_value(km.survival_, by="plan", **kw),
    ]
    for res in results[1:]:
        np.testing.assert_allclose(res["estimate"], results[0]["estimate"], rtol=1e-12)
        np.testing.assert_allclose(res["tail_retention"], results[0]["tail_retention"], rtol=1e-12)
        assert list(res["plan"]) == ["a", "b"]
    assert list(results[0]["n_customers"]) == [1024.0, 80.0]
    assert np.isnan(results[-1]["n_customers"]).all()  # a plain table does not know its customers


def test_constant_tail_by_hand_and_from_a_curve_without_counts():
    counts = pd.DataFrame({"time": [0.0, 1.0, 2.0, 3.0, 4.0], "n_at_risk": [100.0, 100.0, 80.0, 50.0, 30.0],
                           "n_events": [0.0, 10.0, 10.0, 5.0, 3.0], "n_censored": [0.0, 10.0, 20.0, 15.0, 27.0]})
    lt = LifeTable.from_counts(counts, n_at_risk="n_at_risk")
    got = lifetime_value(lt, margin=1.0, discount_rate=0.0, tail_periods=2)
    # window (2, 4]: 5 + 3 defections over 50 + 30 customer-months
    assert got.loc[0, "tail_retention"] == pytest.approx(1 - 8 / 80, rel=1e-14)
    s = np.cumprod([1 - 10 / 100, 1 - 10 / 80, 1 - 5 / 50, 1 - 3 / 30])
    data = 1 + s.sum()  # periods 0..4 start at or before tau = 4
    tail = s[-1] * 0.9 / (1 - 0.9)  # periods 5, 6, ...: S(4) 0.9^(k - 4)
    assert got.loc[0, "data_value"] == pytest.approx(data, rel=1e-12)
    assert got.loc[0, "tail_value"] == pytest.approx(tail, rel=1e-12)
    assert got.loc[0, "tail_share"] == pytest.approx(tail / (data + tail), rel=1e-12)
    # a survival table without counts: the curve's geometric mean retention over the window
    curve = pd.DataFrame({"time": [0.0, 1, 2, 3, 4], "estimate": np.r_[1.0, s]})
    got = lifetime_value(curve, margin=1.0, discount_rate=0.0, tail_periods=2)
    assert got.loc[0, "tail_retention"] == pytest.approx(np.sqrt(s[3] / s[1]), rel=1e-14)


def test_hard_stop_and_horizon_within_the_data(half):
    stop = lifetime_value(half, margin=10, discount_rate=0.02, tail="stop", **FRAME)
    none = lifetime_value(half, margin=10, discount_rate=0.02, tail="none", **FRAME)
    v = 1 / 1.02
    by_hand = 10 * sum((0.5 * v) ** k for k in range(6))  # periods 0..5 start at or before tau = 5
    assert stop.loc[0, "estimate"] == pytest.approx(by_hand, rel=1e-12) == none.loc[0, "estimate"]
    assert stop.loc[0, "tail_value"] == 0.0 and np.isnan(stop.loc[0, "tail_retention"])
    short = lifetime_value(half, margin=10, discount_rate=0.02, horizon=3, **FRAME)
    assert short.loc[0, "estimate"] == pytest.approx(10 * sum((0.5 * v) ** k for k in range(3)), rel=1e-12)
    assert short.loc[0, "tail_value"] == 0.0


def test_margins_per_segment_column_and_dict():
    df = pd.concat([records_from_counts(HALF, "a"), records_from_counts(HALF, "b")], ignore_index=True)
    df["charge"] = np.where(df["plan"] == "a", 20.0, 40.0)
    df.loc[0, "charge"] = 20.0 + 1024.0  # segment a's mean charge is 21
    before = df.copy()
    unit = geometric_value(1.0, 0.5, 0.01, "start", True)
    by_col = lifetime_value(df, by="plan", margin="charge", margin_rate=0.5, discount_rate=0.01, **FRAME)
    np.testing.assert_allclose(by_col["margin"], [10.5, 20.0], rtol=1e-14)
    np.testing.assert_allclose(by_col["estimate"], [10.5 * unit, 20.0 * unit], rtol=1e-10)
    by_dict = lifetime_value(df, by="plan", margin={"a": 3.0, "b": lambda t: 4.0 + 0 * t}, discount_rate=0.01,
                             **FRAME)
    np.testing.assert_allclose(by_dict["estimate"], [3 * unit, 4 * unit], rtol=1e-10)
    pd.testing.assert_frame_equal(df, before)  # the caller's frame is untouched
    assert by_col.attrs["margin_rate"] == 0.5 and by_col.attrs["timing"] == "start"


def test_range_holds_every_tail(half):
    rng = lifetime_value_range(half, margin=10, discount_rate=0.02, retention=0.8, **FRAME)
    assert list(rng["tail"]) == ["none", "constant", "constant", "constant", "weibull", "lognormal",
                                 "loglogistic", "sbg", "bdw", "geometric"]
    assert list(rng["tail_periods"].iloc[1:4]) == [6.0, 12.0, 24.0]
    for _, row in rng.iterrows():
        tail = row["tail"]
        kw = {"tail_periods": row["tail_periods"]} if tail == "constant" else {}
        one = lifetime_value(half, margin=10, discount_rate=0.02, tail=tail, retention=0.8, **kw, **FRAME)
        assert row["estimate"] == pytest.approx(one.loc[0, "estimate"], rel=1e-14)
    assert rng["range_lower"].iloc[0] == rng["estimate"].min()
    assert rng["range_upper"].iloc[0] == rng["estimate"].max()
    assert rng.loc[0, "estimate"] < rng.loc[9, "estimate"]  # a hard stop is the floor of the range


def test_range_by_segment_is_per_segment():
    df = pd.concat([records_from_counts(HALF, "a"), records_from_counts([(1, 10, 5), (3, 5, 10)], "b")],
                   ignore_index=True)
    rng = lifetime_value_range(df, by="plan", margin=1.0, discount_rate=0.01, tails=["none", ("geometric", 0.9)],
                               **FRAME)
    assert list(rng["plan"]) == ["a", "a", "b", "b"]
    for _, g in rng.groupby("plan", observed=True):
        assert (g["range_lower"] == g["estimate"].min()).all() and (g["range_upper"] == g["estimate"].max()).all()


def test_constant_tail_without_defection_warns():
    df = pd.DataFrame({"tenure": [1.0, 2, 3, 30, 30, 30], "churned": [True, True, True, False, False, False]})
    with pytest.warns(StatisticalWarning, match="no defection in the last 12 periods") as rec:
        got = lifetime_value(df, margin=1.0, discount_rate=0.01, **FRAME)
    assert rec[0].filename == __file__
    assert got.loc[0, "tail_retention"] == 1.0


@pytest.mark.parametrize(("kwargs", "error", "match"), [
    ({"discount_rate": -0.1}, ValueError, "The 'discount_rate' parameter of lifetime_value must be a float >= 0"),
    ({"discount_rate": "1%"}, TypeError, "'discount_rate' parameter"),
    ({"tail": "pareto"}, ValueError, "The 'tail' parameter of lifetime_value must be one of"),
    ({"timing": "middle"}, ValueError, "'timing' parameter"),
    ({"tail": "geometric"}, ValueError, "The 'retention' parameter .* with tail='geometric'"),
    ({"tail": "geometric", "retention": 1.2}, ValueError, "'retention' parameter"),
    ({"horizon": 0}, ValueError, "'horizon' parameter"),
    ({"period": -1}, ValueError, "'period' parameter"),
    ({"first_period": "yes"}, TypeError, "'first_period' parameter"),
    ({"n_boot": 5}, ValueError, "'n_boot' parameter"),
    ({"margin": {"a": 1.0}}, ValueError, "'margin' parameter .* no segments"),
    ({"margin": "charge"}, Exception, "no column 'charge'"),
])
def test_bad_parameters(half, kwargs, error, match):
    args = {"margin": 1.0, "discount_rate": 0.01, **kwargs}
    with pytest.raises(error, match=match):
        lifetime_value(half, **args, **FRAME)


def test_errors_that_need_the_records(half):
    km = KaplanMeier().fit(half, **FRAME)
    with pytest.raises(ValueError, match="a column name needs the customer records"):
        lifetime_value(km, margin="charge", discount_rate=0.01)
    with pytest.raises(ValueError, match="The 'n_boot' parameter .* redraws customers"):
        lifetime_value(km, margin=1.0, discount_rate=0.01, n_boot=50)
    with pytest.raises(ValueError, match="cannot regroup"):
        lifetime_value(km, margin=1.0, discount_rate=0.01, by="plan")
    with pytest.raises(ValueError, match="infinite"):
        lifetime_value(geometric_curve(1.0), margin=1.0, discount_rate=0.0, tail="geometric", retention=1.0)
    with pytest.raises(ValueError, match="every segment"):
        lifetime_value(records_from_counts(HALF, "a"), by="plan", margin={"b": 1.0}, discount_rate=0.01, **FRAME)


def test_bad_survival_tables():
    with pytest.raises(ValueError, match="increases over time"):
        lifetime_value(pd.DataFrame({"time": [0, 1, 2], "estimate": [1.0, 0.5, 0.7]}), margin=1, discount_rate=0.1)
    with pytest.raises(ValueError, match="Column 'estimate' has 1 row"):
        lifetime_value(pd.DataFrame({"time": [0, 1], "estimate": [1.0, 1.5]}), margin=1, discount_rate=0.1)


def test_docstring_examples_run():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the Maven example warns about confounded segments elsewhere
        result = doctest.testmod(lifetime_module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0


def test_kaplan_meier_warnings_point_at_the_callers_line():
    df = pd.DataFrame({"entry": [2.0, 2, 3, 4], "tenure": [3.0, 5, 6, 8], "churned": [True, False, True, False]})
    with pytest.warns(StatisticalWarning, match="conditional on survival to 2") as rec:
        lifetime_value(df, entry="entry", margin=1.0, discount_rate=0.01, tail="none", **FRAME)
    assert {w.filename for w in rec} == {__file__}


def test_a_dict_of_value_columns_reads_them_from_a_frame():
    df = pd.concat([records_from_counts(HALF, "a"), records_from_counts(HALF, "b")], ignore_index=True)
    df["charge"], df["fee"] = 10.0, 4.0
    got = lifetime_value(df, by="plan", margin={"a": "charge", "b": "fee"}, discount_rate=0.01, **FRAME)
    np.testing.assert_allclose(got["margin"], [10.0, 4.0])
