"""Tests of churnsurv.data.causes: the default taxonomy and CauseMap, alone and through the tenure constructors.

Expected counts are computed with pandas from the bundled CSV files (``value_counts`` of the raw labels).
"""

from __future__ import annotations

import re
import warnings

import numpy as np
import pandas as pd
import pytest

from churnsurv import DEFAULT_TAXONOMY, CauseMap, ChurnsurvWarning, TenureDataError, Tenures
from churnsurv.data.causes import MAVEN_CATEGORY_MAP, TELCO_REASON_MAP

MAVEN_KEYS = {"competitor": 841, "service": 321, "attitude": 314, "price": 211, "unknown": 182}


# ====================================================================== the taxonomy and the bundled maps
def test_taxonomy_keys_are_snake_case_with_label_and_description():
    assert len(DEFAULT_TAXONOMY) >= 10
    for key, (label, description) in DEFAULT_TAXONOMY.items():
        assert re.fullmatch(r"[a-z]+(_[a-z]+)*", key), key
        assert label and label[0].isupper()
        assert description.endswith(".")
    assert "unknown" in DEFAULT_TAXONOMY


@pytest.mark.parametrize("mapping", [MAVEN_CATEGORY_MAP, TELCO_REASON_MAP], ids=["maven", "telco"])
def test_bundled_maps_land_in_the_taxonomy(mapping):
    assert set(mapping.values()) <= set(DEFAULT_TAXONOMY)


def test_maven_category_map_covers_the_file(maven):
    labels = set(maven["Churn Category"].dropna())
    assert labels == set(MAVEN_CATEGORY_MAP)


@pytest.mark.parametrize("which", ["maven", "ibm"])
def test_telco_reason_map_covers_both_files(maven, ibm, which):
    frame = maven if which == "maven" else ibm
    reasons = frame["Churn Reason"].dropna()
    assert reasons.nunique() == 20
    assert set(reasons) == set(TELCO_REASON_MAP)


# ====================================================================== CauseMap.apply
class TestApply:
    def test_maps_known_labels_and_keeps_missing(self):
        cm = CauseMap({"Competitor": "competitor", "Price": "price"})
        out = cm.apply(["Price", "Competitor", None, np.nan, "Price"])
        assert isinstance(out, pd.Series)
        assert out.tolist()[:2] == ["price", "competitor"]
        assert out.isna().tolist() == [False, False, True, True, False]

    def test_docstring_example(self):
        cm = CauseMap({"Competitor": "competitor", "Price": "price"}, unknown="unknown")
        out = cm.apply(["Price", "Competitor", None], column="Churn Category").tolist()
        assert out[:2] == ["price", "competitor"] and pd.isna(out[2])

    def test_unknown_labels_error_by_default(self, check_data_error):
        cm = CauseMap({"Price": "price"})
        labels = ["Price", "Moved", None, "Moved", "Gone"]
        with pytest.raises(TenureDataError) as exc:
            cm.apply(labels, column="reason", ids=["a", "b", "c", "d", "e"])
        msg = check_data_error(exc, column="reason", n_rows=3, ids=["b", "d", "e"],
                               problem="cause labels the cause mapping does not know")
        assert "'Moved' (2)" in msg and "'Gone' (1)" in msg
        assert "unknown='unknown'" in msg

    def test_unknown_labels_error_without_ids_uses_positions(self):
        with pytest.raises(TenureDataError, match=r"\(ids 1\)"):
            CauseMap({"Price": "price"}).apply(["Price", "Moved"])

    def test_unknown_to_unknown_warns(self):
        cm = CauseMap({"Price": "price"}, unknown="unknown")
        with pytest.warns(ChurnsurvWarning, match=r"Column 'reason' has 2 rows .*mapped to 'unknown': 'Moved' \(2\)"):
            out = cm.apply(["Price", "Moved", "Moved", None], column="reason")
        assert out.tolist()[:3] == ["price", "unknown", "unknown"]
        assert pd.isna(out.iloc[3])

    def test_keep_warns_and_keeps_the_raw_label(self):
        cm = CauseMap({"Price": "price"}, unknown="keep")
        with pytest.warns(ChurnsurvWarning, match="kept as their own causes: 'Moved' \\(1\\)"):
            out = cm.apply(["Price", "Moved"], column="reason")
        assert out.tolist() == ["price", "Moved"]

    def test_no_warning_when_everything_is_known(self):
        cm = CauseMap({"Price": "price"}, unknown="unknown")
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            cm.apply(["Price", None])

    def test_bad_unknown_parameter(self):
        expected = ("The 'unknown' parameter of CauseMap must be one of {'error', 'unknown', 'keep'}. "
                    "Got 'drop' instead.")
        with pytest.raises(ValueError, match=re.escape(expected)):
            CauseMap({"Price": "price"}, unknown="drop")

    def test_categories_order(self):
        cm = CauseMap({"a": "zeta", "b": "price", "c": "competitor", "d": "alpha"}, order=("alpha",))
        # order first, then taxonomy order, then the map's own keys in first appearance, then others present
        assert cm.categories(present=["price", "extra"]) == ["alpha", "competitor", "price", "zeta", "extra"]

    def test_maven_categories_classmethod(self):
        cm = CauseMap.maven_categories(unknown="unknown")
        assert cm.mapping == MAVEN_CATEGORY_MAP and cm.unknown == "unknown"
        assert cm.categories() == ["competitor", "price", "service", "attitude", "unknown"]

    def test_frozen(self):
        cm = CauseMap({"Price": "price"})
        with pytest.raises(AttributeError):
            cm.unknown = "keep"


