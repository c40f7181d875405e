"""The partial-defection simulator and the coverage of StateOccupation's 95% bands against the exact truth."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from churnsurv.data.simulate.states import simulate_states, simulate_transactions, true_occupation
from churnsurv.states.multistate import StateOccupation
from churnsurv.states.transactions import assign_states

GRID = np.arange(2.0, 26.0, 2.0)


def _coverage(n, reps, late_entry, seed0):
    hits = []
    for r in range(reps):
        sim = simulate_states(n, late_entry=late_entry, random_state=seed0 + r)
        pred = StateOccupation().fit(sim.spells).predict(GRID)
        m = pred.merge(sim.truth(GRID), on=["time", "state"], suffixes=("", "_true"))
        hits.append(((m["ci_lower"] <= m["estimate_true"]) & (m["estimate_true"] <= m["ci_upper"])).to_numpy())
    return np.concatenate(hits).mean()


def test_truth_is_a_distribution_and_matches_paths():
    tr = true_occupation(GRID)
    np.testing.assert_allclose(tr.groupby("time")["estimate"].sum(), 1.0, atol=1e-12)
    sim = simulate_states(4000, random_state=11)
    lost_at = sim.paths[sim.paths["to_state"] == "lost"].groupby("id")["exit"].min()
    share = (lost_at <= 12).sum() / 4000
    truth = tr[(tr["time"] == 12) & (tr["state"] == "lost")]["estimate"].iloc[0]
    assert abs(share - truth) < 3 * np.sqrt(truth * (1 - truth) / 4000)


def test_bands_cover_the_truth_about_95_percent():
    # 12 replicates x 12 times x 3 states, with late entry (left truncation) and censoring
    cov = _coverage(400, 12, 0.3, 100)
    assert 0.90 <= cov <= 0.99


@pytest.mark.slow
def test_bands_cover_the_truth_large_sample():
    cov = _coverage(2000, 6, 0.3, 500)
    assert 0.92 <= cov <= 0.98


def test_deterministic_and_truncated():
    a = simulate_states(200, late_entry=0.5, random_state=3).spells
    b = simulate_states(200, late_entry=0.5, random_state=3).spells
    pd.testing.assert_frame_equal(a, b)
    first = a.groupby("id")["entry"].min()
    assert (first > 0).mean() > 0.3


def test_transactions_round_trip_to_states():
    sim = simulate_states(400, random_state=4)
    log = simulate_transactions(sim, months=24, random_state=5)
    assert list(log.columns) == ["id", "date", "amount"]
    res = assign_states(log, gap=4)
    tr = set(zip(res.spells["from_state"], res.spells["to_state"], strict=True))
    assert ("active", "partial") in tr and ("partial", "active") in tr and ("partial", "lost") in tr
    # customers the simulator lost early are mostly classified lost
    lost_sim = sim.paths[(sim.paths["to_state"] == "lost") & (sim.paths["exit"] < 10)]["id"].unique()
    lost_rule = res.spells[res.spells["to_state"] == "lost"]["id"].unique()
    assert np.isin(lost_sim, lost_rule).mean() > 0.8
