"""Cause-specific Cox models against R survival::coxph (tests/reference/make_reference_coxph.R)."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import churnsurv as cs
from churnsurv import Tenures

REF = Path(__file__).resolve().parents[1] / "reference"


@pytest.fixture(scope="module")
def maven():
    return pd.read_csv(REF / "inputs" / "maven_telco.csv", keep_default_na=False, na_values=[""])


@pytest.mark.parametrize("reading", ["naive", "truncated"])
def test_matches_r_coxph(maven, reading):
    # R: coxph(Surv([entry,] time, event == 1 & cause == k) ~ contract + monthly_charge), Efron ties
    ref = pd.read_csv(REF / "fixtures" / "coxph_cause_specific.csv")
    ref = ref[ref["reading"] == reading]
    t = Tenures.from_frame(maven, duration="time", event="event", cause="cause",
                           entry="entry" if reading == "truncated" else None,
                           segments=["contract"], values=["monthly_charge"])
    m = cs.CauseSpecificCox(causes=["Competitor", "Price", "Dissatisfaction"]).fit(
        t, covariates=["contract", "monthly_charge"], reference={"contract": "Month-to-Month"})
    got = m.hazard_ratios_.assign(term=lambda d: d["term"].str.replace("contract", "Contract")
                                  .str.replace("monthly_charge", "Monthly Charge"))
    merged = ref.merge(got, on=["cause", "term"])
    assert len(merged) == 9
    np.testing.assert_allclose(merged["coef_y"], merged["coef_x"], rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(merged["std_error"], merged["se"], rtol=1e-8)
    for cause, loglik in m.log_likelihood_.items():
        assert loglik == pytest.approx(ref.loc[ref["cause"] == cause, "loglik"].iloc[0], rel=1e-10)


def test_tidy_table_and_reference_level():
    t = cs.datasets.load_maven_telco()
    m = cs.CauseSpecificCox().fit(t, formula="C(Contract, ref='Two Year') + Q('Monthly Charge')")
    hr = m.hazard_ratios_
    assert list(hr.columns) == ["cause", "term", "coef", "std_error", "hazard_ratio", "ci_lower", "ci_upper",
                                "z", "p_value"]
    assert set(hr["cause"]) == set(t.causes)
    assert "Contract[Month-to-Month]" in set(hr["term"]) and "Contract[Two Year]" not in set(hr["term"])
    assert (hr["ci_lower"] < hr["hazard_ratio"]).all() and (hr["hazard_ratio"] < hr["ci_upper"]).all()
    # month-to-month customers leave faster than two-year ones for every cause
    assert (hr.loc[hr["term"] == "Contract[Month-to-Month]", "hazard_ratio"] > 1).all()


def test_errors_and_no_mutation():
    df = pd.DataFrame({"t": [1, 2, 3, 4, 5, 6], "e": [1, 0, 1, 1, 0, 1], "x": [1.0, 2, 3, 4, 5, None]})
    before = df.copy()
    with pytest.raises(cs.TenureDataError, match="Column 'x' has 1 row with missing covariate values"):
        cs.CauseSpecificCox().fit(df, covariates=["x"], duration="t", event="e")
    pd.testing.assert_frame_equal(df, before)
    with pytest.raises(ValueError, match="either as formula"):
        cs.CauseSpecificCox().fit(df, duration="t", event="e")
    with pytest.raises(ValueError, match="'conf_level' parameter of CauseSpecificCox"):
        cs.CauseSpecificCox(conf_level=2).fit(df.dropna(), covariates=["x"], duration="t", event="e")
    with pytest.raises(cs.NotFittedError):
        cs.CauseSpecificCox().summary()


def test_recovers_simulated_effect():
    # two segments with proportional cause-specific hazards: rate ratio 2 for cause "a"
    rng = np.random.default_rng(3)
    n = 20000
    z = rng.integers(0, 2, n)
    rate_a = 0.05 * np.where(z == 1, 2.0, 1.0)
    rate_b = 0.03
    ta, tb = rng.exponential(1 / rate_a), rng.exponential(1 / rate_b, n)
    c = rng.uniform(0, 40, n)
    time = np.minimum.reduce([ta, tb, c])
    cause = np.where(time == ta, "a", np.where(time == tb, "b", None))
    df = pd.DataFrame({"time": time, "cause": cause, "z": z})
    m = cs.CauseSpecificCox(causes=["a"]).fit(df, covariates=["z"], duration="time", cause="cause")
    row = m.hazard_ratios_.iloc[0]
    assert row["ci_lower"] < 2.0 < row["ci_upper"]
