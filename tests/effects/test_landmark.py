"""Actions given during tenure: :func:`churnsurv.effects.landmark_effect` and :class:`ImmortalTimeError`.

R numbers come from ``tests/reference/make_reference_effects_rct.R`` (survival 3.5-3; input
``inputs/effects_rct_offer.csv``): the landmark trials (landmarks 1-8, grace 1, horizon 12) are stacked in R by
its own code and fitted with ``survfit(Surv(time, event) ~ arm, cluster = id, influence = TRUE)``; survival at the
horizon and the RMST per arm, and the contrasts, get cluster-robust standard errors from the influence matrices.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from churnsurv import KaplanMeier, TenureDataError
from churnsurv.datasets import load_maven_telco
from churnsurv.effects import ImmortalTimeError, landmark_effect
from churnsurv.effects._simulate import offer_truth, simulate_offer
from churnsurv.effects.landmark import _km_influence

REF = Path(__file__).resolve().parents[1] / "reference"
SIM = dict(action_time="offer_time", duration="tenure", event="churned")


@pytest.fixture(scope="module")
def offer_frame():
    return pd.read_csv(REF / "inputs" / "effects_rct_offer.csv")


@pytest.mark.parametrize("strategy", ["itt", "per_protocol"])
def test_pooled_landmarks_match_r_cluster_robust(offer_frame, strategy):
    r = pd.read_csv(REF / "fixtures" / "effects_rct_landmark.csv")
    r = r[r["strategy"] == strategy].set_index(["quantity", "measure"])
    res = landmark_effect(offer_frame, action_time="offer_time", landmarks=range(1, 9), horizon=12, grace=1,
                          duration="time", event="status", strategy=strategy)
    assert len(res.stacked) == r["n_rows"].iloc[0]
    for quantity, tab in (("survival", res.survival), ("rmst", res.rmst)):
        for measure in ("control", "treated", "difference", "ratio"):
            if measure in ("control", "treated"):
                row = tab[(tab["arm"] == measure) & (tab["measure"] == quantity)].iloc[0]
            else:
                row = tab[tab["measure"] == measure].iloc[0]
            ref = r.loc[(quantity, measure)]
            np.testing.assert_allclose([row["estimate"], row["std_error"]], [ref["estimate"], ref["std_error"]],
                                       rtol=1e-9, err_msg=f"{quantity} {measure}")


def test_influence_functions_agree_with_kaplan_meier():
    rng = np.random.default_rng(5)
    x = np.round(rng.exponential(10, 400), 1)
    d = rng.random(400) < 0.7
    surv, rmst, psi_s, psi_r = _km_influence(x, d, [3.0, 8.0], 8.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        km = KaplanMeier(min_at_risk=None).fit(pd.DataFrame({"x": x, "d": d}), duration="x", event="d")
    np.testing.assert_allclose(surv, km.predict([3.0, 8.0])["estimate"], rtol=1e-12)
    r = km.rmst(8.0).iloc[0]
    assert rmst == pytest.approx(r["estimate"], rel=1e-12)
    # without clusters, the infinitesimal-jackknife variance is close to Greenwood's
    np.testing.assert_allclose(np.sqrt((psi_s ** 2).sum(axis=0)), km.predict([3.0, 8.0])["std_error"], rtol=0.02)
    assert np.sqrt((psi_r ** 2).sum()) == pytest.approx(r["std_error"], rel=0.02)
    # the influence functions sum to zero (they are centred)
    assert abs(psi_s.sum(axis=0)).max() < 1e-10 and abs(psi_r.sum()) < 1e-9


def test_landmark_recovers_the_effect_that_the_naive_comparison_overstates():
    df = simulate_offer(20000, random_state=7)
    truth = offer_truth(12)
    res = landmark_effect(df, landmarks=range(1, 13), horizon=12, strategy="per_protocol", **SIM)
    d = res.survival[res.survival["measure"] == "difference"].iloc[0]
    assert abs(d["estimate"] - truth["survival_difference"]) < 3 * d["std_error"]
    assert d["ci_lower"] < truth["survival_difference"] < d["ci_upper"]
    rd = res.rmst[res.rmst["measure"] == "difference"].iloc[0]
    assert abs(rd["estimate"] - truth["rmst_difference"]) < 3 * rd["std_error"]
    naive = res.naive[res.naive["quantity"] == "survival"].iloc[0]
    assert naive["estimate"] > 2.5 * truth["survival_difference"]  # immortal time: about 3 times the truth
    assert naive["ci_lower"] > d["ci_upper"]
    # each trial on its own is noisier but centred on the same effect
    one = res.by_landmark[res.by_landmark["quantity"] == "survival"]
    assert len(one) == 12 and abs(one["estimate"].mean() - truth["survival_difference"]) < 0.03


def test_intention_to_treat_is_attenuated_but_not_biased_by_immortal_time():
    df = simulate_offer(20000, random_state=8)
    truth = offer_truth(12)
    itt = landmark_effect(df, landmarks=range(1, 13), horizon=12, strategy="itt", **SIM)
    d = itt.survival[itt.survival["measure"] == "difference"].iloc[0]["estimate"]
    assert 0 < d < truth["survival_difference"] + 0.02  # controls later offered pull towards the null


def test_coverage_of_cluster_robust_intervals_over_200_replications():
    """Coverage of the pooled (stacked, cluster-robust) 95% intervals: reported figures 0.95 / 0.95 ± 0.015."""
    truth = offer_truth(12)
    hits_s = hits_r = 0
    reps = 200
    for seed in range(reps):
        df = simulate_offer(1000, random_state=1000 + seed)
        res = landmark_effect(df, landmarks=range(1, 13), horizon=12, strategy="per_protocol", **SIM)
        s = res.survival[res.survival["measure"] == "difference"].iloc[0]
        r = res.rmst[res.rmst["measure"] == "difference"].iloc[0]
        hits_s += s["ci_lower"] <= truth["survival_difference"] <= s["ci_upper"]
        hits_r += r["ci_lower"] <= truth["rmst_difference"] <= r["ci_upper"]
    cov_s, cov_r = hits_s / reps, hits_r / reps
    print(f"coverage: survival difference {cov_s:.3f}, rmst difference {cov_r:.3f}")
    assert 0.91 <= cov_s <= 0.98 and 0.91 <= cov_r <= 0.98, (cov_s, cov_r)


def test_tables_and_plot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    df = simulate_offer(2000, random_state=2)
    before = df.copy()
    res = landmark_effect(df, landmarks=[3, 6, 9], horizon=12, times=[6, 12], tau=12, **SIM)
    pd.testing.assert_frame_equal(df, before)
    assert list(res.trials.columns) == ["landmark", "n_eligible", "n_treated", "n_control", "events_treated",
                                        "events_control"]
    assert (res.trials["n_treated"] + res.trials["n_control"] == res.trials["n_eligible"]).all()
    assert res.survival["time"].tolist().count(12.0) == 4
    assert set(res.curves["arm"]) == {"treated", "control"}
    # grace defaults to the gap between landmarks: offers at 3, 4, 5 are treated at landmark 3
    lm3 = res.stacked[(res.stacked["landmark"] == 3) & (res.stacked["arm"] == "treated")]
    offered = df.set_index("id").loc[lm3["id"], "offer_time"]
    assert offered.between(3, 5).all() and offered.max() == 5
    fig, ax = plt.subplots()
    assert res.plot(ax=ax, ci=True) is ax
    plt.close("all")


def test_maven_offer_is_refused_with_immortal_time_error():
    maven = load_maven_telco(truncate=False)
    with pytest.raises(ImmortalTimeError, match="immortal time") as err:
        landmark_effect(maven, action_time="Offer", landmarks=[6], horizon=12)
    msg = str(err.value)
    assert "'Offer'" in msg and "Offer A: 66-72" in msg and "landmark_effect" in msg
    assert isinstance(err.value, TenureDataError) and err.value.n_rows > 0


def test_label_column_that_is_not_tenure_banded_is_a_type_error():
    df = simulate_offer(500, random_state=3)
    df["label"] = np.where(np.arange(500) % 2 == 0, "a", "b")
    with pytest.raises(TypeError, match="holds labels, not times"):
        landmark_effect(df, action_time="label", landmarks=[3], horizon=6, duration="tenure", event="churned")


def test_bad_action_times_name_the_rows():
    df = simulate_offer(300, random_state=4)
    df.loc[5, "offer_time"] = df.loc[5, "tenure"] + 1
    with pytest.raises(TenureDataError, match="'offer_time' has 1 row with an action after the customer's exit"):
        landmark_effect(df, landmarks=[3], horizon=6, **SIM)
    df.loc[5, "offer_time"] = -1
    with pytest.raises(TenureDataError, match="negative action times"):
        landmark_effect(df, landmarks=[3], horizon=6, **SIM)


def test_bad_parameters():
    df = simulate_offer(300, random_state=4)
    with pytest.raises(ValueError, match="'strategy' parameter"):
        landmark_effect(df, landmarks=[3], horizon=6, strategy="as_treated", **SIM)
    with pytest.raises(ValueError, match="'horizon' parameter"):
        landmark_effect(df, landmarks=[3], horizon=-1, **SIM)
    with pytest.raises(ValueError, match="'tau' parameter"):
        landmark_effect(df, landmarks=[3], horizon=6, tau=12, **SIM)
    with pytest.raises(ValueError, match="no landmark has both treated and control"):
        landmark_effect(df, landmarks=[40], horizon=6, **SIM)
