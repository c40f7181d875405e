"""Model tails of the value layer: families fitted to a curve's counts continue it beyond the last time."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy.special import betaln

import churnsurv as cs
from churnsurv.value import customer_equity, lifetime_value, lifetime_value_range, residual_value, value_at_risk
from churnsurv.value._tail_models import FAMILIES, fit_tail_model


def _fader_hardie_records(segment: str, years: int = 7) -> pd.DataFrame:
    s = cs.datasets.load_fader_hardie()[segment].to_numpy()[: years + 1]
    lost = -np.diff(s)
    return pd.DataFrame({"t": np.r_[np.repeat(np.arange(1, years + 1), lost), np.full(s[years], years)],
                         "e": np.r_[np.ones(lost.sum()), np.zeros(s[years])]})


def _counts(frame, **kw):
    sv = cs.KaplanMeier().fit(frame, duration="t", event="e", **kw).survival_
    return sv["time"].to_numpy(), sv["n_at_risk"].to_numpy(), sv["n_events"].to_numpy()


@pytest.mark.parametrize(("segment", "alpha", "beta"), [("regular", 0.704, 1.182), ("high_end", 0.668, 3.806)])
def test_sbg_tail_from_counts_gives_the_published_fader_hardie_estimates(segment, alpha, beta):
    """Fader & Hardie (2007), fitted to years 1-7: the grouped likelihood of the counts is the sBG likelihood."""
    m = fit_tail_model(*_counts(_fader_hardie_records(segment)), "sbg", 1.0)
    assert round(m.params["alpha"], 3) == alpha and round(m.params["beta"], 3) == beta
    bdw = fit_tail_model(*_counts(_fader_hardie_records(segment)), "bdw", 1.0)
    assert bdw.log_likelihood > m.log_likelihood  # the BdW nests the sBG (c = 1)


def test_weibull_tail_recovers_a_known_population_under_left_truncation():
    rng = np.random.default_rng(11)
    n = 40_000
    t = 20.0 * rng.weibull(0.7, n)  # shape 0.7, scale 20 months
    entry = rng.integers(0, 24, n).astype(float)  # whole months, as monthly records
    keep = t > entry  # a snapshot: only customers still here at their entry are seen
    exit_ = np.minimum(t, 60.0)[keep]
    frame = pd.DataFrame({"en": entry[keep], "t": np.ceil(exit_), "e": (t[keep] <= 60.0).astype(int)})
    m = fit_tail_model(*_counts(frame, entry="en"), "weibull", 1.0)
    assert m.params["shape"] == pytest.approx(0.7, rel=0.05)
    assert m.params["scale"] == pytest.approx(20.0, rel=0.08)


def test_model_tail_value_equals_a_brute_force_sum():
    frame = _fader_hardie_records("regular")
    v = lifetime_value(frame, margin=100, discount_rate=0.1, tail="sbg", duration="t", event="e")
    a, b = (fit_tail_model(*_counts(frame), "sbg", 1.0).params[k] for k in ("alpha", "beta"))
    km = cs.KaplanMeier().fit(frame, duration="t", event="e")
    s_data = km.predict(np.arange(8))["estimate"].to_numpy()  # S(0..7), the data
    k = np.arange(8, 20_000)
    s_tail = s_data[-1] * np.exp(betaln(a, b + k) - betaln(a, b + 7))
    brute = 100 * (np.sum(s_data * 1.1 ** -np.arange(8)) + np.sum(s_tail * 1.1 ** -k))
    assert float(v["estimate"].iloc[0]) == pytest.approx(brute, rel=1e-10)
    assert float(v["data_value"].iloc[0]) == pytest.approx(100 * np.sum(s_data * 1.1 ** -np.arange(8)), rel=1e-12)
    assert v["tail_retention"].iloc[0] == pytest.approx(np.exp((betaln(a, b + 19) - betaln(a, b + 7)) / 12), rel=1e-9)


def test_range_lists_every_family_and_skips_them_without_counts():
    frame = _fader_hardie_records("high_end")
    r = lifetime_value_range(frame, margin=1, discount_rate=0.1, duration="t", event="e")
    assert {"weibull", "lognormal", "loglogistic", "sbg", "bdw"} <= set(r["tail"])
    assert r["estimate"].between(r["range_lower"], r["range_upper"]).all()
    curve = pd.DataFrame({"time": [0, 1, 2, 3], "estimate": [1.0, 0.9, 0.81, 0.729]})
    plain = lifetime_value_range(curve, margin=1, discount_rate=0.1)
    assert not set(plain["tail"]) & set(FAMILIES)
    with pytest.raises(ValueError, match="n_at_risk and n_events"):
        lifetime_value(curve, margin=1, discount_rate=0.1, tail="weibull")


def test_residual_value_and_equity_with_a_model_tail():
    frame = _fader_hardie_records("regular")
    r = residual_value(frame, margin=1, discount_rate=0.1, tail="sbg", duration="t", event="e")
    a, b = (fit_tail_model(*_counts(frame), "sbg", 1.0).params[k] for k in ("alpha", "beta"))
    # a customer renewed 7 times: sum_{u>=0} S(7 + u) / S(7) v^u, from the data at u = 0 then the sBG beyond
    u = np.arange(0, 20_000)
    expected = np.sum(np.exp(betaln(a, b + 7 + u) - betaln(a, b + 7)) * 1.1 ** -u)
    assert r["estimate"].iloc[0] == pytest.approx(expected, rel=1e-10)
    ce = customer_equity(frame, margin=1, discount_rate=0.1, tail="sbg", duration="t", event="e", n_boot=0)
    assert float(ce["estimate"].iloc[0]) == pytest.approx(r["estimate"].sum(), rel=1e-12)


def test_functions_with_geometric_tails_only_refuse_model_tails():
    frame = _fader_hardie_records("regular").assign(c="x")
    frame.loc[frame["e"] == 0, "c"] = None
    with pytest.raises(ValueError, match="'tail' parameter of value_at_risk"):
        value_at_risk(frame, margin=1, discount_rate=0.1, tail="weibull", duration="t", event="e", cause="c")


def test_a_cure_tail_without_discounting_is_refused_not_summed_forever():
    frame = _fader_hardie_records("regular")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(ValueError, match="does not converge"):
            lifetime_value(frame, margin=1, discount_rate=0.0, tail="cure", duration="t", event="e")


@pytest.mark.parametrize("family", ["sbg", "bdw"])
def test_tail_from_counts_equals_the_cohort_model_on_the_records(family):
    """The value layer's count-based tail and the models layer's ShiftedBetaGeometric / BetaDiscreteWeibull fitted
    to the individual (left-truncated, censored) tenures maximise the same likelihood."""
    from churnsurv.models.beta_geometric import BetaDiscreteWeibull, ShiftedBetaGeometric

    rng = np.random.default_rng(3)
    n = 5000
    churn = rng.geometric(rng.beta(0.7, 1.2, n))
    entry = rng.integers(0, 4, n)
    keep = churn > entry
    frame = pd.DataFrame({"en": entry[keep], "t": np.minimum(churn[keep], 9), "e": (churn[keep] <= 9).astype(int)})
    model = (ShiftedBetaGeometric if family == "sbg" else BetaDiscreteWeibull)().fit(
        frame, duration="t", event="e", entry="en")
    tail = fit_tail_model(*_counts(frame, entry="en"), family, 1.0)
    fitted = model.summary().set_index("parameter")["estimate"]
    for name, value in tail.params.items():
        assert value == pytest.approx(fitted[name], rel=1e-5)


def test_a_curve_that_ends_at_zero_has_no_model_tail():
    frame = pd.DataFrame({"t": [1, 2, 3, 4], "e": [1, 1, 0, 1]})
    v = lifetime_value(frame, margin=1, discount_rate=0.1, tail="weibull", duration="t", event="e")
    assert float(v["tail_value"].iloc[0]) == 0.0 and np.isfinite(v["estimate"].iloc[0])
