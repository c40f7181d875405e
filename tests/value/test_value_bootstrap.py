"""The customer bootstrap of the value layer and the recovery of known values from simulated customers.

Simulated customers: whole-month tenures with a known constant monthly defection probability ``h`` per segment
(geometric, ``S(k) = (1 - h)^k``) and administrative censoring uniform over 1..36 months, so the true lifetime
value is the closed form ``m (1 + d) / (d + h)`` (payment at the start of each month, first month counted).
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest

from churnsurv import KaplanMeier
from churnsurv.datasets import load_maven_telco
from churnsurv.value import lifetime_value
from churnsurv.value._sources import _bootstrap_draws, _read_source, _segment_arrays, _weighted_km

FRAME = dict(duration="tenure", event="churned")
HAZARDS = {"low": 0.04, "high": 0.10}
M, D = 10.0, 0.01


def simulate(seed: int, n: int = 2000) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frames = []
    for plan, h in HAZARDS.items():
        tenure = rng.geometric(h, n).astype(float)
        censor = rng.integers(1, 37, n).astype(float)
        frames.append(pd.DataFrame({"tenure": np.minimum(tenure, censor), "churned": tenure <= censor,
                                    "plan": plan}))
    return pd.concat(frames, ignore_index=True)


def truth(h: float) -> float:
    return M * (1 + D) / (D + h)


@pytest.mark.filterwarnings("ignore::churnsurv.TenureConfoundingWarning")
@pytest.mark.filterwarnings("ignore:KaplanMeier. the risk set empties")
def test_weighted_counts_with_unit_weights_are_the_kaplan_meier_curve():
    # left-truncated snapshot records: the replicate kernel must count the risk set as the life table does
    t = load_maven_telco(truncate=True)
    km = KaplanMeier(min_at_risk=None).fit(t, by="Contract")
    src = _read_source(t, "Contract", "test", {})
    for seg, (label, curve) in enumerate(zip(src.labels(), src.curves, strict=True)):
        rows = np.flatnonzero(src.seg_code == seg)
        grid, e_idx, x_idx, d_idx, event, w0 = _segment_arrays(t, rows)
        surv, n_at_risk, n_events, last = _weighted_km(grid, e_idx, x_idx, d_idx, event, w0[None, :])
        ref = km.survival_[km.survival_["Contract"] == label[0]]
        assert np.array_equal(grid, ref["time"].to_numpy())
        np.testing.assert_allclose(surv[0], ref["estimate"], rtol=1e-12, atol=1e-15)
        np.testing.assert_array_equal(n_at_risk[0], ref["n_at_risk"])
        np.testing.assert_array_equal(n_events[0], ref["n_events"])
        assert grid[last[0]] == curve.tau


def test_replicates_redraw_within_each_segment():
    df = simulate(0, n=300)
    df = df[~((df["plan"] == "high") & (np.arange(len(df)) % 3 == 0))]  # unequal segments
    src = _read_source(df, "plan", "test", dict(FRAME))
    sizes = np.bincount(src.seg_code)
    seen = []
    for seg, rows, w, curves in _bootstrap_draws(src, 25, np.random.default_rng(0), False, "test"):
        assert np.all(w.sum(axis=1) == sizes[seg])  # stratified: every replicate keeps the segment's size
        assert np.all(src.seg_code[rows] == seg)
        assert len(curves) == len(w)
        seen.append(seg)
    assert sorted(set(seen)) == [0, 1]


def test_bootstrap_is_reproducible_and_seed_dependent():
    df = simulate(1, n=400)
    kw = dict(by="plan", margin=M, discount_rate=D, n_boot=50, **FRAME)
    a = lifetime_value(df, random_state=7, **kw)
    b = lifetime_value(df, random_state=np.random.default_rng(7), **kw)
    c = lifetime_value(df, random_state=8, **kw)
    pd.testing.assert_frame_equal(a, b, check_like=True)
    assert not np.allclose(a["std_error"], c["std_error"])
    assert a.attrs["n_boot"] == 50 and a.attrs["conf_level"] == 0.95


def test_simulated_values_within_sampling_error_of_the_truth():
    df = simulate(20240607)
    got = lifetime_value(df, by="plan", margin=M, discount_rate=D, n_boot=200, random_state=11, **FRAME)
    for _, row in got.iterrows():
        true = truth(HAZARDS[row["plan"]])
        z = (row["estimate"] - true) / row["std_error"]
        assert abs(z) < 4, (row["plan"], row["estimate"], true, row["std_error"])
        assert row["ci_lower"] < row["estimate"] < row["ci_upper"]


def _coverage(n_sim: int, n_boot: int, n: int) -> tuple[dict, float]:
    start = time.perf_counter()
    hits = {plan: 0 for plan in HAZARDS}
    for sim in range(n_sim):
        got = lifetime_value(simulate(1000 + sim, n=n), by="plan", margin=M, discount_rate=D, n_boot=n_boot,
                             random_state=sim, **FRAME)
        for _, row in got.iterrows():
            hits[row["plan"]] += row["ci_lower"] <= truth(HAZARDS[row["plan"]]) <= row["ci_upper"]
    return {k: v / n_sim for k, v in hits.items()}, time.perf_counter() - start


@pytest.mark.slow
def test_bootstrap_interval_coverage():
    # 200 simulated data sets x 200 replicates; binomial SE of a 95% coverage over 200 sets: 1.5 points
    cover, seconds = _coverage(200, 200, 1000)
    for plan, c in cover.items():
        assert 0.90 <= c <= 0.99, (plan, c, seconds)
