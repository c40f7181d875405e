"""Scenarios on the sBG/BdW mixing distribution: aggregate and individual cuts, equity from each posterior."""

from __future__ import annotations

import doctest

import numpy as np
import pandas as pd
import pytest
from scipy.special import betaln, comb

import churnsurv.value.heterogeneity as het
from churnsurv import ShiftedBetaGeometric
from churnsurv.value import heterogeneity_scenario

REGULAR = pd.DataFrame({"t": np.r_[np.repeat(np.arange(1, 8), [369, 163, 86, 56, 37, 27, 21]), 7],
                        "e": np.r_[np.ones(759), 0], "w": np.r_[np.ones(759), 241.0]})
KW = dict(duration="t", event="e", weights="w")


def _table(**kw):
    return heterogeneity_scenario(REGULAR, margin=1, discount_rate=0.1, n_draws=0, **KW, **kw).set_index("quantity")


def test_fader_hardie_parameters_and_the_derl_identities():
    r = _table(rate_cut=0.05)
    assert np.round(r.attrs["parameters"]["all"], 3).tolist() == [0.704, 1.182]
    model = ShiftedBetaGeometric().fit(REGULAR, **KW)
    derl = model.derl(0.1, renewals=[0, 7]).set_index("renewals")["estimate"]
    # a new customer pays now and then DERL(0) discounted one period; a customer after 7 renewals likewise
    assert r.loc["value_model", "estimate"] == pytest.approx(1 + derl[0] / 1.1, rel=1e-9)
    assert r.loc["equity_model", "estimate"] == pytest.approx(241 * (1 + derl[7] / 1.1), rel=1e-9)


def test_no_cut_changes_nothing():
    r = _table(rate_cut=0.0)
    for what in ("value", "equity"):
        for name in ("aggregate", "individual"):
            assert r.loc[f"{what}_{name}", "estimate"] == pytest.approx(r.loc[f"{what}_model", "estimate"],
                                                                        rel=1e-10)


def test_individual_survival_by_quadrature_equals_the_binomial_moments():
    a, b, c = 0.704, 1.182, 0.2
    t = np.arange(0, 11)
    exact = [sum(comb(k, j) * (-(1 - c)) ** j * np.exp(betaln(a + j, b) - betaln(a, b)) for j in range(k + 1))
             for k in t]
    np.testing.assert_allclose(het._surv_individual(a, b, 1.0, c, 0.0, t.astype(float)), exact, rtol=1e-10)


def test_heterogeneity_makes_the_individual_cut_worth_less_than_the_aggregate_one():
    r = _table(rate_cut=0.05)
    assert 0 < r.loc["value_gain_individual_pct", "estimate"] < r.loc["value_gain_aggregate_pct", "estimate"]
    # without heterogeneity (a nearly degenerate Beta) the two cuts agree
    a, b = 2000.0, 8000.0
    t = np.arange(0.0, 40.0)
    np.testing.assert_allclose(het._surv_individual(a, b, 1.0, 0.05, 0.0, t),
                               het._surv_aggregate(a, b, 1.0, 0.05, 0.0, t), rtol=2e-3)


def test_intervals_and_segments():
    two = pd.concat([REGULAR.assign(plan="a"), REGULAR.assign(plan="b", t=np.minimum(REGULAR["t"] + 1, 7))],
                    ignore_index=True)
    r = heterogeneity_scenario(two, rate_cut=0.1, margin=2, discount_rate=0.1, by="plan", n_draws=40,
                               random_state=1, segments=["plan"], **KW)
    assert set(r["plan"]) == {"a", "b"}
    assert ((r["ci_lower"] <= r["estimate"]) & (r["estimate"] <= r["ci_upper"])).all()


def test_bad_input():
    with pytest.raises(ValueError, match="'rate_cut' parameter of heterogeneity_scenario"):
        _table(rate_cut=1.0)
    with pytest.raises(ValueError, match="'model' parameter of heterogeneity_scenario"):
        _table(rate_cut=0.1, model="weibull")


def test_docstring_example():
    assert doctest.testmod(het, optionflags=doctest.NORMALIZE_WHITESPACE).failed == 0


def test_relationship_grid_and_core_customers():
    import churnsurv.value.relationship as rel
    from churnsurv.value import core_customers, relationship_levels

    assert doctest.testmod(rel, optionflags=doctest.NORMALIZE_WHITESPACE).failed == 0
    v = pd.DataFrame({"seg": list("abc"), "n_customers": [100, 100, 100], "margin": [1.0, 1.0, 1.0]})
    out = relationship_levels(v, by="seg", many=0.5, few=0.1)
    assert set(out["relationship"]) == {"accountable"}  # moderate x medium
    assert len(rel.GRID) == 9
    with pytest.raises(ValueError, match="'few' parameter of relationship_levels"):
        relationship_levels(v, by="seg", many=0.2, few=0.3)
    res = pd.DataFrame({"id": range(10), "estimate": np.arange(10.0)})
    core = core_customers(res, share=0.2)
    assert core["id"].tolist() == [9, 8]
    assert core.attrs["equity_share"] == pytest.approx(17 / 45)
