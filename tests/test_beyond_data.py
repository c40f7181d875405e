"""Beyond the data (issue 16 item 5): past the last observed exit of a segment, no estimator returns a silent
number. Each returns NaN there, or a value flagged ``extrapolated=True``, or warns (StatisticalWarning); the rule
is written down once, in the module docstring of churnsurv/nonparametric/survival.py.

The data: two segments, ``a`` followed up to tenure 24 and ``b`` to 48; every estimator is asked about tenure
10 (inside both), 30 (past a's follow-up) and 60 (past both).
"""

import warnings

import numpy as np
import pandas as pd
import pytest

import churnsurv as cs
from churnsurv.exceptions import StatisticalWarning
from churnsurv.models.absolute_risk import cause_specific_risk
from churnsurv.models.coxph import CoxPH
from churnsurv.nonparametric import DiscreteHazard, SmoothedHazard

TIMES = [10.0, 30.0, 60.0]
LAST = {"a": 24.0, "b": 48.0}


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    n = 600
    seg = np.where(rng.random(n) < 0.5, "a", "b")
    t = np.ceil(rng.exponential(20, n))
    c = np.array([LAST[s] for s in seg])
    event = t <= c
    return pd.DataFrame({"tenure": np.minimum(t, c), "churned": event.astype(int), "seg": seg,
                         "cause": np.where(event, np.where(rng.random(n) < 0.5, "p", "q"), None),
                         "x": rng.normal(size=n)})


def _last_exit(row, global_last=48.0):
    return LAST[row["seg"]] if "seg" in row and row["seg"] in LAST else global_last


# Each case: (name, how the rule is met, function of the data returning the prediction table at TIMES).
# "nan": NaN estimate past the segment's last exit; "flag": extrapolated=True there; "warn": a StatisticalWarning
# names the horizon.
CASES = {
    "KaplanMeier.predict": ("nan", lambda d: cs.KaplanMeier().fit(d, duration="tenure", event="churned",
                                                                   by="seg").predict(TIMES)),
    "NelsonAalen.predict": ("nan", lambda d: cs.NelsonAalen().fit(d, duration="tenure", event="churned",
                                                                   by="seg").predict(TIMES)),
    "AalenJohansen.predict": ("nan", lambda d: cs.AalenJohansen().fit(d, duration="tenure", cause="cause",
                                                                       by="seg").predict(TIMES)),
    "SmoothedHazard.predict": ("nan", lambda d: SmoothedHazard(bandwidth=5.0).fit(
        d, duration="tenure", event="churned", by="seg").predict(TIMES)),
    "cause_specific_risk": ("nan", lambda d: cause_specific_risk(
        cs.CauseSpecificCox().fit(d, covariates=["x"], duration="tenure", cause="cause"),
        pd.DataFrame({"x": [0.0]}), TIMES, method="none")),
    "CoxPH.predict_survival": ("flag", lambda d: CoxPH().fit(d, formula="x", strata="seg", duration="tenure",
                                                              event="churned").predict_survival(
        pd.DataFrame({"x": [0.0, 0.0], "seg": ["a", "b"]}), times=TIMES)),
    "ParametricSurvival.predict_survival": ("flag", lambda d: cs.ParametricSurvival().fit(
        d, formula="x", duration="tenure", event="churned").predict_survival(pd.DataFrame({"x": [0.0]}),
                                                                              times=TIMES)),
    "DiscreteTimeHazard.predict_survival": ("flag", lambda d: cs.DiscreteTimeHazard(baseline="spline").fit(
        d, formula="x", duration="tenure", event="churned").predict_survival(pd.DataFrame({"x": [0.0]}),
                                                                              times=TIMES)),
    "KaplanMeier.rmst": ("warn", lambda d: cs.KaplanMeier().fit(d, duration="tenure", event="churned",
                                                                 by="seg").rmst(60)),
    "KaplanMeier.compare_rmst": ("warn", lambda d: cs.KaplanMeier().fit(d, duration="tenure", event="churned",
                                                                         by="seg").compare_rmst(60)),
    "FineGray.predict_cumulative_incidence": ("warn", lambda d: cs.FineGray(cause="p").fit(
        d, covariates=["x"], duration="tenure", cause="cause").predict_cumulative_incidence(
        pd.DataFrame({"x": [0.0]}), times=TIMES)),
}


def _run(case, data):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = CASES[case][1](data)
    beyond_warnings = [w for w in caught if issubclass(w.category, StatisticalWarning)
                       and ("pass" in str(w.message) and ("last" in str(w.message)))]
    return out, beyond_warnings


@pytest.mark.parametrize("case", list(CASES))
def test_never_a_silent_number_past_the_data(case, data):
    mode = CASES[case][0]
    out, warned = _run(case, data)
    if mode == "warn":
        assert warned, f"{case} computed past the last exit without a StatisticalWarning"
        return
    assert not warned
    rows = out[out["time"].isin(TIMES)] if "time" in out.columns else out
    last = np.array([_last_exit(r) for _, r in rows.iterrows()])
    past = rows["time"].to_numpy() > last
    inside = ~past
    assert past.any() and inside.any()
    if mode == "nan":
        assert rows.loc[past, "estimate"].isna().all()
        assert rows.loc[inside, "estimate"].notna().all()
    else:  # a value, flagged
        assert rows.loc[past, "extrapolated"].all() and not rows.loc[inside, "extrapolated"].any()
        assert rows["estimate"].notna().all()


def test_within_the_data_nothing_warns(data):
    """Asking only about tenures inside every segment's follow-up raises none of these warnings."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", StatisticalWarning)
        cs.KaplanMeier().fit(data, duration="tenure", event="churned", by="seg").rmst(20)
        cs.FineGray(cause="p").fit(data, covariates=["x"], duration="tenure", cause="cause") \
            .predict_cumulative_incidence(pd.DataFrame({"x": [0.0]}), times=[10, 40])


def test_quantiles_do_not_extrapolate(data):
    q = cs.KaplanMeier().fit(data, duration="tenure", event="churned", by="seg").quantile([0.5, 0.99])
    assert q.loc[q["prob"] == 0.99, "estimate"].isna().all()
    half = q[q["prob"] == 0.5]
    assert (half["estimate"].to_numpy() <= half["seg"].astype(str).map(LAST).to_numpy()).all()


def test_discrete_hazard_stays_within_the_data(data):
    h = DiscreteHazard().fit(data, duration="tenure", event="churned", by="seg").hazard_
    assert (h.groupby("seg", observed=True)["time"].max() <= pd.Series(LAST)).all()