# ====================================================================== through the tenure constructors
class TestThroughFromFrame:
    @pytest.fixture
    def frame(self):
        return pd.DataFrame({
            "cid": ["a", "b", "c", "d", "e", "f"],
            "t": [1, 2, 3, 4, 5, 6],
            "churned": [1, 1, 0, 1, 1, 0],
            "why": ["Price", "Moved", None, "Competitor", "Moved", None],
        })

    def test_dict_map_errors_on_unknown_labels(self, frame, check_data_error):
        with pytest.raises(TenureDataError) as exc:
            Tenures.from_frame(frame, duration="t", event="churned", cause="why", id="cid",
                               cause_map={"Price": "price", "Competitor": "competitor"})
        msg = check_data_error(exc, column="why", n_rows=2, ids=["b", "e"],
                               problem="cause labels the cause mapping does not know")
        assert "'Moved' (2)" in msg

    def test_unknown_mapped_with_warning(self, frame):
        cm = CauseMap({"Price": "price", "Competitor": "competitor"}, unknown="unknown")
        with pytest.warns(ChurnsurvWarning, match="Column 'why' has 2 rows") as rec:
            t = Tenures.from_frame(frame, duration="t", event="churned", cause="why", id="cid", cause_map=cm)
        assert t.data["cause"].tolist()[:2] == ["price", "unknown"]
        assert t.causes == ("competitor", "price", "unknown")
        assert rec[0].filename == __file__  # stacklevel points at the caller of from_frame

    def test_keep(self, frame):
        cm = CauseMap({"Price": "price", "Competitor": "competitor"}, unknown="keep")
        with pytest.warns(ChurnsurvWarning, match="kept as their own causes"):
            t = Tenures.from_frame(frame, duration="t", event="churned", cause="why", cause_map=cm)
        assert t.causes == ("competitor", "price", "Moved")
        assert t.data["cause"].value_counts().to_dict() == {"Moved": 2, "competitor": 1, "price": 1}

    def test_causes_order_with_a_map(self, frame):
        cm = CauseMap({"Price": "price", "Competitor": "competitor", "Moved": "natural"})
        t = Tenures.from_frame(frame, duration="t", event="churned", cause="why", cause_map=cm,
                               causes=["natural", "price"])
        assert t.causes[:3] == ("natural", "price", "competitor")
        assert list(t.data["cause"].cat.categories) == list(t.causes)

    def test_causes_without_a_map(self, frame):
        t = Tenures.from_frame(frame, duration="t", event="churned", cause="why",
                               causes=["Moved", "Price", "Competitor", "Never seen"])
        assert t.causes == ("Moved", "Price", "Competitor", "Never seen")  # given levels are kept, even unused
        assert t.data["cause"].tolist()[:2] == ["Price", "Moved"]

    def test_used_levels_only_by_default(self, frame):
        cm = CauseMap.telco_reasons(unknown="unknown")
        frame["why"] = ["Price too high", "Moved", None, "Competitor made better offer", "Moved", None]
        t = Tenures.from_frame(frame, duration="t", event="churned", cause="why", cause_map=cm)
        assert t.causes == ("competitor", "price", "natural")  # taxonomy order, absent keys dropped

    def test_unknown_labels_are_checked_after_event_consistency(self, frame):
        frame.loc[2, "why"] = "Moved"  # a cause on a censored row is reported first
        with pytest.raises(TenureDataError, match="a cause on censored rows"):
            Tenures.from_frame(frame, duration="t", event="churned", cause="why", cause_map={"Price": "price"})


