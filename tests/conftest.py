"""Shared fixtures of the test suite.

Paths to the bundled data come from this file's location, never from the working directory, so the tests
run the same from the repository root, from ``tests/`` or from an IDE.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from churnsurv import CauseMap, Tenures, TenureDataError

#: Columns of the Maven file used by the snapshot tests.
MAVEN_TENURE = "Tenure in Months"
MAVEN_STATUS = "Customer Status"
MAVEN_ID = "Customer ID"
MAVEN_CATEGORY = "Churn Category"
MAVEN_SEGMENTS = ["Offer", "Contract", "Internet Type", "Payment Method"]


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The bundled data directory (``<repo>/data``)."""
    path = Path(__file__).parents[1] / "data"
    assert path.is_dir(), f"bundled data directory not found: {path}"
    return path


@pytest.fixture(scope="session")
def _maven_raw(data_dir) -> pd.DataFrame:
    return pd.read_csv(data_dir / "telecom_customer_churn.csv")


@pytest.fixture(scope="session")
def _ibm_raw(data_dir) -> pd.DataFrame:
    return pd.read_csv(data_dir / "ibm_telco_customer_churn.csv")


@pytest.fixture
def maven(_maven_raw) -> pd.DataFrame:
    """The Maven telecom snapshot as read by pandas (a fresh copy per test)."""
    return _maven_raw.copy()


@pytest.fixture
def ibm(_ibm_raw) -> pd.DataFrame:
    """The IBM telco sample as read by pandas (a fresh copy per test)."""
    return _ibm_raw.copy()


@pytest.fixture
def maven_kwargs() -> dict:
    """The usual keywords of ``Tenures.from_snapshot`` for the Maven file (one quarter of months)."""
    return dict(
        tenure=MAVEN_TENURE,
        status=MAVEN_STATUS,
        period=3,
        id=MAVEN_ID,
        cause=MAVEN_CATEGORY,
        cause_map=CauseMap.maven_categories(),
        segments=MAVEN_SEGMENTS,
        values=["Monthly Charge"],
    )


@pytest.fixture
def maven_tenures(maven, maven_kwargs) -> Tenures:
    """The Maven snapshot read with left truncation and the taxonomy causes."""
    return Tenures.from_snapshot(maven, **maven_kwargs)


@pytest.fixture
def small_frame() -> pd.DataFrame:
    """A small valid frame with every kind of column (ids a..h)."""
    return pd.DataFrame({
        "cid": list("abcdefgh"),
        "tenure": [1.0, 2.0, 2.0, 3.0, 5.0, 5.0, 8.0, 0.0],
        "start": [0.0, 0.0, 1.0, 0.0, 2.0, 0.0, 4.0, 0.0],
        "churned": [1, 0, 1, 1, 0, 1, 0, 0],
        "reason": ["Price", None, "Competitor", "Price", None, "Other", None, None],
        "plan": ["basic", "pro", "basic", None, "pro", "basic", "pro", "basic"],
        "margin": [10.0, 20.0, 15.0, None, 30.0, 12.5, 22.0, 9.0],
        "w": [1.0, 2.0, 1.0, 0.5, 1.0, 1.0, 3.0, 1.0],
    })


@pytest.fixture
def check_data_error():
    """Assert that a :class:`TenureDataError` carries the column, the problem, the row count and the ids.

    Usage: ``check_data_error(excinfo, column="tenure", n_rows=2, ids=["b", "d"], problem="negative")``.
    The message must quote the column, say "has N row(s) with <problem>", and list the first ids.
    """

    def check(excinfo, *, column, n_rows, ids, problem):
        err = excinfo.value
        assert isinstance(err, TenureDataError)
        assert isinstance(err, ValueError)
        msg = str(err)
        assert err.column == column
        assert err.n_rows == n_rows
        assert err.ids == list(ids)[:5]
        assert f"Column {column!r}" in msg
        word = "row" if n_rows == 1 else "rows"
        assert f"has {n_rows} {word} with" in msg
        assert re.search(problem, msg), f"{problem!r} not in {msg!r}"
        shown = ", ".join(repr(i) if isinstance(i, str) else str(i) for i in list(ids)[:5])
        assert shown in msg
        if n_rows > 5:
            assert f"and {n_rows - 5} more" in msg
        return msg

    return check


@contextlib.contextmanager
def _exclusive(path: Path):
    """An exclusive lock on ``path`` across processes (the pytest-xdist workers)."""
    import fcntl

    with open(path, "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


@pytest.fixture(scope="session")
def once(tmp_path_factory) -> Callable:
    """Run an expensive job once per test run, whichever pytest-xdist workers ask for it.

    ``once(name, job)`` calls ``job(folder)`` (``folder`` a fresh directory shared by all workers) the first time
    any worker asks for ``name`` and returns its JSON-serialisable result; other workers wait for it and get the
    same result. This does not depend on how the scheduler distributes the tests (``--dist loadgroup`` did not
    keep grouped tests on one worker)."""
    base = tmp_path_factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base

    def run(name: str, job: Callable[[Path], object]):
        record = shared / f"{name}.json"
        with _exclusive(shared / f"{name}.lock"):
            if not record.exists():
                folder = shared / name
                folder.mkdir(exist_ok=True)
                record.write_text(json.dumps(job(folder)))
            return json.loads(record.read_text())

    return run
