"""The segment table of the report: business words over the tidy Kaplan-Meier numbers."""

from __future__ import annotations

import pandas as pd
import pytest

import churnsurv as cs
from churnsurv.report.tables import segment_table


@pytest.fixture(scope="module")
def snap():
    return cs.datasets.load_maven_telco(truncate=True)


def test_cells_are_the_kaplan_meier_numbers_with_their_intervals(snap):
    km = cs.KaplanMeier().fit(snap, by="Contract")
    table = segment_table(km, times=(3, 12), tau=24)
    assert list(table.columns) == ["Contract", "Customers", "Defections", "Still a customer at 3 months",
                                   "Still a customer at 12 months", "Median tenure",
                                   "Expected tenure within 24 months"]
    p = km.predict([12]).set_index("Contract")
    one = p.loc["One Year"]
    row = table.set_index("Contract").loc["One Year"]
    assert row["Still a customer at 12 months"] == (
        f"{100 * one['estimate']:.0f}% ({100 * one['ci_lower']:.0f}-{100 * one['ci_upper']:.0f}%)")
    rm = km.rmst(tau=24).set_index("Contract").loc["Month-to-Month"]
    assert table.set_index("Contract").loc["Month-to-Month", "Expected tenure within 24 months"] == (
        f"{rm['estimate']:.1f} ({rm['ci_lower']:.1f}-{rm['ci_upper']:.1f})")
    assert row["Customers"] == f"{(snap.data['Contract'] == 'One Year').sum():,}"


def test_no_defection_yet_gives_a_bound_and_a_median_not_reached(snap):
    km = cs.KaplanMeier().fit(snap, by="Contract")
    row = segment_table(km, times=(12,)).set_index("Contract").loc["Two Year"]
    assert row["Still a customer at 12 months"].startswith("100% (at least ")
    assert row["Median tenure"] == "not reached (> 72)"
    with pytest.warns(cs.exceptions.StatisticalWarning):
        bound = segment_table(km, times=(12,), tau=12).set_index("Contract").loc["Two Year"]
    assert bound["Expected tenure within 12 months"].startswith("12.0 (at least ")


def test_past_follow_up_and_too_few_at_risk_are_words_not_numbers():
    frame = pd.DataFrame({"t": [1, 2, 2, 3, 4, 5, 6, 8, 9, 30], "e": [1, 0, 1, 1, 0, 1, 0, 1, 0, 0],
                          "g": ["a"] * 10})
    km = cs.KaplanMeier().fit(frame, duration="t", event="e", segments=["g"], by="g")
    table = segment_table(km, times=(1, 7, 40), min_at_risk=5, tau=10)
    row = table.iloc[0]
    assert row["Still a customer at 40 months"] == "beyond follow-up (30)"
    assert row["Still a customer at 7 months"] == "too few at risk (3)"
    assert row["Still a customer at 1 months"].startswith("90% (")


def test_without_segments_one_row_for_all_customers(snap):
    table = segment_table(cs.KaplanMeier().fit(snap), times=(6,))
    assert table.iloc[0, 0] == "All customers" and len(table) == 1


def test_bad_times_are_refused(snap):
    with pytest.raises(ValueError, match="times"):
        segment_table(cs.KaplanMeier().fit(snap), times=[-1])
