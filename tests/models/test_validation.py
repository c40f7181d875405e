"""Tests of churnsurv.models.validation: holdout metrics of survival predictions.

The reference numbers come from ``tests/reference/make_reference_validation.R`` (survival 3.5-3,
riskRegression 2022.11.28, prodlim): a Cox model fitted in R on a random 60 % of the Maven input, its linear
predictor and predicted survival at 3, 6, 12, 24 months on the other 40 % written to
``inputs/validation_predictions.csv``, and scored in R by

* ``survival::concordance(Surv([entry, ]time, event) ~ x, reverse = TRUE, timewt = "n" | "n/G2", ymax = tau,
  weights = weight)``  -> ``fixtures/validation_concordance.csv``
* ``riskRegression::Score(list(cox = 1 - S), Hist(time, event) ~ 1, times, metrics = c("auc", "brier"),
  summary = "ibs", null.model = TRUE, conservative = FALSE | TRUE, cens.model = "km")``
  -> ``fixtures/validation_score.csv``
* deciles of the predicted risk at 12 with ``survfit(..., conf.type = "log-log")`` per group, and
  ``lm(pseudo(survfit(...), times = 12) ~ risk)`` -> ``fixtures/validation_calibration_*.csv``; the same for the
  cause Competitor with the multi-state ``survfit`` -> ``fixtures/validation_calibration_cause_*.csv``.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from churnsurv import Tenures, TenureDataError
from churnsurv.models.validation import (
    brier_score,
    calibration,
    concordance,
    holdout_split,
    integrated_brier_score,
    plot_calibration,
    plot_projection_error,
    projection_error,
    time_dependent_auc,
)

REF = Path(__file__).resolve().parents[1] / "reference"
TIMES = [3, 6, 12, 24]
TOL = 1e-9


@pytest.fixture(scope="module")
def pred() -> pd.DataFrame:
    return pd.read_csv(REF / "inputs" / "validation_predictions.csv")


@pytest.fixture(scope="module")
def surv(pred) -> np.ndarray:
    return pred[[f"surv_{t}" for t in TIMES]].to_numpy()


@pytest.fixture(scope="module")
def score_ref() -> pd.DataFrame:
    ref = pd.read_csv(REF / "fixtures" / "validation_score.csv")
    return ref.assign(model=ref["model"].replace({"Null model": "Kaplan-Meier"}))


# ------------------------------------------------------------------------------------------------ against R
def _concordance_cases():
    ref = pd.read_csv(REF / "fixtures" / "validation_concordance.csv")
    return [pytest.param(row, id=row.case) for row in ref.itertuples(index=False)]


@pytest.mark.parametrize("row", _concordance_cases())
def test_concordance_matches_survival_concordance(pred, row):
    if row.truncated:
        outcome = (pred["entry"].to_numpy(), pred["time"].to_numpy(), pred["event"].to_numpy())
    else:
        outcome = (pred["time"].to_numpy(), pred["event"].to_numpy())
    weights = pred["weight"].to_numpy() if row.weighted else None
    tau = None if pd.isna(row.tau) else row.tau
    res = concordance(outcome, pred[row.score], method=row.method, tau=tau, weights=weights).iloc[0]
    assert res["estimate"] == pytest.approx(row.concordance, abs=TOL)
    assert res["std_error"] == pytest.approx(row.std_err, abs=TOL)
    for ours, theirs in [("concordant", "concordant"), ("discordant", "discordant"), ("tied_risk", "tied_x"),
                         ("tied_time", "tied_y"), ("tied_both", "tied_xy")]:
        assert res[ours] == pytest.approx(getattr(row, theirs), rel=1e-10)


@pytest.mark.parametrize("conservative", [True, False])
def test_brier_matches_riskregression_score(pred, surv, score_ref, conservative):
    res = brier_score(pred["time"], pred["event"], surv, TIMES, conservative=conservative, model="cox")
    ref = score_ref[(score_ref["metric"] == "brier") & (score_ref["conservative"] == conservative)]
    merged = res.merge(ref, on=["model", "time"], suffixes=("", "_r"), validate="one_to_one")
    assert len(merged) == 8 and list(res["model"].unique()) == ["Kaplan-Meier", "cox"]
    for col in ["estimate", "std_error", "ci_lower", "ci_upper"]:
        np.testing.assert_allclose(merged[col], merged[f"{col}_r"], rtol=0, atol=TOL)


def test_integrated_brier_matches_riskregression_ibs(pred, surv, score_ref):
    res = integrated_brier_score(pred["time"], pred["event"], surv, TIMES, model="cox")
    ref = score_ref[(score_ref["metric"] == "brier") & ~score_ref["conservative"]]
    merged = res.merge(ref, on=["model", "time"], validate="one_to_one")
    np.testing.assert_allclose(merged["ibs_x"], merged["ibs_y"], rtol=0, atol=1e-12)
    np.testing.assert_allclose(merged["brier"], merged["estimate"], rtol=0, atol=1e-12)


@pytest.mark.parametrize("model", ["cox", "lp", "lp_coarse"])
def test_auc_matches_riskregression_score(pred, surv, score_ref, model):
    score = 1 - surv if model == "cox" else pred[model]
    res = time_dependent_auc(pred["time"], pred["event"], score, TIMES)
    ref = score_ref[(score_ref["metric"] == "auc") & (score_ref["model"] == model) & score_ref["conservative"]]
    np.testing.assert_allclose(res["estimate"], ref["estimate"], rtol=0, atol=TOL)
    # our standard error is riskRegression's conservative one (censoring weights taken as known) ...
    np.testing.assert_allclose(res["std_error"], ref["std_error"], rtol=0, atol=TOL)
    if model == "cox":  # ... which is within 1e-6 of its default (conservative = FALSE)
        full = score_ref[(score_ref["metric"] == "auc") & (score_ref["model"] == "cox") & ~score_ref["conservative"]]
        np.testing.assert_allclose(res["std_error"], full["std_error"], rtol=0, atol=1e-6)


def test_calibration_matches_r(pred):
    res = calibration(pred["time"], pred["event"], 1 - pred["surv_12"], 12)
    ref = pd.read_csv(REF / "fixtures" / "validation_calibration_groups.csv")
    cols = ["group", "n", "n_events", "predicted", "observed", "std_error", "ci_lower", "ci_upper"]
    pd.testing.assert_frame_equal(res["groups"][cols], ref[cols], check_dtype=False, atol=TOL, rtol=0)
    slope = pd.read_csv(REF / "fixtures" / "validation_calibration_slope.csv")
    np.testing.assert_allclose(res["slope"][["estimate", "std_error"]], slope[["estimate", "std_error"]], atol=TOL)
    assert list(res["slope"]["term"]) == ["intercept", "slope"]


def test_calibration_of_a_cause_matches_r(pred):
    label = np.where(pred["event"] == 1, pred["cause"], None)
    share = np.mean(pred.loc[pred["event"] == 1, "cause"] == "Competitor")
    res = calibration(pred["time"], label, share * (1 - pred["surv_12"]), 12, cause="Competitor")
    ref = pd.read_csv(REF / "fixtures" / "validation_calibration_cause_groups.csv")
    cols = ["group", "n", "n_events", "predicted", "observed", "std_error", "ci_lower", "ci_upper"]
    pd.testing.assert_frame_equal(res["groups"][cols], ref[cols], check_dtype=False, atol=TOL, rtol=0)
    slope = pd.read_csv(REF / "fixtures" / "validation_calibration_cause_slope.csv")
    np.testing.assert_allclose(res["slope"][["estimate", "std_error"]], slope[["estimate", "std_error"]], atol=TOL)


def test_censoring_weights_match_prodlim_reverse_km(pred):
    from churnsurv.models.validation import _censoring_km, _step

    ref = pd.read_csv(REF / "fixtures" / "validation_censoring_weights.csv")
    time, event = pred["time"].to_numpy(float), pred["event"].to_numpy(bool)
    jumps, g = _censoring_km(time, event)
    np.testing.assert_allclose(_step(jumps, g, np.array(TIMES, float)),
                               ref.loc[0, [f"G_{t}" for t in TIMES]].to_numpy(float), atol=1e-12)
    # predictSurvIndividual(lag = 1) returns G(T_i-) in time order
    np.testing.assert_allclose(np.sort(_step(jumps, g, time, left=True)), np.sort(ref["G_subject_minus"]),
                               atol=1e-12)


# ------------------------------------------------------------------------------------------------ properties
@pytest.fixture(scope="module")
def small():
    rng = np.random.default_rng(7)
    n = 300
    x = rng.normal(size=n)
    t_event = rng.exponential(np.exp(-x)) * 10
    t_cens = rng.uniform(0, 25, n)
    time = np.ceil(np.minimum(t_event, t_cens))
    event = (t_event <= t_cens).astype(int)
    return time, event, x


def test_concordance_limits_and_symmetry(small):
    time, event, x = small
    perfect = concordance((np.arange(1, 6), np.ones(5)), [5, 4, 3, 2, 1])
    assert perfect["estimate"].item() == 1.0
    c = concordance((time, event), x)["estimate"].item()
    assert concordance((time, event), -x)["estimate"].item() == pytest.approx(1 - c, abs=1e-12)
    order = np.random.default_rng(0).permutation(len(time))
    for method in ("harrell", "uno"):
        a = concordance((time, event), x, method=method)
        b = concordance((time[order], event[order]), x[order], method=method)
        pd.testing.assert_frame_equal(a, b, atol=1e-12, rtol=1e-12)


def _pairwise_oracle(entry, time, event, weight, x, tau=None):
    """Harrell's C and its infinitesimal-jackknife SE by looping over every pair (survival's definitions)."""
    n = len(time)
    counts = np.zeros(5)
    infl = np.zeros((n, 3))
    for i in range(n):
        if not event[i] or (tau is not None and time[i] > tau):
            continue
        for j in range(n):
            if j == i:
                continue
            pw = weight[i] * weight[j]
            if time[j] == time[i] and event[j]:
                if j > i:
                    counts[4 if x[i] == x[j] else 3] += pw
                continue
            at_risk = (time[j] > time[i] or (time[j] == time[i] and not event[j])) and entry[j] < time[i]
            if at_risk:
                k = 0 if x[i] > x[j] else 1 if x[i] < x[j] else 2
                counts[k] += pw
                infl[i, k] += weight[j]
                infl[j, k] += weight[i]
    npair = counts[:3].sum()
    somer = (counts[0] - counts[1]) / npair
    dfbeta = weight * ((infl[:, 0] - infl[:, 1]) / npair - somer / npair * infl.sum(axis=1))
    return (somer + 1) / 2, np.sqrt(np.sum(dfbeta**2) / 4), counts


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_fast_concordance_equals_the_pairwise_definition(seed):
    rng = np.random.default_rng(seed)
    n = 80
    time = rng.integers(1, 12, n).astype(float)
    entry = np.where(rng.random(n) < 0.5, 0.0, np.floor(rng.random(n) * time))
    event = rng.random(n) < 0.6
    weight = rng.integers(1, 4, n).astype(float)
    x = rng.integers(0, 6, n).astype(float)  # many ties in the score
    for tau in (None, 7.0):
        res = concordance((entry, time, event.astype(int)), x, weights=weight, tau=tau).iloc[0]
        c, se, counts = _pairwise_oracle(entry, time, event, weight, x, tau)
        assert res["estimate"] == pytest.approx(c, abs=1e-12)
        assert res["std_error"] == pytest.approx(se, abs=1e-12)
        np.testing.assert_allclose(res[["concordant", "discordant", "tied_risk", "tied_time", "tied_both"]]
                                   .to_numpy(float), counts, atol=1e-9)


def test_concordance_reads_tenures(small):
    time, event, x = small
    frame = pd.DataFrame({"t": time, "e": event, "w": np.arange(len(time)) % 3 + 1.0})
    ten = Tenures.from_frame(frame, duration="t", event="e", weights="w")
    a = concordance(ten, x)
    b = concordance((time, event), x, weights=frame["w"])
    pd.testing.assert_frame_equal(a, b)


def test_auc_and_brier_without_censoring_are_the_plain_statistics(small):
    time, _, x = small
    event = np.ones_like(time)
    t = 5.0
    auc = time_dependent_auc(time, event, x, [t])["estimate"].item()
    cases, controls = x[time <= t], x[time > t]
    diff = cases[:, None] - controls[None, :]
    mann_whitney = np.mean((diff > 0) + 0.5 * (diff == 0))
    assert auc == pytest.approx(mann_whitney, abs=1e-12)
    s = 1 / (1 + np.exp(x))
    bs = brier_score(time, event, s[:, None], [t], null_model=False)["estimate"].item()
    assert bs == pytest.approx(np.mean(((time > t) - s) ** 2), abs=1e-12)


def test_perfect_survival_predictions_beat_the_null_model(small):
    time, event, _ = small
    truth = (time[:, None] > np.array(TIMES)[None, :]).astype(float)
    bs = brier_score(time, event, truth, TIMES, model="oracle")
    assert (bs.loc[bs["model"] == "oracle", "estimate"] == 0).all()
    assert (bs.loc[bs["model"] == "Kaplan-Meier", "estimate"] > 0).all()


def test_prediction_frame_columns_are_matched_by_time(pred, surv):
    frame = pd.DataFrame(surv[:, ::-1], columns=TIMES[::-1])
    a = brier_score(pred["time"], pred["event"], frame, TIMES)
    b = brier_score(pred["time"], pred["event"], surv, TIMES)
    pd.testing.assert_frame_equal(a, b)


# ------------------------------------------------------------------------------------------------ errors
def test_errors_name_the_problem(small):
    time, event, x = small
    with pytest.raises(TenureDataError, match=r"Column 'event' has 2 rows with values other than 0/1"):
        concordance((time, np.r_[event[:-2], 2, 3]), x)
    with pytest.raises(TenureDataError, match=r"Column 'time' has 1 row with negative times"):
        brier_score(np.r_[-1, time[1:]], event, np.full((len(time), 1), 0.5), [3])
    with pytest.raises(ValueError, match=r"'risk_score' has 3 values for 300"):
        concordance((time, event), x[:3])
    with pytest.raises(ValueError, match=r"The 'method' parameter of concordance must be one of"):
        concordance((time, event), x, method="somers")
    with pytest.raises(TenureDataError, match=r"probabilities outside \[0, 1\]"):
        brier_score(time, event, np.full((len(time), 2), 1.5), [3, 6])
    with pytest.raises(ValueError, match=r"one column per time \(2\)"):
        brier_score(time, event, np.full((len(time), 3), 0.5), [3, 6])
    with pytest.raises(ValueError, match=r"'times' parameter of time_dependent_auc must be strictly increasing"):
        time_dependent_auc(time, event, x, [6, 3])
    with pytest.raises(ValueError, match=r"left-truncated"):
        concordance((np.ones_like(time), time + 1, event), x, method="uno")
    with pytest.raises(TenureDataError, match=r"Column 'predicted_risk' has 1 row"):
        calibration(time, event, np.r_[2.0, np.full(len(time) - 1, 0.2)], 12)
    with pytest.raises(ValueError, match="cause 'Price' never occurs"):
        calibration(time, np.where(event == 1, "Competitor", None), np.full(len(time), 0.1), 12, cause="Price")


def test_inputs_are_not_mutated(pred, surv):
    before = pred.copy()
    s = surv.copy()
    brier_score(pred["time"], pred["event"], s, TIMES)
    calibration(pred["time"], pred["event"], 1 - pred["surv_12"], 12)
    pd.testing.assert_frame_equal(pred, before)
    np.testing.assert_array_equal(s, surv)


# ------------------------------------------------------------------------------------------------ projections
def test_projection_error_mape():
    actual = pd.Series([100.0, 80.0, 50.0], index=[1, 2, 3])
    res = projection_error(actual, {"good": [100, 84, 50], "bad": [110, 88, 40]})
    assert list(res["model"]) == ["good", "bad"]
    assert res.loc[0, "mape"] == pytest.approx(100 * (4 / 80) / 3)
    assert res.loc[1, "mape"] == pytest.approx(100 * (0.1 + 0.1 + 0.2) / 3)
    assert res.loc[1, "bias"] == pytest.approx(100 * (0.1 + 0.1 - 0.2) / 3)
    detail = projection_error(actual, {"good": [100, 84, 50]}, detail=True)
    assert list(detail["period"]) == [1, 2, 3] and list(detail["error"]) == [0, 4, 0]
    with pytest.raises(TenureDataError, match=r"'actual_survivors' has 1 row with zero"):
        projection_error([100, 0, 3], {"m": [1, 2, 3]})
    with pytest.raises(ValueError, match=r"projection of 'm' has 2 values for 3 periods"):
        projection_error([100, 50, 3], {"m": [1, 2]})


# ------------------------------------------------------------------------------------------------ holdout split
def _toy():
    # sign-up (calendar), entry, exit (tenure), event
    frame = pd.DataFrame({
        "id": ["a", "b", "c", "d", "e"],
        "start": [0.0, 2.0, 5.0, 8.0, 11.0],
        "entry": [0.0, 0.0, 1.0, 0.0, 0.0],
        "exit": [4.0, 12.0, 9.0, 2.0, 3.0],
        "event": [1, 1, 0, 1, 0],
    })
    return Tenures.from_frame(frame, duration="exit", entry="entry", event="event", id="id", values="start")


def test_holdout_split_calendar_rule():
    train, evaluation = holdout_split(_toy(), by="calendar", cutoff=10.0, start="start")
    tr = train.data.set_index("id")
    # a: exits at calendar 4 (event kept); b: exits at 14 > 10 -> censored at tenure 8; c: observed (6, 14] ->
    # censored at 5; d: exits at 10 = cutoff -> event kept; e: signs up at 11, after the cut -> not in training
    assert list(tr.index) == ["a", "b", "c", "d"]
    assert list(tr["exit"]) == [4.0, 8.0, 5.0, 2.0]
    assert list(tr["event"]) == [True, False, False, True]
    ev = evaluation.data.set_index("id")
    # still observed after the cut: b (truncated at tenure 8), c (at 5), e (own entry 0)
    assert list(ev.index) == ["b", "c", "e"]
    assert list(ev["entry"]) == [8.0, 5.0, 0.0]
    assert list(ev["exit"]) == [12.0, 9.0, 3.0]
    assert list(ev["event"]) == [True, False, False]


def test_holdout_split_cohort_rule():
    train, evaluation = holdout_split(_toy(), by="cohort", cutoff=5.0, start="start")
    assert list(train.data["id"]) == ["a", "b"]
    assert list(train.data["exit"]) == [4.0, 3.0] and list(train.data["event"]) == [True, False]
    assert list(evaluation.data["id"]) == ["c", "d", "e"]
    assert list(evaluation.data["exit"]) == [9.0, 2.0, 3.0]
    with pytest.raises(ValueError, match="training table is empty"):
        holdout_split(_toy(), by="cohort", cutoff=-1.0, start="start")
    with pytest.raises(TenureDataError, match="no column 'signup'"):
        holdout_split(_toy(), cutoff=5.0, start="signup")


# ------------------------------------------------------------------------------------------------ plots, imports
def test_plots_return_the_axes(pred):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    res = calibration(pred["time"], pred["event"], 1 - pred["surv_12"], 12)
    fig, ax = plt.subplots()
    assert plot_calibration(res, ax=ax) is ax
    assert ax.get_xlabel() == "Predicted risk" and "slope" in ax.get_title()
    ax2 = plot_projection_error([100, 80, 60], {"a": [100, 82, 61], "b": [100, 70, 50]}, cutoff=1.5)
    labels = [t.get_text() for t in ax2.get_legend().get_texts()]
    assert labels[0] == "actual" and labels[1].startswith("a (MAPE")
    plt.close("all")


def test_module_import_is_light():
    code = ("import sys, churnsurv.models.validation; "
            "print(sorted(m for m in ('scipy', 'matplotlib', 'lifelines') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parents[2])
    assert out.stdout.strip() == "[]"
