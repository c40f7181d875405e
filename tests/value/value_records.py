"""Records of the value-layer tests: customers whose Kaplan-Meier curve is exactly geometric."""

from __future__ import annotations

import numpy as np
import pandas as pd

#: (tenure, defections, censorings) with half of those at risk defecting every month: S(k) = 0.5 ** k exactly,
#: and the events / exposure of any window is exactly 1/2 too (684 defections over 1368 customer-months).
HALF = [(1, 512, 256), (2, 128, 64), (3, 32, 16), (4, 8, 0), (5, 4, 4)]


def records_from_counts(rows, segment=None) -> pd.DataFrame:
    """One row per customer from (tenure, defections, censorings) triples; ``plan`` = ``segment`` when given."""
    tenure, churned = [], []
    for t, d, c in rows:
        tenure += [t] * (d + c)
        churned += [True] * d + [False] * c
    out = pd.DataFrame({"tenure": np.array(tenure, float), "churned": churned})
    if segment is not None:
        out["plan"] = segment
    return out