class TestBundledData:
    def test_maven_categories_raw(self, maven):
        raw = maven["Churn Category"].value_counts().to_dict()
        assert raw == {"Competitor": 841, "Dissatisfaction": 321, "Attitude": 314, "Price": 211, "Other": 182}

    def test_maven_categories_mapped(self, maven):
        mapped = CauseMap.maven_categories().apply(maven["Churn Category"], column="Churn Category")
        assert mapped.value_counts().to_dict() == MAVEN_KEYS
        assert mapped.isna().sum() == 7043 - 1869

    def test_maven_snapshot_with_map(self, maven):
        t = Tenures.from_snapshot(maven, tenure="Tenure in Months", status="Customer Status", period=3,
                                  id="Customer ID", cause="Churn Category", cause_map=CauseMap.maven_categories())
        assert t.data["cause"].value_counts().to_dict() == MAVEN_KEYS
        assert t.causes == ("competitor", "price", "service", "attitude", "unknown")
        # each customer's key is the map of its raw category
        exp = maven["Churn Category"].map(MAVEN_CATEGORY_MAP)
        assert t.data["cause"].astype(object).fillna("-").tolist() == exp.fillna("-").tolist()

    def test_maven_reasons(self, maven):
        t = Tenures.from_snapshot(maven, tenure="Tenure in Months", status="Customer Status", period=3,
                                  cause="Churn Reason", cause_map=CauseMap.telco_reasons())
        exp = maven["Churn Reason"].map(TELCO_REASON_MAP).value_counts().to_dict()
        assert t.data["cause"].value_counts().to_dict() == exp
        assert sum(exp.values()) == 1869

    def test_ibm_reasons(self, ibm):
        t = Tenures.from_frame(ibm, duration="Tenure Months", event="Churn Value", id="CustomerID",
                               cause="Churn Reason", cause_map=CauseMap.telco_reasons())
        exp = ibm["Churn Reason"].map(TELCO_REASON_MAP).value_counts().to_dict()
        assert t.data["cause"].value_counts().to_dict() == exp
        assert t.n_events == 1869
        assert exp["natural"] == 53 + 6  # Moved + Deceased

    def test_maven_unknown_category_through_snapshot(self, maven):
        maven.loc[maven["Churn Category"] == "Other", "Churn Category"] = "Something else"
        with pytest.raises(TenureDataError, match=r"'Something else' \(182\)") as exc:
            Tenures.from_snapshot(maven, tenure="Tenure in Months", status="Customer Status", period=3,
                                  id="Customer ID", cause="Churn Category", cause_map=CauseMap.maven_categories())
        assert exc.value.n_rows == 182
        assert exc.value.column == "Churn Category"

    def test_snapshot_warning_points_at_the_caller(self, maven):
        # BUG: CauseMap.apply warns with stacklevel=3, which is right for a direct from_frame call only; through
        # from_snapshot (one frame deeper) the warning points at churnsurv/data/tenures.py.
        maven.loc[maven["Churn Category"] == "Other", "Churn Category"] = "Something else"
        with pytest.warns(ChurnsurvWarning, match="mapped to 'unknown'") as rec:
            Tenures.from_snapshot(maven, tenure="Tenure in Months", status="Customer Status", period=3,
                                  cause="Churn Category", cause_map=CauseMap.maven_categories(unknown="unknown"))
        assert rec[0].filename == __file__

    def test_apply_warning_points_at_the_caller(self):
        # BUG: called directly, stacklevel=3 points one frame above the caller.
        with pytest.warns(ChurnsurvWarning) as rec:
            CauseMap({"Price": "price"}, unknown="unknown").apply(["Moved"])
        assert rec[0].filename == __file__
