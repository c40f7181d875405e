"""The bundled data loaders: counts from the issue, both readings, raw frames, Fader-Hardie counts."""

import numpy as np
import pandas as pd
import pytest

from churnsurv import datasets
from churnsurv.datasets import load_fader_hardie, load_ibm_telco, load_maven_telco, read_tenures


def test_maven_counts_match_the_published_file():
    t = load_maven_telco(causes="raw")
    assert t.n_customers == 7043 and t.n_events == 1869
    counts = t.data["cause"].value_counts().to_dict()
    assert counts == {"Competitor": 841, "Dissatisfaction": 321, "Attitude": 314, "Price": 211, "Other": 182}


def test_maven_taxonomy_mapping():
    t = load_maven_telco()
    assert t.data["cause"].value_counts().to_dict() == {
        "competitor": 841, "service": 321, "attitude": 314, "price": 211, "unknown": 182}
    reasons = load_maven_telco(causes="reason")
    # the 20 reasons map onto the taxonomy without losing a defection
    assert reasons.data["cause"].notna().sum() == 1869
    assert set(reasons.causes) == {"competitor", "price", "product", "service", "attitude", "natural", "unknown"}


def test_maven_snapshot_truncation_counts():
    raw = load_maven_telco(raw=True)
    tenure = raw["Tenure in Months"].to_numpy(float)
    joined = (raw["Customer Status"] == "Joined").to_numpy()
    churned = (raw["Customer Status"] == "Churned").to_numpy()
    # default: defectors left in the middle of the quarter (2 whole months observed), others observed 3 months
    t = load_maven_telco(truncate=True)
    expected_entry = np.where(joined, 0.0, np.maximum(tenure - np.where(churned, 2, 3), 0.0))
    np.testing.assert_array_equal(t.data["entry"].to_numpy(), expected_entry)
    assert t.truncation.n_truncated == int((expected_entry > 0).sum())
    assert t.truncation.churn_timing == "middle" and t.truncation.churn_exposure == 2
    # the most optimistic rule (defectors observed the whole quarter): the rule before 0.2
    end = load_maven_telco(truncate=True, churn_timing="end")
    expected_end = np.where(joined, 0.0, np.maximum(tenure - 3, 0.0))
    np.testing.assert_array_equal(end.data["entry"].to_numpy(), expected_end)
    assert end.truncation.n_truncated == int((expected_end > 0).sum()) == 5992
    start = load_maven_telco(truncate=True, churn_timing="start")
    expected_start = np.where(joined, 0.0, np.maximum(tenure - np.where(churned, 1, 3), 0.0))
    np.testing.assert_array_equal(start.data["entry"].to_numpy(), expected_start)
    assert t.truncation.n_joined == 454 and t.truncation.applied
    naive = load_maven_telco()
    assert (naive.data["entry"] == 0).all()
    assert naive.truncation.n_truncated == t.truncation.n_truncated and not naive.truncation.applied
    assert "WITHOUT left truncation" in str(naive.truncation)


def test_maven_internet_type_blank_read_as_none():
    t = load_maven_telco()
    raw = load_maven_telco(raw=True)
    assert (t.data["Internet Type"] == "None").sum() == raw["Internet Type"].isna().sum() == 1526
    # "None" is also a real Offer level, not a missing value
    assert (t.data["Offer"] == "None").sum() == 3877


def test_ibm_loader():
    t = load_ibm_telco()
    assert t.n_customers == 7043 and t.n_events == 1869
    assert t.data["exit"].min() == 0  # 11 customers with tenure 0 are kept
    assert int((t.data["exit"] == 0).sum()) == 11
    assert t.values == ("Monthly Charges",)  # the cumulative columns are not offered by default
    with_totals = load_ibm_telco(values=["Monthly Charges", "Total Charges"])
    assert with_totals.data["Total Charges"].isna().sum() == 11
    with pytest.raises(ValueError, match="'period' parameter of load_ibm_telco"):
        load_ibm_telco(truncate=True)
    tr = load_ibm_telco(truncate=True, period=1)
    assert tr.truncation.n_truncated == int((t.data["exit"] > 1).sum())


def test_loaders_do_not_share_state():
    a = load_maven_telco()
    a.data.loc[0, "exit"] = -1
    assert load_maven_telco().data.loc[0, "exit"] >= 0


def test_fader_hardie_counts():
    wide = load_fader_hardie()
    assert wide["regular"].tolist() == [1000, 631, 468, 382, 326, 289, 262, 241, 223, 207, 194, 183, 173]
    assert wide["high_end"].tolist() == [1000, 869, 743, 653, 593, 551, 517, 491, 468, 445, 427, 409, 394]
    long = load_fader_hardie(long=True)
    reg = long[long["segment"] == "regular"]
    assert reg["n_lost"].sum() == 1000 - 173
    assert list(long.columns) == ["segment", "year", "n_alive", "n_lost"]


def test_dataset_path_errors(monkeypatch, tmp_path):
    with pytest.raises(ValueError, match="'name' parameter of dataset_path"):
        datasets.dataset_path("nope")
    monkeypatch.setenv("CHURNSURV_DATA", str(tmp_path))
    with pytest.raises(FileNotFoundError, match="CHURNSURV_DATA"):
        datasets.load_raw("maven_telco")


def test_checksums_match_data_readme():
    readme = (datasets.data_dir() / "README.md").read_text()
    for name in ("maven_telco", "ibm_telco", "maven_dictionary"):
        assert datasets.file_sha256(datasets.dataset_path(name)) in readme


def test_raw_frames_are_unedited():
    raw = load_maven_telco(raw=True)
    direct = pd.read_csv(datasets.dataset_path("maven_telco"), keep_default_na=False, na_values=[""])
    pd.testing.assert_frame_equal(raw, direct)


def test_read_tenures_from_dates(tmp_path):
    path = tmp_path / "customers.csv"
    pd.DataFrame({"signup": ["2023-01-15", "2023-03-01", "2023-06-10", "2024-01-01"],
                  "cancel": ["2023-08-01", None, "2024-02-01", None],
                  "plan": ["a", "b", "a", "b"]}).to_csv(path, index=False)
    t = read_tenures(path, start="signup", end="cancel", as_of="2024-06-30", segments=["plan"])
    # completed calendar months from sign-up to cancel (or to the as-of date for active customers)
    assert t.data["exit"].tolist() == [6.0, 15.0, 7.0, 5.0]
    assert t.data["event"].tolist() == [True, False, True, False]
    assert t.source == str(path)
    with pytest.raises(ValueError, match="'as_of' parameter of read_tenures"):
        read_tenures(path, start="signup", end="cancel")
    with pytest.raises(ValueError, match="'duration' parameter of read_tenures"):
        read_tenures(path, event="cancel")
