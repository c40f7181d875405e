"""The cause-specific log-rank test (logrank_test(..., cause=k)): R's survdiff on the naive Maven reading
(tests/reference/make_reference_cause_logrank.R), and the same test as a hand-built tenure table under truncation."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from churnsurv import Tenures, logrank_test, pairwise_logrank
from churnsurv.datasets import load_maven_telco

REF = Path(__file__).resolve().parents[1] / "reference"
KEYS = {"Competitor": "competitor", "Price": "price", "Dissatisfaction": "service"}


@pytest.mark.parametrize("row", pd.read_csv(REF / "fixtures" / "logrank_cause_specific.csv").to_dict("records"))
def test_equals_r_survdiff(row):
    t = load_maven_telco()
    res = logrank_test(t, by="Contract", cause=KEYS[row["cause"]], weights="peto" if row["rho"] == 1 else "logrank")
    assert res.table.loc[0, "statistic"] == pytest.approx(row["statistic"], rel=1e-10)
    assert res.table.loc[0, "dof"] == row["dof"]
    np.testing.assert_allclose(res.groups["observed"], [float(x) for x in row["observed"].split(";")], rtol=1e-12)
    np.testing.assert_allclose(res.groups["expected"], [float(x) for x in row["expected"].split(";")], rtol=1e-10)


def test_truncated_equals_the_test_on_a_cause_only_event_column():
    snap = load_maven_telco(truncate=True)
    d = snap.data
    hand = Tenures.from_frame(d.assign(comp=(d["cause"] == "competitor").to_numpy()), duration="exit", entry="entry",
                              event="comp", segments=["Contract"])
    a = logrank_test(snap, by="Contract", cause="competitor")
    b = logrank_test(hand, by="Contract")
    pd.testing.assert_frame_equal(a.table, b.table)
    pairs_a = pairwise_logrank(snap, by="Contract", cause="competitor")
    pairs_b = pairwise_logrank(hand, by="Contract")
    np.testing.assert_allclose(pairs_a["statistic"], pairs_b["statistic"], rtol=1e-12)
    # and it differs from the all-cause test
    assert logrank_test(snap, by="Contract").table.loc[0, "statistic"] != pytest.approx(a.table.loc[0, "statistic"])


def test_unknown_cause():
    with pytest.raises(ValueError, match=r"'cause' parameter of logrank_test must be one of the life table's causes"):
        logrank_test(load_maven_telco(), by="Contract", cause="weather")
