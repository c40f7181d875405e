"""Fixtures of the value-layer tests."""

from __future__ import annotations

import pandas as pd
import pytest
from value_records import HALF, records_from_counts


@pytest.fixture
def half() -> pd.DataFrame:
    """1,024 customers, S(k) = 0.5 ** k for k = 0..5, the last 8 at risk leave or are censored at 5."""
    return records_from_counts(HALF)
