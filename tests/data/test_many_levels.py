"""Issue 16, item 6: a segment with very many levels (ids used as a segment by mistake).

Before the fix the tenure-confounding verdict compared every pair of levels with (levels x levels) float
matrices: 1e5 levels asked for 74 GiB, and ``life_table``, ``describe``-adjacent checks and every estimator by such
a segment ran out of memory. The verdict now compares only the levels large enough to count (at most
``1 / min_share`` of them, 100 by default), in blocks; ``describe`` warns that such a segment looks like an id.
Memory is measured with ``tracemalloc`` (NumPy reports its buffers to it); the 1e6-row run is in
``benchmarks/bench_many_levels.py``.
"""

from __future__ import annotations

import tracemalloc
import warnings

import numpy as np
import pandas as pd
import pytest

from churnsurv import KaplanMeier, Tenures, life_table, tenure_confounding
from churnsurv.data.tenures import _confounding_table
from churnsurv.exceptions import ChurnsurvWarning, TenureConfoundingWarning


def _id_segment(n: int, seed: int = 0) -> Tenures:
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({"t": rng.integers(0, 60, n), "e": rng.integers(0, 2, n),
                       "g": np.char.add("c", np.arange(n).astype(str))})
    return Tenures.from_frame(df, duration="t", event="e", segments="g")


def _peak_mb(fn) -> float:
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


def test_confounding_table_is_linear_in_levels():
    # 200,000 levels: the old pairwise matrices would need 200,000^2 x 8 bytes x 4 = 1.2 TB
    k = 200_000
    rng = np.random.default_rng(1)
    low = rng.integers(0, 30, k).astype(float)
    peak = _peak_mb(lambda: _confounding_table("g", np.arange(k), np.ones(k, dtype=np.int64), low, low + 10, k))
    assert peak < 100


def test_confounding_verdict_unchanged_for_a_few_levels():
    # two big levels in disjoint tenure bands, one small level: the small one takes no part
    table = _confounding_table("g", ["a", "b", "c"], np.array([500, 500, 5]), [0, 40, 0], [10, 50, 60], 1005)
    assert table.attrs["confounded"]
    assert table["n_disjoint"].tolist() == [1, 1, 0]
    assert "a: 0-10; b: 40-50" in table.attrs["message"]


def test_confounding_blocks_give_the_same_counts_as_all_pairs():
    rng = np.random.default_rng(2)
    k = 300
    lo = rng.integers(0, 50, k).astype(float)
    hi = lo + rng.integers(0, 10, k)
    n = rng.integers(5, 50, k)
    table = _confounding_table("g", np.arange(k), n, lo, hi, int(n.sum()), min_share=0.0)
    big = n >= 10
    overlap = np.maximum(0.0, np.minimum(hi[:, None], hi[None, :]) - np.maximum(lo[:, None], lo[None, :]))
    width = np.maximum(np.minimum((hi - lo)[:, None], (hi - lo)[None, :]), 1.0)
    disjoint = (overlap / width < 0.1) & big[:, None] & big[None, :]
    np.fill_diagonal(disjoint, False)
    assert table["n_disjoint"].tolist() == disjoint.sum(axis=1).tolist()


def test_confounding_message_lists_at_most_ten_levels():
    k = 40
    lo = np.arange(k) * 10.0
    table = _confounding_table("g", [f"l{i}" for i in range(k)], np.full(k, 100), lo, lo + 5, 100 * k)
    assert table.attrs["confounded"]
    assert "and 30 more levels" in table.attrs["message"]


def test_tenure_confounding_with_an_id_segment_is_small_and_fast():
    t = _id_segment(100_000)
    peak = _peak_mb(lambda: tenure_confounding(t, "g"))
    assert peak < 150  # the old check asked for about 74 GiB here


def test_life_table_and_km_by_an_id_segment():
    t = _id_segment(20_000)
    with warnings.catch_warnings():
        warnings.simplefilter("error", TenureConfoundingWarning)  # one row per level: nothing is confounded
        peak = _peak_mb(lambda: life_table(t, "g"))
    assert peak < 200
    km = KaplanMeier().fit(life_table(t, "g", check_confounding=False))  # the check skipped: a LifeTable
    assert km.survival_["g"].nunique() == 20_000


def test_describe_warns_that_a_segment_looks_like_an_id():
    t = _id_segment(5_000)
    with pytest.warns(ChurnsurvWarning, match=r"'g' has 5,000 levels for 5,000 rows.*looks like an id"):
        out = t.describe(by="g")
    assert len(out) == 5_000


def test_describe_does_not_warn_for_ordinary_segments():
    rng = np.random.default_rng(3)
    df = pd.DataFrame({"t": rng.integers(0, 60, 5_000), "g": rng.choice(["a", "b", "c"], 5_000)})
    t = Tenures.from_frame(df, duration="t", segments="g")
    with warnings.catch_warnings():
        warnings.simplefilter("error", ChurnsurvWarning)
        assert len(t.describe(by="g")) == 3
