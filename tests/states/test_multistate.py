"""churnsurv.states.multistate against R survival 3.5 (tests/reference/make_reference_states.R).

R: ``survfit(Surv(entry, exit, to) ~ 1, data, id = id, istate = from, influence = TRUE)`` per segment, on
``tests/reference/inputs/states_spells.csv`` (left-truncated customers, tied integer times, recoveries).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from churnsurv.exceptions import NotFittedError, TenureDataError
from churnsurv.states.multistate import StateOccupation, fit_transition_cox, prob_lost_within

REF = Path(__file__).parents[1] / "reference"
TOL = 1e-10


@pytest.fixture(scope="module")
def spells():
    return pd.read_csv(REF / "inputs" / "states_spells.csv", keep_default_na=False)


@pytest.fixture(scope="module")
def fits(spells):
    pooled = StateOccupation(horizons=(6, 12, 20.5)).fit(spells)
    seg = StateOccupation(horizons=(6, 12, 20.5)).fit(spells, by="segment")
    weighted = StateOccupation(horizons=(6, 12, 20.5)).fit(spells.assign(w=1 + spells["id"] % 3), weights="w")
    for table in ("occupation_", "initial_", "cumulative_hazard_", "restricted_mean_"):
        getattr(weighted, table)["segment"] = "weighted"
        setattr(seg, table, pd.concat([getattr(seg, table), getattr(weighted, table)], ignore_index=True))
    return pd.concat([pooled.occupation_, seg.occupation_]), pooled, seg


def _merge(ours, ref, keys):
    m = ref.merge(ours, on=keys, how="left", suffixes=("_r", ""))
    assert m["estimate"].notna().all()
    return m


def test_occupation_and_ij_std_error_equal_r(fits):
    occ = fits[0]
    ref = pd.read_csv(REF / "fixtures" / "states_occupation.csv")
    m = _merge(occ, ref, ["segment", "time", "state"])
    assert np.abs(m["estimate"] - m["estimate_r"]).max() < TOL
    assert np.abs(m["std_error"] - m["std_error_r"]).max() < TOL
    assert np.abs(m["n_at_risk"] - m["n_at_risk_r"]).max() < TOL or (m["segment"] == "weighted").any()
    unweighted = m[m["segment"] != "weighted"]
    assert (unweighted["n_at_risk"] == unweighted["n_at_risk_r"]).all()
    assert set(m["segment"]) == {"all", "A", "B", "weighted"}
    # the time-0 row carries p(0) and its standard error
    p0 = pd.read_csv(REF / "fixtures" / "states_p0.csv")
    first = occ[occ["time"] == 0].merge(p0, on=["segment", "state"])
    assert np.abs(first["std_error"] - first["sp0"]).max() < TOL


def test_initial_distribution_equals_r(fits):
    _, pooled, seg = fits
    ref = pd.read_csv(REF / "fixtures" / "states_p0.csv")
    m = _merge(pd.concat([pooled.initial_, seg.initial_]), ref, ["segment", "state"])
    assert np.abs(m["estimate"] - m["p0"]).max() < TOL
    assert np.abs(m["std_error"] - m["sp0"]).max() < TOL


def test_cumulative_hazards_equal_r(fits):
    _, pooled, seg = fits
    ref = pd.read_csv(REF / "fixtures" / "states_cumhaz.csv")
    m = _merge(pd.concat([pooled.cumulative_hazard_, seg.cumulative_hazard_]), ref,
               ["segment", "time", "from_state", "to_state"])
    assert np.abs(m["estimate"] - m["cumulative_hazard"]).max() < TOL


def test_restricted_mean_time_in_state_equals_r(fits):
    _, pooled, seg = fits
    ref = pd.read_csv(REF / "fixtures" / "states_rmean.csv")
    m = _merge(pd.concat([pooled.restricted_mean_, seg.restricted_mean_]), ref, ["segment", "horizon", "state"])
    assert np.abs(m["estimate"] - m["estimate_r"]).max() < TOL
    # R's se(rmean) drops the case weights (sqrt of the summed squared *unweighted* influence), unlike its
    # std.err of pstate; churnsurv weights both. They agree without weights.
    u = m[m["segment"] != "weighted"]
    assert np.abs(u["std_error"] - u["std_error_r"]).max() < TOL
    w = m[m["segment"] == "weighted"]
    assert (w["std_error"] > w["std_error_r"]).all()
    # time in states adds up to the horizon
    tot = pooled.restricted_mean_.groupby("horizon")["estimate"].sum()
    np.testing.assert_allclose(tot.to_numpy(), tot.index.to_numpy(), rtol=1e-12)


def test_properties(fits):
    _, pooled, _ = fits
    occ = pooled.occupation_
    sums = occ.groupby("time")["estimate"].sum()
    np.testing.assert_allclose(sums, 1.0, atol=1e-12)
    assert (occ["ci_lower"] <= occ["estimate"] + 1e-15).all() and (occ["estimate"] <= occ["ci_upper"] + 1e-15).all()
    lost = occ[occ["state"] == "lost"]["estimate"].to_numpy()
    assert np.all(np.diff(lost) >= -1e-15)  # absorbing state
    assert set(pooled.transitions_["from_state"]) == {"active", "partial"}


def test_row_order_and_split_rows_do_not_matter(spells):
    a = StateOccupation().fit(spells).occupation_
    b = StateOccupation().fit(spells.sample(frac=1.0, random_state=3)).occupation_
    pd.testing.assert_frame_equal(a, b)
    # a stay split in two at a segment-like boundary (censored row + continuation) is merged, as in R
    row = spells[(spells["exit"] - spells["entry"] >= 4)].iloc[0]
    first = row.copy()
    first["exit"] = row["entry"] + 2
    first["to_state"] = ""
    second = row.copy()
    second["entry"] = row["entry"] + 2
    split = pd.concat([spells.drop(index=row.name), first.to_frame().T, second.to_frame().T], ignore_index=True)
    split[["entry", "exit", "id"]] = split[["entry", "exit", "id"]].astype(float)
    c = StateOccupation().fit(split).occupation_
    merged = a.merge(c, on=["segment", "time", "state"])
    np.testing.assert_allclose(merged["estimate_x"], merged["estimate_y"], atol=1e-14)


def test_does_not_mutate_input(spells):
    before = spells.copy()
    StateOccupation().fit(spells, by="segment")
    pd.testing.assert_frame_equal(spells, before)


def test_errors(spells):
    bad = spells.copy()
    bad.loc[[0, 5], "exit"] = bad.loc[[0, 5], "entry"]
    with pytest.raises(TenureDataError, match=r"'exit' has 2 rows"):
        StateOccupation().fit(bad)
    bad = spells.copy()
    bad.loc[3, "to_state"] = "gone"
    with pytest.raises(TenureDataError, match="'to_state' has 1 row"):
        StateOccupation().fit(bad, states=["active", "partial", "lost"])
    with pytest.raises(TenureDataError, match="no column 'tenure'"):
        StateOccupation().fit(spells, exit="tenure")
    with pytest.raises(ValueError, match="'conf_level' parameter of StateOccupation"):
        StateOccupation(conf_level=2).fit(spells)
    with pytest.raises(NotFittedError):
        StateOccupation().predict([1.0])


def test_predict_step_function(fits):
    _, pooled, _ = fits
    p = pooled.predict([0.5, 3.0, 1000.0], state="lost")
    occ = pooled.occupation_[pooled.occupation_["state"] == "lost"]
    assert p["estimate"].iloc[0] == 0.0
    assert p["estimate"].iloc[1] == occ[occ["time"] == 3.0]["estimate"].iloc[0]
    assert p["estimate"].iloc[2] == occ["estimate"].iloc[-1]


def test_prob_lost_within(spells):
    out = prob_lost_within(spells, [1, 6, 12], by="segment")
    assert list(out.columns) == ["segment", "horizon", "estimate", "std_error", "ci_lower", "ci_upper",
                                 "n_episodes"]
    for _, g in out.groupby("segment"):
        assert np.all(np.diff(g["estimate"].to_numpy()) >= 0)
    # segment B has higher rates (x1.6) in the reference input
    assert out[(out.segment == "B") & (out.horizon == 6)]["estimate"].iloc[0] > \
        out[(out.segment == "A") & (out.horizon == 6)]["estimate"].iloc[0]


def test_transition_cox(spells):
    fits = fit_transition_cox(spells, formula="segment")
    assert set(fits) == {("active", "partial"), ("active", "lost"), ("partial", "active"), ("partial", "lost")}
    hr = fits[("partial", "lost")].summary()
    assert hr["coef"].iloc[0] > 0  # segment B loses partial customers faster
