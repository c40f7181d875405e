"""Transaction logs to states, contract histories, CDNOW loader, value and plots."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from churnsurv.data.cdnow import cdnow_path, load_cdnow
from churnsurv.exceptions import TenureDataError
from churnsurv.states.multistate import StateOccupation
from churnsurv.states.transactions import (
    assign_states,
    defection_sensitivity,
    spend_per_period,
    state_counts,
    states_from_contracts,
)
from churnsurv.states.value import recovery_value, state_revenue, transition_matrix


def _log():
    # customer 1: steady; 2: drops to low spend for 2 months then recovers; 3: buys once then stops
    rows = [(1, f"2024-{m:02d}-05", 30.0) for m in range(1, 13)]
    rows += [(2, f"2024-{m:02d}-10", 40.0) for m in (1, 2, 3)] + [(2, "2024-04-10", 5.0), (2, "2024-05-10", 5.0)]
    rows += [(2, f"2024-{m:02d}-10", 40.0) for m in range(6, 13)]
    rows += [(3, "2024-01-20", 20.0)]
    return pd.DataFrame(rows, columns=["id", "date", "amount"])


def test_spend_per_period_fills_zeros():
    p = spend_per_period(_log())
    assert p.groupby("id")["age"].max().tolist() == [11, 11, 11]
    assert p[(p.id == 3) & (p.age > 0)]["spend"].eq(0).all()
    assert p["spend"].sum() == pytest.approx(_log()["amount"].sum())


def test_rule_partial_recovery_and_loss():
    log = _log()
    before = log.copy()
    res = assign_states(log, baseline_periods=3, fraction=0.5, k=2, gap=6)
    pd.testing.assert_frame_equal(log, before)
    sp = res.spells
    assert sp[sp.id == 1]["from_state"].tolist() == ["active"]
    # customer 2: low in ages 3, 4 -> partial from time 5, back to active at time 6 (age 5 at baseline)
    s2 = sp[sp.id == 2]
    assert list(zip(s2.from_state, s2.to_state, s2.exit, strict=True)) == [("active", "partial", 5.0),
                                                                            ("partial", "active", 6.0),
                                                                            ("active", "", 12.0)]
    # customer 3: zero in ages 1..6 -> lost at time 7, partial from time 5 (ages 3, 4 low)
    s3 = sp[sp.id == 3]
    assert list(zip(s3.from_state, s3.to_state, s3.exit, strict=True)) == [("active", "partial", 5.0),
                                                                            ("partial", "lost", 7.0)]
    c = state_counts(res).iloc[0]
    assert (c.n_ever_partial, c.n_recovered, c.n_lost) == (2, 1, 1)


def test_explicit_end_and_sensitivity():
    log = _log().assign(closed=pd.NaT)
    log.loc[log.id == 1, "closed"] = pd.Timestamp("2024-04-15")
    sp = assign_states(log, end_date="closed").spells
    assert sp[sp.id == 1]["to_state"].tolist() == ["lost"] and sp[sp.id == 1]["exit"].iloc[0] == 4.0
    sens = defection_sensitivity(_log(), gaps=(2, 6, 12))
    assert sens["n_lost"].tolist() == [1, 1, 0]  # only customer 3 stops; 11 empty months < a gap of 12


def test_rule_errors():
    with pytest.raises(ValueError, match="'gap' parameter of assign_states"):
        assign_states(_log(), gap=0)
    bad = _log()
    bad.loc[2, "amount"] = -1
    with pytest.raises(TenureDataError, match="'amount' has 1 row"):
        assign_states(bad)


def test_contract_histories():
    f = pd.DataFrame({"id": [1, 1, 2, 3, 3], "start": [0, 6, 0, 2, 14], "stop": [6, 20, 9, 14, 30],
                      "contract": ["monthly", "annual", "monthly", "monthly", "monthly"],
                      "churned": [0, 1, 1, 0, 0]})
    sp = states_from_contracts(f)
    assert sp["to_state"].tolist() == ["annual", "churned", "churned", "", ""]
    fit = StateOccupation().fit(sp, states=["monthly", "annual", "churned"])
    assert set(fit.states_) == {"monthly", "annual", "churned"}
    np.testing.assert_allclose(fit.occupation_.groupby("time")["estimate"].sum(), 1.0)


def test_value_and_transition_matrix():
    from churnsurv.data.simulate.states import simulate_states

    sp = simulate_states(300, random_state=0).spells
    fit = StateOccupation().fit(sp)
    rev = state_revenue(fit, {"active": 40.0, "partial": 10.0}, horizon=12)
    tot = rev[rev.state == "total"].iloc[0]
    assert tot.expected_periods == pytest.approx(12.0)
    assert rev[rev.state == "active"]["expected_revenue"].iloc[0] < 40 * 12
    P = transition_matrix(fit, 2.0, 8.0)
    np.testing.assert_allclose(P.sum(axis=1), 1.0)
    assert P.loc["lost", "lost"] == 1.0
    rv = recovery_value(sp, {"active": 40.0, "partial": 10.0}, horizon=12, n_boot=20, random_state=1)
    val = rv.set_index("quantity")["estimate"]
    assert val["recovery_value"] > 0
    assert (rv["ci_lower"] <= rv["estimate"]).all() and (rv["estimate"] <= rv["ci_upper"]).all()


def test_plots():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from churnsurv.plotting.states import plot_state_flow, plot_state_occupation, plot_transition_hazards

    res = assign_states(_log())
    fit = StateOccupation().fit(res.spells)
    fig, axes = plt.subplots(1, 3)
    assert plot_state_occupation(fit, ax=axes[0]) is axes[0]
    assert plot_transition_hazards(fit, ax=axes[1]) is axes[1]
    assert plot_state_flow(res.panel, ax=axes[2], periods=[0, 3, 5, 8]) is axes[2]
    assert len(axes[2].patches) >= 4
    plt.close(fig)


@pytest.mark.skipif(cdnow_path(sample=True) is None, reason="the lifetimes wheel (CDNOW files) is not installed")
def test_cdnow_sample():
    log = load_cdnow(sample=True)
    assert log.shape == (6919, 4) and log["id"].nunique() == 2357
    res = assign_states(log)
    c = state_counts(res).iloc[0]
    assert c.n_customers == 2357 and 0 < c.n_recovered < c.n_ever_partial
