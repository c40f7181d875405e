"""Issue 16, item 2: event, cause and segment labels that differ only by case or surrounding spaces.

Before the fix, ``"No "`` beside ``censored="No"`` was counted as a defection, ``"PRICE"`` and ``"price "`` were two
causes or two segment levels, ``True`` and ``1`` in one segment column merged silently into one level, and a real
``"(missing)"`` label merged with the missing values. Now variants are merged into one spelling with a
:class:`~churnsurv.exceptions.ChurnsurvWarning` listing the merges, booleans mixed with numbers or text are
refused with a :class:`TenureDataError`, and a real ``"(missing)"`` label is kept apart (with a warning). The
hypothesis tests draw a few thousand label columns with random case and space variants.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from churnsurv import Tenures
from churnsurv.data._labels import label_key, merge_variants
from churnsurv.exceptions import ChurnsurvWarning, TenureDataError


def _build(df, **kw):
    return Tenures.from_frame(df, duration="t", **kw)


# ---------------------------------------------------------------------- events
def test_event_label_with_trailing_space_is_not_a_defection():
    df = pd.DataFrame({"t": [1, 2, 3, 4], "churn": ["No ", "no", "Yes", "NO"]})
    with pytest.warns(ChurnsurvWarning, match=r"'No ', 'no', 'NO' -> 'No'|'No '.*-> 'No'"):
        t = _build(df, event="churn", censored="No")
    assert t.column("event").tolist() == [False, False, True, False]


def test_event_labels_variants_of_both_lists():
    df = pd.DataFrame({"t": [1, 2, 3], "s": [" stayed", "LEFT", "left"]})
    with pytest.warns(ChurnsurvWarning, match="merged"):
        t = _build(df, event="s", censored="stayed", event_labels="left")
    assert t.column("event").tolist() == [False, True, True]


def test_clean_event_labels_give_no_warning():
    df = pd.DataFrame({"t": [1, 2, 3], "s": ["No", "Yes", "No"]})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        t = _build(df, event="s", censored="No")
    assert t.n_events == 1


def test_event_true_beside_one_is_refused():
    df = pd.DataFrame({"t": [1, 2, 3, 4], "e": pd.Series([True, 1, 0, False], dtype=object)})
    with pytest.raises(TenureDataError, match=r"Column 'e' has 2 rows with event values that are not booleans"):
        _build(df, event="e", censored=[False, 0])


# ---------------------------------------------------------------------- causes
def test_cause_variants_are_one_cause():
    df = pd.DataFrame({"t": [1, 2, 3, 4], "c": ["PRICE", "price ", "Service", None]})
    with pytest.warns(ChurnsurvWarning, match="cause labels"):
        t = _build(df, cause="c")
    assert t.causes == ("PRICE", "Service")  # the most frequent spelling wins ties by sorted order
    assert t.n_events == 3


def test_cause_variants_take_the_given_levels_spelling():
    df = pd.DataFrame({"t": [1, 2, 3], "c": ["PRICE", "price ", "service"]})
    with pytest.warns(ChurnsurvWarning, match=r"-> 'price'"):
        t = _build(df, cause="c", causes=["price", "service"])
    assert list(t.column("cause")) == ["price", "price", "service"]


def test_cause_map_matches_labels_up_to_case_and_spaces():
    df = pd.DataFrame({"t": [1, 2, 3], "c": ["Competitor ", "competitor", "Price"]})
    with pytest.warns(ChurnsurvWarning, match="merged"):
        t = _build(df, cause="c", cause_map={"Competitor": "competition", "Price": "price"})
    assert list(t.column("cause")) == ["competition", "competition", "price"]


# ---------------------------------------------------------------------- segments
def test_segment_variants_are_one_level_with_a_warning():
    df = pd.DataFrame({"t": [1, 2, 3, 4, 5], "plan": ["Basic", "basic ", "BASIC", "Pro", "Basic"]})
    with pytest.warns(ChurnsurvWarning, match=r"'plan'.*segment labels.*-> 'Basic'"):
        t = _build(df, segments="plan")
    assert list(t.column("plan").categories) == ["Basic", "Pro"]
    assert list(t.column("plan")) == ["Basic"] * 3 + ["Pro", "Basic"]


def test_categorical_segment_variants_are_merged():
    df = pd.DataFrame({"t": [1, 2, 3], "plan": pd.Categorical(["a", "A ", "b"])})
    with pytest.warns(ChurnsurvWarning, match="merged"):
        t = _build(df, segments="plan")
    assert len(t.column("plan").categories) == 2


def test_segment_true_beside_one_is_refused():
    df = pd.DataFrame({"t": [1, 2, 3], "g": pd.Series([True, 1, "x"], dtype=object)})
    with pytest.raises(TenureDataError, match=r"Column 'g' has 2 rows with labels that are not booleans"):
        _build(df, segments="g")


def test_real_missing_label_is_kept_apart_from_missing_values():
    df = pd.DataFrame({"t": [1, 2, 3, 4], "g": ["(missing)", None, "a", np.nan]})
    with pytest.warns(ChurnsurvWarning, match=r"real label '\(missing\)' beside 2 missing values"):
        t = _build(df, segments="g")
    assert list(t.column("g")) == ["(missing)", "(missing value)", "a", "(missing value)"]


def test_real_missing_category_is_kept_apart():
    df = pd.DataFrame({"t": [1, 2, 3], "g": pd.Categorical(["(missing)", "a", None])})
    with pytest.warns(ChurnsurvWarning, match="kept apart"):
        t = _build(df, segments="g")
    assert list(t.column("g")) == ["(missing)", "a", "(missing value)"]


def test_life_table_counts_merged_levels_together():
    from churnsurv import life_table

    df = pd.DataFrame({"t": [1, 2, 3, 4], "e": [1, 0, 1, 1], "plan": ["x", "X ", "y", "y"]})
    with pytest.warns(ChurnsurvWarning):
        t = _build(df, event="e", segments="plan")
    lt = life_table(t, "plan", check_confounding=False)
    assert sorted(lt.table["plan"].astype(str).unique()) == ["X", "y"]  # a tie goes to the first sorted spelling
    assert lt.table.groupby("plan", observed=True)["n_events"].sum().tolist() == [1, 2]


def test_merge_variants_prefers_targets_and_frequency():
    canon, merges = merge_variants(["a", "A", " A"], [1, 5, 1])
    assert canon == ["A", "A", "A"] and merges == {"A": ["a", " A"]}
    canon, _ = merge_variants(["yes ", "No"], targets=["yes"])
    assert canon == ["yes", "No"]


# ---------------------------------------------------------------------- property-based
_BASES = ["no", "yes", "price", "basic", "pro plan"]


def _variant(base: str, case: int, left: int, right: int) -> str:
    text = [base, base.upper(), base.capitalize(), base.swapcase().title()][case]
    return " " * left + text + " " * right


_label = st.tuples(st.sampled_from(_BASES), st.integers(0, 3), st.integers(0, 2), st.integers(0, 2))


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=st.lists(_label, min_size=1, max_size=12), categorical=st.booleans())
def test_segment_levels_are_the_label_keys(rows, categorical):
    labels = [_variant(*r) for r in rows]
    col = pd.Categorical(labels) if categorical else labels
    df = pd.DataFrame({"t": np.arange(1, len(rows) + 1), "g": col})
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        t = _build(df, segments="g")
    seg = t.column("g")
    # one level per key: never split, never merged across keys
    assert len(seg.categories) == len({r[0] for r in rows})
    assert [label_key(v) for v in seg] == [r[0] for r in rows]
    merged = any(isinstance(w.message, ChurnsurvWarning) and "merged" in str(w.message) for w in rec)
    assert merged == (len(set(labels)) != len({r[0] for r in rows}) or any(lab != lab.strip() for lab in labels))


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=st.lists(st.tuples(st.sampled_from(["no", "yes"]), st.integers(0, 3), st.integers(0, 2),
                               st.integers(0, 2)), min_size=1, max_size=12),
       censored=st.sampled_from(["No", "no", "NO", " no"]), with_events=st.booleans())
def test_event_flag_follows_the_label_key(rows, censored, with_events):
    labels = [_variant(*r) for r in rows]
    df = pd.DataFrame({"t": np.arange(1, len(rows) + 1), "e": labels})
    kw = {"event_labels": "Yes"} if with_events else {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ChurnsurvWarning)
        t = _build(df, event="e", censored=censored, **kw)
    assert t.column("event").tolist() == [r[0] == "yes" for r in rows]


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(values=st.lists(st.one_of(st.booleans(), st.integers(-2, 2), st.sampled_from(["a", "A ", "1", ""]),
                                 st.none()), min_size=1, max_size=10))
def test_mixed_segment_values_raise_only_clear_errors(values):
    df = pd.DataFrame({"t": np.arange(1, len(values) + 1), "g": pd.Series(values, dtype=object)})
    kinds = {type(v) for v in values if v is not None}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ChurnsurvWarning)
            t = _build(df, segments="g")
    except TenureDataError as err:
        assert bool in kinds and len(kinds) > 1 and "booleans" in str(err)
        return
    assert not (bool in kinds and len(kinds) > 1)
    assert len(t.column("g")) == len(values)
