"""The range that the unknown timing of defections within a snapshot period puts on the headline numbers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from churnsurv import KaplanMeier, Tenures, snapshot_timing_range
from churnsurv.datasets import load_maven_telco


@pytest.mark.parametrize("timing", ["start", "middle", "end", 0.5])
def test_with_churn_timing_equals_reading_the_snapshot_with_it(maven, maven_kwargs, timing):
    default = Tenures.from_snapshot(maven, **maven_kwargs)
    direct = Tenures.from_snapshot(maven, churn_timing=timing, **maven_kwargs)
    switched = default.with_churn_timing(timing)
    pd.testing.assert_frame_equal(switched.data, direct.data)
    assert switched.truncation == direct.truncation
    assert default.truncation.churn_timing == "middle"  # the original is untouched


def test_with_churn_timing_needs_a_truncated_snapshot(maven, maven_kwargs):
    with pytest.raises(ValueError, match="truncated snapshot"):
        Tenures.from_snapshot(maven, truncate=False, **maven_kwargs).with_churn_timing("end")


def test_range_on_the_bundled_snapshot():
    snap = load_maven_telco(truncate=True)
    table = snapshot_timing_range(snap, by="Contract", lost_within=(3, 12), tau=24)
    assert set(table["quantity"]) == {"lost_within_3", "lost_within_12", "median", "rmst_24"}
    assert (table["used"] == "middle").all()
    m2m = table[table["Contract"] == "Month-to-Month"].set_index("quantity")
    # each column is the Kaplan-Meier number of the snapshot read with that rule
    for timing in ("start", "middle", "end"):
        km = KaplanMeier().fit(snap.with_churn_timing(timing), by="Contract")
        row = km.rmst(24).set_index("Contract").loc["Month-to-Month", "estimate"]
        assert m2m.loc["rmst_24", timing] == pytest.approx(row, rel=1e-12)
    # "end" observes defectors longest before they leave: the most optimistic reading
    assert m2m.loc["lost_within_3", "start"] > m2m.loc["lost_within_3", "middle"] > m2m.loc["lost_within_3", "end"]
    assert m2m.loc["rmst_24", "start"] < m2m.loc["rmst_24", "end"]
    ok = table.dropna(subset=["low"])
    assert (ok["low"] <= ok["middle"]).all() and (ok["middle"] <= ok["high"]).all()
    # a median not reached under some rule has no range
    two = table[(table["Contract"] == "Two Year") & (table["quantity"] == "median")]
    assert np.isnan(two["middle"].iloc[0]) and np.isnan(two["low"].iloc[0])


def test_range_needs_a_truncated_tenure_table():
    with pytest.raises(ValueError, match="truncate=True"):
        snapshot_timing_range(load_maven_telco(), by="Contract")
    with pytest.raises(TypeError, match="'tenures' parameter of snapshot_timing_range"):
        snapshot_timing_range(pd.DataFrame({"a": [1]}))
