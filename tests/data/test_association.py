"""tenure_association: covariates tied to tenure itself (cumulative totals, tenure bands) are graded and flagged."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from churnsurv import CauseSpecificCox, TenureConfoundingWarning, Tenures, tenure_association
from churnsurv.datasets import load_ibm_telco, load_maven_telco


def _frame(n=2_000, seed=0):
    rng = np.random.default_rng(seed)
    tenure = rng.integers(1, 73, n).astype(float)
    rate = rng.uniform(20, 120, n)
    return pd.DataFrame({
        "tenure": tenure, "churned": rng.random(n) < 0.3,
        "rate": rate,                                             # per-period: unrelated to tenure
        "total": rate * tenure + rng.normal(0, 5, n),             # cumulative: rate x tenure
        "drift": tenure / 72 + rng.normal(0, 0.3, n),             # tied to tenure, but not a total
        "band": np.where(tenure < 24, "early", np.where(tenure < 48, "mid", "late")),  # assigned by tenure
        "plan": rng.choice(["a", "b", "c"], n),
    })


def test_grades_and_flags_on_a_constructed_frame():
    t = Tenures.from_frame(_frame(), duration="tenure", event="churned", segments=["band", "plan"],
                           values=["rate", "total", "drift"])
    with pytest.warns(TenureConfoundingWarning, match=r"'band', 'total'"):
        table = tenure_association(t).set_index("column")
    assert table.loc["total", "cumulative"] and table.loc["total", "grade"] == "strong"
    assert not table.loc["rate", "cumulative"] and table.loc["rate", "grade"] == "none"
    # strongly tied to tenure, but its rate (drift / tenure) falls with tenure: not a total
    assert table.loc["drift", "grade"] == "strong" and not table.loc["drift", "cumulative"]
    assert table.loc["band", "tenure_bands"] and table.loc["band", "kind"] == "categorical"
    assert table.loc["plan", "grade"] == "none" and not table.loc["plan", "tenure_bands"]
    assert table.loc["total", "advice"].startswith("cumulative")


def test_rank_eta_by_hand():
    df = pd.DataFrame({"tenure": [1.0, 2, 3, 4, 5, 6], "churned": [1, 0, 1, 0, 1, 0], "g": list("aabbcc")})
    t = Tenures.from_frame(df, duration="tenure", event="churned", segments=["g"])
    eta = tenure_association(t, warn=False).set_index("column").loc["g", "association"]
    r = np.arange(1, 7.0)
    means = np.array([1.5, 3.5, 5.5])
    expected = np.sqrt((2 * (means - r.mean()) ** 2).sum() / ((r - r.mean()) ** 2).sum())
    assert eta == pytest.approx(expected, rel=1e-12)


def test_bundled_files():
    maven = load_maven_telco(values=["Monthly Charge", "Total Revenue"])
    table = tenure_association(maven, ["Total Revenue", "Monthly Charge", "Offer"], warn=False).set_index("column")
    assert table.loc["Total Revenue", "cumulative"] and not table.loc["Monthly Charge", "cumulative"]
    assert table.loc["Offer", "tenure_bands"]
    ibm = load_ibm_telco(values=["Monthly Charges", "Total Charges"])
    table = tenure_association(ibm, warn=False).set_index("column")
    assert table.loc["Total Charges", "cumulative"] and not table.loc["Monthly Charges", "cumulative"]


def test_loaders_do_not_offer_cumulative_columns():
    assert load_maven_telco().values == ("Monthly Charge",)
    assert load_ibm_telco().values == ("Monthly Charges",)


def test_cox_on_a_cumulative_column_warns():
    maven = load_maven_telco(values=["Monthly Charge", "Total Revenue"])
    with pytest.warns(TenureConfoundingWarning, match=r"\['Total Revenue'\] grow with tenure") as rec:
        CauseSpecificCox(causes=["competitor"]).fit(maven, covariates=["Total Revenue"])
    assert rec[0].filename == __file__
    with warnings_as_errors():
        CauseSpecificCox(causes=["competitor"]).fit(maven, covariates=["Monthly Charge"])


def warnings_as_errors():
    import warnings

    class _Ctx:
        def __enter__(self):
            self.cm = warnings.catch_warnings()
            self.cm.__enter__()
            warnings.simplefilter("error", TenureConfoundingWarning)

        def __exit__(self, *exc):
            return self.cm.__exit__(*exc)

    return _Ctx()


def test_bad_input():
    t = load_maven_telco()
    with pytest.raises(Exception, match="no column 'nope'"):
        tenure_association(t, ["nope"])
    with pytest.raises(TypeError, match="expects a churnsurv.Tenures"):
        tenure_association(pd.DataFrame())
